"""The database schema and its migrations.

The schema version lives in ``PRAGMA user_version``; ``PRAGMA application_id`` marks the file as
ours, so a database of another program is recognised and left alone. ``MIGRATIONS[i]`` takes a
database from version ``i`` to ``i + 1``; version 0 is an empty file. Never edit a migration that
has shipped: append a new one (tests migrate a database built at every earlier version).

Tables
------
patients  one row per person, identified by a pseudonymous ``code``.
sessions  a visit: date/time, therapist, station, pain (0-10) and exertion (Borg) before/after,
          the therapist's notes and the patient's response (their words), instruction time.
trials    one recording: protocol, condition, parameters, stream descriptions, status, metrics.
events    things that happened during a trial, at ``t`` seconds from its start.
addenda   dated notes added to a signed session by a named person (never edited or deleted).
chunks    the samples, raw (``stream`` 0) and processed (``stream`` 1), in arrival order: each
          chunk holds ``n`` samples as little-endian column arrays (see :mod:`recordings.chunks`).
"""

from __future__ import annotations

import sqlite3

from nmr_balance.record import TrialStatus

#: "NMRB": tells our databases apart from any other SQLite file.
APPLICATION_ID = 0x4E4D5242

#: Trial states (:class:`nmr_balance.record.TrialStatus`), as the CHECK constraint lists them.
TRIAL_STATUSES = tuple(s.value for s in TrialStatus)

_V1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT,
    birth_year INTEGER,
    sex TEXT,
    height_cm REAL,
    weight_kg REAL,
    foot_length_cm REAL,
    notes TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    started TEXT NOT NULL,
    ended TEXT,
    therapist TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL DEFAULT '',
    pain_before REAL CHECK (pain_before BETWEEN 0 AND 10),
    pain_after REAL CHECK (pain_after BETWEEN 0 AND 10),
    borg_before REAL CHECK (borg_before BETWEEN 0 AND 20),
    borg_after REAL CHECK (borg_after BETWEEN 0 AND 20),
    notes TEXT NOT NULL DEFAULT ''
);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    protocol TEXT NOT NULL DEFAULT 'free',
    vision TEXT NOT NULL DEFAULT '',
    surface TEXT NOT NULL DEFAULT '',
    stance TEXT NOT NULL DEFAULT '',
    parameters TEXT NOT NULL DEFAULT '{}',
    source_url TEXT NOT NULL DEFAULT '',
    raw_info TEXT NOT NULL,
    info TEXT NOT NULL,
    started TEXT NOT NULL,
    ended TEXT,
    status TEXT NOT NULL CHECK (status IN ('recording', 'complete', 'aborted', 'interrupted')),
    metrics TEXT NOT NULL DEFAULT '{}',
    cues TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT ''
);
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    t REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE chunks (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    stream INTEGER NOT NULL CHECK (stream IN (0, 1)),
    seq INTEGER NOT NULL,
    first_counter INTEGER NOT NULL,
    n INTEGER NOT NULL,
    t_first_ns INTEGER NOT NULL,
    t_last_ns INTEGER NOT NULL,
    n_channels INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (trial_id, stream, seq)
) WITHOUT ROWID;
"""

# v2: a CRC-32 per chunk (SQLite has no page checksums, so bit rot in a sample BLOB would
# otherwise replay silently), and indexes for the listings the UI asks for most.
_V2 = """
ALTER TABLE chunks ADD COLUMN crc32 INTEGER;
CREATE INDEX events_by_trial ON events (trial_id, t);
CREATE INDEX trials_by_session ON trials (session_id);
CREATE INDEX sessions_by_patient ON sessions (patient_id);
"""

# v3: what the documentation of a visit needs besides pain and Borg: the patient's response in the
# therapist's words, and the instruction time the therapist states (s; NULL = not stated).
_V3 = """
ALTER TABLE sessions ADD COLUMN response TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN instruction_s REAL CHECK (instruction_s >= 0);
"""

# v4: stable ids for pushing a station's trials to the clinic's server (recordings.push): set
# the first time a trial or session is pushed, kept by the server; NULLs are allowed many times.
_V4 = """
ALTER TABLE sessions ADD COLUMN uid TEXT;
ALTER TABLE trials ADD COLUMN uid TEXT;
CREATE UNIQUE INDEX sessions_by_uid ON sessions (uid);
CREATE UNIQUE INDEX trials_by_uid ON trials (uid);
"""

# v5: the signed record (recordings.signing). A signed session keeps who signed, when (UTC), the
# note exactly as signed and its SHA-256; the store then refuses every change to the session and
# its trials. Later changes are addenda: dated, by a named person, append-only.
_V5 = """
ALTER TABLE sessions ADD COLUMN signed_by TEXT;
ALTER TABLE sessions ADD COLUMN signed_at TEXT;
ALTER TABLE sessions ADD COLUMN signed_note TEXT;
ALTER TABLE sessions ADD COLUMN signed_sha256 TEXT;
CREATE TABLE addenda (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    author TEXT NOT NULL,
    written TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX addenda_by_session ON addenda (session_id, id);
"""

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5)
LATEST_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring ``conn``'s database from its ``user_version`` up to ``target``.

    Each step runs in one transaction together with the version bump, so a crash mid-migration
    leaves the previous version intact. Returns the version reached.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    while version < target:
        # executescript() would COMMIT first; run the statements inside our own transaction.
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Re-read under the write lock: another process may have migrated meanwhile.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version >= target:
                conn.execute("COMMIT")
                break
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version += 1
    return version


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (our scripts have no ';' inside literals)."""
    return [s.strip() for s in script.split(";") if s.strip()]
