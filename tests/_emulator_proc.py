"""Run ``nmr-balance emulate`` in a subprocess (never a thread: DESIGN.md §10) for tests."""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
from pathlib import Path


@contextlib.contextmanager
def emulator(tmp_path: Path, protocol: str, *args: str, name: str = "tty"):
    """Start the emulator on a pty reachable at ``tmp_path / name``; yield that path."""
    link = tmp_path / name
    cmd = [sys.executable, "-m", "nmr_balance.app.cli", "emulate", "--protocol", protocol,
           "--pty", "--link", str(link), *args]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=30):
            raise RuntimeError("emulator printed no pty path in 30 s: "
                               + proc.stderr.read1(4096).decode(errors="replace"))
        line = proc.stdout.readline().decode().strip()
        if line != str(link):
            raise RuntimeError(f"emulator said {line!r}, expected {link}: "
                               + proc.stderr.read1(4096).decode(errors="replace"))
        yield link
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
