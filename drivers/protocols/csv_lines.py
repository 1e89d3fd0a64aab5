"""The ``csv`` line protocol of DIY Arduino + HX711 load-cell boards: encoder and decoder.

One sample per line, ``millis,w1,w2,w3,w4\\n`` by default: the board's ``millis()`` and the four
loads in kg, in Wii order TR, BR, TL, BL. Separator, columns, unit and geometry are
configurable (:class:`CsvFormat`). There is no checksum, so each line must pass plausibility
checks: the right number of fields, all numbers, finite, within ``max_abs``, and a time that
does not run backwards by less than a board reset would. Banners (``HX711 ready``), blank lines
and a partial first line are skipped and counted.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from drivers.decoding import Decoded, Decoder, load_cell_geometry
from nmr_balance.stream import Channel, SensorKind, StreamInfo

#: A line longer than this without a newline is garbage (drop it and resynchronise).
MAX_LINE = 512
#: Names a time column may have, and their factor to seconds.
#: Integer time stamps wrap here (Arduino ``millis()`` is an unsigned 32-bit count).
WRAP = float(1 << 32)
#: A time column that jumps back to below this (s) is a board restart, not garbage.
RESET_S = 5.0
#: A forward step of the time column longer than this (s) is believed only once the next line
#: does not run back before it: one flipped bit in a high digit must not make every later line
#: look late.
#: The line is held until then (one line of delay), never dropped: pauses are common.
JUMP_S = 0.1
TIME_COLUMNS = {"millis": 1e-3, "ms": 1e-3, "micros": 1e-6, "us": 1e-6, "t": 1.0, "s": 1.0}


@dataclasses.dataclass(frozen=True)
class CsvFormat:
    """How a board writes its lines.

    Attributes
    ----------
    columns : tuple of str
        Column names in order; one of them may be a time column (``millis``, ``micros``, ``t``).
        ``w1..w4`` are the four load cells in Wii order TR, BR, TL, BL.
    sep : str
        Field separator.
    unit : str
        Unit of the data columns (``kg`` or ``N`` for load cells).
    kind : SensorKind
        What the data columns measure.
    fs : float
        Nominal rate, Hz (HX711 boards run at 10 or 80 Hz).
    max_abs : float
        Largest plausible absolute value of a data column.
    geometry : dict
        Stream geometry (defaults to the Wii cell layout for load cells).
    """

    columns: tuple[str, ...] = ("millis", "w1", "w2", "w3", "w4")
    sep: str = ","
    unit: str = "kg"
    kind: SensorKind = SensorKind.LOAD_CELLS
    fs: float = 80.0
    max_abs: float = 1000.0
    geometry: dict = dataclasses.field(default_factory=load_cell_geometry)

    @property
    def time_column(self) -> int | None:
        for i, c in enumerate(self.columns):
            if c in TIME_COLUMNS:
                return i
        return None

    @property
    def data_columns(self) -> list[int]:
        return [i for i in range(len(self.columns)) if i != self.time_column]

    def channels(self) -> tuple[Channel, ...]:
        wii = {"w1": "tr", "w2": "br", "w3": "tl", "w4": "bl"}
        return tuple(
            Channel(wii.get(self.columns[i], self.columns[i]), self.unit) for i in self.data_columns
        )


class CsvDecoder(Decoder):
    """Decoder for :class:`CsvFormat` lines; device time from the time column (unwrapped)."""

    name = "csv"

    def __init__(self, fmt: CsvFormat = CsvFormat()):
        super().__init__()
        self.fmt = fmt
        self.has_device_time = fmt.time_column is not None
        self._sep = fmt.sep.encode()
        self._n_fields = len(fmt.columns)
        self._data_cols = fmt.data_columns
        self._t_scale = (
            TIME_COLUMNS.get(fmt.columns[fmt.time_column], 1.0) if self.has_device_time else 1.0
        )
        self._last_raw: float | None = None
        # a line whose stamp jumped ahead, waiting for the next line to confirm it: (values, raw)
        self._held: tuple[list[float], float] | None = None
        self._t = 0.0
        self._synced = False

    def stream_info(self, source: str) -> StreamInfo:
        return StreamInfo(
            source=source,
            channels=self.fmt.channels(),
            fs=self.fmt.fs,
            kind=self.fmt.kind,
            geometry=self.fmt.geometry,
            device="csv board (HX711)",
            has_device_time=self.has_device_time,
        )

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        end = buf.rfind(b"\n") + 1
        if end == 0:
            if len(buf) > MAX_LINE:
                self.skipped_bytes += len(buf)
                self._synced = True
                return Decoded.nothing(len(self._data_cols), len(buf))
            return Decoded.nothing(len(self._data_cols), 0)
        lines = buf[:end].split(b"\n")[:-1]
        fast = self._decode_clean(lines) if self._synced else None
        if fast is not None:
            return Decoded(fast[0], None, fast[1], end)
        rows, times = [], []
        for line in lines:
            joined = not self._synced
            self._synced = True
            row = self._parse(line.strip())
            if row is None:
                if joined or not line.strip():
                    self.skipped_bytes += len(line) + 1
                else:
                    self.bad_frames += 1
                continue
            for values, t in row:
                rows.append(values)
                times.append(t)
        n = len(rows)
        data = np.array(rows, np.float64).reshape(n, len(self._data_cols))
        if self.has_device_time:
            t_dev = np.array(times, np.float64)
        else:
            t_dev = np.full(n, np.nan)
        self.good_frames += n
        return Decoded(data, None, t_dev, end)

    def _decode_clean(self, lines: list[bytes]) -> tuple[np.ndarray, np.ndarray] | None:
        """All lines at once when every one is a plausible sample; None sends them one by one."""
        try:
            table = np.array([line.split(self._sep) for line in lines], np.float64)
        except ValueError:  # a banner, a blank line, a wrong field count
            return None
        if table.ndim != 2 or table.shape[1] != self._n_fields:
            return None
        data = table[:, self._data_cols]
        if not np.all(np.abs(data) <= self.fmt.max_abs):
            return None
        n = len(table)
        if not self.has_device_time:
            self.good_frames += n
            return data, np.full(n, np.nan)
        raw = table[:, self.fmt.time_column]
        prev = raw[0] if self._last_raw is None else self._last_raw
        steps = np.diff(raw, prepend=prev)
        if not (
            np.all(steps >= 0)
            and np.all(steps * self._t_scale <= JUMP_S)
            and np.all(raw >= 0)
            and np.all(raw < WRAP)
            and self._held is None
            and (self._t_scale == 1.0 or np.all(raw == np.floor(raw)))
        ):
            return None  # a restart, a wrap, a jump or a garbled stamp: the careful path decides
        if self._last_raw is None:
            self._t = raw[0] * self._t_scale
        t = self._t + np.cumsum(steps) * self._t_scale
        self._t, self._last_raw = float(t[-1]), float(raw[-1])
        self.good_frames += n
        return data, t

    def _parse(self, line: bytes) -> list[tuple[list[float], float]] | None:
        """The samples a line completes (none while a line after a jump waits for the next one
        to confirm it, two when it is confirmed), or None for an implausible line."""
        fields = line.split(self._sep)
        if len(fields) != self._n_fields:
            return None
        try:
            numbers = [float(f) for f in fields]
        except ValueError:
            return None
        values = [numbers[i] for i in self._data_cols]
        if not all(abs(v) <= self.fmt.max_abs for v in values):  # also rejects NaN and inf
            return None
        if not self.has_device_time:
            return [(values, np.nan)]
        raw = numbers[self.fmt.time_column]
        if not (0 <= raw < WRAP) or (self._t_scale != 1.0 and raw != int(raw)):
            return None
        out = []
        if self._held is not None:
            held_values, held_raw = self._held
            self._held = None
            if raw >= held_raw:  # time went on from it (maybe by another pause): a real gap
                self._t += (held_raw - self._last_raw) * self._t_scale
                self._last_raw = held_raw
                out.append((held_values, self._t))
            else:
                self.bad_frames += 1  # the jump was one garbled stamp: that line only
        if self._last_raw is not None and (raw - self._last_raw) * self._t_scale > JUMP_S:
            self._held = (values, raw)  # believed (and kept) once the next line continues it
            return out
        t = self._device_time(raw)
        if t is None:
            return out or None
        out.append((values, t))
        return out

    def _device_time(self, raw: float) -> float | None:
        """Unwrapped device time (s) of a stamp at most :data:`JUMP_S` ahead of the last one,
        or None when it runs back implausibly."""
        if self._last_raw is None:
            self._t = raw * self._t_scale
        else:
            step = raw - self._last_raw
            if step < 0 and self._last_raw >= WRAP / 2 > raw and self._t_scale != 1.0:
                step += WRAP  # millis() wrapped after 49.7 days
            if step < 0:
                if raw * self._t_scale > RESET_S:
                    return None  # a garbled time stamp, not a restart
                step = 1.0 / self.fmt.fs / self._t_scale  # the board restarted
            self._t += step * self._t_scale
        self._last_raw = raw
        return self._t


def encode_lines(fmt: CsvFormat, t_s: np.ndarray, data: np.ndarray) -> bytes:
    """CSV lines as a board would print them (values with 3 decimals, like ``Serial.print``).

    Parameters
    ----------
    t_s : ndarray, shape (n,)
        Device time of each sample, s (written in the unit of the time column).
    data : ndarray, shape (n, n_data_columns)
        Values of the data columns, in order.
    """
    tcol = fmt.time_column
    scale = TIME_COLUMNS[fmt.columns[tcol]] if tcol is not None else 1.0
    lines = []
    for t, row in zip(t_s, data):
        fields = [f"{v:.3f}" for v in row]
        if tcol is not None:
            stamp = round(float(t) / scale) % (1 << 32) if scale != 1.0 else f"{t:.4f}"
            fields.insert(tcol, str(stamp))
        lines.append(fmt.sep.join(fields))
    return ("\n".join(lines) + "\n").encode() if lines else b""
