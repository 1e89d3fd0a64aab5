"""The report's charts as reportlab vector drawings: statokinesigram, LOS radar, progress lines.

Vector, so they print sharp at any size. Colours are few and print well in grey too (lines also
differ by dash or marker). Sizes in points (1/72 inch).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors

from nmr_balance.results import LOS_DIRECTIONS

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#7b8794")
GRID = colors.HexColor("#d9dee3")
ACCENT = colors.HexColor("#1c6e8c")
WARN = colors.HexColor("#c2410c")
#: Series colours (condition lines), with a dash pattern each so they read in grey too.
SERIES = [
    (colors.HexColor(c), d)
    for c, d in (
        ("#1c6e8c", None),
        ("#c2410c", (4, 2)),
        ("#2f855a", (2, 1.5)),
        ("#6b46c1", (6, 2, 1, 2)),
        ("#b7791f", (3, 3)),
        ("#4a5568", (8, 3)),
    )
]
FONT, BOLD = "Helvetica", "Helvetica-Bold"

#: Angle of each LOS direction in the sway plane (x right, y forward), radians.
_LOS_ANGLE = {d: math.radians(90 - 45 * i) for i, d in enumerate(LOS_DIRECTIONS)}


def _text(
    x: float,
    y: float,
    text: str,
    size: float = 6,
    anchor: str = "start",
    color=MUTED,
    font: str = FONT,
) -> String:
    """A label of the charts: small and muted unless said otherwise (sizes in points)."""
    return String(x, y, text, fontName=font, fontSize=size, fillColor=color, textAnchor=anchor)


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [start + i * step for i in range(math.ceil((hi - start) / step + 1e-9) + 1)]


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 0.01 or value == 0 else f"{value:.1e}"


def ellipse_points(
    cx: float, cy: float, major: float, minor: float, angle_deg: float, n: int = 72
) -> np.ndarray:
    """Points of an ellipse with semi-axes ``major``/``minor``, major axis at ``angle_deg``."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    a = math.radians(angle_deg)
    ex, ey = major * np.cos(t), minor * np.sin(t)
    return np.column_stack(
        [cx + ex * math.cos(a) - ey * math.sin(a), cy + ex * math.sin(a) + ey * math.cos(a)]
    )


def statokinesigram(
    xy: np.ndarray | None,
    metrics: Mapping[str, float],
    title: str,
    limit: float,
    unit: str = "mm",
    size: float = 170.0,
    partial: bool = False,
) -> Drawing:
    """The sway path in the plane with its 95 % prediction ellipse, on a square of +-``limit``.

    All trials of a report share ``limit``, so their sizes compare at a glance. The ellipse is
    drawn from the stored metrics (``ellipse_major/minor_95_chi2``, ``ellipse_angle_deg``,
    ``mean_x/y``) when present.
    """
    pad_l, pad_b, pad_t = 26.0, 22.0, 16.0
    plot = size - pad_l - 6
    d = Drawing(size, plot + pad_b + pad_t)
    scale = plot / (2 * limit)

    def to(px, py):
        return pad_l + (px + limit) * scale, pad_b + (py + limit) * scale

    d.add(Rect(pad_l, pad_b, plot, plot, fillColor=colors.white, strokeColor=GRID))
    for v in nice_ticks(-limit, limit, 5):
        if -limit <= v <= limit:
            x, y = to(v, v)
            d.add(Line(x, pad_b, x, pad_b + plot, strokeColor=GRID, strokeWidth=0.4))
            d.add(Line(pad_l, y, pad_l + plot, y, strokeColor=GRID, strokeWidth=0.4))
            d.add(_text(x, pad_b - 8, _label(v), anchor="middle"))
            d.add(_text(pad_l - 3, y - 2, _label(v), anchor="end"))
    d.add(_text(pad_l + plot / 2, 2, f"left  -  x (ML, {unit})  -  right", anchor="middle"))
    back = _text(6, pad_b + plot / 2, f"y (AP, {unit}) forward", anchor="middle")
    d.add(Group(back, transform=(0, 1, -1, 0, 6 + pad_b + plot / 2, pad_b + plot / 2 - 6)))
    d.add(_text(pad_l, pad_b + plot + 5, title, size=7.5, color=INK, font=BOLD))
    if xy is not None and len(xy) > 1:
        pts = np.clip(np.asarray(xy, float), -limit, limit)
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        flat = [c for p in pts for c in to(*p)]
        d.add(PolyLine(flat, strokeColor=ACCENT, strokeWidth=0.35))
    keys = ("ellipse_major_95_chi2", "ellipse_minor_95_chi2", "ellipse_angle_deg")
    if all(math.isfinite(metrics.get(k, math.nan)) for k in keys):
        e = ellipse_points(
            metrics.get("mean_x", 0.0), metrics.get("mean_y", 0.0), *(metrics[k] for k in keys)
        )
        d.add(
            Polygon(
                [c for p in np.clip(e, -limit, limit) for c in to(*p)],
                fillColor=None,
                strokeColor=WARN,
                strokeWidth=1.1,
            )
        )
    if partial:
        d.add(
            _text(
                pad_l + plot - 3,
                pad_b + plot - 9,
                "stopped early",
                size=7,
                anchor="end",
                color=WARN,
                font=BOLD,
            )
        )
    return d


def sway_limit(
    trials_xy: Sequence[np.ndarray | None], ellipses: Sequence[Mapping[str, float]]
) -> float:
    """A common half-width (unit of sway) that holds every path and ellipse, rounded up nicely."""
    extent = 1.0
    for xy in trials_xy:
        if xy is not None and len(xy):
            extent = max(extent, float(np.nanmax(np.abs(xy))))
    for m in ellipses:
        reach = (
            abs(m.get("mean_x", 0)) + abs(m.get("mean_y", 0)) + m.get("ellipse_major_95_chi2", 0)
        )
        if math.isfinite(reach):
            extent = max(extent, reach)
    return nice_ticks(0, extent * 1.05, 4)[-1]


