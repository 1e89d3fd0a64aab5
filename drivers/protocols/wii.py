"""Wii Balance Board: raw HID reports, the calibration block, and kernel evdev events.

Raw (what the board sends over Bluetooth HID, each report prefixed by ``A1``, the HID DATA
input header, as in a Bluetooth capture):

- ``A1 32 BB BB E0..E7`` / ``A1 34 BB BB E0..E18``: buttons + extension bytes. For the balance
  board ``E0..E7`` are four big-endian uint16 raw sensor values, order TR, BR, TL, BL.
- ``A1 21 BB BB SE AA AA D0..D15``: memory read reply (``S`` = size - 1 in the high nibble,
  ``E`` = error in the low nibble, ``AA AA`` = low 16 bits of the address). The 24-byte
  calibration block at ``0xA40024`` arrives as 16 + 8 bytes: three rows (0 kg, 17 kg, 34 kg) of
  four big-endian uint16 in TR, BR, TL, BL order.
- ``A1 20 BB BB LF 00 00 VV`` status report (battery ``VV``).

The kernel's hid-wiimote driver applies the calibration itself and exposes the board as an
input device "Nintendo Wii Remote Balance Board" with ``ABS_HAT0X, ABS_HAT0Y, ABS_HAT1X,
ABS_HAT1Y`` = TR, BR, TL, BL in units of 0.01 kg.

The piecewise-linear calibration (:func:`calibrate`) is the kernel's formula in floating point.
It lives here until the dsp package provides one (then this should call it).
"""

from __future__ import annotations

import numpy as np

from drivers.decoding import Decoded, Decoder, load_cell_geometry
from dsp.cop import wii_to_kg
from nmr_balance.stream import Channel, SensorKind, StreamInfo

DATA_HEADER = 0xA1
#: Report id -> total length including the A1 header.
REPORT_LENGTHS = {0x20: 8, 0x21: 23, 0x32: 12, 0x34: 23}
CAL_ADDRESS = 0x0024
CAL_KG = np.array([0.0, 17.0, 34.0])
#: evdev: EV_SYN / EV_ABS event types, SYN_REPORT code, and the four corner codes in order.
EV_SYN, EV_ABS, SYN_REPORT = 0x00, 0x03, 0x00
ABS_CODES = (0x10, 0x11, 0x12, 0x13)  # ABS_HAT0X TR, ABS_HAT0Y BR, ABS_HAT1X TL, ABS_HAT1Y BL
DEVICE_NAME = "Nintendo Wii Remote Balance Board"
FS_NOMINAL = 60.0  # the board reports at about 50-100 Hz, unevenly


def wii_info(source: str) -> StreamInfo:
    """Four load cells ``tr br tl bl`` in kg, Wii geometry (433 x 238 mm between sensors)."""
    return StreamInfo(
        source=source,
        channels=tuple(Channel(n, "kg") for n in ("tr", "br", "tl", "bl")),
        fs=FS_NOMINAL,
        kind=SensorKind.LOAD_CELLS,
        # reports arrive unevenly: the front-end resamples them to 100 Hz
        geometry={**load_cell_geometry(), "uneven": True, "resample_hz": 100.0},
        device="Wii Balance Board",
    )


def parse_calibration(block: bytes) -> np.ndarray:
    """The 24-byte calibration block -> raw readings at 0/17/34 kg, shape (3, 4) (TR BR TL BL).

    Raises ValueError when the block is not 24 bytes or its rows do not increase (a damaged
    read would give nonsense weights).
    """
    if len(block) != 24:
        raise ValueError(f"calibration block has {len(block)} bytes, expected 24")
    cal = np.frombuffer(bytes(block), ">u2").reshape(3, 4).astype(np.float64)
    if not np.all(np.diff(cal, axis=0) > 0):
        raise ValueError("calibration rows do not increase from 0 to 17 to 34 kg")
    return cal


def calibrate(raw: np.ndarray, cal: np.ndarray) -> np.ndarray:
    """Raw sensor values (n, 4) -> kg (n, 4): the board's piecewise-linear map (dsp owns it).

    ``cal`` is laid out as in the board's block: (3, 4), rows 0/17/34 kg, columns tr br tl bl.
    """
    return wii_to_kg(np.asarray(raw, np.float64), np.asarray(cal, np.float64).T)


