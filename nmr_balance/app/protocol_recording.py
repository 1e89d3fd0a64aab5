"""Recording a protocol run: every trial into the station database, with its protocol scores.

Wiring between the protocol engine (core) and the recordings store (a layer package), so it
lives in the composition root. For each ``trial_started`` event a
:class:`recordings.recorder.Recorder` starts on the pipeline (raw and processed samples, device
events, committed at least every second); target and balance events become trial events;
``trial_done`` stops it as ``complete`` and stores the task's scores as the trial's typed results
(:class:`nmr_balance.results.TrialResults`: stand, LOS, training scores, level);
``trial_interrupted`` closes it as ``interrupted`` (no scores). The session's notes are left to
the therapist: the protocol's summary is computed from the stored trials by
:mod:`nmr_balance.summary`, like every other output.

A source faster than real time (``sim://?realtime=0``, a fast replay) runs in a pull-mode
pipeline (:attr:`nmr_balance.pipeline.Pipeline.pull`): it goes at the run's pace, and each trial
is recorded by sample time, from its first to its last sample, however fast that was. So a whole
session can be produced in seconds for tests, demos and staff training.
"""

from __future__ import annotations

import math
from typing import Any

from nmr_balance.errors import InvalidParameterError
from nmr_balance.protocols.events import Event
from nmr_balance.protocols.progression import next_level
from nmr_balance.results import TrialResults

#: Engine events stored with the trial they belong to.
TRIAL_EVENTS = ("target_shown", "target_hit", "target_missed", "balance_lost")


def faster_than_real_time(source) -> bool:
    """True for a source that is not paced like a sensor (``sim://?realtime=0``, a replay at
    ``speed`` > 1): run it in a pull-mode pipeline and record by sample time."""
    return getattr(source, "realtime", True) is False or getattr(source, "speed", 1.0) > 1.0


class ProtocolRecorder:
    """Turns a run's events into stored trials. Call :meth:`on_event` for every event.

    Parameters
    ----------
    store : recordings.Store
    pipeline : Pipeline
        Started.
    session_id : int
    protocol : Protocol
    level : int or None
        Difficulty level (1-based), stored with each trial; None for protocols without levels.
    """

    def __init__(self, store, pipeline, session_id: int, protocol, level: int | None = None):
        self.store, self.pipeline, self.session_id = store, pipeline, session_id
        self.protocol, self.level = protocol, level
        self.recorder = None
        self.trial_ids: list[int] = []
        self._t0 = 0.0  # sample time the current trial started at
        #: Notes for the trials, in order (the therapist's words; ``--note`` goes to the last).
        self.notes: dict[int, str] = {}

    def on_event(self, event: Event) -> None:
        from nmr_balance.protocols.run import TrialResult
        from nmr_balance.record import Condition
        from recordings.recorder import Recorder

        kind, data = event.kind, event.data
        if kind == "trial_started":
            c = data["condition"]
            parameters = {
                "label": data["label"],
                "task": data["task"],
                "trial": event.trial,
                "t_start_s": event.t_s,
                "duration_s": data["duration_s"],
            }
            if self.level is not None:
                parameters["level"] = self.level
            # a training run's target scaling (target_scale, dwell_scale): what it was scored
            # against; tests are never scaled and say nothing
            parameters.update(data.get("scaling") or {})
            self._t0 = event.t_s
            self.recorder = Recorder(
                self.store,
                self.pipeline,
                self.session_id,
                protocol=self.protocol.name,
                condition=Condition.from_protocol(c["vision"], c["surface"], c["stance"]),
                parameters=parameters,
                # by sample time, live or faster than real time: the trial holds exactly the
                # signal the protocol scored, from its start to its end (its duration when timed)
                start_t_s=event.t_s,
                duration_s=data["duration_s"],
            )
            self.trial_ids.append(self.recorder.start())
        elif self.recorder is None:
            return
        elif kind in TRIAL_EVENTS:
            self.recorder.mark_at(
                event.t_s - self._t0,
                kind,
                **{k: v for k, v in data.items() if k != "t_s"},
                t_stream_s=event.t_s,
            )
        elif kind == "trial_done":
            result = TrialResult.from_dict(data["result"])
            measured = TrialResults.from_dict(self.recorder.stop("complete", end_t_s=event.t_s))
            self.store.set_metrics(
                self.recorder.trial_id, result.typed(self.level, measured).to_dict()
            )
            self.recorder = None
        elif kind == "trial_interrupted":  # device trouble (interrupted) or the therapist (aborted)
            result = data["result"]
            self._close_unscored(result["status"], result["reason"], event.t_s)
        elif kind == "protocol_aborted":  # the therapist stopped it
            self._close_unscored("aborted", data["reason"], event.t_s)

    def _close_unscored(self, status: str, reason: str, t_s: float | None = None) -> None:
        """Close the running trial without protocol scores, keeping what was recorded."""
        from nmr_balance.protocols.run import unscored

        measured = TrialResults.from_dict(self.recorder.stop("aborted", end_t_s=t_s))
        results = unscored(status, reason, self.level, measured)
        self.store.finish_trial(self.recorder.trial_id, status, results.to_dict())
        self.recorder = None

    def close(self) -> None:
        """Stop a trial still recording (as aborted). No summary is stored: every output
        computes it from the stored trials (:func:`nmr_balance.summary.session_summary`)."""
        if self.recorder is not None:
            self._close_unscored("aborted", "run stopped")


