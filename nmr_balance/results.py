"""Typed results of a trial, and the one function for a trial's sway metrics.

A trial's results are stored as JSON in the trial row (``trials.metrics``): the recording facts
and the sway metrics flat at the top (as ``dsp.metrics`` names them, so a script can read
``metrics["mean_velocity"]``), the task's scores in their own groups::

    {"n_samples": 3000, "fs_hz": 100.0, "duration_s": 30.0, "gaps": 0, "valid_fraction": 1.0,
     "unit": "mm", "mean_velocity": 9.1, "ellipse_area_95_chi2": 210.4, ...,
     "units": {"mean_velocity": "mm/s", ...}, "notes": {...},
     "stand":    {"completed": true, "time_standing_s": 30.0, "loss_reason": ""},
     "los":      {"per_direction": {"F": {...}, ...}, "composite": {...}},
     "training": {"hits": 7, "targets": 8, "time_in_target_pct": 41.2, ...},
     "level": 2, "outcome": "complete", "reason": ""}

:class:`TrialResults` reads and writes that form (and the flat form written before it, with
``protocol.*`` keys), so every reader gets the same typed values: the console, the note, the
PDF, the CSV, ``trials --format json``. Names and units of the sway metrics are those of
:data:`dsp.metrics.METRIC_UNITS`; definitions are in ``docs/metrics.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dsp.metrics import SwayMetrics

#: Limits of Stability directions, clockwise from forward (compass bearing 0, 45, ... 315 deg).
LOS_DIRECTIONS = ("F", "FR", "R", "BR", "B", "BL", "L", "FL")
#: Short gaps (nobody on the board, a lost packet) bridged linearly before sway metrics, s.
MAX_BRIDGED_GAP_S = 0.25
#: The sway metric groups stored with every trial (``dsp.metrics.GROUPS`` names).
STORED_SWAY_GROUPS = ("time", "spectral", "entropy", "diffusion")


def sway_metrics(
    xy: np.ndarray, fs: float, unit: str, groups: tuple[str, ...] = STORED_SWAY_GROUPS
) -> SwayMetrics:
    """The sway metrics of one trial (or a window of one): the single entry point for every layer.

    Gap policy (one, documented in ``docs/record-model.md``): non-finite samples (nobody on the
    board, a lost packet) are bridged linearly when a gap lasts at most
    :data:`MAX_BRIDGED_GAP_S`; leading and trailing gaps are cut off. A longer gap, or fewer than
    10 valid samples, means the trial cannot be scored: the result is then *empty* and its
    ``error`` attribute says why (an empty string when it was scored).

    Parameters
    ----------
    xy : ndarray, shape (n_samples, 2)
        Sway: x = ML (+ right), y = AP (+ forward), in ``unit``, evenly sampled at ``fs``.
    fs : float
        Sample rate, Hz.
    unit : str
        ``"mm"`` (centre of pressure) or ``"deg"`` (board tilt).
    groups : tuple of str
        ``dsp.metrics.GROUPS`` to compute (``"time"`` is always computed).

    Returns
    -------
    SwayMetrics
        name -> float, with ``units``, ``notes`` (why a metric is NaN) and ``error``.
    """
    from dsp.metrics import trial_metrics  # deferred: listing trials must not load Numba

    try:
        out = trial_metrics(
            xy, fs, unit=unit, nan_policy="interpolate", max_gap_s=MAX_BRIDGED_GAP_S, groups=groups
        )
    except ValueError as e:
        out = SwayMetrics()
        out.units, out.notes, out.settings = {}, {}, {}
        out.error = str(e)
        return out
    out.error = ""
    return out


def _number(value: Any) -> float:
    """A finite float, or NaN for anything else (None, text, inf)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _json_number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _count(value: Any, missing: int | None) -> int | None:
    n = _number(value)
    return int(n) if math.isfinite(n) else missing


