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
    trial_metrics(xy, 100.0, use_numba=True)


def _decimation() -> None:
    """Spectra of trials at >= 200 Hz, from a decimated copy: its filter design imports
    scipy.signal (~0.6 s of CPU), which 100 Hz trials never need."""
    from dsp.metrics import trial_metrics

    xy = np.cumsum(np.random.default_rng(0).normal(size=(2400, 2)), axis=0)
    trial_metrics(xy, 200.0, groups=("spectral",), use_numba=True)


def _batch() -> None:
    from dsp.metrics import batch_metrics

    trials = np.cumsum(np.random.default_rng(0).normal(size=(2, 1200, 2)), axis=1)
    batch_metrics(trials, 100.0)
    batch_metrics(
        np.concatenate([trials, trials], axis=1), 200.0, groups=("spectral",)
    )  # decimated


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


#: Kernel modules each group's step uses (what :func:`uncached` looks at).
_MODULES = {
    "metrics": ("_kernels_metrics", "_kernels_derive", "_kernels_spectral"),
    "decimation": ("_kernels_spectral",),
    "batch": ("_kernels_metrics", "_kernels_derive", "_kernels_spectral"),
    "cop": ("_kernels_frontend",),
    "filters": ("_kernels_frontend",),
    "tilt": ("_kernels_frontend",),
    "live": ("_kernels_live",),
}


def _dispatchers(modules):
    from numba.core.registry import CPUDispatcher

    for module in modules:
        for obj in vars(module).values():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                yield obj


def uncached(only: tuple[str, ...] | None = None) -> list[str]:
    """Kernels of these groups (default: all) that Numba's on-disk cache holds nothing for
    (a first run, a new Numba, or the kernel's source changed): preparing them compiles.

    Looks at each kernel's cache index, as Numba does before compiling; an empty list means
    the groups load from the cache (unless a call needs a signature never compiled before).
    Returns ``[]`` when Numba is disabled.
    """
    import importlib

    from dsp._jit import NUMBA_DISABLED

    if NUMBA_DISABLED:
        return []
    names = sorted({m for key in (only or _MODULES) for m in _MODULES[key]})
    modules = [importlib.import_module(f"dsp.{name}") for name in names]
    missing = []
    for disp in _dispatchers(modules):
        cache = getattr(disp, "_cache", None)
        try:
            has_entries = bool(cache._cache_file._load_index())  # Numba internals: guarded
        except Exception:  # another Numba version: say nothing rather than guess wrong
            continue
        if not has_entries:
            missing.append(f"{disp.__module__}.{disp.__name__}")
    return missing


def cache_misses() -> int:
    """How many kernel compilations so far found nothing in Numba's on-disk cache (0 once the
    cache is filled; > 0 on a first run, or after a kernel changed)."""
    import sys

    try:
        from numba.core.registry import CPUDispatcher
    except ImportError:  # plain Python (NMR_BALANCE_NO_NUMBA): nothing is ever compiled
        return 0
    misses = 0
    for name, module in list(sys.modules.items()):
        if name.startswith("dsp._kernels_") and module is not None:
            for obj in vars(module).values():
                if isinstance(obj, CPUDispatcher):
                    misses += sum(obj.stats.cache_misses.values())
    return misses


#: (key, what it is, step): the kernel groups, in the order they are prepared.
STEPS: tuple[tuple[str, str, Callable[[], None]], ...] = (
    ("metrics", "trial metrics", _metrics),
    ("decimation", "spectra of fast trials (decimation)", _decimation),
    ("batch", "batch metrics (parallel)", _batch),
    ("cop", "centre of pressure", _cop),
    ("filters", "low-pass and resampling", _filters),
    ("tilt", "IMU tilt", _tilt),
    ("live", "live metrics and training", _live),
)


def warmup(
    progress: Callable[[int, int, str], None] | None = None,
    batch: bool = True,
    only: tuple[str, ...] | None = None,
) -> float:
    """Compile or load every kernel group; return the seconds it took.

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(done, total, name)`` before each group (done = groups finished)
        and once at the end with ``done == total``.
    batch : bool
        Include the parallel batch kernels (the slowest to compile; only ``batch_metrics``
        uses them).
    only : tuple of str, optional
        Just these groups (keys of :data:`STEPS`, e.g. ``("live",)``).
    """
    keys = [key for key, _, _ in STEPS]
    unknown = set(only or ()) - set(keys)
    if unknown:
        raise ValueError(f"unknown kernel groups {sorted(unknown)}; choose from {keys}")
    t0 = time.perf_counter()
    steps = [
        (name, step)
        for key, name, step in STEPS
        if (batch or key != "batch") and (only is None or key in only)
    ]
    for i, (name, step) in enumerate(steps):
        if progress is not None:
            progress(i, len(steps), name)
        step()
    if progress is not None:
        progress(len(steps), len(steps), "ready")
    return time.perf_counter() - t0