def los_radar(
    values: Mapping[str, Mapping[str, float]],
    title: str,
    size: float = 210.0,
    keys: Sequence[tuple[str, str]] = (
        ("max_excursion_pct", "maximum excursion"),
        ("endpoint_excursion_pct", "endpoint excursion"),
    ),
    full_scale: float = 100.0,
) -> Drawing:
    """Limits of Stability radar: one polygon per metric in ``keys`` over the 8 directions (%)."""
    d = Drawing(size, size + 30)
    cx, cy, r = size / 2, size / 2 + 14, size / 2 - 22
    top = max(
        [full_scale]
        + [
            v.get(k, 0)
            for v in values.values()
            for k, _ in keys
            if math.isfinite(v.get(k, math.nan))
        ]
    )
    for frac in (0.25, 0.5, 0.75, 1.0):
        d.add(
            Circle(
                cx,
                cy,
                r * frac * full_scale / top,
                fillColor=None,
                strokeColor=GRID,
                strokeWidth=0.5,
            )
        )
        d.add(
            _text(
                cx + 2, cy + r * frac * full_scale / top + 1, f"{frac * full_scale:g} %", size=5.5
            )
        )
    for name in LOS_DIRECTIONS:
        a = _LOS_ANGLE[name]
        d.add(
            Line(
                cx,
                cy,
                cx + r * math.cos(a),
                cy + r * math.sin(a),
                strokeColor=GRID,
                strokeWidth=0.5,
            )
        )
        d.add(
            _text(
                cx + (r + 9) * math.cos(a),
                cy + (r + 9) * math.sin(a) - 3,
                name,
                size=7,
                anchor="middle",
                color=INK,
                font=BOLD,
            )
        )
    for i, (key, label) in enumerate(keys):
        color, dash = SERIES[i % len(SERIES)]
        pts = []
        for name in LOS_DIRECTIONS:
            v = values.get(name, {}).get(key, math.nan)
            v = 0.0 if not math.isfinite(v) else v
            a = _LOS_ANGLE[name]
            pts += [cx + r * v / top * math.cos(a), cy + r * v / top * math.sin(a)]
        d.add(
            Polygon(pts, fillColor=None, strokeColor=color, strokeWidth=1.2, strokeDashArray=dash)
        )
        _legend_entry(d, 8 + 110 * i, 4, color, dash, label)
    d.add(_text(4, size + 20, title, size=8, color=INK, font=BOLD))
    return d


def _legend_entry(d: Drawing, x: float, y: float, color, dash, label: str) -> None:
    d.add(Line(x, y + 3, x + 14, y + 3, strokeColor=color, strokeWidth=1.4, strokeDashArray=dash))
    d.add(_text(x + 18, y, label, size=6.5, color=INK))


def progress_chart(
    dates: Sequence[str],
    series: Mapping[str, Sequence[float]],
    title: str,
    unit: str,
    better: str,
    width: float = 250.0,
    height: float = 150.0,
) -> Drawing:
    """One metric across sessions: a line per condition; NaN = not measured that day.

    ``better`` ("lower" or "higher") is printed on the chart so nobody has to guess.
    """
    pad_l, pad_r, pad_b, pad_t = 34.0, 8.0, 44.0, 28.0
    pw, ph = width - pad_l - pad_r, height - pad_b - pad_t
    d = Drawing(width, height)
    finite = [v for vals in series.values() for v in vals if math.isfinite(v)]
    lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
    ticks = nice_ticks(min(lo, 0.0) if lo >= 0 else lo, hi * 1.05 if hi > 0 else hi + 1, 5)
    y0, y1 = ticks[0], ticks[-1]
    n = len(dates)

    def to(i, v):
        x = pad_l + (pw * (i + 0.5) / n)
        return x, pad_b + ph * (v - y0) / (y1 - y0)

    d.add(Rect(pad_l, pad_b, pw, ph, fillColor=colors.white, strokeColor=GRID))
    for t in ticks:
        _, y = to(0, t)
        d.add(Line(pad_l, y, pad_l + pw, y, strokeColor=GRID, strokeWidth=0.4))
        d.add(_text(pad_l - 3, y - 2, _label(t), anchor="end"))
    step = max(1, math.ceil(n / 8))
    for i, label in enumerate(dates):
        if i % step == 0 or i == n - 1:
            x, _ = to(i, y0)
            d.add(_text(x, pad_b - 9, label, anchor="middle"))
    for k, (name, vals) in enumerate(series.items()):
        color, dash = SERIES[k % len(SERIES)]
        pts = [to(i, v) for i, v in enumerate(vals) if math.isfinite(v)]
        if len(pts) > 1:
            d.add(
                PolyLine(
                    [c for p in pts for c in p],
                    strokeColor=color,
                    strokeWidth=1.4,
                    strokeDashArray=dash,
                )
            )
        for x, y in pts:
            d.add(Circle(x, y, 1.8, fillColor=color, strokeColor=color))
        _legend_entry(d, 4 + (k % 2) * (width / 2), 18 - 10 * (k // 2) - 2, color, dash, name)
    d.add(_text(4, height - 10, title, size=8, color=INK, font=BOLD))
    d.add(
        _text(
            4,
            height - 19,
            f"{unit}, {better} is better" if unit else f"{better} is better",
            size=6.5,
        )
    )
    return d
