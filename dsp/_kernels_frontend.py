"""Numba kernels of the streaming front-end, each followed by its plain NumPy/SciPy twin.

Kernels write into caller-provided arrays and carry state in caller-provided arrays, so the
public classes (``dsp.cop``, ``dsp.filters``, ``dsp.resample``, ``dsp.tilt``) own the state
and the kernels never allocate per chunk (except where noted).
"""

from __future__ import annotations

import numpy as np

from dsp._jit import jit
from dsp._layout import G  # standard gravity, m/s^2 (kg -> N)


# --- 6-axis plate --------------------------------------------------------------------------
@jit
def plate_cop(fm, dz_m, min_fz, out):
    """COP (mm) and Fz from plate rows ``fm`` (n, 6) = Fx Fy Fz (N), Mx My Mz (N m).

    AMTI frame (x forward, y right, z down), origin ``dz_m`` below the surface:
    AP = (-My - Fx dz) / Fz, ML = (Mx - Fy dz) / Fz. ``out`` (n, 3) gets x = ML, y = AP (mm)
    and fz (N); x = y = NaN where Fz < ``min_fz`` (nobody on the plate) and where Fz = 0 (a
    ``min_fz`` <= 0 must not divide by zero: Numba would raise where NumPy gives NaN).
    """
    for i in range(fm.shape[0]):
        fz = fm[i, 2]
        out[i, 2] = fz
        if fz >= min_fz and fz != 0.0:
            out[i, 0] = 1000.0 * (fm[i, 3] - fm[i, 1] * dz_m) / fz
            out[i, 1] = 1000.0 * (-fm[i, 4] - fm[i, 0] * dz_m) / fz
        else:
            out[i, 0] = np.nan
            out[i, 1] = np.nan


