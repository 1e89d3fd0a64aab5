"""Feeding a :class:`ProtocolRun` from a live pipeline (headless CLI; the UI does the same on a
timer). The run reads the processed ring with its own reader and hears the source's status
events, so a device that drops out pauses the run instead of being scored."""

from __future__ import annotations

import time
from typing import Callable

from nmr_balance.pipeline import Pipeline
from nmr_balance.protocols.engine import ProtocolRun
from nmr_balance.protocols.events import Event
from nmr_balance.source import Status

EventSink = Callable[[Event], None]


def run_on_pipeline(run: ProtocolRun, pipeline: Pipeline, on_event: EventSink | None = None,
                    poll_s: float = 0.02, progress: bool = True) -> list[Event]:
    """Drive ``run`` from the started ``pipeline`` until it finishes; return every event.

    ``on_event`` sees each event as it happens (print it, record it). A progress bar in sample
    time is shown when ``progress`` (tqdm, to stderr).
    """
    from tqdm import tqdm

    reader = pipeline.processed.reader(from_start=True)
    events: list[Event] = []
    bar = tqdm(total=round(run.total_s), unit="s", desc=run.protocol.name, disable=not progress,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s {postfix}")
    t_first = None
    try:
        while not run.finished:
            new = []
            for status_event in pipeline.events():
                new += run.on_status(status_event.status, status_event.message)
            block = reader.read()
            new += run.feed(block)
            if len(block):
                t_first = run.t_now - len(block) / run.fs if t_first is None else t_first
                bar.n = min(bar.total, run.t_now - t_first)
                bar.set_postfix_str(run.display().get("label", ""), refresh=False)
                bar.refresh()
            for e in new:
                if on_event:
                    on_event(e)
            events += new
            if not pipeline.running and not run.finished and reader.pending == 0:
                reason = f"acquisition stopped: {pipeline.error}" if pipeline.error else "the source ended"
                for e in run.on_status(Status.ENDED, reason):
                    if on_event:
                        on_event(e)
                    events.append(e)
            if not len(block):
                time.sleep(poll_s)
    finally:
        bar.close()
    return events
