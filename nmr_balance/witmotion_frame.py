"""The WitMotion ``55 61`` data frame, shared by the BLE driver and the SD-card log reader.

20 bytes: ``55 61`` then nine little-endian int16: acceleration x, y, z (x 16/32768 g), angular
rate x, y, z (x 2000/32768 deg/s), roll, pitch, yaw (x 180/32768 deg). The BLE sensors
(WT901BLE...) notify it; the SD-card logger (WT901SDCL) stores it, followed by 8 time bytes
(:mod:`recordings.witmotion_sd`). Defined once here, because the driver and the file reader may
not import each other.
"""

from __future__ import annotations

import numpy as np

from nmr_balance.stream import Channel, SensorKind, StreamInfo

HEADER, DATA = 0x55, 0x61
FRAME_LEN = 20
#: Per-channel scale of the nine int16 (g, deg/s, deg).
SCALE = np.array([16 / 32768] * 3 + [2000 / 32768] * 3 + [180 / 32768] * 3)
CHANNELS = (
    *(Channel(n, "g") for n in ("ax", "ay", "az")),
    *(Channel(n, "deg/s") for n in ("gx", "gy", "gz")),
    *(Channel(n, "deg") for n in ("roll", "pitch", "yaw")),
)
#: How WitMotion boards are mounted on a wobble board here: x right, y forward, z up.
GEOMETRY = {"imu_axes": "x_right_y_forward_z_up"}


def frame_values(buf: bytes, starts: np.ndarray) -> np.ndarray:
    """The nine channel values of the frames starting at ``starts`` (byte offsets into ``buf``).

    Returns
    -------
    ndarray, shape (len(starts), 9)
        ``ax ay az`` g, ``gx gy gz`` deg/s, ``roll pitch yaw`` deg.
    """
    idx = np.asarray(starts, np.int64)[:, None] + 2 + np.arange(18)
    raw = np.frombuffer(buf, np.uint8)[idx].copy().view("<i2").astype(np.float64)
    return raw.reshape(len(starts), 9) * SCALE


def encode_frames(data: np.ndarray) -> bytes:
    """``55 61`` frames for ``data`` of shape (n, 9), concatenated."""
    data = np.asarray(data, np.float64)
    raw = np.clip(np.round(data / SCALE), -32768, 32767).astype("<i2")
    head = np.tile(np.array([HEADER, DATA], np.uint8), (len(raw), 1))
    return np.hstack([head, raw.view(np.uint8).reshape(len(raw), 18)]).tobytes()


def imu_stream(source: str, fs: float, device: str, has_device_time: bool = False) -> StreamInfo:
    """The stream of ``55 61`` frames: an IMU with the nine channels above."""
    return StreamInfo(source, CHANNELS, fs, SensorKind.IMU, dict(GEOMETRY), device, has_device_time)
