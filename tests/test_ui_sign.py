"""Signing from the console's end-of-session step: the engine (the one writer) signs the note
the therapist has just read, and the signed session is locked (real engine process, real
widgets, offscreen)."""

from __future__ import annotations

import queue

import pytest
from _helpers import console_on, run_cli

from nmr_balance.engine import messages as m
from nmr_balance.engine.loop import EngineLoop
from recordings import Store, signing

pytestmark = pytest.mark.timeout(180)


def _drain(replies) -> list:
    out = []
    while not replies.empty():
        out.append(replies.get())
    return out


def _end_and_review(qtbot, window, patient: str, therapist: str):
    """On the console: add ``patient``, start a session by ``therapist``, end it and review its
    note in the end-of-session step. The session id and that step's dialog."""
    with qtbot.waitSignal(window.engine.patient_added, timeout=60000):
        window.add_patient(patient)
    window.session_panel.therapist.setText(therapist)
    with qtbot.waitSignal(window.engine.session_started, timeout=10000):
        window.start_session(patient)
    session_id = window.session_id
    window.session_panel.end_button.click()
    dialog = window.end_dialog
    with qtbot.waitSignal(window.engine.session_ended, timeout=10000):
        dialog.review_button.click()
    return session_id, dialog


def test_the_engine_signs_what_was_shown_and_refuses_otherwise(tmp_path):
    with Store.open(tmp_path / "station.db") as store:
        store.add_patient("P001")
        sid = store.start_session("P001", therapist="A. Smith").id
        replies = queue.SimpleQueue()
        loop = EngineLoop(replies, lambda url: None, records=store)
        loop.handle(m.SignSession(sid, "A. Smith", "whatever"))
        (refused,) = _drain(replies)
        assert isinstance(refused, m.Error) and f"session {sid} has not ended" in refused.message
        loop.handle(m.EndSession(sid))
        _drain(replies)
        loop.handle(m.SignSession(sid, "A. Smith", "a note nobody was shown"))
        (refused,) = _drain(replies)
        assert (
            isinstance(refused, m.Error) and "changed after its note was shown" in refused.message
        )
        shown = signing.note_to_sign(store, sid)
        loop.handle(m.SignSession(sid, "A. Smith", shown))
        (signed,) = _drain(replies)
        sig = signing.signature(store, sid)
        assert signed == m.SessionSigned(sid, "A. Smith", sig.at, sig.sha256) and sig.intact
        loop.handle(m.EndSession(sid, pain_after=3))
        (locked,) = _drain(replies)
        assert isinstance(locked, m.Error) and f"session {sid} was signed by A. Smith" in str(
            locked.message
        )
        assert store.session(sid).pain_after is None


def test_sign_as_the_therapist_from_the_end_of_session_step(qtbot, tmp_path, artifacts_dir):
    db = tmp_path / "station.sqlite"
    with console_on(qtbot, db) as (window, store):
        sid, dialog = _end_and_review(qtbot, window, "P009", "A. Smith, PT")
        assert dialog.review.isVisible()
        assert "DRAFT" in dialog.note.toPlainText()
        assert dialog.sign_button.text() == "Sign as A. Smith, PT"
        assert dialog.sign_button.isEnabled()
        with qtbot.waitSignal(window.engine.session_signed, timeout=10000):
            dialog.sign_button.click()
        qtbot.waitUntil(
            lambda: "matches the signed text" in dialog.note.toPlainText(), timeout=5000
        )
        note = dialog.note.toPlainText()
        assert "DRAFT" not in note and "Signed by A. Smith, PT at " in note
        assert not dialog.sign_button.isEnabled() and not dialog.signer.isEnabled()
        assert "signed by A. Smith, PT" in dialog.status.text()
        assert store.session(sid).signed_by == "A. Smith, PT"
        dialog.grab().save(str(artifacts_dir / "end_session_signed.png"))
        # The signed session is locked: the engine refuses to change it, and says why.
        with qtbot.waitSignal(window.engine.failed, timeout=10000) as failed:
            window._record(m.EndSession(sid, pain_after=5))
        assert f"session {sid} was signed by A. Smith, PT" in failed.args[0].message
        assert store.session(sid).pain_after is None
        # Opening the step again shows the signed note at once: nothing to enter or sign.
        dialog.close()
        window.session_panel.end_button.click()
        again = window.end_dialog
        assert again is not dialog and again.review.isVisible() and not again.ask.isVisible()
        assert "matches the signed text" in again.note.toPlainText()
        assert not again.sign_button.isEnabled() and not again.back_button.isEnabled()


STATION_TOML = """
[clinic]
name = "Lakeside Physio"
provider_label = "Treating PT"

[billing]
units_rule = "ama_midpoint"
"""


def test_the_console_and_the_engine_word_the_note_with_the_station_config(
    qtbot, tmp_path, monkeypatch
):
    """The station's config (clinic, billing rule) words the note the console shows, the one
    the engine signs and the one `nmr-balance report` prints: one note, whoever makes it. A
    broken config is said, and nothing is worded or signed with defaults in its place."""
    config_home = tmp_path / "config"
    (config_home / "nmr-balance").mkdir(parents=True)
    config = config_home / "nmr-balance" / "station.toml"
    config.write_text(STATION_TOML, encoding="utf-8")
    # before the engine process is spawned: it reads the same file
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    db = tmp_path / "station.sqlite"
    with console_on(qtbot, db) as (window, store):
        sid, dialog = _end_and_review(qtbot, window, "P010", "B. Jones, PT")
        shown = dialog.note.toPlainText()
        assert "Treating PT: B. Jones, PT" in shown and "AMA/CPT midpoint rule" in shown
        with qtbot.waitSignal(window.engine.session_signed, timeout=10000):
            dialog.sign_button.click()
        signed = signing.signature(store, sid)
        assert "Treating PT: B. Jones, PT" in signed.text and "AMA/CPT midpoint" in signed.text
        dialog.close()
        # the command line reads the same file: its note is the signed one, verified
        out = run_cli("report", "--db", str(db), "--session", str(sid), "--note", "-")
        assert out.returncode == 0, out.stderr
        assert "Treating PT: B. Jones, PT" in out.stdout and "matches the signed text" in out.stdout
        # a broken file: the console says so instead of wording a note with the defaults
        config.write_text("[billing]\nunits_rule = 'per_visit'\n", encoding="utf-8")
        with qtbot.waitSignal(window.engine.session_started, timeout=10000):
            window.start_session("P010")
        window.session_panel.end_button.click()
        assert window.end_dialog is None or window.end_dialog.session_id != window.session_id
        assert "station config cannot be used" in window.messages[-1]
        assert "units_rule" in window.messages[-1]
        window.save_report()
        assert "station config cannot be used" in window.messages[-1]


def test_the_engine_refuses_to_sign_with_a_broken_station_config(tmp_path, monkeypatch):
    config_home = tmp_path / "config"
    (config_home / "nmr-balance").mkdir(parents=True)
    (config_home / "nmr-balance" / "station.toml").write_text("[clinic\n", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    with Store.open(tmp_path / "station.db") as store:
        store.add_patient("P001")
        sid = store.start_session("P001").id
        store.end_session(sid)
        replies = queue.SimpleQueue()
        loop = EngineLoop(replies, lambda url: None, records=store)
        loop.handle(m.SignSession(sid, "A. Smith", "the note"))
        (refused,) = _drain(replies)
        assert isinstance(refused, m.Error) and "station config cannot be used" in refused.message
        assert signing.signature(store, sid) is None
