"""Where targets go: the patient's Limits of Stability, target layouts and moving-target paths.

Directions are compass bearings: 0 deg = forward (+y), 90 deg = right (+x), clockwise, so the
8 LOS directions are F, FR, R, BR, B, BL, L, FL. Positions in protocol files are percentages of
the LOS in that direction, so one layout fits every patient and sensor unit.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import numpy as np

DIRECTION_NAMES = (
    "forward",
    "forward_right",
    "right",
    "back_right",
    "back",
    "back_left",
    "left",
    "forward_left",
)
#: NeuroCom's theoretical LOS: 8 deg forward, 4.5 deg back, 8 deg to each side, about the
#: ankles, for a centre of gravity at 0.5527 x height.
LOS_ANGLES_DEG = {"forward": 8.0, "back": 4.5, "side": 8.0}
COG_HEIGHT_RATIO = 0.5527
#: Wobble board (tilt streams): a BAPS-type board bottoms out at about 15 deg each way.
BOARD_MAX_TILT_DEG = 15.0


def bearings(n: int) -> np.ndarray:
    """``n`` evenly spaced bearings (deg) starting forward, clockwise."""
    return np.arange(n) * 360.0 / n


def unit_vector(bearing_deg: np.ndarray | float) -> np.ndarray:
    """(x, y) unit vector(s) of a bearing: shape (2,) or (n, 2)."""
    b = np.radians(bearing_deg)
    return np.stack([np.sin(b), np.cos(b)], axis=-1)


@dataclasses.dataclass(frozen=True)
class LosProfile:
    """The patient's Limits of Stability: reach (in the stream unit) in the 8 directions.

    Attributes
    ----------
    reach : tuple of 8 floats
        Distance from the centre, mm (COP) or deg (tilt), for F, FR, R, BR, B, BL, L, FL.
    unit : str
        ``"mm"`` or ``"deg"``.
    origin : str
        ``"theoretical"`` (from height) or ``"measured"`` (a LOS test).
    """

    reach: tuple[float, ...]
    unit: str = "mm"
    origin: str = "theoretical"

    @classmethod
    def theoretical(cls, height_m: float = 1.70, unit: str = "mm") -> LosProfile:
        """LOS from height (COP, mm) or from the board's travel (tilt, deg).

        Diagonals lie on the ellipse through the forward/back and side reaches.
        """
        if unit == "deg":
            return cls(tuple([BOARD_MAX_TILT_DEG] * 8), "deg", "theoretical")
        h_mm = COG_HEIGHT_RATIO * height_m * 1000.0
        fwd, back, side = (
            h_mm * math.tan(math.radians(LOS_ANGLES_DEG[k])) for k in ("forward", "back", "side")
        )
        reach = []
        for b in bearings(8):
            ux, uy = unit_vector(b)
            ap = fwd if uy >= 0 else back
            reach.append(1.0 / math.hypot(ux / side, uy / ap))
        return cls(tuple(reach), unit, "theoretical")

    @classmethod
    def measured(cls, reach: list[float], unit: str) -> LosProfile:
        reach = [float(r) for r in reach]
        if len(reach) != 8 or not all(math.isfinite(r) and r > 0 for r in reach):
            raise ValueError(f"a measured LOS needs 8 positive reaches (F..FL), got {reach}")
        return cls(tuple(reach), unit, "measured")

    def at(self, bearing_deg: np.ndarray | float) -> np.ndarray:
        """Reach at any bearing (deg), interpolated linearly between the 8 directions."""
        b = np.mod(np.asarray(bearing_deg, dtype=float), 360.0)
        table = np.append(self.reach, self.reach[0])
        return np.interp(b, np.arange(9) * 45.0, table)

    @property
    def mean_reach(self) -> float:
        return float(np.mean(self.reach))

    def point(self, x_pct: float, y_pct: float) -> np.ndarray:
        """(x, y) in the stream unit of a position given in % of the LOS on each axis."""
        x_reach = self.reach[2] if x_pct >= 0 else self.reach[6]
        y_reach = self.reach[0] if y_pct >= 0 else self.reach[4]
        return np.array([x_pct / 100.0 * x_reach, y_pct / 100.0 * y_reach])

    def toward(self, bearing_deg: float, pct: float) -> np.ndarray:
        """(x, y) at ``pct`` % of the reach along a bearing."""
        return unit_vector(bearing_deg) * float(self.at(bearing_deg)) * pct / 100.0

    def length(self, pct: float) -> float:
        """A size (target radius, corridor width) of ``pct`` % of the mean reach."""
        return self.mean_reach * pct / 100.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "reach": list(self.reach),
            "unit": self.unit,
            "origin": self.origin,
            "directions": list(DIRECTION_NAMES),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LosProfile:
        return cls(
            tuple(float(r) for r in d["reach"]), d.get("unit", "mm"), d.get("origin", "measured")
        )


def target_layout(params: dict[str, Any], los: LosProfile, rng: np.random.Generator) -> np.ndarray:
    """Target centres (n, 2) in the stream unit for a ``targets`` step.

    ``return_to_centre`` puts a centre target after each one (tilt to a direction and back).
    """
    layout, dist = params["layout"], params["distance_pct"]
    if layout == "pattern":
        pts = np.array([los.point(x, y) for x, y in params["targets"]])
    elif layout == "left_right":
        pts = np.array(
            [los.toward(90.0 if i % 2 == 0 else 270.0, dist) for i in range(params["count"])]
        )
    elif layout == "front_back":
        pts = np.array(
            [los.toward(0.0 if i % 2 == 0 else 180.0, dist) for i in range(params["count"])]
        )
    elif layout == "directions":
        pts = np.array([los.toward(b, dist) for b in bearings(params["directions"])])
    else:  # random: bearings drawn so that no two targets in a row are close
        chosen = []
        for _ in range(params["count"]):
            while True:
                b = float(rng.uniform(0, 360))
                if not chosen or abs((b - chosen[-1] + 180) % 360 - 180) > 60:
                    break
            chosen.append(b)
        pts = np.array([los.toward(b, dist * rng.uniform(0.8, 1.0)) for b in chosen])
    if params["return_to_centre"]:
        pts = np.repeat(pts, 2, axis=0)
        pts[1::2] = 0.0
    return pts


def moving_target(
    params: dict[str, Any], los: LosProfile, seed: int
) -> Callable[[np.ndarray], np.ndarray]:
    """``path(t_s) -> (n, 2)`` position of the moving target of a ``tracking`` step.

    Sinusoid along one axis, a figure eight (Lissajous 1:2), or a random smooth path (a sum of
    a few slow sinusoids with random phases, band-limited to 1 / period).
    """
    amp, period, kind = params["amplitude_pct"], params["period_s"], params["path"]
    ax = los.point(amp, amp)  # amplitude on x (right) and y (forward)
    w = 2 * math.pi / period
    if kind == "sinusoid":
        col = 0 if params["axis"] == "x" else 1

        def path(t):
            out = np.zeros((len(t), 2))
            out[:, col] = ax[col] * np.sin(w * t)
            return out
    elif kind == "figure8":

        def path(t):
            return np.column_stack([ax[0] * np.sin(w * t), ax[1] * np.sin(2 * w * t)])
    else:
        rng = np.random.default_rng(seed)
        freqs = w * np.array([1.0, 0.61, 0.37])
        phases = rng.uniform(0, 2 * math.pi, (2, 3))
        weights = np.array([0.6, 0.3, 0.2])

        def path(t):
            t = np.asarray(t)[:, None]
            return np.column_stack(
                [
                    a * np.sum(weights * np.sin(freqs * t + ph), axis=1) / weights.sum() * 1.5
                    for a, ph in zip(ax, phases)
                ]
            )

    return lambda t: path(np.atleast_1d(np.asarray(t, dtype=float)))


def polyline_progress(points: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance (n,) of each sample to the polyline ``points`` (m, 2) and arc length (n,) of the
    nearest point on it (how far along the maze each sample is)."""
    a, b = points[:-1], points[1:]
    seg = b - a
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    start = np.concatenate([[0.0], np.cumsum(seg_len)[:-1]])
    rel = xy[:, None, :] - a[None]
    u = np.clip(np.sum(rel * seg[None], axis=2) / np.maximum(seg_len**2, 1e-12), 0.0, 1.0)
    nearest = a[None] + u[..., None] * seg[None]
    dist = np.hypot(*(xy[:, None, :] - nearest).transpose(2, 0, 1))
    k = np.argmin(dist, axis=1)
    rows = np.arange(len(xy))
    return dist[rows, k], start[k] + u[rows, k] * seg_len[k]
