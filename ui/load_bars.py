"""Vertical load and weight-bearing bars (left/right and back/front %) for force sources.

Weight bearing follows from the centre of pressure by the lever rule: with the load shared
between two supports at ``-half`` and ``+half`` along an axis, the share on the ``+`` side is
``(cop + half) / (2 half)``. ``half`` is half the sensor span (Wii board: 216.5 mm across, 119 mm
front-back) or, for a plate, the given stance half-width.
"""

from __future__ import annotations

import math

from PySide6 import QtCore, QtGui, QtWidgets

from ui import theme

#: Half spans (mm) used when the stream's geometry does not give the sensor positions.
DEFAULT_HALF_SPAN_MM = (216.5, 119.0)
G = 9.80665


def weight_bearing(cop_mm: float, half_span_mm: float) -> float:
    """Share (0-1) of the load on the ``+`` side of an axis; NaN without a valid COP."""
    if not math.isfinite(cop_mm) or half_span_mm <= 0:
        return float("nan")
    return min(1.0, max(0.0, (cop_mm + half_span_mm) / (2 * half_span_mm)))


def half_spans(geometry: dict) -> tuple[float, float]:
    """Half of the sensor span in x and y (mm) from ``geometry["cells_xy_mm"]``, or defaults."""
    cells = geometry.get("cells_xy_mm")
    if cells:
        xs = [abs(float(c[0])) for c in cells]
        ys = [abs(float(c[1])) for c in cells]
        return max(xs) or DEFAULT_HALF_SPAN_MM[0], max(ys) or DEFAULT_HALF_SPAN_MM[1]
    return DEFAULT_HALF_SPAN_MM


class _Bar(QtWidgets.QWidget):
    """One painted bar: a fill from 0 to 1, with a label and a value text."""

    def __init__(
        self, title: str, vertical: bool, colour: str, split: tuple[str, str] | None = None
    ):
        super().__init__()
        self.title, self.vertical, self.colour, self.split = title, vertical, colour, split
        self.fraction = float("nan")
        self.text = "--"
        self.setMinimumSize(QtCore.QSize(60, 110) if vertical else QtCore.QSize(150, 46))

    def set_value(self, fraction: float, text: str) -> None:
        if fraction != self.fraction or text != self.text:
            self.fraction, self.text = fraction, text
            self.update()

    def paintEvent(self, event) -> None:
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.Antialiasing)
        r = self.rect().adjusted(2, 18, -2, -18)
        p.setPen(QtGui.QColor(theme.CONSOLE["muted"]))
        p.drawText(
            self.rect().adjusted(0, 0, 0, 0),
            QtCore.Qt.AlignTop | QtCore.Qt.AlignHCenter,
            self.title,
        )
        p.setPen(QtGui.QColor(theme.CONSOLE["text"]))
        p.drawText(self.rect(), QtCore.Qt.AlignBottom | QtCore.Qt.AlignHCenter, self.text)
        p.setPen(QtGui.QPen(QtGui.QColor(theme.CONSOLE["grid"])))
        p.setBrush(QtGui.QColor("#FFFFFF"))
        p.drawRoundedRect(r, 4, 4)
        if math.isfinite(self.fraction):
            f = self.fraction
            fill = (
                QtCore.QRectF(r.left(), r.bottom() - f * r.height(), r.width(), f * r.height())
                if self.vertical
                else QtCore.QRectF(r.left(), r.top(), f * r.width(), r.height())
            )
            p.setPen(QtCore.Qt.NoPen)
            p.setBrush(QtGui.QColor(self.colour))
            p.drawRoundedRect(fill, 4, 4)
        if self.split:  # the 50 % line and the side names
            p.setPen(QtGui.QPen(QtGui.QColor(theme.CONSOLE["text"]), 1, QtCore.Qt.DashLine))
            if self.vertical:
                p.drawLine(r.left(), r.center().y(), r.right(), r.center().y())
            else:
                p.drawLine(r.center().x(), r.top(), r.center().x(), r.bottom())
                p.setPen(QtGui.QColor(theme.CONSOLE["text"]))
                p.drawText(
                    r.adjusted(4, 0, -4, 0),
                    QtCore.Qt.AlignVCenter | QtCore.Qt.AlignLeft,
                    self.split[0],
                )
                p.drawText(
                    r.adjusted(4, 0, -4, 0),
                    QtCore.Qt.AlignVCenter | QtCore.Qt.AlignRight,
                    self.split[1],
                )
        p.end()


class LoadBars(QtWidgets.QWidget):
    """Total vertical load (kg) plus left/right and back/front shares (%).

    Parameters
    ----------
    half_span_mm : tuple of float
        Half sensor span in x and y (see :func:`half_spans`).
    full_scale_kg : float
        Load at which the vertical bar is full.
    """

    def __init__(
        self, half_span_mm: tuple[float, float] = DEFAULT_HALF_SPAN_MM, full_scale_kg: float = 150.0
    ):
        super().__init__()
        self.half_span_mm, self.full_scale_kg = half_span_mm, full_scale_kg
        self.load = _Bar("load", True, theme.CONSOLE["load"])
        self.left_right = _Bar(
            "weight bearing L / R", False, theme.OKABE_ITO["sky_blue"], ("L", "R")
        )
        self.back_front = _Bar("back / front", False, theme.OKABE_ITO["orange"], ("back", "front"))
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.load)
        side = QtWidgets.QVBoxLayout()
        side.addWidget(self.left_right)
        side.addWidget(self.back_front)
        layout.addLayout(side, 1)

    def show_values(self, x_mm: float, y_mm: float, fz_n: float) -> None:
        """Update from the newest COP (mm) and vertical load (N)."""
        kg = fz_n / G if math.isfinite(fz_n) else float("nan")
        self.load.set_value(
            min(1.0, kg / self.full_scale_kg) if math.isfinite(kg) else kg,
            f"{kg:.1f} kg" if math.isfinite(kg) else "--",
        )
        right = weight_bearing(x_mm, self.half_span_mm[0])
        front = weight_bearing(y_mm, self.half_span_mm[1])
        self.left_right.set_value(
            1 - right if math.isfinite(right) else right,
            f"{100 * (1 - right):.0f} % / {100 * right:.0f} %" if math.isfinite(right) else "--",
        )
        self.back_front.set_value(
            1 - front if math.isfinite(front) else front,
            f"{100 * (1 - front):.0f} % / {100 * front:.0f} %" if math.isfinite(front) else "--",
        )


__all__ = ["DEFAULT_HALF_SPAN_MM", "LoadBars", "half_spans", "weight_bearing"]
