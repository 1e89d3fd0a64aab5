"""Reading numeric text tables (CSV/TSV) defensively: size limit, ragged rows, bad numbers.

Every problem becomes a :class:`DataFormatError` naming the file, the row or column and what to
do, so a hostile or damaged import never gets further than this module.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from nmr_balance.errors import DataFormatError, InvalidParameterError

#: Files larger than this are refused unless the caller raises the limit (about 1 h at 1 kHz).
MAX_BYTES = 1 << 30
#: Longest line read (a longer one is refused, not held in memory).
MAX_LINE = 1 << 20
#: Lines searched for the header and the first data rows (lab exports have ~35 of preamble).
HEAD_LINES = 400
#: Data rows parsed at a time (memory stays near the size of the numbers, not of the text).
BATCH_ROWS = 20_000
#: Sample rates an import may declare or imply, Hz.
FS_RANGE = (1.0, 10_000.0)
_UNIT = re.compile(r"^\s*(.*?)\s*[\[(]\s*([^\])]*?)\s*[\])]\s*$")
_DELIMITERS = ("\t", ",", ";", " ")

#: The names a column mapping may use (our channels, the time and the device counter).
MAPPING_NAMES = (
    "t", "counter", "x", "y", "fz",
    "Fx", "Fy", "Fz", "Mx", "My", "Mz",
    "tr", "br", "tl", "bl",
)  # fmt: skip

#: Units an import may name, by dimension: unit (lower case, no spaces) -> (our unit, factor).
UNITS = {
    "length": {"mm": ("mm", 1.0), "cm": ("mm", 10.0), "m": ("mm", 1000.0)},
    "angle": {"deg": ("deg", 1.0), "degrees": ("deg", 1.0)},
    "force": {"n": ("N", 1.0), "kn": ("N", 1000.0)},
    "mass": {"kg": ("kg", 1.0)},
    "moment": {
        "nm": ("N m", 1.0),
        "n.m": ("N m", 1.0),
        "nmm": ("N m", 1e-3),
        "n.mm": ("N m", 1e-3),
    },
    "time": {"s": ("s", 1.0), "sec": ("s", 1.0), "seconds": ("s", 1.0), "ms": ("s", 1e-3)},
}
#: Which dimensions each mapped channel may have.
DIMENSIONS = {
    "t": ("time",),
    "x": ("length", "angle"),
    "y": ("length", "angle"),
    "fz": ("force",),
    **dict.fromkeys(("Fx", "Fy", "Fz"), ("force",)),
    **dict.fromkeys(("Mx", "My", "Mz"), ("moment",)),
    **dict.fromkeys(("tr", "br", "tl", "bl"), ("force", "mass")),
}


def unit_key(text: str) -> str:
    return text.strip().lower().replace(" ", "").replace("·", ".")


def dimension_of(unit: str) -> str | None:
    """``"cm"`` -> ``"length"``; None for a unit we do not know."""
    return next((d for d, table in UNITS.items() if unit_key(unit) in table), None)


@dataclasses.dataclass(frozen=True)
class TableOptions:
    """How to read a table that is not our own export (shared by ``import`` and ``analyze``).

    Attributes
    ----------
    columns : dict or None
        Our name (:data:`MAPPING_NAMES`) -> the file's column (its header text, with or without
        the unit, or a 0-based index). None: columns named like ours are used.
    units : tuple of str
        ``"cm"`` (every unit-less column of that dimension: positions, forces, moments, time)
        or ``"NAME=UNIT"`` for one column (``"Fz=N"``, ``"t=ms"``).
    fs : float or None
        Sample rate, Hz, for a file without a time column.
    skip_rows : int or None
        Lines before the header line (default: found from where the numbers start).
    delimiter : str or None
        Default: the one that splits the data rows into numbers.
    max_bytes : int
        Refuse larger files.
    """

    columns: dict[str, str] | None = None
    units: tuple[str, ...] = ()
    fs: float | None = None
    skip_rows: int | None = None
    delimiter: str | None = None
    max_bytes: int = MAX_BYTES

    def __post_init__(self):
        unknown = sorted(set(self.columns or {}) - set(MAPPING_NAMES))
        if unknown:
            raise InvalidParameterError(
                "column",
                unknown[0],
                f"one of {', '.join(MAPPING_NAMES)} (t: time, counter: the device's sample "
                "counter)",
            )
        for spec in self.units:
            name, _, unit = spec.rpartition("=")
            if name and name not in DIMENSIONS:
                raise InvalidParameterError(
                    "unit", spec, f"NAME=UNIT with NAME one of {', '.join(DIMENSIONS)}"
                )
            dim = dimension_of(unit)
            if dim is None:
                known = ", ".join(u for table in UNITS.values() for u in table)
                raise InvalidParameterError("unit", spec, f"a unit we know ({known})")
            if name and dim not in DIMENSIONS[name]:
                raise InvalidParameterError(
                    "unit", spec, f"a unit of {' or '.join(DIMENSIONS[name])} for {name}"
                )
        if self.fs is not None and not (FS_RANGE[0] <= self.fs <= FS_RANGE[1]):
            raise InvalidParameterError(
                "fs", self.fs, f"a rate of {FS_RANGE[0]:g}-{FS_RANGE[1]:g} Hz"
            )
        if self.skip_rows is not None and self.skip_rows < 0:
            raise InvalidParameterError("skip-rows", self.skip_rows, "0 or more lines")

    def unit_for(self, name: str) -> str | None:
        """The unit the options give our channel ``name`` (by name first, then by dimension)."""
        for spec in self.units:
            key, _, unit = spec.rpartition("=")
            if key == name:
                return unit
        for spec in self.units:
            key, _, unit = spec.rpartition("=")
            if not key and dimension_of(unit) in DIMENSIONS.get(name, ()):
                return unit
        return None


@dataclasses.dataclass
class Table:
    """A parsed file: ``#`` comment lines, other lines before the header (a lab's preamble),
    column names, their units (from a units row, else ``""``) and the numbers (n_rows, n_cols)."""

    path: Path
    comments: list[str]
    columns: list[str]
    values: np.ndarray
    units: list[str] = dataclasses.field(default_factory=list)
    preamble: list[str] = dataclasses.field(default_factory=list)

    def index(self, name: str) -> int:
        """Column index of ``name``: the header text, the text without its unit, or an index."""
        if name in self.columns:
            return self.columns.index(name)
        bases = [split_unit(c)[0] for c in self.columns]
        if bases.count(name) == 1:
            return bases.index(name)
        if name.isdigit() and int(name) < len(self.columns):
            return int(name)
        raise DataFormatError(
            str(self.path), f"no column '{name}'", f"Columns are: {', '.join(self.columns)}"
        )

    def column(self, name: str) -> np.ndarray:
        return self.values[:, self.index(name)]

    def unit_of(self, name: str) -> str:
        """The unit the file gives column ``name`` (``[unit]``/``(unit)`` or the units row)."""
        i = self.index(name)
        return split_unit(self.columns[i])[1] or (self.units[i] if self.units else "")


def split_unit(column: str) -> tuple[str, str]:
    """``"COPx[cm]"`` or ``"Fz (N)"`` -> ``("COPx", "cm")``; no unit -> ``(column, "")``."""
    m = _UNIT.match(column)
    return (m.group(1), m.group(2)) if m else (column.strip(), "")


def check_size(path: Path, max_bytes: int = MAX_BYTES) -> None:
    """Refuse a file above ``max_bytes`` before reading any of it."""
    try:
        size = os.path.getsize(path)
    except OSError as e:
        raise DataFormatError(str(path), f"cannot read it ({e.strerror})") from e
    if size > max_bytes:
        raise DataFormatError(
            str(path),
            f"it is {size / 2**20:.0f} MB, above the import limit of {max_bytes / 2**20:.0f} MB",
            "Split the file, or raise the limit (--max-mb) if it really is one trial",
        )


def _split(line: str, delimiter: str) -> list[str]:
    return line.split() if delimiter == " " else [c.strip() for c in line.split(delimiter)]


def _numbers(cells: list[str]) -> bool:
    try:
        for c in cells:
            float(c)
    except ValueError:
        return False
    return True


def _data_delimiter(lines: list[str]) -> str | None:
    """The delimiter that splits every one of ``lines`` into the same >= 2 numbers."""
    for d in _DELIMITERS:
        counts = set()
        for line in lines:
            cells = _split(line, d)
            if len(cells) < 2 or not _numbers(cells):
                break
            counts.add(len(cells))
        else:
            if len(counts) == 1:
                return d
    return None


def _is_units_row(cells: list[str]) -> bool:
    return any(cells) and all(not c or dimension_of(c.strip("[]()")) for c in cells)


def _lines(path: Path, f) -> Iterator[str]:
    """The file's lines without their ends; a line above :data:`MAX_LINE` is refused."""
    for number in itertools.count(1):
        line = f.readline(MAX_LINE + 1)
        if not line:
            return
        if len(line) > MAX_LINE:
            raise DataFormatError(
                str(path),
                f"line {number} is longer than {MAX_LINE // 2**20} MB",
                "This is not a table of samples; check the file",
            )
        if "\x00" in line:
            raise DataFormatError(
                str(path),
                "not a text table (it holds binary data)",
                "Export it as CSV or tab-separated text",
            )
        yield line.rstrip("\r\n")


