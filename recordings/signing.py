"""Signing a visit's note, and the addenda written after it: the record a clinic bills from.

Rules (``docs/record-model.md``, "The signed record"):

* **Only an ended session is signed**, with no trial still recording, and only once.
* **Signing fixes the note.** The session keeps the signer's name, the time (UTC), the note's
  text exactly as signed and its SHA-256 (:class:`~nmr_balance.record.Signature`). The note is
  built *inside* the signing transaction, from the record as it is then, and the session's row
  stays locked until the signature is committed; every write to a session or its trials takes
  the same lock first (:meth:`Store.check_unsigned`), so no trial, note or field can change
  between the note being made and being signed, on SQLite or PostgreSQL.
* **A signed session is locked.** The store refuses new trials, trial notes, results and session
  fields (:class:`~nmr_balance.errors.SessionSignedError`, which says how to add an addendum).
  Crash recovery of a trial that was already finished is unaffected (a session with a trial
  still recording cannot be signed).
* **Addenda are append-only**: author, time (UTC) and text; there is no API to edit or delete
  one. They follow the signed text in the note and the PDF.

The hash proves the text on file is the text that was signed, against an accidental or careless
change (a restored backup of the wrong day, an edit in a database tool). It is not a
cryptographic signature of the person: whoever can rewrite the database can rewrite the hash;
the server's roles (``docs/clinic-server.md``) and its backups guard against that.
"""

from __future__ import annotations

from nmr_balance.errors import InvalidParameterError, SigningError
from nmr_balance.record import Addendum, Signature, note_sha256, now_iso
from nmr_balance.reporting.config import ReportConfig
from recordings.store import Store, unknown_session

#: The longest name a signer or an addendum's author may give (it is printed on every page).
NAME_MAX = 100


def _name(by: str, what: str) -> str:
    by = (by or "").strip()
    if not by or len(by) > NAME_MAX or not by.isprintable():
        raise InvalidParameterError(
            what, by, f"the name of the person, as the record should show it (1-{NAME_MAX} chars)"
        )
    return by


def signature(store: Store, session_id: int) -> Signature | None:
    """The signature of ``session_id``, or None when it is not signed."""
    rows = store._q(
        "SELECT signed_by, signed_at, signed_note, signed_sha256 FROM sessions WHERE id = ?",
        (session_id,),
    )
    if not rows:
        raise unknown_session(session_id)
    by, at, text, sha256 = rows[0]
    if at is None:
        return None
    return Signature(session_id, by, at, text or "", sha256 or "")


def addenda(store: Store, session_id: int) -> tuple[Addendum, ...]:
    """The addenda of ``session_id``, in the order they were written."""
    rows = store._q(
        "SELECT author, written, text FROM addenda WHERE session_id = ? ORDER BY id",
        (session_id,),
    )
    return tuple(Addendum(session_id, by, at, text) for by, at, text in rows)


def note_to_sign(store: Store, session_id: int, config: ReportConfig | None = None) -> str:
    """The note of ``session_id`` as it would be signed now (without the signature line)."""
    from nmr_balance.reporting.note import note_to_sign as wording
    from recordings.report_data import session_report

    return wording(session_report(store, session_id, config))


def sign_session(
    store: Store,
    session_id: int,
    by: str,
    *,
    config: ReportConfig | None = None,
    shown: str | None = None,
) -> Signature:
    """Sign the note of ``session_id`` as ``by``; return the signature.

    Parameters
    ----------
    store : Store
        A writable store (the engine's, while the dashboard runs).
    session_id : int
        An ended session with no trial still recording.
    by : str
        The signer's name, as the record shows it.
    config : ReportConfig, optional
        The station's report config (clinic, billing rule): the note is worded with it.
    shown : str, optional
        The note the signer read (:func:`note_to_sign`). When given, the signing is refused if
        the record changed since (the note made now differs): nobody signs what they did not
        read.

    Raises
    ------
    SessionSignedError
        It is signed already (the message says by whom and when).
    SigningError
        It has not ended, a trial is still recording, or the record changed since ``shown``.
    """
    from nmr_balance.reporting.note import note_to_sign as wording
    from nmr_balance.reporting.signature import signed_line
    from recordings.report_data import session_report

    by = _name(by, "--by")
    with store.transaction():
        store.check_unsigned(session_id)  # and hold the session until the signature is in
        session = store.session(session_id)
        if session.ended is None:
            raise SigningError(
                f"session {session_id} has not ended: only an ended session can be signed",
                "End it first (the console's End session step, or `nmr-balance sign --end`, "
                "which ends it at the end of its last trial)",
            )
        recording = [t.id for t in store.trials(session=session_id, status="recording")]
        if recording:
            raise SigningError(
                f"session {session_id} has trial {recording[0]} still recording",
                "Stop the trial first; if its recorder died, opening the database again marks "
                "it interrupted",
            )
        body = wording(session_report(store, session_id, config))
        if shown is not None and body != shown:
            raise SigningError(
                f"the record of session {session_id} changed after its note was shown",
                "Show the note again and sign what it says now",
            )
        at = now_iso()
        text = body + signed_line(by, at) + "\n"
        digest = note_sha256(text)
        store._q(
            "UPDATE sessions SET signed_by = ?, signed_at = ?, signed_note = ?, "
            "signed_sha256 = ? WHERE id = ?",
            (by, at, text, digest, session_id),
        )
    return Signature(session_id, by, at, text, digest)


def add_addendum(store: Store, session_id: int, by: str, text: str) -> Addendum:
    """Add a dated addendum by ``by`` to the signed session ``session_id``; return it.

    Addenda are for signed sessions: an unsigned session's record is still edited directly.
    """
    by = _name(by, "--by")
    text = (text or "").strip()
    if not text:
        raise InvalidParameterError("--text", "", "the addendum's text, in your words")
    with store.transaction():
        sig = signature(store, session_id)
        if sig is None:
            raise SigningError(
                f"session {session_id} is not signed: addenda are added to signed notes only",
                "Change the record directly (trial notes, the session's fields), or sign it "
                f"first: nmr-balance sign --session {session_id} --by NAME",
            )
        at = now_iso()
        store._q(
            "INSERT INTO addenda (session_id, author, written, text) VALUES (?, ?, ?, ?)",
            (session_id, by, at, text),
        )
    return Addendum(session_id, by, at, text)


__all__ = [
    "add_addendum",
    "addenda",
    "note_to_sign",
    "sign_session",
    "signature",
]
