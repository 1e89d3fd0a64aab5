"""The emulator on a real pty, read through a Pipeline, with every sample's latency noted.

Shared by the latency benchmark and the soak/unplug drills. ``nmr-balance emulate --host-clock``
runs in a subprocess and stamps each sample with CLOCK_MONOTONIC (in us, modulo 2**32) when it
writes it; :class:`LatencyProbe`, the last stage of the chain, compares that stamp with the
clock when the sample is processed. CLOCK_MONOTONIC is system-wide, so both ends share it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from drivers.emulator import spawn, stop
from nmr_balance.app import open_source
from nmr_balance.app.warm import warm_kernels
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.pipeline import Pipeline

_WRAP_US = 1 << 32  # the nmr protocol carries device time as uint32 microseconds


class LatencyProbe:
    """Last stage: notes each sample's latency (ms) from the emulator's write, and from receive.

    ``write -> processed`` includes the transport (pty, the reader thread's wake-up);
    ``receive -> processed`` starts when the reader thread got the bytes (the sample's
    ``t_host_ns``): decoding, the hand-over to the acquisition thread and the front-end.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chunks: list[tuple[np.ndarray, np.ndarray]] = []
        self.n = 0

    def configure(self, info):
        return info

    def reset(self) -> None:
        pass

    def process(self, block):
        now_ns = time.monotonic_ns()
        sent_us = np.round(block.t_device * 1e6).astype(np.int64)
        from_write = ((now_ns // 1000 - sent_us) % _WRAP_US) / 1000.0
        from_receive = (now_ns - block.t_host_ns) / 1e6
        with self._lock:
            self._chunks.append((from_write, from_receive))
            self.n += len(block)
        return block

    def take(self) -> tuple[np.ndarray, np.ndarray]:
        """(write -> processed, receive -> processed) latencies (ms) since the last call."""
        with self._lock:
            chunks, self._chunks = self._chunks, []
        if not chunks:
            return np.empty(0), np.empty(0)
        return tuple(np.concatenate(c) for c in zip(*chunks))


def figures(lat_ms: np.ndarray) -> dict:
    """p50, p99, max (ms) and count of a latency sample."""
    if not len(lat_ms):
        return {"p50": float("nan"), "p99": float("nan"), "max": float("nan"), "n": 0}
    p50, p99 = np.percentile(lat_ms, [50, 99])
    return {"p50": float(p50), "p99": float(p99), "max": float(lat_ms.max()), "n": len(lat_ms)}


@dataclasses.dataclass
class EmulatedRun:
    pipeline: Pipeline
    probe: LatencyProbe
    emulator: subprocess.Popen
    link: Path


@contextlib.contextmanager
def emulated_pipeline(
    link: Path, rate: float, *emulator_args: str, sensor: str = "cells", shared: bool = False
):
    """Emulator (nmr protocol, host clock) on a pty at ``link`` -> serial source -> Pipeline.

    Yields an :class:`EmulatedRun`; the pipeline runs the default front-end plus the probe
    (``shared``: its rings in shared memory, for a view in another process). The
    kernels are warmed first, and the emulator waits for the port to be opened (``--boot``), so
    its first sample (counter 0) comes after the pipeline has started.
    """
    warm_kernels()
    proc = spawn(
        link,
        "nmr",
        "--rate",
        f"{rate:g}",
        "--sensor",
        sensor,
        "--host-clock",
        "--boot",
        "0.5",
        *emulator_args,
    )
    try:
        source = open_source(f"serial://{link}?protocol=nmr")
        source.open()
        probe = LatencyProbe()
        with Pipeline(source, default_stages(source.info) + [probe], shared=shared) as pipe:
            yield EmulatedRun(pipe, probe, proc, link)
    finally:
        if proc.poll() is None:
            stop(proc)


def pty_latency(rate: float, seconds: float, settle_s: float = 1.0) -> dict:
    """Write -> processed latency over ``seconds`` of streaming at ``rate`` Hz.

    Returns p50/p99/max (ms), n, the same figures from receive (``receive``) and rate/drops.
    """
    with tempfile.TemporaryDirectory() as tmp, emulated_pipeline(Path(tmp) / "tty", rate) as run:
        time.sleep(settle_s)  # the first second has the opening's transients
        run.probe.take()
        time.sleep(seconds)
        lat, from_receive = run.probe.take()
        stats = run.pipeline.stats()
    return {
        **figures(lat),
        "receive": figures(from_receive),
        "rate": stats.rate_hz,
        "dropped": stats.dropped,
    }
