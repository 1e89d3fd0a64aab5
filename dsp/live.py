"""Live sway metrics over a sliding window, for the dashboard.

:class:`SlidingSway` keeps the last ``window_s`` seconds in a ring and running sums, so each
chunk costs O(chunk) whatever the window length (the sums are rebuilt from the ring once per
window length, so rounding never builds up). NaN samples (nobody on the board) are left out.
"""

from __future__ import annotations

import math

import numpy as np

from dsp import _kernels_live as KL
from dsp._validate import as_signal, positive
from dsp.metrics import CHI2_95_2DOF


class SlidingSway:
    """Velocity and 95 % ellipse of the last ``window_s`` seconds.

    Parameters
    ----------
    fs : float
        Sample rate of the sway stream, Hz.
    window_s : float
        Window length, s.
    """

    def __init__(self, fs: float, window_s: float = 10.0):
        self.fs = positive(fs, "fs")
        self.capacity = max(2, round(positive(window_s, "window_s") * self.fs))
        self.reset()

    def reset(self) -> None:
        """Empty the window."""
        self._buf = np.full((self.capacity, 2), np.nan)
        self._steps = np.zeros(self.capacity)
        self._state = np.zeros(KL.N_STATE)

    def update(self, xy) -> dict[str, float]:
        """Add a chunk ``xy`` (n, 2) of sway (x = ML, y = AP); return :meth:`values`."""
        xy = as_signal(xy, "xy", ndim=2, n_cols=2)
        KL.sliding_update(xy, self._buf, self._steps, self._state)
        return self.values()

    def values(self) -> dict[str, float]:
        """Metrics of the current window.

        Returns
        -------
        dict
            ``n_valid`` (samples with a COP), ``duration_s`` (window span), ``mean_x``,
            ``mean_y``, ``path_length``, ``mean_velocity`` (path / span, unit/s),
            ``ellipse_area_95_chi2`` (unit^2, sample covariance), ``ellipse_major_95``,
            ``ellipse_minor_95`` (semi-axes) and ``ellipse_angle_deg``; NaN while fewer than
            3 valid samples.
        """
        s = self._state
        n, count = s[KL.S_N], int(s[KL.S_COUNT])
        span = (count - 1) / self.fs if count > 1 else 0.0
        out = {
            "n_valid": n,
            "duration_s": span,
            "path_length": s[KL.S_PATH],
            "mean_velocity": s[KL.S_PATH] / span if span > 0 else math.nan,
        }
        if n < 3:
            nan = math.nan
            out.update(
                mean_x=nan,
                mean_y=nan,
                ellipse_area_95_chi2=nan,
                ellipse_major_95=nan,
                ellipse_minor_95=nan,
                ellipse_angle_deg=nan,
            )
            return out
        mx, my = s[KL.S_X] / n, s[KL.S_Y] / n
        a = max((s[KL.S_XX] - n * mx * mx) / (n - 1), 0.0)
        c = max((s[KL.S_YY] - n * my * my) / (n - 1), 0.0)
        b = (s[KL.S_XY] - n * mx * my) / (n - 1)
        half_gap = math.sqrt(((a - c) / 2) ** 2 + b * b)
        l1, l2 = (a + c) / 2 + half_gap, max((a + c) / 2 - half_gap, 0.0)
        out.update(
            mean_x=mx,
            mean_y=my,
            ellipse_area_95_chi2=math.pi * CHI2_95_2DOF * math.sqrt(max(a * c - b * b, 0.0)),
            ellipse_major_95=math.sqrt(CHI2_95_2DOF * l1),
            ellipse_minor_95=math.sqrt(CHI2_95_2DOF * l2),
            ellipse_angle_deg=math.degrees(0.5 * math.atan2(2 * b, a - c)),
        )
        return out

    def window(self) -> np.ndarray:
        """The samples now in the window, oldest first, shape (m, 2)."""
        count, head = int(self._state[KL.S_COUNT]), int(self._state[KL.S_HEAD])
        idx = (head - count + np.arange(count)) % self.capacity
        return self._buf[idx].copy()