def plate_cop_numpy(fm, dz_m, min_fz):
    """NumPy twin of :func:`plate_cop` (returns the (n, 3) array)."""
    fx, fy, fz, mx, my = (fm[:, j] for j in range(5))
    loaded = (fz >= min_fz) & (fz != 0.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ml = np.where(loaded, 1000.0 * (mx - fy * dz_m) / fz, np.nan)
        ap = np.where(loaded, 1000.0 * (-my - fx * dz_m) / fz, np.nan)
    return np.column_stack([ml, ap, fz])


# --- four load cells -----------------------------------------------------------------------
@jit
def cells_cop(raw, cal, gain, offset, tare, positions, min_total, forces, out):
    """Calibrated cell forces (N) and COP from raw cell readings.

    ``raw`` (n, 4); per cell c: if ``cal[c, 2] > cal[c, 0]`` the Wii piecewise-linear map through
    (cal[c, 0], 0 kg), (cal[c, 1], 17 kg), (cal[c, 2], 34 kg) turns raw into kg (x 9.80665 = N),
    otherwise ``gain[c] * (raw - offset[c])`` gives N. ``tare`` (4,) N is then subtracted.
    ``positions`` (4, 2) mm. Writes ``forces`` (n, 4) N and ``out`` (n, 3) = x, y (mm), total
    load (N); x = y = NaN where the total is below ``min_total`` N or exactly 0 (see
    :func:`plate_cop`).
    """
    for i in range(raw.shape[0]):
        total = 0.0
        mx = 0.0
        my = 0.0
        for c in range(4):
            r = raw[i, c]
            if cal[c, 2] > cal[c, 0]:
                if r <= cal[c, 0]:
                    kg = 0.0  # as the Linux hid-wiimote driver: nothing below the 0 kg reading
                elif r < cal[c, 1]:
                    kg = 17.0 * (r - cal[c, 0]) / (cal[c, 1] - cal[c, 0])
                else:
                    kg = 17.0 + 17.0 * (r - cal[c, 1]) / (cal[c, 2] - cal[c, 1])
                f = kg * G
            else:
                f = gain[c] * (r - offset[c])
            f -= tare[c]
            forces[i, c] = f
            total += f
            mx += f * positions[c, 0]
            my += f * positions[c, 1]
        out[i, 2] = total
        if total >= min_total and total != 0.0:
            out[i, 0] = mx / total
            out[i, 1] = my / total
        else:
            out[i, 0] = np.nan
            out[i, 1] = np.nan


def wii_kg_numpy(raw, cal):
    """Wii Balance Board piecewise-linear calibration: raw (n, 4) -> kg (n, 4).

    ``cal`` (4, 3): each cell's raw readings at 0, 17 and 34 kg. 0 at or below the 0 kg reading
    (as the Linux hid-wiimote driver), linear to 17 kg, then the 17-34 kg segment extrapolated.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        low = 17.0 * (raw - cal[:, 0]) / (cal[:, 1] - cal[:, 0])
        high = 17.0 + 17.0 * (raw - cal[:, 1]) / (cal[:, 2] - cal[:, 1])
    return np.where(raw <= cal[:, 0], 0.0, np.where(raw < cal[:, 1], low, high))


def cells_cop_numpy(raw, cal, gain, offset, tare, positions, min_total):
    """NumPy twin of :func:`cells_cop`; returns (forces (n, 4), out (n, 3))."""
    wii = cal[:, 2] > cal[:, 0]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        kg = wii_kg_numpy(raw, cal)
        forces = np.where(wii, kg * G, gain * (raw - offset)) - tare
        # Cell by cell, in the kernel's order: a matrix product (BLAS) or a pairwise sum adds in
        # another order, and with cancelling extreme loads the results then differ.
        total, mx, my = (np.zeros(len(raw)) for _ in range(3))
        for c in range(4):
            total = total + forces[:, c]
            mx = mx + forces[:, c] * positions[c, 0]
            my = my + forces[:, c] * positions[c, 1]
        xy = np.column_stack([mx, my]) / total[:, None]
    xy[~((total >= min_total) & (total != 0.0))] = np.nan
    return forces, np.column_stack([xy, total])


# --- Butterworth low-pass, streaming -------------------------------------------------------
@jit
def sos_stream(x, sos, zi, zi_unit, primed, out):
    """Second-order sections over ``x`` (n, c) with state ``zi`` (n_sections, c, 2), in place.

    Transposed direct form II, as ``scipy.signal.sosfilt``. A NaN input gives a NaN output and
    un-primes its channel; the next finite sample re-primes the state to the steady state for
    that value (``zi_unit`` (n_sections, 2) = ``sosfilt_zi``), so a gap costs no transient.
    """
    n_sec = sos.shape[0]
    for i in range(x.shape[0]):
        for c in range(x.shape[1]):
            v = x[i, c]
            if np.isnan(v):
                primed[c] = False
                out[i, c] = np.nan
                continue
            if not primed[c]:
                for s in range(n_sec):
                    zi[s, c, 0] = zi_unit[s, 0] * v
                    zi[s, c, 1] = zi_unit[s, 1] * v
                primed[c] = True
            for s in range(n_sec):
                y = sos[s, 0] * v + zi[s, c, 0]
                zi[s, c, 0] = sos[s, 1] * v - sos[s, 4] * y + zi[s, c, 1]
                zi[s, c, 1] = sos[s, 2] * v - sos[s, 5] * y
                v = y
            out[i, c] = v


def sos_stream_numpy(x, sos, zi):
    """SciPy twin of :func:`sos_stream` for finite input: ``sosfilt`` along axis 0."""
    import scipy.signal  # the twins only: the kernels never need it

    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)


# --- window-average resampling (SWARII-like) -----------------------------------------------
@jit
def window_average(t, v, period, max_hold, state, acc, v_prev, out_t, out_v, out_src):
    """Average the sample-and-hold signal over consecutive windows of ``period`` seconds.

    ``state`` = [t_prev, window_start, n_windows_done, started]; ``acc`` (c,) integral of the
    current window; ``v_prev`` (c,) value held since t_prev. For each finished window writes its
    centre time to ``out_t``, its mean to ``out_v`` and the index of the input sample that
    finished it to ``out_src``. A hold longer than ``max_hold`` s counts as missing (NaN).
    Returns the number of windows written.
    """
    n_out = 0
    n_ch = v.shape[1]
    for i in range(t.shape[0]):
        ti = t[i]
        if state[3] == 0.0:
            state[0] = ti
            state[1] = ti
            state[3] = 1.0
            for c in range(n_ch):
                v_prev[c] = v[i, c]
                acc[c] = 0.0
            continue
        t_prev = state[0]
        ti = max(ti, t_prev)  # time went backwards: zero-length hold
        stale = (ti - t_prev) > max_hold
        end = state[1] + period
        while ti >= end:
            for c in range(n_ch):
                held = np.nan if stale else v_prev[c]
                acc[c] += held * (end - t_prev)
                out_v[n_out, c] = acc[c] / period
                acc[c] = 0.0
            out_t[n_out] = state[1] + 0.5 * period
            out_src[n_out] = i
            n_out += 1
            t_prev = end
            state[1] = end
            state[2] += 1.0
            end = state[1] + period
        for c in range(n_ch):
            held = np.nan if stale else v_prev[c]
            acc[c] += held * (ti - t_prev)
            v_prev[c] = v[i, c]
        state[0] = ti
    return n_out


def window_average_numpy(t, v, period, t_start, n_windows):
    """NumPy twin of :func:`window_average` (no stale holds): exact integral of the hold signal.

    Returns the means over the windows [t_start + k period, t_start + (k + 1) period).
    """
    steps = np.diff(t)[:, None] * v[:-1]
    integral = np.vstack([np.zeros((1, v.shape[1])), np.cumsum(steps, axis=0)])
    edges = t_start + period * np.arange(n_windows + 1)
    at_edges = np.column_stack([np.interp(edges, t, integral[:, c]) for c in range(v.shape[1])])
    return np.diff(at_edges, axis=0) / period


# --- IMU tilt, complementary filter --------------------------------------------------------
@jit
def tilt_complementary(acc, gyro, dt, alpha, state, out):
    """Board tilt (deg) from accelerometer (g) and gyroscope (deg/s), both in the board frame.

    Frame: x right, y forward, z up. roll phi (+ right edge down) = atan2(-ax, hypot(ay, az)),
    pitch theta (+ front edge down) = atan2(-ay, az); rates theta' = -gx and
    phi' = gy cos(theta) + gz sin(theta). Each angle = alpha (angle + rate dt) + (1 - alpha)
    accel angle, theta first. ``state`` = [phi, theta, primed]; ``out`` (n, 2) = phi, theta.
    """
    for i in range(acc.shape[0]):
        ax, ay, az = acc[i, 0], acc[i, 1], acc[i, 2]
        phi_acc = np.degrees(np.arctan2(-ax, np.sqrt(ay * ay + az * az)))
        theta_acc = np.degrees(np.arctan2(-ay, az))
        if state[2] == 0.0:
            state[0] = phi_acc
            state[1] = theta_acc
            state[2] = 1.0
        else:
            theta = state[1]
            theta_new = alpha * (theta - gyro[i, 0] * dt[i]) + (1 - alpha) * theta_acc
            th = np.radians(theta_new)
            phi_rate = gyro[i, 1] * np.cos(th) + gyro[i, 2] * np.sin(th)
            state[0] = alpha * (state[0] + phi_rate * dt[i]) + (1 - alpha) * phi_acc
            state[1] = theta_new
        out[i, 0] = state[0]
        out[i, 1] = state[1]


def tilt_complementary_numpy(acc, gyro, dt, alpha):
    """SciPy twin of :func:`tilt_complementary` (constant ``dt``), as two first-order filters."""
    import scipy.signal  # the twins only: the kernels never need it

    ax, ay, az = acc.T
    phi_acc = np.degrees(np.arctan2(-ax, np.hypot(ay, az)))
    theta_acc = np.degrees(np.arctan2(-ay, az))

    # y_k = alpha y_{k-1} + u_k, u_k = alpha rate_k dt + (1 - alpha) acc_k, y_0 = acc_0.
    def recursion(rate, angle_acc):
        u = alpha * rate * dt + (1 - alpha) * angle_acc
        u[0] = angle_acc[0]
        return scipy.signal.lfilter([1.0], [1.0, -alpha], u)

    theta = recursion(-gyro[:, 0], theta_acc)
    th = np.radians(theta)
    phi = recursion(gyro[:, 1] * np.cos(th) + gyro[:, 2] * np.sin(th), phi_acc)
    return np.column_stack([phi, theta])
