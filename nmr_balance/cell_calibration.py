"""Calibration files of raw-count load-cell boards (HX711, ADS131M04, AD7193...).

A board that prints raw ADC counts (``unit=counts`` in its source URL) needs, per cell, a gain,
an offset and a sign to turn counts into newtons; counts may rise or fall with load depending
on how a cell is wired. They are fitted from a calibration file of known loads, a TOML file
(format in ``docs/calibration.md``)::

    device = "DIY HX711 board #2"   # free text, optional
    unit = "kg"                     # unit of the known loads: kg or N
    cells = ["tr", "br", "tl", "bl"]  # optional: the cells the columns below are, in order

    [[point]]                       # one per known load: the load on each cell ...
    load = [0, 0, 0, 0]
    counts = [8388000, 8401200, 8391000, 8379000]   # ... and each cell's mean reading

:func:`load_calibration` reads, checks and fits it (:func:`dsp.cop.fit_cell_calibration`);
``nmr-balance calibrate FILE`` prints the fit; ``nmr-balance emulate --protocol csv --calibration FILE`` is such a board.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from dsp.cop import fit_cell_calibration
from nmr_balance.errors import ConfigError

#: Cell order of the four-cell front-end (Wii order: top right, bottom right, top left, ...).
CELLS = ("tr", "br", "tl", "bl")
G = 9.80665
#: A calibration file is a few lines; anything bigger is not one.
MAX_BYTES = 1 << 20


@dataclasses.dataclass(frozen=True)
class CellCalibration:
    """A fitted calibration, per cell in :data:`CELLS` order.

    Attributes
    ----------
    gain_n_per_count : tuple of float
        N per count; negative where the counts fall with load.
    offset_counts : tuple of float
        Reading at zero load, counts.
    residual_n : tuple of float
        RMS misfit of the calibration points, N.
    n_points : int
    device : str
    path : str
    """

    gain_n_per_count: tuple[float, ...]
    offset_counts: tuple[float, ...]
    residual_n: tuple[float, ...]
    n_points: int
    device: str
    path: str

    def geometry(self) -> dict[str, Any]:
        """The ``StreamInfo.geometry`` keys the load-cell front-end reads (JSON-serialisable)."""
        return {
            "cell_gain_n_per_count": list(self.gain_n_per_count),
            "cell_offset_counts": list(self.offset_counts),
            "calibration_file": self.path,
        }


def _numbers(value: Any, what: str, path: Path, n: int) -> list[float]:
    ok = isinstance(value, list) and len(value) == n
    ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if not ok or not all(math.isfinite(v) for v in value):
        raise ConfigError(
            f"{path}: {what} must be a list of {n} finite numbers; got {value!r}",
            "See docs/calibration.md for the file format",
        )
    return [float(v) for v in value]


def load_calibration(path: str | Path) -> CellCalibration:
    """Read, check and fit a calibration file; raise :class:`ConfigError` naming what is wrong."""
    path = Path(path).expanduser()
    hint = "See docs/calibration.md for the file format"
    if not path.is_file():
        raise ConfigError(f"no calibration file at {path}", "Check the calibration= path")
    if path.stat().st_size > MAX_BYTES:
        raise ConfigError(f"{path} is too big to be a calibration file", hint)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not a valid TOML file: {e}", hint) from None
    unknown = set(doc) - {"device", "unit", "cells", "point"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}", hint)
    unit = doc.get("unit")
    if unit not in ("kg", "N"):
        raise ConfigError(
            f'{path}: unit must be "kg" or "N" (of the known loads); got {unit!r}', hint
        )
    cells = doc.get("cells", list(CELLS))
    if not (isinstance(cells, list) and sorted(map(str, cells)) == sorted(CELLS)):
        raise ConfigError(
            f"{path}: cells must name {', '.join(CELLS)} once each; got {cells!r}", hint
        )
    points = doc.get("point", [])
    if not isinstance(points, list) or len(points) < 2:
        raise ConfigError(f"{path}: needs at least two [[point]] entries (known loads)", hint)
    loads, counts = [], []
    for i, p in enumerate(points, 1):
        if not isinstance(p, dict) or set(p) != {"load", "counts"}:
            raise ConfigError(f"{path}: [[point]] {i} must have exactly load and counts", hint)
        loads.append(_numbers(p["load"], f"[[point]] {i} load", path, 4))
        counts.append(_numbers(p["counts"], f"[[point]] {i} counts", path, 4))
    order = [cells.index(c) for c in CELLS]  # columns in CELLS order
    loads_n = np.array(loads)[:, order] * (G if unit == "kg" else 1.0)
    try:
        gain, offset, residual = fit_cell_calibration(loads_n, np.array(counts)[:, order])
    except ValueError as e:
        text = str(e)
        for c, name in enumerate(CELLS):
            text = text.replace(f"cell {c}:", f"cell {name}:")
        raise ConfigError(f"{path}: {text}", hint) from None
    return CellCalibration(
        tuple(gain.tolist()),
        tuple(offset.tolist()),
        tuple(residual.tolist()),
        len(points),
        str(doc.get("device", "")),
        str(path),
    )
