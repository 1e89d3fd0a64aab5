"""The recorder: a pipeline consumer that stores a trial as it happens.

Usage::

    with Pipeline(open_source("sim://")) as pipeline:
        recorder = Recorder(store, pipeline, session.id, protocol="romberg",
                            condition=Condition.parse("eyes_closed,firm"))
        trial_id = recorder.start()
        recorder.cue("look at the dot")          # from any thread
        ...
        metrics = recorder.stop()                # "complete"; stop("aborted") when cancelled

It runs its own thread with its own database connection, reads ``pipeline.raw`` and
``pipeline.processed`` through ring readers, and commits both streams as chunks every
``commit_interval_s`` (<= 1 s), together with events: device lost/back (from the source's status),
signal gaps (counter jumps), reader overruns, and the markers and cues given by callers. A crash
therefore loses at most the last interval; the next :meth:`Store.open` marks the trial
``interrupted``. A full disk stops the recording cleanly: :attr:`error` holds the
:class:`DiskFullError` and :meth:`stop` raises it; what was committed stays intact.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from nmr_balance.errors import (
    DatabaseUnreachableError,
    InvalidParameterError,
    NmrBalanceError,
    StorageError,
)
from nmr_balance.record import CueType
from nmr_balance.source import Status, StatusEvent
from nmr_balance.stream import SampleBlock, sample_time
from recordings._db import default_db_path
from recordings.metrics import trial_metrics
from recordings.mirror import LocalMirror, ensure_uid
from recordings.model import Condition
from recordings.store import PROCESSED, RAW, Store

#: Recording a protocol's trial live by sample time: the newest samples not yet committed, s.
#: The protocol notices the end of a trial when it has read the sample at its end, a few
#: hundredths of a second after it arrived; held back this long, no sample past the end is
#: stored (commit interval + this stays under the 1 s a crash may lose).
HOLD_BACK_S = 0.5

_STATUS_EVENTS = {
    Status.LOST: "device_lost",
    Status.RECONNECTING: "device_reconnecting",
    Status.ENDED: "source_ended",
}


#: A timed trial ends by itself after exactly its duration of signal (``Recorder(duration_s=)``).
#: If the signal stalls (device lost), callers stop it themselves this long after the planned
#: end (wall clock), s.
STALL_GRACE_S = 3.0
#: No new sample for this long (wall clock, s; at least 3 sample periods) while the source is
#: still open means the device stopped sending or is gone: a timed trial ends by itself as
#: ``interrupted``, with a ``trial_incomplete`` event saying why and how much signal was kept.
STALL_TIMEOUT_S = 3.0


class Recorder:
    """Records one trial from a started :class:`~nmr_balance.pipeline.Pipeline` into ``store``.

    Parameters
    ----------
    store : Store
        Where to record (the recorder opens its own connection to the same file).
    pipeline : Pipeline
        Already started (its rings and stream descriptions exist).
    session_id : int
        The session the trial belongs to (:meth:`Store.start_session`).
    protocol, condition, parameters
        What the trial is; ``parameters`` is any JSON-serialisable dict.
    from_start : bool
        Also record what the rings still hold from before :meth:`start` (use it right after
        starting the pipeline, to keep the very first samples).
    commit_interval_s : float
        At most 1 s: the most a crash can lose.
    local_copy : path-like, optional
        Only when ``store`` is the clinic's server: the station's own SQLite file that keeps a
        copy of the trial while it is recorded (:mod:`recordings.mirror`; default: the
        station's default database). If the server goes away mid-trial, recording carries on
        there, :attr:`notices` says so, and ``nmr-balance push`` completes the server's copy
        later; if not, the copy is removed at the end.
    duration_s : float, optional
        Trial length: each stream keeps ``round(duration_s * fs)`` samples' worth of counters
        from its first recorded sample (a gap counts as time, as on the device's clock), then
        the recorder finishes the trial by itself (:attr:`recording` turns False). So a 30 s
        trial at 100 Hz holds samples 0..2999 exactly, whenever the stop command would have come.
        Without it, the trial runs until :meth:`stop`. A timed trial that cannot get its
        duration of signal (the device stalls for ``stall_timeout_s``, or the source ends or
        fails first) ends by itself as ``interrupted`` with a ``trial_incomplete`` event
        (``reason``, ``kept_s``, ``planned_s``, ``n_samples``); so does any trial stopped while
        its signal has been stalled that long. Never ``complete``.
    stall_timeout_s : float
        See :data:`STALL_TIMEOUT_S`.
    start_t_s : float, optional
        Record by sample time (:func:`nmr_balance.stream.sample_time`): the trial is the samples
        from this time on, up to the ``end_t_s`` given to :meth:`stop` (or ``duration_s`` of
        signal), whenever they were read. With a live pipeline the samples are committed as they
        come, all but the newest :data:`HOLD_BACK_S` (the protocol that calls :meth:`stop` may
        end the trial just before them), so a crash still loses less than a second. For a
        source faster than real time (a pull-mode pipeline): nothing is committed until
        :meth:`stop`, which takes the span from the rings (they must still hold it: size them
        for the whole run). A crash before then loses the trial, which a simulated or replayed
        source can make again.
    """

    def __init__(
        self,
        store: Store,
        pipeline,
        session_id: int,
        *,
        protocol: str = "free",
        condition: Condition | None = None,
        parameters: dict[str, Any] | None = None,
        from_start: bool = False,
        commit_interval_s: float = 0.25,
        duration_s: float | None = None,
        start_t_s: float | None = None,
        local_copy: str | Path | None = None,
        stall_timeout_s: float = STALL_TIMEOUT_S,
    ):
        if not 0 < commit_interval_s <= 1.0:
            raise InvalidParameterError("commit_interval_s", commit_interval_s, "0 < s <= 1")
        if duration_s is not None and not duration_s > 0:
            raise InvalidParameterError("duration_s", duration_s, "a positive number of seconds")
        if pipeline.raw is None:
            raise StorageError("the pipeline is not started", "Start it before the recorder")
        self.path = store.location  # a file path or a server URL: the recorder opens its own
        self.pipeline = pipeline
        self.session_id = session_id
        self.protocol, self.condition = protocol, condition or Condition()
        self.parameters = dict(parameters or {})
        self.commit_interval_s = commit_interval_s
        self.from_start = from_start
        self.trial_id: int | None = None
        self.error: NmrBalanceError | None = None
        self.metrics: dict[str, Any] = {}
        self.n_raw = self.n_processed = 0
        #: CPU time the recording loop used (reading, encoding, committing), s; set at the end,
        #: without the final metrics (a one-off that may first load the DSP kernels).
        self.cpu_s = 0.0
        self._events: queue.SimpleQueue = queue.SimpleQueue()
        self._stop = threading.Event()
        self._status = "complete"
        self._thread: threading.Thread | None = None
        self._store: Store | None = None
        self._lock = None
        self._seq = {RAW: 0, PROCESSED: 0}
        self._last_counter: int | None = None
        self._overruns = 0
        self._lost = False
        self._t0_ns = 0
        self.duration_s = duration_s
        self.start_t_s, self.end_t_s = start_t_s, None
        self._end: dict[int, int | None] = {RAW: None, PROCESSED: None}  # first counter past it
        self._held: dict[int, SampleBlock | None] = {RAW: None, PROCESSED: None}  # not yet due
        self._full = {RAW: False, PROCESSED: False}
        self._local_copy_path = local_copy
        self._mirror: LocalMirror | None = None
        #: False once the clinic's server went away mid-trial (recording goes on locally).
        self.online = True
        #: What the person recording should know (e.g. the server went away), in words.
        self.notices: list[str] = []
        self.stall_timeout_s = max(stall_timeout_s, 3.0 / pipeline.raw_info.fs)
        self._last_signal = time.monotonic()
        #: ``recording`` until the trial is closed, then the status it was stored with.
        self.status = "recording"
        #: Why the trial ended ``interrupted`` (empty otherwise).
        self.end_reason = ""

    # --- public ------------------------------------------------------------------------------
    def start(self) -> int:
        """Create the trial (status ``recording``), start the thread; return the trial id."""
        p = self.pipeline
        from_start = self.from_start or self.start_t_s is not None
        self._raw_reader = p.raw.reader(from_start=from_start)
        self._proc_reader = p.processed.reader(from_start=from_start)
        self._t0_ns = time.monotonic_ns()
        self._last_signal = time.monotonic()
        self._store = Store.open(self.path, recover=False)
        try:
            with self._store.transaction():
                self.trial_id = self._store.begin_trial(self.session_id, **self._description())
                self._lock = self._store.claim_trial(self.trial_id)  # before others can see it
            if self._store.is_server:
                self._start_local_copy()
        except BaseException:
            self._store.close()
            raise
        p.source.add_status_listener(self._on_status)
        self._thread = threading.Thread(
            target=self._run, name=f"record trial {self.trial_id}", daemon=True
        )
        self._thread.start()
        return self.trial_id

    def _description(self) -> dict[str, Any]:
        """What the trial is, as ``begin_trial`` takes it (the server's trial and its copy)."""
        p = self.pipeline
        return {
            "raw_info": p.raw_info,
            "info": p.info,
            "protocol": self.protocol,
            "condition": self.condition,
            "parameters": self.parameters,
            "source_url": p.source.url,
        }

    def _start_local_copy(self) -> None:
        self._mirror = LocalMirror(
            self._local_copy_path or default_db_path(), self._store, self.session_id
        )
        uid = ensure_uid(self._store, "trials", self.trial_id)
        self._mirror.begin(uid, **self._description())

    def mark(self, kind: str, **payload: Any) -> None:
        """Log an event now (``marker``, ``target_shown``, ``target_hit``...). Thread-safe."""
        self._events.put((self._now_s(), kind, payload))

    def mark_at(self, t_s: float, kind: str, **payload: Any) -> None:
        """Log an event that happened ``t_s`` seconds (sample time) after the trial's start."""
        self._events.put((float(t_s), kind, payload))

    def cue(self, text: str, type: CueType | str = CueType.UNSPECIFIED, **payload: Any) -> None:
        """Log a cue the therapist gave, with its type (verbal, tactile, visual). Thread-safe.

        Raises :class:`InvalidParameterError` for an unknown type (nothing is logged)."""
        if "mode" in payload:  # the word the first console used
            type = payload.pop("mode")
        self.mark("cue", text=text, type=CueType.parse(type).value, **payload)

    @property
    def recording(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(
        self, status: str = "complete", timeout: float = 30.0, end_t_s: float | None = None
    ) -> dict[str, Any]:
        """Store what is left, compute the metrics, close the trial; return the metrics.

        ``end_t_s``: with ``start_t_s``, the sample time the trial ended at (samples from then
        on are not part of it). ``status`` is what the caller asks for; a trial whose signal
        stalled, or that had already ended as ``interrupted``, stays so (:attr:`status` tells what
        was stored). Raises the error that stopped the recording early (e.g.
        :class:`DiskFullError`).
        """
        if status not in ("complete", "aborted"):
            raise InvalidParameterError("status", status, "complete or aborted")
        if self._status != "interrupted":
            self._status = status
        self.end_t_s = end_t_s
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.metrics

    # --- the recording thread ----------------------------------------------------------------
    def _now_s(self) -> float:
        return (time.monotonic_ns() - self._t0_ns) / 1e9

    def _on_status(self, event: StatusEvent) -> None:
        if self._stop.is_set():
            return  # sources cannot drop a listener; a finished recorder ignores them
        kind = _STATUS_EVENTS.get(event.status)
        if event.status is Status.STREAMING and self._lost:
            kind = "device_back"
        if event.status in (Status.LOST, Status.RECONNECTING):
            self._lost = True
        elif event.status is Status.STREAMING:
            self._lost = False
        if kind:
            t = event.t_monotonic - self._t0_ns / 1e9
            self._events.put((t, kind, {"message": event.message}))

    def _run(self) -> None:
        cpu0 = time.thread_time()
        last_commit = time.monotonic()
        try:
            if self.start_t_s is not None and getattr(self.pipeline, "pull", False):
                self._stop.wait()  # by sample time: the span is taken from the rings at the end
            while not self._stop.wait(min(0.05, self.commit_interval_s / 2)):
                if time.monotonic() - last_commit >= self.commit_interval_s:
                    self._flush()
                    last_commit = time.monotonic()
                    if self.duration_s is not None and not self._stop.is_set():
                        self._check_incomplete(timed=True)
            self._flush()  # the last samples (the pipeline may still be running)
            if self._status == "complete" and self.start_t_s is None:
                self._check_incomplete(timed=self.duration_s is not None)
                self._flush()  # its event, if any
            self.cpu_s = time.thread_time() - cpu0
            if self.online:
                try:
                    processed = self._store.samples(self.trial_id, PROCESSED)
                    self.metrics = trial_metrics(processed, self.pipeline.info)
                    self._store.finish_trial(self.trial_id, self._status, self.metrics)
                except DatabaseUnreachableError as e:
                    if self._mirror is None:
                        raise
                    self._go_offline(e)
            if self._mirror is not None:
                if self.online:
                    self._mirror.discard()
                else:
                    processed = self._mirror.store.samples(self._mirror.trial_id, PROCESSED)
                    self.metrics = trial_metrics(processed, self.pipeline.info)
                    self._mirror.finish(self._status, self.metrics)
            self.status = self._status
        except NmrBalanceError as e:
            self.error = e
            self._give_up()
        finally:
            self._close()

    def _check_incomplete(self, timed: bool) -> None:
        """End the trial as ``interrupted`` (its event goes with the next flush) if its signal
        stalled, or if a timed trial's source ended or failed before its duration was in."""
        if self._full[RAW] and self._full[PROCESSED]:
            return
        p = self.pipeline
        silent_s = time.monotonic() - self._last_signal
        if p.running and silent_s >= self.stall_timeout_s:
            lost = p.source.status in (Status.LOST, Status.RECONNECTING)
            how = "the device was lost" if lost else "the device stopped sending"
            reason = f"{how}: no signal from {p.source.url} for {silent_s:.1f} s"
        elif not p.running and timed:
            reason = f"acquisition failed: {p.error}" if p.error else "the source ended"
        else:
            return
        kept_s = self.n_processed / p.info.fs
        planned = f" of {self.duration_s:g} s planned" if self.duration_s is not None else ""
        self.end_reason = f"{reason}; {kept_s:.1f} s of signal kept{planned}"
        self._status = "interrupted"
        payload = {
            "reason": reason,
            "kept_s": kept_s,
            "planned_s": self.duration_s,
            "n_samples": self.n_processed,
        }
        self._events.put((self._now_s(), "trial_incomplete", payload))
        self._stop.set()

    def _flush(self) -> None:
        raw = self._within_span(self._due(RAW, self._raw_reader.read()), self.pipeline.raw_info)
        proc = self._within_span(self._due(PROCESSED, self._proc_reader.read()), self.pipeline.info)
        raw = self._within_duration(RAW, raw, self.pipeline.raw_info.fs)
        proc = self._within_duration(PROCESSED, proc, self.pipeline.info.fs)
        if len(raw):
            self._last_signal = time.monotonic()
        if self._full[RAW] and self._full[PROCESSED]:
            self._stop.set()  # the duration is up: this is the last flush of the trial
        events = []
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        if len(raw):
            missing = raw.gaps(self._last_counter)
            if missing:
                events.append(
                    (
                        self._now_s(),
                        "signal_gap",
                        {"missing": missing, "before_counter": int(raw.counter[-1])},
                    )
                )
            self._last_counter = int(raw.counter[-1])
        lost = self._raw_reader.overruns + self._proc_reader.overruns
        if lost > self._overruns:  # the recorder fell a whole ring behind: say so, loudly
            events.append((self._now_s(), "overrun", {"samples": lost - self._overruns}))
            self._overruns = lost
        if not (len(raw) or len(proc) or events):
            return
        chunks = [(s, self._seq[s], b) for s, b in ((RAW, raw), (PROCESSED, proc)) if len(b)]
        if self._mirror is not None:  # first the station's own copy: nothing lost, come what may
            self._mirror.write(chunks, events)
        if self.online:
            try:
                with self._store.transaction():
                    for stream, seq, block in chunks:
                        self._store.append_chunk(self.trial_id, stream, seq, block)
                    for t, kind, payload in events:
                        self._store.add_event(self.trial_id, t, kind, payload)
            except DatabaseUnreachableError as e:
                if self._mirror is None:
                    raise
                self._go_offline(e)
        for stream, _, _ in chunks:
            self._seq[stream] += 1
        self.n_raw += len(raw)
        self.n_processed += len(proc)

    def _due(self, stream: int, block: SampleBlock) -> SampleBlock:
        """Recording by sample time from a live pipeline: all but the newest
        :data:`HOLD_BACK_S` of signal, kept for the next flush, until the trial is stopped (its
        end is then known, and :meth:`_within_span` cuts there)."""
        held = self._held[stream]
        if held is not None and len(held):
            block = SampleBlock.concat([held, block], held.n_channels)
        self._held[stream] = None
        if self.start_t_s is None or self._stop.is_set() or not len(block):
            return block
        info = self.pipeline.raw_info if stream == RAW else self.pipeline.info
        t = sample_time(block, info)
        cut = int(np.searchsorted(t, t[-1] - HOLD_BACK_S, side="right"))
        self._held[stream] = block.slice(cut, len(block))
        return block.slice(0, cut)

    def _within_span(self, block: SampleBlock, info) -> SampleBlock:
        """``block`` cut to ``[start_t_s, end_t_s)`` in sample time (all of it without them)."""
        if self.start_t_s is None or not len(block):
            return block
        t = sample_time(block, info)
        first = int(np.searchsorted(t, self.start_t_s, side="left"))
        end = len(t) if self.end_t_s is None else int(np.searchsorted(t, self.end_t_s, "left"))
        return block.slice(first, max(first, end))

    def _within_duration(self, stream: int, block: SampleBlock, fs: float) -> SampleBlock:
        """``block`` cut at the end of the trial's duration (all of it without a duration)."""
        if self.duration_s is None or not len(block):
            return block
        if self._end[stream] is None:
            self._end[stream] = int(block.counter[0]) + max(1, round(self.duration_s * fs))
        keep = int(np.searchsorted(block.counter, self._end[stream]))
        if keep < len(block) or block.counter[-1] >= self._end[stream] - 1:
            self._full[stream] = True  # also when the last sample is exactly the last one
            return block.slice(0, keep)
        return block

    def _go_offline(self, error: DatabaseUnreachableError) -> None:
        """The server went away: keep recording into the station's own copy, and say so."""
        self.online = False
        t = self._now_s()
        message = (
            f"the database server went away {t:.1f} s into trial {self.trial_id} "
            f"({error.reason}); recording goes on in {self._mirror.path}. Nothing is lost: "
            f"run `nmr-balance push --db {self._mirror.path} --to <server URL>` when it is back"
        )
        self.notices.append(message)
        self._mirror.write([], [(t, "server_lost", {"message": message})])

    def _give_up(self) -> None:
        """After a storage failure: try to close the trial as aborted (the disk may refuse)."""
        self.status = "aborted"
        try:
            self._store.finish_trial(self.trial_id, "aborted", {"error": self.error.message})
        except NmrBalanceError:
            pass  # left 'recording' without a lock: the next open marks it interrupted

    def _close(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(NmrBalanceError):
                self._lock.release()
        if self._mirror is not None:
            self._mirror.close()
        if self._store is not None:
            self._store.close()