def read_table(path: str | Path, options: TableOptions | None = None) -> Table:
    """Read a delimited numeric table, streaming: ``#`` comments or a lab's preamble, one header
    line (and optionally a units row), then rows of numbers.

    Where the header is: ``options.skip_rows`` lines down, else the line above the first run of
    numeric rows (a units row such as ``s N N Nm`` between them is recognised). The delimiter
    is the one that splits the data rows into numbers. Memory: the numbers (8 bytes each) plus
    one batch of text, whatever the file's size.
    """
    path = Path(path)
    options = options or TableOptions()
    check_size(path, options.max_bytes)
    try:
        with open(path, encoding="utf-8-sig", newline=None) as f:
            return _read(path, _lines(path, f), options)
    except UnicodeDecodeError as e:
        raise DataFormatError(
            str(path), f"not a text table ({e.reason})", "Export it as CSV or tab-separated text"
        ) from None
    except OSError as e:
        raise DataFormatError(str(path), f"cannot read it ({e.strerror})") from e


def _read(path: Path, lines: Iterator[str], options: TableOptions) -> Table:
    head: list[str] = []
    for line in lines:
        head.append(line)
        if len(head) >= HEAD_LINES:
            break
    numbered = [(i, ln) for i, ln in enumerate(head) if ln.strip()]
    if not any(not ln.startswith("#") for _, ln in numbered):
        raise DataFormatError(str(path), "no header line and no data", "Is the file truncated?")
    if options.skip_rows is not None:
        h = options.skip_rows
        if h >= len(head) or not head[h].strip():
            raise DataFormatError(
                str(path), f"no header line after skipping {h} lines", "Check --skip-rows"
            )
        after = [(i, ln) for i, ln in numbered if i > h][:4]
        first_data = after[0][0] if after else len(head)
        delimiter = options.delimiter or (_data_delimiter([after[-1][1]]) if after else None)
        if after and delimiter and not _numbers(_split(after[0][1], delimiter)):
            units_row = after[0][1]  # the line after the header is a units row
            first_data = after[1][0] if len(after) > 1 else len(head)
        else:
            units_row = None
    else:
        h, first_data, delimiter, units_row = _find_header(path, numbered, options.delimiter)
    if delimiter is None:
        raise DataFormatError(
            str(path),
            "no rows of numbers after the header",
            "Every row needs one number per column; is the file truncated?",
        )
    columns = _split(head[h], delimiter)
    while columns and not columns[-1]:  # a trailing delimiter
        columns.pop()
    comments = [ln[1:].strip() for ln in head[:h] if ln.startswith("#")]
    preamble = [ln for ln in head[:h] if ln.strip() and not ln.startswith("#")]
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise DataFormatError(
            str(path),
            f"the header line should name distinct columns, got {head[h][:80]!r}",
            "Put one line of column names first, or say where it is with --skip-rows",
        )
    units = []
    if units_row is not None:
        units = _split(units_row, delimiter)[: len(columns)]
        units += [""] * (len(columns) - len(units))
    values = _parse_rows(path, itertools.chain(head[first_data:], lines), delimiter, len(columns))
    return Table(path, comments, columns, values, [u.strip("[]()") for u in units], preamble)


