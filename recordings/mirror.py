"""A local copy of a trial being recorded on the clinic's server, so a server outage loses nothing.

While a station records into the clinic's PostgreSQL server, the recorder writes every commit
into the station's own SQLite file first (the same chunks, events and sequence numbers), then to
the server. If the server goes away mid-trial (restart, network cut), the recorder carries on
into the local copy only, and says so; the trial is complete there, under the same stable id
(``uid``) as the part the server holds. ``nmr-balance push`` later completes the server's copy
(:mod:`recordings.push`). When the trial finishes on the server as planned, the local copy is
removed again: the server is the record.

Local writes cost little next to the server's (an SQLite commit of a few kB every 0.25 s).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from nmr_balance.stream import SampleBlock, StreamInfo
from recordings.store import Store


def ensure_uid(store: Store, table: str, row_id: int) -> str:
    """The stable id of row ``row_id`` of ``table`` (``trials`` or ``sessions``), set if new."""
    uid = store._q(f"SELECT uid FROM {table} WHERE id = ?", (row_id,))[0][0]
    if uid:
        return uid
    with store.transaction():
        store._q(
            f"UPDATE {table} SET uid = ? WHERE id = ? AND uid IS NULL", (uuid.uuid4().hex, row_id)
        )
    return store._q(f"SELECT uid FROM {table} WHERE id = ?", (row_id,))[0][0]


class LocalMirror:
    """The station-side copy of one trial recorded on ``server``.

    Parameters
    ----------
    path : path-like
        The station's own SQLite file (created owner-only if new).
    server : Store
        The clinic's server, where the trial is being recorded.
    session_id : int
        The trial's session on the server; it is copied (with its patient's code and stable id)
        into the local file so the local trial belongs to the same visit.
    """

    def __init__(self, path: str | Path, server: Store, session_id: int):
        self.store = Store.open(path, recover=False)
        self.path = self.store.path
        session = server.session(session_id)
        patient = server.patient(session.patient_id)
        self._session_uid = ensure_uid(server, "sessions", session_id)
        # Find-or-copy in one write transaction: two recorders of this station may start
        # together in the same session.
        with self.store.transaction():
            found = self.store._q("SELECT id FROM sessions WHERE uid = ?", (self._session_uid,))
            local_patient, _ = self.store.ensure_patient(patient.code)
            if found:
                self.session_id = found[0][0]
            else:
                self.session_id = self.store.start_session(
                    local_patient.code,
                    therapist=session.therapist,
                    station=session.station,
                    started=session.started,
                ).id
                self.store._q(
                    "UPDATE sessions SET uid = ? WHERE id = ?", (self._session_uid, self.session_id)
                )
        self._created_session = not found
        self.trial_id: int | None = None
        self._lock = None

    def begin(
        self,
        uid: str,
        raw_info: StreamInfo,
        info: StreamInfo,
        *,
        protocol: str,
        condition,
        parameters: dict[str, Any],
        source_url: str,
    ) -> None:
        """Create the local trial under the server trial's ``uid`` and hold its lock."""
        with self.store.transaction():
            self.trial_id = self.store.begin_trial(
                self.session_id,
                raw_info,
                info,
                protocol=protocol,
                condition=condition,
                parameters=parameters,
                source_url=source_url,
            )
            self.store._q("UPDATE trials SET uid = ? WHERE id = ?", (uid, self.trial_id))
            self._lock = self.store.claim_trial(self.trial_id)

    def write(
        self, chunks: list[tuple[int, int, SampleBlock]], events: list[tuple[float, str, dict]]
    ) -> None:
        """Commit ``(stream, seq, block)`` chunks and ``(t, kind, payload)`` events."""
        with self.store.transaction():
            for stream, seq, block in chunks:
                self.store.append_chunk(self.trial_id, stream, seq, block)
            for t, kind, payload in events:
                self.store.add_event(self.trial_id, t, kind, payload)

    def finish(self, status: str, metrics: dict[str, Any]) -> None:
        self.store.finish_trial(self.trial_id, status, metrics)

    def discard(self) -> None:
        """Remove the local copy: the server holds the whole trial."""
        with self.store.transaction():
            for table in ("chunks", "events"):
                self.store._q(f"DELETE FROM {table} WHERE trial_id = ?", (self.trial_id,))
            self.store._q("DELETE FROM trials WHERE id = ?", (self.trial_id,))
            if self._created_session and not self.store.trials(session=self.session_id):
                self.store._q("DELETE FROM sessions WHERE id = ?", (self.session_id,))

    def close(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self.store.close()
