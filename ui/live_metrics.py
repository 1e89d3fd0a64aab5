"""Live figures and target scoring for the console and patient screen, on the DSP primitives.

The numbers come from :mod:`dsp` (sliding-window sway: :class:`dsp.live.SlidingSway`; whole
trials: :func:`nmr_balance.results.sway_metrics`; dwell hits: :class:`dsp.training.DwellDetector`), so
the console shows what the reports compute. This module only adds what a screen needs: the
ellipse outline to draw and the cycling from one target to the next.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from dsp.metrics import CHI2_95_2DOF
from dsp.training import DwellDetector, inside_target
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
    """A round target in the sway plane (mm or deg, like the stream)."""

    x: float
    y: float
    radius: float


def ring_of_targets(n: int, distance: float, radius: float) -> list[Target]:
    """``n`` targets evenly around the centre, the first one straight ahead (+AP)."""
    angles = math.pi / 2 - np.arange(n) * 2 * math.pi / n
    return [
        Target(round(distance * math.cos(a), 6), round(distance * math.sin(a), 6), radius)
        for a in angles
    ]


class TargetScorer:
    """Scores reaching targets one after another: time in target, dwell, hits.

    The active target counts as hit once the cursor has stayed inside it for ``dwell_s``
    (:class:`dsp.training.DwellDetector`); then the next one becomes active (cycling) and the
    samples after the hit are scored against it.

    Parameters
    ----------
    targets : list of Target
    dwell_s : float
        Seconds inside a target that make a hit.
    fs : float
        Sample rate, Hz.
    """

    def __init__(self, targets: list[Target], dwell_s: float, fs: float):
        self.targets = list(targets)
        self.dwell_s, self.fs = dwell_s, fs
        self._detector = DwellDetector(fs, dwell_s)
        self.reset()

    def reset(self) -> None:
        self.active = 0
        self.hits = 0
        self.samples = 0
        self.samples_in_target = 0
        self._fed = 0  # samples the detector has seen for the active target
        self._detector.reset()
        self.new_hits: list[int] = []
        self.hit_samples: list[int] = []

    @property
    def time_in_target(self) -> float:
        """Share (0-1) of scored samples spent inside the active target."""
        return self.samples_in_target / self.samples if self.samples else float("nan")

    @property
    def dwell(self) -> float:
        """Seconds the cursor has been inside the active target right now."""
        return self._detector.held_s

    def update(self, xy: np.ndarray) -> list[int]:
        """Score new samples ``xy`` (n, 2); return the indices of targets hit in them.

        :attr:`hit_samples` then holds, per hit, the index (in ``xy``) of the sample that
        completed the dwell, so events can carry sample time rather than screen time.
        """
        self.new_hits, self.hit_samples = [], []
        start = 0
        while self.targets and start < len(xy):
            t = self.targets[self.active]
            inside = inside_target(xy[start:], (t.x, t.y), t.radius)
            hits = self._detector.update(inside)
            used = len(inside) if not len(hits) else int(hits[0]) - self._fed + 1
            self.samples += used
            self.samples_in_target += int(np.count_nonzero(inside[:used]))
            if not len(hits):
                self._fed += used
                break
            self.hits += 1
            self.new_hits.append(self.active)
            self.hit_samples.append(start + used - 1)
            self.active = (self.active + 1) % len(self.targets)
            self._detector.reset()
            self._fed = 0
            start += used
        return self.new_hits


__all__ = [
    "CHI2_95_2DOF",
    "Target",
    "TargetScorer",
    "ellipse_outline",
    "ring_of_targets",
    "whole_trial_figures",
]
