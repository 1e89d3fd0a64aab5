"""Values between the record and the database's rows, each checked or converted in one place.

- patient codes (:func:`check_code`): what may name a patient in files, exports and reports;
- ratings and stated times (:func:`check_range`, :data:`RANGES`): pain 0-10, Borg 6-20;
- JSON columns (:func:`dumps`): standard JSON only, NaN and infinities as ``null``;
- records from rows (:func:`from_row`), by column name.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np

from nmr_balance.errors import InvalidParameterError

#: Ratings and stated times a session may hold: name -> (lowest, highest) accepted.
RANGES = {
    "pain_before": (0, 10),
    "pain_after": (0, 10),
    "borg_before": (6, 20),
    "borg_after": (6, 20),
    "instruction_s": (0, 24 * 3600),
}


def from_row(cls, row, **override):
    """A record of ``cls`` from a row, by column name (extra columns are ignored)."""
    keys = row.keys()
    names = [f.name for f in dataclasses.fields(cls)]
    return cls(**{n: row[n] for n in names if n in keys and n not in override}, **override)


#: Patient codes: 1-64 letters, digits, ``.``, ``_``, ``-`` or inner spaces. They appear in file
#: names, CSV header lines, C3D strings (<= 255 bytes) and PDF titles, and must come back from
#: each exactly: no line separators (U+2028), no control characters, no quotes or slashes.
CODE_MAX = 64
_CODE_CHARS = re.compile(r"^[^\W_]([\w.\- ]*[\w.\-])?$")


def check_code(code: str) -> str:
    """``code`` stripped, if it is a valid patient code; else :class:`InvalidParameterError`."""
    code = (code or "").strip() if isinstance(code, str) else ""
    if not code or len(code) > CODE_MAX or not _CODE_CHARS.match(code) or not code.isprintable():
        raise InvalidParameterError(
            "code",
            (code[:40] + "...") if len(code) > 40 else code,
            f"a pseudonymous code of 1-{CODE_MAX} letters, digits, '.', '_', '-' "
            "or inner spaces, starting with a letter or digit (e.g. P001)",
        )
    return code


def _finite(value: Any) -> Any:
    """``value`` with every non-finite float made ``None`` (JSON has no NaN; SQLite refuses it)."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def dumps(value: Any) -> str:
    """JSON for the database: standard JSON only (NaN and infinities become ``null``)."""
    return json.dumps(_finite(value), allow_nan=False)


def check_range(name: str, value: float | None) -> None:
    """:class:`InvalidParameterError` unless ``value`` (None = not asked) is in ``RANGES[name]``."""
    lo, hi = RANGES[name]
    if value is not None and not (lo <= value <= hi):
        raise InvalidParameterError(name, value, f"a number from {lo:g} to {hi:g}")