def _find_header(path: Path, numbered: list[tuple[int, str]], delimiter: str | None):
    """(header index, first data index, delimiter, units row or None) from the first lines.

    The data are the last run of rows of numbers in those lines (so a calibration matrix in a
    lab's preamble is not taken for them); the header is the line above, or the one above a
    units row.
    """
    body = [(i, ln) for i, ln in numbered if not ln.startswith("#")]
    # the run's delimiter and width from its last row, or the one before (a file may be cut
    # mid-row)
    d, probe = None, ""
    for _, probe in body[-1:-3:-1]:
        d = delimiter or _data_delimiter([probe])
        if d is not None and _numbers(_split(probe, d)):
            break
        d = None
    if d is not None:
        width = len(_split(probe, d))
        k = len(body)
        while k > 0:
            cells = _split(body[k - 1][1], d)
            if len(cells) != width or not _numbers(cells):
                if k == len(body):  # a cut last row: left to the parser, which says so
                    k -= 1
                    continue
                break
            k -= 1
        if 0 < k < len(body):
            first = body[k][0]
            j, cand = body[k - 1]
            if _is_units_row(_split(cand, d)) and k > 1:
                return body[k - 2][0], first, d, cand
            return j, first, d, None
    raise DataFormatError(
        str(path),
        f"no data rows after the header (no line followed by rows of numbers in the first "
        f"{HEAD_LINES} lines)",
        "Every row needs one number per column; say where the header is with --skip-rows N "
        "(the number of lines above it)",
    )


