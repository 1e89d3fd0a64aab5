"""The one jit helper every kernel goes through.

``@jit`` compiles with Numba in nopython mode, releasing the GIL (``nogil``) and caching the
machine code on disk (``cache=True``; set ``NUMBA_CACHE_DIR`` to a writable place). No
``fastmath`` by default. Long reductions opt in to ``FAST_SUMS`` only: reordering a sum lets
LLVM vectorise it (2-4x faster) and moves results by ~1e-15 relative, far below the 1e-9 of
the golden values; never the flags that assume no NaN/inf (kernels must keep NaN semantics).

Set ``NMR_BALANCE_NO_NUMBA=1`` to run every kernel as plain Python for debugging (slow, but
breakpoints and tracebacks work).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

#: ``fastmath`` flags for reductions: reassociate sums and fuse multiply-adds, nothing else.
FAST_SUMS = frozenset({"reassoc", "contract"})

NUMBA_DISABLED = os.environ.get("NMR_BALANCE_NO_NUMBA", "") not in ("", "0")


def jit(fn: F | None = None, **options) -> F:
    """Decorate a kernel: ``@jit`` or ``@jit(parallel=True)``."""

    def wrap(f: F) -> F:
        if NUMBA_DISABLED:
            return f
        import numba

        # Numba wants a plain set of flags.
        opts = {k: set(v) if k == "fastmath" else v for k, v in options.items()}
        return numba.njit(nogil=True, cache=True, **opts)(f)

    return wrap(fn) if fn is not None else wrap


if NUMBA_DISABLED:
    prange = range
else:
    from numba import prange  # noqa: F401  (parallel loop inside @jit(parallel=True) kernels)
