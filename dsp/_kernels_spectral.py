"""Numba kernels for the spectra (Welch segments and averaging, FIR decimation); their NumPy
twins are in :mod:`dsp._spectral_numpy`.

Kernels take validated, C-contiguous float64 arrays and never raise.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import FAST_SUMS, jit, prange
from dsp._spectral_numpy import (  # noqa: F401  (each kernel's twin, importable beside it)
    decimate_rows_numpy,
    welch_average_numpy,
    welch_segments_numpy,
)


@jit(fastmath=FAST_SUMS)
def welch_segments(signals, nperseg, step, n_seg, window):
    """Detrended (mean-removed), windowed Welch segments of ``signals`` (R, n).

    Returns shape (R, n_seg, nperseg), ready for one real FFT call along the last axis.
    """
    n_rows = signals.shape[0]
    out = np.empty((n_rows, n_seg, nperseg))
    for r in range(n_rows):
        for s in range(n_seg):
            # 1-D views: their loops vectorise (3-D indexing measured 2.7x slower).
            src = signals[r, s * step : s * step + nperseg]
            dst = out[r, s]
            mean = 0.0
            for i in range(nperseg):
                mean += src[i]
            mean /= nperseg
            for i in range(nperseg):
                dst[i] = (src[i] - mean) * window[i]
    return out


@jit(fastmath=FAST_SUMS)
def welch_average(spec, scale, nperseg):
    """One-sided PSD (R, n_freq) from segment spectra ``spec`` (R, n_seg, n_freq):
    mean |X|^2 * scale, doubled except at 0 Hz and (even ``nperseg``) the Nyquist bin."""
    n_rows, n_seg, nf = spec.shape
    out = np.zeros((n_rows, nf))
    last_doubled = nf - 1 if nperseg % 2 else nf - 2
    for r in range(n_rows):
        for s in range(n_seg):
            for i in range(nf):
                z = spec[r, s, i]
                out[r, i] += z.real * z.real + z.imag * z.imag
        for i in range(nf):
            out[r, i] *= scale / n_seg * (2.0 if 1 <= i <= last_doubled else 1.0)
    return out


@jit(fastmath=FAST_SUMS)
def _decimate_row(x, h, q, o):
    """One row of :func:`decimate_rows` into ``o`` (ceil(n / q),)."""
    n = x.size
    c = h.size // 2
    nd = o.size
    n_a = (h.size + q - 1) // q  # taps per phase
    m_len = nd + n_a
    # Polyphase layout of the extended signal, phases[p, m] = x_ext[m q + p - c]: each tap
    # is then one multiply-add over every output with contiguous reads, which vectorises
    # (a dot product per output does not: its ~75 terms are too few).
    phases = np.empty((q, m_len))
    for p in range(q):
        m0 = min((c - p + q - 1) // q, m_len)  # first m with index >= 0
        m1 = min((n - 1 + c - p) // q, m_len - 1)  # last m with index <= n - 1
        for m in range(m0):
            phases[p, m] = 2.0 * x[0] - x[c - p - m * q]
        for m in range(m0, m1 + 1):
            phases[p, m] = x[m * q + p - c]
        for m in range(m1 + 1, m_len):
            phases[p, m] = 2.0 * x[n - 1] - x[2 * (n - 1) - (m * q + p - c)]
    for j in range(nd):
        o[j] = 0.0
    for p in range(q):
        for a in range(n_a):
            k = a * q + p
            if k >= h.size:
                break
            hk = h[k]
            for j in range(nd):
                o[j] += hk * phases[p, j + a]


@jit
def decimate_rows(signals, h, q):
    """Zero-phase FIR low-pass of each row of ``signals`` (R, n), keeping every q-th sample.

    out[r, j] = sum_k h[k] x[r, j q + k - c] with c = (len(h) - 1) / 2 (``h`` symmetric, odd
    length, so the filter has zero phase) and x extended past both ends by odd reflection
    (x[-i] = 2 x[0] - x[i], as scipy's ``filtfilt`` pads). Returns (R, ceil(n / q)).
    Needs n > len(h) + q (the caller decimates trials of >= 10 s only).
    """
    n_rows, n = signals.shape
    out = np.empty((n_rows, (n + q - 1) // q))
    for r in range(n_rows):
        _decimate_row(signals[r], h, q, out[r])
    return out


@jit(parallel=True)
def decimate_rows_many(signals, h, q):
    """:func:`decimate_rows` with the rows in parallel, for a batch of trials. (Not for one
    trial's two rows: on two shared cores the parallel region often waits for a busy core,
    and its mean time was 1.7x the serial one's, though its best was faster.)"""
    n_rows, n = signals.shape
    out = np.empty((n_rows, (n + q - 1) // q))
    for r in prange(n_rows):
        _decimate_row(signals[r], h, q, out[r])
    return out
