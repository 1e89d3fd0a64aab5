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

from nmr_balance.errors import NmrBalanceError, SourceError
from nmr_balance.pipeline import Pipeline
from nmr_balance.source import Source

#: How often the engine reports its stats, s.
STATS_INTERVAL_S = 0.2


class TrialRecorder(Protocol):
    """What the engine needs from a recorder (``recordings.Recorder`` fits)."""

    recording: bool  # False once it ended by itself (its duration is up, or storing failed)
    error: Exception | None  # what made it fail

    def start(self) -> int: ...
    def mark(self, kind: str, **payload: Any) -> None: ...
    def cue(self, text: str, **payload: Any) -> None: ...
    def stop(self, status: str = "complete") -> dict[str, Any]: ...


#: ``make_recorder(pipeline, session_id, protocol, condition, parameters) -> TrialRecorder``
RecorderFactory = Callable[..., TrialRecorder]

#: How often a running protocol's display is sent to the UI, s.
DISPLAY_INTERVAL_S = 0.1


class ProtocolSession(Protocol):
    """A protocol run with its recording (``app.protocol_recording.RecordedRun`` fits)."""

    run: Any  # ProtocolRun

    def on_event(self, event) -> None: ...
    def finish(self) -> dict[str, Any]: ...


#: ``make_protocol_run(pipeline, session_id, patient, protocol, level, seed) -> (ProtocolSession,
#: facts about it for the UI)``
ProtocolFactory = Callable[..., tuple[ProtocolSession, dict[str, Any]]]


def error_message(e: BaseException) -> dict[str, Any]:
    """An ``error`` reply for ``e``: typed errors keep their message and hint."""
    if isinstance(e, NmrBalanceError):
        return {
            "kind": "error",
            "message": e.message,
            "hint": e.hint,
            "error_type": type(e).__name__,
        }
    return {
        "kind": "error",
        "message": f"{type(e).__name__}: {e}",
        "hint": "",
        "error_type": type(e).__name__,
    }


