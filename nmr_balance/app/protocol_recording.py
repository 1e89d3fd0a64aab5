"""Recording a protocol run: every trial into the station database, with its protocol scores.

Wiring between the protocol engine (core) and the recordings store (a layer package), so it
lives in the composition root. For each ``trial_started`` event a
:class:`recordings.recorder.Recorder` starts on the pipeline (raw and processed samples, device
events, committed at least every second); target and balance events become trial events;
``trial_done`` stops it as ``complete`` and adds the protocol's scores to the stored metrics;
``trial_interrupted`` closes it as ``interrupted`` (no scores); the protocol summary goes into the
session notes.

The recorder takes samples as they arrive, so the run must keep up with the sensor: a source
faster than real time (``sim://?realtime=0``, a fast replay) cannot be recorded trial by trial
(:func:`check_pace` says so before anything is stored).
"""

from __future__ import annotations

import json
import math
from typing import Any

from nmr_balance.errors import InvalidParameterError
from nmr_balance.protocols.events import Event
from nmr_balance.protocols.progression import next_level

#: Engine events stored with the trial they belong to.
TRIAL_EVENTS = ("target_shown", "target_hit", "target_missed", "balance_lost")


def check_pace(source) -> None:
    """Refuse sources that run faster than real time (their samples cannot be recorded live)."""
    if getattr(source, "realtime", True) is False or getattr(source, "speed", 1.0) > 1.0:
        raise InvalidParameterError(
            "source",
            source.url,
            "a source paced in real time to record the trials "
            "(drop realtime=0 / speed>1, or add --no-record to only print the results)",
        )


def _numbers(scores: dict[str, Any], prefix: str = "protocol.") -> dict[str, float]:
    """The scalar scores, flattened (``composite.reaction_time_s``...), NaN as None."""
    out: dict[str, Any] = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}."))
        elif isinstance(value, (bool, int, float)):
            out[prefix + key] = (
                None if isinstance(value, float) and not math.isfinite(value) else value
            )
    return out


class ProtocolRecorder:
    """Turns a run's events into stored trials. Call :meth:`on_event` for every event.

    Parameters
    ----------
    store : recordings.Store
    pipeline : Pipeline
        Started.
    session_id : int
    protocol : Protocol
    level : int
        Difficulty level (0-based), stored with each trial.
    """

    def __init__(self, store, pipeline, session_id: int, protocol, level: int = 0):
        self.store, self.pipeline, self.session_id = store, pipeline, session_id
        self.protocol, self.level = protocol, level
        self.recorder = None
        self.trial_ids: list[int] = []

    def on_event(self, event: Event) -> None:
        from recordings import Condition
        from recordings.recorder import Recorder

        kind, data = event.kind, event.data
        if kind == "trial_started":
            c = data["condition"]
            stance = "" if c["stance"] == "both" else f"single_leg_{c['stance']}"
            self.recorder = Recorder(
                self.store,
                self.pipeline,
                self.session_id,
                protocol=self.protocol.name,
                condition=Condition(c["vision"], c["surface"], stance),
                parameters={
                    "label": data["label"],
                    "task": data["task"],
                    "level": self.level + 1,
                    "trial": event.trial,
                    "t_start_s": event.t_s,
                },
            )
            self.trial_ids.append(self.recorder.start())
        elif self.recorder is None:
            return
        elif kind in TRIAL_EVENTS:
            self.recorder.mark(
                kind, **{k: v for k, v in data.items() if k != "t_s"}, t_stream_s=event.t_s
            )
        elif kind == "trial_done":
            metrics = self._stop("complete")
            result = data["result"]
            self.store.set_metrics(
                self.recorder.trial_id,
                {**metrics, **_numbers(result["scores"]), "protocol.status": result["status"]},
            )
            self.recorder = None
        elif kind == "trial_interrupted":  # device trouble (interrupted) or the therapist (aborted)
            self._close_unscored(data["result"]["status"], data["reason"])
        elif kind == "protocol_aborted":  # the therapist stopped it
            self._close_unscored("aborted", data["reason"])

    def _stop(self, status: str) -> dict[str, Any]:
        return self.recorder.stop(status)

    def _close_unscored(self, status: str, reason: str) -> None:
        """Close the running trial without protocol scores, keeping what was recorded."""
        recorded = self._stop("aborted")
        self.store.finish_trial(self.recorder.trial_id, status, {**recorded, "reason": reason})
        self.recorder = None

    def close(self, summary: dict[str, Any] | None) -> None:
        """Stop a trial still recording (as interrupted) and store the run's summary."""
        if self.recorder is not None:
            self._close_unscored("aborted", "run stopped")
        if summary is not None:
            notes = json.dumps(
                {"protocol": self.protocol.name, "summary": summary}, default=lambda v: None
            )
            self.store.end_session(self.session_id, notes=notes)


