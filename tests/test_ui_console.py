"""The therapist console driven like a therapist would, with the real engine process:
connect the simulated board, add a patient, start a session, record a trial with a cue, a
marker and notes; the patient screen; device loss and engine death banners."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import save_shot
from PySide6 import QtCore, QtWidgets

from nmr_balance.app.engine_process import run_engine
from nmr_balance.engine import messages as m
from recordings import PROCESSED
from ui.console_window import ConsoleWindow
from ui.dashboard import application, open_store
from ui.engine_client import EngineClient

pytestmark = pytest.mark.timeout(240)  # hang bounds; engine processes start slowly when busy


def make_console(qtbot, tmp_path, entry=run_engine, protocol_dir=None):
    application()
    store = open_store(tmp_path / "station.db")  # read-only, as the dashboard opens it
    window = ConsoleWindow(
        EngineClient(entry, store_path=str(store.path), data_dir=str(tmp_path / "data")),
        store,
        protocol_dir=protocol_dir,
    )
    window.session_panel.countdown_s = 0.3
    qtbot.addWidget(window)
    window.resize(1360, 860)
    window.show()
    return window, store


def visible_message_box(parent) -> QtWidgets.QMessageBox:
    boxes = [b for b in parent.findChildren(QtWidgets.QMessageBox) if b.isVisible()]
    assert boxes, "no dialog is shown"
    return boxes[-1]


def test_unexpected_errors_become_a_dialog_with_details(qtbot):
    import sys

    from ui.error_dialog import install_excepthook

    application()
    console = QtWidgets.QWidget()
    qtbot.addWidget(console)
    old = sys.excepthook
    install_excepthook(lambda: console)
    try:
        try:
            {}["missing"]
        except KeyError as e:
            sys.excepthook(type(e), e, e.__traceback__)
    finally:
        sys.excepthook = old
    box = visible_message_box(console)
    assert "Unexpected error" in box.text() and "KeyError" in box.text()
    assert "Traceback" in box.detailedText() and "keeps running" in box.informativeText()


def test_connect_record_a_trial_and_it_lands_in_the_store(qtbot, tmp_path, artifacts_dir):
    window, store = make_console(qtbot, tmp_path)
    try:
        panel = window.session_panel
        assert not panel.start_button.isEnabled()  # no source, no session yet
        window.source_panel.choice.setCurrentIndex(
            window.source_panel.choice.findData("sim://?rate=100&sensor=cop")
        )
        with qtbot.waitSignal(window.engine.ready, timeout=30000):
            window.source_panel.connect_button.click()
        assert window.status.state_name == "streaming"
        assert window.source_panel.tare_button.isEnabled()
        assert window.source_panel.connect_button.text() == "Reconnect"  # says what it does
        panel.new_code.setText("P042")
        with qtbot.waitSignal(window.engine.patient_added, timeout=10000):
            panel.add_button.click()  # the engine writes it (the database's one writer)
        assert [p.code for p in store.patients()] == ["P042"] and panel.patient_code() == "P042"
        panel.therapist.setText("AB")
        panel.station.setText("clinic 2")
        panel.pain_before.setValue(3)
        panel.borg_before.setValue(9)
        with qtbot.waitSignal(window.engine.session_started, timeout=10000):
            panel.session_button.click()
        assert window.session_id is not None and "P042" in panel.session_label.text()
        session = store.session(window.session_id)
        assert (session.therapist, session.station) == ("AB", "clinic 2")
        assert (session.pain_before, session.borg_before) == (3, 9)
        panel.exercise.setCurrentIndex(panel.exercise.findData("free"))  # quiet stance
        panel.vision.setCurrentIndex(1)  # eyes closed
        assert panel.start_button.text() == "Start trial" and panel.start_button.isEnabled()
        with qtbot.waitSignal(window.engine.trial_started, timeout=10000):
            panel.start_button.click()
        assert "starting" in panel.countdown.text() or "recording" in panel.countdown.text()
        assert not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
        qtbot.wait(700)
        panel.cue_type.setCurrentIndex(panel.cue_type.findData("tactile"))
        panel.cue.setText("shoulders down")
        qtbot.keyClick(panel.cue, QtCore.Qt.Key_Return)
        panel.marker_button.click()
        # acknowledged at once and drawn on the live time series (both plots)
        assert any("cue logged" in m and "shoulders down" in m for m in window.messages)
        assert window.messages[-1].startswith("marker set at ")
        assert len(window.live.series._events) == 4
        panel.notes.setPlainText("steady, no pain")
        window.show_patient_screen()
        # live metrics are flowing (waited for: a busy machine may be slow to show them)
        qtbot.waitUntil(
            lambda: (
                window.engine.feed.total > 100 and window.live.figures.get("mean_velocity", 0) > 0
            ),
            timeout=30000,
        )
        sx, sy = window.live.sway.getPlotItem().getViewBox().viewPixelSize()
        assert sx == pytest.approx(sy, rel=1e-6)  # equal axis scaling: 1 mm across = 1 mm up
        window.live.scale_box.setCurrentIndex(0)  # zoom in: +-20 mm
        assert window.live.sway.getPlotItem().getViewBox().viewRange()[1] == pytest.approx(
            [-20, 20]
        )
        window.live.window_box.setCurrentIndex(window.live.window_box.findData(10.0))
        assert window.live.series.window_s == 10.0
        assert window.live.series.plots[0].getViewBox().viewRange()[0] == pytest.approx([-10, 0])
        window.overlay.toggle()  # F12: the debug overlay with the frame cost
        qtbot.wait(300)
        assert window.overlay.isVisible() and "frame" in window.overlay.text()
        assert 0 < window.overlay.figures()["frame_ms_p50"] < 1000
        save_shot(window, artifacts_dir / "console_live.png")
        save_shot(window.patient_screen, artifacts_dir / "patient_screen.png")
        with qtbot.waitSignal(window.engine.trial_stopped, timeout=15000) as stopped:
            panel.stop_button.click()
        trial_id = stopped.args[0]
        assert f"trial #{trial_id} saved" in panel.countdown.text()
        qtbot.waitUntil(lambda: store.trial(trial_id).notes != "", timeout=10000)
        # a whole-trial summary with units, from the metrics the engine stored
        qtbot.waitUntil(panel.last_trial.isVisible, timeout=10000)
        summary = panel.last_trial.text()
        assert f"Trial #{trial_id}" in summary and "mean velocity" in summary
        assert "mm/s" in summary and "mm\u00b2" in summary and " s" in summary
        trial = store.trial(trial_id)
        assert trial.status == "complete" and trial.protocol == "free"
        assert trial.condition.vision == "closed" and trial.patient_code == "P042"
        assert trial.notes == "steady, no pain" and trial.cues == ["shoulders down"]
        assert trial.parameters["preset"] == "standard" and "targets" not in trial.parameters
        kinds = [e.kind for e in store.events(trial_id)]
        assert "cue" in kinds and "marker" in kinds
        cue = next(e for e in store.events(trial_id) if e.kind == "cue")
        assert cue.payload["type"] == "tactile"
        samples = store.samples(trial_id, PROCESSED)
        assert len(samples) > 100 and samples.gaps() == 0
        assert np.isfinite(samples.data[:, :2]).all()
        # the session report (PDF + note) is written off the GUI thread
        assert panel.report_button.isEnabled()
        with qtbot.waitSignal(window.reporter.finished, timeout=30000) as made:
            window.reporter.export(
                window.session_id, tmp_path / "report.pdf", tmp_path / "note.txt"
            )
        assert (
            made.args[0].pdf.stat().st_size > 1000 and "P042" in (tmp_path / "note.txt").read_text()
        )
        # a timed trial ends by itself, after exactly its duration of signal
        panel.duration.setValue(5)
        with qtbot.waitSignal(window.engine.trial_started, timeout=10000):
            panel.start_button.click()
        with qtbot.waitSignal(window.engine.trial_stopped, timeout=20000) as timed:
            pass
        assert (
            timed.args[1] == "complete"
            and f"trial #{timed.args[0]} saved" in panel.countdown.text()
        )
        assert len(store.samples(timed.args[0], PROCESSED)) == 500  # 5 s at 100 Hz
        # Compare opens on two different finished trials: the first (baseline) and the newest
        a, b = (c.picker.trial_id() for c in window.compare.columns)
        assert (a, b) == (trial_id, timed.args[0])
        # the new trial is offered in replay straight away
        assert window.replay.picker.findData(trial_id) >= 0
        window.open_in_replay(trial_id)
        assert (
            window.tabs.currentWidget() is window.replay
            and window.replay.trial.trial.id == trial_id
        )
        # a stored trial as the source: it streams through the live pipeline again, then ends
        window.tabs.setCurrentWidget(window.live)
        with qtbot.waitSignal(window.engine.ready, timeout=10000):
            window.connect_source(window.replay_url(trial_id, speed=8))
        qtbot.waitUntil(lambda: any("replay finished" in m for m in window.messages), timeout=30000)
        replayed = window.engine.feed
        n = len(samples)
        # the feed takes the rings at the window's frame rate, maybe after the engine's message
        qtbot.waitUntil(lambda: replayed.total >= n, timeout=30000)
        assert replayed.total == n < replayed.capacity and replayed.missed == 0
        # the same samples in order; the live low-pass starts afresh in the replay, so compare
        # once its start-up transient (~0.5 s at 10 Hz cut-off) has died away
        np.testing.assert_allclose(replayed.xy[-n:][-100:], samples.data[-100:, :2], atol=0.05)
        np.testing.assert_array_equal(
            replayed.counter[-n:] - replayed.counter[-n], samples.counter - samples.counter[0]
        )
    finally:
        window.close()
        store.close()


def test_patient_screen_presets(qtbot, artifacts_dir):
    from ui.live_metrics import Target
    from ui.patient_screen import PRESETS, PatientScreen

    application()
    screen = PatientScreen("mm")
    qtbot.addWidget(screen)
    screen.resize(800, 600)
    screen.show()
    targets = [Target(0, 30, 9), Target(30, 0, 9), Target(0, -30, 9), Target(-30, 0, 9)]
    xy = np.column_stack([np.linspace(0, 12, 50), np.linspace(0, 20, 50)])
    for name in PRESETS:
        screen.set_preset(name)
        screen.set_message("Move the dot into the highlighted circle")
        screen.show_frame(xy, 100.0, targets, active=0, hits=3)
        qtbot.wait(20)
        assert screen.score.text().endswith("3")  # the hits the engine counted so far
        save_shot(screen, artifacts_dir / f"patient_screen_{name}.png")
    # seniors: the cursor is the mean of the last 0.25 s (calmer), standard: the newest sample
    screen.set_preset("seniors")
    screen.show_frame(xy, 100.0, targets, active=0)
    assert screen.score.text() == ""  # no target trial running: no score left over
    assert screen._cursor.data["x"][0] == pytest.approx(xy[-25:, 0].mean())
    screen.set_preset("standard")
    screen.show_frame(xy, 100.0, targets, active=0)
    assert screen._cursor.data["x"][0] == pytest.approx(12.0)
    screen.show_frame(np.full((5, 2), np.nan), 100.0, targets, active=0)  # nobody on the board
    assert len(screen._cursor.data) == 0
    screen.celebrate_hit()
    assert screen.message.text() == PRESETS["standard"].hit_text


def test_device_loss_banner_then_engine_death_and_restart(qtbot, tmp_path, artifacts_dir):
    from flaky_engine import run_flaky_engine

    window, store = make_console(qtbot, tmp_path, entry=run_flaky_engine)
    try:
        with qtbot.waitSignal(window.engine.ready, timeout=30000):
            window.connect_source("flaky://?lose_after=0.6&lost_for=1.2")
        qtbot.waitUntil(window.banner.isVisible, timeout=10000)
        assert (
            "Device lost" in window.banner.text.text() and "unplugged" in window.banner.text.text()
        )
        assert window.status.state_name in ("lost", "reconnecting")
        # the trace so far is kept on screen (the frame timer may take the ring's last samples
        # just after the status message arrived, on a busy machine)
        qtbot.waitUntil(lambda: window.engine.feed.total >= 50, timeout=5000)
        save_shot(window, artifacts_dir / "console_device_lost.png")
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10000)
        assert window.status.state_name == "streaming" and "device back" in window.messages[-1]

        with qtbot.waitSignal(window.engine.patient_added, timeout=10000):
            window.add_patient("P7")
        with qtbot.waitSignal(window.engine.session_started, timeout=10000):
            window.start_session("P7")
        with qtbot.waitSignal(window.engine.trial_started, timeout=10000) as started:
            window.start_trial()
        # the recorder has committed some of the trial (seen in the store, not guessed by time)
        qtbot.waitUntil(lambda: len(store.samples(started.args[0], PROCESSED)) >= 50, timeout=30000)
        window.engine.host.process.kill()  # the engine crashes mid-trial
        qtbot.waitUntil(window.banner.isVisible, timeout=10000)
        assert "engine stopped" in window.banner.text.text()
        assert window.banner.button.text() == "Restart engine"
        assert window.status.state_name == "engine_down"
        trace_before = window.engine.feed.total
        save_shot(window, artifacts_dir / "console_engine_stopped.png")
        # the trial so far is kept: its committed samples are in the store
        assert len(store.samples(started.args[0], PROCESSED)) >= 50
        with qtbot.waitSignal(window.engine.ready, timeout=60000):  # a new engine process
            window.banner.button.click()
        assert window.engine.alive and trace_before > 0 and not window.banner.isVisible()
        # the restarted engine (the one writer) closed the dead recorder's trial
        assert store.trial(started.args[0]).status == "interrupted"
        # a device that is not there: a specific message with what to do, the app keeps running
        with qtbot.waitSignal(window.engine.failed, timeout=10000):
            window.connect_source("serial:///dev/ttyNOPE?protocol=nmr")
        box = visible_message_box(window)
        assert "Device not found" in box.text() and "/dev/ttyNOPE" in box.text()
        assert "nmr-balance devices" in box.text() + box.informativeText()
        assert window.engine.alive
    finally:
        window.close()
        store.close()


def test_an_engine_started_before_the_window_is_adopted_not_restarted(qtbot, tmp_path):
    """`nmr-balance live` starts the engine before Qt loads (warm start): the console takes it
    over as it is (same process, no source switch); another URL then switches the source."""
    from nmr_balance.engine.host import EngineHost
    from ui.dashboard import build_console

    application()
    db = tmp_path / "station.db"
    url = "sim://?rate=100&seed=3"
    host = EngineHost(run_engine, store_path=str(db))
    host.start(url)
    process = host.process
    window = build_console(run_engine, url, store_path=db, engine_host=host)
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.engine.ready, timeout=30000) as ready:
            pass
        assert window.engine.host is host and host.process is process  # the same engine
        assert window.engine.url == url and ready.args[0].fs == 100
        other = "sim://?rate=200&seed=3"
        with qtbot.waitSignal(window.engine.ready, timeout=30000) as switched:
            window.connect_source(other)
        assert host.process is process and switched.args[0].fs == 200
    finally:
        window.engine.close()
        window.store.close()
    assert not process.is_alive()


def test_a_handed_in_engine_on_another_source_is_switched_not_restarted(qapp):
    class Host:  # an EngineHost already running on another source
        alive, source_url, process = True, "sim://?rate=100", None

        def __init__(self):
            self.sent = []

        def send(self, command):
            self.sent.append(command)

        def start(self, url):
            raise AssertionError("a running engine must not be started again")

    host = Host()
    client = EngineClient(run_engine, host=host)
    client.start("sim://?rate=200")
    client._timer.stop()
    assert host.sent == [m.SwitchSource("sim://?rate=200")]
