"""The patient's measured Limits of Stability, kept between sessions so training can place its
targets at a % of the patient's own reach.

Stored as ``<user data dir>/nmr-balance/patients/<CODE>/los.json`` (owner-only, 0600: health
data). When the recordings store is available the app stores it with the LOS trial as well.
"""

from __future__ import annotations

import json
import os
import pathlib
import re

import platformdirs

from nmr_balance.errors import DataFormatError, InvalidParameterError
from nmr_balance.protocols.geometry import LosProfile

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _path(code: str, folder: pathlib.Path | None) -> pathlib.Path:
    if not _CODE.match(code) or ".." in code:
        raise InvalidParameterError(
            "patient",
            code,
            "a pseudonymous code of letters, digits, '-', '_' or '.' (at most 64 characters)",
        )
    base = (
        folder
        or pathlib.Path(platformdirs.user_data_dir("nmr-balance", appauthor=False)) / "patients"
    )
    return base / code / "los.json"


def save_los(code: str, los: LosProfile, folder: pathlib.Path | None = None) -> pathlib.Path:
    """Store a measured LOS for patient ``code``; returns the file written."""
    path = _path(code, folder)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(los.to_dict(), f, indent=1)
    os.replace(tmp, path)
    return path


def load_los(code: str, folder: pathlib.Path | None = None) -> LosProfile | None:
    """The stored LOS of patient ``code``, or None if none was measured.

    Raises DataFormatError for a damaged file (say which, and how to fix it).
    """
    path = _path(code, folder)
    if not path.exists():
        return None
    try:
        return LosProfile.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DataFormatError(
            str(path),
            f"not a readable LOS profile ({e})",
            "Measure it again (`nmr-balance run los`), or delete the file",
        ) from e
