"""The tasks a trial can be: what the patient sees, when the trial is over, how it is scored.

A task gets the trial's samples chunk by chunk (sample time ``t`` in s, sway ``xy`` in the stream
unit) through :meth:`Task.feed`, which returns the events it caused and, when the trial is over,
the index in the chunk where it ended. :meth:`Task.result` scores the whole trial with the DSP
primitives (:mod:`nmr_balance.protocols.scoring`). :meth:`Task.display` is what the patient
screen shows right now (targets, a moving target, a corridor), in the stream unit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nmr_balance.protocols import scoring
from nmr_balance.protocols.geometry import (
    LosProfile,
    bearings,
    moving_target,
    polyline_progress,
    target_layout,
)
from nmr_balance.protocols.schema import Step

#: Seconds at the start of a standing trial that define where "centred" is for loss detection.
BASELINE_S = 1.0
#: LOS: samples before each cue that say where the patient started from (s).
PRE_CUE_S = 0.5
#: A LOS direction reached less than this (% of the target) does not count as a measured limit.
MIN_LOS_REACH_PCT = 20.0


def _mean_finite(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


class Task:
    """Base class: accumulates the trial's samples; subclasses decide events, end and scores.

    Attributes
    ----------
    feedback : bool
        Whether the patient sees their own sway (cursor, targets) during the trial. Sensory
        tests (mCTSIB, Romberg, single-leg stance) show a fixed fixation target instead, as
        Biodex and NeuroCom do: live feedback would change an eyes-open result.
    """

    feedback = True

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

    def cue(self, t: float) -> dict[str, Any]:
        """What the patient is asked to do at sample time ``t``, as
        :class:`~nmr_balance.instruction.Instruction` fields (``target``, ``target_since_s``,
        ``radius``, ``moving``, ``visible``); empty: stand quietly at the centre since the trial
        began."""
        return {"target_since_s": self.t0}

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


def _reach(points: np.ndarray, radius: float) -> float:
    points = np.asarray(points, float).reshape(-1, 2)
    return float(np.hypot(points[:, 0], points[:, 1]).max() + radius) if len(points) else 0.0


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
        return _reach(self.targets, self.los.length(8.0))


class Targets(Task):
    """Reach targets one after another: a hit is entering and holding for ``dwell_s``."""

    def __init__(self, *args):
        super().__init__(*args)
        rng = np.random.default_rng(self.seed)
        self.points = target_layout(self.step.params, self.los, rng)
        self.radius = self.los.length(self.step.radius_pct)
        self.current = -1
        self.shown_at = math.nan
        self.outcomes: list[dict[str, Any]] = []
        self._owner: list[np.ndarray] = []  # index of the target shown, per sample

    @property
    def duration_s(self):
        return len(self.points) * self.step.timeout_s

    def _show(self, t: float) -> list[tuple[str, dict]]:
        self.current += 1
        self.shown_at = t
        self._detector = scoring.dwell_detector(self.fs, self.step.dwell_s)
        self._fed = 0
        if self.current >= len(self.points):
            return []
        x, y = self.points[self.current]
        return [
            (
                "target_shown",
                {
                    "target": self.current,
                    "x": float(x),
                    "y": float(y),
                    "radius": self.radius,
                    "t_s": t,
                },
            )
        ]

    def start(self, t0):
        super().start(t0)
        return self._show(t0)

    def feed(self, t, xy):
        self._append(t, xy)
        events, owner = [], np.full(len(t), -1)
        i = 0
        while i < len(t) and self.current < len(self.points):
            shown = self.current
            deadline = self.shown_at + self.step.timeout_s
            stop = int(np.searchsorted(t, deadline, side="left"))  # first sample past the deadline
            hits = self._detector.update(
                scoring.inside(xy[i:stop], self.points[shown], self.radius)
            )
            if len(hits):
                k = i + int(hits[0]) - self._fed
                end_t, next_i = float(t[k]), k + 1
                outcome = {"target": shown, "hit": True, "time_to_hit_s": end_t - self.shown_at}
            elif stop < len(t):
                end_t, next_i, outcome = deadline, stop, {"target": shown, "hit": False}
            else:
                self._fed += len(t) - i
                owner[i:] = shown
                break
            owner[i:next_i] = shown
            i = next_i
            self.outcomes.append(outcome)
            events.append(
                ("target_hit" if outcome["hit"] else "target_missed", {**outcome, "t_s": end_t})
            )
            events += self._show(end_t)
        self._owner.append(owner)
        return events, (i if self.current >= len(self.points) else None)

    def result(self):
        hits = [o for o in self.outcomes if o["hit"]]
        owner = np.concatenate(self._owner)[: len(self.t)] if self._owner else np.empty(0, int)
        shown = owner >= 0
        centres = self.points[np.clip(owner, 0, len(self.points) - 1)]
        inside = scoring.time_in_target_pct(self.xy[shown], centres[shown], self.radius, self.fs)
        return {
            "targets": len(self.points),
            "hits": len(hits),
            "misses": len(self.outcomes) - len(hits),
            "success_pct": 100.0 * len(hits) / len(self.points),
            "mean_time_to_hit_s": float(np.mean([h["time_to_hit_s"] for h in hits]))
            if hits
            else math.nan,
            "time_in_target_pct": inside,
            "outcomes": self.outcomes,
        }

    def display(self, t):
        if 0 <= self.current < len(self.points):
            return {"targets": [[*map(float, self.points[self.current]), self.radius]]}
        return {}

    def cue(self, t):
        if not 0 <= self.current < len(self.points):
            return {"target_since_s": self.shown_at}
        x, y = self.points[self.current]
        return {
            "target": (float(x), float(y)),
            "target_since_s": self.shown_at,
            "radius": self.radius,
        }

    def extent(self):
        return _reach(self.points, self.radius)


class Tracking(Task):
    """Follow a moving target (sinusoid, figure eight, random smooth path)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.path = moving_target(self.step.params, self.los, self.seed)
        self.radius = self.los.length(self.step.radius_pct)

    def result(self):
        ref = self.path(self.t - self.t0)
        err = scoring.tracking_error(self.xy, ref, self.fs)
        inside = scoring.time_in_target_pct(self.xy, ref, self.radius, self.fs)
        return {**err, "time_in_target_pct": inside, "success_pct": inside}

    def display(self, t):
        return {"targets": [[*map(float, self.path(t - self.t0)[0]), self.radius]]}

    def cue(self, t):
        x, y = self.path(t - self.t0)[0]
        return {
            "target": (float(x), float(y)),
            "target_since_s": self.t0,
            "radius": self.radius,
            "moving": True,
        }

    def extent(self):
        return _reach(self.path(np.arange(0.0, self.duration_s, 0.05)), self.radius)


