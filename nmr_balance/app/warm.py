"""Load (or, on the first run, compile) the DSP kernels with a progress bar.

The first run on a machine compiles the Numba kernels for ~20 s; later runs load them from the
cache in well under a second. Commands call :func:`warm_kernels` before they start work so the
first run shows progress instead of looking frozen (the bar only appears if it takes > 0.5 s).
The bar says "compiling" only when Numba's cache lacks a kernel (or a miss shows it compiled);
otherwise it says "loading".
"""

from __future__ import annotations

import sys

LOADING = "loading DSP kernels"
COMPILING = "compiling DSP kernels (first run; later runs load them in a second)"
_NOT_BATCH = ("metrics", "decimation", "cop", "filters", "tilt", "live")
#: The groups a pipeline's front-end uses (COP, low-pass, resampling, tilt): what a command that
#: streams needs before its first sample. A single trial's metrics at the end do not need the
#: metric kernels: :func:`dsp.metrics.trial_metrics` runs the NumPy twins unless they are loaded.
FRONT_END = ("cop", "filters", "tilt")


def label(groups: tuple[str, ...] | None = None) -> str:
    """What preparing these kernel groups will do: :data:`COMPILING` when Numba's cache lacks
    one of their kernels, else :data:`LOADING`."""
    import dsp

    return COMPILING if dsp.uncached_kernels(groups) else LOADING


def warm_kernels(batch: bool = False, only: tuple[str, ...] | None = None) -> float:
    """Compile or load every DSP kernel (``batch``: also the parallel batch kernels; ``only``:
    just these groups, see :func:`dsp.warmup`).

    Returns the seconds it took.
    """
    from tqdm import tqdm

    import dsp

    groups = only if only is not None else None if batch else _NOT_BATCH
    bar = tqdm(
        total=1,
        desc=label(groups),
        delay=0.5,
        leave=False,
        file=sys.stderr,
    )
    misses = dsp.cache_misses()

    def progress(done: int, total: int, name: str) -> None:
        bar.total = total
        if dsp.cache_misses() > misses:  # compiled after all (a signature not in the cache)
            bar.set_description_str(COMPILING, refresh=False)
        bar.set_postfix_str(name, refresh=False)
        bar.update(done - bar.n)

    try:
        return dsp.warmup(progress, batch=batch, only=only)
    finally:
        bar.close()
