"""Power spectra of sway and the frequency metrics derived from them.

One PSD estimate serves every spectral metric: Welch's method as used by Santos & Duarte (2016)
for their published mean frequency (Hann window, segment = n // 2 samples, overlap = n // 4,
nfft = segment, constant detrend per segment, one-sided density). See ``docs/metrics.md``.
Fast rates can first be decimated (:func:`decimate`): sway power lies below ~10 Hz.
"""

from __future__ import annotations

import functools

import numpy as np

from dsp import _spectral_numpy as SN

# The Numba kernels (dsp._kernels_spectral) are imported on first use: importing them imports
# Numba, which the NumPy paths (use_numba=False) never need.

#: Band (Hz) of the Prieto et al. (1996) spectral metrics: total power, power frequencies,
#: centroidal frequency and frequency dispersion.
PRIETO_BAND_HZ = (0.15, 5.0)
#: Samples of Welch segments per FFT call (1 MiB of float64).
_CHUNK_SAMPLES = 1 << 17


def welch_psd(
    signals: np.ndarray, fs: float, workers: int | None = None
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
    import scipy.fft  # on first use (a third of a second)

    from dsp import _kernels_spectral as K

    def psd_of(rows, nperseg, step, n_seg, window, scale):
        segs = K.welch_segments(rows, nperseg, step, n_seg, window)
        return K.welch_average(scipy.fft.rfft(segs, axis=-1, workers=workers), scale, nperseg)

    return _welch_in_chunks(signals, fs, psd_of)


def welch_psd_numpy(signals: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """NumPy twin of :func:`welch_psd` (``numpy.fft``; imports neither Numba nor SciPy).

    Same parameters, shapes and plan; agrees with :func:`welch_psd` and
    :func:`welch_psd_scipy` to ~1e-15 relative.
    """

    def psd_of(rows, nperseg, step, n_seg, window, scale):
        segs = SN.welch_segments_numpy(rows, nperseg, step, n_seg, window)
        return SN.welch_average_numpy(np.fft.rfft(segs, axis=-1), scale, nperseg)

    return _welch_in_chunks(signals, fs, psd_of)


def _welch_in_chunks(signals, fs, psd_of) -> tuple[np.ndarray, np.ndarray]:
    """The Welch plan for ``signals`` (shape (..., n_samples)) and their PSDs, computed by
    ``psd_of(rows, nperseg, step, n_seg, window, scale)`` (the kernels' or the NumPy twin's)
    on up to ``chunk`` signals at a time."""
    signals = np.ascontiguousarray(signals, dtype=np.float64)
    n = signals.shape[-1]
    nperseg, step, n_seg, window, scale, f = _welch_plan(n, float(fs))
    rows = signals.reshape(-1, n)
    psd = np.empty((rows.shape[0], f.size))
    # Every segment of up to `chunk` signals in one array, so one FFT call does them all (both
    # axes of a trial at once); chunks of ~1 MB stay in cache (one 18 MB array for 256 trials
    # ran 100x slower per trial).
    chunk = max(1, _CHUNK_SAMPLES // (n_seg * nperseg))
    for i in range(0, rows.shape[0], chunk):
        psd[i : i + chunk] = psd_of(rows[i : i + chunk], nperseg, step, n_seg, window, scale)
    return f, psd.reshape(signals.shape[:-1] + (f.size,))


def _signal():
    """``scipy.signal``, imported on first use: importing it costs about a second (it pulls in
    ``scipy.stats``), which would otherwise delay every start of the dashboard."""
    import scipy.signal

    return scipy.signal


@functools.lru_cache(maxsize=16)
def _welch_plan(n: int, fs: float):
    """Segment length, step, count, periodic Hann window, PSD scale and frequencies for n
    samples at fs (cached: the window's energy is a BLAS dot that costs ms on a busy machine)."""
    nperseg, noverlap = n // 2, n // 4
    step = nperseg - noverlap
    window = SN.hann_periodic(nperseg)  # = scipy.signal.get_window("hann", nperseg), bit for bit
    window.flags.writeable = False
    f = np.fft.rfftfreq(nperseg, 1.0 / fs)
    f.flags.writeable = False
    scale = 1.0 / (fs * float(np.sum(window * window)))
    return nperseg, step, (n - noverlap) // step, window, scale, f


def decimation_factor(fs: float, spectral_fs: float | None) -> int:
    """Largest integer q with fs / q >= ``spectral_fs`` (1 = keep the rate; None = always 1)."""
    if spectral_fs is None:
        return 1
    return max(1, int(fs / spectral_fs * (1 + 1e-12)))


def decimate(signals: np.ndarray, q: int, use_numba: bool = True) -> np.ndarray:
    """Anti-alias low-pass and keep every ``q``-th sample (zero phase, like
    ``scipy.signal.decimate(..., ftype="fir", zero_phase=True)`` but with a sharper filter).

    Parameters
    ----------
    signals : ndarray, shape (..., n_samples)
        Signals along the last axis, n_samples >= twice the :func:`decimation_filter` length.
    q : int
        Decimation factor (>= 2).
    use_numba : bool
        False runs the NumPy twin.

    Returns
    -------
    ndarray, shape (..., ceil(n_samples / q))
        Sample j is the filtered signal at input sample j q (sample 0 is kept).
    """
    signals = np.ascontiguousarray(signals, dtype=np.float64)
    rows = signals.reshape(-1, signals.shape[-1])
    h = decimation_filter(q)
    if rows.shape[1] < 2 * h.size:
        raise ValueError(
            f"decimating by {q} needs at least {2 * h.size} samples per signal; "
            f"got {rows.shape[1]}: keep the full rate for such short signals"
        )
    if not use_numba:
        return SN.decimate_rows_numpy(rows, h, q).reshape(signals.shape[:-1] + (-1,))
    from dsp import _kernels_spectral as K

    if rows.shape[0] > 2:  # a batch: rows in parallel
        out = K.decimate_rows_many(rows, h, q)
    else:
        out = K.decimate_rows(rows, h, q)
    return out.reshape(signals.shape[:-1] + (out.shape[-1],))


@functools.lru_cache(maxsize=8)
def decimation_filter(q: int) -> np.ndarray:
    """Linear-phase FIR (Kaiser window) for decimation by ``q``, as a fraction of the output
    rate fs / q: passband up to 0.25 (ripple <= 0.1 %), >= 60 dB down from 0.75, so nothing
    above 0.75 aliases below 0.25 (25 Hz when decimating to 100 Hz). Odd length ~7.4 q."""
    signal = _signal()
    numtaps, beta = signal.kaiserord(60.0, 1.0 / q)
    h = signal.firwin(numtaps | 1, 1.0 / q, window=("kaiser", beta))
    h.flags.writeable = False
    return h


def welch_psd_scipy(signals: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """SciPy twin of :func:`welch_psd`."""
    n = signals.shape[-1]
    return _signal().welch(
        signals,
        fs,
        window="hann",
        nperseg=n // 2,
        noverlap=n // 4,
        nfft=n // 2,
        detrend="constant",
        axis=-1,
    )


def spectral_summary(
    f: np.ndarray, psd: np.ndarray, band: tuple[float, float] = PRIETO_BAND_HZ
) -> dict[str, np.ndarray]:
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
