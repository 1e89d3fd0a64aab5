"""One writer: the console (this process) and the engine (its own process) share one station
database, and saving a report from the console never damages it (issue 13, item 3).

The failure this guards against: the report's file dialog lists the folder that holds the
database, and Qt opens every listed file to sniff its type. On POSIX, closing *any* descriptor of
a file drops every lock the process holds on it, SQLite's included, so the engine process then
believed it was the last user of the database and checkpointed and deleted the write-ahead log
under the console's open connection; the console's next write went into the deleted log
("database disk image is malformed").
"""

from __future__ import annotations

import sqlite3

import pytest
from _helpers import console_on
from PySide6 import QtCore, QtWidgets

from nmr_balance.app.engine_process import run_engine
from nmr_balance.errors import StorageError
from recordings import PROCESSED, Store
from ui.dashboard import open_store

pytestmark = pytest.mark.timeout(180)


def _accept_save_dialog(path) -> None:
    """Type ``path`` into the open (Qt, not native) save dialog once it has listed its folder."""
    for w in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(w, QtWidgets.QFileDialog) and w.isVisible():
            w.selectFile(str(path))
            QtCore.QTimer.singleShot(1500, w.accept)  # let it list (and sniff) the folder
            return
    QtCore.QTimer.singleShot(100, lambda: _accept_save_dialog(path))


def _record_timed_trial(qtbot, window, seconds: int = 1, cue: tuple[str, str] | None = None) -> int:
    panel = window.session_panel
    panel.duration.setMinimum(1)
    panel.duration.setValue(seconds)
    with qtbot.waitSignal(window.engine.trial_started, timeout=20000):
        panel.start_button.click()
    with qtbot.waitSignal(window.engine.trial_stopped, timeout=30000) as stopped:
        if cue is not None:  # typed while the trial records
            panel.cue_type.setCurrentIndex(panel.cue_type.findData(cue[0]))
            panel.cue.setText(cue[1])
            qtbot.keyClick(panel.cue, QtCore.Qt.Key_Return)
    return stopped.args[0]


def test_report_from_the_console_then_record_again_keeps_every_write(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the report dialog opens where the database is
    db = tmp_path / "station.sqlite"
    with console_on(qtbot, db) as (window, store):  # as the dashboard opens it
        window.session_panel.countdown_s = 0.2
        window.session_panel.therapist.setText("AB")
        window.session_panel.station.setText("station 2")
        window.session_panel.pain_before.setValue(4)
        window.session_panel.borg_before.setValue(8)
        window.show()
        errors: list = []
        window.engine.failed.connect(errors.append)
        with qtbot.waitSignal(window.engine.ready, timeout=60000):
            window.connect_source("sim://?rate=100&sensor=cop")
        panel = window.session_panel
        panel.new_code.setText("P001")
        panel.add_button.click()
        qtbot.waitUntil(lambda: panel.patient_code() == "P001", timeout=10000)
        panel.session_button.click()
        qtbot.waitUntil(lambda: window.session_id is not None, timeout=10000)
        panel.notes.setPlainText("first trial: steady")
        first = _record_timed_trial(qtbot, window, 2, cue=("visual", "look at the dot"))

        QtCore.QTimer.singleShot(0, lambda: _accept_save_dialog(tmp_path / "report.pdf"))
        with qtbot.waitSignal(window.reporter.finished, timeout=60000):
            panel.report_button.click()
        assert (tmp_path / "report.pdf").stat().st_size > 1000

        panel.notes.setPlainText("second trial: after the report")
        second = _record_timed_trial(qtbot, window)
        panel.new_code.setText("P002")
        panel.add_button.click()
        qtbot.waitUntil(lambda: panel.patient_code() == "P002", timeout=10000)
        qtbot.waitUntil(lambda: store.trial(second).notes != "", timeout=10000)
        assert not errors, errors
        assert not [m for m in window.messages if "damaged" in m.lower()]

        # the end-of-session step: the state after, then the note shown before it is saved
        panel.patient.setCurrentText("P001")
        panel.end_button.click()
        dialog = window.end_dialog
        assert dialog.isVisible() and not dialog.review.isVisible()
        dialog.pain_after.setValue(1)
        dialog.borg_after.setValue(11)
        dialog.response.setPlainText("tolerated well, no dizziness")
        with qtbot.waitSignal(window.engine.session_ended, timeout=10000):
            dialog.review_button.click()
        assert dialog.review.isVisible() and dialog.save_button.isEnabled()
        note = dialog.note.toPlainText()
        assert "P001" in note and "1/10 after" in note and "11 after" in note
        assert "Therapist: AB" in note and 'Visual (1): "look at the dot"' in note
        assert "Response to treatment: tolerated well, no dizziness." in note
        assert "{" not in note
        session = store.session(window.session_id)
        assert (session.pain_after, session.borg_after) == (1, 11) and session.ended
        assert session.response == "tolerated well, no dizziness"
        assert (session.pain_before, session.borg_before) == (4, 8)

    # every write is in the file, and the file is sound (read by a plain SQLite connection)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert [r[0] for r in conn.execute("SELECT code FROM patients ORDER BY code")] == [
            "P001",
            "P002",
        ]
        rows = conn.execute("SELECT id, status, notes FROM trials ORDER BY id").fetchall()
        assert rows == [
            (first, "complete", "first trial: steady"),
            (second, "complete", "second trial: after the report"),
        ]
    finally:
        conn.close()
    with Store.open(db) as again:
        assert len(again.samples(first, PROCESSED)) == 200  # 2 s at 100 Hz
        assert len(again.samples(second, PROCESSED)) == 100
        assert again.session(1).station == "station 2"


