"""The test tasks (protocol kind ``test``): quiet and single-leg standing (mCTSIB, Romberg),
Limits of Stability, and joint-position reproduction. Each scores the trial with
:mod:`nmr_balance.protocols.scoring` and shows no live feedback where it would change the
result."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nmr_balance.protocols import scoring
from nmr_balance.protocols.geometry import (
    LosProfile,
    bearings,
)
from nmr_balance.protocols.tasks.base import DirectionTask, Task, reach

#: Seconds at the start of a standing trial that define where "centred" is for loss detection.
BASELINE_S = 1.0
#: LOS: samples before each cue that say where the patient started from (s).
PRE_CUE_S = 0.5
#: A LOS direction reached less than this (% of the target) does not count as a measured limit.
MIN_LOS_REACH_PCT = 20.0


def _mean_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


class Stand(Task):
    """Quiet standing (mCTSIB, Romberg, single-leg): sway metrics; ends early on loss of balance.

    Loss of balance = stepping off (no valid sample) or the sway leaving a circle of
    ``loss_radius_pct`` % of the mean LOS around where the patient stood during the first second.
    """

    feedback = False  # a sensory test: fixation target, no cursor

    def __init__(self, *args):
        super().__init__(*args)
        self.lost_at: float | None = None
        self.lost_reason = ""
        self._centre: np.ndarray | None = None

    def _on_chunk(self, t, xy):
        if self.lost_at is not None:
            return []
        if self._centre is None and self.t[-1] - self.t0 >= BASELINE_S:
            base = self.xy[self.t < self.t0 + BASELINE_S]
            if np.isfinite(base).all():
                self._centre = base.mean(axis=0)
        off = ~np.isfinite(xy).all(axis=1)
        far = np.zeros(len(t), bool)
        if self._centre is not None:
            with np.errstate(invalid="ignore"):
                far = np.hypot(*(xy - self._centre).T) > self.los.length(self.step.loss_radius_pct)
        bad = np.flatnonzero(off | far)
        if not len(bad):
            return []
        i = int(bad[0])
        self.lost_at = float(t[i])
        self.lost_reason = "stepped off the board" if off[i] else "sway left the stable area"
        return [
            (
                "balance_lost",
                {
                    "reason": self.lost_reason,
                    "after_s": self.lost_at - self.t0,
                    "t_s": self.lost_at,
                },
            )
        ]

    def feed(self, t, xy):
        events, end = super().feed(t, xy)
        if self.lost_at is not None and end is None:
            end = int(np.searchsorted(t, self.lost_at, side="right"))
        return events, end

    def result(self):
        t, xy = self.t, self.xy
        standing = xy if self.lost_at is None else xy[t < self.lost_at]
        out: dict[str, Any] = {
            "completed": self.lost_at is None,
            "time_standing_s": (self.lost_at - self.t0)
            if self.lost_at is not None
            else self.duration_s,
        }
        if self.lost_at is not None:
            out["loss_reason"] = self.lost_reason
        out.update(scoring.sway(standing, self.fs, self.unit))
        return out


class LimitsOfStability(DirectionTask):
    """Cue -> move fast and straight -> hold, in each direction, then back to the centre."""

    def __init__(self, *args):
        super().__init__(*args)
        s = self.step
        self.bearings = bearings(s.directions)
        self.targets = np.array([self.los.toward(b, s.distance_pct) for b in self.bearings])
        self.period = s.direction_s + s.return_s

    @property
    def duration_s(self):
        return len(self.bearings) * self.period

    def _phase(self, t: float) -> tuple[int, bool]:
        """(direction index, True while the target is out there, False while returning)."""
        k = int((t - self.t0) // self.period)
        return k, (t - self.t0 - k * self.period) < self.step.direction_s

    def _on_chunk(self, t, xy):
        k, _ = self._phase(float(t[-1]))
        return self._show_targets(k, self.los.length(8.0))

    def result(self):
        t, xy, per_direction = self.t, self.xy, []
        for k, (b, target) in enumerate(zip(self.bearings, self.targets)):
            t_cue = self.t0 + k * self.period
            # from half a second before the cue: where the patient stood when it came
            sel = (t >= t_cue - PRE_CUE_S) & (t < t_cue + self.step.direction_s)
            d = scoring.los_direction(
                xy[sel], self.fs, float(b), target, int(np.sum(sel & (t < t_cue)))
            )
            per_direction.append({"bearing_deg": float(b), **d})
        # the composite is over the directions with a lean (NaN when there was none at all)
        composite: dict[str, Any] = {
            key: _mean_finite([d[key] for d in per_direction]) for key in scoring.LOS_KEYS
        }
        composite["directions_moved"] = sum(bool(d["movement_detected"]) for d in per_direction)
        out = {"per_direction": per_direction, "composite": composite}
        # a direction the patient hardly moved in (< 20 % of the target) is a missed cue, not
        # their limit: such a profile would shrink every training target, so it is not kept
        pct = np.array([d["max_excursion_pct"] for d in per_direction])
        if len(pct) == 8 and np.all(np.isfinite(pct) & (pct >= MIN_LOS_REACH_PCT)):
            out["measured_los"] = LosProfile.measured(
                [d["max_excursion"] for d in per_direction], self.unit
            ).to_dict()
        else:
            out["measured_los_note"] = (
                f"not kept: some direction reached less than {MIN_LOS_REACH_PCT:g} % of its target"
            )
        return out

    def display(self, t):
        k, out = self._phase(t)
        if k >= len(self.bearings):
            return {}
        centre = self.targets[k] if out else np.zeros(2)
        return {"targets": [[*map(float, centre), self.los.length(8.0)]]}

    def cue(self, t):
        k, out = self._phase(t)
        k = min(k, len(self.bearings) - 1)
        shown = self.t0 + k * self.period
        if not out or t >= self.t0 + self.duration_s:
            return {"target_since_s": shown + self.step.direction_s}  # back to the centre
        x, y = self.targets[k]
        return {
            "target": (float(x), float(y)),
            "target_since_s": shown,
            "radius": self.los.length(8.0),
        }

    def extent(self):
        return reach(self.targets, self.los.length(8.0))


class Reposition(DirectionTask):
    """Joint-position (proprioception) test: show a target, hold it, back to neutral, then
    reproduce it with the eyes closed, and back to neutral; each direction ``rounds`` times.

    Each presentation lasts ``show_s + return_s + reproduce_s + return_s``. The *criterion* is
    where the patient held during the last ``measure_s`` of the showing, the *reproduction*
    where they held during the last ``measure_s`` of the reproducing (means of the samples);
    :func:`scoring.reposition` turns them into absolute, constant and variable error per
    direction. Directions come in a random order within each round (no anticipation).
    """

    def __init__(self, *args):
        super().__init__(*args)
        s = self.step
        rng = np.random.default_rng(self.seed)
        dirs = bearings(s.directions)
        self.bearings = np.concatenate([rng.permutation(dirs) for _ in range(s.rounds)])
        self.targets = np.array([self.los.toward(b, s.distance_pct) for b in self.bearings])
        self.period = s.show_s + s.return_s + s.reproduce_s + s.return_s
        self.radius = self.los.length(s.radius_pct)

    @property
    def duration_s(self):
        return len(self.bearings) * self.period

    def _phase(self, t: float) -> tuple[int, str, float]:
        """(presentation, phase, phase start s): phase is show, neutral, reproduce or back."""
        s = self.step
        k = int((t - self.t0) // self.period)
        k = min(max(k, 0), len(self.bearings) - 1)
        start = self.t0 + k * self.period
        for name, length in (
            ("show", s.show_s),
            ("neutral", s.return_s),
            ("reproduce", s.reproduce_s),
        ):
            if t < start + length:
                return k, name, start
            start += length
        return k, "back", start

    def _on_chunk(self, t, xy):
        return self._show_targets(int((float(t[-1]) - self.t0) // self.period), self.radius)

    def _held(self, start: float, length: float) -> np.ndarray:
        """Mean position over the last ``measure_s`` of the phase [start, start + length)."""
        t, xy = self.t, self.xy
        end = start + length
        sel = (t >= end - min(self.step.measure_s, length)) & (t < end)
        part = xy[sel]
        part = part[np.isfinite(part).all(axis=1)]
        return part.mean(axis=0) if len(part) else np.full(2, np.nan)

    def result(self):
        s = self.step
        criterion, reproduced = [], []
        for k in range(len(self.bearings)):
            start = self.t0 + k * self.period
            criterion.append(self._held(start, s.show_s))
            reproduced.append(self._held(start + s.show_s + s.return_s, s.reproduce_s))
        scores = scoring.reposition(np.array(criterion), np.array(reproduced), self.bearings)
        scores["unit"] = self.unit
        presentations = [
            {
                "bearing_deg": float(b),
                "target": [float(v) for v in tgt],
                "criterion": [float(v) for v in c],
                "reproduced": [float(v) for v in r],
            }
            for b, tgt, c, r in zip(self.bearings, self.targets, criterion, reproduced)
        ]
        return {"reposition": scores, "presentations": presentations}

    def display(self, t):
        k, phase, _ = self._phase(t)
        if phase == "show":
            return {"targets": [[*map(float, self.targets[k]), self.radius]]}
        if phase == "reproduce":  # no cursor: the patient must find the position by feel
            return {
                "prompt": "Eyes closed: go back to that position and hold it",
                "feedback": False,
            }
        return {"targets": [[0.0, 0.0, self.radius]], "prompt": "Back to the centre"}

    def cue(self, t):
        k, phase, since = self._phase(t)
        if phase in ("neutral", "back"):
            return {"target_since_s": since}
        x, y = self.targets[k]
        return {
            "target": (float(x), float(y)),
            "target_since_s": since,
            "radius": self.radius,
            "visible": phase == "show",
        }

    def extent(self):
        return reach(self.targets, self.radius)