#: How a stored value is read for each declared field type of a flat results type.
_READERS = {
    "float": _number,
    "int": lambda v: _count(v, 0),
    "int | None": lambda v: _count(v, None),
    "str": lambda v: str(v or ""),
    "bool | None": lambda v: bool(v) if isinstance(v, (bool, int, float)) else None,
}


def _read_fields(cls, d: Mapping[str, Any], **given: Any):
    """A flat results type from its stored dict, each field read by its declared type (see
    ``_READERS``: a missing, non-numeric or non-finite float is NaN, a missing count 0 or
    None, text ''). ``given``: the fields the caller reads itself (a default, an older key)."""
    read = {
        f.name: _READERS[f.type](d.get(f.name))
        for f in dataclasses.fields(cls)
        if f.name not in given
    }
    return cls(**read, **given)


def _json_fields(obj) -> dict[str, Any]:
    """A flat results type as stored: its fields by name, a non-finite float as None (JSON has
    no NaN)."""
    out = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        out[f.name] = _json_number(value) if isinstance(value, float) else value
    return out


class _Flat:
    """Base of the flat results types (one level of numbers, counts and text): stored and read
    back field by field (:func:`_json_fields`, :func:`_read_fields`)."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]):
        return _read_fields(cls, d)

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


def _by_direction(per_direction: Mapping[str, Any]) -> dict[str, Any]:
    """Per-direction scores as stored: LOS directions clockwise from ``F``, then any other."""
    order = [d for d in LOS_DIRECTIONS if d in per_direction]
    order += [d for d in per_direction if d not in order]
    return {d: per_direction[d].to_dict() for d in order}


@dataclasses.dataclass(frozen=True)
class LosScores(_Flat):
    """Limits of Stability scores of one direction, or their composite (mean of directions).

    Attributes
    ----------
    reaction_time_s : float
        Cue to movement onset, s.
    movement_velocity : float
        Mean speed of the lean, sway unit/s (mm/s or deg/s).
    endpoint_excursion_pct, max_excursion_pct : float
        How far the lean got at its first stop, and at most, % of the target distance.
    directional_control_pct : float
        Share of the movement along the intended direction, %.
    movement_detected : bool or None
        False: the patient did not lean towards the target (only ``max_excursion_pct`` is
        scored; the others are NaN, shown as "no movement detected"); None: not recorded
        (results stored before this flag, or a composite).
    """

    reaction_time_s: float = math.nan
    movement_velocity: float = math.nan
    endpoint_excursion_pct: float = math.nan
    max_excursion_pct: float = math.nan
    directional_control_pct: float = math.nan
    movement_detected: bool | None = None

    FIELDS = (
        "reaction_time_s",
        "movement_velocity",
        "endpoint_excursion_pct",
        "max_excursion_pct",
        "directional_control_pct",
    )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: _json_number(getattr(self, k)) for k in self.FIELDS}
        if self.movement_detected is not None:
            out["movement_detected"] = self.movement_detected
        return out


@dataclasses.dataclass(frozen=True)
class LosResult:
    """Limits of Stability of one trial: per direction (``F``, ``FR``... clockwise) and composite.

    Attributes
    ----------
    per_direction : dict of str to LosScores
    composite : LosScores
    measured_reach : tuple of float
        The furthest lean in each of the 8 directions (F..FL, sway unit), kept as the patient's
        own limits for placing training targets; empty when the test does not support that
        (``measured_note`` says why).
    measured_note : str
    """

    per_direction: dict[str, LosScores]
    composite: LosScores
    measured_reach: tuple[float, ...] = ()
    measured_note: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LosResult:
        per = d.get("per_direction") or {}
        if isinstance(per, list):  # the protocol engine's list, keyed by compass bearing
            per = {
                LOS_DIRECTIONS[round(_number(e.get("bearing_deg")) / 45.0) % 8]: e
                for e in per
                if isinstance(e, dict) and math.isfinite(_number(e.get("bearing_deg")))
            }
        directions = {k: LosScores.from_dict(v) for k, v in per.items() if isinstance(v, dict)}
        composite = d.get("composite")
        if not composite and directions:  # older records: the mean of the directions
            composite = {
                k: _nanmean([getattr(s, k) for s in directions.values()]) for k in LosScores.FIELDS
            }
        measured = d.get("measured_los") or {}
        reach = measured.get("reach", ()) if isinstance(measured, Mapping) else ()
        reach = tuple(_number(r) for r in reach) if isinstance(reach, (list, tuple)) else ()
        return cls(
            directions,
            LosScores.from_dict(composite or {}),
            reach if len(reach) == 8 and all(r > 0 for r in reach) else (),
            str(d.get("measured_los_note") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_direction": _by_direction(self.per_direction),
            "composite": self.composite.to_dict(),
            **(
                {"measured_los": {"reach": list(self.measured_reach)}}
                if self.measured_reach
                else {}
            ),
            **({"measured_los_note": self.measured_note} if self.measured_note else {}),
        }


@dataclasses.dataclass(frozen=True)
class TrainingScores(_Flat):
    """Scores of a training trial (targets, tracking, maze, circles).

    Attributes
    ----------
    hits, targets : int or None
        Targets reached (entered and held for the dwell time) and shown; None for tasks
        without targets.
    time_in_target_pct : float
        Share of the trial the cursor was inside the current target, %.
    success_pct : float
        The task's success measure, % (hits / targets; time in target when tracking; progress
        through a maze; circles done): what progression rules use.
    mean_time_to_hit_s : float
    tracking_error : float
        RMS distance to a moving target, sway unit (tracking only).
    """

    hits: int | None = None
    targets: int | None = None
    time_in_target_pct: float = math.nan
    success_pct: float = math.nan
    mean_time_to_hit_s: float = math.nan
    tracking_error: float = math.nan

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainingScores:
        tracking = _number(d.get("tracking_error", d.get("tracking_rms")))  # the older name
        return _read_fields(cls, d, tracking_error=tracking)


@dataclasses.dataclass(frozen=True)
class RepositionScores(_Flat):
    """Joint-position reproduction errors in one direction, or their composite (mean of the
    directions). Sway unit (mm for a plate, deg for a tilt board); see ``docs/metrics.md``.

    Attributes
    ----------
    absolute_error : float
        Mean |error|: overall accuracy.
    constant_error : float
        Mean signed error along the target direction: < 0 undershoot, > 0 overshoot.
    variable_error : float
        SD of the signed errors about their mean: consistency (NaN with one reproduction).
    distance_error : float
        Mean 2-D distance between reproduced and criterion positions.
    n : int
        Reproductions scored.
    """

    absolute_error: float = math.nan
    constant_error: float = math.nan
    variable_error: float = math.nan
    distance_error: float = math.nan
    n: int = 0

    FIELDS = ("absolute_error", "constant_error", "variable_error", "distance_error")


@dataclasses.dataclass(frozen=True)
class RepositionResult:
    """Joint-position (proprioception) test of one trial: per direction (``F``, ``R``... as
    :data:`LOS_DIRECTIONS`) and composite, in ``unit``."""

    per_direction: dict[str, RepositionScores]
    composite: RepositionScores
    unit: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RepositionResult:
        per = d.get("per_direction") or {}
        return cls(
            {k: RepositionScores.from_dict(v) for k, v in per.items() if isinstance(v, dict)},
            RepositionScores.from_dict(d.get("composite") or {}),
            str(d.get("unit") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "per_direction": _by_direction(self.per_direction),
            "composite": self.composite.to_dict(),
            "unit": self.unit,
        }


@dataclasses.dataclass(frozen=True)
class StandResult(_Flat):
    """Quiet or single-leg standing: held to the end, or balance lost after ``time_standing_s``."""

    completed: bool
    time_standing_s: float
    loss_reason: str = ""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StandResult:
        return _read_fields(cls, d, completed=bool(d.get("completed", True)))


@dataclasses.dataclass(frozen=True)
class RecordingFacts(_Flat):
    """What the samples themselves say: how many, at what rate, how long, gaps, valid share."""

    n_samples: int = 0
    fs_hz: float = math.nan
    duration_s: float = 0.0
    gaps: int = 0
    valid_fraction: float = math.nan
    unit: str = ""


@dataclasses.dataclass(frozen=True)
class TrialResults:
    """Everything measured in one trial, typed (see the module doc for the stored form).

    Attributes
    ----------
    recording : RecordingFacts
    sway : dict of str to float
        Sway metrics (``dsp.metrics`` names; NaN where not computable); empty when the trial
        could not be scored (``sway_error`` says why).
    sway_units, sway_notes : dict of str to str
        Unit of each sway metric, and why one is NaN.
    sway_error : str
    stand : StandResult or None
        Standing tasks (mCTSIB, Romberg, single-leg).
    los : LosResult or None
    training : TrainingScores or None
    reposition : RepositionResult or None
        Joint-position (proprioception) test.
    level : int or None
        Training level, 1-based (tests have none).
    outcome : str
        What the protocol said of the trial: ``complete``, ``lost_balance``, ``interrupted``,
        ``aborted`` ('' for trials recorded outside a protocol).
    reason : str
        Why it stopped early, in words (device lost, stopped by the therapist...).
    """

    recording: RecordingFacts = RecordingFacts()
    sway: dict[str, float] = dataclasses.field(default_factory=dict)
    sway_units: dict[str, str] = dataclasses.field(default_factory=dict)
    sway_notes: dict[str, str] = dataclasses.field(default_factory=dict)
    sway_error: str = ""
    stand: StandResult | None = None
    los: LosResult | None = None
    training: TrainingScores | None = None
    reposition: RepositionResult | None = None
    level: int | None = None
    outcome: str = ""
    reason: str = ""

    @property
    def fell(self) -> bool:
        return self.outcome == "lost_balance" or (
            self.stand is not None and not self.stand.completed
        )

    def with_scores(
        self, scores: Mapping[str, Any], outcome: str, level: int | None
    ) -> TrialResults:
        """These results plus a protocol task's scores (the engine's ``TrialResult.scores``)."""
        stand = los = training = reposition = None
        if isinstance(scores.get("reposition"), Mapping):
            reposition = RepositionResult.from_dict(scores["reposition"])
        if "time_standing_s" in scores:
            stand = StandResult.from_dict(scores)
        if "per_direction" in scores:
            los = LosResult.from_dict(scores)
        if any(k in scores for k in ("hits", "success_pct", "time_in_target_pct")):
            training = TrainingScores.from_dict(scores)
        return dataclasses.replace(
            self,
            stand=stand,
            los=los,
            training=training,
            reposition=reposition,
            level=level,
            outcome=outcome,
        )

    @classmethod
    def from_sway(cls, recording: RecordingFacts, sway: SwayMetrics) -> TrialResults:
        return cls(
            recording=recording,
            sway={k: float(v) for k, v in sway.items()},
            sway_units=dict(getattr(sway, "units", {}) or {}),
            sway_notes=dict(getattr(sway, "notes", {}) or {}),
            sway_error=getattr(sway, "error", ""),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = self.recording.to_dict()
        # the recording's own counts stay: the DSP's n_samples/duration_s are of the samples it
        # kept (a float after trimming), not facts of the recording
        out.update({k: _json_number(v) for k, v in self.sway.items() if k not in out})
        out["units"], out["notes"] = dict(self.sway_units), dict(self.sway_notes)
        if self.sway_error:
            out["sway_error"] = self.sway_error
        for name in ("stand", "los", "training", "reposition"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.to_dict()
        if self.level is not None:
            out["level"] = self.level
        if self.outcome:
            out["outcome"] = self.outcome
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> TrialResults:
        """Read the stored form (and the older one with ``protocol.*`` keys)."""
        from dsp.metrics import METRIC_UNITS

        d = dict(d or {})
        base = cls(
            recording=RecordingFacts.from_dict(d),
            sway={k: _number(d[k]) for k in METRIC_UNITS if k in d},
            sway_units=dict(d.get("units") or {}),
            sway_notes=dict(d.get("notes") or {}),
            sway_error=str(d.get("sway_error") or ""),
            stand=StandResult.from_dict(d["stand"]) if isinstance(d.get("stand"), dict) else None,
            los=(
                LosResult.from_dict(d["los"])
                if isinstance(d.get("los"), dict) and "composite" in d["los"]
                else None
            ),
            training=(
                TrainingScores.from_dict(d["training"])
                if isinstance(d.get("training"), dict)
                else None
            ),
            reposition=(
                RepositionResult.from_dict(d["reposition"])
                if isinstance(d.get("reposition"), dict)
                else None
            ),
            level=_count(d.get("level"), None),
            outcome=str(d.get("outcome") or ""),
            reason=str(d.get("reason") or d.get("error") or ""),
        )
        return cls._with_legacy(base, d)

    @classmethod
    def _with_legacy(cls, base: TrialResults, d: dict[str, Any]) -> TrialResults:
        """Scores stored before typed results: flattened ``protocol.*`` keys, ``los`` lists."""
        scores: dict[str, Any] = {}
        for key, value in d.items():
            if key.startswith("protocol."):
                node, parts = scores, key.split(".")[1:]
                for part in parts[:-1]:
                    node = node.setdefault(part, {})
                node[parts[-1]] = value
        legacy_los = (d.get("los") or d.get("per_direction")) if base.los is None else None
        if isinstance(legacy_los, (list, dict)) and "per_direction" not in scores:
            scores["per_direction"] = legacy_los
        if not scores:
            return base
        level = base.level
        if level is None and isinstance(scores.get("level"), int):
            level = scores["level"] + 1  # the engine's 0-based level of those days
        return base.with_scores(scores, str(scores.get("status", base.outcome)), level)


def measure_trial(processed, info) -> TrialResults:
    """The results every trial gets from its processed (sway) stream, whoever recorded it.

    The recorder, crash recovery, importers and replays call this, so a live, an interrupted,
    an imported and a replayed trial are measured alike: the recording facts and every sway
    metric (:func:`sway_metrics`, with its gap policy).

    Parameters
    ----------
    processed : SampleBlock
        The trial's processed samples (channels ``x, y[, fz]``).
    info : StreamInfo
        Their stream description.
    """
    n = len(processed)
    unit = info.units[0] if info.units else ""
    if n == 0:
        facts = RecordingFacts(0, float(info.fs), 0.0, 0, math.nan, unit)
    else:
        finite = (
            np.all(np.isfinite(processed.data[:, :2]), axis=1)
            if processed.n_channels >= 2
            else np.ones(n, bool)
        )
        facts = RecordingFacts(
            n, float(info.fs), n / info.fs, processed.gaps(), float(np.mean(finite)), unit
        )
    if info.channel_names[:2] != ("x", "y"):
        return TrialResults(
            recording=facts,
            sway_error=f"not a sway stream (channels {', '.join(info.channel_names)})",
        )
    return TrialResults.from_sway(facts, sway_metrics(processed.data[:, :2], info.fs, unit))


__all__ = [
    "LOS_DIRECTIONS",
    "MAX_BRIDGED_GAP_S",
    "LosResult",
    "LosScores",
    "RecordingFacts",
    "RepositionResult",
    "RepositionScores",
    "StandResult",
    "SwayMetrics",
    "TrainingScores",
    "TrialResults",
    "measure_trial",
    "sway_metrics",
]