class Maze(Task):
    """Steer along a corridor without touching its walls; ends when the end is reached."""

    def __init__(self, *args):
        super().__init__(*args)
        self.points = np.array([self.los.point(x, y) for x, y in self.step.maze])
        self.half_width = self.los.length(self.step.width_pct) / 2
        self.length = float(np.sum(np.hypot(*np.diff(self.points, axis=0).T)))
        self.progress = 0.0
        self.touches = 0
        self._inside = True
        self._inside_n = 0

    def feed(self, t, xy):
        self._append(t, xy)
        dist, along = polyline_progress(self.points, np.nan_to_num(xy, nan=1e9))
        inside = dist <= self.half_width
        self._inside_n += int(inside.sum())
        prev = np.concatenate([[self._inside], inside[:-1]])
        self.touches += int(np.sum(prev & ~inside))
        self._inside = bool(inside[-1])
        end = None
        for i in np.flatnonzero(inside):
            # progress only along the corridor, never by a jump across a bend
            if along[i] <= self.progress + 2 * self.half_width:
                self.progress = max(self.progress, float(along[i]))
            if self.progress >= self.length - self.half_width:
                end = int(i) + 1
                break
        timeout = np.flatnonzero(t >= self.t0 + self.duration_s)
        if end is None and len(timeout):
            end = int(timeout[0])
        return [], end

    def result(self):
        n = max(len(self.t), 1)
        completed = self.progress >= self.length - self.half_width
        progress_pct = 100.0 * min(1.0, self.progress / self.length) if not completed else 100.0
        inside_pct = 100.0 * min(self._inside_n, n) / n
        return {
            "completed": completed,
            "progress_pct": progress_pct,
            "wall_touches": self.touches,
            "time_s": len(self.t) / self.fs,
            "inside_pct": inside_pct,
            "success_pct": progress_pct * inside_pct / 100.0,
        }

    def display(self, t):
        return {"corridor": self.points.tolist(), "half_width": self.half_width}

    def cue(self, t):
        # a point a corridor's width ahead along the centre line: where to steer next
        seg = np.hypot(*np.diff(self.points, axis=0).T)
        along = min(self.progress + 2 * self.half_width, self.length)
        k = min(int(np.searchsorted(np.cumsum(seg), along)), len(seg) - 1)
        u = (along - float(np.sum(seg[:k]))) / seg[k] if seg[k] > 0 else 1.0
        x, y = self.points[k] + (self.points[k + 1] - self.points[k]) * min(1.0, u)
        return {
            "target": (float(x), float(y)),
            "target_since_s": self.t0,
            "radius": self.half_width,
            "moving": True,
        }

    def extent(self):
        return _reach(self.points, self.half_width)


