"""Statokinesigram: the COP (or tilt) path in the plane with a fading tail, the current point,
targets and the live 95 % ellipse, on equal axes (1 mm across = 1 mm up)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from ui import theme
from ui.grid import StaticGrid, nice_step
from ui.live_metrics import Target
from ui.paint_timer import PaintTimed

#: Alpha of each tail segment, oldest first: the tail fades into the past.
TAIL_ALPHAS = (35, 70, 130, 255)


class SwayPlot(PaintTimed, pg.PlotWidget):
    """Live or replayed sway path.

    Parameters
    ----------
    unit : str
        ``"mm"`` (COP) or ``"deg"`` (tilt).
    half_span : float
        Initial half-width of the square view, in ``unit``.
    max_tail_points : int
        Most points drawn for the tail (longer tails are decimated): bounds the frame cost.
    """

    def __init__(
        self,
        unit: str = "mm",
        half_span: float | None = None,
        max_tail_points: int = 3000,
        parent: QtWidgets.QWidget | None = None,
    ):
        super().__init__(parent=parent)
        self.max_tail_points = max_tail_points
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.setAspectLocked(True, ratio=1.0)
        item.disableAutoRange()
        for axis in ("left", "bottom"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        self._grid = StaticGrid()
        item.addItem(self._grid)
        item.hideButtons()
        self._zero_lines = [
            pg.InfiniteLine(pos=0, angle=a, pen=theme.pen(theme.CONSOLE["grid"])) for a in (0, 90)
        ]
        for line in self._zero_lines:
            item.addItem(line)
        self._tail = []
        for alpha in TAIL_ALPHAS:
            curve = pg.PlotDataItem(pen=theme.pen(theme.CONSOLE["trace"], alpha), connect="finite")
            curve.setSkipFiniteCheck(True)
            item.addItem(curve)
            self._tail.append(curve)
        self._ellipse = pg.PlotDataItem(pen=theme.pen(theme.CONSOLE["ellipse"]))
        item.addItem(self._ellipse)
        self._targets = pg.ScatterPlotItem(pxMode=False)
        item.addItem(self._targets)
        self._current = pg.ScatterPlotItem(
            size=14, pen=theme.pen("#FFFFFF"), brush=theme.brush(theme.CONSOLE["current"])
        )
        item.addItem(self._current)
        self.set_unit(unit, half_span)

    def set_unit(self, unit: str, half_span: float | None = None) -> None:
        """Label the axes for ``unit`` and show +-``half_span`` (default 40 mm or 8 deg)."""
        self.unit = unit
        half_span = half_span or (8.0 if unit == "deg" else 40.0)
        item = self.getPlotItem()
        item.setLabel("bottom", f"ML ({unit})  \u2192 right")
        item.setLabel("left", f"AP ({unit})  \u2192 forward")
        item.setRange(xRange=(-half_span, half_span), yRange=(-half_span, half_span), padding=0)
        # the locked aspect widens one axis to fill the widget: cover generously
        reach = 3 * half_span
        step = nice_step(2 * half_span, 8)
        self._grid.cover((-reach, reach), (-reach, reach), step, step)

    def set_targets(self, targets: list[Target], active: int | None = None) -> None:
        """Draw ``targets`` (circles to scale); the ``active`` one filled."""
        spots = []
        for i, t in enumerate(targets):
            colour = theme.CONSOLE["target"]
            spots.append(
                {
                    "pos": (t.x, t.y),
                    "size": 2 * t.radius,
                    "symbol": "o",
                    "pen": theme.pen(colour),
                    "brush": theme.brush(colour, 110 if i == active else 25),
                }
            )
        self._targets.setData(spots)

    def show_path(self, xy: np.ndarray) -> None:
        """Draw the tail ``xy`` (n, 2), oldest first; its last finite point is the current one."""
        n = len(xy)
        step = max(1, int(np.ceil(n / self.max_tail_points)))
        if step > 1:
            xy = xy[(n - 1) % step :: step]  # keep the newest sample exactly
        bounds = np.linspace(0, len(xy), len(self._tail) + 1).astype(int)
        for i, curve in enumerate(self._tail):
            a, b = bounds[i], min(len(xy), bounds[i + 1] + 1)  # overlap by one: no visual gaps
            seg = xy[a:b]
            curve.setData(seg[:, 0], seg[:, 1])
        finite = np.flatnonzero(np.isfinite(xy).all(axis=1)) if len(xy) else []
        if len(finite):
            p = xy[finite[-1]]
            self._current.setData([p[0]], [p[1]])
        else:
            self._current.setData([], [])

    def show_ellipse(self, outline: np.ndarray | None) -> None:
        """Draw the 95 % ellipse (outline (m, 2)), or hide it with None."""
        if outline is None or not np.isfinite(outline).all():
            self._ellipse.setData([], [])
        else:
            self._ellipse.setData(outline[:, 0], outline[:, 1])

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(420, 420)


__all__ = ["TAIL_ALPHAS", "SwayPlot"]
