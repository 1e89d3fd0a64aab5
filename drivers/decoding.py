"""What every wire-protocol decoder shares: its result type, its error counters, its buffer.

A decoder turns bytes into samples. ``decode(buffer)`` looks at a buffer that starts where the
previous call stopped and returns a :class:`Decoded`: the valid samples it found and how many
bytes it ``consumed`` (everything up to the last complete frame, garbage included; an unfinished
frame at the end stays for the next call). It never raises on bad input: it resynchronises,
counts what it dropped (``bad_frames``, ``skipped_bytes``) and never emits a sample that fails
its protocol's check. Decoders keep only the state their protocol needs (the nmr descriptor,
the last WitMotion acceleration packet, counter unwrapping).
"""

from __future__ import annotations

import abc
import dataclasses

import numpy as np

from nmr_balance.stream import Channel, SensorKind, StreamInfo


@dataclasses.dataclass
class Decoded:
    """Samples found by one ``decode`` call.

    Attributes
    ----------
    data : ndarray of float64, shape (n, n_channels)
        Channel values in the units of the decoder's channels.
    counter : ndarray of int64, shape (n,), or None
        The device's own sample counter (unwrapped) when the protocol carries one.
    t_device : ndarray of float64, shape (n,)
        Device time in s (unwrapped), NaN when the protocol carries none.
    consumed : int
        Bytes of the input buffer that are done with (valid frames and garbage alike).
    """

    data: np.ndarray
    counter: np.ndarray | None
    t_device: np.ndarray
    consumed: int

    def __len__(self) -> int:
        return self.data.shape[0]

    @classmethod
    def nothing(cls, n_channels: int, consumed: int = 0, has_counter: bool = False) -> Decoded:
        return cls(
            np.empty((0, n_channels)),
            np.empty(0, np.int64) if has_counter else None,
            np.empty(0),
            consumed,
        )


class Decoder(abc.ABC):
    """Base of the protocol decoders.

    Attributes
    ----------
    good_frames : int
        Frames that passed every check.
    bad_frames : int
        Frames (or lines) rejected: bad checksum, bad length, implausible values.
    skipped_bytes : int
        Bytes thrown away while looking for the start of a frame.
    """

    #: Protocol name as used in URLs (``protocol=``).
    name = ""
    #: True when the decoded samples carry the device's own counter.
    has_counter = False
    #: True when the decoded samples carry the device's own clock.
    has_device_time = False

    def __init__(self) -> None:
        self.good_frames = 0
        self.bad_frames = 0
        self.skipped_bytes = 0
        self._pending = bytearray()

    @abc.abstractmethod
    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        """Decode complete frames at the start of ``buffer``; see the module docstring."""

    @abc.abstractmethod
    def stream_info(self, source: str) -> StreamInfo | None:
        """The stream description, or None while the protocol has not told it yet (nmr)."""

    @property
    def errors(self) -> int:
        """Rejected frames plus skipped bytes: 0 on a clean stream."""
        return self.bad_frames + self.skipped_bytes

    def feed(self, chunk: bytes) -> Decoded:
        """Append ``chunk`` to the decoder's own buffer and decode what is complete."""
        self._pending += chunk
        out = self.decode(self._pending)
        del self._pending[: out.consumed]
        return out

    def reset_buffer(self) -> None:
        """Forget a partial frame (after a reconnection the byte stream starts afresh)."""
        self._pending.clear()


class Unwrapper:
    """Turns a wrapping unsigned device count (counter, microsecond clock) into an int64.

    A step back of more than half the range means the device restarted: the count continues
    from the last value + 1 so the output stays increasing (the gap is then unknown; the source
    estimates it from host time).
    """

    def __init__(self, bits: int):
        self.modulus = 1 << bits
        self.last_raw: int | None = None
        self.value = 0
        self.restarts = 0

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, np.int64)
        if raw.size == 0:
            return raw
        prev = raw[0] if self.last_raw is None else self.last_raw
        steps = np.diff(raw, prepend=prev) % self.modulus
        back = steps >= self.modulus // 2
        if self.last_raw is None:
            steps[0] = 0
            base = raw[0]
        else:
            base = self.value
        if back.any():
            self.restarts += int(back.sum())
            steps[back] = 1
        out = base + np.cumsum(steps)
        self.last_raw, self.value = int(raw[-1]), int(out[-1])
        return out


def load_cell_geometry(width_mm: float = 433.0, depth_mm: float = 238.0) -> dict:
    """Cell positions of a 4-cell board in ``tr br tl bl`` order (Wii default 433 x 238 mm)."""
    x, y = width_mm / 2, depth_mm / 2
    return {"cells_xy_mm": [[x, y], [x, -y], [-x, y], [-x, -y]]}


def imu_channels(with_angles: bool) -> tuple[Channel, ...]:
    """IMU channels: ``ax ay az`` (g), ``gx gy gz`` (deg/s) [, ``roll pitch yaw`` (deg)]."""
    chans = [Channel(n, "g") for n in ("ax", "ay", "az")]
    chans += [Channel(n, "deg/s") for n in ("gx", "gy", "gz")]
    if with_angles:
        chans += [Channel(n, "deg") for n in ("roll", "pitch", "yaw")]
    return tuple(chans)


def imu_info(source: str, fs: float, device: str, with_angles: bool = True) -> StreamInfo:
    """StreamInfo of an IMU mounted with its x to the right, y forward, z up (as the simulator)."""
    return StreamInfo(
        source=source,
        channels=imu_channels(with_angles),
        fs=fs,
        kind=SensorKind.IMU,
        geometry={"imu_axes": "x_right_y_forward_z_up"},
        device=device,
    )
