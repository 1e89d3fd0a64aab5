"""Live (sliding-window) sway figures and target scoring for the console and patient screen.

ADAPTER: the DSP issue (3) owns the sliding-window metrics and training-score primitives; until
they land on main this module computes the few figures the console shows with plain NumPy,
using the same definitions (DESIGN.md §5; mean removed; 95 % prediction ellipse with
chi-square(2) = 5.991). Swap the bodies for ``dsp`` calls when they are available.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

#: chi-square quantile, 2 degrees of freedom, 0.95: the 95 % prediction ellipse.
CHI2_95_2DOF = -2.0 * math.log(0.05)


def finite_xy(xy: np.ndarray) -> np.ndarray:
    """Rows of ``xy`` (n, 2) where both coordinates are finite."""
    return xy[np.isfinite(xy).all(axis=1)]


def mean_velocity(xy: np.ndarray, fs: float) -> float:
    """Path length / duration of ``xy`` (n, 2) sampled at ``fs`` Hz (unit/s); NaN if < 2."""
    xy = finite_xy(xy)
    if len(xy) < 2:
        return float("nan")
    return float(np.hypot(*np.diff(xy, axis=0).T).sum() / ((len(xy) - 1) / fs))


def ellipse_95(xy: np.ndarray, n_points: int = 65) -> tuple[float, np.ndarray]:
    """Area (unit^2) and outline (n_points, 2) of the 95 % prediction ellipse of ``xy``."""
    xy = finite_xy(xy)
    if len(xy) < 3:
        return float("nan"), np.full((n_points, 2), np.nan)
    centre = xy.mean(axis=0)
    cov = np.cov(xy, rowvar=False)
    values, vectors = np.linalg.eigh(cov)
    values = np.clip(values, 0.0, None)
    axes = np.sqrt(CHI2_95_2DOF * values)
    area = float(math.pi * axes[0] * axes[1])
    a = np.linspace(0, 2 * math.pi, n_points)
    outline = centre + (np.column_stack([axes[0] * np.cos(a), axes[1] * np.sin(a)]) @ vectors.T)
    return area, outline


@dataclasses.dataclass(frozen=True)
class Target:
    """A round target in the sway plane (mm or deg, like the stream)."""

    x: float
    y: float
    radius: float


def ring_of_targets(n: int, distance: float, radius: float) -> list[Target]:
    """``n`` targets evenly around the centre, the first one straight ahead (+AP)."""
    angles = math.pi / 2 - np.arange(n) * 2 * math.pi / n
    return [Target(round(distance * math.cos(a), 6), round(distance * math.sin(a), 6), radius) for a in angles]


class TargetScorer:
    """Scores reaching targets one after another: time in target, dwell, hits.

    The active target counts as hit once the cursor has stayed inside it for ``dwell_s``; then
    the next one becomes active (cycling).

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
        self.reset()

    def reset(self) -> None:
        self.active = 0
        self.hits = 0
        self.samples = 0
        self.samples_in_target = 0
        self._dwell_n = 0
        self.new_hits: list[int] = []
        self.hit_samples: list[int] = []

    @property
    def time_in_target(self) -> float:
        """Share (0-1) of scored samples spent inside the active target."""
        return self.samples_in_target / self.samples if self.samples else float("nan")

    @property
    def dwell(self) -> float:
        """Seconds the cursor has been inside the active target right now."""
        return self._dwell_n / self.fs

    def update(self, xy: np.ndarray) -> list[int]:
        """Score new samples ``xy`` (n, 2); return the indices of targets hit in them.

        :attr:`hit_samples` then holds, per hit, the index (in ``xy``) of the sample that
        completed the dwell, so events can carry sample time rather than screen time.
        """
        self.new_hits, self.hit_samples = [], []
        if not self.targets or len(xy) == 0:
            return self.new_hits
        need = max(1, int(round(self.dwell_s * self.fs)))
        start = 0
        while start < len(xy):
            t = self.targets[self.active]
            inside = np.hypot(xy[start:, 0] - t.x, xy[start:, 1] - t.y) <= t.radius
            # length of the current run of "inside" samples at each index (carrying the dwell
            # already accumulated until the first sample outside)
            count = np.cumsum(inside)
            run = count - np.maximum.accumulate(np.where(~inside, count, 0))
            run = run + np.where(np.cumsum(~inside) == 0, self._dwell_n, 0)
            reached = np.flatnonzero(run >= need)
            stop = len(xy) if not len(reached) else start + int(reached[0]) + 1
            seg = inside[:stop - start]
            self.samples += len(seg)
            self.samples_in_target += int(seg.sum())
            self._dwell_n = int(run[stop - start - 1])
            if len(reached):
                self.hits += 1
                self.new_hits.append(self.active)
                self.hit_samples.append(stop - 1)
                self.active = (self.active + 1) % len(self.targets)
                self._dwell_n = 0
            start = stop
        return self.new_hits


__all__ = ["CHI2_95_2DOF", "Target", "TargetScorer", "ellipse_95", "finite_xy", "mean_velocity",
           "ring_of_targets"]
