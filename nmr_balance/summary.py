"""The one session summary every output is made from.

:func:`session_summary` turns the stored record of a visit (the session, its patient, its trials
with their typed results) into a :class:`SessionSummary`: per protocol run a
:class:`ProtocolBlock` holding that protocol's scores, computed here and nowhere else:

* tests: per condition the trials, falls and mean sway; mCTSIB sensory ratios and the Romberg
  quotient from *that protocol's own* completed standing trials (a free recording never joins
  the eyes-open firm baseline); the Limits of Stability per direction and composite;
  single-leg best times;
* training: sets, repetitions (targets per set), hits, time in target, level and the level the
  progression rule suggests next.

The documentation note, the PDF, the CSV, the progress view, ``trials --format json`` and the
console's result panel all read it, so they cannot disagree. Nothing here knows the database:
``recordings.report_data`` loads the record and calls :func:`session_summary`; tests build the
inputs by hand.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from nmr_balance.protocols.library import ProtocolFacts, facts
from nmr_balance.protocols.progression import next_level
from nmr_balance.record import Cue, Patient, Session, Trial, TrialStatus, when
from nmr_balance.results import LosResult, LosScores, RepositionResult, TrialResults

#: mCTSIB conditions (vision, surface) in the order of the test.
MCTSIB_CONDITIONS = (("open", "firm"), ("closed", "firm"), ("open", "foam"), ("closed", "foam"))
#: The sway metric sensory ratios are taken of (DESIGN.md §5; docs/reports.md).
RATIO_METRIC = "mean_velocity"


@dataclasses.dataclass(frozen=True)
class TrialSummary:
    """One stored trial as every output reads it: the record, its typed results, and what the
    samples and events say (duration, cues, problems, the sway path for the plots).

    Attributes
    ----------
    trial : Trial
    results : TrialResults
    duration_s : float
        Time actually recorded (from the samples), s.
    cues : tuple of Cue
    problems : tuple of str
        What went wrong while recording, in words ("device lost at 12.1 s").
    xy : ndarray, shape (n, 2), optional
        The sway path (x = ML, y = AP, in ``unit``), possibly thinned; None when not loaded.
    """

    trial: Trial
    results: TrialResults
    duration_s: float
    cues: tuple[Cue, ...] = ()
    problems: tuple[str, ...] = ()
    xy: np.ndarray | None = dataclasses.field(default=None, compare=False, repr=False)

    # --- the record, as reports name it --------------------------------------------------------
    @property
    def id(self) -> int:
        return self.trial.id

    @property
    def protocol(self) -> str:
        return self.trial.protocol

    @property
    def condition(self) -> str:
        """The condition in words ("eyes closed, foam")."""
        return self.trial.condition.label()

    @property
    def status(self) -> TrialStatus:
        return self.trial.status

    @property
    def started(self) -> datetime.datetime:
        return when(self.trial.started)

    @property
    def ended(self) -> datetime.datetime:
        return self.started + datetime.timedelta(seconds=max(self.duration_s, 0.0))

    @property
    def notes(self) -> str:
        return self.trial.notes

    @property
    def unit(self) -> str:
        return self.trial.unit or "mm"

    @property
    def level(self) -> int | None:
        return self.results.level if self.results.level is not None else self.trial.level

    @property
    def planned_s(self) -> float | None:
        p = self.trial.parameters
        value = p.get("duration_s", p.get("planned_s"))
        return float(value) if isinstance(value, (int, float)) else None

    @property
    def finished(self) -> bool:
        """Ran to its end (counted in means); a fall is a finished trial of a test, not held."""
        return self.trial.status.finished

    @property
    def held(self) -> bool:
        """Finished and, for standing, held to the end (no loss of balance)."""
        return self.finished and not self.results.fell

    @property
    def facts(self) -> ProtocolFacts:
        return facts(self.trial.protocol)

    @property
    def is_test(self) -> bool:
        return self.facts.is_test

    @property
    def los(self) -> LosResult | None:
        return self.results.los

    @property
    def standing(self) -> bool:
        """A quiet-standing trial (a test's stance, a free recording): its sway is the measure.
        A Limits of Stability or target trace is movement on purpose, not sway."""
        r = self.results
        return r.stand is not None or (
            r.los is None and r.training is None and r.reposition is None and bool(r.sway)
        )

    @property
    def metrics(self) -> dict[str, float]:
        """Every number of the trial by name: sway metrics, training scores, LOS composite."""
        out = {k: v for k, v in self.results.sway.items() if math.isfinite(v)}
        r = self.results
        if r.training is not None:
            out.update(
                {
                    k: float(v)
                    for k, v in r.training.to_dict().items()
                    if isinstance(v, (int, float)) and math.isfinite(v)
                }
            )
        if r.los is not None:
            out.update({k: v for k, v in r.los.composite.to_dict().items() if v is not None})
        if r.stand is not None and math.isfinite(r.stand.time_standing_s):
            out["time_standing_s"] = r.stand.time_standing_s
        return out

    def exercise_label(self) -> str:
        return str(self.trial.parameters.get("exercise") or self.facts.title)

    def objective_text(self) -> str:
        return str(self.trial.parameters.get("objective") or self.facts.objective)

    def regions(self) -> tuple[str, ...]:
        given = self.trial.parameters.get("body_regions")
        if isinstance(given, str):
            given = [r.strip() for r in given.split(",") if r.strip()]
        return tuple(given) if given else self.facts.body_regions

    def surface_text(self) -> str:
        given = self.trial.parameters.get("surface")
        if given:
            return str(given)
        surface = self.trial.condition.surface
        return {"foam": "foam pad", "firm": "firm surface"}.get(surface, "")

    @property
    def resistance(self) -> str:
        return str(self.trial.parameters.get("resistance", ""))

    @property
    def repetitions(self) -> int | None:
        """Repetitions within the trial: the targets of a target set, or as the trial says."""
        given = self.trial.parameters.get("repetitions", self.trial.parameters.get("reps"))
        if isinstance(given, int):
            return given
        t = self.results.training
        return t.targets if t is not None else None


@dataclasses.dataclass(frozen=True)
class ConditionScore:
    """A test's results in one condition: how many trials, falls, mean sway of those held."""

    label: str
    trials: int
    falls: int
    mean_velocity: float
    unit: str = "mm"


@dataclasses.dataclass(frozen=True)
class TrainingSummary:
    """A training protocol's dose and results in one session."""

    sets: int
    repetitions: int | None
    hits: int | None
    targets: int | None
    time_in_target_pct: float
    success_pct: float
    level: int | None
    next_level: int | None = None
    progression: str = ""


@dataclasses.dataclass(frozen=True)
class ProtocolBlock:
    """One protocol's part of a session: its trials and the scores computed from them alone.

    Attributes
    ----------
    facts : ProtocolFacts
        Title, kind, objective and body regions (from the protocol library).
    trials : tuple of TrialSummary
    conditions : dict of str to ConditionScore
        Standing tests, per condition label, in the order done.
    sensory_ratios : dict of str to float
        mCTSIB (``somatosensory``, ``visual``, ``vestibular``) or Romberg (``somatosensory``)
        ratios of mean sway velocity, from this protocol's held trials only.
    los : LosResult or None
        The last complete Limits of Stability trial.
    reposition : RepositionResult or None
        The last complete joint-position (proprioception) trial.
    single_leg : dict of str to tuple
        Side -> (best time standing s, held the full time).
    training : TrainingSummary or None
    """

    facts: ProtocolFacts
    trials: tuple[TrialSummary, ...]
    conditions: dict[str, ConditionScore] = dataclasses.field(default_factory=dict)
    sensory_ratios: dict[str, float] = dataclasses.field(default_factory=dict)
    los: LosResult | None = None
    los_trial: int | None = None
    reposition: RepositionResult | None = None
    reposition_trial: int | None = None
    single_leg: dict[str, tuple[float, bool]] = dataclasses.field(default_factory=dict)
    training: TrainingSummary | None = None

    @property
    def name(self) -> str:
        return self.facts.name

    @property
    def title(self) -> str:
        return self.facts.title

    @property
    def is_test(self) -> bool:
        return self.facts.is_test


@dataclasses.dataclass(frozen=True)
class SessionSummary:
    """A visit as every output reads it.

    Attributes
    ----------
    session : Session
    patient : Patient
    trials : tuple of TrialSummary
        Oldest first.
    blocks : tuple of ProtocolBlock
        One per protocol, in the order first done.
    overlaps : tuple of int
        Ids of the patient's other sessions whose time overlaps this one (flagged in the note:
        one patient cannot be billed twice for the same minutes).
    other_timed_minutes : mapping of str to int
        Minutes of other timed CPT codes billed the same visit (the CMS rule adds them up).
    """

    session: Session
    patient: Patient
    trials: tuple[TrialSummary, ...] = ()
    blocks: tuple[ProtocolBlock, ...] = ()
    overlaps: tuple[int, ...] = ()
    other_timed_minutes: Mapping[str, int] = dataclasses.field(default_factory=dict)

    @property
    def id(self) -> int:
        return self.session.id

    @property
    def started(self) -> datetime.datetime:
        return when(self.session.started)

    @property
    def ended(self) -> datetime.datetime | None:
        return when(self.session.ended)

    @property
    def instruction_s(self) -> float | None:
        return self.session.instruction_s

    # the session's own documentation fields, read through (never copied)
    @property
    def therapist(self) -> str:
        return self.session.therapist

    @property
    def station(self) -> str:
        return self.session.station

    @property
    def pain_before(self) -> float | None:
        return self.session.pain_before

    @property
    def pain_after(self) -> float | None:
        return self.session.pain_after

    @property
    def borg_before(self) -> float | None:
        return self.session.borg_before

    @property
    def borg_after(self) -> float | None:
        return self.session.borg_after

    @property
    def notes(self) -> str:
        return self.session.notes

    @property
    def response(self) -> str:
        return self.session.response


def _mean(values: Iterable[float]) -> float:
    values = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan


def _ratios(trials: Sequence[TrialSummary]) -> dict[str, float]:
    """Sensory ratios of mean sway velocity over the held standing trials, per condition."""
    from dsp.ratios import mctsib_ratios, romberg_quotient

    by: dict[tuple[str, str], list[float]] = {}
    for t in trials:
        if t.held and t.standing:
            c = t.trial.condition
            by.setdefault((c.vision, c.surface), []).append(
                t.results.sway.get(RATIO_METRIC, math.nan)
            )
    mean = {k: {RATIO_METRIC: _mean(v)} for k, v in by.items()}
    if all(c in mean for c in MCTSIB_CONDITIONS):
        out = {
            k: v[RATIO_METRIC]
            for k, v in mctsib_ratios(
                *(mean[c] for c in MCTSIB_CONDITIONS), metrics=(RATIO_METRIC,)
            ).items()
        }
    elif all(c in mean for c in MCTSIB_CONDITIONS[:2]):
        eo, ec = mean[MCTSIB_CONDITIONS[0]], mean[MCTSIB_CONDITIONS[1]]
        out = {"somatosensory": romberg_quotient(eo, ec, metrics=(RATIO_METRIC,))[RATIO_METRIC]}
    else:
        out = {}
    return {k: v for k, v in out.items() if math.isfinite(v)}


def _conditions(trials: Sequence[TrialSummary]) -> dict[str, ConditionScore]:
    groups: dict[str, list[TrialSummary]] = {}
    for t in trials:
        if t.standing and t.finished:
            groups.setdefault(t.condition, []).append(t)
    return {
        label: ConditionScore(
            label,
            len(ts),
            sum(1 for t in ts if not t.held),
            _mean(t.results.sway.get(RATIO_METRIC, math.nan) for t in ts if t.held),
            ts[0].unit,
        )
        for label, ts in groups.items()
    }


def _single_leg(trials: Sequence[TrialSummary]) -> dict[str, tuple[float, bool]]:
    out: dict[str, tuple[float, bool]] = {}
    for t in trials:
        stand = t.results.stand
        side = t.trial.condition.leg
        if stand is None or side == "both" or not t.finished:
            continue
        best = out.get(side)
        if best is None or stand.time_standing_s > best[0]:
            out[side] = (stand.time_standing_s, stand.completed)
    return out


def _training(block_facts: ProtocolFacts, trials: Sequence[TrialSummary]) -> TrainingSummary:
    done = [t for t in trials if t.finished]
    scores = [t.results.training for t in done if t.results.training is not None]
    hits = [s.hits for s in scores if s.hits is not None]
    targets = [s.targets for s in scores if s.targets is not None]
    levels = [t.level for t in trials if t.level is not None]
    level = levels[-1] if levels else None
    reps = {t.repetitions for t in trials if t.repetitions is not None}
    out = TrainingSummary(
        sets=len(trials),
        repetitions=reps.pop() if len(reps) == 1 else None,
        hits=sum(hits) if hits else None,
        targets=sum(targets) if targets else None,
        time_in_target_pct=_mean(s.time_in_target_pct for s in scores),
        success_pct=_mean(s.success_pct for s in scores),
        level=level,
    )
    protocol = block_facts.protocol
    if protocol is not None and protocol.progression is not None and level is not None:
        rule = protocol.progression
        history = [
            float(getattr(t.results.training, rule.metric, math.nan))
            if t.results.training is not None
            else math.nan
            for t in done
            if t.level == level
        ]
        new, why = next_level(rule, level, len(protocol.levels), history)
        out = dataclasses.replace(out, next_level=new, progression=why)
    return out


def protocol_block(
    name: str, trials: Sequence[TrialSummary], protocol_facts: ProtocolFacts | None = None
) -> ProtocolBlock:
    """The scores of protocol ``name`` from its own ``trials`` (see the module doc);
    ``protocol_facts`` default to the library's of ``name``."""
    f = protocol_facts or facts(name)
    block = ProtocolBlock(f, tuple(trials))
    if any(t.standing for t in trials):
        block = dataclasses.replace(
            block,
            conditions=_conditions(trials),
            single_leg=_single_leg(trials),
            sensory_ratios=_ratios(trials) if f.summary in ("mctsib", "romberg") else {},
        )
    los = [t for t in trials if t.results.los is not None and t.finished]
    if los:
        block = dataclasses.replace(block, los=los[-1].results.los, los_trial=los[-1].id)
    jps = [t for t in trials if t.results.reposition is not None and t.finished]
    if jps:
        block = dataclasses.replace(
            block, reposition=jps[-1].results.reposition, reposition_trial=jps[-1].id
        )
    if any(t.results.training is not None for t in trials) or (
        not f.is_test and any(t.level is not None for t in trials)
    ):
        block = dataclasses.replace(block, training=_training(f, trials))
    return block


def overlapping(session: Session, others: Iterable[Session], trials_end: str | None) -> tuple:
    """Ids of ``others`` (the same patient's sessions) whose span overlaps ``session``'s.

    A session's span is from its start to its end, or to its last trial's end while it is open
    (``trials_end``); an open session without trials is taken as a moment."""
    start = when(session.started)
    end = when(session.ended) or when(trials_end) or start
    out = []
    for other in others:
        if other.id == session.id or other.patient_id != session.patient_id:
            continue
        o_start = when(other.started)
        o_end = when(other.ended) or o_start
        if o_start < end and start < o_end:
            out.append(other.id)
    return tuple(out)


def session_summary(
    session: Session,
    patient: Patient,
    trials: Sequence[TrialSummary],
    *,
    overlaps: tuple[int, ...] = (),
    other_timed_minutes: Mapping[str, int] | None = None,
) -> SessionSummary:
    """The summary of one visit (see the module doc); ``trials`` in any order."""
    ordered = tuple(sorted(trials, key=lambda t: (t.started, t.id)))
    by_protocol: dict[str, list[TrialSummary]] = {}
    for t in ordered:
        by_protocol.setdefault(t.protocol, []).append(t)
    return SessionSummary(
        session,
        patient,
        ordered,
        tuple(protocol_block(name, ts) for name, ts in by_protocol.items()),
        overlaps,
        dict(other_timed_minutes or {}),
    )


def trial_results_json(trial: Trial) -> dict:
    """A trial's typed results for scripts (``trials --format json``): the LOS per direction and
    composite, training scores and level, the stand outcome, the key sway metrics."""
    r = trial.results
    out: dict = {"outcome": r.outcome or str(trial.status)}
    if r.level is not None or trial.level is not None:
        out["level"] = r.level if r.level is not None else trial.level
    if r.stand is not None:
        out["stand"] = r.stand.to_dict()
    if r.los is not None:
        out["los"] = r.los.to_dict()
    if r.training is not None:
        out["training"] = {**r.training.to_dict(), "level": out.get("level")}
    out["sway"] = {k: (v if math.isfinite(v) else None) for k, v in r.sway.items()}
    out["units"] = dict(r.sway_units)
    return out


def jsonable(value):
    """``value`` with NaN and infinities as None (JSON has no NaN), tuples as lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def block_json(block: ProtocolBlock) -> dict:
    """A protocol block for scripts (``run --json``): the same numbers the note and the PDF
    print, unrounded, NaN as null."""
    out: dict = {
        "protocol": block.name,
        "title": block.title,
        "kind": block.facts.kind,
        "unit": block.trials[0].unit if block.trials else None,
        "trials": len(block.trials),
        "interrupted": sum(t.status is TrialStatus.INTERRUPTED for t in block.trials),
        "conditions": {
            label: {k: v for k, v in dataclasses.asdict(c).items() if k != "label"}
            for label, c in block.conditions.items()
        },
        "sensory_ratios": dict(block.sensory_ratios),
        "single_leg": {
            side: {"best_time_s": best, "held_full_time": held}
            for side, (best, held) in block.single_leg.items()
        },
    }
    if block.los is not None:
        out["los"] = {**block.los.to_dict(), "trial": block.los_trial}
    if block.reposition is not None:
        out["reposition"] = {**block.reposition.to_dict(), "trial": block.reposition_trial}
    if block.training is not None:
        out["training"] = dataclasses.asdict(block.training)
    return jsonable(out)


__all__ = [
    "MCTSIB_CONDITIONS",
    "ConditionScore",
    "LosScores",
    "ProtocolBlock",
    "SessionSummary",
    "TrainingSummary",
    "TrialSummary",
    "block_json",
    "jsonable",
    "overlapping",
    "protocol_block",
    "session_summary",
    "trial_results_json",
]
