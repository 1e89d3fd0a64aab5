"""Stabilograms: ML (x) and AP (y) against time, scrolling over the last 10-30 s, with event
lines. Long series are peak-downsampled and clipped to the view by pyqtgraph, so 30 s at 1 kHz
costs about as much as 30 s at 100 Hz."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtWidgets

from ui import theme
from ui.paint_timer import PaintTimed


class TimeSeriesPlot(PaintTimed, pg.GraphicsLayoutWidget):
    """Two stacked plots sharing the time axis: ML on top, AP below.

    Parameters
    ----------
    unit : str
        ``"mm"`` or ``"deg"``.
    window_s : float
        Seconds shown (10-30 for live; the whole trial for replay).
    """

    def __init__(self, unit: str = "mm", window_s: float = 20.0, parent: QtWidgets.QWidget | None = None):
        super().__init__(parent=parent)
        self.window_s = window_s
        self.plots = []
        self.curves = []
        self._events: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        for row, (name, colour) in enumerate((("ML", theme.CONSOLE["ml"]), ("AP", theme.CONSOLE["ap"]))):
            plot = self.addPlot(row=row, col=0)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setMouseEnabled(x=False, y=False)
            curve = plot.plot(pen=theme.pen(colour), connect="finite")
            curve.setSkipFiniteCheck(True)
            self.plots.append(plot)
            self.curves.append(curve)
        self.plots[1].setXLink(self.plots[0])
        self.plots[0].getAxis("bottom").setStyle(showValues=False)
        self.plots[1].setLabel("bottom", "time (s)")
        self.set_unit(unit)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        self.plots[0].setLabel("left", f"ML ({unit})")
        self.plots[1].setLabel("left", f"AP ({unit})")
        half = 8.0 if unit == "deg" else 40.0
        for plot in self.plots:
            plot.setYRange(-half, half, padding=0)

    def show_series(self, t: np.ndarray, xy: np.ndarray, t_end: float | None = None) -> None:
        """Plot ``xy`` (n, 2) against ``t`` (n,) s; the view ends at ``t_end`` (default: last t)."""
        if t_end is None:
            finite = t[np.isfinite(t)]
            t_end = float(finite[-1]) if len(finite) else 0.0
        self.curves[0].setData(t, xy[:, 0])
        self.curves[1].setData(t, xy[:, 1])
        self.plots[0].setXRange(t_end - self.window_s, t_end, padding=0)

    def set_events(self, events: list[tuple[float, str]]) -> None:
        """Vertical lines at ``(t_s, label)`` events (markers, cues, hits)."""
        for plot, line in self._events:
            plot.removeItem(line)
        self._events = []
        for k, (t, label) in enumerate(events):
            for i, plot in enumerate(self.plots):
                line = pg.InfiniteLine(pos=t, angle=90, pen=theme.pen(theme.CONSOLE["event"]),
                                       label=label if i == 0 else None,
                                       labelOpts={"position": 0.92 - 0.2 * (k % 3), "color": theme.CONSOLE["event"]})
                plot.addItem(line)
                self._events.append((plot, line))


__all__ = ["TimeSeriesPlot"]