class Circles(Task):
    """Trace circles (BAPS board) clockwise or counter-clockwise: count turns, score quality."""

    def __init__(self, *args):
        super().__init__(*args)
        self.radius = self.los.length(self.step.circle_radius_pct)
        self.sign = 1.0 if self.step.direction == "cw" else -1.0

    def _turns(self) -> tuple[np.ndarray, np.ndarray]:
        """Turns so far at each sample far enough from the centre, and those samples' indices.

        The bearing grows clockwise (atan2(x, y)); only turns in the prescribed direction count.
        Samples within a third of the radius are skipped: near the centre the bearing of mere
        sway spins wildly and would count turns nobody made.
        """
        xy = self.xy
        with np.errstate(invalid="ignore"):
            far = np.flatnonzero(np.hypot(xy[:, 0], xy[:, 1]) >= self.radius / 3)
        if not len(far):
            return np.zeros(1), np.zeros(1, int)
        bearing = np.unwrap(np.arctan2(xy[far, 0], xy[far, 1]))
        return self.sign * (bearing - bearing[0]) / (2 * np.pi), far

    def feed(self, t, xy):
        events, end = super().feed(t, xy)
        turns, index = self._turns()
        done = np.flatnonzero(turns >= self.step.circles)
        if end is None and len(done):
            end = max(0, int(index[done[0]]) - (len(self.t) - len(t)) + 1)
        return events, end

    def result(self):
        turns = float(np.max(self._turns()[0]))
        quality = scoring.circle_quality(self.xy, self.radius)
        counted = int(max(0.0, math.floor(turns + 1e-9)))
        return {
            "circles": counted,
            "required": self.step.circles,
            "direction": self.step.direction,
            "success_pct": min(100.0, 100.0 * counted / self.step.circles),
            **quality,
        }

    def display(self, t):
        phase = self.sign * 2 * np.pi * (t - self.t0) / self.step.period_s
        pace = [self.radius * math.sin(phase), self.radius * math.cos(phase)]
        return {"guide_circle": self.radius, "targets": [[*pace, self.los.length(8.0)]]}

    def cue(self, t):
        x, y, radius = self.display(t)["targets"][0]
        return {"target": (x, y), "target_since_s": self.t0, "radius": radius, "moving": True}

    def extent(self):
        return self.radius + self.los.length(8.0)


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
        return _reach(self.targets, self.radius)


TASK_TYPES: dict[str, type[Task]] = {
    "stand": Stand,
    "single_leg": Stand,
    "pause": Task,
    "los": LimitsOfStability,
    "targets": Targets,
    "tracking": Tracking,
    "maze": Maze,
    "circles": Circles,
    "reposition": Reposition,
}
