"""Compile (or load from Numba's on-disk cache) every kernel ahead of time, step by step.

The first run on a machine compiles for a few seconds; later runs load the cache in
milliseconds. Callers show progress so the first run never looks frozen::

    dsp.warmup(lambda done, total, name: print(f"{done}/{total} {name}"))
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def _metrics() -> None:
    from dsp.metrics import trial_metrics
    xy = np.cumsum(np.random.default_rng(0).normal(size=(1200, 2)), axis=0)
    trial_metrics(xy, 100.0)
    trial_metrics(np.vstack([xy, xy]), 200.0, groups=("spectral",))   # decimated spectra


def _batch() -> None:
    from dsp.metrics import batch_metrics
    batch_metrics(np.cumsum(np.random.default_rng(0).normal(size=(2, 1200, 2)), axis=1), 100.0)


def _cop() -> None:
    from dsp.cop import LoadCellCop, plate_cop
    plate_cop(np.ones((4, 6)))
    LoadCellCop().process(np.ones((4, 4)))


def _filters() -> None:
    from dsp.filters import StreamingLowpass
    from dsp.resample import WindowResampler
    StreamingLowpass(100.0, 3).process(np.ones((4, 3)))
    WindowResampler(100.0, 4).process(np.arange(4) / 90.0, np.ones((4, 4)))


def _tilt() -> None:
    from dsp.tilt import TiltEstimator
    TiltEstimator(100.0).process(np.ones((4, 3)), np.ones((4, 3)))


def _live() -> None:
    from dsp.live import SlidingSway
    from dsp.training import DwellDetector, tracking_error
    SlidingSway(100.0, 1.0).update(np.ones((4, 2)))
    DwellDetector(100.0, 0.1).update(np.ones(4, bool))
    tracking_error(np.ones((4, 2)), np.ones((4, 2)), 100.0)


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("trial metrics", _metrics), ("batch metrics (parallel)", _batch), ("centre of pressure", _cop),
    ("low-pass and resampling", _filters), ("IMU tilt", _tilt), ("live metrics and training", _live),
)


def warmup(progress: Callable[[int, int, str], None] | None = None,
           batch: bool = True) -> float:
    """Compile or load every kernel group; return the seconds it took.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total, name)`` before each group (done = groups finished)
        and once at the end with ``done == total``.
    batch : bool
        Include the parallel batch kernels (the slowest to compile; only ``batch_metrics``
        uses them).
    """
    t0 = time.perf_counter()
    steps = [s for s in STEPS if batch or s[1] is not _batch]
    for i, (name, step) in enumerate(steps):
        if progress is not None:
            progress(i, len(steps), name)
        step()
    if progress is not None:
        progress(len(steps), len(steps), "ready")
    return time.perf_counter() - t0
