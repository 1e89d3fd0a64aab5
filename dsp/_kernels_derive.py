"""Numba kernels turning per-trial sums and spectra into metric values.

Their NumPy twins are the vectorised functions in :mod:`dsp._derive_numpy`; ``TIME_KEYS`` and
``SPECTRAL_KEYS`` give the order of the values each kernel writes.
"""

from __future__ import annotations

import numpy as np

from dsp import _kernels_metrics as K
from dsp._jit import FAST_SUMS, jit, prange
from dsp._layout import (  # noqa: F401  (the orders, re-exported beside the kernels)
    N_TIME,
    SDA_KEYS,
    SPECTRAL_KEYS,
    SPECTRAL_NAMES,
    TIME_KEYS,
    Z_95,
)


@jit
def _nan_div(a, b):
    return a / b if b != 0.0 else np.nan


@jit
def time_metrics(st, n, fs, chi2_scale, f_scale, out):
    """Time-domain metrics (order ``TIME_KEYS``) from :func:`sway_stats` sums ``st``."""
    duration = n / fs
    mdist = st[K.MEAN_RD]
    out[0] = n
    out[1] = duration
    out[2] = st[K.MEAN_X]
    out[3] = st[K.MEAN_Y]
    out[4] = mdist
    out[5] = st[K.MEAN_ABS_X]
    out[6] = st[K.MEAN_ABS_Y]
    out[7] = np.sqrt(st[K.MEAN_RD2])
    out[8] = np.sqrt(st[K.VAR_X])
    out[9] = np.sqrt(st[K.VAR_Y])
    out[10] = st[K.MAX_X] - st[K.MIN_X]
    out[11] = st[K.MAX_Y] - st[K.MIN_Y]
    out[12] = st[K.PATH]
    out[13] = st[K.PATH_X]
    out[14] = st[K.PATH_Y]
    out[15] = st[K.PATH] / duration
    out[16] = st[K.PATH_X] / duration
    out[17] = st[K.PATH_Y] / duration
    sd_rd = np.sqrt(max(st[K.MEAN_RD2] - mdist * mdist, 0.0))
    out[18] = np.pi * (mdist + Z_95 * sd_rd) ** 2
    ddof = n / (n - 1.0)
    a = st[K.VAR_X] * ddof
    c = st[K.VAR_Y] * ddof
    b = st[K.COV_XY] * ddof
    half_gap = np.sqrt(((a - c) / 2) ** 2 + b * b)
    l1 = (a + c) / 2 + half_gap
    l2 = max((a + c) / 2 - half_gap, 0.0)
    sqrt_det = np.sqrt(max(a * c - b * b, 0.0))
    _ellipse(out, 19, chi2_scale, sqrt_det, l1, l2)
    _ellipse(out, 22, f_scale, sqrt_det, l1, l2)
    out[25] = 90.0 / np.pi * np.arctan2(2 * b, a - c)
    out[26] = st[K.SWEPT_AREA] / duration
    out[27] = _nan_div(out[15], 2 * np.pi * mdist)
    out[28] = _nan_div(out[16], 4 * np.sqrt(2.0) * out[5])
    out[29] = _nan_div(out[17], 4 * np.sqrt(2.0) * out[6])
    out[30] = _fractal(n - 1.0, 2 * (mdist + Z_95 * sd_rd), st[K.PATH])
    out[31] = _fractal(n - 1.0, np.sqrt(4 * out[22] / np.pi), st[K.PATH])


@jit
def _ellipse(out, j, scale, sqrt_det, l1, l2):
    out[j] = np.pi * scale * sqrt_det
    out[j + 1] = np.sqrt(scale * l1)
    out[j + 2] = np.sqrt(scale * l2)


@jit
def _fractal(steps, diameter, path):
    """Prieto's fractal dimension log(N) / log(N d / path); NaN without sway."""
    if path <= 0:
        return np.nan
    return _nan_div(np.log(steps), np.log(steps * diameter / path))


