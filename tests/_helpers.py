"""Helpers shared by many test files: repository paths and screenshot checks.

Test files never import each other (``test_layout.py`` checks it): what two of them share lives
here or in the other helper modules (``_driver_helpers``, ``_fake_bleak``, ``_recordings_util``,
``_report_util``, ``ui_store``, ``protocol_harness``, ``flaky_engine``).
"""

from __future__ import annotations

import pathlib

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(__file__).resolve().parent / "data"


def not_blank(image) -> float:
    """Pixel standard deviation of a QImage (0 for a blank, single-colour picture)."""
    ptr = image.convertToFormat(image.Format.Format_Grayscale8)
    arr = np.frombuffer(ptr.constBits(), np.uint8, ptr.sizeInBytes()).astype(float)
    return float(arr.std())


def save_shot(widget, path) -> None:
    """Save a PNG of ``widget`` for a person to look at; fail if it came out blank."""
    image = widget.grab().toImage()
    assert image.save(str(path))
    assert not_blank(image) > 10, f"{path.name} looks blank"
