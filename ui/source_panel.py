"""Source picker: discovered devices, the simulated board, a stored trial; connect, tare, level."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

#: Always offered: the simulated board on each kind of sensor.
SIMULATED = (
    ("Simulated board: force plate COP, 100 Hz", "sim://?rate=100&sensor=cop"),
    ("Simulated Wii-like board (4 load cells)", "sim://?rate=100&sensor=cells"),
    ("Simulated wobble board (IMU tilt)", "sim://?rate=100&sensor=imu"),
    ("Simulated board: eyes closed, foam", "sim://?rate=100&sensor=cop&vision=closed&surface=foam"),
)

#: ``discover() -> [(label, url), ...]``: what is plugged in (supplied by the composition root).
Discover = Callable[[], list[tuple[str, str]]]


class SourcePanel(QtWidgets.QGroupBox):
    """Choose and connect a source.

    Signals
    -------
    connect_requested(url), tare_requested(), level_requested(), stored_trial_requested()
    """

    connect_requested = QtCore.Signal(str)
    tare_requested = QtCore.Signal()
    level_requested = QtCore.Signal()
    stored_trial_requested = QtCore.Signal()

    def __init__(self, discover: Discover | None = None):
        super().__init__("Source")
        self.discover = discover
        self.choice = QtWidgets.QComboBox()
        self.choice.setEditable(True)  # a URL may be typed (see `nmr-balance sources`)
        self.choice.setInsertPolicy(QtWidgets.QComboBox.NoInsert)
        self.choice.setMinimumContentsLength(24)
        self.choice.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.refresh_button = QtWidgets.QPushButton("Find devices")
        self.stored_button = QtWidgets.QPushButton("Stored trial\u2026")
        self.connect_button = QtWidgets.QPushButton("Connect", objectName="primary")
        self.tare_button = QtWidgets.QPushButton("Tare / zero")
        self.level_button = QtWidgets.QPushButton("Level board")
        self.tare_button.setToolTip("Take the current load as zero (nobody on the board)")
        self.level_button.setToolTip("Take the current tilt as level (wobble boards)")
        for b in (self.tare_button, self.level_button):
            b.setEnabled(False)
        grid = QtWidgets.QGridLayout(self)
        grid.addWidget(self.choice, 0, 0, 1, 2)
        grid.addWidget(self.refresh_button, 1, 0)
        grid.addWidget(self.stored_button, 1, 1)
        grid.addWidget(self.connect_button, 2, 0, 1, 2)
        grid.addWidget(self.tare_button, 3, 0)
        grid.addWidget(self.level_button, 3, 1)
        self.refresh_button.clicked.connect(self.refresh)
        self.stored_button.clicked.connect(self.stored_trial_requested)
        self.connect_button.clicked.connect(lambda: self.connect_requested.emit(self.url()))
        self.tare_button.clicked.connect(self.tare_requested)
        self.level_button.clicked.connect(self.level_requested)
        self.refresh_button.setEnabled(discover is not None)
        self.set_entries([])

    def set_entries(self, devices: list[tuple[str, str]]) -> None:
        """Offer ``devices`` (label, url) first, then the simulated boards."""
        self.choice.clear()
        for label, url in [*devices, *SIMULATED]:
            self.choice.addItem(label, url)

    def refresh(self) -> None:
        """Look for connected devices again (serial ports, balance boards)."""
        if self.discover is None:
            return
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.WaitCursor)
        try:
            self.set_entries(self.discover())
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()

    def add_url(self, label: str, url: str) -> None:
        """Add (and select) a source, e.g. a stored trial's ``replay://`` URL."""
        self.choice.insertItem(0, label, url)
        self.choice.setItemData(0, url, QtCore.Qt.ToolTipRole)
        self.choice.setCurrentIndex(0)
        self.choice.lineEdit().setCursorPosition(0)  # a long URL reads from its start

    def show_url(self, url: str) -> None:
        """Select ``url`` (adding it when it is not offered yet)."""
        i = self.choice.findData(url)
        if i < 0:
            self.add_url(url, url)
        else:
            self.choice.setCurrentIndex(i)

    def url(self) -> str:
        """The chosen source's URL (a typed URL is taken as is)."""
        data = self.choice.currentData()
        text = self.choice.currentText().strip()
        if data is not None and text == self.choice.itemText(self.choice.currentIndex()):
            return data
        return text

    def set_connected(self, connected: bool) -> None:
        for b in (self.tare_button, self.level_button):
            b.setEnabled(connected)

    def set_streaming(self, url: str | None) -> None:
        """Say what Connect does now: connect, reconnect the source that is streaming, or switch
        to the one chosen."""
        if url is None:
            text = "Connect"
        elif self.url() == url:
            text = "Reconnect"
        else:
            text = "Switch to this source"
        self.connect_button.setText(text)


__all__ = ["SIMULATED", "SourcePanel"]
