"""End to end: emulator write on a pty -> processed sample, at 100 Hz and 1 kHz; memory over an hour.

Latency: ``nmr-balance emulate --protocol nmr --host-clock`` in a subprocess stamps each sample
with CLOCK_MONOTONIC when it writes it; the pipeline reads the pty (serial reader thread,
decoder, front-end) and a last stage notes each sample's age (:mod:`benchmarks._emulated`).
Same-run reference: the pipeline's own receive -> processed latency, i.e. without the pty and
the reader thread's wake-up (the transport).

Memory: an hour of 1 kHz plate data (``sim://?realtime=0``, as fast as it can be processed)
through the pipeline with a consumer reading the processed ring; resident size (psutil) once
the rings are full and at the end. Soak-length, at sensor pace and with the recorder:
``python -m benchmarks.soak``.
"""

from __future__ import annotations

import os
import time

import numpy as np
import psutil

from benchmarks._emulated import pty_latency
from benchmarks._report import Report
from nmr_balance.app import open_source
from nmr_balance.pipeline import Pipeline

COMMAND = "python -m benchmarks.bench_endtoend"


def memory_over_stream(signal_s: float, rate: float = 1000.0) -> dict:
    """RSS (MB) after the rings fill and after ``signal_s`` seconds of streamed signal."""
    proc = psutil.Process()
    url = f"sim://?sensor=plate&rate={rate:g}&realtime=0&duration={signal_s:g}"
    marks: list[tuple[int, float]] = []
    t0 = time.perf_counter()
    with Pipeline(open_source(url), ring_seconds=60.0) as pipe:
        reader = pipe.processed.reader()
        ring_full = int(60 * rate)
        next_mark = ring_full
        while pipe.running or reader.pending:
            reader.read()
            if pipe.processed.written >= next_mark:
                marks.append((pipe.processed.written, proc.memory_info().rss / 2**20))
                next_mark += int(60 * rate)
            time.sleep(0.01)
        n = pipe.processed.written
        marks.append((n, proc.memory_info().rss / 2**20))
    samples, rss = np.array(marks).T
    slope = float(np.polyfit(samples / rate / 3600, rss, 1)[0]) if len(marks) >= 3 else float("nan")
    return {
        "n": int(n),
        "seconds": time.perf_counter() - t0,
        "rss_full": float(rss[0]),
        "rss_end": float(rss[-1]),
        "slope_mb_per_h": slope,
    }


def run(quick: bool = False) -> Report:
    rep = Report(
        "End to end: pty latency and memory (drills)", COMMAND + (" --quick" if quick else "")
    )
    load = os.getloadavg()[0]
    for rate in (100, 1000):
        lat = pty_latency(rate, 2.0 if quick else 20.0, settle_s=0.5 if quick else 1.0)
        name = f"pty {rate:g} Hz: emulator write -> processed"
        note = (
            f"{lat['n']} samples, {lat['dropped']} dropped; load average {load:.1f} on 2 shared "
            "cores: the tail is other processes"
        )
        rep.add(f"{name}, p50", lat["p50"], "ms", note=note)
        rep.add(f"{name}, p99", lat["p99"], "ms", note=f"max {lat['max']:.2f} ms")
        recv = lat["receive"]
        rep.add(
            f"pty {rate:g} Hz: bytes received -> processed, p99",
            recv["p99"],
            "ms",
            goal="< 2 ms",
            note=f"p50 {recv['p50']:.3f} ms, max {recv['max']:.2f} ms; "
            "without the transport (pty + reader wake-up)",
        )
        key = f"pty_{rate:g}hz"
        rep.headline.update(
            {
                f"{key}_p50_ms": round(lat["p50"], 3),
                f"{key}_p99_ms": round(lat["p99"], 3),
                f"{key}_receive_p99_ms": round(recv["p99"], 3),
            }
        )
    mem = memory_over_stream(180.0 if quick else 3600.0)
    hours = mem["n"] / 1000 / 3600
    rep.add(
        f"resident size after {hours * 60:.0f} min of 1 kHz plate signal",
        mem["rss_end"],
        "MB",
        mem["rss_full"],
        "once the rings are full",
        goal="flat",
        note=f"slope {mem['slope_mb_per_h']:+.2f} MB per streamed hour; streamed in "
        f"{mem['seconds']:.0f} s (realtime=0)",
    )
    rep.headline["rss_growth_mb_per_h"] = round(mem["slope_mb_per_h"], 2)
    return rep


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv).text())
