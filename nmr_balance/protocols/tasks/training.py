"""The training tasks (protocol kind ``training``): targets to reach and hold, a moving target
to track, a maze to follow, circles to trace. Each reports hits, time in target or progress
(:class:`nmr_balance.results.TrainingScores`) that the protocol's progression rule reads."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nmr_balance.protocols import scoring
from nmr_balance.protocols.geometry import (
    moving_target,
    polyline_progress,
    target_layout,
)
from nmr_balance.protocols.tasks.base import Task, reach


class Targets(Task):
    """Reach targets one after another: a hit is entering and holding for ``dwell_s``."""

    ends_on_its_own = True  # after the last target, hit or timed out

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

    def time_left(self, t):
        out = super().time_left(t)
        if 0 <= self.current < len(self.points):
            out.update(
                target_number=self.current + 1,
                target_count=len(self.points),
                target_left_s=max(0.0, self.shown_at + self.step.timeout_s - t),
            )
        return out

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
        return reach(self.points, self.radius)


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
        return self._moving_target(self.path(t - self.t0)[0], self.radius)

    def extent(self):
        return reach(self.path(np.arange(0.0, self.duration_s, 0.05)), self.radius)


class Maze(Task):
    """Steer along a corridor without touching its walls; ends when the end is reached."""

    ends_on_its_own = True

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
        ahead = self.points[k] + (self.points[k + 1] - self.points[k]) * min(1.0, u)
        return self._moving_target(ahead, self.half_width)

    def extent(self):
        return reach(self.points, self.half_width)


class Circles(Task):
    """Trace circles (BAPS board) clockwise or counter-clockwise: count turns, score quality."""

    ends_on_its_own = True  # once the circles asked for are traced

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
        return self._moving_target((x, y), radius)

    def extent(self):
        return self.radius + self.los.length(8.0)
