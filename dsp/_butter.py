"""Butterworth low-pass design with NumPy alone: ``scipy.signal.butter`` and ``sosfilt_zi``,
bit for bit.

Why not call SciPy: importing ``scipy.signal`` costs about 0.6 s of CPU (it pulls in
``scipy.stats``), more than everything else a live start, ``record`` or ``run`` needs before
its first sample. The live low-pass only needs the coefficients, so this module repeats SciPy's
own steps (``buttap`` -> ``lp2lp_zpk`` -> ``bilinear_zpk`` -> ``zpk2tf`` / ``zpk2sos`` with
"nearest" pairing, ``lfilter_zi``) with the same NumPy operations in the same order; the tests
compare every coefficient with SciPy's for many orders, cut-offs and rates (equal, not close).
Offline zero-phase filtering still calls ``scipy.signal.sosfiltfilt``.
"""

from __future__ import annotations

import numpy as np


def butter_zpk(order: int, cutoff_hz: float, fs: float):
    """Zeros, poles and gain of the digital Butterworth low-pass (``butter(..., output="zpk")``).

    ``0 < cutoff_hz < fs / 2`` and ``order >= 1`` are the caller's to check.
    """
    wn = np.asarray(cutoff_hz, dtype=np.float64) / (fs / 2)
    # buttap: analog prototype
    m = np.arange(-order + 1, order, 2, dtype=np.float64)
    p = -np.exp(1j * np.pi * m / (2 * order))
    z = np.asarray([], dtype=np.float64)
    k = 1.0
    # pre-warp (iirfilter works at fs = 2), lp2lp_zpk
    warped = float(2 * 2.0 * np.tan(np.pi * wn / 2.0))
    degree = p.shape[0] - z.shape[0]
    z, p, k = warped * z, warped * p, k * warped**degree
    # bilinear_zpk at fs = 2
    fs2 = 2.0 * 2.0
    z_z = (fs2 + z) / (fs2 - z)
    p_z = (fs2 + p) / (fs2 - p)
    z_z = np.concatenate((z_z, -np.ones(degree)))
    k_z = k * np.real(np.prod(fs2 - z) / np.prod(fs2 - p))
    return z_z, p_z, k_z


