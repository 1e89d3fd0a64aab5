"""Stabilograms: ML (x) and AP (y) against time, scrolling over the last 10-30 s, with event
lines. The time axis is "seconds before now" on a fixed range, so the axes are not re-laid out
every frame. Long series are reduced to a min/max envelope of two points per pixel column
before they reach pyqtgraph (the view always shows the whole window, so there is nothing to
clip), so 30 s at 1 kHz costs about as much as 30 s at 100 Hz and no peak is hidden."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from ui import theme
from ui.grid import StaticGrid, nice_step
from ui.paint_timer import PaintTimed


def peak_envelope(x: np.ndarray, y: np.ndarray, n_columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``y`` in each of about ``n_columns`` runs of samples (newest kept whole).

    Returns ``x``, ``y`` of 2 points per run (first x with the min, last x with the max); the
    input unchanged when it has fewer than 4 samples per column. NaN samples are ignored; a run
    of only NaN gives NaN (a gap in the line).
    """
    k = len(x) // max(1, n_columns)
    if k < 4:
        return x, y
    start = len(x) % k
    xb, yb = x[start:].reshape(-1, k), y[start:].reshape(-1, k)
    out_x = np.column_stack([xb[:, 0], xb[:, -1]]).ravel()
    out_y = np.column_stack([np.fmin.reduce(yb, axis=1), np.fmax.reduce(yb, axis=1)]).ravel()
    return out_x, out_y


class TimeSeriesPlot(PaintTimed, pg.GraphicsLayoutWidget):
    """Two stacked plots sharing the time axis: ML on top, AP below.

    Parameters
    ----------
    unit : str
        ``"mm"`` or ``"deg"``.
    window_s : float
        Seconds shown (10-30 for live; up to the whole trial for replay).
    """

    def __init__(
        self, unit: str = "mm", window_s: float = 20.0, parent: QtWidgets.QWidget | None = None
    ):
        super().__init__(parent=parent)
        self.plots, self.curves, self.grids = [], [], []
        self._events: list[tuple[pg.PlotItem, float, pg.InfiniteLine]] = []
        for colour in (theme.CONSOLE["ml"], theme.CONSOLE["ap"]):
            plot = self.addPlot(row=len(self.plots), col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            plot.disableAutoRange()
            for axis in ("left", "bottom"):
                plot.getAxis(axis).enableAutoSIPrefix(False)
            grid = StaticGrid()
            plot.addItem(grid)
            curve = plot.plot(pen=theme.pen(colour), connect="finite")
            curve.setSkipFiniteCheck(True)
            self.plots.append(plot)
            self.curves.append(curve)
            self.grids.append(grid)
        self.plots[1].setXLink(self.plots[0])
        self.plots[0].getAxis("bottom").setStyle(showValues=False)
        self.plots[1].setLabel("bottom", "time (s before now)")
        self.window_s = window_s
        self.set_unit(unit)

    @property
    def window_s(self) -> float:
        return self._window_s

    @window_s.setter
    def window_s(self, seconds: float) -> None:
        self._window_s = float(seconds)
        self.plots[0].setXRange(-self._window_s, 0, padding=0.0)
        self._cover()

    def set_unit(self, unit: str, half: float | None = None) -> None:
        """Label for ``unit`` and show +-``half`` (default 40 mm or 8 deg)."""
        self.unit = unit
        self.plots[0].setLabel("left", f"ML ({unit})")
        self.plots[1].setLabel("left", f"AP ({unit})")
        self.set_half(half or (8.0 if unit == "deg" else 40.0))

    def set_half(self, half: float) -> None:
        """Show +-``half`` (stream unit) on both value axes."""
        self.half = float(half)
        h = self.half / 2
        ticks = [[(v, f"{v:g}") for v in (-h, 0.0, h)], []]  # inner ticks only: stacked plots
        for plot in self.plots:
            plot.setYRange(-self.half, self.half, padding=0)
            plot.getAxis("left").setTicks(ticks)
        self._cover()

    def _cover(self) -> None:
        if not hasattr(self, "half"):
            return
        step_x = nice_step(self._window_s, 10)
        for grid in self.grids:
            grid.cover(
                (-self._window_s, 0.0), (-self.half, self.half), step_x, nice_step(2 * self.half, 4)
            )

    def show_series(self, t: np.ndarray, xy: np.ndarray, t_end: float | None = None) -> None:
        """Plot ``xy`` (n, 2) against ``t`` (n,) s, shifted so ``t_end`` (default: last t) is 0."""
        if t_end is None:
            t_end = float(t[-1]) if len(t) else 0.0
        x = t - t_end
        columns = max(100, int(self.plots[0].getViewBox().width()))
        for i, curve in enumerate(self.curves):
            curve.setData(*peak_envelope(x, xy[:, i], columns))
        for _, t_event, line in self._events:
            line.setPos(t_event - t_end)

    def set_events(self, events: list[tuple[float, str]]) -> None:
        """Vertical lines at ``(t_s, label)`` events (markers, cues, hits), in stream time."""
        for plot, _, line in self._events:
            plot.removeItem(line)
        self._events = []
        for t, label in events:
            self.add_event(t, label)

    def add_event(self, t: float, label: str) -> None:
        """One more event line (a cue or marker given live), at stream time ``t`` s."""
        k = len(self._events) // len(self.plots)
        for i, plot in enumerate(self.plots):
            line = pg.InfiniteLine(
                pos=t,
                angle=90,
                pen=theme.pen(theme.CONSOLE["event"]),
                label=label if i == 0 else None,
                labelOpts={"position": 0.92 - 0.2 * (k % 3), "color": theme.CONSOLE["event"]},
            )
            plot.addItem(line)
            self._events.append((plot, t, line))


__all__ = ["TimeSeriesPlot"]
