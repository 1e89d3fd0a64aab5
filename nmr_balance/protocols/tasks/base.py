"""The base of every task: the trial's samples so far, its events, end, scores and display
(see :mod:`nmr_balance.protocols.tasks`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nmr_balance.protocols.geometry import (
    LosProfile,
)
from nmr_balance.protocols.schema import Step


class Task:
    """Base class: accumulates the trial's samples; subclasses decide events, end and scores.

    Attributes
    ----------
    feedback : bool
        Whether the patient sees their own sway (cursor, targets) during the trial. Sensory
        tests (mCTSIB, Romberg, single-leg stance) show a fixed fixation target instead, as
        Biodex and NeuroCom do: live feedback would change an eyes-open result.
    ends_on_its_own : bool
        Whether the trial ends as soon as its goal is met (every target, the maze's end, the
        circles): its duration is then the most it may last, not a time it will take.
    """

    feedback = True
    ends_on_its_own = False

    def __init__(self, step: Step, los: LosProfile, fs: float, unit: str, seed: int):
        self.step, self.los, self.fs, self.unit, self.seed = step, los, fs, unit, seed
        # the trial's samples, in storage that doubles when full (appending stays O(1))
        self._store = np.empty((max(16, int(fs * step.duration_s) + 1), 3))
        self._n = 0
        self.t0 = math.nan

    # --- the samples so far ----------------------------------------------------------------
    def _append(self, t: np.ndarray, xy: np.ndarray) -> None:
        need = self._n + len(t)
        if need > len(self._store):
            grown = np.empty((max(need, 2 * len(self._store)), 3))
            grown[: self._n] = self._store[: self._n]
            self._store = grown
        self._store[self._n : need, 0] = t
        self._store[self._n : need, 1:] = xy
        self._n = need

    @property
    def t(self) -> np.ndarray:
        """Sample times of the trial so far (s), shape (n,)."""
        return self._store[: self._n, 0]

    @property
    def xy(self) -> np.ndarray:
        """Sway of the trial so far (stream unit), shape (n, 2)."""
        return self._store[: self._n, 1:]

    @property
    def duration_s(self) -> float:
        """Planned length of the trial (s); tasks that end on their own may end sooner."""
        return self.step.duration_s

    def start(self, t0: float) -> list[tuple[str, dict]]:
        self.t0 = t0
        return []

    def feed(self, t: np.ndarray, xy: np.ndarray) -> tuple[list[tuple[str, dict]], int | None]:
        """Take one chunk; return (events as (kind, data), index where the trial ended or None)."""
        self._append(t, xy)
        end = np.flatnonzero(t >= self.t0 + self.duration_s)
        return self._on_chunk(t, xy), (int(end[0]) if len(end) else None)

    def _on_chunk(self, t: np.ndarray, xy: np.ndarray) -> list[tuple[str, dict]]:
        return []

    def truncate(self, n_last: int) -> None:
        """Drop samples after the end of the trial (the rest of the last chunk)."""
        if n_last:
            self._n -= n_last

    def result(self) -> dict[str, Any]:
        return {}

    def display(self, t: float) -> dict[str, Any]:
        return {}

    def time_left(self, t: float) -> dict[str, Any]:
        """How long the trial still runs at sample time ``t`` (s), as display fields:
        ``remaining_s`` for a trial of a set length; for a task that ends on its own, ``up_to_s``
        (the most it may still last, never a countdown it does not keep) and what it counts
        where it counts (:class:`~.training.Targets`: ``target_number`` of ``target_count``,
        ``target_left_s`` for the target shown)."""
        left = max(0.0, self.t0 + self.duration_s - t)
        return {"up_to_s": left} if self.ends_on_its_own else {"remaining_s": left}

    def cue(self, t: float) -> dict[str, Any]:
        """What the patient is asked to do at sample time ``t``, as
        :class:`~nmr_balance.instruction.Instruction` fields (``target``, ``target_since_s``,
        ``radius``, ``moving``, ``visible``); empty: stand quietly at the centre since the trial
        began."""
        return {"target_since_s": self.t0}

    def _moving_target(self, point, radius: float) -> dict[str, Any]:
        """:meth:`cue` of a target that moves from the trial's start on (tracking, maze,
        circles): follow it, now at ``point`` (x, y, stream unit), of ``radius``."""
        x, y = point
        return {
            "target": (float(x), float(y)),
            "target_since_s": self.t0,
            "radius": radius,
            "moving": True,
        }

    def extent(self) -> float:
        """Farthest reach (stream unit) of anything :meth:`display` may show, edges included:
        the patient screen scales to it before the trial starts. 0: nothing is shown."""
        return 0.0


class DirectionTask(Task):
    """A task that shows one target per direction in turn, one every ``period`` s: ``bearings``
    (deg, one per presentation) and ``targets`` (shape (n, 2), stream unit) are set by the
    subclass (Limits of Stability, joint-position reproduction)."""

    bearings: np.ndarray
    targets: np.ndarray
    period: float
    _shown = -1  # the last presentation announced

    def _show_targets(self, k: int, radius: float) -> list[tuple[str, dict]]:
        """A ``target_shown`` event for each presentation up to ``k`` not announced yet."""
        events = []
        while self._shown < min(k, len(self.bearings) - 1):
            self._shown += 1
            x, y = self.targets[self._shown]
            shown = {
                "target": self._shown,
                "bearing_deg": float(self.bearings[self._shown]),
                "x": float(x),
                "y": float(y),
                "radius": radius,
                "t_s": self.t0 + self._shown * self.period,
            }
            events.append(("target_shown", shown))
        return events


def reach(points: np.ndarray, radius: float) -> float:
    """Farthest point of ``points`` (shape (n, 2) or (2,)) from the centre plus ``radius``:
    what :meth:`Task.extent` returns for targets of that radius (stream unit)."""
    points = np.asarray(points, float).reshape(-1, 2)
    return float(np.hypot(points[:, 0], points[:, 1]).max() + radius) if len(points) else 0.0