def butter_ba(order: int, cutoff_hz: float, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Transfer function (b, a) of the Butterworth low-pass: ``butter(order, cutoff_hz, fs=fs)``."""
    return _zpk2tf(*butter_zpk(order, cutoff_hz, fs))


def butter_sos(order: int, cutoff_hz: float, fs: float) -> np.ndarray:
    """Second-order sections, shape (ceil(order / 2), 6): ``butter(..., output="sos")``."""
    return _zpk2sos(*butter_zpk(order, cutoff_hz, fs))


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfilt_zi``: the sections' steady state for a unit step, (n_sections, 2)."""
    zi = np.empty((sos.shape[0], 2), dtype=sos.dtype)
    scale = 1.0
    for section in range(sos.shape[0]):
        b, a = sos[section, :3], sos[section, 3:]
        zi[section, ...] = scale * _lfilter_zi(b, a)
        scale *= np.sum(b) / np.sum(a)
    return zi


def _lfilter_zi(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    while a.shape[0] > 1 and a[0] == 0.0:
        a = a[1:]
    if a[0] != 1.0:
        b, a = b / a[0], a / a[0]
    n = max(a.shape[0], b.shape[0])
    if a.shape[0] < n:
        a = np.concatenate((a, np.zeros(n - a.shape[0], dtype=a.dtype)))
    elif b.shape[0] < n:
        b = np.concatenate((b, np.zeros(n - b.shape[0], dtype=b.dtype)))
    companion = np.zeros((n - 1, n - 1), dtype=np.result_type(1.0, a))  # scipy.linalg.companion
    companion[0] = -a[1:] / (1.0 * a[0])
    companion[list(range(1, n - 1)), list(range(n - 2))] = 1
    i_minus_a = np.eye(n - 1) - companion.T
    return np.linalg.solve(i_minus_a, b[1:] - a[1:] * b[0])


def _zpk2tf(z, p, k):
    k = np.asarray(k, dtype=np.result_type(np.real(z), np.real(p), k))
    b = np.multiply(np.atleast_1d(k), _poly(z))
    return b, np.atleast_1d(np.asarray(_poly(p)))


def _poly(roots):
    """SciPy's 1-D ``poly``: coefficients from roots, real when they are conjugate pairs."""
    roots = np.atleast_1d(np.asarray(roots))
    if roots.shape[0] == 0:
        return np.asarray(1.0, dtype=np.real(roots).dtype)
    a = np.ones((1,), dtype=roots.dtype)
    one = np.ones_like(roots[0])
    for zero in roots:
        a = np.convolve(a, np.stack((one, -zero)), mode="full")
    if np.iscomplexobj(a):
        conj = np.asarray(roots, dtype=np.complex128)
        if np.all(np.sort(np.imag(conj)) == np.sort(np.imag(np.conj(conj)))):
            a = np.asarray(np.real(a), copy=True)
    return a


def _zpk2sos(z, p, k):
    """``scipy.signal.zpk2sos`` with the digital default, "nearest" pairing."""
    z, p, k = np.asarray(z), np.asarray(p), np.asarray(k)
    if len(z) == len(p) == 0:
        return np.asarray([[k, 0.0, 0.0, 1.0, 0.0, 0.0]])
    p = np.concatenate((p, np.zeros(max(len(z) - len(p), 0))))
    z = np.concatenate((z, np.zeros(max(len(p) - len(z), 0))))
    n_sections = (max(len(p), len(z)) + 1) // 2
    if len(p) % 2 == 1:
        p = np.concatenate((p, [0.0]))
        z = np.concatenate((z, [0.0]))
    z = np.concatenate(_cplxreal(z))
    p = np.concatenate(_cplxreal(p))
    k = k.real

    def idx_worst(p):
        return np.argmin(np.abs(1 - np.abs(p)))

    sos = np.zeros((n_sections, 6))
    for si in range(n_sections - 1, -1, -1):
        p1_idx = idx_worst(p)
        p1 = p[p1_idx]
        p = np.delete(p, p1_idx)
        if np.isreal(p1) and np.isreal(p).sum() == 0:
            z1_idx = _nearest_real_complex_idx(z, p1, "real")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, 0], [p1, 0], 1)
        elif (
            len(p) + 1 == len(z)
            and not np.isreal(p1)
            and np.isreal(p).sum() == 1
            and np.isreal(z).sum() == 1
        ):
            z1_idx = _nearest_real_complex_idx(z, p1, "complex")
            z1 = z[z1_idx]
            z = np.delete(z, z1_idx)
            sos[si] = _single_zpksos([z1, z1.conj()], [p1, p1.conj()], 1)
        else:
            if np.isreal(p1):
                prealidx = np.flatnonzero(np.isreal(p))
                p2_idx = prealidx[idx_worst(p[prealidx])]
                p2 = p[p2_idx]
                p = np.delete(p, p2_idx)
            else:
                p2 = p1.conj()
            if len(z) > 0:
                z1_idx = _nearest_real_complex_idx(z, p1, "any")
                z1 = z[z1_idx]
                z = np.delete(z, z1_idx)
                if not np.isreal(z1):
                    sos[si] = _single_zpksos([z1, z1.conj()], [p1, p2], 1)
                elif len(z) > 0:
                    z2_idx = _nearest_real_complex_idx(z, p1, "real")
                    z2 = z[z2_idx]
                    z = np.delete(z, z2_idx)
                    sos[si] = _single_zpksos([z1, z2], [p1, p2], 1)
                else:
                    sos[si] = _single_zpksos([z1], [p1, p2], 1)
            else:
                sos[si] = _single_zpksos([], [p1, p2], 1)
    sos[0][:3] *= k
    return sos


def _cplxreal(z):
    """Complex roots (one of each conjugate pair, imag > 0) and real roots, as SciPy sorts them."""
    z = np.atleast_1d(z)
    if z.size == 0:
        return z, z
    tol = 100 * np.finfo((1.0 * z).dtype).eps
    z = z[np.lexsort((abs(z.imag), z.real))]
    real_indices = abs(z.imag) <= tol * abs(z)
    zr = z[real_indices].real
    if len(zr) == len(z):
        return np.array([]), zr
    z = z[~real_indices]
    zp = z[z.imag > 0]
    zn = z[z.imag < 0]
    same_real = np.diff(zp.real) <= tol * abs(zp[:-1])
    diffs = np.diff(np.concatenate(([0], same_real, [0])))
    run_starts = np.nonzero(diffs > 0)[0]
    run_stops = np.nonzero(diffs < 0)[0]
    for i in range(len(run_starts)):
        start, stop = run_starts[i], run_stops[i] + 1
        for chunk in (zp[start:stop], zn[start:stop]):
            chunk[...] = chunk[np.lexsort([abs(chunk.imag)])]
    zc = (zp + zn.conj()) / 2
    return zc, zr


def _nearest_real_complex_idx(fro, to, which):
    order = np.argsort(np.abs(fro - to))
    if which == "any":
        return order[0]
    mask = np.isreal(fro[order])
    if which == "complex":
        mask = ~mask
    return order[np.nonzero(mask)[0][0]]


def _single_zpksos(z, p, k):
    sos = np.zeros(6)
    b, a = _zpk2tf(z, p, k)
    sos[3 - len(b) : 3] = b
    sos[6 - len(a) : 6] = a
    return sos
