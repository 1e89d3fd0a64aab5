"""The recordings store: one SQLite database per station, or the clinic's PostgreSQL server.

Usage::

    from recordings import Store, Condition

    with Store.open() as store:                      # default location, or Store.open("x.db"),
                                                     # or Store.open("postgresql://station@db/nmr")
        patient = store.add_patient("P001", birth_year=1950)
        session = store.start_session(patient.code, therapist="AB", pain_before=2)
        ...                                          # a Recorder records trials into it
        for trial in store.trials(patient="P001"):
            data = store.load_trial(trial.id)        # samples, infos, events, metrics

Thread-safe: one connection guarded by a lock (a :class:`Recorder` opens its own). Several
processes may use the same database: writers queue (WAL, busy timeout) and a long wait gives a
clear :class:`StorageError`. Opening a database marks the trials whose recorder died
(``kill -9``, crash, power cut) ``interrupted``; everything they committed stays replayable.

The same SQL runs on both engines (``?`` placeholders, ``RETURNING``, no engine-specific
functions); what differs (connecting, the schema's dialect, recording locks, integrity checks)
is in :mod:`recordings._db` (SQLite) and :mod:`recordings._pg` (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from nmr_balance.errors import (
    CorruptDatabaseError,
    InvalidParameterError,
    SessionSignedError,
    StorageError,
)
from nmr_balance.record import now_iso
from nmr_balance.stream import SampleBlock, StreamInfo
from recordings import _db, _pg, chunks, schema
from recordings._db import station_db
from recordings.metrics import trial_metrics
from recordings.model import (
    Condition,
    Patient,
    Session,
    Trial,
    TrialData,
    TrialEvent,
    TrialStatus,
)
from recordings.rows import RANGES, check_code, check_range, dumps, from_row

RAW, PROCESSED = 0, 1
_PATIENT_FIELDS = ("name", "birth_year", "sex", "height_cm", "weight_kg", "foot_length_cm", "notes")
#: Session fields a caller may set after the start (the console's documentation step): every
#: field of the core Session but its identity and times.
SESSION_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(Session)
    if f.name not in ("id", "patient_id", "started", "ended", "signed_by", "signed_at")
)


def unknown_session(session_id: int) -> InvalidParameterError:
    """The error for a session id the database does not hold (says how to list them)."""
    return InvalidParameterError(
        "session", session_id, "a known session id (`nmr-balance sessions` lists them)"
    )


class Store:
    """An open station database. Create with :meth:`open`; close (or use ``with``) when done."""

    def __init__(self, path: Path | str, conn, read_only: bool = False):
        #: The SQLite file (a Path) or the server's URL (a str, without password).
        self.path = path
        self._conn = conn
        self._mutex = threading.RLock()
        self.read_only = read_only

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        create: bool = True,
        recover: bool = True,
        read_only: bool = False,
    ) -> Store:
        """Open (or create, owner-only) the database at ``path`` (default: :func:`~recordings._db.station_db`).

        ``recover``: close trials left ``recording`` by a dead recorder (see
        :meth:`recover_interrupted`). ``read_only``: this store only reads (the dashboard's
        console, while the engine process writes; see ``docs/recordings.md``): no creation, no
        recovery, and every write raises :class:`StorageError`.

        Raises :class:`CorruptDatabaseError` for a file that is not ours or is damaged (it is
        left untouched) and :class:`StorageError` when it cannot be opened.
        """
        path = station_db(path)
        if _pg.is_url(path):
            conn = _pg.PgConnection(path, read_only=read_only)
            try:
                if read_only:  # a reader never changes the schema: it must be current
                    conn.check_version(schema.MIGRATIONS, schema.APPLICATION_ID)
                else:
                    conn.migrate(schema.MIGRATIONS, schema.APPLICATION_ID)
            except BaseException:
                conn.close()
                raise
            store = cls(_pg.redact(path), conn, read_only)
            store._url = path
        else:
            path = Path(path).expanduser()
            conn = _db.SqliteConnection(path, create=create, read_only=read_only)
            store = cls(path, conn, read_only)
        if recover and not store.read_only:
            store.recover_interrupted()
        return store

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- low level ---------------------------------------------------------------------------
    @property
    def location(self) -> str | Path:
        """What :meth:`open` takes to open this database again (path or URL)."""
        return getattr(self, "_url", self.path)

    @property
    def is_server(self) -> bool:
        """True on the clinic's PostgreSQL server, False on a station's SQLite file."""
        return isinstance(self._conn, _pg.PgConnection)

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._mutex:
            if self._conn is None:
                raise StorageError(f"{self.path} is closed", "Open the store again")
            return self._conn.execute(sql, args)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Store]:
        """Group writes: all of them are committed together, or none (on an exception)."""
        with self._mutex:
            if self._conn is not None and self._conn.in_transaction:
                yield self  # nested: the outer transaction commits
                return
            if self.read_only:
                raise StorageError(
                    f"this connection to {self.path} only reads: while the dashboard runs, the "
                    "engine process is the station database's one writer",
                    "Send the engine a command (nmr_balance.engine.messages) to change the record",
                )
            self._conn.begin()
            try:
                yield self
            except BaseException:
                with contextlib.suppress(Exception):
                    self._conn.execute("ROLLBACK")
                raise
            try:
                self._q("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    self._conn.execute("ROLLBACK")
                raise

    def check(self) -> list[str]:
        """Run the engine's integrity check; an empty list means the database is sound."""
        with self._mutex:
            return self._conn.integrity_problems()

    # --- patients ----------------------------------------------------------------------------
    def add_patient(self, code: str, **fields: Any) -> Patient:
        """Add a patient under the pseudonymous ``code`` (fields: see :class:`Patient`)."""
        code = check_code(code)
        unknown = set(fields) - set(_PATIENT_FIELDS)
        if unknown:
            raise InvalidParameterError(min(unknown), "", "one of " + ", ".join(_PATIENT_FIELDS))
        if self._q("SELECT 1 FROM patients WHERE code = ?", (code,)):
            raise InvalidParameterError("code", code, "a code no other patient has")
        values = {k: fields.get(k) for k in _PATIENT_FIELDS}
        values["notes"] = values["notes"] or ""
        with self.transaction():
            self._q(
                f"INSERT INTO patients (code, {', '.join(_PATIENT_FIELDS)}, created) "
                f"VALUES (?, {', '.join('?' * len(_PATIENT_FIELDS))}, ?)",
                (code, *values.values(), now_iso()),
            )
        return self.patient(code)

    def patient(self, code_or_id: str | int) -> Patient:
        col = "id" if isinstance(code_or_id, int) else "code"
        rows = self._q(f"SELECT * FROM patients WHERE {col} = ?", (code_or_id,))
        if not rows:
            raise InvalidParameterError(
                "patient", code_or_id, "a known patient code (`nmr-balance patients` lists them)"
            )
        return from_row(Patient, rows[0])

    def patients(self) -> list[Patient]:
        return [from_row(Patient, r) for r in self._q("SELECT * FROM patients ORDER BY code")]

    def ensure_patient(self, code: str) -> tuple[Patient, bool]:
        """The patient with ``code``, added if new; the flag says whether it was added."""
        try:
            return self.patient(code), False
        except InvalidParameterError:
            return self.add_patient(code), True

    # --- sessions ----------------------------------------------------------------------------
    def start_session(
        self,
        patient: str | int,
        *,
        therapist: str = "",
        station: str = "",
        pain_before: float | None = None,
        borg_before: float | None = None,
        notes: str = "",
        started: str | None = None,
    ) -> Session:
        """Open a session (a visit) for ``patient`` (code or id). Pain 0-10, Borg 6-20."""
        check_range("pain_before", pain_before)
        check_range("borg_before", borg_before)
        pid = self.patient(patient).id
        with self.transaction():
            sid = self._q(
                "INSERT INTO sessions (patient_id, started, therapist, station, pain_before, "
                "borg_before, notes) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (pid, started or now_iso(), therapist, station, pain_before, borg_before, notes),
            )[0][0]
        return self.session(sid)

    def end_session(
        self,
        session_id: int,
        *,
        pain_after: float | None = None,
        borg_after: float | None = None,
        notes: str | None = None,
        ended: str | None = None,
    ) -> Session:
        """End a session (now, or at ``ended``, ISO 8601) with the patient's scores after it."""
        check_range("pain_after", pain_after)
        check_range("borg_after", borg_after)
        with self.transaction():
            self.check_unsigned(session_id)
            s = self.session(session_id)
            self._q(
                "UPDATE sessions SET ended = ?, pain_after = ?, borg_after = ?, notes = ? "
                "WHERE id = ?",
                (
                    ended or now_iso(),
                    pain_after,
                    borg_after,
                    s.notes if notes is None else notes,
                    session_id,
                ),
            )
        return self.session(session_id)

    def update_session(self, session_id: int, **fields: Any) -> Session:
        """Set documentation fields of a session (see :data:`SESSION_FIELDS`): pain 0-10 and
        Borg 6-20 before/after, the patient's response, notes, therapist, station, instruction
        time (s). Only the fields given change."""
        unknown = set(fields) - set(SESSION_FIELDS)
        if unknown:
            raise InvalidParameterError(min(unknown), "", "one of " + ", ".join(SESSION_FIELDS))
        for name in RANGES:
            if name in fields:
                check_range(name, fields[name])
        self.session(session_id)
        if fields:
            with self.transaction():
                self.check_unsigned(session_id)
                self._q(
                    f"UPDATE sessions SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                    (*fields.values(), session_id),
                )
        return self.session(session_id)

    def check_unsigned(self, session_id: int) -> None:
        """Refuse (:class:`SessionSignedError`) to change a signed session or its trials.

        Call it inside :meth:`transaction`, before the write: it also locks the session's row
        until the transaction ends (the no-op UPDATE takes PostgreSQL's row lock; SQLite's
        ``BEGIN IMMEDIATE`` already holds the file), so a signature (``recordings.signing``,
        which takes the same lock) can never slip in between the check and the write.
        """
        rows = self._q(
            "UPDATE sessions SET signed_at = signed_at WHERE id = ? RETURNING signed_by, signed_at",
            (session_id,),
        )
        if not rows:
            raise unknown_session(session_id)
        if rows[0][1] is not None:
            raise SessionSignedError(session_id, rows[0][0], rows[0][1])

    def sign_session(self, session_id: int, by: str, **options: Any):
        """Sign the session's note: :func:`recordings.signing.sign_session` (for the engine)."""
        from recordings import signing

        return signing.sign_session(self, session_id, by, **options)

    def session(self, session_id: int) -> Session:
        rows = self._q("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if not rows:
            raise unknown_session(session_id)
        return from_row(Session, rows[0])

    def sessions(self, patient: str | int | None = None) -> list[Session]:
        if patient is None:
            rows = self._q("SELECT * FROM sessions ORDER BY started, id")
        else:
            rows = self._q(
                "SELECT * FROM sessions WHERE patient_id = ? ORDER BY started, id",
                (self.patient(patient).id,),
            )
        return [from_row(Session, r) for r in rows]

    # --- trials ------------------------------------------------------------------------------
    def begin_trial(
        self,
        session_id: int,
        raw_info: StreamInfo,
        info: StreamInfo,
        *,
        protocol: str = "free",
        condition: Condition | None = None,
        parameters: dict | None = None,
        source_url: str = "",
        status: TrialStatus = TrialStatus.RECORDING,
        started: str | None = None,
    ) -> int:
        """Add a trial row (status ``recording`` unless told) and return its id.

        A recorder must hold the trial's lock (:meth:`claim_trial`) before it commits, so that
        other processes do not take it for interrupted; use it inside :meth:`transaction`.
        A signed session takes no more trials (:class:`SessionSignedError`).
        """
        c = condition or Condition()
        with self.transaction():
            self.check_unsigned(session_id)  # also: the session exists
            return self._q(
                "INSERT INTO trials (session_id, protocol, vision, surface, stance, parameters, "
                "source_url, raw_info, info, started, status) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "RETURNING id",
                (
                    session_id,
                    protocol,
                    c.vision,
                    c.surface,
                    c.stance,
                    dumps(parameters or {}),
                    source_url or raw_info.source,
                    dumps(raw_info.to_dict()),
                    dumps(info.to_dict()),
                    started or now_iso(),
                    TrialStatus.parse(status).value,
                ),
            )[0][0]

    def claim_trial(self, trial_id: int):
        """Take the recording lock of ``trial_id`` (released by the recorder when it is done).

        On SQLite a lock file beside the database, on PostgreSQL an advisory lock of this
        store's connection: either way it dies with the recording process.
        """
        with self._mutex:
            return self._conn.claim_trial(trial_id)

    def append_chunk(self, trial_id: int, stream: int, seq: int, block: SampleBlock) -> None:
        """Store ``block`` as chunk ``seq`` of ``stream`` (RAW or PROCESSED); not committed."""
        if len(block) == 0:
            return
        payload = chunks.encode(block)
        self._q(
            "INSERT INTO chunks (trial_id, stream, seq, first_counter, n, t_first_ns, "
            "t_last_ns, n_channels, payload, crc32) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                trial_id,
                stream,
                seq,
                int(block.counter[0]),
                len(block),
                int(block.t_host_ns[0]),
                int(block.t_host_ns[-1]),
                block.n_channels,
                payload,
                chunks.crc32(payload),
            ),
        )

    def add_event(self, trial_id: int, t: float, kind: str, payload: dict | None = None) -> None:
        """Log an event ``t`` s after the trial's start (not committed: use a transaction)."""
        self._q(
            "INSERT INTO events (trial_id, t, kind, payload) VALUES (?, ?, ?, ?)",
            (trial_id, float(t), kind, dumps(payload or {})),
        )

    def finish_trial(
        self,
        trial_id: int,
        status: TrialStatus | str,
        metrics: dict | None = None,
        ended: str | None = None,
    ) -> None:
        """Close a trial as ``complete``, ``aborted`` or ``interrupted`` with its metrics."""
        status = TrialStatus.parse(status)
        if status is TrialStatus.RECORDING:
            raise InvalidParameterError("status", status, "complete, aborted or interrupted")
        cues = [e.payload.get("text", "") for e in self.events(trial_id) if e.kind == "cue"]
        with self.transaction():
            self._q(
                "UPDATE trials SET status = ?, ended = ?, metrics = ?, cues = ? WHERE id = ?",
                (
                    status.value,
                    ended or now_iso(),
                    dumps(metrics or {}),
                    dumps(cues),
                    trial_id,
                ),
            )

    def set_trial_notes(self, trial_id: int, notes: str) -> None:
        with self.transaction():
            self.check_unsigned(self.trial(trial_id).session_id)
            self._q("UPDATE trials SET notes = ? WHERE id = ?", (notes, trial_id))

    def set_metrics(self, trial_id: int, metrics: dict) -> None:
        with self.transaction():
            self.check_unsigned(self.trial(trial_id).session_id)
            self._q("UPDATE trials SET metrics = ? WHERE id = ?", (dumps(metrics), trial_id))

    _TRIAL_SELECT = (
        "SELECT t.id, t.session_id, t.protocol, t.vision, t.surface, t.stance, "
        "t.parameters, t.source_url, t.raw_info, t.info, t.started, t.ended, "
        "t.status, t.metrics, t.cues, t.notes, p.code AS patient_code FROM trials t "
        "JOIN sessions s ON s.id = t.session_id JOIN patients p ON p.id = s.patient_id"
    )

    def _trialfrom_row(self, r) -> Trial:
        try:
            return from_row(
                Trial,
                r,
                condition=Condition(r["vision"], r["surface"], r["stance"]),
                parameters=json.loads(r["parameters"]),
                raw_info=StreamInfo.from_dict(json.loads(r["raw_info"])),
                info=StreamInfo.from_dict(json.loads(r["info"])),
                status=TrialStatus(r["status"]),
                metrics=json.loads(r["metrics"]),
                cues=json.loads(r["cues"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise CorruptDatabaseError(
                str(self.path), f"trial {r['id']} has a damaged description: {e}"
            ) from e

    def trial(self, trial_id: int) -> Trial:
        rows = self._q(self._TRIAL_SELECT + " WHERE t.id = ?", (int(trial_id),))
        if not rows:
            raise InvalidParameterError(
                "trial", trial_id, "a known trial id (`nmr-balance trials` lists them)"
            )
        return self._trialfrom_row(rows[0])

    def trials(
        self,
        *,
        session: int | None = None,
        patient: str | int | None = None,
        status: str | None = None,
    ) -> list[Trial]:
        """Trials, oldest first, optionally only one session's, patient's or status's."""
        where, args = [], []
        if session is not None:
            where.append("t.session_id = ?")
            args.append(session)
        if patient is not None:
            where.append("s.patient_id = ?")
            args.append(self.patient(patient).id)
        if status is not None:
            where.append("t.status = ?")
            args.append(TrialStatus.parse(status).value)
        sql = self._TRIAL_SELECT + (" WHERE " + " AND ".join(where) if where else "")
        return [self._trialfrom_row(r) for r in self._q(sql + " ORDER BY t.id", tuple(args))]

    def events(self, trial_id: int) -> list[TrialEvent]:
        rows = self._q(
            "SELECT t, kind, payload FROM events WHERE trial_id = ? ORDER BY t, id", (trial_id,)
        )
        return [TrialEvent(r["t"], r["kind"], json.loads(r["payload"])) for r in rows]

    # --- samples -----------------------------------------------------------------------------
    def chunk_index(self, trial_id: int, stream: int) -> np.ndarray:
        """Per chunk: ``seq, n, first_counter, t_first_ns, t_last_ns`` (int64, (n_chunks, 5))."""
        rows = self._q(
            "SELECT seq, n, first_counter, t_first_ns, t_last_ns FROM chunks WHERE trial_id = ? "
            "AND stream = ? ORDER BY seq",
            (trial_id, stream),
        )
        return np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 5)

    def read_chunks(
        self, trial_id: int, stream: int, first_seq: int = 0, max_chunks: int | None = None
    ) -> list[SampleBlock]:
        """Chunks ``first_seq``... of a stream, decoded and checked against their CRC."""
        rows = self._q(
            "SELECT seq, n, n_channels, payload, crc32 FROM chunks WHERE trial_id = ? "
            "AND stream = ? AND seq >= ? ORDER BY seq" + ("" if max_chunks is None else " LIMIT ?"),
            (trial_id, stream, first_seq) + (() if max_chunks is None else (max_chunks,)),
        )
        blocks = []
        for seq, n, n_channels, payload, crc in rows:
            if crc is not None and chunks.crc32(payload) != crc:
                raise CorruptDatabaseError(
                    str(self.path),
                    f"trial {trial_id} chunk {seq} fails its checksum",
                    "Export what is intact, then restore the database from a backup",
                )
            try:
                blocks.append(chunks.decode(payload, n, n_channels))
            except ValueError as e:
                raise CorruptDatabaseError(
                    str(self.path), f"trial {trial_id} chunk {seq}: {e}"
                ) from e
        return blocks

    def samples(self, trial_id: int, stream: int) -> SampleBlock:
        info = self.trial(trial_id)
        n_channels = (info.raw_info if stream == RAW else info.info).n_channels
        return SampleBlock.concat(self.read_chunks(trial_id, stream), n_channels)

    def load_trial(self, trial_id: int) -> TrialData:
        """Everything about a trial: descriptions, raw and processed samples, events, metrics."""
        trial = self.trial(trial_id)
        return TrialData(
            raw_info=trial.raw_info,
            raw=self.samples(trial_id, RAW),
            info=trial.info,
            processed=self.samples(trial_id, PROCESSED),
            events=self.events(trial_id),
            metrics=trial.metrics,
            trial=trial,
        )

    # --- crash recovery ----------------------------------------------------------------------
    def recover_interrupted(self) -> list[int]:
        """Mark trials left ``recording`` by a dead recorder as ``interrupted``; return their ids.

        A trial whose recorder is alive (its lock is held, here or in another process) is left
        alone. The end time is the start plus the span of the committed raw samples; the metrics
        are computed from the committed processed samples.
        """
        found = []
        for trial_id, started in self._q(
            "SELECT id, started FROM trials WHERE status = 'recording'"
        ):
            if self._conn.owner_alive(trial_id):
                continue
            span = self._q(
                "SELECT min(t_first_ns), max(t_last_ns) FROM chunks WHERE "
                "trial_id = ? AND stream = ?",
                (trial_id, RAW),
            )[0]
            ended = started
            if span[0] is not None:
                start = datetime.datetime.fromisoformat(started)
                ended = (start + datetime.timedelta(seconds=(span[1] - span[0]) / 1e9)).isoformat(
                    timespec="milliseconds"
                )
            metrics = trial_metrics(self.samples(trial_id, PROCESSED), self.trial(trial_id).info)
            try:
                with self.transaction():
                    self._q(
                        "UPDATE trials SET status = 'interrupted', ended = ?, metrics = ? "
                        "WHERE id = ? AND status = 'recording'",
                        (ended, dumps(metrics), trial_id),
                    )
            except CorruptDatabaseError:
                raise
            except StorageError:
                return found  # full disk, read-only, busy: still readable; a later open retries
            self._conn.forget_trial_lock(trial_id)
            found.append(trial_id)
        return found
