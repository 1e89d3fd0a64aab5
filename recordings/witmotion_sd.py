"""WitMotion SD-card logs (WT901SDCL and kin): 28-byte records, read for import and replay.

Each record is the ``55 61`` data frame (20 bytes, :mod:`nmr_balance.witmotion_frame`: acc,
gyro, angles) followed by the logger's clock, 8 bytes ``YY MM DD hh mm ss msL msH`` (year
20YY, UTC as the logger's clock was set; milliseconds little-endian), written at the logger's
rate (20 Hz by default). No checksum: a record is believed when it starts with ``55 61``, its
date is a real one and the next record also starts with ``55 61`` (or the file ends); anything
else is skipped a byte at a time and counted, never turned into a sample.

The device clock is the sample time, read by the rule every import follows
(:func:`recordings._table.timing`): the rate is the median step between records, and a step of
1.5 of it or more is a gap (the counter skips the samples the logger did not write; a
``signal_gap`` event says how many), never interpolated.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from nmr_balance.errors import DataFormatError
from nmr_balance.stream import SampleBlock
from nmr_balance.witmotion_frame import (
    DATA,
    FRAME_LEN,
    HEADER,
    encode_frames,
    frame_values,
    imu_stream,
)
from recordings import _table
from recordings.model import Event, TrialData

RECORD_LEN = FRAME_LEN + 8
SUFFIXES = (".bin", ".wit")
#: Larger than any real log (20 Hz x 28 B = 2 MB an hour): refused before it is read.
MAX_BYTES = 512 << 20


def record_time(rec: bytes) -> float | None:
    """Unix seconds of a record's 8 time bytes, or None when they are not a real date."""
    yy, mo, dd, hh, mi, ss = rec[FRAME_LEN : FRAME_LEN + 6]
    ms = rec[FRAME_LEN + 6] | rec[FRAME_LEN + 7] << 8
    if ms > 999:
        return None
    try:
        when = datetime.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=datetime.UTC)
    except ValueError:
        return None
    return when.timestamp() + ms / 1000


def encode_records(data: np.ndarray, t_s: np.ndarray) -> bytes:
    """Records as the logger writes them, for ``data`` (n, 9) at Unix times ``t_s`` (n,)."""
    frames = np.frombuffer(encode_frames(data), np.uint8).reshape(-1, FRAME_LEN)
    out = []
    for frame, t in zip(frames, t_s, strict=True):
        d = datetime.datetime.fromtimestamp(round(float(t), 3), datetime.UTC)
        ms = round(float(t) * 1000) % 1000
        stamp = bytes(
            (d.year - 2000, d.month, d.day, d.hour, d.minute, d.second, ms & 0xFF, ms >> 8)
        )
        out.append(frame.tobytes() + stamp)
    return b"".join(out)


def decode_records(buf: bytes) -> tuple[np.ndarray, np.ndarray, int]:
    """The samples of a log: (data (n, 9), device time (n,) Unix s, skipped bytes)."""
    starts, times, pos, skipped, n = [], [], 0, 0, len(buf)
    while n - pos >= RECORD_LEN:
        ok = buf[pos] == HEADER and buf[pos + 1] == DATA
        t = record_time(buf[pos : pos + RECORD_LEN]) if ok else None
        nxt = pos + RECORD_LEN
        confirmed = n - nxt < 2 or (buf[nxt] == HEADER and buf[nxt + 1] == DATA)
        if t is None or not confirmed:
            pos, skipped = pos + 1, skipped + 1
            continue
        starts.append(pos)
        times.append(t)
        pos = nxt
    skipped += n - pos
    data = frame_values(buf, np.array(starts, np.int64)) if starts else np.empty((0, 9))
    return data, np.array(times, np.float64), skipped


def is_sd_log(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES


def read_sd_log(path: str | Path) -> TrialData:
    """Read a WitMotion SD-card log into a trial (raw IMU stream; see the module doc)."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataFormatError(str(path), f"{size} bytes is more than a WitMotion log holds")
    data, t, skipped = decode_records(path.read_bytes())
    if len(t) < 2:
        raise DataFormatError(
            str(path),
            f"no WitMotion SD-card records found ({size} bytes, {skipped} not records)",
            "Is it the logger's file? Records are 28 bytes: 55 61 + 18 data + 8 time bytes",
        )
    # one rule for every imported clock: rate from the median step, longer steps are gaps
    clock = _table.timing(path, len(t), t, None, None, "the logger's clock")
    info = imu_stream(f"file://{path}", clock.fs, "WitMotion SD-card logger", has_device_time=True)
    raw = SampleBlock(
        np.round((t - t[0]) * 1e9).astype(np.int64), t, clock.counter, np.ascontiguousarray(data)
    )
    steps = clock.gap_steps()
    events = [
        Event(
            float(t[i] - t[0]),
            "signal_gap",
            {"missing_samples": int(clock.counter[i + 1] - clock.counter[i] - 1), "from": "file"},
        )
        for i in steps
    ]
    missing = int(np.sum(np.diff(clock.counter)[steps] - 1))
    header = {
        "file": path.name,
        "import": {
            "rate_from": clock.source,
            "gaps": len(steps),
            "missing_samples": missing,
            "skipped_bytes": skipped,
        },
    }
    return TrialData(raw_info=info, raw=raw, events=events, header=header)
