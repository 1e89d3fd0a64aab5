"""Reading the Santos & Duarte (2016) data set's files, and the recording type ``analyze`` uses.

:class:`CopRecording` is in the project's convention (x = ML, + right; y = AP, + forward; COP
in mm or tilt in deg). Other tables are read by one reader, :mod:`recordings._table` (through
:func:`recordings.exchange.read_file`), for ``import`` and ``analyze`` alike.
"""

from __future__ import annotations

import dataclasses
import io
import pathlib

import numpy as np

from nmr_balance.errors import DataFormatError

#: Length units accepted for COP columns, as factors to mm; "deg" is kept as is (tilt).
TO_MM = {"mm": 1.0, "cm": 10.0, "m": 1000.0}

SANTOS_DUARTE_HEADER = (
    "Time[s]",
    "Fx[N]",
    "Fy[N]",
    "Fz[N]",
    "Mx[Nm]",
    "My[Nm]",
    "Mz[Nm]",
    "COPx[cm]",
    "COPy[cm]",
)


@dataclasses.dataclass
class CopRecording:
    """A sway recording read from a file.

    Attributes
    ----------
    xy : ndarray, shape (n_samples, 2)
        x = ML, y = AP, in ``unit``.
    fs : float
        Sample rate, Hz.
    unit : str
        ``"mm"`` (COP) or ``"deg"`` (tilt).
    path : str
    format : str
        ``"santos_duarte"`` or ``"csv"``.
    filtered_hz : float or None
        Low-pass cut-off already applied to the data, when the file says so.
    forces_moments : ndarray, shape (n_samples, 6), or None
        Fx Fy Fz (N), Mx My Mz (N m) in the plate frame, when the file has them.
    """

    xy: np.ndarray
    fs: float
    unit: str
    path: str
    format: str
    filtered_hz: float | None = None
    forces_moments: np.ndarray | None = None


def read_santos_duarte(path) -> CopRecording:
    """Read one trial of Santos & Duarte (2016), PeerJ 4:e2648 (tab-separated, 100 Hz).

    Columns ``Time[s] Fx[N] Fy[N] Fz[N] Mx[Nm] My[Nm] Mz[Nm] COPx[cm] COPy[cm]``; COPx is AP and
    COPy is ML; the authors low-passed the signals at 10 Hz.
    """
    text = _read_text(path)
    header = tuple(text.split("\n", 1)[0].strip().split("\t"))
    if header != SANTOS_DUARTE_HEADER:
        raise DataFormatError(
            str(path),
            f"not a Santos & Duarte trial (header {header[:3]}...)",
            "Use --format-in csv with --x-col/--y-col for other files",
        )
    data = _numbers(path, text, skip=1, delimiter="\t", n_cols=len(SANTOS_DUARTE_HEADER))
    fs = _rate_from_time(path, data[:, 0])
    xy = np.column_stack([data[:, 8], data[:, 7]]) * TO_MM["cm"]
    return CopRecording(xy, fs, "mm", str(path), "santos_duarte", 10.0, data[:, 1:7].copy())


def sniff_format(path) -> str:
    """``"santos_duarte"`` if the file starts with that data set's header, else ``"csv"``."""
    try:
        with open(path, "rb") as f:
            head = f.read(200).decode("utf-8", "replace")
    except FileNotFoundError:
        raise DataFormatError(str(path), "no such file", "Check the path") from None
    except OSError as e:
        raise DataFormatError(str(path), f"cannot be read ({e.strerror})") from None
    return "santos_duarte" if head.startswith("\t".join(SANTOS_DUARTE_HEADER[:3])) else "csv"


def _read_text(path) -> str:
    p = pathlib.Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataFormatError(str(path), "no such file", "Check the path") from None
    except UnicodeDecodeError:
        raise DataFormatError(str(path), "not a text file (binary content)") from None
    except OSError as e:
        raise DataFormatError(str(path), f"cannot be read ({e.strerror})") from None


def _numbers(path, text: str, skip: int, delimiter: str, n_cols: int) -> np.ndarray:
    try:
        data = np.loadtxt(io.StringIO(text), delimiter=delimiter, skiprows=skip, ndmin=2)
    except ValueError as e:
        raise DataFormatError(str(path), f"non-numeric or ragged data ({e})") from None
    if data.shape[0] == 0 or data.shape[1] != n_cols:
        raise DataFormatError(
            str(path),
            f"expected {n_cols} numeric columns, found "
            f"{data.shape[1] if data.size else 0} in {data.shape[0]} rows",
        )
    return data


def _median(v: np.ndarray) -> float:
    """``np.median`` of finite ``v``, same value, without its NaN check (which imports
    ``numpy.ma``: 20-40 ms of every ``analyze`` start)."""
    s = np.sort(v)
    m = s.size // 2
    return float(s[m] if s.size % 2 else (s[m - 1] + s[m]) / 2.0)


def _rate_from_time(path, t: np.ndarray) -> float:
    dt = np.diff(t)
    if dt.size == 0 or not (dt > 0).all():
        raise DataFormatError(str(path), "time column is not strictly increasing")
    fs = 1.0 / _median(dt)
    if np.max(np.abs(dt * fs - 1)) > 0.05:
        raise DataFormatError(
            str(path),
            "samples are not evenly spaced in time",
            "Resample the file to a fixed rate first",
        )
    return float(round(fs, 6))