def level_from_history(store, patient: str, protocol) -> tuple[int, str]:
    """The level (0-based) to train ``protocol`` at next, and why, from the patient's recorded
    trials: the level of the last one, moved by the protocol's progression rule over the trials
    done at that level since the patient got there."""
    if not protocol.levels:
        return 0, ""
    try:
        trials = store.trials(patient=patient, status="complete")
    except InvalidParameterError:  # a new patient
        trials = []
    mine = [t for t in trials if t.protocol == protocol.name and "level" in t.parameters]
    if not mine:
        return 0, "no earlier sessions: level 1"
    level = min(max(int(mine[-1].parameters["level"]) - 1, 0), len(protocol.levels) - 1)
    rule = protocol.progression
    if rule is None:
        return level, f"as last time: level {level + 1}"
    history = []
    for t in reversed(mine):
        if int(t.parameters["level"]) - 1 != level:
            break
        value = t.metrics.get(f"protocol.{rule.metric}")
        history.insert(0, math.nan if value is None else float(value))
    return next_level(rule, level, len(protocol.levels), history)


def choose_level(store, patient: str, protocol, level: int | None) -> tuple[int, str]:
    """The level (0-based) to run at, and why: ``level`` (1-based, the therapist's choice) when
    given, else from the patient's history (:func:`level_from_history`; level 1 without a
    store). A level the protocol does not have raises ProtocolError before anything starts."""
    if level is not None:
        chosen, why = level - 1, ""
    elif store is not None:
        chosen, why = level_from_history(store, patient, protocol)
    else:
        chosen, why = 0, ""
    protocol.steps_at(chosen)
    return chosen, why


def patient_los(patient: str, unit: str, height_m: float = 1.70, data_dir=None):
    """The LOS targets are placed in: the patient's measured one (last ``los`` run) when it is
    in the stream's unit, else the theoretical one from ``height_m``."""
    from nmr_balance.protocols.geometry import LosProfile
    from nmr_balance.protocols.patient_los import load_los

    stored = load_los(patient, data_dir)
    return (
        stored
        if stored is not None and stored.unit == unit
        else LosProfile.theoretical(height_m, unit)
    )


class RecordedRun:
    """A :class:`ProtocolRun` for one patient with its recorder: what ``nmr-balance run`` and the
    dashboard's engine both do with each event and at the end.

    Parameters
    ----------
    run : ProtocolRun
    recorder : ProtocolRecorder or None
        None: results only, nothing stored.
    patient : str
    data_dir : path, optional
        Where the patient's measured LOS is kept (default: the data directory).
    owned : object with ``close()``, optional
        Closed by :meth:`finish` (the store the engine opened for this run).
    """

    def __init__(
        self, run, recorder: ProtocolRecorder | None, patient: str, data_dir=None, owned=None
    ):
        self.run, self.recorder, self.patient, self.data_dir = run, recorder, patient, data_dir
        self.owned = owned
        self.los_path = None

    def on_event(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder.on_event(event)

    @property
    def trial_ids(self) -> list[int]:
        return self.recorder.trial_ids if self.recorder is not None else []

    def finish(self) -> dict[str, Any]:
        """Close the recording (summary into the session notes) and store a measured LOS for the
        patient's later runs; returns ``trial_ids`` and ``los_path`` (or None)."""
        from nmr_balance.protocols.geometry import LosProfile
        from nmr_balance.protocols.patient_los import save_los

        try:
            if self.recorder is not None:
                self.recorder.close(self.run.summary)
        finally:
            if self.owned is not None:
                self.owned.close()
        measured = (self.run.summary or {}).get("measured_los")
        if measured:
            self.los_path = save_los(self.patient, LosProfile.from_dict(measured), self.data_dir)
        return {
            "trial_ids": self.trial_ids,
            "los_path": None if self.los_path is None else str(self.los_path),
        }
