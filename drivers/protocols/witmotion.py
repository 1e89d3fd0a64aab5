"""WitMotion IMUs: serial WT901 packets, BLE WT901BLE packets and configuration commands.

Serial (WT901, WT901C, JY901...): 11-byte packets ``55 TT d0..d7 SUM`` where ``SUM`` is the low
byte of the sum of the first 10 bytes and ``d`` holds four little-endian int16. Types used:
``0x50`` time (YY MM DD hh mm ss, ms as uint16), ``0x51`` acceleration (x16/32768 g, +
temperature), ``0x52`` angular rate (x2000/32768 deg/s), ``0x53`` angles roll, pitch, yaw
(x180/32768 deg), ``0x54`` magnetometer (raw counts), ``0x59`` quaternion (x1/32768). The
packets of one sample (a cycle) come in ascending type order; see
:class:`WitmotionSerialDecoder`. Resync is the vendor's: a byte that does not start a valid
packet is dropped and the search goes on at the next byte.

BLE (WT901BLE, WT901BLE67...): notifications carry 20-byte packets ``55 61`` + 9 int16 (acc,
gyro, angles) without checksum; ``55 71`` packets are register read replies. As there is no
checksum, after any resync a packet is accepted only once the next packet's header confirms
the alignment.

Commands (same on both transports): unlock ``FF AA 69 88 B5``, set rate ``FF AA 03 RR 00``,
save ``FF AA 00 00 00``.
"""

from __future__ import annotations

import datetime
import struct

import numpy as np

from drivers.decoding import Decoded, Decoder, imu_info
from nmr_balance import witmotion_frame
from nmr_balance.stream import Channel, SensorKind, StreamInfo

HEADER = 0x55
TIME, ACC, GYRO, ANGLE, MAG, QUATERNION = 0x50, 0x51, 0x52, 0x53, 0x54, 0x59
BLE_DATA, BLE_REGISTER = 0x61, 0x71
SERIAL_LEN, BLE_LEN = 11, 20
ACC_G, GYRO_DPS, ANGLE_DEG, QUAT = 16 / 32768, 2000 / 32768, 180 / 32768, 1 / 32768
#: WitMotion BLE service / notify / write characteristics (WT901BLE family).
BLE_SERVICE = "0000ffe5-0000-1000-8000-00805f9a34fb"
BLE_NOTIFY = "0000ffe4-0000-1000-8000-00805f9a34fb"
BLE_WRITE = "0000ffe9-0000-1000-8000-00805f9a34fb"
#: Output rate register values (register 0x03, RRATE) in Hz.
RATE_CODES = {
    0.2: 0x01,
    0.5: 0x02,
    1: 0x03,
    2: 0x04,
    5: 0x05,
    10: 0x06,
    20: 0x07,
    50: 0x08,
    100: 0x09,
    200: 0x0B,
}
_FOUR_INT16 = struct.Struct("<4h")


def unlock_command() -> bytes:
    return bytes((0xFF, 0xAA, 0x69, 0x88, 0xB5))


def save_command() -> bytes:
    return bytes((0xFF, 0xAA, 0x00, 0x00, 0x00))


def rate_command(rate_hz: float) -> bytes:
    """Set the output rate (one of :data:`RATE_CODES`); send :func:`unlock_command` first."""
    if rate_hz not in RATE_CODES:
        raise ValueError(f"WitMotion rates are {sorted(RATE_CODES)} Hz, not {rate_hz}")
    return bytes((0xFF, 0xAA, 0x03, RATE_CODES[rate_hz], 0x00))


def configure_commands(rate_hz: float) -> list[bytes]:
    """Unlock, set the rate, save: what the driver sends to run a board at ``rate_hz``."""
    return [unlock_command(), rate_command(rate_hz), save_command()]


def _serial_packet(kind: int, values: np.ndarray) -> bytes:
    head = bytes((HEADER, kind)) + np.asarray(values, "<i2").tobytes()
    return head + bytes((sum(head) & 0xFF,))


def _to_int16(values: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.round(np.asarray(values) / scale), -32768, 32767).astype("<i2")


