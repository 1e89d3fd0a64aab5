"""Pipeline: start/stop/shutdown, latency and drop accounting, stage chain, errors."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from nmr_balance.app import open_source
from nmr_balance.errors import SourceError
from nmr_balance.pipeline import Pipeline
from nmr_balance.source import Source, Status
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo


class ScriptedSource(Source):
    """Delivers given blocks one per read, then ends; or raises when told to."""

    def __init__(self, blocks, fail_after=None):
        super().__init__("test://scripted")
        self.blocks = list(blocks)
        self.fail_after = fail_after
        self.reads = 0

    def _do_open(self):
        return StreamInfo(
            "test://scripted",
            (Channel("x", "mm"), Channel("y", "mm"), Channel("fz", "N")),
            100.0,
            SensorKind.COP,
        )

    def _do_start(self):
        pass

    def _do_read(self, timeout):
        self.reads += 1
        if self.fail_after is not None and self.reads > self.fail_after:
            raise OSError("device vanished")
        if not self.blocks:
            self._mark_ended()
            return SampleBlock.empty(3)
        return self.blocks.pop(0)


def make_block(counters):
    c = np.asarray(counters, dtype=np.int64)
    return SampleBlock(
        np.full(len(c), time.monotonic_ns(), np.int64),
        c / 100.0,
        c,
        np.column_stack([c, -c, np.full(len(c), 700.0)]).astype(float),
    )


class Doubler:
    def configure(self, info):
        return info

    def process(self, block):
        return block.with_data(block.data * 2)

    def reset(self):
        pass


#: Bound for waiting on a stream, s: a hang exceeds it, a busy machine does not.
HANG_S = 30.0


def _until_ended(p):
    """Wait until a finite source's pipeline has processed everything and stopped."""
    deadline = time.monotonic() + HANG_S
    while p.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not p.running, "the pipeline did not end"


def _acquisition_threads():
    return [t for t in threading.enumerate() if t.name.startswith("acquire ")]


def test_stream_flows_through_stages_into_both_rings():
    src = ScriptedSource([make_block(range(10)), make_block(range(10, 25))])
    with Pipeline(src, stages=[Doubler()]) as p:
        raw_reader = p.raw.reader(from_start=True)
        assert p.wait_for_samples(25, timeout=HANG_S)
    raw = raw_reader.read()
    assert raw.counter.tolist() == list(range(25))
    processed = p.processed.latest(100)
    assert np.array_equal(processed.data, raw.data * 2)
    assert p.stats().dropped == 0


def test_counter_gaps_are_counted_as_drops():
    src = ScriptedSource([make_block([0, 1, 2]), make_block([5, 6]), make_block([10])])
    with Pipeline(src) as p:
        _until_ended(p)
        assert p.stats().dropped == 2 + 3


def test_gaps_the_source_counts_itself_are_not_counted_twice():
    src = ScriptedSource([make_block([0, 1, 2]), make_block([5, 6])])
    src.dropped = 2  # a DeviceSource counts the gap it numbered the samples across
    with Pipeline(src) as p:
        _until_ended(p)
        assert p.stats().dropped == 2
    src = ScriptedSource([make_block([0, 1, 2])])
    src.dropped = 4  # lost where the counter cannot show it (e.g. bad frames)
    with Pipeline(src) as p:
        _until_ended(p)
        assert p.stats().dropped == 4


def test_finite_source_ends_and_thread_exits():
    src = ScriptedSource([make_block(range(5))])
    p = Pipeline(src).start()
    _until_ended(p)
    assert src.status is Status.ENDED
    p.close()
    assert src.status is Status.CLOSED


def test_stop_is_bounded_and_leaves_no_thread_behind():
    before = len(_acquisition_threads())
    p = Pipeline(open_source("sim://?rate=1000")).start()
    assert p.wait_for_samples(100, timeout=HANG_S)
    t0 = time.monotonic()
    p.close()
    assert time.monotonic() - t0 < 10.0  # it returns (a hang bound, not a speed check)
    assert len(_acquisition_threads()) == before
    p.close()  # twice is fine


def test_latency_and_rate_are_measured():
    """The figures exist and are consistent; their size on this machine is a benchmark's
    subject (benchmarks/bench_endtoend.py), not a test's: a busy machine changes them."""
    with Pipeline(open_source("sim://?rate=1000")) as p:
        assert p.wait_for_samples(1500, timeout=HANG_S)
        deadline = time.monotonic() + HANG_S
        while not np.isfinite(p.stats().rate_hz) and time.monotonic() < deadline:
            time.sleep(0.05)
        s = p.stats()
    assert s.status == "streaming" and s.samples >= 1500
    assert s.rate_hz > 0
    assert 0 < s.latency_p50_ms <= s.latency_p99_ms <= s.latency_max_ms < np.inf


def test_acquisition_error_is_reported_not_lost():
    src = ScriptedSource([make_block(range(10))] * 3, fail_after=2)
    p = Pipeline(src).start()
    _until_ended(p)
    assert isinstance(p.error, OSError)
    assert p.stats().status == "failed"
    assert any("device vanished" in e.message for e in p.events())
    p.close()


def test_call_soon_runs_on_the_acquisition_thread():
    seen = []
    with Pipeline(open_source("sim://?rate=200")) as p:
        p.call_soon(lambda: seen.append(threading.current_thread().name))
        assert p.wait_for_samples(50, timeout=HANG_S)
    assert seen and seen[0].startswith("acquire ")


def test_pipeline_cannot_start_twice():
    p = Pipeline(open_source("sim://?rate=100")).start()
    try:
        with pytest.raises(SourceError, match="already started"):
            p.start()
    finally:
        p.close()


def test_status_events_are_delivered_in_order():
    with Pipeline(open_source("sim://?rate=100&realtime=0&duration=0.5")) as p:
        _until_ended(p)
    statuses = [e.status for e in p.events()]
    assert statuses[:3] == [Status.CONNECTING, Status.CONNECTED, Status.STREAMING]
    assert Status.ENDED in statuses and statuses[-1] is Status.CLOSED
