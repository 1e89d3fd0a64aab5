"""Cost of running a protocol: the engine's share of one core while a test or exercise runs.

The engine is fed a precomputed sway stream (a slow random walk, so the sensor and simulator
cost nothing here) in chunks as the pipeline delivers them (about 20 per second), through the
whole protocol, trial scoring included. Baseline, same run: the same engine fed one sample at a
time, the way a per-sample state machine would run.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks._report import Report
from nmr_balance.protocols import ProtocolRun, find
from nmr_balance.protocols.run import planned_seconds
from nmr_balance.stream import SampleBlock, sway_info

COMMAND = "python -m benchmarks.bench_protocols"


def _stream(seconds: float, fs: float) -> SampleBlock:
    n = int(seconds * fs)
    rng = np.random.default_rng(0)
    xy = np.cumsum(rng.normal(0, 20 / fs, (n, 2)), axis=0)
    xy -= np.linspace(0, 1, n)[:, None] * xy[-1]  # wander, but end near the centre
    k = np.arange(n, dtype=np.int64)
    return SampleBlock(k, k / fs, k, np.column_stack([xy, np.full(n, 700.0)]))


def engine_cost(name: str, fs: float, chunk: int, limit_s: float | None = None) -> float:
    """Wall seconds of engine work per second of signal, feeding ``chunk`` samples at a time."""
    protocol = find(name)
    seconds = (limit_s or planned_seconds(protocol)) + 5
    stream = _stream(seconds, fs)
    run = ProtocolRun(protocol, sway_info("bench", fs))
    t0 = time.perf_counter()
    n = 0
    for i in range(0, len(stream), chunk):
        run.feed(stream.slice(i, i + chunk))
        n = min(i + chunk, len(stream))
        if run.finished or (limit_s is not None and n >= limit_s * fs):
            break
    return (time.perf_counter() - t0) / (n / fs)


def run(quick: bool = False) -> Report:
    rep = Report("Protocol engine (protocols)", COMMAND + (" --quick" if quick else ""))
    engine_cost("romberg", 100, 5, limit_s=40)  # warm: imports, first metric call
    base_s = 20 if quick else 60
    for name in ("mctsib", "target", "los"):
        for fs in (100, 1000):
            chunk = int(fs / 20)
            ours = engine_cost(name, fs, chunk)
            base = engine_cost(name, fs, 1, limit_s=base_s / (10 if fs == 1000 else 1))
            rep.add(
                f"{name} @ {fs} Hz, chunks of {chunk}",
                100 * ours,
                "% of a core",
                100 * base,
                "same engine, 1 sample per feed",
                goal="< 1 %",
                note="whole protocol, scoring included"
                + ("" if fs == 100 else "; baseline over a shorter stretch"),
            )
            if fs == 1000:
                rep.headline[f"{name}_core_pct_1khz"] = round(100 * ours, 4)
    return rep


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv).text())
