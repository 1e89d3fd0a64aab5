"""Fill the report records (:mod:`nmr_balance.reporting.model`) from the station database.

Usage::

    from recordings import Store
    from recordings.report_data import session_report
    from ui.report import write_session_pdf

    with Store.open() as store:
        report = session_report(store, session_id=12)
        write_session_pdf(report, "session-12.pdf")
        note = documentation_note(report)

What a trial's ``parameters`` may say (set by the protocol engine or the recorder's caller; all
optional): ``exercise``, ``objective``, ``body_regions`` (list or comma-separated text),
``surface``, ``resistance``, ``repetitions`` (or ``reps``), ``level``, ``duration_s`` (the
planned time). Cue events carry ``text`` and optionally ``mode`` (verbal, tactile, visual).
Limits of Stability results per direction are read from ``metrics["los"]``.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from nmr_balance.reporting.config import ReportConfig
from nmr_balance.reporting.model import (
    SessionRecord,
    SessionReport,
    TrialRecord,
)
from nmr_balance.results import LOS_DIRECTIONS, sway_metrics
from recordings.model import Patient, Session, Trial, TrialEvent
from recordings.store import PROCESSED, Store

#: Most points of a statokinesigram (thinned by a stride; the metrics use every sample).
MAX_PATH_POINTS = 3000
#: What an event tells a reader of the report, by kind.
_EVENT_WORDS = {
    "device_lost": "device lost",
    "device_reconnecting": "device reconnecting",
    "device_back": "device back",
    "source_ended": "sensor stream ended",
    "overrun": "the recorder fell behind",
}
_STATUS_WORDS = {
    "interrupted": "the recording stopped before its end (device silent or lost, or the program "
    "closed)",
    "aborted": "stopped before the planned end",
    "recording": "still recording when the report was made",
}


def _when(iso: str | None) -> datetime.datetime | None:
    if not iso:
        return None
    moment = datetime.datetime.fromisoformat(iso)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def trial_problems(trial: Trial, events: Iterable[TrialEvent]) -> tuple[str, ...]:
    """What went wrong while recording ``trial``, in words, in the order it happened."""
    out = []
    missing = gaps = 0
    for e in events:
        if e.kind == "signal_gap":
            missing += int(e.payload.get("missing", 0))
            gaps += 1
        elif e.kind in _EVENT_WORDS:
            out.append(f"{_EVENT_WORDS[e.kind]} at {e.t:.1f} s")
    if gaps:
        out.append(f"{missing} samples missing in {gaps} gap{'s' if gaps > 1 else ''}")
    if isinstance(trial.metrics.get("error"), str):
        out.append(trial.metrics["error"])
    if trial.status in _STATUS_WORDS and not out:
        out.append(_STATUS_WORDS[trial.status])
    return tuple(out)


def los_by_direction(value: Any) -> dict[str, dict[str, float]] | None:
    """LOS results keyed F, FR, R, ... from a dict so keyed, or from the protocol engine's list
    of per-direction dicts with ``bearing_deg`` (0 = forward, clockwise)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, list):
        return None
    out = {}
    for entry in value:
        bearing = _number(entry.get("bearing_deg")) if isinstance(entry, dict) else None
        if bearing is not None:
            name = LOS_DIRECTIONS[round(bearing / 45.0) % len(LOS_DIRECTIONS)]
            out[name] = {k: v for k, v in entry.items() if _number(v) is not None}
    return out or None


def _sway_path(store: Store, trial: Trial) -> np.ndarray | None:
    """The processed x, y of ``trial`` (thinned to :data:`MAX_PATH_POINTS`), or None."""
    block = store.samples(trial.id, PROCESSED)
    if len(block) == 0 or trial.info.n_channels < 2:
        return None
    xy = block.data[:, [trial.info.index("x"), trial.info.index("y")]]
    stride = max(1, math.ceil(len(xy) / MAX_PATH_POINTS))
    return np.ascontiguousarray(xy[::stride])


