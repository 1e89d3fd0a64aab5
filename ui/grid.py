"""Static grid lines drawn as one opaque path.

pyqtgraph's axis grid draws translucent lines through the axis picture, which costs several ms
per paint offscreen; one opaque curve of line pairs over a fixed range costs a fraction of it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from ui import theme


def grid_lines(
    x_range: tuple[float, float], y_range: tuple[float, float], step_x: float, step_y: float
) -> tuple[np.ndarray, np.ndarray]:
    """x, y arrays of line-segment pairs covering the ranges at the given steps (0 on a line)."""
    xs = np.arange(np.ceil(x_range[0] / step_x), np.floor(x_range[1] / step_x) + 1) * step_x
    ys = np.arange(np.ceil(y_range[0] / step_y), np.floor(y_range[1] / step_y) + 1) * step_y
    px = np.concatenate([np.repeat(xs, 2), np.tile(x_range, len(ys))])
    py = np.concatenate([np.tile(y_range, len(xs)), np.repeat(ys, 2)])
    return px, py


class StaticGrid(pg.PlotCurveItem):
    """A light grid behind the data of one plot; :meth:`cover` redraws it for new ranges."""

    def __init__(self):
        super().__init__(pen=theme.pen(theme.CONSOLE["grid_line"]), connect="pairs")
        self.setZValue(-100)

    def cover(self, x_range, y_range, step_x: float, step_y: float) -> None:
        self.setData(*grid_lines(x_range, y_range, step_x, step_y))


def nice_step(span: float, lines: int = 8) -> float:
    """A 1-2-5 step giving about ``lines`` grid lines across ``span``."""
    raw = span / lines
    mag = 10 ** np.floor(np.log10(raw))
    return float(min((m * mag for m in (1, 2, 5, 10)), key=lambda s: abs(s - raw)))


__all__ = ["StaticGrid", "grid_lines", "nice_step"]
