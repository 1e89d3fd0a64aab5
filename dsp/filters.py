"""Butterworth low-pass filtering: streaming (causal, state across chunks) and zero-phase.

Defaults are the field's: 4th order, 10 Hz cut-off (DESIGN.md §5).
"""

from __future__ import annotations

import numpy as np

from dsp import _butter
from dsp._validate import as_signal, positive

# The design (dsp._butter) repeats scipy.signal.butter bit for bit without importing
# scipy.signal (~0.6 s of CPU), which a live start never needs; zero-phase filtering imports
# it on first use. The kernels (dsp._kernels_frontend, i.e. Numba) load on the first chunk.


def butter_lowpass(fs: float, cutoff_hz: float = 10.0, order: int = 4) -> np.ndarray:
    """Second-order sections of a Butterworth low-pass.

    Parameters
    ----------
    fs : float
        Sample rate, Hz.
    cutoff_hz : float
        -3 dB frequency, Hz; must be below fs / 2.
    order : int
        Filter order.

    Returns
    -------
    ndarray, shape (n_sections, 6)
    """
    fs, cutoff_hz = positive(fs, "fs"), positive(cutoff_hz, "cutoff_hz")
    if cutoff_hz >= fs / 2:
        raise ValueError(
            f"cutoff_hz={cutoff_hz:g} must be below half the sample rate "
            f"({fs / 2:g} Hz): lower the cut-off or skip filtering"
        )
    if int(order) < 1:
        raise ValueError(f"order must be >= 1; got {order!r}")
    return _butter.butter_sos(int(order), cutoff_hz, fs)  # = scipy.signal.butter(output="sos")


class StreamingLowpass:
    """Causal Butterworth low-pass of several channels, chunk in -> chunk out.

    Processing chunks one after another gives exactly ``scipy.signal.sosfilt`` of the joined
    signal (with ``zi = sosfilt_zi(sos) * x[0]`` when primed, so no start-up step). NaN
    samples stay NaN and the filter restarts cleanly after them.

    Parameters
    ----------
    fs : float
        Sample rate, Hz.
    n_channels : int
        Number of columns of each chunk.
    cutoff_hz, order
        See :func:`butter_lowpass`.
    prime : bool
        True (default) starts from the steady state of the first sample (no start-up step);
        False starts from a zero state, exactly ``sosfilt(sos, x)``.
    """

    def __init__(
        self,
        fs: float,
        n_channels: int,
        cutoff_hz: float = 10.0,
        order: int = 4,
        prime: bool = True,
    ):
        self.sos = butter_lowpass(fs, cutoff_hz, order)
        self.n_channels = int(n_channels)
        self._zi_unit = _butter.sosfilt_zi(self.sos)  # = scipy.signal.sosfilt_zi
        self.zi = np.zeros((self.sos.shape[0], self.n_channels, 2))
        self.prime = bool(prime)
        self.primed = np.full(self.n_channels, not self.prime)

    def reset(self) -> None:
        """Forget the filter memory (the next sample re-primes it)."""
        self.zi[:] = 0.0
        self.primed[:] = not self.prime

    def process(self, x, out: np.ndarray | None = None) -> np.ndarray:
        """Filter one chunk ``x`` (n_samples, n_channels); returns the filtered chunk."""
        x = as_signal(x, "x", ndim=2, n_cols=self.n_channels)
        if out is None:
            out = np.empty_like(x)
        from dsp._kernels_frontend import sos_stream

        sos_stream(x, self.sos, self.zi, self._zi_unit, self.primed, out)
        return out


def zero_phase_lowpass(x, fs: float, cutoff_hz: float = 10.0, order: int = 4) -> np.ndarray:
    """Zero-phase (forward-backward) Butterworth low-pass for offline analysis.

    Parameters
    ----------
    x : ndarray, shape (n_samples,) or (n_samples, n_channels)
        Finite signal(s), filtered along axis 0.
    fs, cutoff_hz, order
        See :func:`butter_lowpass`. The effective order is doubled by the two passes.

    Returns
    -------
    ndarray, same shape as ``x``
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError("x has non-finite samples: cut or interpolate the gaps before filtering")
    sos = butter_lowpass(fs, cutoff_hz, order)
    pad = 3 * (2 * sos.shape[0] + 1)
    if x.shape[0] <= pad:
        raise ValueError(
            f"x needs more than {pad} samples for zero-phase filtering; got {x.shape[0]}"
        )
    import scipy.signal

    return scipy.signal.sosfiltfilt(sos, x, axis=0)
