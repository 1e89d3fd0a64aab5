"""NumPy twins of :mod:`dsp._kernels_derive` (vectorised over trials; no Numba import)."""

from __future__ import annotations

import numpy as np

from dsp import _layout as K
from dsp._layout import N_TIME, SPECTRAL_KEYS, Z_95
from dsp.spectral import spectral_summary


def time_metrics_numpy(st, n, fs, chi2_scale, f_scale):
    """Twin of :func:`dsp._kernels_derive.time_metrics`: ``st`` (T, N_STATS) -> (T, N_TIME)."""
    duration = n / fs
    out = np.empty((st.shape[0], N_TIME))
    mdist = st[:, K.MEAN_RD]
    out[:, 0], out[:, 1] = n, duration
    out[:, 2:7] = st[:, [K.MEAN_X, K.MEAN_Y, K.MEAN_RD, K.MEAN_ABS_X, K.MEAN_ABS_Y]]
    out[:, 7:10] = np.sqrt(st[:, [K.MEAN_RD2, K.VAR_X, K.VAR_Y]])
    out[:, 10] = st[:, K.MAX_X] - st[:, K.MIN_X]
    out[:, 11] = st[:, K.MAX_Y] - st[:, K.MIN_Y]
    out[:, 12:15] = st[:, [K.PATH, K.PATH_X, K.PATH_Y]]
    out[:, 15:18] = out[:, 12:15] / duration
    sd_rd = np.sqrt(np.maximum(st[:, K.MEAN_RD2] - mdist**2, 0.0))
    out[:, 18] = np.pi * (mdist + Z_95 * sd_rd) ** 2
    a, c, b = (st[:, col] * n / (n - 1) for col in (K.VAR_X, K.VAR_Y, K.COV_XY))
    half_gap = np.sqrt(((a - c) / 2) ** 2 + b**2)
    l1, l2 = (a + c) / 2 + half_gap, np.maximum((a + c) / 2 - half_gap, 0.0)
    sqrt_det = np.sqrt(np.maximum(a * c - b * b, 0.0))
    for j, scale in ((19, chi2_scale), (22, f_scale)):
        out[:, j] = np.pi * scale * sqrt_det
        out[:, j + 1], out[:, j + 2] = np.sqrt(scale * l1), np.sqrt(scale * l2)
    out[:, 25] = np.degrees(0.5 * np.arctan2(2 * b, a - c))
    out[:, 26] = st[:, K.SWEPT_AREA] / duration
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, 27] = out[:, 15] / (2 * np.pi * mdist)
        out[:, 28] = out[:, 16] / (4 * np.sqrt(2) * out[:, 5])
        out[:, 29] = out[:, 17] / (4 * np.sqrt(2) * out[:, 6])
        steps = n - 1
        for j, diameter in (
            (30, 2 * (mdist + Z_95 * sd_rd)),
            (31, np.sqrt(4 * out[:, 22] / np.pi)),
        ):
            out[:, j] = np.log(steps) / np.log(steps * diameter / st[:, K.PATH])
    return np.where(np.isfinite(out), out, np.nan)


def spectral_metrics_numpy(f, psd, lo, hi):
    """Twin of :func:`dsp._kernels_derive.spectral_metrics`: ``psd`` (T, 2, nf) -> (T, 18)."""
    values = {}
    for suffix, p in (("", psd[:, 0] + psd[:, 1]), ("_ml", psd[:, 0]), ("_ap", psd[:, 1])):
        for key, val in spectral_summary(f, p, (lo, hi)).items():
            values[key + suffix] = val
    w = psd.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = [
            np.where(w[:, a] > 0, values[f"mean_power_frequency{sfx}"] * w[:, a], 0.0)
            for a, sfx in enumerate(("_ml", "_ap"))
        ]
        values["mean_power_frequency"] = (weighted[0] + weighted[1]) / w.sum(axis=1)
    return np.column_stack([values[k] for k in SPECTRAL_KEYS])


def sda_fit_numpy(r2, t, short, long_):
    """Twin of :func:`dsp._kernels_derive.sda_fit`: ``r2`` (T, L) -> (T, 6)."""
    a_s, b_s = _linfit(t[short], r2[:, short])
    a_l, b_l = _linfit(t[long_], r2[:, long_])
    with np.errstate(invalid="ignore", divide="ignore"):
        log_r2 = np.log(r2)
        tc = (a_l - a_s) / (b_s - b_l)
        values = np.column_stack(
            [
                b_s / 2,
                b_l / 2,
                _linfit(np.log(t[short]), log_r2[:, short])[1] / 2,
                _linfit(np.log(t[long_]), log_r2[:, long_])[1] / 2,
                tc,
                a_s + b_s * tc,
            ]
        )
    values[~np.isfinite(values)] = np.nan
    return values


def _linfit(t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares line y = a + b t for each row of ``y``; returns (a, b)."""
    tc = t - t.mean()
    # Plain sums, not BLAS: a BLAS call on a busy machine can cost milliseconds.
    b = ((y - y.mean(axis=1, keepdims=True)) * tc).sum(axis=1) / (tc * tc).sum()
    return y.mean(axis=1) - b * t.mean(), b
