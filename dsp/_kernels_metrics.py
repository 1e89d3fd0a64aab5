"""Numba kernels for the trial metrics, each followed by its plain NumPy twin.

Kernels take validated, C-contiguous float64 arrays (see :mod:`dsp._validate`) and never raise.
"""

from __future__ import annotations

import numpy as np

from dsp._jit import FAST_SUMS, jit, prange

# Layout of the vector returned by ``sway_stats`` (population moments of mean-removed data).
MEAN_X, MEAN_Y, VAR_X, VAR_Y, COV_XY = 0, 1, 2, 3, 4
MEAN_RD, MEAN_RD2 = 5, 6
PATH, PATH_X, PATH_Y = 7, 8, 9
MIN_X, MAX_X, MIN_Y, MAX_Y = 10, 11, 12, 13
SWEPT_AREA = 14
MEAN_ABS_X, MEAN_ABS_Y = 15, 16
N_STATS = 17


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


def sway_stats_numpy(x, y):
    """NumPy twin of :func:`sway_stats`."""
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


def block_mean_numpy(x, k):
    """NumPy twin of :func:`block_mean`."""
    m = x.size // k
    return x[: m * k].reshape(m, k).mean(axis=1)


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


def sample_entropy_counts_numpy(x, m, r):
    """NumPy twin of :func:`sample_entropy_counts` (O(n^2) memory: short signals only)."""
    n_templates = x.size - m
    windows = np.lib.stride_tricks.sliding_window_view(x, m + 1)[:n_templates]
    d_m = np.max(np.abs(windows[:, None, :m] - windows[None, :, :m]), axis=2)
    d_last = np.abs(windows[:, None, m] - windows[None, :, m])
    upper = np.triu(np.ones((n_templates, n_templates), bool), 1)
    match_m = (d_m <= r) & upper
    return int(np.sum(match_m & (d_last <= r))), int(np.sum(match_m))


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


def mean_square_displacement_numpy(x, y, lags):
    """NumPy twin of :func:`mean_square_displacement`."""
    out = np.zeros((lags.size, 3))
    for li, lag in enumerate(lags):
        dx2 = np.mean((x[lag:] - x[:-lag]) ** 2)
        dy2 = np.mean((y[lag:] - y[:-lag]) ** 2)
        out[li] = dx2, dy2, dx2 + dy2
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


def trial_kernels_numpy(x, y, k, lags, m, r_factor, stats, entropy, msd):
    """NumPy twin of :func:`trial_kernels`."""
    stats[:] = sway_stats_numpy(x, y)
    xd, yd = block_mean_numpy(x, k), block_mean_numpy(y, k)
    for axis, s in enumerate((xd, yd)):
        if m > 0 and s.size > m + 1:
            entropy[axis] = sample_entropy_counts_numpy(s, m, r_factor * s.std())
    if lags.size and lags[-1] < xd.size:
        msd[:, :] = mean_square_displacement_numpy(xd, yd, lags)
