"""Pushing a station's finished trials to the clinic's server, idempotently.

A station that records into its own SQLite file (offline, or by choice) uploads its finished
trials later with ``nmr-balance push --to postgresql://...``. Rules:

* **A trial has a stable id.** Each pushed trial (and its session) gets a ``uid`` (a random
  UUID) in the station's file the first time it is pushed; the server keeps it. A trial is
  matched on the server by that ``uid``, never by its row id (each database numbers its own).
* **Pushing twice changes nothing.** A trial already on the server with the same content (status,
  end, results, notes, events, and the CRC-32 of every sample chunk) is reported as already
  there and left alone.
* **A trial the server lost half-way is completed.** When a station lost the server mid-trial,
  it kept recording into its own file under the same ``uid`` (:mod:`recordings.mirror`); the
  server's copy is then ``interrupted`` (or still ``recording`` with no recorder alive) and holds
  a prefix of the station's chunks. Push appends the rest, the events the server lacks, and the
  station's status, end and results. Nothing the server holds is changed or removed.
* **A conflict is reported, never overwritten.** A trial on the server with the same ``uid``
  but different content (someone edited either copy) is listed with what differs; neither copy
  changes.
* **All or nothing per trial.** Each trial (with its session and patient, if new on the server,
  its events and its chunks) is written in one server transaction: a push cut off half-way
  leaves whole trials only, and the next push picks up the rest.
* **Patients stay pseudonymous.** The server gets the patient's code and the pseudonymous fields
  (:meth:`Patient.pseudonymised`), never the name, birth year or free-text notes kept at the
  station.
* Trials still being recorded are skipped (and counted); push them when they are finished.
* **A signed session goes as it is.** Its signature (signer, time, the note as signed, its
  SHA-256) travels with the session row, and its addenda follow, each once; a session signed
  after its trials were pushed gets its signature on the next push. A server copy signed
  differently, or holding trials the signed note does not cover, is a conflict; a trial whose
  session the server holds signed while this station's copy is not is a conflict too.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

from recordings.mirror import ensure_uid
from recordings.store import Store

_PSEUDONYMOUS = ("sex", "height_cm", "weight_kg", "foot_length_cm")


@dataclasses.dataclass
class PushResult:
    """What a push did, trial by trial (by ``uid``)."""

    uploaded: list[str] = dataclasses.field(default_factory=list)
    already: list[str] = dataclasses.field(default_factory=list)
    completed: list[str] = dataclasses.field(default_factory=list)
    conflicts: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    still_recording: int = 0
    #: Sessions (by ``uid``) whose signature reached the server in this push.
    signed: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        parts = [
            f"{len(self.uploaded)} trial(s) uploaded",
            f"{len(self.already)} already on the server",
        ]
        if self.completed:
            parts.append(f"{len(self.completed)} completed (the server had lost their end)")
        if self.conflicts:
            parts.append(f"{len(self.conflicts)} conflict(s), left as they are")
        if self.signed:
            parts.append(f"{len(self.signed)} signature(s) sent")
        if self.still_recording:
            parts.append(f"{self.still_recording} still recording (not pushed)")
        return ", ".join(parts)


def push(
    local: Store,
    server: Store,
    progress: Callable[[int, int], None] | None = None,
) -> PushResult:
    """Upload ``local``'s finished trials to ``server``; see the module's rules.

    Parameters
    ----------
    local, server : Store
        The station's database and the clinic's (any two stores work; the CLI pushes to a
        PostgreSQL server).
    progress : callable, optional
        Called as ``progress(done, total)`` after each trial.
    """
    result = PushResult()
    rows = local._q("SELECT id, status FROM trials ORDER BY id")
    finished = [tid for tid, status in rows if status != "recording"]
    result.still_recording = len(rows) - len(finished)
    for done, trial_id in enumerate(finished, 1):
        uid = ensure_uid(local, "trials", trial_id)
        found = server._q("SELECT id FROM trials WHERE uid = ?", (uid,))
        if found:
            mine, theirs = _fingerprint(local, trial_id), _fingerprint(server, found[0][0])
            difference = _difference(mine, theirs)
            if not difference:
                result.already.append(uid)
            elif _lost_its_end(server, found[0][0], mine, theirs):
                _complete_trial(local, server, trial_id, found[0][0], theirs)
                result.completed.append(uid)
            else:
                result.conflicts.append((uid, difference))
        else:
            refused = _signed_elsewhere(local, server, trial_id)
            if refused:
                result.conflicts.append((uid, refused))
            else:
                _copy_trial(local, server, trial_id)
                result.uploaded.append(uid)
        if progress is not None:
            progress(done, len(finished))
    _push_signatures(local, server, result)
    return result


_SIGNATURE = "signed_by, signed_at, signed_note, signed_sha256"


def _signed_elsewhere(local: Store, server: Store, trial_id: int) -> str:
    """Why a new trial cannot join its session on the server ("" when it can)."""
    uid, *mine = local._q(
        f"SELECT s.uid, {_SIGNATURE} FROM sessions s JOIN trials t ON t.session_id = s.id "
        "WHERE t.id = ?",
        (trial_id,),
    )[0]
    if uid is None:
        return ""
    found = server._q(f"SELECT {_SIGNATURE} FROM sessions WHERE uid = ?", (uid,))
    if not found or found[0][1] is None or tuple(found[0]) == tuple(mine):
        return ""
    return "the server's copy of its session is signed, and this trial is not in its note"


def _push_signatures(local: Store, server: Store, result: PushResult) -> None:
    """Send the signatures and addenda of signed sessions the server holds (see the rules)."""
    rows = local._q(
        f"SELECT id, uid, {_SIGNATURE} FROM sessions WHERE uid IS NOT NULL "
        "AND signed_at IS NOT NULL ORDER BY id"
    )
    for session_id, uid, *mine in rows:
        with server.transaction():
            found = server._q(f"SELECT id, {_SIGNATURE} FROM sessions WHERE uid = ?", (uid,))
            if not found:
                continue  # none of its trials is there yet
            server_id, *theirs = found[0]
            if theirs[1] is None:
                ours = {
                    r[0]
                    for r in local._q("SELECT uid FROM trials WHERE session_id = ?", (session_id,))
                }
                extra = [
                    r[0]
                    for r in server._q("SELECT uid FROM trials WHERE session_id = ?", (server_id,))
                    if r[0] not in ours
                ]
                if extra:
                    result.conflicts.append(
                        (
                            uid,
                            "the server's copy of the signed session holds trials its note "
                            "does not cover",
                        )
                    )
                    continue
                server._q(
                    "UPDATE sessions SET signed_by = ?, signed_at = ?, signed_note = ?, "
                    "signed_sha256 = ? WHERE id = ? AND signed_at IS NULL",
                    (*mine, server_id),
                )
                result.signed.append(uid)
            elif tuple(theirs) != tuple(mine):
                result.conflicts.append(
                    (uid, "the server's copy of the session is signed differently")
                )
                continue
            have = [
                tuple(r)
                for r in server._q(
                    "SELECT author, written, text FROM addenda WHERE session_id = ? ORDER BY id",
                    (server_id,),
                )
            ]
            for row in local._q(
                "SELECT author, written, text FROM addenda WHERE session_id = ? ORDER BY id",
                (session_id,),
            ):
                if tuple(row) in have:
                    have.remove(tuple(row))
                    continue
                server._q(
                    "INSERT INTO addenda (session_id, author, written, text) VALUES (?, ?, ?, ?)",
                    (server_id, *row),
                )


def _row(store: Store, table: str, where: str, args: tuple) -> list[dict]:
    columns = store._conn.columns(table)
    rows = store._q(f"SELECT {', '.join(columns)} FROM {table} WHERE {where}", args)
    return [dict(zip(columns, r, strict=True)) for r in rows]


def _insert(store: Store, table: str, values: dict, returning: bool = True) -> int | None:
    names = [n for n in values if n in set(store._conn.columns(table))]
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})" + (
        " RETURNING id" if returning else ""
    )
    rows = store._q(sql, tuple(values[n] for n in names))
    return rows[0][0] if returning else None


def _insert_many(store: Store, table: str, rows: list[dict], skip: str = "") -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in one batch."""
    if not rows:
        return
    known = set(store._conn.columns(table))
    names = [n for n in rows[0] if n in known and n != skip]
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    with store._mutex:
        store._conn.executemany(sql, [tuple(r[n] for n in names) for r in rows])


