"""Load (or, on the first run, compile) the DSP kernels with a progress bar.

The first run on a machine compiles the Numba kernels for ~20 s; later runs load them from the
cache in well under a second. Commands call :func:`warm_kernels` before they start work so the
first run shows progress instead of looking frozen (the bar only appears if it takes > 0.5 s).
"""

from __future__ import annotations

import sys


def warm_kernels(batch: bool = False, only: tuple[str, ...] | None = None) -> float:
    """Compile or load every DSP kernel (``batch``: also the parallel batch kernels; ``only``:
    just these groups, see :func:`dsp.warmup`).

    Returns the seconds it took.
    """
    from tqdm import tqdm

    import dsp

    bar = tqdm(
        total=1,
        desc="preparing DSP kernels (the first run compiles them)",
        delay=0.5,
        leave=False,
        file=sys.stderr,
    )

    def progress(done: int, total: int, name: str) -> None:
        bar.total = total
        bar.set_postfix_str(name, refresh=False)
        bar.update(done - bar.n)

    try:
        return dsp.warmup(progress, batch=batch, only=only)
    finally:
        bar.close()
