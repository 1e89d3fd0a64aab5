"""The one jit helper every kernel goes through.

``@jit`` compiles with Numba in nopython mode, releasing the GIL (``nogil``) and caching the
machine code on disk (``cache=True``; set ``NUMBA_CACHE_DIR`` to a writable place). No
``fastmath``: golden values are tested to 1e-9 and must not depend on reassociation.

Set ``NMR_BALANCE_NO_NUMBA=1`` to run every kernel as plain Python for debugging (slow, but
breakpoints and tracebacks work).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

NUMBA_DISABLED = os.environ.get("NMR_BALANCE_NO_NUMBA", "") not in ("", "0")


def jit(fn: F | None = None, **options) -> F:
    """Decorate a kernel: ``@jit`` or ``@jit(parallel=True)``."""

    def wrap(f: F) -> F:
        if NUMBA_DISABLED:
            return f
        import numba

        return numba.njit(nogil=True, cache=True, **options)(f)

    return wrap(fn) if fn is not None else wrap


if NUMBA_DISABLED:
    prange = range
else:
    from numba import prange  # noqa: F401  (parallel loop inside @jit(parallel=True) kernels)
