"""Live figures for the console and the patient screen, on the core's computations.

The numbers come from :mod:`dsp` (sliding-window sway: :class:`dsp.live.SlidingSway`) and the
core (whole trials: :func:`nmr_balance.results.sway_metrics`), so the console shows what the
reports compute. This module only adds what a screen needs: the ellipse outline to draw and
:class:`Target`, a target to draw. Targets are scored in one place, the protocol engine
(:class:`nmr_balance.protocols.tasks.training.Targets`): the screens draw the targets it shows.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dsp.metrics import CHI2_95_2DOF
from nmr_balance.results import sway_metrics


def ellipse_outline(figures: dict, n_points: int = 65, suffix: str = "") -> np.ndarray:
    """Outline (n_points, 2) of the 95 % ellipse described by ``figures``.

    Uses ``mean_x``, ``mean_y``, ``ellipse_major_95{suffix}``, ``ellipse_minor_95{suffix}``
    (semi-axes) and ``ellipse_angle_deg`` (major axis from +x towards +y); all NaN when any is
    missing or not finite.
    """
    keys = (
        "mean_x",
        "mean_y",
        f"ellipse_major_95{suffix}",
        f"ellipse_minor_95{suffix}",
        "ellipse_angle_deg",
    )
    values = [figures.get(k, math.nan) for k in keys]
    if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
        return np.full((n_points, 2), np.nan)
    cx, cy, a, b, angle = values
    th = np.linspace(0, 2 * math.pi, n_points)
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    u, v = a * np.cos(th), b * np.sin(th)
    return np.column_stack([cx + c * u - s * v, cy + s * u + c * v])


def whole_trial_figures(xy: np.ndarray, fs: float, unit: str) -> dict[str, float]:
    """The time-domain sway metrics of a whole trial (:func:`nmr_balance.results.sway_metrics`,
    its gap policy); empty when the trial is too short or too gappy to score."""
    return dict(sway_metrics(xy, fs, unit, groups=("time",)))


@dataclasses.dataclass(frozen=True)
class Target:
    """A round target to draw in the sway plane (mm or deg, like the stream): a protocol
    display's ``[x, y, radius]``."""

    x: float
    y: float
    radius: float


__all__ = [
    "CHI2_95_2DOF",
    "Target",
    "ellipse_outline",
    "whole_trial_figures",
]