def _time_packet(t_s: float) -> bytes:
    """A ``0x50`` time packet for ``t_s`` (Unix seconds, UTC): YY MM DD hh mm ss ms."""
    d = datetime.datetime.fromtimestamp(round(t_s, 3), datetime.UTC)
    ms = round(t_s * 1000) % 1000
    head = bytes((HEADER, TIME, d.year - 2000, d.month, d.day, d.hour, d.minute, d.second))
    head += struct.pack("<H", ms)
    return head + bytes((sum(head) & 0xFF,))


def encode_serial(
    data: np.ndarray,
    temperature_c: float = 25.0,
    t_s: np.ndarray | None = None,
    mag: np.ndarray | None = None,
    quaternion: np.ndarray | None = None,
) -> bytes:
    """Serial packets, one cycle per sample, as a WT901 sends them (ascending packet types).

    Parameters
    ----------
    data : ndarray, shape (n, 9), or None
        ``ax ay az`` g, ``gx gy gz`` deg/s, ``roll pitch yaw`` deg (None: no such packets).
    t_s : ndarray, shape (n,), optional
        Device time, Unix s (UTC): a ``0x50`` time packet opens each cycle.
    mag : ndarray, shape (n, 3), optional
        Magnetometer, raw counts: a ``0x54`` packet after the angles.
    quaternion : ndarray, shape (n, 4), optional
        q0..q3 (unit quaternion): a ``0x59`` packet closes each cycle.
    """
    temp = round(float(temperature_c) * 100)
    n = len(next(a for a in (data, t_s, mag, quaternion) if a is not None))
    out = []
    for i in range(n):
        if t_s is not None:
            out.append(_time_packet(float(t_s[i])))
        if data is not None:
            row = np.asarray(data[i], np.float64)
            out.append(_serial_packet(ACC, np.r_[_to_int16(row[0:3], ACC_G), temp]))
            out.append(_serial_packet(GYRO, np.r_[_to_int16(row[3:6], GYRO_DPS), temp]))
            out.append(_serial_packet(ANGLE, np.r_[_to_int16(row[6:9], ANGLE_DEG), 0]))
        if mag is not None:
            out.append(_serial_packet(MAG, np.r_[_to_int16(mag[i], 1.0), 0]))
        if quaternion is not None:
            out.append(_serial_packet(QUATERNION, _to_int16(quaternion[i], QUAT)))
    return b"".join(out)


def tilt_from_quaternion(q: np.ndarray) -> np.ndarray:
    """Roll and pitch (deg) of unit quaternions ``q`` (n, 4) = q0 (w), q1, q2, q3."""
    w, x, y, z = q.T
    roll = np.degrees(np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y)))
    pitch = np.degrees(np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0)))
    return np.column_stack([roll, pitch])


#: Serial packet groups a cycle may hold, in wire order: channels and their scale.
_GROUPS = {
    ACC: (("ax", "g"), ("ay", "g"), ("az", "g")),
    GYRO: (("gx", "deg/s"), ("gy", "deg/s"), ("gz", "deg/s")),
    ANGLE: (("roll", "deg"), ("pitch", "deg"), ("yaw", "deg")),
    MAG: (("mx", "count"), ("my", "count"), ("mz", "count")),
    QUATERNION: (("q0", "1"), ("q1", "1"), ("q2", "1"), ("q3", "1")),
}
_GROUP_SCALE = {ACC: ACC_G, GYRO: GYRO_DPS, ANGLE: ANGLE_DEG, MAG: 1.0, QUATERNION: QUAT}
_KNOWN = (TIME, *_GROUPS)