def _parse_rows(path: Path, lines: Iterable[str], delimiter: str, n_columns: int) -> np.ndarray:
    parts, done = [], 0
    rows = (ln for ln in lines if ln.strip())
    while batch := list(itertools.islice(rows, BATCH_ROWS)):
        try:
            part = np.loadtxt(
                batch,
                delimiter=None if delimiter == " " else delimiter,
                dtype=np.float64,
                ndmin=2,
                comments=None,
            )
        except ValueError as e:
            raise DataFormatError(
                str(path),
                f"unreadable numbers after data row {done} ({_short(e)})",
                "Every row needs one number per column; a cut-off last line "
                "means the file is truncated",
            ) from None
        if part.shape[1] != n_columns:
            raise DataFormatError(
                str(path),
                f"{n_columns} column names but {part.shape[1]} values per row",
                "Check the delimiter and the header line",
            )
        parts.append(part)
        done += len(batch)
    if not parts:
        raise DataFormatError(str(path), "no data rows after the header", "Is the file truncated?")
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _short(error: Exception) -> str:
    return str(error).splitlines()[0][:160]


def check_finite(path: Path, name: str, values: np.ndarray, allow_nan: bool = False) -> None:
    """Refuse inf (always) and NaN (unless allowed) in a column, naming the first bad row."""
    bad = np.isinf(values) if allow_nan else ~np.isfinite(values)
    if np.any(bad):
        row = int(np.argmax(bad.any(axis=1) if bad.ndim > 1 else bad))
        what = "infinite" if allow_nan else "missing or infinite"
        raise DataFormatError(
            str(path),
            f"{what} value in '{name}' at data row {row + 1}",
            "Fix or remove the damaged rows and import again",
        )


def check_fs(path: Path, fs: float) -> float:
    lo, hi = FS_RANGE
    if not np.isfinite(fs) or not (lo <= fs <= hi):
        raise DataFormatError(
            str(path),
            f"a sample rate of {fs:g} Hz is not plausible for a "
            f"balance recording ({lo:g}-{hi:g} Hz)",
            "Check the time column (seconds?) or give the rate with --fs",
        )
    return float(fs)


#: Largest magnitudes a balance recording can hold, per unit; above: not what the unit says
#: (e.g. raw ADC counts of ~9e6 declared as newtons).
PLAUSIBLE = {"mm": 5_000.0, "deg": 360.0, "N": 50_000.0, "kg": 5_000.0, "N m": 20_000.0}


