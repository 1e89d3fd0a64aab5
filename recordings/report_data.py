"""Load the session summary (:mod:`nmr_balance.summary`) from the station database.

Usage::

    from recordings import Store
    from recordings.report_data import session_report
    from ui.report import write_session_pdf

    with Store.open() as store:
        report = session_report(store, session_id=12)
        write_session_pdf(report, "session-12.pdf")
        note = documentation_note(report)

This module only reads: the trials with their typed results, their events (cues, problems) and
sway paths, the patient's other sessions; every score is computed by
:func:`nmr_balance.summary.session_summary`. What a trial's ``parameters`` may add (all
optional): ``exercise``, ``objective``, ``body_regions``, ``surface``, ``resistance``,
``repetitions``, ``duration_s`` (the planned time); the protocol library supplies the rest.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence

import numpy as np

from nmr_balance.record import Session, Trial, TrialEvent
from nmr_balance.reporting.config import ReportConfig
from nmr_balance.reporting.model import SessionReport
from nmr_balance.results import sway_metrics
from nmr_balance.summary import (
    ProtocolBlock,
    SessionSummary,
    TrialSummary,
    overlapping,
    protocol_block,
    session_summary,
)
from recordings import signing
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
    reason = trial.results.reason
    if reason and not trial.status.finished and reason not in out:
        out.append(reason)
    if trial.status in _STATUS_WORDS and not out:
        out.append(_STATUS_WORDS[trial.status])
    return tuple(out)


def _sway_path(store: Store, trial: Trial) -> np.ndarray | None:
    """The processed x, y of ``trial`` (thinned to :data:`MAX_PATH_POINTS`), or None."""
    block = store.samples(trial.id, PROCESSED)
    if len(block) == 0 or not {"x", "y"} <= set(trial.info.channel_names):
        return None
    xy = block.data[:, [trial.info.index("x"), trial.info.index("y")]]
    stride = max(1, math.ceil(len(xy) / MAX_PATH_POINTS))
    return np.ascontiguousarray(xy[::stride])


def _with_sway(store: Store, trial: Trial) -> Trial:
    """``trial`` with its time-domain sway metrics when the stored ones lack them (a trial
    recorded before they were stored): computed by the one sway function, never guessed."""
    if "mean_velocity" in trial.metrics or not {"x", "y"} <= set(trial.info.channel_names):
        return trial
    block = store.samples(trial.id, PROCESSED)
    xy = block.data[:, [trial.info.index("x"), trial.info.index("y")]]
    sway = sway_metrics(xy, trial.info.fs, trial.unit, groups=("time",))
    return dataclasses.replace(trial, metrics={**trial.metrics, **sway})


def _recorded_s(store: Store, trial: Trial) -> float:
    n = int(store.chunk_index(trial.id, PROCESSED)[:, 1].sum())
    return n / trial.info.fs if trial.info.fs > 0 else 0.0


def trial_summary(store: Store, trial: Trial, with_path: bool = True) -> TrialSummary:
    """One stored trial as every output reads it (``with_path``: include the sway path)."""
    trial = _with_sway(store, trial)
    results = trial.results
    events = store.events(trial.id)
    duration = results.recording.duration_s
    return TrialSummary(
        trial=trial,
        results=results,
        duration_s=duration if math.isfinite(duration) else _recorded_s(store, trial),
        cues=tuple(e.cue() for e in events if e.kind == "cue"),
        problems=trial_problems(trial, events),
        xy=_sway_path(store, trial) if with_path else None,
    )


def run_block(store: Store, trial_ids: Sequence[int]) -> ProtocolBlock | None:
    """The results of one protocol run, from its stored trials (``trial_ids``, in order): the
    one summary's block (:func:`nmr_balance.summary.protocol_block`) the note and the PDF show
    for them, so what the terminal and the console's result panel print cannot disagree with
    the report. None when the run recorded no trial."""
    if not trial_ids:
        return None
    trials = [trial_summary(store, store.trial(i), with_path=False) for i in trial_ids]
    return protocol_block(trials[0].protocol, trials)


def load_session_summary(store: Store, session: Session, with_paths: bool = True) -> SessionSummary:
    """A stored session, its patient and its trials as the one session summary."""
    trials = [trial_summary(store, t, with_paths) for t in store.trials(session=session.id)]
    others = store.sessions(session.patient_id)
    last_end = max((t.ended for t in trials), default=None)
    overlaps = overlapping(session, others, last_end.isoformat() if last_end else None)
    return session_summary(session, store.patient(session.patient_id), trials, overlaps=overlaps)


def session_report(
    store: Store,
    session_id: int,
    config: ReportConfig | None = None,
    instruction_s: float | None = None,
) -> SessionReport:
    """Everything the report of ``session_id`` shows, with the patient's earlier sessions.

    ``instruction_s`` is the instruction time the therapist states for the visit (default: what
    the session says, else none; see :mod:`nmr_balance.reporting.minutes`); the minutes never
    exceed the recorded visit either way. Raises
    :class:`~nmr_balance.errors.InvalidParameterError` for an unknown session.
    """
    config = config or ReportConfig()
    session = store.session(session_id)
    if instruction_s is not None:
        session = dataclasses.replace(session, instruction_s=instruction_s)
    patient = store.patient(session.patient_id)
    this = load_session_summary(store, session, with_paths=True)
    history = tuple(
        this if s.id == session.id else load_session_summary(store, s, with_paths=False)
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
        count_pauses=config.count_pauses,
        signature=signing.signature(store, session.id),
        addenda=signing.addenda(store, session.id),
    )


def summary_sessions(store: Store, patient: str | None = None) -> list[SessionSummary]:
    """Every session (of one patient, or all) for the CSV summary (no sway paths)."""
    return [load_session_summary(store, s, with_paths=False) for s in store.sessions(patient)]
