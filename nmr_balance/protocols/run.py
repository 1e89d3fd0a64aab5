"""The protocol state machine: Qt-free, driven by the processed stream's own clock.

:class:`ProtocolRun` is fed :class:`~nmr_balance.stream.SampleBlock`\\ s of the sway stream
(``x, y[, fz]``) — from a ring :class:`~nmr_balance.ring.Reader`, a replay or a test — and
advances through the planned trials using *sample time* (the device clock, or counter / fs), never
wall time. So the same run behaves identically headless, in tests at many times real time, and
under the UI. Each planned trial goes countdown -> trial -> rest. Events (:mod:`.events`) tell
the UI and the recorder what happened.

Device trouble is never scored silently: a ``lost`` status, a gap in the sample counter longer
than ``max_gap_s`` or the source ending during a trial emit ``trial_interrupted``; the run then
pauses and, when samples flow again, starts that trial over (``resumed``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

from nmr_balance.errors import DataFormatError
from nmr_balance.instruction import Instruction
from nmr_balance.protocols.events import Event
from nmr_balance.protocols.geometry import LosProfile
from nmr_balance.protocols.library import ProtocolFacts
from nmr_balance.protocols.scaling import TargetScaling
from nmr_balance.protocols.schema import Protocol, Step
from nmr_balance.protocols.tasks import TASK_TYPES, Task
from nmr_balance.record import Condition, Trial, TrialStatus, now_iso
from nmr_balance.results import TrialResults
from nmr_balance.source import Status
from nmr_balance.stream import SampleBlock, StreamInfo, sample_time
from nmr_balance.summary import ProtocolBlock, TrialSummary, protocol_block

_LOSS_STATUSES = (Status.LOST, Status.RECONNECTING)


@dataclasses.dataclass(frozen=True)
class PlannedTrial:
    """One trial to run: a step, its repetition number (1-based)."""

    number: int
    step: Step
    repetition: int


@dataclasses.dataclass
class TrialResult:
    """What one trial produced. ``status`` is ``complete``, ``lost_balance``, ``interrupted``
    (device trouble; not scored) or ``aborted`` (stopped by the therapist; not scored)."""

    number: int
    label: str
    task: str
    condition: dict[str, str]
    repetition: int
    attempt: int
    status: str
    t_start_s: float
    t_end_s: float
    scores: dict[str, Any]
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrialResult:
        """The result an event carries (:meth:`to_dict`), back."""
        return cls(**{f.name: d[f.name] for f in dataclasses.fields(cls) if f.name in d})

    @property
    def scored(self) -> bool:
        """Ran to its end as planned (a fall ends a standing trial as planned: it is scored)."""
        return self.status in ("complete", "lost_balance")

    @property
    def record_status(self) -> TrialStatus:
        """The trial's status as the record keeps it: a scored trial is complete (a fall is its
        ``outcome``), else interrupted or aborted."""
        return TrialStatus.COMPLETE if self.scored else TrialStatus.parse(self.status)

    def typed(self, level: int | None, measured: TrialResults | None = None) -> TrialResults:
        """This trial's typed results, as the record stores them.

        Parameters
        ----------
        level : int or None
            The run's level (1-based; None for tests).
        measured : TrialResults, optional
            What the recorder measured of the stored samples (recording facts, sway metrics);
            without it (a run not recorded) the task's own sway metrics stand for them.
        """
        if not self.scored:  # device trouble or the therapist: kept, never scored
            return unscored(self.status, self.reason, level, measured)
        if measured is None:
            from dsp.metrics import METRIC_UNITS

            measured = TrialResults(
                sway={k: float(v) for k, v in self.scores.items() if k in METRIC_UNITS}
            )
        return measured.with_scores(self.scores, self.status, level)


def unscored(
    status: str, reason: str, level: int | None, measured: TrialResults | None = None
) -> TrialResults:
    """The results of a trial kept but never scored (``interrupted``: device trouble;
    ``aborted``: the therapist or the run stopping): what the recorder ``measured`` of its
    samples, the level, and why it stopped."""
    return dataclasses.replace(
        measured or TrialResults(), level=level, outcome=status, reason=reason
    )


def planned_seconds(protocol: Protocol, level: int | None = None) -> float:
    """Length of a run of ``protocol`` (s) if no trial ends early or is repeated."""
    los = LosProfile.theoretical()
    total = 0.0
    for step in protocol.steps_at(level):
        task = TASK_TYPES[step.task](step, los, 100.0, los.unit, 0)
        total += step.repetitions * (step.countdown_s + task.duration_s + step.rest_s)
    return total


class ProtocolRun:
    """Runs one protocol on one stream.

    Parameters
    ----------
    protocol : Protocol
    info : StreamInfo
        The processed (sway) stream: channels ``x``, ``y`` in mm or deg.
    level : int, optional
        Difficulty level, 1-based (default 1) for protocols that have levels; None for the
        others (tests have no level).
    los : LosProfile, optional
        The patient's measured LOS; default: theoretical, from ``height_m``.
    height_m : float
        Patient height for the theoretical LOS.
    seed : int
        Random order and random targets (same seed, same run).
    max_gap_s : float
        A longer gap in the sample counter interrupts the trial.
    scaling : TargetScaling, optional
        Bigger targets, longer dwell (a patient preset), for a **training** protocol; a test is
        standardized and never scaled (:attr:`scaling` is then None). Default: as defined.
    """

    def __init__(
        self,
        protocol: Protocol,
        info: StreamInfo,
        *,
        level: int | None = None,
        los: LosProfile | None = None,
        height_m: float = 1.70,
        seed: int = 0,
        max_gap_s: float = 0.25,
        scaling: TargetScaling | None = None,
    ):
        level = protocol.check_level(level)
        self.protocol, self.info, self.level, self.seed = protocol, info, level, seed
        if not {"x", "y"} <= set(info.channel_names) or info.units[info.index("x")] not in (
            "mm",
            "deg",
        ):
            raise DataFormatError(
                f"stream {info.source}",
                f"channels {', '.join(f'{c.name} ({c.unit})' for c in info.channels)} "
                "are not a sway stream (x, y in mm or deg)",
                "Run protocols on the processed stream (pipeline.info / pipeline.processed), not the raw one",
            )
        self.unit = info.units[info.index("x")]
        self._cols = [info.index("x"), info.index("y")]
        self.los = los or LosProfile.theoretical(height_m, self.unit)
        self.fs = float(info.fs)
        self.max_gap_s = max_gap_s
        rng = np.random.default_rng(seed)
        #: the target scaling the run applies (None: a test, never scaled)
        self.scaling = (scaling or TargetScaling()) if protocol.kind == "training" else None
        steps = protocol.steps_at(level)
        if self.scaling is not None and not self.scaling.standard:
            steps = [self.scaling.apply(s) for s in steps]
        if protocol.random_order:
            steps = [steps[i] for i in rng.permutation(len(steps))]
        self.plan = [PlannedTrial(0, s, r) for s in steps for r in range(1, s.repetitions + 1)]
        self.plan = [dataclasses.replace(p, number=i) for i, p in enumerate(self.plan)]
        self.results: list[TrialResult] = []
        self.started = now_iso()
        self.index = 0
        self.attempt = 1
        self.phase = "waiting"  # waiting, countdown, trial, rest, paused, done, aborted
        self.phase_end = math.nan
        self.task: Task | None = None
        self.t_now = math.nan
        self._last_counter: int | None = None
        self._retry = False

    # --- inputs ----------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        return self.phase in ("done", "aborted")

    @property
    def total_s(self) -> float:
        """Planned length of the run in sample time (s), without retries (for progress bars)."""
        return planned_seconds(self.protocol, self.level)

    def feed(self, block: SampleBlock) -> list[Event]:
        """Advance with the next samples of the sway stream; returns the events they caused."""
        events: list[Event] = []
        if len(block) == 0 or self.finished:
            return events
        t = sample_time(block, self.info)
        xy = block.data[:, self._cols]
        # split at every counter gap too long to bridge: each is handled at its own sample
        prev = block.counter[0] - 1 if self._last_counter is None else self._last_counter
        missing = np.diff(np.concatenate([[prev], block.counter])) - 1
        cuts = np.flatnonzero(missing / self.fs > self.max_gap_s)
        self._last_counter = int(block.counter[-1])
        for start, stop in zip(np.r_[0, cuts], np.r_[cuts, len(t)]):
            if start in cuts and self.phase in ("trial", "countdown", "rest"):
                n = int(missing[start])
                events += self._interrupt(
                    float(t[start]), f"{n} samples missing ({n / self.fs:.2f} s)"
                )
            if stop > start:
                events += self._run_segment(t[start:stop], xy[start:stop])
        self.t_now = float(t[-1])
        return events

    def _run_segment(self, t: np.ndarray, xy: np.ndarray) -> list[Event]:
        """Consume gap-free samples."""
        events: list[Event] = []
        if self.phase == "paused":
            events.append(Event("resumed", float(t[0]), self.plan[self.index].number))
            self.phase = "waiting"
        i = 0
        while i < len(t) and not self.finished:
            i = self._advance(t, xy, i, events)
        self.t_now = float(t[-1])
        return events

    def on_status(self, status: Status, message: str = "", t_s: float | None = None) -> list[Event]:
        """Tell the run about the source's status (device lost, back, ended)."""
        t = self.t_now if t_s is None else t_s
        if status in _LOSS_STATUSES and self.phase in ("countdown", "trial", "rest", "waiting"):
            return self._interrupt(t, message or f"device {status.value}")
        if status in (Status.ENDED, Status.CLOSED):
            return self._abort(t, message or "the source ended", "interrupted")
        return []

    def abort(
        self, reason: str = "stopped by the therapist", t_s: float | None = None
    ) -> list[Event]:
        """Stop the run now; a trial in progress is kept as ``aborted``, not scored."""
        return self._abort(self.t_now if t_s is None else t_s, reason, "aborted")

    def _abort(self, t: float, reason: str, trial_status: str) -> list[Event]:
        if self.finished:
            return []
        events: list[Event] = []
        if self.phase == "trial":
            result = self._record(trial_status, t, {}, reason)
            events.append(
                Event(
                    "trial_interrupted",
                    t,
                    result.number,
                    {"reason": reason, "result": result.to_dict()},
                )
            )
            self.task = None
        self.phase = "aborted"
        events.append(Event("protocol_aborted", t, None, {"reason": reason}))
        return events

    # --- the state machine -----------------------------------------------------------------
    def _advance(self, t: np.ndarray, xy: np.ndarray, i: int, events: list[Event]) -> int:
        """Consume samples from index ``i`` in the current phase; return the next index."""
        if self.phase == "waiting":
            self._begin_countdown(float(t[i]), events)
        if self.phase in ("countdown", "rest"):
            j = int(np.searchsorted(t, self.phase_end, side="left"))
            if j >= len(t):
                return len(t)
            if self.phase == "countdown":
                self._begin_trial(float(t[j]), events)
            else:
                self._next_trial(events, float(t[j]))
            return j
        if self.phase == "trial":
            task_events, end = self.task.feed(t[i:], xy[i:])
            plan = self.plan[self.index]
            events += [
                Event(kind, float(t[i]) if "t_s" not in d else d["t_s"], plan.number, d)
                for kind, d in task_events
            ]
            if end is None:
                return len(t)
            self.task.truncate(len(t) - i - end)
            self._end_trial(float(t[min(i + end, len(t) - 1)]), events)
            return i + end
        return len(t)

    def _begin_countdown(self, t: float, events: list[Event]) -> None:
        p = self.plan[self.index]
        s = p.step
        self.phase, self.phase_end = "countdown", t + s.countdown_s
        events.append(
            Event(
                "step_started",
                t,
                p.number,
                {
                    "label": s.label,
                    "task": s.task,
                    "instruction": s.instruction,
                    "countdown_s": s.countdown_s,
                    "condition": s.condition,
                    "repetition": p.repetition,
                    "attempt": self.attempt,
                    "of": len(self.plan),
                },
            )
        )

    def _begin_trial(self, t: float, events: list[Event]) -> None:
        p = self.plan[self.index]
        self.task = TASK_TYPES[p.step.task](p.step, self.los, self.fs, self.unit, self._seed(p))
        self.phase = "trial"
        events.append(
            Event(
                "trial_started",
                t,
                p.number,
                {
                    "label": p.step.label,
                    "task": p.step.task,
                    "condition": p.step.condition,
                    "duration_s": self.task.duration_s,
                    "level": self.level,
                    # what the patient is scored against: stored with the trial
                    **({"scaling": self.scaling.to_dict()} if self.scaling is not None else {}),
                },
            )
        )
        events += [Event(kind, t, p.number, d) for kind, d in self.task.start(t)]

    def _end_trial(self, t: float, events: list[Event]) -> None:
        p = self.plan[self.index]
        scores = self.task.result()
        lost = getattr(self.task, "lost_at", None) is not None
        result = self._record("lost_balance" if lost else "complete", t, scores)
        events.append(Event("trial_done", t, p.number, {"result": result.to_dict()}))
        self.task = None
        self._retry = lost and self.attempt < p.step.attempts  # up to `attempts` tries
        if self._retry:
            self.attempt += 1
        self.phase, self.phase_end = "rest", t + p.step.rest_s
        if p.step.rest_s > 0:
            events.append(Event("rest", t, p.number, {"rest_s": p.step.rest_s}))

    def _record(
        self, status: str, t: float, scores: dict[str, Any], reason: str = ""
    ) -> TrialResult:
        """Keep the result of the trial that just ended (at sample time ``t``)."""
        p = self.plan[self.index]
        result = TrialResult(
            p.number,
            p.step.label,
            p.step.task,
            p.step.condition,
            p.repetition,
            self.attempt,
            status,
            self.task.t0,
            t,
            scores,
            reason,
        )
        self.results.append(result)
        return result

    def _next_trial(self, events: list[Event], t: float, begin: bool = True) -> None:
        if not self._retry:
            self.index += 1
            self.attempt = 1
        self._retry = False
        if self.index >= len(self.plan):
            self.phase = "done"
            events.append(Event("protocol_done", t, None, {"trials": len(self.results)}))
        elif begin:
            self._begin_countdown(t, events)

    def _interrupt(self, t: float, reason: str) -> list[Event]:
        """Device trouble: mark the trial (never score it), pause, redo it when data flows."""
        events: list[Event] = []
        p = self.plan[self.index]
        if self.phase == "trial":
            result = self._record("interrupted", t, {}, reason)
            events.append(
                Event(
                    "trial_interrupted", t, p.number, {"reason": reason, "result": result.to_dict()}
                )
            )
            self.task = None
        elif self.phase == "rest":
            # the trial before the rest was scored; carry on after it once the device is back
            self._next_trial(events, t, begin=False)
            if self.finished:
                return events
        self.phase = "paused"
        events.append(Event("paused", t, p.number, {"reason": reason}))
        return events

    # --- results ---------------------------------------------------------------------------
    def block(self) -> ProtocolBlock:
        """The run's results as the record sums them up (:func:`nmr_balance.summary.protocol_block`,
        the one computation behind the note, the PDF and the console), from the trials in
        memory: what a run that is not recorded reports. A recorded run's results are read back
        from the store instead (``recordings.report_data.run_block``)."""
        return protocol_block(
            self.protocol.name,
            [self.trial_summary(r) for r in self.results],
            ProtocolFacts.of(self.protocol),
        )

    def trial_summary(self, r: TrialResult) -> TrialSummary:
        """One trial of this run as :mod:`nmr_balance.summary` reads a stored one (id: its
        number in the run, 1-based)."""
        results = r.typed(self.level)
        parameters: dict[str, Any] = {"label": r.label, "task": r.task}
        if self.level is not None:
            parameters["level"] = self.level
        trial = Trial(
            id=r.number + 1,
            session_id=0,
            protocol=self.protocol.name,
            condition=Condition.from_protocol(
                r.condition["vision"], r.condition["surface"], r.condition["stance"]
            ),
            parameters=parameters,
            source_url=self.info.source,
            raw_info=self.info,
            info=self.info,
            started=self.started,
            ended=None,
            status=r.record_status,
            metrics=results.to_dict(),
            cues=[],
            notes="",
        )
        return TrialSummary(trial, results, r.t_end_s - r.t_start_s)

    # --- for the patient -------------------------------------------------------------------
    def instruction(self) -> Instruction:
        """What the patient is asked to do now (for the source: a simulator plays along)."""
        t = self.t_now if math.isfinite(self.t_now) else 0.0
        step = self.plan[self.index].step if self.index < len(self.plan) else None
        fields: dict[str, Any] = {}
        if self.phase == "trial" and self.task is not None:
            fields = self.task.cue(t)
        elif self.phase == "countdown" and step is not None:
            fields = {"target_since_s": self.phase_end - step.countdown_s}
        elif self.phase == "rest" and step is not None:
            fields = {"target_since_s": self.phase_end - step.rest_s}
        return Instruction(
            t_s=t,
            phase=self.phase,
            condition=dict(step.condition) if step is not None else {},
            unit=self.unit,
            task=step.task if step is not None else "",
            **{"target_since_s": t, **fields},
        )

    # --- for the UI ------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Facts about the run for the UI when it starts (JSON-serialisable): ``protocol``,
        ``title``, ``summary_kind`` (mctsib, los, training...), ``level`` (1-based, None for a
        test without levels), ``levels``, ``n_trials``, ``total_s``, ``unit``, the
        ``los`` targets are placed on and its ``los_origin``, and the ``extent`` of the view
        (:meth:`view_extent`), and the target ``scaling`` applied (None: a test, never
        scaled)."""
        return {
            "protocol": self.protocol.name,
            "title": self.protocol.title,
            "summary_kind": self.protocol.summary,
            "level": self.level,
            "levels": len(self.protocol.levels),
            "los_origin": self.los.origin,
            "los": self.los.to_dict(),
            "n_trials": len(self.plan),
            "total_s": self.total_s,
            "unit": self.unit,
            "extent": self.view_extent(),
            "scaling": self.scaling.to_dict() if self.scaling is not None else None,
        }

    def view_extent(self) -> float:
        """How far from the centre (stream unit) the patient screen must reach to show every
        target, corridor and circle of the whole run, edges included, and the LOS itself: the
        screen scales once to it, before the run starts (it does not jump between steps)."""
        reach = [max(self.los.reach)]
        for p in self.plan:
            task = TASK_TYPES[p.step.task](p.step, self.los, self.fs, self.unit, self._seed(p))
            reach.append(task.extent())
        return float(max(reach))

    def _seed(self, p: PlannedTrial) -> int:
        """The seed of a planned trial's task (its random targets, its moving target's path)."""
        return self.seed * 1000 + p.number

    def display(self) -> dict[str, Any]:
        """What the patient screen should show now (stream units), JSON-serialisable.

        The time left (s): ``remaining_s`` in a countdown, a rest or a trial of a set length; in
        a trial that ends on its own (targets, maze, circles), ``up_to_s`` and what the task
        counts (:meth:`~nmr_balance.protocols.tasks.base.Task.time_left`)."""
        out: dict[str, Any] = {"phase": self.phase, "unit": self.unit}
        if self.index < len(self.plan):
            p = self.plan[self.index]
            out.update(
                trial=p.number,
                of=len(self.plan),
                instruction=p.step.instruction,
                label=p.step.label,
                task=p.step.task,
                # live feedback or a fixation target (sensory tests), from the countdown on
                feedback=TASK_TYPES[p.step.task].feedback,
            )
        if self.phase in ("countdown", "rest") and math.isfinite(self.t_now):
            out["remaining_s"] = max(0.0, self.phase_end - self.t_now)
        if self.phase == "trial" and self.task is not None and math.isfinite(self.t_now):
            out.update(self.task.time_left(self.t_now))
            out.update(self.task.display(self.t_now))
        return out
