"""NumPy twins of the trial-metric kernels in :mod:`dsp._kernels_metrics`.

Each twin gives the kernel's result (sums to ~1e-15 relative, counts exactly) with plain NumPy,
and this module never imports Numba: ``trial_metrics(..., use_numba=False)`` runs on it alone,
which is what a one-shot ``nmr-balance analyze`` of a few files uses (loading Numba and its
cached kernels costs more than the whole analysis of one trial).
"""

from __future__ import annotations

import numpy as np

from dsp._layout import (
    COV_XY,
    MAX_X,
    MAX_Y,
    MEAN_ABS_X,
    MEAN_ABS_Y,
    MEAN_RD,
    MEAN_RD2,
    MEAN_X,
    MEAN_Y,
    MIN_X,
    MIN_Y,
    N_STATS,
    PATH,
    PATH_X,
    PATH_Y,
    SWEPT_AREA,
    VAR_X,
    VAR_Y,
)


def sway_stats_numpy(x, y):
    """NumPy twin of :func:`dsp._kernels_metrics.sway_stats`: the sums vector, shape (N_STATS,)."""
    out = np.zeros(N_STATS)
    dx, dy = x - x.mean(), y - y.mean()
    rd = np.hypot(dx, dy)
    sx, sy = np.diff(x), np.diff(y)
    out[[MEAN_X, MEAN_Y]] = x.mean(), y.mean()
    out[[VAR_X, VAR_Y, COV_XY]] = np.mean(dx * dx), np.mean(dy * dy), np.mean(dx * dy)
    out[[MEAN_RD, MEAN_RD2]] = rd.mean(), np.mean(rd * rd)
    out[[PATH, PATH_X, PATH_Y]] = np.hypot(sx, sy).sum(), np.abs(sx).sum(), np.abs(sy).sum()
    out[[MIN_X, MAX_X, MIN_Y, MAX_Y]] = x.min(), x.max(), y.min(), y.max()
    out[SWEPT_AREA] = 0.5 * np.abs(dx[:-1] * dy[1:] - dx[1:] * dy[:-1]).sum()
    out[[MEAN_ABS_X, MEAN_ABS_Y]] = np.abs(dx).mean(), np.abs(dy).mean()
    return out


def block_mean_numpy(x, k):
    """NumPy twin of :func:`dsp._kernels_metrics.block_mean`."""
    m = x.size // k
    return x[: m * k].reshape(m, k).mean(axis=1)


def sample_entropy_counts_numpy(x, m, r):
    """NumPy twin of :func:`dsp._kernels_metrics.sample_entropy_counts`: (A, B) match counts.

    Same pairs and the same comparisons as the kernel: templates sorted by their first value,
    a pair (p, q > p) is a candidate while ``first[q] <= first[p] + r``; Chebyshev distance over
    the other m - 1 values <= r counts in B, and also the last value within r counts in A.
    Candidates are visited by rank distance d = q - p, one vectorised pass per d, so memory
    is O(n) (an all-pairs matrix would take O(n^2): 36 MB for a 60 s trial).
    """
    n_templates = x.size - m
    windows = np.lib.stride_tricks.sliding_window_view(x, m + 1)[:n_templates]
    tpl = windows[np.argsort(x[:n_templates], kind="stable")].T.copy()  # (m + 1, n): rows
    first = tpl[0]
    # Candidates of p are q in (p, reach[p]): the first values of q within r above p's.
    span = np.searchsorted(first, first + r, side="right") - np.arange(n_templates)
    rows = list(tpl)  # 1-D rows: contiguous slices, no 2-D temporaries
    a = b = 0
    for d in range(1, int(span.max(initial=1))):
        p_end = n_templates - d
        cand = span[:p_end] > d
        for k in range(1, m):  # Chebyshev distance over the middle values
            cand &= np.abs(rows[k][d:] - rows[k][:p_end]) <= r
        b += int(np.count_nonzero(cand))
        cand &= np.abs(rows[m][d:] - rows[m][:p_end]) <= r
        a += int(np.count_nonzero(cand))
    return a, b


def mean_square_displacement_numpy(x, y, lags):
    """NumPy twin of :func:`dsp._kernels_metrics.mean_square_displacement`."""
    out = np.zeros((lags.size, 3))
    for li, lag in enumerate(lags):
        dx2 = np.mean((x[lag:] - x[:-lag]) ** 2)
        dy2 = np.mean((y[lag:] - y[:-lag]) ** 2)
        out[li] = dx2, dy2, dx2 + dy2
    return out


def trial_kernels_numpy(x, y, k, lags, m, r_factor, stats, entropy, msd):
    """NumPy twin of :func:`dsp._kernels_metrics.trial_kernels`."""
    stats[:] = sway_stats_numpy(x, y)
    xd, yd = block_mean_numpy(x, k), block_mean_numpy(y, k)
    for axis, s in enumerate((xd, yd)):
        if m > 0 and s.size > m + 1:
            entropy[axis] = sample_entropy_counts_numpy(s, m, r_factor * s.std())
    if lags.size and lags[-1] < xd.size:
        msd[:, :] = mean_square_displacement_numpy(xd, yd, lags)
