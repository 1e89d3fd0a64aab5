"""Helpers for the driver tests: the emulator in a subprocess, and reading a source until
something has happened (a number of samples, a counter, the emulator's end of run).

Nothing here reads "for N seconds": on a busy machine a stream may be late, so a test waits for
what it needs and the time limits only stop a hang (they are not a speed check).
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from drivers.emulator import spawn, spawned, stop
from nmr_balance.stream import SampleBlock

#: Bound for waiting on a stream, s: a hang, not a slow machine, exceeds it.
HANG_S = 60.0


@contextlib.contextmanager
def emulator(tmp_path: Path, protocol: str, *args: str, name: str = "tty"):
    """Start ``nmr-balance emulate`` in a subprocess (never a thread: DESIGN.md §10) on a pty
    reachable at ``tmp_path / name``; yield that path once the emulator is ready (its first
    sample is computed, data follows at once)."""
    with spawned(tmp_path / name, protocol, *args) as link:
        yield link


@contextlib.contextmanager
def emulator_run(tmp_path: Path, protocol: str, *args: str, name: str = "tty"):
    """Like :func:`emulator` for a finite run (pass ``--duration``); yield ``(path, process)``
    for :func:`read_to_end`."""
    link = tmp_path / name
    proc = spawn(link, protocol, *args)
    try:
        yield link, proc
    finally:
        stop(proc)


def read_until(
    src, done: Callable[[SampleBlock], bool], timeout_s: float = HANG_S, what: str = ""
) -> SampleBlock:
    """Everything ``src`` delivers until ``done(all delivered so far)`` is true, as one block.

    Fails the test (instead of hanging) after ``timeout_s``.
    """
    blocks: list[SampleBlock] = []
    end = time.monotonic() + timeout_s
    while True:
        block = SampleBlock.concat(blocks, src.info.n_channels)
        if done(block):
            return block
        if time.monotonic() > end:
            raise AssertionError(
                f"{src.url}: {what or 'the awaited data'} did not arrive in {timeout_s:g} s "
                f"({len(block)} samples came)"
            )
        got = src.read(0.1)
        if len(got):
            blocks.append(got)


def read_samples(src, n: int, timeout_s: float = HANG_S) -> SampleBlock:
    """At least ``n`` samples from ``src`` (everything it delivered until then)."""
    return read_until(src, lambda b: len(b) >= n, timeout_s, f"{n} samples")


_REPORT = re.compile(r"sent (\d+) samples, (\d+) bytes, (\d+) disconnects")


def read_to_end(src, proc: subprocess.Popen, timeout_s: float = HANG_S) -> tuple[SampleBlock, dict]:
    """Everything ``src`` delivers until the emulator ``proc`` (a ``--duration`` run) has ended
    and ``src`` has seen its port close; and the emulator's own report.

    Returns
    -------
    block : SampleBlock
        All samples delivered since the last read.
    report : dict
        ``samples`` (how many the board produced, counters 0..samples-1), ``bytes`` written,
        ``disconnects`` (simulated unplugs).
    """
    blocks: list[SampleBlock] = []
    end = time.monotonic() + timeout_s

    def take(wait_s: float) -> None:
        got = src.read(wait_s)
        if len(got):
            blocks.append(got)

    while proc.poll() is None:
        assert time.monotonic() < end, f"the emulator did not finish in {timeout_s:g} s"
        take(0.1)
    stderr = proc.stderr.read().decode(errors="replace")
    found = _REPORT.search(stderr)
    assert found, f"the emulator did not report its run: {stderr[-2000:]}"
    report = dict(zip(("samples", "bytes", "disconnects"), map(int, found.groups())))
    # The source hears of the closed port after it has decoded every byte before it (the same
    # reader thread), so once it counted that last loss nothing more can arrive.
    while src.losses < report["disconnects"] + 1:
        assert time.monotonic() < end, "the source did not notice the end of the emulator's run"
        take(0.1)
    take(0)
    return SampleBlock.concat(blocks, src.info.n_channels), report
