"""Replay a stored trial: play / pause, speed 0.25x-8x, scrub; the live plots and its events."""

from __future__ import annotations

import time

from PySide6 import QtCore, QtWidgets

from ui.live_feed import LiveFeed
from ui.live_view import LiveView
from ui.metrics_panel import TRIAL_FIGURES, MetricsPanel
from ui.trial_data import LoadedTrial, load_trial
from ui.trial_picker import TrialPicker

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
#: Slider resolution: one step = 10 ms of trial time.
STEP_S = 0.01


class ReplayView(QtWidgets.QWidget):
    """Plays the processed stream of a stored trial through the same :class:`LiveView`."""

    def __init__(self, store=None):
        super().__init__()
        self.store = store
        self.trial: LoadedTrial | None = None
        self.feed: LiveFeed | None = None
        self.position_s = 0.0
        self.speed = 1.0
        self.picker = TrialPicker(store)
        self.open_button = QtWidgets.QPushButton("Open")
        self.play_button = QtWidgets.QPushButton("\u25b6 Play", objectName="primary")
        self.speed_box = QtWidgets.QComboBox()
        for s in SPEEDS:
            self.speed_box.addItem(f"{s:g}\u00d7", s)
        self.speed_box.setCurrentIndex(SPEEDS.index(1.0))
        self.slider = QtWidgets.QSlider(QtCore.Qt.Horizontal)
        self.time_label = QtWidgets.QLabel("0.0 / 0.0 s")
        self.view = LiveView(tail_s=10.0, window_s=20.0)
        self.view.series.plots[1].setLabel("bottom", "time (s before the playhead)")
        self.trial_metrics = MetricsPanel(TRIAL_FIGURES, columns=3)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Trial"))
        top.addWidget(self.picker, 1)
        top.addWidget(self.open_button)
        transport = QtWidgets.QHBoxLayout()
        transport.addWidget(self.play_button)
        transport.addWidget(QtWidgets.QLabel("speed"))
        transport.addWidget(self.speed_box)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        box = QtWidgets.QGroupBox("Whole-trial metrics")
        QtWidgets.QVBoxLayout(box).addWidget(self.trial_metrics)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(transport)
        layout.addWidget(self.view, 1)
        layout.addWidget(box)
        self._timer = QtCore.QTimer(self, interval=16)
        self._timer.setTimerType(QtCore.Qt.PreciseTimer)
        self._timer.timeout.connect(self._on_frame)
        self._last_tick = 0.0
        self.open_button.clicked.connect(lambda: self.open_trial(self.picker.trial_id()))
        self.play_button.clicked.connect(self.toggle_play)
        self.speed_box.currentIndexChanged.connect(
            lambda: self.set_speed(self.speed_box.currentData())
        )
        self.slider.valueChanged.connect(
            lambda v: self.seek(v * STEP_S) if self.slider.isSliderDown() else None
        )
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value() * STEP_S))

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def open_trial(self, trial_id: int | None) -> None:
        """Load a trial and show its first moment (paused)."""
        if trial_id is None or self.store is None:
            return
        self.pause()
        self.trial = load_trial(self.store, trial_id)
        self.picker.select(trial_id)
        info = self.trial.info
        self.feed = LiveFeed(None, info, history_s=max(30.0, self.trial.duration_s + 1))
        self.view.set_stream(info)
        self.view.series.set_events(self.trial.event_lines())
        self.trial_metrics.set_unit(info.units[0])
        self.trial_metrics.show_values(self.trial.figures)
        self.slider.setRange(0, int(self.trial.duration_s / STEP_S))
        self.seek(0.0)

    def toggle_play(self) -> None:
        self.pause() if self.playing else self.play()

    def play(self) -> None:
        if self.trial is None:
            return
        if self.position_s >= self.trial.duration_s:
            self.seek(0.0)
        self._last_tick = time.monotonic()
        self._timer.start()
        self.play_button.setText("\u275a\u275a Pause")

    def pause(self) -> None:
        self._timer.stop()
        self.play_button.setText("\u25b6 Play")

    def set_speed(self, speed: float) -> None:
        if not 0.25 <= speed <= 8:
            raise ValueError(f"replay speed must be 0.25-8x, got {speed}")
        self.speed = float(speed)
        i = self.speed_box.findData(self.speed)
        if i >= 0 and i != self.speed_box.currentIndex():
            self.speed_box.setCurrentIndex(i)

    def seek(self, t_s: float) -> None:
        """Jump to ``t_s`` (clamped to the trial) and redraw."""
        if self.trial is None:
            return
        self.position_s = min(max(0.0, t_s), self.trial.duration_s)
        self.feed.clear()
        stop = self.trial.index_at(self.position_s)
        start = max(0, stop - self.feed.capacity)
        self.feed.push(self.trial.block.slice(start, stop))
        self._shown = stop
        self._draw()

    def _advance(self, dt_s: float) -> None:
        self.position_s = min(self.trial.duration_s, self.position_s + dt_s * self.speed)
        stop = self.trial.index_at(self.position_s)
        self.feed.push(self.trial.block.slice(self._shown, stop))
        self._shown = stop

    def _on_frame(self) -> None:
        now = time.monotonic()
        self._advance(now - self._last_tick)
        self._last_tick = now
        self._draw()
        if self.position_s >= self.trial.duration_s:
            self.pause()

    def _draw(self) -> None:
        if self.feed.filled:
            self.view.render(self.feed, figures=not self.playing, t_end=self.position_s)
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(self.position_s / STEP_S))
            self.slider.blockSignals(False)
        self.time_label.setText(f"{self.position_s:5.1f} / {self.trial.duration_s:.1f} s")


__all__ = ["SPEEDS", "ReplayView"]
