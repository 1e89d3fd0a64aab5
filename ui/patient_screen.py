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
from ui.sounds import Sounds


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
        Multiplies the target radius of training protocols (bigger = easier): the console sends
        it with ``StartProtocol`` and the engine, the one place targets are scored, applies it
        (never to tests) and stores it with each trial.
    dwell_scale : float
        Multiplies the dwell needed for a hit (same path).
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


#: The view reaches this much beyond the farthest target or LOS point (10 % margin).
VIEW_MARGIN = 1.1
#: The instruction text takes at most this fraction of the screen's height (its font shrinks
#: to fit): the display keeps the rest, whatever the preset's font size.
MAX_TEXT_FRACTION = 0.25
#: Smallest instruction font, pt (a long text on a small window).
MIN_FONT_PT = 14
#: How long a visual cue (flash) lasts, ms.
FLASH_MS = 450
#: Flash colours of the cues (the sounds' stand-in where there is no audio).
FLASH_COLOURS = {
    "start": theme.OKABE_ITO["green"],
    "stop": theme.OKABE_ITO["vermillion"],
    "hit": theme.OKABE_ITO["sky_blue"],
}


class PatientScreen(QtWidgets.QWidget):
    """Fullscreen biofeedback window.

    Parameters
    ----------
    unit : str
        ``"mm"`` or ``"deg"``; sets the visible range.
    half_span : float, optional
        Half-width of the view in ``unit`` (default 50 mm / 10 deg); :meth:`set_extent` scales
        it to a protocol's targets.
    sounds : Sounds, optional
        The cue sounds (default: made here; a visual flash stands in when they cannot play).
    """

    def __init__(
        self,
        unit: str = "mm",
        half_span: float | None = None,
        preset: str = "standard",
        sounds: Sounds | None = None,
    ):
        super().__init__()
        self.setWindowTitle("nmr-balance \u2014 patient")
        self.setStyleSheet(
            f"background: {theme.PATIENT['background']}; color: {theme.PATIENT['text']};"
        )
        self.sound_on = True
        self.sounds = sounds or Sounds(self)
        self.last_flash = ""  # the last visual cue shown (for the console and tests)
        self.feedback = True  # False: a sensory test, fixation target only
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
        # the fixation target of sensory tests ("look at the dot in front of you"): a fixed
        # white dot, the same size on every screen, that never moves with the sway
        self._fixation = pg.ScatterPlotItem(
            [0.0],
            [0.0],
            symbol="o",
            size=36,
            pen=theme.pen(theme.PATIENT["text"]),
            brush=theme.brush(theme.PATIENT["text"]),
        )
        self._fixation.setVisible(False)
        item.addItem(self._targets)
        item.addItem(self._shapes)
        item.addItem(self._cursor)
        item.addItem(self._fixation)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.message, 1)
        top.addWidget(self.score)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 24)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self._unflash = QtCore.QTimer(self, singleShot=True, interval=FLASH_MS)
        self._unflash.timeout.connect(lambda: self.plot.setBackground(theme.PATIENT["background"]))
        self.set_unit(unit, half_span)
        self.set_preset(preset)

    # --- set-up from the console ---------------------------------------------------------------
    def set_unit(self, unit: str, half_span: float | None = None) -> None:
        self.unit = unit
        self.set_extent(half_span or (10.0 if unit == "deg" else 50.0), margin=1.0)

    def set_extent(self, reach: float, margin: float = VIEW_MARGIN) -> None:
        """Show everything within ``reach`` (stream unit) of the centre, plus ``margin``: the
        square view is fitted into the plot whatever its shape (the aspect stays 1:1)."""
        self.half_span = float(reach) * margin
        h = self.half_span
        self.plot.getPlotItem().setRange(xRange=(-h, h), yRange=(-h, h), padding=0)

    def set_preset(self, name: str) -> None:
        self.preset = PRESETS[name]
        self._cursor.setSize(self.preset.cursor_px)
        self._cursor.setSymbol(self.preset.symbol)
        font = self.score.font()
        font.setPointSize(self.preset.font_pt)
        font.setBold(True)
        self.score.setFont(font)
        self._fit_message()

    def set_message(self, text: str) -> None:
        self.message.setText(text)
        self._fit_message()

    def _fit_message(self) -> None:
        """The preset's font, made smaller until the text fits in :data:`MAX_TEXT_FRACTION` of
        the height: a long instruction never squeezes the display to a strip."""
        room_h = max(40, int(MAX_TEXT_FRACTION * self.height()))
        room_w = self.message.width()
        if room_w < 100:  # not laid out yet: the window less its margins and the score
            room_w = max(100, self.width() - 60 - (self.score.width() if self.score.text() else 0))
        font = self.message.font()
        font.setBold(True)
        size = self.preset.font_pt
        while True:
            font.setPointSize(size)
            self.message.setFont(font)
            if self.message.heightForWidth(room_w) <= room_h - 4 or size <= MIN_FONT_PT:
                break
            size -= 2
        self.message.setFont(font)
        self.message.setMaximumHeight(room_h)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_message()

    def go_fullscreen(self, screen_index: int | None = None) -> bool:
        """Show fullscreen on the last screen (the second monitor) unless told otherwise; with
        a single screen it opens as a window instead (fullscreen would cover the console) and
        returns False. Esc leaves fullscreen, F11 toggles it."""
        screens = QtGui.QGuiApplication.screens()
        if len(screens) < 2 and screen_index is None:
            self.resize(800, 600)
            self.show()
            return False
        if screens:
            screen = screens[-1 if screen_index is None else min(screen_index, len(screens) - 1)]
            self.setGeometry(screen.geometry())
        self.showFullScreen()
        return True

    def keyPressEvent(self, event) -> None:
        if event.key() == QtCore.Qt.Key_Escape and self.isFullScreen():
            self.showNormal()
        elif event.key() == QtCore.Qt.Key_F11:
            self.showNormal() if self.isFullScreen() else self.showFullScreen()
        else:
            super().keyPressEvent(event)

    def cue(self, name: str) -> None:
        """Signal ``name`` (``"start"``, ``"stop"``, ``"hit"``) to the patient: its sound when
        sound is on and can play here, else a coloured flash of the display."""
        if self.sound_on and self.sounds.play(name):
            return
        if self.sound_on or name == "hit":
            self.flash(name)

    def flash(self, name: str) -> None:
        """The visual cue: the display's background flashes the cue's colour briefly."""
        self.last_flash = name
        self.plot.setBackground(FLASH_COLOURS[name])
        self._unflash.start()

    def set_feedback(self, on: bool) -> None:
        """Live feedback (cursor, targets, shapes) or, for sensory tests, the fixation dot
        only: the patient looks at a fixed point and never sees their own sway."""
        self.feedback = on
        self._fixation.setVisible(not on)
        for item in (self._cursor, self._targets, self._shapes):
            item.setVisible(on)

    # --- every frame ---------------------------------------------------------------------------
    def show_frame(
        self,
        xy: np.ndarray,
        fs: float,
        targets: list[Target],
        active: int | None,
        hits: int | None = None,
    ) -> None:
        """Draw the cursor at the newest finite sample of ``xy`` (n, 2), the targets (during a
        sensory test, :meth:`set_feedback` has hidden them: only the fixation dot shows) and
        ``hits``, the trial's hits so far as the protocol engine counted them (None: no score
        shown)."""
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
        if hits is None:
            self.score.setText("")
        else:
            self.score.setText(f"\u2605 {hits}" if self.preset.name == "children" else f"{hits}")
        if self._hit_until and now > self._hit_until:
            self._hit_until = 0.0
            self.set_message(self._instruction)

    def show_protocol(self, d: dict) -> None:
        """Show a protocol run's :meth:`ProtocolRun.display` snapshot: the instruction with the
        countdown or time left (in a trial that ends on its own, the target shown and its time
        left, or the most it may still last), the maze corridor or the guide circle (its targets are drawn by
        :meth:`show_frame`)."""
        phase, left = d.get("phase", ""), d.get("remaining_s")
        text = d.get("prompt") or d.get("instruction", "")  # a task's prompt of the moment
        if phase == "countdown" and left is not None:
            text = f"{text}\nGet ready: {math.ceil(left)}"
        elif phase == "trial" and "target_number" in d:  # the run ends at the last target
            n, of, target_left = d["target_number"], d["target_count"], d["target_left_s"]
            text = f"{text}\nTarget {n} of {of}: {math.ceil(target_left)} s"
        elif phase == "trial" and "up_to_s" in d:  # ends when the goal is met
            text = f"{text}\nup to {math.ceil(d['up_to_s'])} s"
        elif phase == "trial" and left is not None:
            text = f"{text}\n{math.ceil(left)} s"
        elif phase == "rest":
            text = f"Rest{f': {math.ceil(left)} s' if left is not None else ''}"
        elif phase in ("paused", "done", "aborted"):
            text = {"paused": "Please wait", "done": "Finished. Well done!", "aborted": "Stopped"}[
                phase
            ]
        if not self._hit_until:
            self.set_message(text)
        self._instruction = text
        self._shapes.setData(*shape_lines(d))
        self.set_feedback(d.get("feedback", True) or phase in ("done", "aborted"))

    def celebrate_hit(self) -> None:
        """Show the hit text briefly, with the hit cue (sound, or flash)."""
        if self._hit_until == 0.0:
            self._instruction = self.message.text()
        self.set_message(self.preset.hit_text)
        self._hit_until = QtCore.QTime.currentTime().msecsSinceStartOfDay() / 1e3 + 1.0
        self.cue("hit")

    def _smooth(self, finite: np.ndarray, fs: float) -> np.ndarray:
        """Cursor position: the newest sample, or the mean of the last ``smoothing_s`` seconds."""
        n = max(1, round(self.preset.smoothing_s * fs))
        return finite[-n:].mean(axis=0)


__all__ = ["FLASH_COLOURS", "PRESETS", "PatientScreen", "Preset", "shape_lines"]
