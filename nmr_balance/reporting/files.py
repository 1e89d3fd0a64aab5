"""Writing report files: owner-only (they hold health data), with errors that say what to do."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from nmr_balance.errors import StorageError


@contextlib.contextmanager
def open_private(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open ``path`` for writing (``"w"`` text UTF-8 or ``"wb"``), created 0600.

    Raises :class:`StorageError` when the folder is missing, not writable or the disk is full.
    """
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": ""})) as f:
            yield f
    except OSError as e:
        problem = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise StorageError(
            f"cannot write {path}: {problem}", "Free some space or choose a folder you can write to"
        ) from e


def write_private_text(path: str | Path, text: str) -> Path:
    with open_private(path) as f:
        f.write(text)
    return Path(path).expanduser()
