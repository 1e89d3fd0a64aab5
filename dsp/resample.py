"""Resampling of unevenly sampled streams (e.g. the Wii board) to a fixed rate.

Window averaging in the spirit of SWARII (Audiffren & Contal 2016): the input is treated as a
sample-and-hold signal (each value holds until the next sample), and each output sample is the
exact mean of that signal over its window of one output period. Unlike linear interpolation
this uses every input sample, weights each by how long it held, and never invents values
between two distant samples: a hold longer than ``max_hold_s`` gives NaN.
"""

from __future__ import annotations

import numpy as np

from dsp._validate import as_signal, positive


def _kernels():
    """``dsp._kernels_frontend``, imported on first use: it imports Numba (~0.35 s of CPU),
    which listing devices or protocols, or configuring a stage, never needs."""
    from dsp import _kernels_frontend

    return _kernels_frontend


class WindowResampler:
    """Streaming window-average resampler, chunk in -> (possibly shorter or longer) chunk out.

    Output window k covers [t0 + k / fs, t0 + (k + 1) / fs), t0 = the first input time; its time
    stamp is the window centre. A window is emitted once an input sample at or after its end
    has arrived.

    Parameters
    ----------
    fs : float
        Output rate, Hz.
    n_channels : int
        Columns of each chunk.
    max_hold_s : float
        Longest time one sample may stand in for the signal (a longer silence gives NaN).
    """

    def __init__(self, fs: float, n_channels: int, max_hold_s: float = 0.25):
        self.fs = positive(fs, "fs")
        self.n_channels = int(n_channels)
        self.max_hold_s = positive(max_hold_s, "max_hold_s")
        self.reset()

    def reset(self) -> None:
        """Start over: the next sample becomes t0."""
        self._state = np.zeros(4)  # t_prev, window_start, n_windows_done, started
        self._acc = np.zeros(self.n_channels)
        self._held = np.zeros(self.n_channels)

    @property
    def n_emitted(self) -> int:
        """Windows emitted so far (the index of the next output sample)."""
        return int(self._state[2])

    def process(self, t, values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Resample one chunk.

        Parameters
        ----------
        t : ndarray, shape (n_samples,)
            Sample times, s (device clock when there is one), non-decreasing.
        values : ndarray, shape (n_samples, n_channels)

        Returns
        -------
        t_out : ndarray, shape (m,)
            Window centres, s.
        v_out : ndarray, shape (m, n_channels)
            Window means.
        source : ndarray of int64, shape (m,)
            Index in this chunk of the sample that completed each window.
        """
        t = as_signal(t, "t")
        v = as_signal(values, "values", ndim=2, n_cols=self.n_channels)
        if t.shape[0] != v.shape[0]:
            raise ValueError(f"t has {t.shape[0]} samples but values has {v.shape[0]}")
        start = self._state[1] if self._state[3] else (t[0] if t.size else 0.0)
        span = (t.max() - start) if t.size else 0.0
        m_max = max(0, int(np.floor(span * self.fs)) + 2)
        out_t, out_v = np.empty(m_max), np.empty((m_max, self.n_channels))
        out_src = np.empty(m_max, np.int64)
        m = _kernels().window_average(
            t,
            v,
            1.0 / self.fs,
            self.max_hold_s,
            self._state,
            self._acc,
            self._held,
            out_t,
            out_v,
            out_src,
        )
        return out_t[:m], out_v[:m], out_src[:m]


def resample_window_average(t, values, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Offline window-average resampling of a whole recording (same windows as the stream).

    Parameters
    ----------
    t : ndarray, shape (n_samples,)
        Increasing sample times, s.
    values : ndarray, shape (n_samples, n_channels)
    fs : float
        Output rate, Hz.

    Returns
    -------
    t_out : ndarray, shape (m,)
        Window centres, s (windows wholly inside [t[0], t[-1]]).
    v_out : ndarray, shape (m, n_channels)
    """
    t = as_signal(t, "t")
    v = as_signal(values, "values", ndim=2)
    period = 1.0 / positive(fs, "fs")
    m = int(np.floor((t[-1] - t[0]) / period + 1e-9))
    return t[0] + period * (np.arange(m) + 0.5), _kernels().window_average_numpy(
        t, v, period, t[0], m
    )
