"""The patient's biofeedback screen: a big high-contrast cursor and targets, one line of text.

Meant for a second monitor or a TV, fullscreen; the therapist drives it from the console
(:meth:`PatientScreen.show_frame` each frame). Presets adapt it to the person: seniors get a
slow, big, simple screen; children a playful one. Colours are Okabe-Ito (colour-blind safe) on
black. No error text or traceback ever appears here (errors go to the console).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from ui import theme
from ui.live_metrics import Target


@dataclasses.dataclass(frozen=True)
class Preset:
    """How the patient screen looks and how forgiving the scoring is.

    Attributes
    ----------
    cursor_px : int
        Cursor diameter, pixels.
    symbol : str
        pyqtgraph symbol of the cursor (``"o"``, ``"star"``...).
    target_scale : float
        Multiplies target radius (bigger = easier).
    dwell_scale : float
        Multiplies the dwell needed for a hit.
    smoothing_s : float
        Time constant of the cursor's smoothing (calmer movement), s.
    font_pt : int
        Instruction text size.
    hit_text : str
        Shown briefly on a hit.
    target_colours : tuple of str
        Cycled over the targets (one colour = simple).
    """

    name: str
    cursor_px: int = 44
    symbol: str = "o"
    target_scale: float = 1.0
    dwell_scale: float = 1.0
    smoothing_s: float = 0.0
    font_pt: int = 34
    hit_text: str = "Well done"
    target_colours: tuple[str, ...] = (theme.PATIENT["target"],)


PRESETS = {
    "standard": Preset("standard"),
    "seniors": Preset(
        "seniors",
        cursor_px=70,
        target_scale=1.5,
        dwell_scale=1.5,
        smoothing_s=0.25,
        font_pt=48,
        hit_text="Good",
    ),
    "children": Preset(
        "children",
        cursor_px=60,
        symbol="star",
        target_scale=1.2,
        font_pt=40,
        hit_text="\u2605 Great! \u2605",
        target_colours=(
            theme.OKABE_ITO["sky_blue"],
            theme.OKABE_ITO["purple"],
            theme.OKABE_ITO["green"],
            theme.OKABE_ITO["orange"],
        ),
    ),
}


def shape_lines(d: dict) -> tuple[np.ndarray, np.ndarray]:
    """x, y of the lines a protocol display asks for: the two walls of a maze ``corridor``
    (centre line +- ``half_width``) and the ``guide_circle``, NaN-separated (empty: none)."""
    parts = []
    if "corridor" in d and len(d["corridor"]) > 1:
        c = np.asarray(d["corridor"], float)
        tangent = np.gradient(c, axis=0)
        normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
        normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-12)
        parts += [c + d["half_width"] * normal, c - d["half_width"] * normal]
    if d.get("guide_circle"):
        a = np.linspace(0, 2 * np.pi, 73)
        parts.append(d["guide_circle"] * np.stack([np.cos(a), np.sin(a)], axis=1))
    if not parts:
        return np.empty(0), np.empty(0)
    xy = np.concatenate([np.vstack([p, [np.nan, np.nan]]) for p in parts])
    return xy[:, 0], xy[:, 1]


def _sound_player():
    """The hit sound. PySide6-Essentials has no QtMultimedia (checked at run time), and no
    sound file ships yet, so the system beep is used; a QSoundEffect can replace it here."""
    return QtWidgets.QApplication.beep


class PatientScreen(QtWidgets.QWidget):
    """Fullscreen biofeedback window.

    Parameters
    ----------
    unit : str
        ``"mm"`` or ``"deg"``; sets the visible range.
    half_span : float, optional
        Half-width of the view in ``unit`` (default 50 mm / 10 deg).
    """

    def __init__(self, unit: str = "mm", half_span: float | None = None, preset: str = "standard"):
        super().__init__()
        self.setWindowTitle("nmr-balance \u2014 patient")
        self.setStyleSheet(
            f"background: {theme.PATIENT['background']}; color: {theme.PATIENT['text']};"
        )
        self.sound_on = False
        self._beep = _sound_player()
        self._hit_until = 0.0
        self._instruction = ""
        self.message = QtWidgets.QLabel("", alignment=QtCore.Qt.AlignCenter)
        self.message.setWordWrap(True)
        self.score = QtWidgets.QLabel("", alignment=QtCore.Qt.AlignRight | QtCore.Qt.AlignVCenter)
        self.plot = pg.PlotWidget(background=theme.PATIENT["background"])
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.hideButtons()
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.setAspectLocked(True)
        guide = theme.pen(theme.PATIENT["guide"])
        for angle in (0, 90):
            item.addItem(pg.InfiniteLine(pos=0, angle=angle, pen=guide))
        self._targets = pg.ScatterPlotItem(pxMode=False)
        self._shapes = pg.PlotDataItem(
            pen=pg.mkPen(theme.PATIENT["target"], width=3), connect="finite"
        )
        self._cursor = pg.ScatterPlotItem(
            pen=theme.pen("#FFFFFF"), brush=theme.brush(theme.PATIENT["cursor"])
        )
        item.addItem(self._targets)
        item.addItem(self._shapes)
        item.addItem(self._cursor)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.score)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.set_unit(unit, half_span)
        self.set_preset(preset)

    # --- set-up from the console ---------------------------------------------------------------
    def set_unit(self, unit: str, half_span: float | None = None) -> None:
        self.unit = unit
        h = half_span or (10.0 if unit == "deg" else 50.0)
        self.plot.getPlotItem().setRange(xRange=(-h, h), yRange=(-h, h), padding=0)

    def set_preset(self, name: str) -> None:
        self.preset = PRESETS[name]
        self._cursor.setSize(self.preset.cursor_px)
        self._cursor.setSymbol(self.preset.symbol)
        for label, size in ((self.message, self.preset.font_pt), (self.score, self.preset.font_pt)):
            font = label.font()
            font.setPointSize(size)
            font.setBold(True)
            label.setFont(font)

    def set_message(self, text: str) -> None:
        self.message.setText(text)

    def go_fullscreen(self, screen_index: int | None = None) -> None:
        """Show fullscreen, on the last screen (the second monitor) unless told otherwise."""
        screens = QtGui.QGuiApplication.screens()
        if screens:
            screen = screens[-1 if screen_index is None else min(screen_index, len(screens) - 1)]
            self.setGeometry(screen.geometry())
        self.showFullScreen()

    # --- every frame ---------------------------------------------------------------------------
    def show_frame(
        self,
        xy: np.ndarray,
        fs: float,
        targets: list[Target],
        active: int | None,
        hits: int | None = None,
    ) -> None:
        """Draw the cursor at the newest finite sample of ``xy`` (n, 2) and the targets."""
        finite = xy[np.isfinite(xy).all(axis=1)] if len(xy) else xy
        if len(finite):
            x, y = self._smooth(finite, fs)
            self._cursor.setData([x], [y])
        else:
            self._cursor.setData([], [])  # nobody on the board: no cursor, no text
        spots = []
        colours = self.preset.target_colours
        for i, t in enumerate(targets):
            colour = theme.PATIENT["target_active"] if i == active else colours[i % len(colours)]
            spots.append(
                {
                    "pos": (t.x, t.y),
                    "size": 2 * t.radius,
                    "symbol": "o",
                    "pen": pg.mkPen(colour, width=3),
                    "brush": theme.brush(colour, 150 if i == active else 40),
                }
            )
        self._targets.setData(spots)
        now = QtCore.QTime.currentTime().msecsSinceStartOfDay() / 1e3
        if hits is not None:
            self.score.setText(f"\u2605 {hits}" if self.preset.name == "children" else f"{hits}")
        if self._hit_until and now > self._hit_until:
            self._hit_until = 0.0
            self.message.setText(self._instruction)

    def show_protocol(self, d: dict) -> None:
        """Show a protocol run's :meth:`ProtocolRun.display` snapshot: the instruction with the
        countdown or time left, the maze corridor or the guide circle (its targets are drawn by
        :meth:`show_frame`)."""
        phase, left = d.get("phase", ""), d.get("remaining_s")
        text = d.get("instruction", "")
        if phase == "countdown" and left is not None:
            text = f"{text}\nGet ready: {math.ceil(left)}"
        elif phase == "trial" and left is not None:
            text = f"{text}\n{math.ceil(left)} s"
        elif phase == "rest":
            text = f"Rest{f': {math.ceil(left)} s' if left is not None else ''}"
        elif phase in ("paused", "done", "aborted"):
            text = {"paused": "Please wait", "done": "Finished. Well done!", "aborted": "Stopped"}[
                phase
            ]
        if not self._hit_until:
            self.message.setText(text)
        self._instruction = text
        self._shapes.setData(*shape_lines(d))

    def celebrate_hit(self) -> None:
        """Flash the hit text (and beep when sound is on)."""
        if self._hit_until == 0.0:
            self._instruction = self.message.text()
        self.message.setText(self.preset.hit_text)
        self._hit_until = QtCore.QTime.currentTime().msecsSinceStartOfDay() / 1e3 + 1.0
        if self.sound_on:
            self._beep()

    def _smooth(self, finite: np.ndarray, fs: float) -> np.ndarray:
        """Cursor position: the newest sample, or the mean of the last ``smoothing_s`` seconds."""
        n = max(1, round(self.preset.smoothing_s * fs))
        return finite[-n:].mean(axis=0)


__all__ = ["PRESETS", "PatientScreen", "Preset", "shape_lines"]