def _sway_metrics(store: Store, trial: Trial) -> dict[str, float]:
    """The DSP sway set of a trial whose stored metrics lack it (e.g. recorded before it existed)."""
    block = store.samples(trial.id, PROCESSED)
    if "x" not in trial.info.channel_names or "y" not in trial.info.channel_names:
        return {}
    xy = block.data[:, [trial.info.index("x"), trial.info.index("y")]]
    return dict(sway_metrics(xy, trial.info.fs, trial.info.units[0], groups=("time",)))


def _recorded_s(store: Store, trial: Trial) -> float:
    n = int(store.chunk_index(trial.id, PROCESSED)[:, 1].sum())
    return n / trial.info.fs if trial.info.fs > 0 else 0.0


def trial_record(store: Store, trial: Trial, with_path: bool = True) -> TrialRecord:
    """One stored trial as a report record (``with_path``: include the sway path)."""
    p, metrics = trial.parameters, dict(trial.metrics)
    if "mean_velocity" not in metrics:
        metrics.update(_sway_metrics(store, trial))
    events = store.events(trial.id)
    regions = p.get("body_regions", ())
    if isinstance(regions, str):
        regions = [r.strip() for r in regions.split(",")]
    duration = _number(metrics.get("duration_s"))
    los = los_by_direction(metrics.pop("los", None) or metrics.pop("per_direction", None))
    return TrialRecord(
        id=trial.id,
        protocol=trial.protocol,
        condition=trial.condition.label(),
        started=_when(trial.started),
        duration_s=duration if duration is not None else _recorded_s(store, trial),
        status=trial.status,
        planned_s=_number(p.get("duration_s", p.get("planned_s"))),
        metrics={k: v for k, v in metrics.items() if _number(v) is not None},
        unit=trial.info.units[0] if trial.info.units else "mm",
        cues=tuple(e.cue() for e in events if e.kind == "cue"),
        problems=trial_problems(trial, events),
        exercise=str(p.get("exercise", "")),
        objective=str(p.get("objective", "")),
        body_regions=tuple(r for r in regions if r),
        surface=str(p.get("surface", "")),
        resistance=str(p.get("resistance", "")),
        repetitions=_int(p.get("repetitions", p.get("reps"))),
        level=_int(p.get("level")),
        los=los,
        xy=_sway_path(store, trial) if with_path else None,
        notes=trial.notes,
    )


def session_record(store: Store, session: Session, with_paths: bool = True) -> SessionRecord:
    """A stored session and its trials as a report record."""
    trials = tuple(trial_record(store, t, with_paths) for t in store.trials(session=session.id))
    return SessionRecord(
        id=session.id,
        started=_when(session.started),
        ended=_when(session.ended),
        trials=trials,
        therapist=session.therapist,
        station=session.station,
        pain_before=session.pain_before,
        pain_after=session.pain_after,
        borg_before=session.borg_before,
        borg_after=session.borg_after,
        notes=session.notes,
    )


def session_report(
    store: Store,
    session_id: int,
    config: ReportConfig | None = None,
    instruction_s: float | None = None,
) -> SessionReport:
    """Everything the report of ``session_id`` shows, with the patient's earlier sessions.

    ``instruction_s`` is the instruction time the therapist states for the visit (default: the
    recorded pauses between trials); the minutes never exceed the recorded visit either way.
    Raises :class:`~nmr_balance.errors.InvalidParameterError` for an unknown session.
    """
    config = config or ReportConfig()
    session = store.session(session_id)
    patient = store.patient(session.patient_id)
    this = dataclasses.replace(
        session_record(store, session, with_paths=True), instruction_s=instruction_s
    )
    history = tuple(
        this if s.id == session.id else session_record(store, s, with_paths=False)
        for s in store.sessions(patient.id)
        if s.started <= session.started
    )
    return SessionReport(
        config.clinic,
        patient,
        this,
        history,
        units_rule=config.units_rule,
        max_gap_instruction_s=config.max_gap_instruction_s,
    )


def summary_sessions(
    store: Store, patient: str | None = None
) -> list[tuple[Patient, SessionRecord]]:
    """Every session (of one patient, or all) for the CSV summary (no sway paths)."""
    patients = {p.id: p for p in store.patients()}
    return [
        (patients[s.patient_id], session_record(store, s, with_paths=False))
        for s in store.sessions(patient)
    ]
