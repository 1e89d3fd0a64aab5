"""Sensor stages wrapping the DSP front-end: raw sensor chunks in, sway chunks out.

Each stage follows :class:`nmr_balance.frontend.stage.Stage`. The sway stream they end in is
``sway_info(...)``: ``x``, ``y`` (mm for COP, deg for tilt) and ``fz`` (N; NaN for tilt).

Calibration actions a UI may trigger run on the acquisition thread through
``pipeline.call_soon``, e.g. ``pipeline.call_soon(lambda: find_stage(stages, LoadCellStage).tare())``.

Geometry keys read from ``StreamInfo.geometry`` (all optional):

- plate: ``surface_offset_mm``; cells: ``cells_xy_mm``, ``wii_calibration`` (4 x 3 raw readings
  at 0/17/34 kg), ``min_load_n``, and for cells in raw ``counts``: ``cell_gain_n_per_count``,
  ``cell_offset_counts`` (:mod:`nmr_balance.cell_calibration`); imu: ``accel_axes``, ``gyro_axes`` (e.g. ``"-y,x,z"``),
  ``time_constant_s``;
- ``uneven``: true for sources without a fixed rate (the Wii board): resampled to
  ``resample_hz`` (default: ``fs``) by window averaging before anything else;
- ``filtered_hz``: the stream is already low-passed at this cut-off; no second low-pass.
"""

from __future__ import annotations

import math

import numpy as np

from dsp.cop import MIN_LOAD_N, WII_CELLS_XY_MM, LoadCellCop, plate_cop, weight_bearing
from dsp.filters import StreamingLowpass
from dsp.resample import WindowResampler
from dsp.tilt import TiltEstimator
from nmr_balance.errors import ConfigError
from nmr_balance.stream import SampleBlock, SensorKind, StreamInfo, sway_info

#: _WARM: each stage runs its kernel once in ``configure`` (before streaming starts), because the
#: first call of a Numba kernel in a process costs ~0.3 s even from the cache: paid during
#: streaming it would stall acquisition.
PLATE_CHANNELS = ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
CELL_CHANNELS = ("tr", "br", "tl", "bl")
IMU_CHANNELS = ("ax", "ay", "az", "gx", "gy", "gz")


def _columns(info: StreamInfo, names: tuple[str, ...]) -> np.ndarray:
    try:
        return np.array([info.index(n) for n in names])
    except KeyError as e:
        raise ConfigError(
            f"stream {info.source!r} ({info.kind.value}) lacks a channel: {e.args[0]}",
            f"A {info.kind.value} stream needs channels {', '.join(names)}",
        ) from None


def _sway_out(info: StreamInfo, unit: str, fs: float | None = None) -> StreamInfo:
    return sway_info(
        info.source,
        fs or info.fs,
        unit,
        geometry=dict(info.geometry),
        device=info.device,
        has_device_time=info.has_device_time,
    )


class PlateCopStage:
    """6-axis force plate -> COP (mm) and Fz (N)."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        self._cols = _columns(info, PLATE_CHANNELS)
        self._dz = float(info.geometry.get("surface_offset_mm", 0.0))
        self._min_fz = float(info.geometry.get("min_load_n", MIN_LOAD_N))
        plate_cop(np.zeros((1, 6)), self._dz, self._min_fz)  # load the kernel now, see _WARM
        return _sway_out(info, "mm")

    def process(self, block: SampleBlock) -> SampleBlock:
        return block.with_data(plate_cop(block.data[:, self._cols], self._dz, self._min_fz))

    def reset(self) -> None:
        pass


class LoadCellStage:
    """Four load cells -> COP (mm) and total load (N), with tare and stance detection."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        self._cols = _columns(info, CELL_CHANNELS)
        units = {info.channels[c].unit for c in self._cols}
        if len(units) != 1 or not units <= {"kg", "N", "counts"}:
            raise ConfigError(
                f"load-cell channels must all be in kg, all in N or all raw counts; got {units}"
            )
        g = info.geometry
        unit, gain, offset = units.pop(), None, None
        if unit == "counts":  # raw ADC counts: per-cell gain, offset and sign from a file
            if "cell_gain_n_per_count" not in g:
                raise ConfigError(
                    f"stream {info.source!r} gives raw counts and no calibration",
                    "Add calibration=FILE to the source URL: a file of known loads, see "
                    "docs/calibration.md; `nmr-balance calibrate FILE` checks it",
                )
            unit, gain, offset = "N", g["cell_gain_n_per_count"], g["cell_offset_counts"]
        self.cop = LoadCellCop(
            g.get("cells_xy_mm", WII_CELLS_XY_MM),
            unit=unit,
            gain=gain,
            offset=offset,
            wii_calibration=g.get("wii_calibration"),
            min_load_n=float(g.get("min_load_n", MIN_LOAD_N)),
        )
        self._fs = info.fs
        self.cop.process(np.zeros((1, 4)))  # load the kernel now, see _WARM
        self._forces = np.zeros((0, 4))
        return _sway_out(info, "mm")

    def process(self, block: SampleBlock) -> SampleBlock:
        out = block.with_data(self.cop.process(block.data[:, self._cols]))
        # A private copy, swapped in whole, so another thread may read it at any time.
        self._forces = self.cop.last_forces.copy()
        return out

    def tare(self, duration_s: float = 1.0) -> None:
        """Zero the cells with the mean of the next ``duration_s`` seconds (board empty)."""
        self.cop.start_tare(max(1, round(duration_s * self._fs)))

    def weight_bearing(self) -> dict[str, float]:
        """Left/right and front/back load share (%) over the last chunk (any thread)."""
        return weight_bearing(self._forces, self.cop.positions, self.cop.min_load_n)

    def reset(self) -> None:
        pass