_COMPARED = ("status", "ended", "metrics", "notes", "cues", "protocol", "parameters")


def _fingerprint(store: Store, trial_id: int) -> dict:
    trial = _row(store, "trials", "id = ?", (trial_id,))[0]
    chunks = store._q(
        "SELECT stream, seq, n, crc32 FROM chunks WHERE trial_id = ? ORDER BY stream, seq",
        (trial_id,),
    )
    events = store._q(
        "SELECT t, kind, payload FROM events WHERE trial_id = ? ORDER BY t, id", (trial_id,)
    )
    return {
        **{k: trial[k] for k in _COMPARED},
        "chunks": [tuple(c) for c in chunks],
        "events": [(float(t), k, json.loads(p)) for t, k, p in events],
    }


def _difference(a: dict, b: dict) -> str:
    differ = [k for k in a if a[k] != b.get(k)]
    if not differ:
        return ""
    words = {"chunks": "samples", "metrics": "results"}
    return "the server's copy differs in " + ", ".join(words.get(k, k) for k in differ)


def _lost_its_end(server: Store, server_id: int, mine: dict, theirs: dict) -> bool:
    """True when the server's copy is the start of ours, cut off by an outage."""
    if theirs["status"] not in ("interrupted", "recording") or mine["status"] == "recording":
        return False
    if theirs["status"] == "recording" and server._conn.owner_alive(server_id):
        return False  # a recorder is still writing it
    ours = set(mine["chunks"])
    return all(c in ours for c in theirs["chunks"]) and len(theirs["chunks"]) < len(ours)