def check_plausible(path: Path, channels, data: np.ndarray) -> None:
    """Refuse values no balance recording holds in their unit (NaN is left to the callers)."""
    for j, c in enumerate(channels):
        limit = PLAUSIBLE.get(c.unit)
        big = np.abs(data[:, j]) > limit if limit else np.zeros(len(data), bool)
        if np.any(big):
            row = int(np.argmax(big))
            raise DataFormatError(
                str(path),
                f"'{c.name}' is {data[row, j]:.6g} {c.unit} at data row {row + 1}, "
                f"beyond any balance recording (|value| <= {limit:g} {c.unit})",
                "Check the column's unit; raw sensor counts need a calibration first",
            )


@dataclasses.dataclass(frozen=True)
class Timing:
    """Sample times of an imported table and what they say.

    Attributes
    ----------
    fs : float
        Hz, from the median step (never the mean, which gaps would lower).
    t : ndarray, shape (n_samples,)
        Seconds (the file's clock), or ``counter / fs`` when the file has no time column.
    counter : ndarray of int64, shape (n_samples,)
        Sample numbers from 0; a step above 1 is a gap of ``step - 1`` missing samples.
    source : str
        Where the rate and the gaps come from, in words (stored with the trial).
    """

    fs: float
    t: np.ndarray
    counter: np.ndarray
    source: str

    def gap_steps(self) -> np.ndarray:
        """Indices ``i`` where samples are missing between sample ``i`` and ``i + 1``."""
        return np.flatnonzero(np.diff(self.counter) > 1)


def timing(
    path: Path,
    n: int,
    t: np.ndarray | None,
    counter: np.ndarray | None,
    fs: float | None,
    time_name: str = "time",
) -> Timing:
    """The rate and the gaps of a table from its time column, its counter column, or ``fs``.

    The rate is the median step. With a counter, gaps are where it jumps; with only a time
    column, where a step is at least 1.5 median steps. With neither, ``fs`` must be given and
    no gap can be seen (the source text says so).
    """
    if counter is not None:
        check_finite(path, "counter", counter)
        if np.any(counter != np.round(counter)):
            raise DataFormatError(str(path), "the counter column holds non-integers")
        counter = counter.astype(np.int64)
        _increasing(path, counter, "counter")
        counter = counter - counter[0]
    if t is not None:
        check_finite(path, time_name, t)
        _increasing(path, t, time_name)
    if t is None and counter is None:
        if fs is None:
            raise DataFormatError(
                str(path),
                "no time column and no sample rate",
                "Map the time column (--column t=NAME) or give --fs",
            )
        counter = np.arange(n, dtype=np.int64)
        source_no_clock = f"--fs {fs:g} Hz; no time or counter column, so gaps cannot be seen"
    else:
        source_no_clock = ""
    if n < 2:
        raise DataFormatError(str(path), "fewer than 2 samples", "Is the file truncated?")
    if t is not None and counter is not None:
        step = float(np.median(np.diff(t) / np.diff(counter)))
        source = f"median step of '{time_name}' per counter step ({step * 1e3:.4g} ms)"
    elif t is not None:
        dt = np.diff(t)
        step = float(np.median(dt))
        counter = np.concatenate(([0], np.cumsum(np.maximum(np.rint(dt / step), 1)))).astype(
            np.int64
        )
        source = f"median step of '{time_name}' ({step * 1e3:.4g} ms); gaps: steps >= 1.5 of it"
    elif fs is not None:
        step = 1.0 / fs
        source = source_no_clock or f"--fs {fs:g} Hz and the counter column"
    else:
        raise DataFormatError(
            str(path),
            "a counter column but no time column and no sample rate",
            "Give the rate with --fs, or map the time column (--column t=NAME)",
        )
    if fs is not None and t is not None:
        source += f"; --fs {fs:g} Hz ignored: the time column gives the rate"
    # times printed with a few decimals make 1/step 99.99999999999 Hz: keep 6 decimals
    rate = check_fs(path, round(1.0 / step, 6) if step > 0 else float("nan"))
    times = t if t is not None else counter / rate
    return Timing(rate, np.asarray(times, np.float64), counter, source)


def _increasing(path: Path, v: np.ndarray, name: str) -> None:
    bad = np.diff(v) <= 0
    if np.any(bad):
        raise DataFormatError(
            str(path),
            f"'{name}' does not increase at data row {int(np.argmax(bad)) + 2}",
            "Sort the rows, or check the column",
        )
