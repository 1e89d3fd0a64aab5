"""Power spectra of sway and the frequency metrics derived from them.

One PSD estimate serves every spectral metric: Welch's method as used by Santos & Duarte (2016)
for their published mean frequency (Hann window, segment = n // 2 samples, overlap = n // 4,
nfft = segment, constant detrend per segment, one-sided density). See ``docs/metrics.md``.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft
import scipy.signal

from dsp import _kernels_metrics as K

#: Band (Hz) of the Prieto et al. (1996) spectral metrics: total power, power frequencies,
#: centroidal frequency and frequency dispersion.
PRIETO_BAND_HZ = (0.15, 5.0)


def welch_psd(signals: np.ndarray, fs: float, workers: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density with the Santos & Duarte parameters.

    Parameters
    ----------
    signals : ndarray, shape (..., n_samples)
        One or more signals along the last axis (e.g. mm).
    fs : float
        Sample rate, Hz.
    workers : int, optional
        Threads for the FFTs (``scipy.fft``'s ``workers``; -1 = every core; worth it for
        many signals only).

    Returns
    -------
    f : ndarray, shape (n_freq,)
        Frequencies, Hz (0 .. fs/2 in steps of fs / (n_samples // 2)).
    psd : ndarray, shape (..., n_freq)
        One-sided density, unit^2/Hz; equals ``scipy.signal.welch(signals, fs, window="hann",
        nperseg=n//2, noverlap=n//4, nfft=n//2, detrend="constant")``.
    """
    signals = np.ascontiguousarray(signals, dtype=np.float64)
    shape = signals.shape
    sig3 = signals.reshape(-1, 1, shape[-1])
    n = shape[-1]
    nperseg, noverlap = n // 2, n // 4
    step = nperseg - noverlap
    n_seg = (n - noverlap) // step
    window, energy = _hann(nperseg)
    segs = K.welch_segments(sig3, nperseg, step, n_seg, window)
    spec = scipy.fft.rfft(segs, axis=-1, workers=workers)
    psd = K.welch_average(spec, 1.0 / (fs * energy), nperseg)
    return _freqs(nperseg, fs), psd.reshape(shape[:-1] + (psd.shape[-1],))


@functools.lru_cache(maxsize=16)
def _hann(n: int) -> tuple[np.ndarray, float]:
    """Periodic Hann window and its energy sum(w^2) (cached: BLAS dot costs ms when the
    machine is busy)."""
    w = scipy.signal.get_window("hann", n)
    w.flags.writeable = False
    return w, float(np.sum(w * w))


@functools.lru_cache(maxsize=16)
def _freqs(nperseg: int, fs: float) -> np.ndarray:
    f = np.fft.rfftfreq(nperseg, 1.0 / fs)
    f.flags.writeable = False
    return f


def welch_psd_scipy(signals: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """SciPy twin of :func:`welch_psd`."""
    n = signals.shape[-1]
    return scipy.signal.welch(signals, fs, window="hann", nperseg=n // 2, noverlap=n // 4,
                              nfft=n // 2, detrend="constant", axis=-1)


def spectral_summary(f: np.ndarray, psd: np.ndarray,
                     band: tuple[float, float] = PRIETO_BAND_HZ) -> dict[str, np.ndarray]:
    """Frequency metrics of one or more spectra.

    Parameters
    ----------
    f : ndarray, shape (n_freq,)
        Frequencies, Hz, evenly spaced.
    psd : ndarray, shape (..., n_freq)
        Power spectral densities, unit^2/Hz.
    band : (float, float)
        Band (Hz) for the Prieto metrics.

    Returns
    -------
    dict of ndarray, each of shape ``psd.shape[:-1]``
        ``mean_power_frequency`` (Hz, Duarte: trapezoid of f P over trapezoid of P, whole
        spectrum); in ``band``: ``total_power`` (unit^2, rectangle rule), ``power_frequency_50``,
        ``power_frequency_95`` (Hz, first frequency where the cumulative power reaches 50 % /
        95 %), ``centroidal_frequency`` (Hz, sqrt(m2/m0)) and ``frequency_dispersion``
        (sqrt(1 - m1^2 / (m0 m2)), dimensionless). NaN where the spectrum holds no power.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mpf = np.trapezoid(f * psd, f, axis=-1) / np.trapezoid(psd, f, axis=-1)
        sel = (f >= band[0]) & (f <= band[1])
        fb, pb = f[sel], psd[..., sel]
        df = f[1] - f[0] if f.size > 1 else np.nan
        m0 = pb.sum(axis=-1) * df
        m1 = (pb * fb).sum(axis=-1) * df
        m2 = (pb * fb * fb).sum(axis=-1) * df
        cum = np.cumsum(pb, axis=-1) * df
        out = {
            "mean_power_frequency": mpf,
            "total_power": m0,
            "power_frequency_50": _first_reaching(fb, cum, 0.50 * m0),
            "power_frequency_95": _first_reaching(fb, cum, 0.95 * m0),
            "centroidal_frequency": np.sqrt(m2 / m0),
            "frequency_dispersion": np.sqrt(np.clip(1.0 - m1 * m1 / (m0 * m2), 0.0, None)),
        }
    no_power = ~(m0 > 0)
    for key in out:
        if key not in ("total_power", "mean_power_frequency"):
            out[key] = np.where(no_power, np.nan, out[key])
    return out


def _first_reaching(fb: np.ndarray, cum: np.ndarray, level: np.ndarray) -> np.ndarray:
    if fb.size == 0:
        return np.full(cum.shape[:-1], np.nan)
    idx = np.argmax(cum >= level[..., None] * (1 - 1e-12), axis=-1)
    return fb[idx]
