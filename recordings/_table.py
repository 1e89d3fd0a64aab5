"""Reading numeric text tables (CSV/TSV) defensively: size limit, ragged rows, bad numbers.

Every problem becomes a :class:`DataFormatError` naming the file, the row or column and what to
do, so a hostile or damaged import never gets further than this module.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
from pathlib import Path

import numpy as np

from nmr_balance.errors import DataFormatError

#: Files larger than this are refused unless the caller raises the limit (about 1 h at 1 kHz).
MAX_BYTES = 1 << 30
#: Sample rates an import may declare or imply, Hz.
FS_RANGE = (1.0, 10_000.0)
_UNIT = re.compile(r"^\s*(.*?)\s*\[\s*([^\]]*)\s*\]\s*$")


@dataclasses.dataclass
class Table:
    """A parsed file: ``#`` comment lines, column names, and the numbers (n_rows, n_columns)."""

    path: Path
    comments: list[str]
    columns: list[str]
    values: np.ndarray

    def column(self, name: str) -> np.ndarray:
        try:
            return self.values[:, self.columns.index(name)]
        except ValueError:
            raise DataFormatError(
                str(self.path), f"no column '{name}'", f"Columns are: {', '.join(self.columns)}"
            ) from None


def split_unit(column: str) -> tuple[str, str]:
    """``"COPx[cm]"`` -> ``("COPx", "cm")``; no brackets -> ``(column, "")``."""
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


def read_table(path: str | Path, max_bytes: int = MAX_BYTES) -> Table:
    """Read a delimited numeric table with one header line, after optional ``#`` comments."""
    path = Path(path)
    check_size(path, max_bytes)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as e:
        raise DataFormatError(
            str(path), f"not a text table ({e})", "Export it as CSV or tab-separated text"
        ) from e
    if "\x00" in text:
        raise DataFormatError(
            str(path),
            "not a text table (it holds binary data)",
            "Export it as CSV or tab-separated text",
        )
    lines = text.splitlines()
    comments = []
    while lines and lines[0].startswith("#"):
        comments.append(lines.pop(0)[1:].strip())
    if not lines:
        raise DataFormatError(str(path), "no header line and no data", "Is the file truncated?")
    header = lines[0]
    delimiter = next((d for d in ("\t", ",", ";") if d in header), None)
    if delimiter is None:
        delimiter = " "
    columns = [c.strip() for c in (header.split() if delimiter == " " else header.split(delimiter))]
    if len(columns) < 2 or len(set(columns)) != len(columns):
        raise DataFormatError(
            str(path),
            f"the header line should name distinct columns, got {header[:80]!r}",
            "Put one line of column names first",
        )
    body = [ln for ln in lines[1:] if ln.strip()]
    if not body:
        raise DataFormatError(str(path), "no data rows after the header", "Is the file truncated?")
    try:
        values = np.loadtxt(
            io.StringIO("\n".join(body)),
            delimiter=None if delimiter == " " else delimiter,
            dtype=np.float64,
            ndmin=2,
        )
    except ValueError as e:
        raise DataFormatError(
            str(path),
            f"unreadable numbers ({_short(e)})",
            "Every row needs one number per column; a cut-off last line "
            "means the file is truncated",
        ) from None
    if values.shape[1] != len(columns):
        raise DataFormatError(
            str(path),
            f"{len(columns)} column names but {values.shape[1]} values per row",
            "Check the delimiter and the header line",
        )
    return Table(path, comments, columns, values)


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


def fs_from_time(path: Path, t: np.ndarray) -> float:
    """Mean sample rate of a time column (s), which must increase strictly."""
    check_finite(path, "time", t)
    if len(t) < 2:
        raise DataFormatError(str(path), "fewer than 2 samples", "Is the file truncated?")
    if np.any(np.diff(t) <= 0):
        row = int(np.argmax(np.diff(t) <= 0)) + 2
        raise DataFormatError(
            str(path),
            f"time does not increase at data row {row}",
            "Sort the rows by time, or check the time column",
        )
    return check_fs(path, (len(t) - 1) / (t[-1] - t[0]))
