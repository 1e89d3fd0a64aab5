"""Stream descriptions and sample blocks: the data that flows between every layer.

Conventions (DESIGN.md §4): x = medio-lateral (ML), positive to the patient's right; y =
antero-posterior (AP), positive forward; origin at the board centre. COP in mm, force in N, tilt
in degrees, time in seconds, rates in Hz. Host receive times are ``time.monotonic_ns()``.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import numpy as np


class SensorKind(str, enum.Enum):
    """What the raw channels of a stream measure; decides the front-end DSP."""

    #: Already a sway stream: channels ``x, y`` (mm) and ``fz`` (N).
    COP = "cop"
    #: 6-axis force plate: ``Fx Fy Fz`` (N) and ``Mx My Mz`` (N m), see ``docs/conventions.md``.
    FORCE_PLATE = "plate"
    #: Four corner load cells (Wii Balance Board, HX711 DIY boards); geometry gives positions.
    LOAD_CELLS = "cells"
    #: IMU strapped to a wobble board: accelerometer (g) and gyroscope (deg/s), maybe angles.
    IMU = "imu"
    #: Already a tilt stream: ``x`` = roll, ``y`` = pitch (deg).
    TILT = "tilt"


@dataclasses.dataclass(frozen=True)
class Channel:
    """One channel of a stream: its name and unit (``"mm"``, ``"N"``, ``"deg"``, ``"g"``...)."""

    name: str
    unit: str


@dataclasses.dataclass(frozen=True)
class StreamInfo:
    """Describes one stream of samples.

    Parameters
    ----------
    source : str
        Human-readable source name, usually the URL it was opened with.
    channels : tuple of Channel
        Names and units of the data columns, in order.
    fs : float
        Nominal sample rate, Hz. Uneven sources state their mean rate.
    kind : SensorKind
        What the channels measure.
    geometry : dict
        Sensor layout, e.g. ``{"cells_xy_mm": [[x, y], ...]}`` for load cells or
        ``{"surface_offset_mm": 0.0}`` for a plate. JSON-serialisable.
    device : str
        Device model or identifier, e.g. ``"Wii Balance Board"``.
    has_device_time : bool
        True when ``SampleBlock.t_device`` comes from the device's own clock.
    """

    source: str
    channels: tuple[Channel, ...]
    fs: float
    kind: SensorKind
    geometry: dict[str, Any] = dataclasses.field(default_factory=dict)
    device: str = ""
    has_device_time: bool = False

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def channel_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.channels)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(c.unit for c in self.channels)

    def index(self, name: str) -> int:
        """Column index of channel ``name``; raises ``KeyError`` naming the valid ones."""
        try:
            return self.channel_names.index(name)
        except ValueError:
            raise KeyError(
                f"no channel {name!r}; channels are {', '.join(self.channel_names)}"
            ) from None

    def replace(self, **changes: Any) -> StreamInfo:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (stored with every recording)."""
        return {
            "source": self.source,
            "channels": [[c.name, c.unit] for c in self.channels],
            "fs": self.fs,
            "kind": self.kind.value,
            "geometry": self.geometry,
            "device": self.device,
            "has_device_time": self.has_device_time,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StreamInfo:
        return cls(
            source=d["source"],
            channels=tuple(Channel(n, u) for n, u in d["channels"]),
            fs=float(d["fs"]),
            kind=SensorKind(d["kind"]),
            geometry=dict(d.get("geometry", {})),
            device=d.get("device", ""),
            has_device_time=bool(d.get("has_device_time", False)),
        )


def sway_info(source: str, fs: float, unit: str = "mm", **kw: Any) -> StreamInfo:
    """The processed ("sway") stream every front-end produces: ``x``, ``y`` and ``fz``.

    ``unit`` is ``"mm"`` for centre of pressure or ``"deg"`` for board tilt; ``fz`` is the
    vertical load in N (NaN for a tilt source).
    """
    kind = SensorKind.COP if unit == "mm" else SensorKind.TILT
    chans = (Channel("x", unit), Channel("y", unit), Channel("fz", "N"))
    return StreamInfo(source=source, channels=chans, fs=fs, kind=kind, **kw)


@dataclasses.dataclass
class SampleBlock:
    """A run of consecutive samples of one stream (column arrays, equal length ``n``).

    Attributes
    ----------
    t_host_ns : ndarray of int64, shape (n,)
        Host receive time, ``time.monotonic_ns()``.
    t_device : ndarray of float64, shape (n,)
        Device time, s (NaN when the device sends none; then a nominal clock ``counter / fs``).
    counter : ndarray of int64, shape (n,)
        Sample counter: consecutive samples differ by 1, a larger step is a gap (dropped samples).
    data : ndarray of float64, shape (n, n_channels)
        The channel values, in the units of the stream's ``StreamInfo``.
    """

    t_host_ns: np.ndarray
    t_device: np.ndarray
    counter: np.ndarray
    data: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.t_host_ns)
        if not (len(self.t_device) == len(self.counter) == self.data.shape[0] == n):
            raise ValueError(
                f"SampleBlock columns differ in length: t_host_ns {n}, t_device "
                f"{len(self.t_device)}, counter {len(self.counter)}, data {self.data.shape[0]}"
            )
        if self.data.ndim != 2:
            raise ValueError(f"SampleBlock.data must be 2-D (n, n_channels); got {self.data.shape}")

    def __len__(self) -> int:
        return len(self.t_host_ns)

    @property
    def n_channels(self) -> int:
        return self.data.shape[1]

    @classmethod
    def empty(cls, n_channels: int) -> SampleBlock:
        return cls(
            np.empty(0, np.int64),
            np.empty(0, np.float64),
            np.empty(0, np.int64),
            np.empty((0, n_channels), np.float64),
        )

    @classmethod
    def concat(cls, blocks: list[SampleBlock], n_channels: int) -> SampleBlock:
        """Join blocks in order (an empty list gives an empty block)."""
        if not blocks:
            return cls.empty(n_channels)
        if len(blocks) == 1:
            return blocks[0]
        return cls(
            np.concatenate([b.t_host_ns for b in blocks]),
            np.concatenate([b.t_device for b in blocks]),
            np.concatenate([b.counter for b in blocks]),
            np.concatenate([b.data for b in blocks]),
        )

    def slice(self, start: int, stop: int) -> SampleBlock:
        return SampleBlock(
            self.t_host_ns[start:stop],
            self.t_device[start:stop],
            self.counter[start:stop],
            self.data[start:stop],
        )

    def with_data(self, data: np.ndarray) -> SampleBlock:
        """Same timing and counters, new channel values (a stage's output)."""
        return SampleBlock(self.t_host_ns, self.t_device, self.counter, data)

    def gaps(self, previous_counter: int | None = None) -> int:
        """Number of samples missing according to the counter (0 when consecutive)."""
        c = self.counter
        if previous_counter is not None and len(c):
            c = np.concatenate(([previous_counter], c))
        if len(c) < 2:
            return 0
        steps = np.diff(c)
        return int(np.sum(steps[steps > 1] - 1))


def sample_time(block: SampleBlock, info: StreamInfo) -> np.ndarray:
    """The sample time of each sample of ``block``, s: the one rule every layer uses.

    The device's own clock (``t_device``) when the stream has one (``info.has_device_time``)
    and the sample carries it; otherwise the nominal clock ``counter / fs``, so a gap in the
    counter stays a gap in time. Never the host receive time: when Python happened to read the
    bytes is not when the sample was taken (DESIGN.md §2).

    Parameters
    ----------
    block : SampleBlock
    info : StreamInfo
        The stream ``block`` belongs to (its ``fs`` and ``has_device_time``).

    Returns
    -------
    ndarray of float64, shape (n,)
        Seconds on the stream's clock (not from the trial's start: subtract the first).
    """
    nominal = block.counter / float(info.fs)
    if not info.has_device_time:
        return nominal
    return np.where(np.isfinite(block.t_device), block.t_device, nominal)
