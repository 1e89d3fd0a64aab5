"""Test-wide settings: offscreen Qt, a writable Numba cache, shared fixtures.

Shared helper functions live in ``_helpers.py`` (and the other ``_*`` helper modules): test
files import those, never this file or each other.
"""

from __future__ import annotations

import os
import pathlib

# Qt must know before any QApplication exists, or pytest-qt aborts without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(pathlib.Path(__file__).resolve().parents[1] / ".numba_cache")
)

import pytest
from _helpers import REPO


@pytest.fixture
def artifacts_dir() -> pathlib.Path:
    """Folder for files a person may want to look at after the run (screenshots, plots)."""
    path = REPO / "artifacts"
    path.mkdir(exist_ok=True)
    return path
