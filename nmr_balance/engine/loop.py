"""The engine process's loop: acquisition, DSP, recorder and protocol runs, obeying commands.

:class:`EngineLoop` runs in the engine process (entry: :mod:`nmr_balance.app.engine_process`),
next to the pipeline and the recorder; the UI's side is :class:`nmr_balance.engine.host.EngineHost`.
A protocol run lives here too, so a frozen UI cannot disturb its timing or its recording: the
loop feeds it between commands. Nothing here imports Qt or a layer package: the composition
root supplies how to open a source and how to record.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import time
from collections.abc import Callable
from typing import Any, Protocol

from nmr_balance.engine import messages as m
from nmr_balance.errors import EngineStateError, InvalidParameterError
from nmr_balance.pipeline import Pipeline
from nmr_balance.record import CueType
from nmr_balance.source import Source

#: How often the engine reports its stats, s.
STATS_INTERVAL_S = 0.2


class TrialRecorder(Protocol):
    """What the engine needs from a recorder (``recordings.Recorder`` fits)."""

    recording: bool  # False once it ended by itself (its duration is up, the signal stalled,
    # or storing failed)
    error: Exception | None  # what made it fail
    status: str  # once stopped: the status stored (a stalled trial is ``interrupted``)
    notices: list[str]  # what the therapist should know (e.g. the server went away mid-trial)

    def start(self) -> int: ...
    def mark(self, kind: str, **payload: Any) -> None: ...
    def cue(self, text: str, type: CueType | str = CueType.UNSPECIFIED, **payload: Any) -> None: ...
    def stop(self, status: str = "complete") -> dict[str, Any]: ...


#: ``make_recorder(pipeline, session_id, protocol, condition, parameters) -> TrialRecorder``
RecorderFactory = Callable[..., TrialRecorder]

#: How often a running protocol's display is sent to the UI, s.
DISPLAY_INTERVAL_S = 0.1


class ProtocolSession(Protocol):
    """A protocol run with its recording (``app.protocol_recording.RecordedRun`` fits)."""

    run: Any  # ProtocolRun
    #: the recorder of the run's trial being recorded now (None between its trials)
    trial_recorder: TrialRecorder | None

    def on_event(self, event) -> None: ...
    def finish(self) -> dict[str, Any]: ...


#: ``make_protocol_run(pipeline, session_id, patient, protocol, level, seed, scaling=...) ->
#: (ProtocolSession, facts about it for the UI)``; ``scaling`` is the command's
#: :class:`~nmr_balance.protocols.scaling.TargetScaling`
ProtocolFactory = Callable[..., tuple[ProtocolSession, dict[str, Any]]]


class StationRecords(Protocol):
    """The station database's writes the console asks for (``recordings.Store`` fits)."""

    def add_patient(self, code: str, **fields: Any) -> Any: ...
    def start_session(self, patient: str, **fields: Any) -> Any: ...  # -> .id
    def set_trial_notes(self, trial_id: int, notes: str) -> None: ...
    def end_session(self, session_id: int, **fields: Any) -> Any: ...
    def update_session(self, session_id: int, **fields: Any) -> Any: ...
    def sign_session(self, session_id: int, by: str, **fields: Any) -> Any: ...  # -> Signature


