"""Numba kernels for the trial metrics; their plain NumPy twins are in :mod:`dsp._metrics_numpy`
(no Numba import there, so a one-shot analysis can run without loading Numba).

Kernels take validated, C-contiguous float64 arrays (see :mod:`dsp._validate`) and never raise.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import FAST_SUMS, jit, prange
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
from dsp._metrics_numpy import (  # noqa: F401  (each kernel's twin, importable beside it)
    block_mean_numpy,
    mean_square_displacement_numpy,
    sample_entropy_counts_numpy,
    sway_stats_numpy,
    trial_kernels_numpy,
)


@jit
def xy_rows(trials):
    """(n_trials, n, 2) -> contiguous (n_trials, 2, n) copy (faster than NumPy's transpose)."""
    n_trials, n = trials.shape[0], trials.shape[1]
    out = np.empty((n_trials, 2, n))
    for t in range(n_trials):
        flat = trials[t].ravel()  # a view (C order): x0 y0 x1 y1 ...
        ox = out[t, 0]
        oy = out[t, 1]
        for i in range(n):
            ox[i] = flat[2 * i]
            oy[i] = flat[2 * i + 1]
    return out


@jit(fastmath=FAST_SUMS)
def _mean(v):
    """Mean of ``v`` (a plain loop LLVM vectorises once allowed to reorder the sum)."""
    s = 0.0
    for i in range(v.size):
        s += v[i]
    return s / v.size


@jit
def _min_max(v):
    """(min, max) with four interleaved chains each: four times the throughput of one chain
    (LLVM does not vectorise float min/max reductions), exact."""
    a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = v[0]
    n4 = v.size - v.size % 4
    for i in range(0, n4, 4):
        a0 = min(a0, v[i])
        a1 = min(a1, v[i + 1])
        a2 = min(a2, v[i + 2])
        a3 = min(a3, v[i + 3])
        b0 = max(b0, v[i])
        b1 = max(b1, v[i + 1])
        b2 = max(b2, v[i + 2])
        b3 = max(b3, v[i + 3])
    lo = min(min(a0, a1), min(a2, a3))
    hi = max(max(b0, b1), max(b2, b3))
    for i in range(n4, v.size):
        lo = min(lo, v[i])
        hi = max(hi, v[i])
    return lo, hi


@jit(fastmath=FAST_SUMS)
def sway_stats(x, y):
    """Sums of a trial: moments, distances, path lengths, ranges, swept area.

    ``x`` and ``y`` must be contiguous rows (the loop is vectorised; an interleaved (n, 2)
    array would not be). One loop over the n - 1 steps holds every sum, so it vectorises.
    """
    n = x.size
    out = np.zeros(N_STATS)
    mx = _mean(x)
    my = _mean(y)
    px = x[0] - mx
    py = y[0] - my
    sxx = px * px
    syy = py * py
    sxy = px * py
    sax = abs(px)
    say = abs(py)
    srd = np.sqrt(px * px + py * py)
    path = path_x = path_y = swept = 0.0
    for i in range(1, n):
        px = x[i - 1] - mx
        py = y[i - 1] - my
        dx = x[i] - mx
        dy = y[i] - my
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
        sax += abs(dx)
        say += abs(dy)
        srd += np.sqrt(dx * dx + dy * dy)
        sx = dx - px
        sy = dy - py
        path += np.sqrt(sx * sx + sy * sy)
        path_x += abs(sx)
        path_y += abs(sy)
        swept += abs(px * dy - dx * py)
    out[MEAN_X] = mx
    out[MEAN_Y] = my
    out[VAR_X] = sxx / n
    out[VAR_Y] = syy / n
    out[COV_XY] = sxy / n
    out[MEAN_RD] = srd / n
    out[MEAN_RD2] = (sxx + syy) / n
    out[PATH] = path
    out[PATH_X] = path_x
    out[PATH_Y] = path_y
    out[MIN_X], out[MAX_X] = _min_max(x)
    out[MIN_Y], out[MAX_Y] = _min_max(y)
    out[SWEPT_AREA] = 0.5 * swept
    out[MEAN_ABS_X] = sax / n
    out[MEAN_ABS_Y] = say / n
    return out


@jit
def block_mean(x, k):
    """Average non-overlapping blocks of ``k`` samples (a trailing partial block is dropped)."""
    m = x.size // k
    out = np.empty(m)
    for b in range(m):
        s = 0.0
        for j in range(b * k, b * k + k):
            s += x[j]
        out[b] = s / k
    return out


@jit
def sample_entropy_counts(x, m, r):
    """Template matches (B for length m, A for length m + 1), Chebyshev distance <= r.

    Both counts use the same N - m templates (Richman & Moorman 2000), self-matches excluded.
    Templates are visited in order of their first value, so only pairs whose first values
    are within ``r`` are compared (same counts as the all-pairs loop, several times faster);
    they are copied in that order so the inner loop reads memory sequentially, without
    data-dependent branches.
    """
    n_templates = x.size - m
    order = np.argsort(x[:n_templates])
    tpl = np.empty((n_templates, m + 1))
    for p in range(n_templates):
        for k in range(m + 1):
            tpl[p, k] = x[order[p] + k]
    a = 0
    b = 0
    for p in range(n_templates - 1):
        limit = tpl[p, 0] + r
        q = p + 1
        while q < n_templates and tpl[q, 0] <= limit:
            worst = 0.0
            for k in range(1, m):
                worst = max(worst, abs(tpl[q, k] - tpl[p, k]))
            near = worst <= r
            b += near
            a += near and abs(tpl[q, m] - tpl[p, m]) <= r
            q += 1
    return a, b


@jit
def mean_square_displacement(x, y, lags):
    """Mean square displacement for each lag (samples): columns x, y and planar r^2."""
    n = x.size
    out = np.zeros((lags.size, 3))
    for li in range(lags.size):
        lag = lags[li]
        sx = 0.0
        sy = 0.0
        for i in range(n - lag):
            dx = x[i + lag] - x[i]
            dy = y[i + lag] - y[i]
            sx += dx * dx
            sy += dy * dy
        cnt = n - lag
        out[li, 0] = sx / cnt
        out[li, 1] = sy / cnt
        out[li, 2] = (sx + sy) / cnt
    return out


def trial_kernels(x, y, k, lags, m, r_factor, stats, entropy, msd):
    """Every per-trial kernel for one trial, writing into ``stats``, ``entropy`` and ``msd``.

    ``k`` is the block length of the decimation used for entropy and diffusion; ``entropy``
    (2, 2) gets the (A, B) match counts of x and y with tolerance ``r_factor`` * SD.
    Called from Python for a single trial (each kernel compiles on its own, quickly); the
    same code is compiled as one function (``_trial_kernels_fused``) for the parallel batch.
    """
    stats[:] = sway_stats(x, y)
    if m == 0 and lags.size == 0:
        return
    xd = block_mean(x, k)
    yd = block_mean(y, k)
    if m > 0 and xd.size > m + 1:
        a, b = sample_entropy_counts(xd, m, r_factor * _std(xd))
        entropy[0, 0] = a
        entropy[0, 1] = b
        a, b = sample_entropy_counts(yd, m, r_factor * _std(yd))
        entropy[1, 0] = a
        entropy[1, 1] = b
    if lags.size and lags[-1] < xd.size:
        msd[:, :] = mean_square_displacement(xd, yd, lags)


@jit
def _std(s):
    """Population standard deviation (plain loops: quicker to compile than array expressions)."""
    mean = 0.0
    for v in s:
        mean += v
    mean /= s.size
    acc = 0.0
    for v in s:
        acc += (v - mean) * (v - mean)
    return np.sqrt(acc / s.size)


_trial_kernels_fused = jit(trial_kernels)


@jit(parallel=True)
def trial_kernels_many(xy, k, lags, m, r_factor, stats, entropy, msd):
    """:func:`trial_kernels` over a stack of trials ``xy`` (n_trials, n, 2), in parallel."""
    for t in prange(xy.shape[0]):
        x = np.ascontiguousarray(xy[t, :, 0])
        y = np.ascontiguousarray(xy[t, :, 1])
        _trial_kernels_fused(x, y, k, lags, m, r_factor, stats[t], entropy[t], msd[t])