def level_from_history(store, patient: str, protocol) -> tuple[int | None, str]:
    """The level (1-based) to train ``protocol`` at next, and why, from the patient's recorded
    trials: the level of the last one, moved by the protocol's progression rule over the trials
    done at that level since the patient got there. None for a protocol without levels."""
    if not protocol.levels:
        return None, ""
    try:
        trials = store.trials(patient=patient, status="complete")
    except InvalidParameterError:  # a new patient
        trials = []
    mine = [t for t in trials if t.protocol == protocol.name and t.level is not None]
    if not mine:
        return 1, "no earlier sessions: level 1"
    level = min(max(mine[-1].level, 1), len(protocol.levels))
    rule = protocol.progression
    if rule is None:
        return level, f"as last time: level {level}"
    history = []
    for t in reversed(mine):
        if t.level != level:
            break
        history.insert(0, _progression_metric(t.results, rule.metric))
    return next_level(rule, level, len(protocol.levels), history)


def _progression_metric(results: TrialResults, metric: str) -> float:
    """The value a progression rule reads from a trial's results (NaN when not scored)."""
    scores = results.training
    if scores is None:
        return math.nan
    return float(getattr(scores, metric, math.nan))


def choose_level(store, patient: str, protocol, level: int | None) -> tuple[int | None, str]:
    """The level (1-based) to run at, and why: ``level`` (the therapist's choice) when given,
    else from the patient's history (:func:`level_from_history`; level 1 without a store).
    None for a protocol without levels. A level the protocol does not have raises
    :class:`~nmr_balance.errors.InvalidParameterError` (naming the valid range) before anything
    starts."""
    if level is not None:
        return protocol.check_level(level), ""
    if store is not None:
        return level_from_history(store, patient, protocol)
    return protocol.check_level(None), ""


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
    """

    def __init__(self, run, recorder: ProtocolRecorder | None, patient: str, data_dir=None):
        self.run, self.recorder, self.patient, self.data_dir = run, recorder, patient, data_dir
        self.los_path = None

    def on_event(self, event: Event) -> None:
        if self.recorder is not None:
            self.recorder.on_event(event)

    @property
    def trial_ids(self) -> list[int]:
        return self.recorder.trial_ids if self.recorder is not None else []

    @property
    def trial_recorder(self):
        """The ``recordings.recorder.Recorder`` of the trial being recorded now (cues and
        markers the therapist gives go to it); None between trials or when nothing is stored."""
        return self.recorder.recorder if self.recorder is not None else None

    def finish(self) -> dict[str, Any]:
        """Close the recording and, when the run finished with a Limits of Stability the
        patient really leaned in (:attr:`nmr_balance.results.LosResult.measured_reach`), keep it
        as the patient's LOS for later runs; returns ``trial_ids`` and ``los_path`` (or None)."""
        from nmr_balance.protocols.geometry import LosProfile
        from nmr_balance.protocols.patient_los import save_los

        if self.recorder is not None:
            self.recorder.close()
        los = self.run.block().los if self.run.phase == "done" else None
        if los is not None and los.measured_reach:
            measured = LosProfile.measured(list(los.measured_reach), self.run.unit)
            self.los_path = save_los(self.patient, measured, self.data_dir)
        return {
            "trial_ids": self.trial_ids,
            "los_path": None if self.los_path is None else str(self.los_path),
        }
