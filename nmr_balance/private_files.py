"""Writing files that hold patient data: owner-only (0600), whole or not at all.

Every export and report goes through :func:`private_file` (a stream) or :func:`private_path` (a
temporary path, for libraries that write by file name such as ezc3d). Both write to a temporary
file in the target's folder (created 0600), let the caller check what was written, then rename
it over the target in one step. So a failed or interrupted write never leaves a partial or empty
file, and an overwritten file ends up 0600 even when the old one was readable by others.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from nmr_balance.errors import StorageError

#: A check of the finished temporary file (raise to refuse it); gets its path.
Check = Callable[[Path], None]


def _target(path: str | Path) -> Path:
    target = Path(path).expanduser()
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise StorageError(f"cannot write {target}: {e.strerror}", "Choose another file") from e
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise StorageError(f"cannot write {target}: it is {kind}", "Give the path of a file")
    if not target.parent.is_dir():
        raise StorageError(
            f"cannot write {target}: the folder {target.parent} does not exist",
            "Create the folder first, or choose one that exists",
        )
    return target


def _problem(e: OSError) -> str:
    return "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e))


@contextlib.contextmanager
def private_path(path: str | Path, suffix: str = "", check: Check | None = None) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; on success it becomes ``path``, 0600.

    Parameters
    ----------
    path : str or Path
        The file to create or replace (kept exactly as given: no suffix is added).
    suffix : str
        Ending of the temporary name (for writers that insist on one, e.g. ``".c3d"``).
    check : callable, optional
        Called with the temporary path once written; raising refuses the file.

    Raises
    ------
    StorageError
        The folder is missing or not writable, the disk is full, or the target is not a regular
        file. Nothing is left behind in any of these cases.
    """
    target = _target(path)
    try:
        fd, name = tempfile.mkstemp(
            dir=target.parent, prefix=f".{target.name[:40]}.", suffix=suffix
        )
    except OSError as e:
        raise StorageError(
            f"cannot write {target}: {_problem(e)}",
            "Free some space or choose a folder you can write to",
        ) from e
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if check is not None:
            check(tmp)
        os.chmod(tmp, 0o600)  # writers that create the file themselves use the umask
        os.replace(tmp, target)
    except OSError as e:
        raise StorageError(
            f"cannot write {target}: {_problem(e)}",
            "Free some space or choose a folder you can write to",
        ) from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def private_file(path: str | Path, mode: str = "w", check: Check | None = None) -> Iterator[IO]:
    """Open ``path`` for writing (``"w"``: UTF-8 text, or ``"wb"``) as :func:`private_path` does.

    The data reach the disk (``fsync``) before the rename. Raises :class:`StorageError` as
    :func:`private_path` does.
    """
    with private_path(path, check=check) as tmp:
        kwargs = {} if "b" in mode else {"encoding": "utf-8", "newline": ""}
        with open(tmp, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def write_private_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` (UTF-8, 0600, whole or not at all); return the path."""
    with private_file(path) as f:
        f.write(text)
    return Path(path).expanduser()
