"""Helpers for the driver tests: the emulator in a subprocess, reading a source for a while."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from drivers.emulator import spawned
from nmr_balance.stream import SampleBlock


@contextlib.contextmanager
def emulator(tmp_path: Path, protocol: str, *args: str, name: str = "tty"):
    """Start ``nmr-balance emulate`` in a subprocess (never a thread: DESIGN.md §10) on a pty
    reachable at ``tmp_path / name``; yield that path."""
    with spawned(tmp_path / name, protocol, *args) as link:
        yield link


def collect(src, seconds: float, poll_s: float = 0.1) -> SampleBlock:
    """Everything ``src`` delivers in ``seconds``, as one block."""
    blocks, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        block = src.read(poll_s)
        if len(block):
            blocks.append(block)
    return SampleBlock.concat(blocks, src.info.n_channels)
