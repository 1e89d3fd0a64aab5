"""NumPy twins of the spectral kernels in :mod:`dsp._kernels_spectral` (no Numba import)."""

from __future__ import annotations

import numpy as np


def hann_periodic(n: int) -> np.ndarray:
    """Periodic Hann window of ``n`` points, bit for bit ``scipy.signal.get_window("hann", n)``
    (the same formula: a symmetric window of n + 1 points, truncated), without importing
    ``scipy.signal`` (about half a second)."""
    if n <= 1:
        return np.ones(n)
    fac = np.linspace(-np.pi, np.pi, n + 1)
    w = np.zeros(n + 1)
    w += 0.5 * np.cos(0 * fac)
    w += 0.5 * np.cos(1 * fac)
    return w[:-1]


def welch_segments_numpy(signals, nperseg, step, n_seg, window):
    """Twin of :func:`dsp._kernels_spectral.welch_segments`: (R, n) -> (R, n_seg, nperseg)."""
    segs = np.lib.stride_tricks.sliding_window_view(signals, nperseg, axis=-1)[:, ::step][:, :n_seg]
    return (segs - segs.mean(axis=-1, keepdims=True)) * window


def welch_average_numpy(spec, scale, nperseg):
    """Twin of :func:`dsp._kernels_spectral.welch_average`: (R, n_seg, n_freq) -> (R, n_freq)."""
    n_seg, nf = spec.shape[1], spec.shape[2]
    power = (spec.real * spec.real + spec.imag * spec.imag).sum(axis=1)
    factor = np.full(nf, 2.0)
    factor[0] = 1.0
    if nperseg % 2 == 0:
        factor[-1] = 1.0
    return power * (scale / n_seg * factor)


def decimate_rows_numpy(signals, h, q):
    """Twin of :func:`dsp._kernels_spectral.decimate_rows`."""
    c = h.size // 2
    padded = np.pad(signals, ((0, 0), (c, c)), mode="reflect", reflect_type="odd")
    nd = -(-signals.shape[-1] // q)
    out = np.zeros((signals.shape[0], nd))
    for k, hk in enumerate(h):  # one pass per tap: O(n) memory (not n x taps)
        out += hk * padded[:, k : k + (nd - 1) * q + 1 : q]
    return out
