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
from PySide6 import QtCore, QtWidgets

from nmr_balance.app.engine_process import run_engine
from recordings import PROCESSED, Store
from ui.console_window import ConsoleWindow
from ui.dashboard import application, open_store
from ui.engine_client import EngineClient

pytestmark = pytest.mark.timeout(180)


def _accept_save_dialog(path) -> None:
    """Type ``path`` into the open (Qt, not native) save dialog once it has listed its folder."""
    for w in QtWidgets.QApplication.topLevelWidgets():
        if isinstance(w, QtWidgets.QFileDialog) and w.isVisible():
            w.selectFile(str(path))
            QtCore.QTimer.singleShot(1500, w.accept)  # let it list (and sniff) the folder
            return
    QtCore.QTimer.singleShot(100, lambda: _accept_save_dialog(path))


def _record_timed_trial(qtbot, window, seconds: int = 1) -> int:
    panel = window.session_panel
    panel.duration.setMinimum(1)
    panel.duration.setValue(seconds)
    with qtbot.waitSignal(window.engine.trial_started, timeout=20000):
        panel.start_button.click()
    with qtbot.waitSignal(window.engine.trial_stopped, timeout=30000) as stopped:
        pass
    return stopped.args[0]


def test_report_from_the_console_then_record_again_keeps_every_write(
    qtbot, tmp_path, monkeypatch
):
    monkeypatch.setenv("HOME", str(tmp_path))  # the report dialog opens where the database is
    db = tmp_path / "station.sqlite"
    application()
    store = open_store(db)  # as the dashboard opens it
    window = ConsoleWindow(EngineClient(run_engine, store_path=str(db)), store)
    window.session_panel.countdown_s = 0.2
    qtbot.addWidget(window)
    window.show()
    errors: list = []
    window.engine.failed.connect(errors.append)
    try:
        with qtbot.waitSignal(window.engine.ready, timeout=60000):
            window.connect_source("sim://?rate=100&sensor=cop")
        panel = window.session_panel
        panel.new_code.setText("P001")
        panel.add_button.click()
        qtbot.waitUntil(lambda: panel.patient_code() == "P001", timeout=10000)
        panel.session_button.click()
        qtbot.waitUntil(lambda: window.session_id is not None, timeout=10000)
        panel.notes.setPlainText("first trial: steady")
        first = _record_timed_trial(qtbot, window)

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
    finally:
        window.close()
        store.close()

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
        for trial_id in (first, second):
            assert len(again.samples(trial_id, PROCESSED)) == 100  # 1 s at 100 Hz
