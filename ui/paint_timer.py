"""Measures how long Qt spends painting a view (the other half of a frame's cost)."""

from __future__ import annotations

import time


class PaintTimed:
    """Mixin for a QGraphicsView-based plot: accumulates paint time in :attr:`paint_ms`.

    Put it first in the bases (``class SwayPlot(PaintTimed, pg.PlotWidget)``); read and reset
    with :meth:`take_paint_ms` once per frame.
    """

    paint_ms = 0.0

    def paintEvent(self, event) -> None:
        t0 = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms += (time.perf_counter() - t0) * 1e3

    def take_paint_ms(self) -> float:
        ms, self.paint_ms = self.paint_ms, 0.0
        return ms


__all__ = ["PaintTimed"]
