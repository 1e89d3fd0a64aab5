"""Feeding a :class:`ProtocolRun` from a live pipeline: ``nmr-balance run`` headless, and the
engine process (:class:`nmr_balance.engine.loop.EngineLoop`) while the dashboard runs (the UI
only shows what the engine reports). The run reads the processed ring with its own reader and hears the source's status
events, so a device that drops out pauses the run instead of being scored.

Status events are applied in stream order: a :class:`StatusLog` (made before the pipeline
starts) stamps each with how many processed samples existed when it happened (the listener runs
on the acquisition thread, inside ``read``), and the run gets it only after it has consumed
exactly those samples. A run that lags behind the sensor (a fast replay, a busy machine) thus
still interrupts the trial at the right sample.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable

from nmr_balance.pipeline import Pipeline
from nmr_balance.protocols.events import Event
from nmr_balance.protocols.run import ProtocolRun
from nmr_balance.source import Status

EventSink = Callable[[Event], None]

#: No new sample for this long (wall clock, s) with the source still open: the device stopped
#: sending. The trial in progress is interrupted (stored ``interrupted``, never scored) and the
#: run pauses; it is redone from its countdown when samples flow again, as after a device loss.
STALL_TIMEOUT_S = 3.0
#: No sample for this long (s), paused or not (a device lost for good keeps reconnecting): the
#: run ends, ``aborted``, with the reason. A headless run never hangs on a silent device.
GIVE_UP_S = 30.0


class StatusLog:
    """The source's status events, each with the processed-sample count at that moment.

    Create it before ``pipeline.start()`` so that no event is missed.
    """

    def __init__(self, pipeline: Pipeline):
        self.pending: collections.deque = collections.deque()
        pipeline.source.add_status_listener(
            lambda e: self.pending.append(
                (e, pipeline.processed.written if pipeline.processed else 0)
            )
        )


class RunFeeder:
    """Feeds a :class:`ProtocolRun` from a started pipeline, one bounded step at a time.

    :func:`run_on_pipeline` loops over :meth:`step` (headless); the engine process calls it from
    its own loop between commands, so a run never blocks it.

    Parameters
    ----------
    run : ProtocolRun
    pipeline : Pipeline
        Started.
    status : StatusLog, optional
        The pipeline's status log (default: one made now, which misses earlier events).
    from_start : bool
        Feed the processed ring from its oldest sample (a pipeline just started for this run) or
        only what arrives from now on (a pipeline already streaming, as in the dashboard).
    stall_timeout_s, give_up_s : float
        See :data:`STALL_TIMEOUT_S` and :data:`GIVE_UP_S`.
    """

    def __init__(
        self,
        run: ProtocolRun,
        pipeline: Pipeline,
        status: StatusLog | None = None,
        from_start: bool = True,
        stall_timeout_s: float = STALL_TIMEOUT_S,
        give_up_s: float = GIVE_UP_S,
    ):
        self.stall_timeout_s, self.give_up_s = stall_timeout_s, max(give_up_s, stall_timeout_s)
        self._last_data = time.monotonic()
        self._stalled = False
        self.run, self.pipeline = run, pipeline
        self.reader = pipeline.processed.reader(from_start=from_start)
        self.stamped = (status or StatusLog(pipeline)).pending
        if not from_start:
            self.stamped.clear()  # events before this run began are not its business

    def step(self) -> tuple[list[Event], int]:
        """Feed what is new (or apply the next status event); return the events and how many
        samples were fed (0: nothing new, the caller may sleep)."""
        run, reader, stamped = self.run, self.reader, self.stamped
        if run.finished:
            return [], 0
        if stamped and reader.cursor >= stamped[0][1]:
            status_event = stamped.popleft()[0]
            events = run.on_status(status_event.status, status_event.message)
            if events:
                self.pipeline.source.instruct(run.instruction())
            return events, -1
        if self.pipeline.pull and reader.pending == 0:
            self.pipeline.pump()  # a source faster than real time goes at the run's pace
            if stamped and reader.cursor >= stamped[0][1]:
                return [], -1
        block = reader.read(max_n=stamped[0][1] - reader.cursor if stamped else None)
        events = run.feed(block)
        p = self.pipeline
        if not p.running and not run.finished and reader.pending == 0 and not stamped:
            reason = f"acquisition stopped: {p.error}" if p.error else "the source ended"
            events += run.on_status(Status.ENDED, reason)
        elif len(block):
            self._last_data, self._stalled = time.monotonic(), False
        elif not stamped and not run.finished:
            events += self._check_stall()
        if len(block) or events:
            p.source.instruct(run.instruction())  # the patient (a simulator) plays along
        return events, len(block)

    def _check_stall(self) -> list[Event]:
        """Interrupt the run when the signal stalled; end it when it never comes back."""
        silent_s = time.monotonic() - self._last_data
        where = self.pipeline.source.url
        if silent_s >= self.give_up_s:
            return self.run.on_status(
                Status.ENDED, f"no signal from {where} for {silent_s:.0f} s: the run ends"
            )
        if silent_s >= self.stall_timeout_s and not self._stalled:
            self._stalled = True  # once per silence; redone when samples flow again
            return self.run.on_status(
                Status.LOST, f"no signal from {where} for {silent_s:.1f} s (device stalled)"
            )
        return []


def run_on_pipeline(
    run: ProtocolRun,
    pipeline: Pipeline,
    on_event: EventSink | None = None,
    poll_s: float = 0.02,
    progress: bool = True,
    status: StatusLog | None = None,
    stall_timeout_s: float = STALL_TIMEOUT_S,
    give_up_s: float = GIVE_UP_S,
) -> list[Event]:
    """Drive ``run`` from the started ``pipeline`` until it finishes; return every event.

    ``on_event`` sees each event as it happens (print it, record it). A progress bar in sample
    time is shown when ``progress`` (tqdm, to stderr). ``status``: the pipeline's
    :class:`StatusLog` (default: one made now, which misses events before this call). A silent
    device interrupts the trial after ``stall_timeout_s`` and ends the run after ``give_up_s``
    (:class:`RunFeeder`).
    """
    from tqdm import tqdm

    feeder = RunFeeder(run, pipeline, status, stall_timeout_s=stall_timeout_s, give_up_s=give_up_s)
    events: list[Event] = []
    bar = tqdm(
        total=round(run.total_s),
        unit="s",
        desc=run.protocol.name,
        disable=not progress,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s {postfix}",
    )
    t_first = None
    try:
        while not run.finished:
            new, n = feeder.step()
            if n > 0:
                t_first = run.t_now - n / run.fs if t_first is None else t_first
                bar.n = min(bar.total, run.t_now - t_first)
                bar.set_postfix_str(run.display().get("label", ""), refresh=False)
                bar.refresh()
            for e in new:
                if on_event:
                    on_event(e)
            events += new
            if n == 0:
                time.sleep(poll_s)
    finally:
        bar.close()
    return events
