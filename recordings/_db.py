"""Opening a station database safely, and turning SQLite failures into our typed errors.

* A new file is created owner-only (0600) *before* SQLite touches it; SQLite then gives its
  ``-wal`` and ``-shm`` side files the same permissions.
* An existing file is only written to once it is known to be ours (``application_id``); any
  other file, or a damaged one, raises :class:`CorruptDatabaseError` and is left untouched.
  We never open the database file ourselves: on POSIX, closing *any* descriptor of a file drops
  every lock the process holds on it, including SQLite's, which lets another process reset
  the WAL under a live writer. SQLite itself recognises files that are not databases.
* WAL journal with ``synchronous=FULL``: every commit is on disk when it returns, so a power cut
  loses at most the transaction in flight (the recorder commits at least once per second).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from nmr_balance.errors import CorruptDatabaseError, DiskFullError, StorageError
from recordings import _lock, schema

#: How long a writer waits for another process's transaction before giving up, s.
BUSY_TIMEOUT_S = 10.0

# SQLite primary result codes (sqlite3.h).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_NOTADB = 11, 13, 26


#: The environment variable that names the station database (a file or a postgresql:// URL).
DB_ENV = "NMR_BALANCE_DB"


def default_db_path() -> Path:
    """Where the station database lives unless ``--db`` or ``$NMR_BALANCE_DB`` say otherwise."""
    return Path(platformdirs.user_data_dir("nmr-balance", appauthor=False)) / "recordings.db"


def station_db(path: str | Path | None = None) -> str | Path:
    """The station database to open: ``path`` (``--db``) when given, else ``$NMR_BALANCE_DB``,
    else :func:`default_db_path`. Every process of a station resolves it here, so the engine
    that writes and the console that reads open the same one."""
    return path or os.environ.get(DB_ENV) or default_db_path()


def connect(path: Path, create: bool = True, read_only: bool = False) -> sqlite3.Connection:
    """Open (creating if allowed) the database at ``path``, validated and migrated.

    ``read_only``: a connection that only reads (``PRAGMA query_only``): the file must exist
    with the latest schema, and any write fails.
    """
    path = Path(path)
    create = create and not read_only
    if path.is_dir():
        raise CorruptDatabaseError(str(path), "it is a folder")
    if not path.exists():
        if not create:
            raise StorageError(
                f"no database at {path}",
                "Check the --db path, or record a trial first (it creates the database)",
            )
        _create_private(path)
    try:
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as e:
        raise translate(e, path) from e
    conn.row_factory = sqlite3.Row  # rows are read by column name, never by position
    try:
        with guard(path):
            _check_ours(conn, path, create)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            if read_only:
                _check_current(conn, path)
                conn.execute("PRAGMA query_only = ON")
            else:
                schema.migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _create_private(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago; validated like any existing file
    except OSError as e:
        raise StorageError(
            f"cannot create the database {path}: {e.strerror}",
            "Check that the folder is writable, or pick another with --db",
        ) from e
    os.close(fd)


def _check_ours(conn: sqlite3.Connection, path: Path, create: bool = True) -> None:
    # one statement, one snapshot: read one by one, a file another process is initialising
    # right now could look empty and then versioned, and be taken for another program's
    app_id, version, n_objects = conn.execute(
        "SELECT (SELECT application_id FROM pragma_application_id),"
        " (SELECT user_version FROM pragma_user_version),"
        " (SELECT count(*) FROM sqlite_master)"
    ).fetchone()
    if app_id == 0 and version == 0 and n_objects == 0:
        if not create:  # an empty file where a station database was expected: leave it be
            raise StorageError(
                f"{path} is not a station database (it is empty)",
                "Check the path; `nmr-balance trials --db PATH` opens a station database",
            )
        return  # empty: ours to initialise
    if app_id != schema.APPLICATION_ID:
        raise CorruptDatabaseError(
            str(path), f"an SQLite database of another program (application_id {app_id:#x})"
        )
    if version > schema.LATEST_VERSION:
        raise StorageError(
            f"{path} was written by a newer nmr-balance (schema {version}, this one knows up to "
            f"{schema.LATEST_VERSION})",
            "Update nmr-balance; the file was not changed",
        )


def _check_current(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version < schema.LATEST_VERSION:
        raise StorageError(
            f"{path} has schema {version}; this nmr-balance reads {schema.LATEST_VERSION}",
            "Open it once read-write (e.g. `nmr-balance patients --db FILE`) to update it",
        )


def translate(error: sqlite3.Error, path: Path) -> Exception:
    """Our typed error for an SQLite failure on the database at ``path``."""
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if code is not None else None
    text = str(error).lower()
    if primary == _SQLITE_FULL or "disk is full" in text:
        return DiskFullError(str(path))
    if primary == _SQLITE_NOTADB or "not a database" in text:
        return CorruptDatabaseError(str(path), "not an SQLite database")
    if primary == _SQLITE_CORRUPT or "malformed" in text:
        return CorruptDatabaseError(str(path), str(error))
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StorageError(
            f"{path} is busy: another program kept it locked for over {BUSY_TIMEOUT_S:g} s",
            "Close the other nmr-balance window or command that uses this database, then retry",
        )
    if primary == _SQLITE_READONLY:
        return StorageError(f"{path} is read-only", "Check the file's permissions or use --db")
    if primary == _SQLITE_IOERR:
        return StorageError(
            f"disk I/O error on {path} ({error})",
            "Check the disk (is it full, removed or failing?)",
        )
    return StorageError(f"database error on {path}: {error}")


@contextlib.contextmanager
def guard(path: Path) -> Iterator[None]:
    """Re-raise SQLite errors (and ENOSPC) inside the block as our typed errors."""
    try:
        yield
    except sqlite3.Error as e:
        raise translate(e, path) from e
    except OSError as e:
        if e.errno == 28:  # ENOSPC
            raise DiskFullError(str(path)) from e
        raise


class SqliteConnection:
    """The station's SQLite file with the surface the store uses (shared with ``_pg``).

    ``execute`` returns the rows; ``begin`` takes the write lock at once (``BEGIN IMMEDIATE``)
    so a transaction never fails half-way on another process's lock; recording locks are files
    beside the database (:mod:`recordings._lock`).
    """

    def __init__(self, path: Path, create: bool = True, read_only: bool = False):
        self.path = Path(path)
        self._conn = connect(self.path, create=create, read_only=read_only)

    def guard(self):
        return guard(self.path)

    def execute(self, sql: str, args: tuple = ()) -> list[tuple]:
        with guard(self.path):
            return self._conn.execute(sql, args).fetchall()

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        with guard(self.path):
            self._conn.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def begin(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def close(self) -> None:
        self._conn.close()

    def integrity_problems(self) -> list[str]:
        return [r[0] for r in self.execute("PRAGMA integrity_check") if r[0] != "ok"]

    def columns(self, table: str) -> list[str]:
        """The column names of ``table``, in order."""
        return [r[1] for r in self.execute(f"PRAGMA table_info({table})")]

    def claim_trial(self, trial_id: int) -> _lock.TrialLock:
        return _lock.TrialLock(self.path, trial_id)

    def owner_alive(self, trial_id: int) -> bool:
        return _lock.owner_alive(self.path, trial_id)

    def forget_trial_lock(self, trial_id: int) -> None:
        _lock.lock_path(self.path, trial_id).unlink(missing_ok=True)