def test_the_consoles_store_only_reads_and_says_who_writes(tmp_path):
    db = tmp_path / "station.sqlite"
    with Store.open(db) as writer:
        writer.add_patient("P001")
    reader = open_store(db)
    try:
        assert reader.read_only and [p.code for p in reader.patients()] == ["P001"]
        with pytest.raises(StorageError, match="one writer") as refused:
            reader.add_patient("P002")
        assert "command" in refused.value.hint
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader._conn._conn.execute("DELETE FROM patients")  # below the store: still refused
    finally:
        reader.close()
    with Store.open(db) as again:
        assert [p.code for p in again.patients()] == ["P001"]
    with pytest.raises(StorageError, match="no database"):
        Store.open(tmp_path / "missing.sqlite", read_only=True)


def test_a_reader_that_loses_its_locks_does_not_lose_the_engines_log(tmp_path):
    """The mechanism without Qt: this process reads, drops its SQLite locks the way a file
    dialog does, and the engine process records on; the write-ahead log stays the same file."""
    import os

    from nmr_balance.engine import messages as m
    from nmr_balance.engine.host import EngineHost

    db = tmp_path / "station.sqlite"
    reader = open_store(db)
    host = EngineHost(run_engine, store_path=str(db))
    host.start("sim://?rate=100")

    def ask(command, answer):
        host.send(command)
        reply, seen = host.wait_for(answer, 60)
        assert reply is not None, [r for r in seen if isinstance(r, m.Error)]
        return reply

    try:
        assert host.wait_for(m.Ready, 60)[0] is not None
        ask(m.AddPatient("P001"), m.PatientAdded)
        session_id = ask(m.StartSession("P001"), m.SessionStarted).session_id
        timed = {"duration_s": 0.5}
        first = ask(m.StartTrial(session_id, parameters=timed), m.TrialMetrics).trial_id
        wal = db.with_name(db.name + "-wal")
        inode = wal.stat().st_ino
        assert [t.id for t in reader.trials()] == [first]
        os.close(os.open(db, os.O_RDONLY))  # closing any descriptor drops this process's locks
        second = ask(m.StartTrial(session_id, parameters=timed), m.TrialMetrics).trial_id
        ask(m.SaveTrialNotes(second, "after the lost locks"), m.TrialNotesSaved)
        assert wal.stat().st_ino == inode  # not deleted and made anew under the reader
        assert [(t.id, t.notes) for t in reader.trials()] == [
            (first, ""),
            (second, "after the lost locks"),
        ]
        assert reader.check() == []
    finally:
        reader.close()
        host.stop()
    with Store.open(db) as again:
        assert again.check() == [] and len(again.trials()) == 2


def test_patients_and_sessions_need_no_source_connected(qtbot, tmp_path):
    """Before any source is connected the engine is not running: a record command starts it."""
    db = tmp_path / "station.sqlite"
    with console_on(qtbot, db) as (window, store):
        assert not window.engine.alive
        with qtbot.waitSignal(window.engine.patient_added, timeout=60000):
            window.add_patient("P009")
        with qtbot.waitSignal(window.engine.session_started, timeout=10000):
            window.start_session("P009")
        assert window.session_id == store.sessions("P009")[0].id
        assert window.session_panel.patient_code() == "P009"


def test_the_ui_opens_the_station_database_only_to_read():
    """Guard for the rule above: in ui/, every ``Store.open`` is read-only, except the one in
    ``open_store`` that creates or updates the file before the window (and the engine) write."""
    import ast

    from _helpers import REPO

    writable = []
    for path in sorted((REPO / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]:
            for call in [n for n in ast.walk(func) if isinstance(n, ast.Call)]:
                f = call.func
                if not (isinstance(f, ast.Attribute) and f.attr == "open"):
                    continue
                if not (isinstance(f.value, ast.Name) and f.value.id == "Store"):
                    continue
                flags = {k.arg: getattr(k.value, "value", None) for k in call.keywords}
                if flags.get("read_only") is not True:
                    writable.append(f"{path.relative_to(REPO)}:{func.name}")
    assert writable == ["ui/dashboard.py:open_store"]
