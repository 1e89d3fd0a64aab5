"""Feeding a :class:`ProtocolRun` from a live pipeline (headless CLI; the UI does the same on a
timer). The run reads the processed ring with its own reader and hears the source's status
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
from nmr_balance.protocols.engine import ProtocolRun
from nmr_balance.protocols.events import Event
from nmr_balance.source import Status

EventSink = Callable[[Event], None]


class StatusLog:
    """The source's status events, each with the processed-sample count at that moment.

    Create it before ``pipeline.start()`` so that no event is missed.
    """

    def __init__(self, pipeline: Pipeline):
        self.pending: collections.deque = collections.deque()
        pipeline.source.add_status_listener(
            lambda e: self.pending.append((e, pipeline.processed.written if pipeline.processed else 0)))


def run_on_pipeline(
    run: ProtocolRun,
    pipeline: Pipeline,
    on_event: EventSink | None = None,
    poll_s: float = 0.02,
    progress: bool = True,
    status: StatusLog | None = None,
) -> list[Event]:
    """Drive ``run`` from the started ``pipeline`` until it finishes; return every event.

    ``on_event`` sees each event as it happens (print it, record it). A progress bar in sample
    time is shown when ``progress`` (tqdm, to stderr). ``status``: the pipeline's
    :class:`StatusLog` (default: one made now, which misses events before this call).
    """
    from tqdm import tqdm

    reader = pipeline.processed.reader(from_start=True)
    stamped = (status or StatusLog(pipeline)).pending
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
            new: list[Event] = []
            if stamped and reader.cursor >= stamped[0][1]:
                status_event = stamped.popleft()[0]
                new += run.on_status(status_event.status, status_event.message)
                block = None
            else:
                block = reader.read(max_n=stamped[0][1] - reader.cursor if stamped else None)
                new += run.feed(block)
            if block is not None and len(block):
                t_first = run.t_now - len(block) / run.fs if t_first is None else t_first
                bar.n = min(bar.total, run.t_now - t_first)
                bar.set_postfix_str(run.display().get("label", ""), refresh=False)
                bar.refresh()
            for e in new:
                if on_event:
                    on_event(e)
            events += new
            if not pipeline.running and not run.finished and reader.pending == 0 and not stamped:
                reason = (
                    f"acquisition stopped: {pipeline.error}"
                    if pipeline.error
                    else "the source ended"
                )
                for e in run.on_status(Status.ENDED, reason):
                    if on_event:
                        on_event(e)
                    events.append(e)
            if block is not None and not len(block):
                time.sleep(poll_s)
    finally:
        bar.close()
    return events