def _event_key(t, kind, payload) -> tuple:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return (float(t), kind, json.dumps(json.loads(text), sort_keys=True))


def _complete_trial(
    local: Store, server: Store, local_id: int, server_id: int, theirs: dict
) -> None:
    have_chunks = {(c[0], c[1]) for c in theirs["chunks"]}
    have_events = [_event_key(*e) for e in theirs["events"]]
    trial = _row(local, "trials", "id = ?", (local_id,))[0]
    with server.transaction():
        for chunk in _row(local, "chunks", "trial_id = ? ORDER BY stream, seq", (local_id,)):
            if (chunk["stream"], chunk["seq"]) not in have_chunks:
                _insert(server, "chunks", {**chunk, "trial_id": server_id}, returning=False)
        for event in _row(local, "events", "trial_id = ? ORDER BY id", (local_id,)):
            key = _event_key(event["t"], event["kind"], event["payload"])
            if key in have_events:
                have_events.remove(key)  # already there (each occurrence once)
                continue
            values = {k: v for k, v in event.items() if k != "id"}
            _insert(server, "events", {**values, "trial_id": server_id}, returning=False)
        server._q(
            "UPDATE trials SET status = ?, ended = ?, metrics = ?, cues = ?, notes = ? "
            "WHERE id = ?",
            (
                trial["status"],
                trial["ended"],
                trial["metrics"],
                trial["cues"],
                trial["notes"],
                server_id,
            ),
        )


def _copy_trial(local: Store, server: Store, trial_id: int) -> None:
    trial = _row(local, "trials", "id = ?", (trial_id,))[0]
    session = _row(local, "sessions", "id = ?", (trial["session_id"],))[0]
    patient = _row(local, "patients", "id = ?", (session["patient_id"],))[0]
    session_uid = ensure_uid(local, "sessions", session["id"])
    with server.transaction():
        found = server._q("SELECT id FROM patients WHERE code = ?", (patient["code"],))
        if found:
            patient_id = found[0][0]
        else:
            fields = {k: patient[k] for k in _PSEUDONYMOUS}
            patient_id = _insert(
                server,
                "patients",
                {"code": patient["code"], **fields, "notes": "", "created": patient["created"]},
            )
        found = server._q("SELECT id FROM sessions WHERE uid = ?", (session_uid,))
        if found:
            session_id = found[0][0]
        else:
            values = {k: v for k, v in session.items() if k != "id"}
            session_id = _insert(
                server, "sessions", {**values, "patient_id": patient_id, "uid": session_uid}
            )
        values = {k: v for k, v in trial.items() if k != "id"}
        new_id = _insert(server, "trials", {**values, "session_id": session_id})
        events = _row(local, "events", "trial_id = ? ORDER BY id", (trial_id,))
        _insert_many(server, "events", [{**e, "trial_id": new_id} for e in events], skip="id")
        chunks = _row(local, "chunks", "trial_id = ? ORDER BY stream, seq", (trial_id,))
        _insert_many(server, "chunks", [{**c, "trial_id": new_id} for c in chunks])