class EngineLoop:
    """The engine side: owns the pipeline, the recorder and the station records, obeys commands
    (:mod:`nmr_balance.engine.messages`), reports.

    Parameters
    ----------
    replies : queue-like
        Where replies to the UI go (``put``).
    open_source : callable
        ``open_source(url) -> Source`` (the composition root's).
    make_recorder : callable, optional
        Builds a recorder for a trial; without one, ``StartTrial`` answers with an error.
    make_protocol_run : callable, optional
        Builds a recorded protocol run; without one, ``StartProtocol`` answers with an error.
    records : StationRecords, optional
        The station database, open for the engine's whole life: the console's record commands
        (patients, sessions, notes) are written through it. Without it they answer with an error.
    """

    def __init__(
        self,
        replies,
        open_source: Callable[[str], Source],
        make_recorder: RecorderFactory | None = None,
        make_protocol_run: ProtocolFactory | None = None,
        records: StationRecords | None = None,
    ):
        self.replies = replies
        self.open_source = open_source
        self.make_recorder = make_recorder
        self.make_protocol_run = make_protocol_run
        self.records = records
        self.protocol: ProtocolSession | None = None
        self._feeder = None
        self._status_log = None
        self._last_display = 0.0
        self.pipeline: Pipeline | None = None
        self.recorder: TrialRecorder | None = None
        self.trial_id: int | None = None
        self._ended_by_itself = False  # the last trial ended without a stop command
        self._last_stats = 0.0
        self._handlers: dict[type, Callable[[Any], None]] = {
            m.SwitchSource: self._switch_source,
            m.StartTrial: self._start_trial,
            m.StopTrial: self._stop_trial,
            m.Marker: self._marker,
            m.Cue: self._cue,
            m.Tare: lambda c: self._call_stages("tare", "zeroed the load (tare)"),
            m.Level: lambda c: self._call_stages(
                "level", "levelled the board (current tilt is the new zero)"
            ),
            m.StartProtocol: self._start_protocol,
            m.AbortProtocol: lambda c: self._abort_protocol(c.reason),
            m.AddPatient: self._add_patient,
            m.StartSession: self._start_session,
            m.SaveTrialNotes: self._save_trial_notes,
            m.EndSession: self._end_session,
            m.SignSession: self._sign_session,
        }

    def reply(self, message: m.Reply) -> None:
        self.replies.put(message)

    # --- commands ------------------------------------------------------------------------------
    def handle(self, command: m.Command) -> bool:
        """Carry out one command; False when the engine should shut down."""
        try:
            command = m.check_command(command)
            if isinstance(command, m.Shutdown):
                return False
            handler = self._handlers.get(type(command))
            if handler is None:
                raise EngineStateError(
                    f"the engine cannot carry out {type(command).__name__}",
                    "Update the dashboard and the engine together",
                )
            handler(command)
        except Exception as e:  # reported to the UI; the engine keeps running
            self.reply(m.Error.of(e))
        return True

    def _switch_source(self, c: m.SwitchSource) -> None:
        self._abort_protocol("the source was switched")
        self._stop_recording("aborted")
        self._close_pipeline()
        from nmr_balance.protocols.runner import StatusLog

        pipeline = Pipeline(self.open_source(c.url), shared=True)
        # one status log per source (a listener cannot be removed): each protocol run reads it
        self._status_log = StatusLog(pipeline)
        pipeline.start()
        self.pipeline = pipeline
        self.reply(
            m.Ready(
                url=c.url,
                raw_ring=pipeline.raw.name,
                processed_ring=pipeline.processed.name,
                raw_info=pipeline.raw_info.to_dict(),
                info=pipeline.info.to_dict(),
            )
        )

    def _need_source(self, what: str) -> Pipeline:
        if self.pipeline is None:
            raise EngineStateError("no source is connected", f"Connect a source before {what}")
        return self.pipeline

    def _start_trial(self, c: m.StartTrial) -> None:
        from nmr_balance.protocols.library import check_single_trial

        pipeline = self._need_source("starting a trial")
        self._check_idle()
        check_single_trial(c.protocol)  # a target exercise runs as a protocol (StartProtocol)
        if self.make_recorder is None:
            raise EngineStateError("this engine cannot record", "Install the recordings package")
        recorder = self.make_recorder(
            pipeline, c.session_id, c.protocol, c.condition, dict(c.parameters)
        )
        self.trial_id = recorder.start()
        self.recorder = recorder
        self._ended_by_itself = False
        self.reply(m.TrialStarted(self.trial_id))

    def _check_idle(self) -> None:
        if self.recorder is not None or self.protocol is not None:
            raise EngineStateError(
                "a trial or protocol is already running", "Stop it before starting another"
            )

    def _start_protocol(self, c: m.StartProtocol) -> None:
        from nmr_balance.protocols.runner import RunFeeder

        pipeline = self._need_source("starting a protocol")
        self._check_idle()
        if self.make_protocol_run is None:
            raise EngineStateError(
                "this engine cannot run protocols", "Install the recordings package"
            )
        session, facts = self.make_protocol_run(
            pipeline, c.session_id, c.patient, c.protocol, c.level, c.seed, scaling=c.scaling
        )
        # only the samples from now on: the pipeline has been streaming before the run
        self._feeder = RunFeeder(session.run, pipeline, self._status_log, from_start=False)
        self.protocol = session
        self.reply(m.ProtocolStarted(facts))

    def _abort_protocol(self, reason: str) -> None:
        if self.protocol is not None:
            self._dispatch(self.protocol.run.abort(reason))
            self._finish_protocol()

    def _dispatch(self, events) -> None:
        for e in events:
            self.protocol.on_event(e)
            self.reply(m.ProtocolEvent(e.to_dict()))

    def _drive_protocol(self) -> None:
        """Feed the run what has arrived; send the display now and then; finish it when done."""
        run = self.protocol.run
        try:
            for _ in range(1000):  # bounded: commands are never starved
                where = (run.phase, run.index)
                events, n = self._feeder.step()
                self._dispatch(events)
                if (run.phase, run.index) != where:  # every phase is shown, even when catching up
                    self._send_display(run)
                if n == 0 or run.finished:
                    break
        except Exception as e:  # e.g. the disk is full: stop the run, keep what was recorded
            self.reply(m.Error.of(e))
            self._dispatch(run.abort(f"stopped by an error: {e}"))
        if time.monotonic() - self._last_display >= DISPLAY_INTERVAL_S or run.finished:
            self._send_display(run)
        if run.finished:
            self._finish_protocol()

    def _send_display(self, run) -> None:
        self._last_display = time.monotonic()
        self.reply(m.ProtocolDisplay(run.display()))

    def _finish_protocol(self) -> None:
        session, self.protocol, self._feeder = self.protocol, None, None
        run = session.run
        stored: dict[str, Any] = {"trial_ids": [], "los_path": None}
        try:
            stored = session.finish()
        finally:
            self.reply(
                m.ProtocolDone(
                    phase=run.phase,
                    results=[r.to_dict() for r in run.results],
                    trial_ids=list(stored.get("trial_ids") or []),
                    los_path=stored.get("los_path"),
                )
            )

    def _stop_trial(self, c: m.StopTrial) -> None:
        if self.recorder is None and self._ended_by_itself:
            return  # the UI's stop crossed the trial's own end (TrialStopped is on its way)
        if self.recorder is None:
            raise EngineStateError("no trial is being recorded", "Start a trial first")
        self._stop_recording(c.status)

    def _marker(self, c: m.Marker) -> None:
        if c.kind == "cue":  # a cue's type is checked on the way in: only m.Cue logs one
            raise InvalidParameterError("marker kind", c.kind, "any kind but 'cue': send a Cue")
        recorder = self._recording_trial()
        if recorder is not None:
            recorder.mark(c.kind, **c.payload)

    def _cue(self, c: m.Cue) -> None:
        recorder = self._recording_trial()
        if recorder is None:
            raise EngineStateError(
                "cues are logged with a trial",
                "Type the cue while a trial records (a protocol's: during its trial, not its "
                "countdown or rest)",
            )
        recorder.cue(c.text, type=c.cue_type)

    def _recording_trial(self) -> TrialRecorder | None:
        """The recorder of the trial being recorded now: the free trial's, or the running
        protocol's current trial's (None between a protocol's trials)."""
        if self.recorder is not None:
            return self.recorder
        return self.protocol.trial_recorder if self.protocol is not None else None

    def _call_stages(self, method: str, done: str) -> None:
        pipeline = self._need_source(f"asking it to {method}")
        targets = [
            getattr(s, method) for s in pipeline.stages if callable(getattr(s, method, None))
        ]
        if not targets:
            kind = pipeline.raw_info.kind.value
            self.reply(m.Notice(f"this source ({kind}) has nothing to {method}"))
            return
        for fn in targets:
            pipeline.call_soon(fn)
        self.reply(m.Notice(done))

    # --- the record (this process is the station database's one writer) -----------------------
    def _need_records(self) -> StationRecords:
        if self.records is None:
            raise EngineStateError(
                "this engine has no station database", "Start the dashboard with a database (--db)"
            )
        return self.records

    def _add_patient(self, c: m.AddPatient) -> None:
        patient = self._need_records().add_patient(c.code)
        self.reply(m.PatientAdded(patient.code))

    def _start_session(self, c: m.StartSession) -> None:
        session = self._need_records().start_session(
            c.patient,
            therapist=c.therapist,
            station=c.station,
            pain_before=c.pain_before,
            borg_before=c.borg_before,
        )
        self.reply(m.SessionStarted(session.id, c.patient))

    def _save_trial_notes(self, c: m.SaveTrialNotes) -> None:
        self._need_records().set_trial_notes(c.trial_id, c.notes)
        self.reply(m.TrialNotesSaved(c.trial_id))

    def _end_session(self, c: m.EndSession) -> None:
        records = self._need_records()
        records.end_session(c.session_id, pain_after=c.pain_after, borg_after=c.borg_after)
        if c.response:
            records.update_session(c.session_id, response=c.response)
        self.reply(m.SessionEnded(c.session_id))

    def _sign_session(self, c: m.SignSession) -> None:
        from nmr_balance.reporting.config import station_report_config

        records = self._need_records()
        # read now, as the console read it to show the note: the note is signed as worded
        # with the station's settings, never with defaults standing in for a broken file
        config, problem = station_report_config()
        if config is None:
            raise EngineStateError(problem)
        sig = records.sign_session(c.session_id, c.by, shown=c.shown, config=config)
        self.reply(m.SessionSigned(c.session_id, sig.by, sig.at, sig.sha256))

    # --- housekeeping --------------------------------------------------------------------------
    def _stop_recording(self, status: str) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        trial_id, self.trial_id = self.trial_id, None
        try:
            metrics = recorder.stop(status)
        finally:  # what was stored: a stalled trial stays interrupted whatever was asked
            stored = getattr(recorder, "status", "recording")
            status = status if stored == "recording" else stored
            self.reply(m.TrialStopped(trial_id, status))
            if status == "interrupted":
                reason = getattr(recorder, "end_reason", "")
                self.reply(m.Notice(f"trial {trial_id} is incomplete: {reason}"))
            for notice in getattr(recorder, "notices", ()):  # e.g. the clinic's server went away
                self.reply(m.Notice(notice))
        self.reply(m.TrialMetrics(trial_id, metrics))

    def _close_pipeline(self) -> None:
        pipeline, self.pipeline = self.pipeline, None
        if pipeline is not None:
            pipeline.close()

    def tick(self) -> None:
        """Forward status events and, every :data:`STATS_INTERVAL_S`, the stats."""
        p = self.pipeline
        if p is None:
            return
        if self.protocol is not None:
            self._drive_protocol()
        if self.recorder is not None and not self.recorder.recording:
            # it ended by itself: the trial's duration is up, its signal stalled (the recorder
            # keeps it interrupted), or storing failed (stop() says why)
            self._ended_by_itself = True
            try:
                self._stop_recording("aborted" if self.recorder.error is not None else "complete")
            except Exception as e:
                self.reply(m.Error.of(e))
        for event in p.events():
            self.reply(m.StatusChanged(event.status.value, event.message))
        now = time.monotonic()
        if now - self._last_stats >= STATS_INTERVAL_S:
            self._last_stats = now
            self.reply(m.Stats(dataclasses.asdict(p.stats())))

    def close(self) -> None:
        try:
            self._abort_protocol("the engine was shut down")
            self._stop_recording("aborted")
        finally:
            self._close_pipeline()

    def serve(self, commands, source_url: str | None = None) -> None:
        """Run until :class:`~.messages.Shutdown`, or until the UI's process is gone (then a
        running trial is closed as aborted, with every sample stored so far kept)."""
        parent = multiprocessing.parent_process()  # None when not run as a child process
        try:
            if source_url:
                self.handle(m.SwitchSource(source_url))
            while parent is None or parent.is_alive():
                try:
                    command = commands.get(timeout=0.05)
                except queue.Empty:
                    command = None
                except (EOFError, OSError):
                    break
                if command is not None and not self.handle(command):
                    break
                self.tick()
        finally:
            self.close()


__all__ = [
    "EngineLoop",
    "ProtocolFactory",
    "ProtocolSession",
    "RecorderFactory",
    "StationRecords",
    "TrialRecorder",
]
