"""Wobble-board tilt from an IMU: accelerometer + gyroscope fusion (complementary filter).

Board frame: x right, y forward, z up (a level board reads az = +1 g). Output: x = roll (deg,
+ = right edge down), y = pitch (deg, + = front edge down), DESIGN.md §4. Real devices use
other frames and units: ``accel_axes`` / ``gyro_axes`` map device axes onto the board frame and
the unit arguments convert m/s^2 and rad/s.
"""

from __future__ import annotations

import numpy as np

from dsp._layout import G
from dsp._validate import as_signal, positive


def _kernels():
    """``dsp._kernels_frontend``, imported on first use: it imports Numba (~0.35 s of CPU),
    which listing devices or protocols, or configuring a stage, never needs."""
    from dsp import _kernels_frontend

    return _kernels_frontend


_ACCEL_SCALE = {"g": 1.0, "m/s2": 1.0 / G, "m/s^2": 1.0 / G}
_GYRO_SCALE = {"deg/s": 1.0, "rad/s": 180.0 / np.pi}
#: Descriptive names of the board frame itself (the simulator's ``imu_axes``).
_AXIS_ALIASES = {"x_right_y_forward_z_up": "x,y,z"}


def parse_axes(spec: str) -> tuple[np.ndarray, np.ndarray]:
    """Parse an axis map such as ``"x,y,z"`` or ``"-y,x,-z"``.

    Entry i names the device axis (with an optional sign) that becomes board axis i.
    Returns (indices (3,), signs (3,)).
    """
    spec = _AXIS_ALIASES.get(str(spec), spec)
    parts = [p.strip().lower() for p in str(spec).split(",")]
    idx, signs = [], []
    for p in parts:
        sign = -1.0 if p.startswith("-") else 1.0
        name = p.lstrip("+-")
        if name not in ("x", "y", "z"):
            idx = []
            break
        idx.append("xyz".index(name))
        signs.append(sign)
    if len(idx) != 3 or sorted(idx) != [0, 1, 2]:
        raise ValueError(
            f"axis map {spec!r} must name x, y and z once each, e.g. 'x,y,z' or "
            "'-y,x,-z' (entry i = the device axis that becomes board axis i)"
        )
    return np.array(idx), np.array(signs)


class TiltEstimator:
    """Streaming board tilt from accelerometer and gyroscope chunks.

    Parameters
    ----------
    fs : float
        Nominal sample rate, Hz (used when no per-sample time step is given).
    time_constant_s : float
        Complementary-filter time constant: gyro below ~1/(2 pi tau) Hz is replaced by the
        accelerometer's gravity direction (alpha = tau / (tau + dt)).
    accel_axes, gyro_axes : str
        Device-to-board axis maps (see :func:`parse_axes`).
    accel_unit : {"g", "m/s2"}
    gyro_unit : {"deg/s", "rad/s"}
    """

    def __init__(
        self,
        fs: float,
        time_constant_s: float = 0.5,
        accel_axes: str = "x,y,z",
        gyro_axes: str = "x,y,z",
        accel_unit: str = "g",
        gyro_unit: str = "deg/s",
    ):
        self.fs = positive(fs, "fs")
        self.time_constant_s = positive(time_constant_s, "time_constant_s")
        if accel_unit not in _ACCEL_SCALE or gyro_unit not in _GYRO_SCALE:
            raise ValueError(
                f"accel_unit must be one of {sorted(_ACCEL_SCALE)} and gyro_unit "
                f"one of {sorted(_GYRO_SCALE)}; got {accel_unit!r}, {gyro_unit!r}"
            )
        ai, asg = parse_axes(accel_axes)
        gi, gsg = parse_axes(gyro_axes)
        self._acc_map = (ai, asg * _ACCEL_SCALE[accel_unit])
        self._gyro_map = (gi, gsg * _GYRO_SCALE[gyro_unit])
        self.offset_deg = np.zeros(2)
        self.gyro_bias = np.zeros(3)
        self._state = np.zeros(3)
        self._cal_left = 0
        self._cal_rows: list[np.ndarray] = []

    def reset(self) -> None:
        """Forget the fused angle (the next sample restarts from the accelerometer)."""
        self._state[:] = 0.0

    def board_frame(self, acc, gyro) -> tuple[np.ndarray, np.ndarray]:
        """Device readings mapped to the board frame: accel (g), gyro (deg/s, bias removed)."""
        acc = as_signal(acc, "acc", ndim=2, n_cols=3)
        gyro = as_signal(gyro, "gyro", ndim=2, n_cols=3)
        a = acc[:, self._acc_map[0]] * self._acc_map[1]
        g = gyro[:, self._gyro_map[0]] * self._gyro_map[1] - self.gyro_bias
        return np.ascontiguousarray(a), np.ascontiguousarray(g)

    def process(self, acc, gyro, dt=None) -> np.ndarray:
        """Tilt of one chunk.

        Parameters
        ----------
        acc : ndarray, shape (n_samples, 3)
            Accelerometer, device axes and unit.
        gyro : ndarray, shape (n_samples, 3)
            Gyroscope, device axes and unit.
        dt : ndarray, shape (n_samples,), optional
            Time since the previous sample, s (default 1 / fs; uneven streams pass it).

        Returns
        -------
        ndarray, shape (n_samples, 2)
            Roll (x) and pitch (y), deg, minus the level-calibration offsets.
        """
        a, g = self.board_frame(acc, gyro)
        n = a.shape[0]
        dt = np.full(n, 1.0 / self.fs) if dt is None else as_signal(dt, "dt")
        dt = np.where(np.isfinite(dt) & (dt > 0), dt, 1.0 / self.fs)
        alpha = self.time_constant_s / (self.time_constant_s + 1.0 / self.fs)
        out = np.empty((n, 2))
        _kernels().tilt_complementary(a, g, dt, alpha, self._state, out)
        if self._cal_left > 0:
            take = min(n, self._cal_left)
            self._cal_rows.append(np.hstack([a[:take], g[:take] + self.gyro_bias]))
            self._cal_left -= take
            if self._cal_left == 0:
                rows = np.vstack(self._cal_rows)
                self.calibrate_level(rows[:, :3], rows[:, 3:], board_frame=True)
        out -= self.offset_deg
        return out

    def start_level_calibration(self, n_samples: int) -> None:
        """Level-calibrate from the next ``n_samples`` samples (board held level and still)."""
        self._cal_left, self._cal_rows = int(n_samples), []

    @property
    def calibrating(self) -> bool:
        return self._cal_left > 0

    def calibrate_level(self, acc, gyro, board_frame: bool = False) -> None:
        """Take the mean tilt of still, level samples as zero, and their mean gyro as bias.

        ``acc``/``gyro`` (n, 3) in device axes and units (or board frame if ``board_frame``).
        """
        if not board_frame:
            self.gyro_bias = np.zeros(3)
            acc, gyro = self.board_frame(acc, gyro)
        m = np.mean(acc, axis=0)
        self.offset_deg = np.degrees(
            [np.arctan2(-m[0], np.hypot(m[1], m[2])), np.arctan2(-m[1], m[2])]
        )
        self.gyro_bias = np.mean(gyro, axis=0)
        self.reset()