@jit(fastmath=FAST_SUMS)
def spectral_metrics(f, psd, lo, hi, out):
    """Spectral metrics (order ``SPECTRAL_KEYS``) of one trial's PSDs ``psd`` (2, n_freq)."""
    nf = f.size
    # Bins inside the band [lo, hi]: f is an even grid from 0.
    first = nf
    last = -1
    for i in range(nf):
        if f[i] >= lo and f[i] <= hi:
            first = min(first, i)
            last = i
    ml = psd[0]
    ap = psd[1]
    _spectrum_metrics(f, ml + ap, first, last, out, 0)  # combined (planar)
    _spectrum_metrics(f, ml, first, last, out, 6)
    _spectrum_metrics(f, ap, first, last, out, 12)
    # Duarte's combined mean frequency: per-axis values weighted by each axis' summed PSD.
    # An axis without power has no mean frequency and weight 0.
    num = 0.0
    den = 0.0
    for axis in range(2):
        weight = _total(psd[axis])
        den += weight
        if weight > 0:
            num += out[7 + 6 * axis] * weight
    out[1] = _nan_div(num, den)


@jit(fastmath=FAST_SUMS)
def _total(p):
    s = 0.0
    for i in range(p.size):
        s += p[i]
    return s


@jit(fastmath=FAST_SUMS)
def _spectrum_metrics(f, p, first, last, out, base):
    """The six metrics of one spectrum ``p`` (1-D: its loops vectorise) into out[base:]."""
    nf = f.size
    df = f[1] - f[0]
    tr0 = tr1 = 0.0  # trapezoids of p and f p over the whole spectrum
    for i in range(nf):
        tr0 += p[i]
        tr1 += p[i] * f[i]
    tr0 -= 0.5 * (p[0] + p[nf - 1])
    tr1 -= 0.5 * (p[0] * f[0] + p[nf - 1] * f[nf - 1])
    m0 = m1 = m2 = 0.0
    for i in range(first, last + 1):
        m0 += p[i]
        m1 += p[i] * f[i]
        m2 += p[i] * f[i] * f[i]
    out[base] = m0 * df
    out[base + 1] = _nan_div(tr1, tr0)
    out[base + 2] = np.nan
    out[base + 3] = np.nan
    out[base + 4] = np.nan
    out[base + 5] = np.nan
    if m0 > 0:
        cum = 0.0
        for i in range(first, last + 1):
            cum += p[i]
            if np.isnan(out[base + 2]) and cum >= 0.5 * m0 * (1 - 1e-12):
                out[base + 2] = f[i]
            if cum >= 0.95 * m0 * (1 - 1e-12):
                out[base + 3] = f[i]
                break
        out[base + 4] = np.sqrt(m2 / m0)
        out[base + 5] = np.sqrt(max(1.0 - m1 * m1 / (m0 * m2), 0.0))


@jit(parallel=True)
def derive_many(stats, f, psd, n, fs, chi2_scale, f_scale, lo, hi, with_spectra, out):
    """:func:`time_metrics` then :func:`spectral_metrics` for every trial, in parallel."""
    nt = N_TIME
    for t in prange(stats.shape[0]):
        time_metrics(stats[t], n, fs, chi2_scale, f_scale, out[t, :nt])
        if with_spectra:
            spectral_metrics(f, psd[t], lo, hi, out[t, nt:])


@jit
def _line(t, y, sel):
    """Least-squares line y = a + b t over the samples where ``sel``; returns (a, b)."""
    n = 0
    st = sy = 0.0
    for i in range(t.size):
        if sel[i]:
            n += 1
            st += t[i]
            sy += y[i]
    tm, ym = st / n, sy / n
    sxx = sxy = 0.0
    for i in range(t.size):
        if sel[i]:
            sxx += (t[i] - tm) * (t[i] - tm)
            sxy += (t[i] - tm) * (y[i] - ym)
    b = sxy / sxx
    return ym - b * tm, b


@jit
def sda_fit(r2, t, short, long_, out):
    """Stabilogram-diffusion parameters (order ``SDA_KEYS``) from planar MSD ``r2`` (T, L).

    Linear fits of r2 vs t (D = slope / 2) and of log r2 vs log t (H = slope / 2) in the
    short- and long-term regions; the critical point is where the two linear fits cross.
    """
    log_t = np.log(t)
    for k in range(r2.shape[0]):
        y = r2[k]
        a_s, b_s = _line(t, y, short)
        a_l, b_l = _line(t, y, long_)
        log_y = np.log(y)
        out[k, 0] = b_s / 2
        out[k, 1] = b_l / 2
        out[k, 2] = _line(log_t, log_y, short)[1] / 2
        out[k, 3] = _line(log_t, log_y, long_)[1] / 2
        tc = _nan_div(a_l - a_s, b_s - b_l)
        out[k, 4] = tc
        out[k, 5] = a_s + b_s * tc
        for j in range(6):
            if not np.isfinite(out[k, j]):
                out[k, j] = np.nan