class WitmotionSerialDecoder(Decoder):
    """Serial WT901 decoder: each output cycle of the board becomes one sample.

    A WT901 sends the packet types it is set to output in ascending order, once per sample
    (``0x50`` time, ``0x51`` acceleration, ``0x52`` angular rate, ``0x53`` angles, ``0x54``
    magnetometer, ``0x59`` quaternion...). The decoder learns which types make a cycle from the
    stream itself (the first two cycles; :meth:`stream_info` is None until then), and then
    emits a sample when a cycle's last packet arrives, if every packet of the cycle came, back
    to back: parts of two cycles are never glued together. Channels follow the cycle:
    ``ax ay az gx gy gz roll pitch yaw`` (an IMU stream) plus ``mx my mz`` (raw counts) and
    ``q0..q3`` when sent. A cycle without acceleration and angular rate (e.g. quaternions
    only) is a tilt stream: ``x`` = roll, ``y`` = pitch (deg, from the angles or the
    quaternion), ``fz`` NaN, then its own channels. With the ``0x50`` packet the board's clock
    is the device time (its gaps are the stream's gaps).

    Attributes
    ----------
    layout : tuple of int, or None
        Packet types of one cycle, once learned.
    temperature_c : float
        Last temperature from the acceleration packet.
    incomplete : int
        Cycles dropped because a packet was missing, damaged or out of order.
    """

    name = "witmotion"

    def __init__(self, fs: float = 100.0):
        super().__init__()
        self.fs = fs
        self.layout: tuple[int, ...] | None = None
        self.temperature_c = np.nan
        self.incomplete = 0
        self._run: dict[int, tuple] = {}  # the cycle being assembled: type -> raw values
        self._held: list[tuple[dict[int, tuple], bool]] = []  # while learning the layout
        self._last_kind = 0
        self._last_of_cycle = -1  # the layout's last packet type, once known
        self._chain_end = 0

    @property
    def has_device_time(self) -> bool:  # type: ignore[override]
        return self.layout is not None and TIME in self.layout

    def stream_info(self, source: str) -> StreamInfo | None:
        if self.layout is None:
            return None
        groups = [g for g in self.layout if g in _GROUPS]
        chans = [Channel(n, u) for g in groups for n, u in _GROUPS[g]]
        if ACC in groups and GYRO in groups:
            info = imu_info(source, self.fs, "WitMotion WT901 (serial)")
            info = info.replace(channels=tuple(chans))
        else:
            tilt = (Channel("x", "deg"), Channel("y", "deg"), Channel("fz", "N"))
            info = StreamInfo(
                source,
                tilt + tuple(chans),
                self.fs,
                SensorKind.TILT,
                {},
                "WitMotion WT901 (serial)",
            )
        return info.replace(has_device_time=self.has_device_time)

    def reset_buffer(self) -> None:
        super().reset_buffer()
        self._run, self._chain_end = {}, 0

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        pos, n = 0, len(buf)
        cycles: list[dict[int, tuple]] = []
        unpack = _FOUR_INT16.unpack_from
        while n - pos >= SERIAL_LEN:
            if buf[pos] != HEADER:
                nxt = buf.find(b"\x55", pos + 1)  # vendor resync, a run of bytes at a time
                nxt = n if nxt < 0 else nxt
                self.skipped_bytes += nxt - pos
                pos = nxt
                continue
            if (sum(buf[pos : pos + 10]) & 0xFF) != buf[pos + 10]:
                # drop one byte and look again; a known packet type here was a damaged packet
                if 0x50 <= buf[pos + 1] <= 0x5A:
                    self.bad_frames += 1
                self.skipped_bytes += 1
                pos += 1
                continue
            kind = buf[pos + 1]
            values = buf[pos + 2 : pos + 10] if kind == TIME else unpack(buf, pos + 2)
            contiguous = pos == self._chain_end
            pos += SERIAL_LEN
            self._chain_end = pos
            self.good_frames += 1
            if kind not in _KNOWN:
                continue  # pressure, GPS, port status...: not ours, not a break in the cycle
            run = self._run
            if run and not contiguous:  # bytes lost: a packet of it may be gone
                cycles += self._close_run(boundary=False)
            elif run and kind <= self._last_kind:  # the next cycle began
                cycles += self._close_run(boundary=True)
            self._run[kind] = values
            self._last_kind = kind
            if kind == ACC:
                self.temperature_c = values[3] / 100
            if kind == self._last_of_cycle:
                cycles += self._close_run(boundary=True)
        self._chain_end -= pos  # the next call's buffer starts where this one stopped
        return self._samples(cycles, pos)

    def _close_run(self, boundary: bool) -> list[dict[int, tuple]]:
        """The run of packets just finished (``boundary``: the next cycle began, rather than
        bytes being lost): whole cycles to emit, or nothing (a partial one is counted).

        Before the layout is known the runs are held; two in a row with the same packet types,
        both ended by the next cycle, teach it, and the held runs that match it are emitted
        (the first one may have been cut at the stream's start: then it does not match)."""
        run, self._run = self._run, {}  # its types ascend: dict order is wire order
        if self.layout is None:
            held = self._held
            if held and boundary and held[-1][1] and tuple(held[-1][0]) == tuple(run):
                self._learn(tuple(run))
                self._held = []
                whole = [r for r, _ in held if tuple(r) == self.layout]
                self.incomplete += len(held) - len(whole)
                return [*whole, run]
            held.append((run, boundary))
            if len(held) > 8:  # garbage, not a WitMotion stream: keep only the recent ones
                held.pop(0)
                self.incomplete += 1
            return []
        if tuple(run) == self.layout:
            return [run]
        self.incomplete += 1
        return []

    def _learn(self, layout: tuple[int, ...]) -> None:
        self.layout, self._last_of_cycle = layout, layout[-1]
        self._groups = [(g, len(_GROUPS[g])) for g in layout if g in _GROUPS]
        self._scale = np.concatenate([np.full(k, _GROUP_SCALE[g]) for g, k in self._groups])

    def _samples(self, cycles: list[dict[int, tuple]], consumed: int) -> Decoded:
        n_chan = 0 if self.layout is None else self.stream_info("").n_channels
        if not cycles:
            return Decoded.nothing(n_chan, consumed)
        groups = self._groups
        data = np.array([[v for g, k in groups for v in c[g][:k]] for c in cycles], np.float64)
        data *= self._scale
        kinds = [g for g, _ in groups]
        if not (ACC in kinds and GYRO in kinds):
            col = sum(k for g, k in groups[: kinds.index(ANGLE if ANGLE in kinds else QUATERNION)])
            if ANGLE in kinds:
                xy = data[:, col : col + 2]
            else:
                xy = tilt_from_quaternion(data[:, col : col + 4])
            data = np.hstack([xy, np.full((len(cycles), 1), np.nan), data])
        t = np.full(len(cycles), np.nan)
        if TIME in self.layout:
            t = np.array([_device_seconds(c[TIME]) for c in cycles])
        return Decoded(data, None, t, consumed)


