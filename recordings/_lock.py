"""Ownership of a trial being recorded: an OS file lock the recording process holds.

The operating system drops the lock when the process dies (kill -9, crash, power cut), so the
next :meth:`Store.open` can tell a trial that is still being recorded (by this or another
process) from one whose recorder is gone and mark only the latter ``interrupted``.
"""

from __future__ import annotations

import os
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False


def lock_path(db_path: Path, trial_id: int) -> Path:
    return db_path.with_name(f"{db_path.name}-trial{trial_id}.lock")


class TrialLock:
    """An exclusive lock on ``lock_path(db_path, trial_id)``; held until :meth:`release`."""

    def __init__(self, db_path: Path, trial_id: int):
        self.path = lock_path(db_path, trial_id)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(self._fd):
            os.close(self._fd)
            self._fd = None
            raise RuntimeError(f"trial {trial_id} is already being recorded")

    def release(self, remove: bool = True) -> None:
        if self._fd is None:
            return
        if remove:
            self.path.unlink(missing_ok=True)
        os.close(self._fd)
        self._fd = None


def owner_alive(db_path: Path, trial_id: int) -> bool:
    """True while some process holds the recording lock of ``trial_id``."""
    path = lock_path(db_path, trial_id)
    if not path.exists():
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        return not _try_lock(fd)
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got one
