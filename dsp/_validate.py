"""Input checks done once, at the public boundary, so kernels never see bad arrays."""

from __future__ import annotations

import numpy as np


def as_xy(xy, name: str = "xy", min_samples: int = 1, allow_nan: bool = False) -> np.ndarray:
    """Return ``xy`` as a C-contiguous float64 array of shape (n, 2), or raise ``ValueError``.

    The message names what was expected and what was found.
    """
    arr = np.asarray(xy)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers (float64 expected); got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(
            f"{name} must have shape (n_samples, 2) with columns x (ML) and y (AP); "
            f"got shape {arr.shape}"
        )
    if arr.shape[0] < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples; got {arr.shape[0]}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    # arr.sum() is finite for finite data (a cheap test); overflow falls through to the full one.
    if not allow_nan and not np.isfinite(arr.sum()):
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            first = int(np.argmax(bad))
            raise ValueError(
                f"{name} has {int(bad.sum())} non-finite samples (first at index {first}): "
                "gaps where nobody stood on the board? Cut the trial to the valid part, or pass "
                "nan_policy='interpolate' to bridge short gaps"
            )
    return arr


def as_signal(x, name: str, ndim: int = 1, n_cols: int | None = None) -> np.ndarray:
    """Return ``x`` as C-contiguous float64 with ``ndim`` dimensions (and ``n_cols`` columns)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers (float64 expected); got dtype {arr.dtype}")
    if arr.ndim != ndim or (n_cols is not None and arr.shape[-1] != n_cols):
        want = "(n_samples,)" if ndim == 1 else f"(n_samples, {n_cols if n_cols else 'k'})"
        raise ValueError(f"{name} must have shape {want}; got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def positive(value, name: str) -> float:
    """``value`` as a finite float > 0, or ``ValueError``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number; got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a positive number; got {value!r}")
    return v