def _device_seconds(raw: bytes) -> float:
    """Seconds of a ``0x50`` packet: Unix time (UTC) when its date is valid, else the time of
    day (a board whose clock was never set still counts milliseconds)."""
    yy, mo, dd, hh, mi, ss = raw[:6]
    ms = raw[6] | raw[7] << 8
    try:
        d = datetime.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=datetime.UTC)
        return d.timestamp() + ms / 1000
    except ValueError:
        return ((dd * 24 + hh) * 60 + mi) * 60 + ss + ms / 1000


def encode_ble(data: np.ndarray) -> bytes:
    """BLE ``55 61`` packets for ``data`` of shape (n, 9), concatenated."""
    return witmotion_frame.encode_frames(data)


class WitmotionBleDecoder(Decoder):
    """BLE WT901BLE decoder (20-byte ``55 61`` packets); channels as the serial decoder."""

    name = "witmotion-ble"

    def __init__(self, fs: float = 100.0):
        super().__init__()
        self.fs = fs
        self._aligned = True  # a fresh connection starts on a packet boundary

    def stream_info(self, source: str) -> StreamInfo:
        return imu_info(source, self.fs, "WitMotion WT901BLE")

    def reset_buffer(self) -> None:
        super().reset_buffer()
        self._aligned = True

    @staticmethod
    def _is_header(buf: bytes, pos: int) -> bool:
        return buf[pos] == HEADER and buf[pos + 1] in (BLE_DATA, BLE_REGISTER)

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        pos, n, starts = 0, len(buf), []
        while n - pos >= BLE_LEN:
            if not self._is_header(buf, pos):
                if self._aligned:
                    self.bad_frames += 1  # lost alignment inside what should be a packet
                self._aligned = False
                self.skipped_bytes += 1
                pos += 1
                continue
            if not self._aligned:
                # after a resync, trust a header only when the next packet confirms it
                if n - pos < BLE_LEN + 2:
                    break
                if not self._is_header(buf, pos + BLE_LEN):
                    self.skipped_bytes += 1
                    pos += 1
                    continue
                self._aligned = True
            if buf[pos + 1] == BLE_DATA:
                starts.append(pos)
            self.good_frames += 1
            pos += BLE_LEN
        if not starts:
            return Decoded.nothing(9, pos)
        data = witmotion_frame.frame_values(buf, np.asarray(starts))
        return Decoded(data, None, np.full(len(starts), np.nan), pos)