def encode_reports(raw: np.ndarray, report_id: int = 0x32) -> bytes:
    """Extension reports for raw sensor values (n, 4) (for tests and captures)."""
    out = []
    body = np.asarray(raw).astype(">u2").tobytes()
    for i in range(len(raw)):
        ext = body[i * 8 : (i + 1) * 8]
        pad = b"\x00" * (REPORT_LENGTHS[report_id] - 4 - 8)
        out.append(bytes((DATA_HEADER, report_id, 0, 0)) + ext + pad)
    return b"".join(out)


def encode_calibration_replies(cal: np.ndarray) -> bytes:
    """The two memory-read replies (16 + 8 bytes) that carry a calibration block."""
    block = np.asarray(cal).astype(">u2").tobytes()
    out = []
    for offset, size in ((0, 16), (16, 8)):
        addr = CAL_ADDRESS + offset
        data = block[offset : offset + size].ljust(16, b"\x00")
        out.append(bytes((DATA_HEADER, 0x21, 0, 0, (size - 1) << 4, addr >> 8, addr & 0xFF)) + data)
    return b"".join(out)


class WiiReportDecoder(Decoder):
    """Decoder of a raw report stream: calibration replies first, then extension reports.

    Extension reports before the calibration is complete are counted in ``waiting_frames``.
    ``calibration`` can also be given up front (read earlier from the same board).
    """

    name = "wii-raw"

    def __init__(self, calibration: np.ndarray | None = None):
        super().__init__()
        self.calibration = calibration
        self.waiting_frames = 0
        self._cal_bytes = bytearray(24)
        self._cal_seen = [False, False]

    def stream_info(self, source: str) -> StreamInfo:
        return wii_info(source)

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        pos, n, raw_rows = 0, len(buf), []
        while n - pos >= 2:
            size = REPORT_LENGTHS.get(buf[pos + 1]) if buf[pos] == DATA_HEADER else None
            if size is None:
                self.skipped_bytes += 1
                pos += 1
                continue
            if n - pos < size:
                break
            report, rid = buf[pos : pos + size], buf[pos + 1]
            pos += size
            if rid == 0x21:
                self._memory_reply(report)
            elif rid in (0x32, 0x34):
                if self.calibration is None:
                    self.waiting_frames += 1
                else:
                    raw_rows.append(np.frombuffer(report, ">u2", 4, 4))
                    self.good_frames += 1
            else:
                self.good_frames += 1
        if not raw_rows:
            return Decoded.nothing(4, pos)
        kg = calibrate(np.array(raw_rows, np.float64), self.calibration)
        return Decoded(kg, None, np.full(len(kg), np.nan), pos)

    def _memory_reply(self, report: bytes) -> None:
        size, error = (report[4] >> 4) + 1, report[4] & 0x0F
        offset = ((report[5] << 8) | report[6]) - CAL_ADDRESS
        if error or (offset, size) not in ((0, 16), (16, 8)):
            self.bad_frames += 1
            return
        self._cal_bytes[offset : offset + size] = report[7 : 7 + size]
        self._cal_seen[offset // 16] = True
        self.good_frames += 1
        if all(self._cal_seen) and self.calibration is None:
            try:
                self.calibration = parse_calibration(bytes(self._cal_bytes))
            except ValueError:
                self.bad_frames += 1
                self._cal_seen = [False, False]


class WiiEventAssembler:
    """Kernel evdev events -> samples: corner values update on EV_ABS, a sample on SYN_REPORT.

    The kernel sends only values that changed (and nothing while all four stay equal), so the
    rate is uneven: the front-end resamples it.

    ``feed(events)`` takes ``(type, code, value)`` triples and returns an array (n, 4) of kg.
    """

    def __init__(self) -> None:
        self._values = np.zeros(4)
        self._seen = False

    def feed(self, events) -> np.ndarray:
        rows = []
        for ev_type, code, value in events:
            if ev_type == EV_ABS and code in ABS_CODES:
                self._values[ABS_CODES.index(code)] = value / 100.0
                self._seen = True
            elif ev_type == EV_SYN and code == SYN_REPORT and self._seen:
                rows.append(self._values.copy())
        return np.array(rows).reshape(len(rows), 4)


def kernel_events(kg: np.ndarray) -> list[tuple[int, int, int]]:
    """The evdev events hid-wiimote emits for calibrated loads (n, 4) kg (for tests)."""
    events = []
    for row in np.asarray(kg):
        events += [(EV_ABS, code, int(v * 100)) for code, v in zip(ABS_CODES, row)]
        events.append((EV_SYN, SYN_REPORT, 0))
    return events
