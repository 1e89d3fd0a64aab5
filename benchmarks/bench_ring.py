"""Ring buffer throughput and pipeline latency at 1 kHz from the simulator.

Baselines, same run: a list of blocks joined with ``np.concatenate`` (what a naive producer/
consumer queue does) for throughput; the bare source read loop (no rings, no stages) for the
pipeline's own cost.
"""

from __future__ import annotations

import collections
import time

import numpy as np

from benchmarks._report import Report
from nmr_balance.app import open_source
from nmr_balance.pipeline import Pipeline
from nmr_balance.ring import RingBuffer
from nmr_balance.stream import SampleBlock

COMMAND = "python -m benchmarks.bench_ring"


def _blocks(chunk: int, n_channels: int, count: int) -> list[SampleBlock]:
    k = np.arange(chunk, dtype=np.int64)
    return [
        SampleBlock(
            k, k / 1000.0, k + i * chunk, np.random.default_rng(i).random((chunk, n_channels))
        )
        for i in range(count)
    ]


def ring_throughput(chunk: int, n_channels: int = 8, total: int = 2_000_000) -> tuple[float, float]:
    """Samples/s through push + read_since for the ring, and for a deque+concatenate baseline."""
    blocks = _blocks(chunk, n_channels, 64)
    n_pushes = total // chunk
    ring = RingBuffer(n_channels, 65536)
    reader = ring.reader()
    t0 = time.perf_counter()
    for i in range(n_pushes):
        ring.push(blocks[i % 64])
        if i % 4 == 3:
            reader.read()
    reader.read()
    ring_rate = n_pushes * chunk / (time.perf_counter() - t0)
    assert reader.overruns == 0
    queue: collections.deque = collections.deque()
    t0 = time.perf_counter()
    for i in range(n_pushes):
        queue.append(blocks[i % 64])
        if i % 4 == 3:
            parts = [queue.popleft() for _ in range(len(queue))]
            SampleBlock.concat(parts, n_channels).data.copy()
    base_rate = n_pushes * chunk / (time.perf_counter() - t0)
    return ring_rate, base_rate


def pipeline_latency(seconds: float, rate: int = 1000) -> dict:
    with Pipeline(open_source(f"sim://?rate={rate}")) as p:
        p.wait_for_samples(int(seconds * rate), timeout=seconds * 3 + 5)
        s = p.stats()
    return {
        "p50": s.latency_p50_ms,
        "p99": s.latency_p99_ms,
        "max": s.latency_max_ms,
        "rate": s.rate_hz,
        "dropped": s.dropped,
    }


def bare_read_cost(seconds: float, rate: int = 1000) -> float:
    """Mean ms of one source.read()+nothing, as the no-pipeline reference."""
    src = open_source(f"sim://?rate={rate}&realtime=0")
    with src:
        src.start()
        n = int(seconds * rate / 50)
        t0 = time.perf_counter()
        for _ in range(n):
            src.read()
        return (time.perf_counter() - t0) / n * 1e3


def run(quick: bool = False) -> Report:
    rep = Report("Ring buffer and pipeline (foundation)", COMMAND + (" --quick" if quick else ""))
    total = 300_000 if quick else 3_000_000
    for chunk in (10, 100):
        ours, base = ring_throughput(chunk, total=total)
        rep.add(
            f"ring push+read, 8 ch, chunks of {chunk}",
            1e6 / ours,
            "us/sample",
            1e6 / base,
            "deque + np.concatenate",
            note=f"{ours / 1e6:.1f} M samples/s; the ring copies into bounded, shareable storage, the baseline only keeps references",
        )
        if chunk == 10:
            rep.headline["ring_msamples_per_s_chunk10"] = round(ours / 1e6, 2)
    lat = pipeline_latency(3 if quick else 20)
    rep.add(
        "pipeline latency p50 @ 1 kHz sim (receive -> processed)",
        lat["p50"],
        "ms",
        goal="p99 < 2 ms",
    )
    rep.add("pipeline latency p99 @ 1 kHz sim", lat["p99"], "ms", goal="< 2 ms")
    rep.add("pipeline latency max @ 1 kHz sim", lat["max"], "ms")
    rep.add("pipeline rate @ 1 kHz sim", lat["rate"], "Hz", note=f"{lat['dropped']} dropped")
    rep.headline.update(
        pipeline_latency_p50_ms=round(lat["p50"], 3), pipeline_latency_p99_ms=round(lat["p99"], 3)
    )
    return rep


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv).text())