class EngineLoop:
    """The engine side: owns the pipeline and the recorder, obeys commands, reports.

    Parameters
    ----------
    replies : queue-like
        Where messages to the UI go (``put``).
    open_source : callable
        ``open_source(url) -> Source`` (the composition root's).
    make_recorder : callable, optional
        Builds a recorder for a trial; without one, ``start_trial`` answers with an error.
    make_protocol_run : callable, optional
        Builds a recorded protocol run; without one, ``start_protocol`` answers with an error.
    """

    def __init__(
        self,
        replies,
        open_source: Callable[[str], Source],
        make_recorder: RecorderFactory | None = None,
        make_protocol_run: ProtocolFactory | None = None,
    ):
        self.replies = replies
        self.open_source = open_source
        self.make_recorder = make_recorder
        self.make_protocol_run = make_protocol_run
        self.protocol: ProtocolSession | None = None
        self._feeder = None
        self._status_log = None
        self._last_display = 0.0
        self.pipeline: Pipeline | None = None
        self.recorder: TrialRecorder | None = None
        self.trial_id: int | None = None
        self._ended_by_itself = False  # the last trial ended without a stop command
        self._last_stats = 0.0

    def reply(self, kind: str, **fields: Any) -> None:
        self.replies.put({"kind": kind, **fields})

    # --- commands ------------------------------------------------------------------------------
    def handle(self, command: dict[str, Any]) -> bool:
        """Carry out one command; False when the engine should shut down."""
        name = command.get("cmd")
        try:
            if name == "shutdown":
                return False
            handler = getattr(self, f"_cmd_{name}", None)
            if handler is None:
                raise SourceError(
                    f"the engine does not know the command {name!r}",
                    "Update the dashboard and the engine together",
                )
            handler(**{k: v for k, v in command.items() if k != "cmd"})
        except Exception as e:  # reported to the UI; the engine keeps running
            self.replies.put(error_message(e))
        return True

    def _cmd_switch_source(self, url: str) -> None:
        self._cmd_abort_protocol("the source was switched")
        self._stop_recording("aborted")
        self._close_pipeline()
        from nmr_balance.protocols.runner import StatusLog

        pipeline = Pipeline(self.open_source(url), shared=True)
        # one status log per source (a listener cannot be removed): each protocol run reads it
        self._status_log = StatusLog(pipeline)
        pipeline.start()
        self.pipeline = pipeline
        self.reply(
            "ready",
            url=url,
            raw_ring=pipeline.raw.name,
            processed_ring=pipeline.processed.name,
            raw_info=pipeline.raw_info.to_dict(),
            info=pipeline.info.to_dict(),
        )

    def _cmd_start_trial(
        self,
        session_id: int,
        protocol: str = "free",
        condition: str = "",
        parameters: dict | None = None,
    ) -> None:
        if self.pipeline is None:
            raise SourceError("no source is connected", "Connect a source before starting a trial")
        self._check_idle()
        if self.make_recorder is None:
            raise SourceError("this engine cannot record", "Install the recordings package")
        recorder = self.make_recorder(
            self.pipeline, session_id, protocol, condition, parameters or {}
        )
        self.trial_id = recorder.start()
        self.recorder = recorder
        self._ended_by_itself = False
        self.reply("trial_started", trial_id=self.trial_id)

    def _check_idle(self) -> None:
        if self.recorder is not None or self.protocol is not None:
            raise SourceError(
                "a trial or protocol is already running", "Stop it before starting another"
            )

    def _cmd_start_protocol(
        self, session_id: int, patient: str, protocol: str, level: int | None = None, seed: int = 0
    ) -> None:
        from nmr_balance.protocols.runner import RunFeeder

        if self.pipeline is None:
            raise SourceError(
                "no source is connected", "Connect a source before starting a protocol"
            )
        self._check_idle()
        if self.make_protocol_run is None:
            raise SourceError("this engine cannot run protocols", "Install the recordings package")
        session, facts = self.make_protocol_run(
            self.pipeline, session_id, patient, protocol, level, seed
        )
        # only the samples from now on: the pipeline has been streaming before the run
        self._feeder = RunFeeder(session.run, self.pipeline, self._status_log, from_start=False)
        self.protocol = session
        self.reply("protocol_started", **facts)

    def _cmd_abort_protocol(self, reason: str = "stopped by the therapist") -> None:
        if self.protocol is not None:
            self._dispatch(self.protocol.run.abort(reason))
            self._finish_protocol()

    def _dispatch(self, events) -> None:
        for e in events:
            self.protocol.on_event(e)
            self.reply("protocol_event", event=e.to_dict())

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
            self.replies.put(error_message(e))
            self._dispatch(run.abort(f"stopped by an error: {e}"))
        if time.monotonic() - self._last_display >= DISPLAY_INTERVAL_S or run.finished:
            self._send_display(run)
        if run.finished:
            self._finish_protocol()

    def _send_display(self, run) -> None:
        self._last_display = time.monotonic()
        self.reply("protocol_display", display=run.display())

    def _finish_protocol(self) -> None:
        session, self.protocol, self._feeder = self.protocol, None, None
        run = session.run
        stored: dict[str, Any] = {"trial_ids": [], "los_path": None}
        try:
            stored = session.finish()
        finally:
            self.reply(
                "protocol_done",
                phase=run.phase,
                results=[r.to_dict() for r in run.results],
                summary=run.summary,
                **stored,
            )

    def _cmd_stop_trial(self, status: str = "complete") -> None:
        if self.recorder is None and self._ended_by_itself:
            return  # the UI's stop crossed the trial's own end (trial_stopped is on its way)
        if self.recorder is None:
            raise SourceError("no trial is being recorded", "Start a trial first")
        self._stop_recording(status)

    def _cmd_marker(self, kind: str = "marker", payload: dict | None = None) -> None:
        if self.recorder is not None:
            self.recorder.mark(kind, **(payload or {}))

    def _cmd_cue(self, text: str) -> None:
        if self.recorder is None:
            raise SourceError("cues are logged with a trial", "Start a trial, then type the cue")
        self.recorder.cue(text)

    def _cmd_tare(self) -> None:
        self._call_stages("tare", "zeroed the load (tare)")

    def _cmd_level(self) -> None:
        self._call_stages("level", "levelled the board (current tilt is the new zero)")

    def _call_stages(self, method: str, done: str) -> None:
        if self.pipeline is None:
            raise SourceError("no source is connected", "Connect a source first")
        targets = [
            getattr(s, method) for s in self.pipeline.stages if callable(getattr(s, method, None))
        ]
        if not targets:
            kind = self.pipeline.raw_info.kind.value
            self.reply("notice", message=f"this source ({kind}) has nothing to {method}")
            return
        for fn in targets:
            self.pipeline.call_soon(fn)
        self.reply("notice", message=done)

    # --- housekeeping --------------------------------------------------------------------------
    def _stop_recording(self, status: str) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        trial_id, self.trial_id = self.trial_id, None
        try:
            metrics = recorder.stop(status)
        finally:
            self.reply("trial_stopped", trial_id=trial_id, status=status)
        self.reply("trial_metrics", trial_id=trial_id, metrics=metrics)

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
            # it ended by itself: the trial's duration is up (or storing failed: stop() says why)
            self._ended_by_itself = True
            try:
                self._stop_recording("aborted" if self.recorder.error is not None else "complete")
            except Exception as e:
                self.replies.put(error_message(e))
        for event in p.events():
            self.reply("status", status=event.status.value, message=event.message)
        now = time.monotonic()
        if now - self._last_stats >= STATS_INTERVAL_S:
            self._last_stats = now
            self.reply("stats", **dataclasses.asdict(p.stats()))

    def close(self) -> None:
        try:
            self._cmd_abort_protocol("the engine was shut down")
            self._stop_recording("aborted")
        finally:
            self._close_pipeline()

    def serve(self, commands, source_url: str | None = None) -> None:
        """Run until ``shutdown``, or until the UI's process is gone (then a running trial is
        closed as aborted, with every sample stored so far kept)."""
        parent = multiprocessing.parent_process()  # None when not run as a child process
        try:
            if source_url:
                self.handle({"cmd": "switch_source", "url": source_url})
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
    "TrialRecorder",
    "error_message",
]
