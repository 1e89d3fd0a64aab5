"""Console controls for the patient screen: show it, fullscreen, preset, sound, message."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from ui.patient_screen import PRESETS


class PatientControls(QtWidgets.QGroupBox):
    """Signals: ``show_requested(fullscreen: bool)``, ``preset_changed(name)``, ``sound_changed(on)``."""

    show_requested = QtCore.Signal(bool)
    preset_changed = QtCore.Signal(str)
    sound_changed = QtCore.Signal(bool)

    def __init__(self):
        super().__init__("Patient screen")
        self.preset = QtWidgets.QComboBox()
        for name in PRESETS:
            self.preset.addItem(name, name)
        self.sound = QtWidgets.QCheckBox("sounds")
        self.sound.setChecked(True)  # an eyes-closed patient must hear a trial start and end
        self.sound.setToolTip(
            "Tones when a trial starts, stops and a target is hit "
            "(the patient screen flashes where no sound can play)"
        )
        self.show_button = QtWidgets.QPushButton("Show")
        self.fullscreen_button = QtWidgets.QPushButton("Fullscreen on 2nd screen")
        grid = QtWidgets.QGridLayout(self)
        grid.addWidget(QtWidgets.QLabel("Preset"), 0, 0)
        grid.addWidget(self.preset, 0, 1)
        grid.addWidget(self.sound, 0, 2)
        grid.addWidget(self.show_button, 1, 0)
        grid.addWidget(self.fullscreen_button, 1, 1, 1, 2)
        self.preset.currentIndexChanged.connect(
            lambda: self.preset_changed.emit(self.preset.currentData())
        )
        self.sound.toggled.connect(self.sound_changed)
        self.show_button.clicked.connect(lambda: self.show_requested.emit(False))
        self.fullscreen_button.clicked.connect(lambda: self.show_requested.emit(True))


__all__ = ["PatientControls"]
