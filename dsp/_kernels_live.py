"""Numba kernels for the live (sliding-window) metrics and training scores, with NumPy twins."""

from __future__ import annotations

import numpy as np

from dsp._jit import jit

# Running sums kept by ``sliding_update`` (state vector layout).
S_N, S_X, S_Y, S_XX, S_YY, S_XY, S_PATH, S_COUNT, S_HEAD, S_SINCE = range(10)
N_STATE = 10


@jit
def _recompute(buf, steps, state):
    cap = buf.shape[0]
    count = int(state[S_COUNT])
    head = int(state[S_HEAD])
    n = sx = sy = sxx = syy = sxy = path = 0.0
    for j in range(count):
        k = (head - count + j) % cap
        x, y = buf[k, 0], buf[k, 1]
        if not (np.isnan(x) or np.isnan(y)):
            n += 1.0
            sx += x
            sy += y
            sxx += x * x
            syy += y * y
            sxy += x * y
        if j > 0:
            path += steps[k]
    state[S_N] = n
    state[S_X] = sx
    state[S_Y] = sy
    state[S_XX] = sxx
    state[S_YY] = syy
    state[S_XY] = sxy
    state[S_PATH] = path
    state[S_SINCE] = 0.0


@jit
def sliding_update(xy, buf, steps, state):
    """Push samples ``xy`` (n, 2) into the window ring ``buf`` (cap, 2), updating running sums.

    ``steps[k]`` is the length of the step ending at ring slot k (0 when either end is NaN).
    Sums are rebuilt from the ring every ``cap`` samples so rounding never accumulates.
    """
    cap = buf.shape[0]
    for i in range(xy.shape[0]):
        head = int(state[S_HEAD])
        count = int(state[S_COUNT])
        if count == cap:
            x, y = buf[head, 0], buf[head, 1]  # the oldest sample leaves
            if not (np.isnan(x) or np.isnan(y)):
                state[S_N] -= 1.0
                state[S_X] -= x
                state[S_Y] -= y
                state[S_XX] -= x * x
                state[S_YY] -= y * y
                state[S_XY] -= x * y
            state[S_PATH] -= steps[(head + 1) % cap]  # the step into the new oldest sample
            count -= 1
        x, y = xy[i, 0], xy[i, 1]
        step = 0.0
        if count > 0:
            prev = (head - 1) % cap
            px, py = buf[prev, 0], buf[prev, 1]
            step = np.sqrt((x - px) ** 2 + (y - py) ** 2)
            if np.isnan(step):
                step = 0.0
        buf[head, 0] = x
        buf[head, 1] = y
        steps[head] = step
        state[S_PATH] += step if count > 0 else 0.0
        if not (np.isnan(x) or np.isnan(y)):
            state[S_N] += 1.0
            state[S_X] += x
            state[S_Y] += y
            state[S_XX] += x * x
            state[S_YY] += y * y
            state[S_XY] += x * y
        state[S_COUNT] = count + 1
        state[S_HEAD] = (head + 1) % cap
        state[S_SINCE] += 1.0
        if state[S_SINCE] >= cap:
            _recompute(buf, steps, state)


def window_sums_numpy(window):
    """NumPy twin of the sums ``sliding_update`` keeps, for the samples in ``window`` (m, 2)."""
    valid = window[~np.isnan(window).any(axis=1)]
    steps = np.hypot(*np.diff(window, axis=0).T)
    x, y = valid[:, 0], valid[:, 1]
    return np.array(
        [
            len(valid),
            x.sum(),
            y.sum(),
            (x * x).sum(),
            (y * y).sum(),
            (x * y).sum(),
            np.nansum(steps),
        ]
    )


@jit
def dwell_hits(inside, need, state, hits):
    """Enter-and-hold detection over the boolean samples ``inside`` (n,).

    A hit is the sample at which the cursor has been inside for ``need`` consecutive samples;
    it re-arms after leaving. ``state`` = [run length, samples seen]. Writes hit sample numbers
    (counted from the first sample ever) into ``hits``; returns how many.
    """
    m = 0
    for i in range(inside.shape[0]):
        if inside[i]:
            state[0] += 1
            if state[0] == need:
                hits[m] = state[1] + i
                m += 1
        else:
            state[0] = 0
    state[1] += inside.shape[0]
    return m


def dwell_hits_numpy(inside, need):
    """NumPy twin of :func:`dwell_hits` from a fresh state: the hit sample numbers."""
    padded = np.concatenate([[0], inside.astype(np.int8), [0]])
    starts = np.flatnonzero(np.diff(padded) == 1)
    ends = np.flatnonzero(np.diff(padded) == -1)
    keep = ends - starts >= need
    return starts[keep] + need - 1


@jit
def lagged_rms(xy, target, max_lag):
    """RMS distance between ``xy[lag:]`` and ``target[:n - lag]`` for lag = 0..max_lag (samples)."""
    n = xy.shape[0]
    out = np.full(max_lag + 1, np.nan)
    for lag in range(max_lag + 1):
        s = 0.0
        c = 0
        for i in range(lag, n):
            d = (xy[i, 0] - target[i - lag, 0]) ** 2 + (xy[i, 1] - target[i - lag, 1]) ** 2
            if not np.isnan(d):
                s += d
                c += 1
        if c > 0:
            out[lag] = np.sqrt(s / c)
    return out


def lagged_rms_numpy(xy, target, max_lag):
    """NumPy twin of :func:`lagged_rms`."""
    n = len(xy)
    return np.array(
        [
            np.sqrt(np.nanmean(np.sum((xy[lag:] - target[: n - lag]) ** 2, axis=1)))
            for lag in range(max_lag + 1)
        ]
    )