class TiltStage:
    """IMU (accelerometer + gyroscope) -> board tilt (deg); ``fz`` is NaN."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        self._cols = _columns(info, IMU_CHANNELS)
        units = [info.channels[c].unit for c in self._cols]
        g = info.geometry
        both = g.get("imu_axes", "x,y,z")
        try:
            self.estimator = TiltEstimator(
                info.fs,
                float(g.get("time_constant_s", 0.5)),
                g.get("accel_axes", both),
                g.get("gyro_axes", both),
                accel_unit=units[0],
                gyro_unit=units[3],
            )
        except ValueError as e:
            raise ConfigError(f"IMU stream {info.source!r}: {e}") from None
        self._fs, self._use_device_time = info.fs, info.has_device_time
        self.estimator.process(np.array([[0.0, 0.0, 1.0]]), np.zeros((1, 3)))  # see _WARM
        self.reset()
        return _sway_out(info, "deg")

    def process(self, block: SampleBlock) -> SampleBlock:
        d = block.data[:, self._cols]
        dt = None
        if self._use_device_time:
            dt = np.diff(block.t_device, prepend=self._t_last)
            self._t_last = block.t_device[-1]
        tilt = self.estimator.process(d[:, :3], d[:, 3:], dt)
        return block.with_data(np.column_stack([tilt, np.full(len(block), np.nan)]))

    @property
    def settle_s(self) -> float:
        """Seconds after which the tilt no longer depends on the filter's starting state (to
        1e-9): ln(1e9) complementary-filter time constants."""
        return math.log(1e9) * self.estimator.time_constant_s

    def level(self, duration_s: float = 2.0) -> None:
        """Take the next ``duration_s`` seconds (board level and still) as zero tilt."""
        self.estimator.start_level_calibration(max(1, round(duration_s * self._fs)))

    def reset(self) -> None:
        self.estimator.reset()
        self._t_last = np.nan


class ResampleStage:
    """Uneven stream -> fixed rate by window averaging (device clock when there is one)."""

    def __init__(self, fs: float | None = None):
        self.fs = fs

    def configure(self, info: StreamInfo) -> StreamInfo:
        self.fs = float(self.fs or info.geometry.get("resample_hz", info.fs))
        self._device_time = info.has_device_time
        self.resampler = WindowResampler(self.fs, info.n_channels)
        self.resampler.process(np.zeros(2), np.zeros((2, info.n_channels)))  # see _WARM
        self.resampler.reset()
        return info.replace(fs=self.fs)

    def process(self, block: SampleBlock) -> SampleBlock:
        t = block.t_device if self._device_time else block.t_host_ns * 1e-9
        first = self.resampler.n_emitted
        t_out, v_out, src = self.resampler.process(t, block.data)
        return SampleBlock(
            block.t_host_ns[src],
            t_out if self._device_time else np.full(len(src), np.nan),
            np.arange(first, first + len(src), dtype=np.int64),
            v_out,
        )

    def reset(self) -> None:
        self.resampler.reset()


class LowpassStage:
    """Causal Butterworth low-pass of every channel (defaults 4th order, 10 Hz).

    Passes samples through unchanged when the rate is too low for the cut-off
    (fs <= 2.5 x cut-off).
    """

    def __init__(self, cutoff_hz: float = 10.0, order: int = 4):
        self.cutoff_hz, self.order = cutoff_hz, order
        self.filter: StreamingLowpass | None = None

    def configure(self, info: StreamInfo) -> StreamInfo:
        self.filter = None
        if info.fs > 2.5 * self.cutoff_hz:
            self.filter = StreamingLowpass(info.fs, info.n_channels, self.cutoff_hz, self.order)
            self.filter.process(np.zeros((1, info.n_channels)))  # see _WARM
            self.filter.reset()
        return info

    def process(self, block: SampleBlock) -> SampleBlock:
        if self.filter is None:
            return block
        return block.with_data(self.filter.process(block.data))

    @property
    def settle_s(self) -> float:
        """Seconds after which the output no longer depends on the filter's starting state (to
        1e-9): ln(1e9) time constants of the slowest pole, 1 / (2 pi fc sin(pi / 2n))."""
        if self.filter is None:
            return 0.0
        slowest = 2 * math.pi * self.cutoff_hz * math.sin(math.pi / (2 * self.order))
        return math.log(1e9) / slowest

    def reset(self) -> None:
        if self.filter is not None:
            self.filter.reset()


def default_stages(info: StreamInfo) -> list:
    """The standard live front-end for a stream described by ``info`` (the chains are listed in
    :mod:`nmr_balance.frontend`)."""
    stages: list = []
    if info.geometry.get("uneven"):
        stages.append(ResampleStage())
    sensor = {
        SensorKind.FORCE_PLATE: PlateCopStage,
        SensorKind.LOAD_CELLS: LoadCellStage,
        SensorKind.IMU: TiltStage,
    }.get(info.kind)
    if sensor is not None:
        stages.append(sensor())
    if not info.geometry.get("filtered_hz"):
        stages.append(LowpassStage())
    return stages


def find_stage(stages: list, kind: type):
    """The first stage of type ``kind`` in ``stages`` (e.g. to call ``tare`` on it), or None."""
    return next((s for s in stages if isinstance(s, kind)), None)
