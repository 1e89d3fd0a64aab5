"""Live front-end cost: stage chains per sample at 1 kHz, and the live sliding-window metrics.

Baselines, same run: the same work with plain NumPy/SciPy per chunk (the kernels' twins:
``scipy.signal.sosfilt`` with ``zi``, vectorised COP). "% of one core at 1 kHz" = time per
sample x 1000 samples/s.
"""

from __future__ import annotations

import sys
from functools import partial

import numpy as np
import scipy.signal

from benchmarks._report import Report, best_time
from dsp import _kernels_frontend as KF
from dsp.filters import StreamingLowpass, butter_lowpass
from dsp.live import SlidingSway
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.stream import SampleBlock

COMMAND = "python -m benchmarks.bench_frontend"
FS = 1000.0


def _blocks(data: np.ndarray, chunk: int) -> list[SampleBlock]:
    out = []
    for a in range(0, len(data) - chunk + 1, chunk):
        k = np.arange(a, a + chunk, dtype=np.int64)
        out.append(SampleBlock(k * 1_000_000, k / FS, k, np.ascontiguousarray(data[a : a + chunk])))
    return out


def _per_sample(fn, blocks) -> float:
    """Best time per sample (s) of running ``fn`` over every block."""
    n = sum(len(b) for b in blocks)

    def all_blocks():
        for b in blocks:
            fn(b)

    return best_time(all_blocks, repeat=5, number=1) / n


def chains(rep: Report, quick: bool, chunk: int = 10) -> None:
    from drivers.sim.board import SimulatedBoard

    n = 2000 if quick else 10000
    for kind in ("plate", "cells", "imu"):
        board = SimulatedBoard(kind, FS, seed=1)
        data = board.generate(n)
        blocks = _blocks(data, chunk)
        stages = default_stages(board.info)
        configure_chain(stages, board.info)
        ours = _per_sample(partial(run_chain, stages), blocks)
        rep.add(
            f"{kind} front-end chain, chunks of {chunk} @ 1 kHz",
            ours * 1e6,
            "us/sample",
            note=f"{ours * FS * 100:.3f} % of one core; {' -> '.join(type(s).__name__ for s in stages)}",
        )
        rep.headline[f"{kind}_core_pct"] = round(ours * FS * 100, 3)
    # The same plate chain written with NumPy/SciPy per chunk (the twins), same blocks.
    board = SimulatedBoard("plate", FS, seed=1)
    blocks = _blocks(board.generate(n), chunk)
    sos = butter_lowpass(FS)
    zi = [np.zeros((sos.shape[0], 2, 3))]

    def numpy_chain(b):
        cop = KF.plate_cop_numpy(b.data, 0.04, 98.0)
        out, zi[0] = scipy.signal.sosfilt(sos, cop, axis=0, zi=zi[0])
        return b.with_data(out)

    stages = default_stages(board.info)
    configure_chain(stages, board.info)
    ours = _per_sample(partial(run_chain, stages), blocks)
    base = _per_sample(numpy_chain, blocks)
    rep.add(
        f"plate chain vs NumPy/SciPy chain, chunks of {chunk}",
        ours * 1e6,
        "us/sample",
        base * 1e6,
        "plate_cop_numpy + sosfilt(zi)",
        goal="< 1 % of a core at 1 kHz",
    )


def lowpass_8ch(rep: Report, quick: bool) -> None:
    x = np.random.default_rng(0).normal(size=(2000 if quick else 10000, 8))
    sos = butter_lowpass(FS)
    for chunk in (1, 10, 100):
        parts = [np.ascontiguousarray(x[a : a + chunk]) for a in range(0, len(x), chunk)]
        lp = StreamingLowpass(FS, 8)
        zi = [np.zeros((sos.shape[0], 2, 8))]

        # Default arguments bind this iteration's parts, filter and state (B023).
        def ours(parts=parts, lp=lp):
            for p in parts:
                lp.process(p)

        def base(parts=parts, zi=zi):
            for p in parts:
                _, zi[0] = scipy.signal.sosfilt(sos, p, axis=0, zi=zi[0])

        t_ours = best_time(ours, repeat=5, number=1) / len(x)
        t_base = best_time(base, repeat=3, number=1) / len(x)
        rep.add(
            f"low-pass 1 kHz x 8 channels, chunks of {chunk}",
            t_ours * 1e6,
            "us/sample",
            t_base * 1e6,
            "scipy.signal.sosfilt(zi=...)",
            note=f"{t_ours * FS * 100:.3f} % of one core",
        )
        if chunk == 10:
            rep.headline["lowpass_8ch_core_pct"] = round(t_ours * FS * 100, 3)


def live_metrics(rep: Report, quick: bool) -> None:
    xy = np.cumsum(np.random.default_rng(0).normal(size=(20000, 2)), axis=0)
    chunks = [xy[a : a + 10] for a in range(0, len(xy), 10)]
    for window_s in (5.0, 30.0):
        live = SlidingSway(FS, window_s)
        m = int(window_s * FS)

        def ours(live=live):
            for c in chunks:
                live.update(c)

        def base(m=m):  # recompute the window from scratch per chunk
            for i in range(0, len(chunks), 10):
                w = xy[max(0, i * 10 - m) : i * 10 + 10]
                np.hypot(*np.diff(w, axis=0).T).sum(), np.cov(w.T)

        t_ours = best_time(ours, repeat=3, number=1) / len(chunks)
        t_base = best_time(base, repeat=3, number=1) / (len(chunks) / 10)
        rep.add(
            f"live velocity + ellipse, {window_s:g} s window @ 1 kHz, per 10-sample chunk",
            t_ours * 1e6,
            "us",
            t_base * 1e6,
            "NumPy recompute of the window",
            note="O(chunk) running sums",
        )


def run(quick: bool = False) -> Report:
    rep = Report("Live front-end (DSP)", COMMAND)
    chains(rep, quick)
    lowpass_8ch(rep, quick)
    live_metrics(rep, quick)
    return rep


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv).text())
