"""The signed record: signing fixes a visit's note, locks the session, and addenda follow it.

Run on both engines (an SQLite file and a real PostgreSQL database, ``store_target``): the
store runs the same SQL on both, and the lock must hold on both, also against another process
(``test_signing_and_a_new_trial_in_two_processes_never_overlap``).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap

import pytest

from nmr_balance.errors import InvalidParameterError, SessionSignedError, SigningError
from nmr_balance.reporting import documentation_note
from nmr_balance.reporting.signature import signed_line, verification_line
from recordings import Store, signing
from recordings.report_data import session_report
from tests._recordings_util import plate_info, plate_samples, processed_of, store_trial


def _recorded(db) -> tuple[Store, int, int]:
    """A store with one ended session (one finished trial with a note); its ids."""
    store = Store.open(db)
    info = plate_info()
    raw = plate_samples(300)
    tid = store_trial(store, raw, processed_of(raw), info, patient="P001")
    store.set_trial_notes(tid, "Pt reports mild dizziness at 2 s")
    sid = store.trial(tid).session_id
    store.end_session(sid, pain_after=2, borg_after=11)
    return store, sid, tid


def _snapshot(store: Store, sid: int) -> tuple:
    """Everything a signed session's record is: its row, its trials' rows, events and chunks."""
    session = store._q("SELECT * FROM sessions WHERE id = ?", (sid,))
    trials = store._q("SELECT * FROM trials WHERE session_id = ? ORDER BY id", (sid,))
    ids = tuple(r[0] for r in trials)
    n_events = n_chunks = 0
    for tid in ids:
        n_events += store._q("SELECT count(*) FROM events WHERE trial_id = ?", (tid,))[0][0]
        n_chunks += store._q("SELECT count(*) FROM chunks WHERE trial_id = ?", (tid,))[0][0]
    return (
        [tuple(r) for r in session],
        [tuple(r) for r in trials],
        n_events,
        n_chunks,
        store._q("SELECT count(*) FROM trials")[0][0],
    )


def test_signing_fixes_the_note_and_locks_every_write(store_target, tmp_path):
    store, sid, tid = _recorded(store_target)
    with store:
        shown = signing.note_to_sign(store, sid)
        assert "DRAFT" not in shown and "Pt reports mild dizziness at 2 s" in " ".join(
            shown.split()
        )
        sig = signing.sign_session(store, sid, "A. Smith, PT", shown=shown)
        assert sig.intact and sig.text == shown + signed_line("A. Smith, PT", sig.at) + "\n"
        assert store.session(sid).signed and store.session(sid).signed_by == "A. Smith, PT"
        assert signing.signature(store, sid) == sig
        before = _snapshot(store, sid)
        info = plate_info()
        attempts = {
            "begin_trial": lambda: store.begin_trial(sid, info, info),
            "set_trial_notes": lambda: store.set_trial_notes(tid, "changed"),
            "set_metrics": lambda: store.set_metrics(tid, {"mean_velocity": 1.0}),
            "update_session": lambda: store.update_session(sid, response="changed"),
            "end_session": lambda: store.end_session(sid, pain_after=9),
            "sign_again": lambda: signing.sign_session(store, sid, "B. Jones"),
        }
        for name, attempt in attempts.items():
            with pytest.raises(SessionSignedError) as e:
                attempt()
            message = str(e.value)
            assert f"session {sid} was signed by A. Smith, PT at " in message, name
            assert (
                " UTC" in message and f"nmr-balance addendum --session {sid} --by NAME" in message
            )
            assert _snapshot(store, sid) == before, f"{name} changed the signed record"
        # The note is the signed text, verbatim, then the verification line.
        note = documentation_note(session_report(store, sid))
        assert note.startswith(sig.text)
        assert note.rstrip("\n").endswith(verification_line(sig))
        assert "matches the signed text" in note and sig.sha256 in note
        # An import into the signed session is refused whole: not even a patient is added.
        from recordings.exchange import export_trial, import_file

        exported = export_trial(store, tid, tmp_path / "t.csv")
        with pytest.raises(SessionSignedError):
            import_file(store, exported, "P001", session_id=sid)
        assert _snapshot(store, sid) == before
    # Opening again (crash recovery runs) is not hindered by the lock, and changes nothing.
    with Store.open(store_target) as again:
        assert _snapshot(again, sid) == before


def test_only_an_ended_session_without_a_recording_trial_is_signed(store_target):
    with Store.open(store_target) as store:
        info = plate_info()
        store.ensure_patient("P002")
        sid = store.start_session("P002", therapist="T").id
        with pytest.raises(SigningError, match=f"session {sid} has not ended.*End it first"):
            signing.sign_session(store, sid, "A. Smith")
        with store.transaction():
            tid = store.begin_trial(sid, info, info)  # a trial still recording
            lock = store.claim_trial(tid)
        store.end_session(sid)
        with pytest.raises(SigningError, match=f"trial {tid} still recording"):
            signing.sign_session(store, sid, "A. Smith")
        lock.release()
        store.finish_trial(tid, "complete", {})
        with pytest.raises(InvalidParameterError, match="--by"):
            signing.sign_session(store, sid, "   ")
        shown = signing.note_to_sign(store, sid)
        store.set_trial_notes(tid, "added after the note was shown")
        with pytest.raises(SigningError, match="changed after its note was shown"):
            signing.sign_session(store, sid, "A. Smith", shown=shown)
        assert signing.signature(store, sid) is None
        assert signing.sign_session(store, sid, "A. Smith").intact


def test_addenda_are_dated_named_and_follow_the_signed_text(store_target):
    store, sid, _ = _recorded(store_target)
    with store:
        with pytest.raises(SigningError, match="not signed"):
            signing.add_addendum(store, sid, "B. Jones", "too early")
        sig = signing.sign_session(store, sid, "A. Smith")
        first = signing.add_addendum(store, sid, "B. Jones, PTA", "Pt called: dizziness resolved")
        second = signing.add_addendum(store, sid, "A. Smith", "Correction: foam pad was 10 cm")
        with pytest.raises(InvalidParameterError, match="--text"):
            signing.add_addendum(store, sid, "A. Smith", "  ")
        assert signing.addenda(store, sid) == (first, second)
        note = documentation_note(session_report(store, sid))
        i_signed = note.index(sig.text)
        i_first = note.index(f"Addendum by B. Jones, PTA, {first.at[:10]}")
        i_second = note.index("Correction: foam pad was 10 cm")
        assert i_signed < i_first < i_second < note.index(verification_line(sig))
        assert signing.signature(store, sid) == sig  # the signed text never changes


def test_a_changed_signed_note_is_said_loudly(tmp_path):
    db = tmp_path / "station.db"
    store, sid, _ = _recorded(db)
    with store:
        sig = signing.sign_session(store, sid, "A. Smith")
        # Someone edits the stored note behind the application's back.
        store._q(
            "UPDATE sessions SET signed_note = replace(signed_note, 'dizziness', 'nothing') "
            "WHERE id = ?",
            (sid,),
        )
        changed = signing.signature(store, sid)
        assert not changed.intact and changed.sha256 == sig.sha256
        note = documentation_note(session_report(store, sid))
        assert note.startswith("WARNING: THE SIGNED NOTE ON FILE WAS CHANGED AFTER SIGNING")
        assert "matches the signed text" not in note


_SIGNER = textwrap.dedent(
    """
    import json, sys, time
    sys.path[:0] = {paths!r}
    from recordings import Store, signing
    from nmr_balance.errors import NmrBalanceError
    from tests._recordings_util import plate_info
    db, role, go, sid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    store = Store.open(db, recover=False)
    info = plate_info()
    while not __import__("os").path.exists(go):
        time.sleep(0.001)
    time.sleep(float(sys.argv[5]))  # the trial comes a little later in later rounds
    try:
        if role == "sign":
            sig = signing.sign_session(store, sid, "A. Smith")
            print(json.dumps({{"ok": True, "at": sig.at}}))
        else:
            with store.transaction():
                tid = store.begin_trial(sid, info, info, status="complete")
            print(json.dumps({{"ok": True, "trial": tid}}))
    except NmrBalanceError as e:
        print(json.dumps({{"ok": False, "error": str(e), "kind": type(e).__name__}}))
    store.close()
    """
)


def test_signing_and_a_new_trial_in_two_processes_never_overlap(store_target, tmp_path):
    """One process signs while another adds a trial to the same session, several times: the
    signed note always covers exactly the session's trials (a trial is never inside a signed
    session after its signature), and the loser is told why."""
    store, _, _ = _recorded(store_target)
    script = tmp_path / "racer.py"
    script.write_text(_SIGNER.format(paths=sys.path))
    outcomes = set()
    with store:
        for round_ in range(4):
            store.ensure_patient(f"R{round_}")
            sid = store.start_session(f"R{round_}", therapist="T").id
            store.end_session(sid)
            go = tmp_path / f"go{round_}"
            procs = {
                role: subprocess.Popen(
                    [
                        sys.executable,
                        str(script),
                        str(store_target),
                        role,
                        str(go),
                        str(sid),
                        str(0.0 if role == "sign" else 0.02 * round_**2),
                    ],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for role in ("sign", "trial")
            }
            go.touch()
            results = {}
            for role, p in procs.items():
                out, err = p.communicate(timeout=120)
                assert p.returncode == 0, err
                results[role] = json.loads(out.strip().splitlines()[-1])
            sig = signing.signature(store, sid)
            assert results["sign"]["ok"] and sig is not None
            trials = store.trials(session=sid)
            if results["trial"]["ok"]:
                outcomes.add("trial first")
                assert [t.id for t in trials] == [results["trial"]["trial"]]
            else:
                outcomes.add("signature first")
                assert results["trial"]["kind"] == "SessionSignedError"
                assert f"session {sid} was signed by A. Smith" in results["trial"]["error"]
                assert trials == []
            # The signed text is the note of the session as it is: nothing slipped in after.
            body = signing.note_to_sign(store, sid)
            assert sig.text == body + signed_line("A. Smith", sig.at) + "\n"
    assert outcomes  # which one won is up to the scheduler; both are correct


def test_trials_pushed_to_a_signed_servers_session_keep_the_signature(tmp_path, pg_url):
    """A signed session goes to the server as it is, signature and addenda included; the note
    from the server ends with the same verification line."""
    from recordings.push import push

    station, sid, _ = _recorded(tmp_path / "station.db")
    with station, Store.open(pg_url) as server:
        sig = signing.sign_session(station, sid, "A. Smith")
        signing.add_addendum(station, sid, "B. Jones", "Pt called back")
        result = push(station, server)
        assert len(result.uploaded) == 1 and not result.conflicts
        server_sid = server.sessions()[0].id
        assert signing.signature(server, server_sid).text == sig.text
        assert [a.text for a in signing.addenda(server, server_sid)] == ["Pt called back"]
        local_note = documentation_note(session_report(station, sid))
        server_note = documentation_note(session_report(server, server_sid))
        assert local_note.splitlines()[-1] == server_note.splitlines()[-1]
        assert verification_line(sig) == server_note.splitlines()[-1]
        again = push(station, server)  # twice: nothing new
        assert len(again.already) == 1 and not again.conflicts
        assert len(signing.addenda(server, server_sid)) == 1
        # An addendum written later at the station follows on the next push.
        signing.add_addendum(station, sid, "A. Smith", "Second thought")
        push(station, server)
        assert [a.text for a in signing.addenda(server, server_sid)] == [
            "Pt called back",
            "Second thought",
        ]
        info = plate_info()
        with pytest.raises(SessionSignedError):
            server.begin_trial(server_sid, info, info)


def test_a_session_signed_after_its_push_sends_its_signature_next_time(tmp_path, pg_url):
    from recordings.push import push

    station, sid, _ = _recorded(tmp_path / "station.db")
    with station, Store.open(pg_url) as server:
        push(station, server)
        server_sid = server.sessions()[0].id
        assert signing.signature(server, server_sid) is None
        sig = signing.sign_session(station, sid, "A. Smith")
        result = push(station, server)
        assert not result.conflicts and result.signed == [
            station._q("SELECT uid FROM sessions WHERE id = ?", (sid,))[0][0]
        ]
        assert signing.signature(server, server_sid) == dataclasses.replace(
            sig, session_id=server_sid
        )
        # A server copy signed differently is a conflict; neither copy changes.
        server._q("UPDATE sessions SET signed_by = 'Someone else' WHERE id = ?", (server_sid,))
        result = push(station, server)
        assert result.conflicts and "signed" in result.conflicts[0][1]
        assert signing.signature(station, sid) == sig
