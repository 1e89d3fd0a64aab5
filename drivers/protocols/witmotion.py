"""WitMotion IMUs: serial WT901 packets, BLE WT901BLE packets and configuration commands.

Serial (WT901, WT901C, JY901...): 11-byte packets ``55 TT d0..d7 SUM`` where ``SUM`` is the low
byte of the sum of the first 10 bytes and ``d`` holds four little-endian int16. Types used:
``0x51`` acceleration (x16/32768 g, + temperature), ``0x52`` angular rate (x2000/32768 deg/s),
``0x53`` angles roll, pitch, yaw (x180/32768 deg), ``0x59`` quaternion (x1/32768). One sample is
complete when the angle packet closes a cycle that had acceleration and angular rate. Resync is
the vendor's: a byte that does not start a valid packet is dropped and the search goes on at the
next byte.

BLE (WT901BLE, WT901BLE67...): notifications carry 20-byte packets ``55 61`` + 9 int16 (acc,
gyro, angles) without checksum; ``55 71`` packets are register read replies. As there is no
checksum, after any resync a packet is accepted only once the next packet's header confirms
the alignment.

Commands (same on both transports): unlock ``FF AA 69 88 B5``, set rate ``FF AA 03 RR 00``,
save ``FF AA 00 00 00``.
"""

from __future__ import annotations

import struct

import numpy as np

from drivers.decoding import Decoded, Decoder, imu_info
from nmr_balance.stream import StreamInfo

HEADER = 0x55
ACC, GYRO, ANGLE, QUATERNION = 0x51, 0x52, 0x53, 0x59
BLE_DATA, BLE_REGISTER = 0x61, 0x71
SERIAL_LEN, BLE_LEN = 11, 20
ACC_G, GYRO_DPS, ANGLE_DEG = 16 / 32768, 2000 / 32768, 180 / 32768
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
_SCALE = np.array([ACC_G] * 3 + [GYRO_DPS] * 3 + [ANGLE_DEG] * 3)
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


def encode_serial(data: np.ndarray, temperature_c: float = 25.0) -> bytes:
    """Serial packets (acc, gyro, angle per sample) for ``data`` of shape (n, 9)
    (``ax ay az`` g, ``gx gy gz`` deg/s, ``roll pitch yaw`` deg)."""
    temp = round(float(temperature_c) * 100)
    out = []
    for row in np.asarray(data, np.float64):
        out.append(_serial_packet(ACC, np.r_[_to_int16(row[0:3], ACC_G), temp]))
        out.append(_serial_packet(GYRO, np.r_[_to_int16(row[3:6], GYRO_DPS), temp]))
        out.append(_serial_packet(ANGLE, np.r_[_to_int16(row[6:9], ANGLE_DEG), 0]))
    return b"".join(out)


def encode_ble(data: np.ndarray) -> bytes:
    """BLE ``55 61`` packets for ``data`` of shape (n, 9), concatenated."""
    data = np.asarray(data, np.float64)
    raw = np.clip(np.round(data / _SCALE), -32768, 32767).astype("<i2")
    head = np.tile(np.array([HEADER, BLE_DATA], np.uint8), (len(raw), 1))
    return np.hstack([head, raw.view(np.uint8).reshape(len(raw), 18)]).tobytes()


class WitmotionSerialDecoder(Decoder):
    """Serial WT901 decoder; channels ``ax ay az gx gy gz roll pitch yaw``.

    Attributes
    ----------
    quaternion : ndarray, shape (4,)
        Last quaternion received (packet 0x59), NaN until one arrives.
    temperature_c : float
        Last temperature from the acceleration packet.
    incomplete : int
        Angle packets that closed a cycle missing acceleration or angular rate.
    """

    name = "witmotion"

    def __init__(self, fs: float = 100.0):
        super().__init__()
        self.fs = fs
        self.quaternion = np.full(4, np.nan)
        self.temperature_c = np.nan
        self.incomplete = 0
        self._acc: np.ndarray | None = None
        self._gyro: np.ndarray | None = None
        self._chain_end = 0

    def stream_info(self, source: str) -> StreamInfo:
        return imu_info(source, self.fs, "WitMotion WT901 (serial)")

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        pos, n, rows = 0, len(buf), []
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
            values = unpack(buf, pos + 2)
            kind = buf[pos + 1]
            # a cycle is acc, gyro, angle back to back: a skipped byte or another packet in
            # between means parts of two cycles, which must not be glued into one sample
            contiguous = pos == self._chain_end
            pos += SERIAL_LEN
            self.good_frames += 1
            if kind not in (GYRO, ANGLE) and self._acc is not None:
                self.incomplete += 1  # a cycle was cut short: its angle packet never came
            if kind == ACC:
                self._acc, self._gyro = values[:3], None
                self.temperature_c = values[3] / 100
            elif kind == GYRO and contiguous and self._acc is not None and self._gyro is None:
                self._gyro = values[:3]
            elif kind == ANGLE:
                if contiguous and self._acc is not None and self._gyro is not None:
                    rows.append(self._acc + self._gyro + values[:3])
                else:
                    self.incomplete += 1
                self._acc = self._gyro = None
            else:
                if kind == QUATERNION:
                    self.quaternion = np.array(values) / 32768
                elif kind == GYRO and self._acc is not None:
                    self.incomplete += 1  # gyro out of sequence: the cycle is broken
                self._acc = self._gyro = None
            self._chain_end = pos
        self._chain_end -= pos  # the next call's buffer starts where this one stopped
        if not rows:
            return Decoded.nothing(9, pos)
        return Decoded(np.array(rows, np.float64) * _SCALE, None, np.full(len(rows), np.nan), pos)


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
        idx = np.asarray(starts)[:, None] + 2 + np.arange(18)
        raw = np.frombuffer(buf, np.uint8)[idx].copy().view("<i2").astype(np.float64)
        return Decoded(raw * _SCALE, None, np.full(len(starts), np.nan), pos)
