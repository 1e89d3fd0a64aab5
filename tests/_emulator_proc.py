"""Run ``nmr-balance emulate`` in a subprocess (never a thread: DESIGN.md §10) for tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

from drivers.emulator import spawned


@contextlib.contextmanager
def emulator(tmp_path: Path, protocol: str, *args: str, name: str = "tty"):
    """Start the emulator on a pty reachable at ``tmp_path / name``; yield that path."""
    with spawned(tmp_path / name, protocol, *args) as link:
        yield link
