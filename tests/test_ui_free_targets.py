"""The console's "Free recording: 4 targets" is the engine's built-in protocol ``free_targets``,
driven like a therapist would with the real engine process and the simulated board (a person
who follows the targets, 4x real time): the engine records the trial, scores its hits and time
in target, stores its target events; the console draws the targets the engine shows, counts
the hits it reports and shows the stored result. A patient preset makes the targets bigger and
the dwell longer in the engine, for training only, and the record says so."""

from __future__ import annotations

import pytest
from _helpers import open_console_session, save_shot
from PySide6 import QtCore, QtWidgets
from ui_shots import answer_dialog

pytestmark = pytest.mark.timeout(300)  # hang bounds; engine processes start slowly when busy

URL = "sim://?rate=100&sensor=cop&speed=4&seed=3"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """One console and engine for the module (starting an engine costs seconds)."""
    from nmr_balance.app.engine_process import run_engine
    from ui.console_window import ConsoleWindow
    from ui.dashboard import application, open_store
    from ui.engine_client import EngineClient

    application()
    tmp = tmp_path_factory.mktemp("free_targets")
    store = open_store(tmp / "station.db")  # read-only, as the dashboard opens it
    window = ConsoleWindow(
        EngineClient(run_engine, store_path=str(store.path), data_dir=str(tmp / "data")), store
    )
    window.resize(1360, 860)
    window.show()
    yield window, store
    window.close()
    store.close()


def choose(window, key: str, preset: str) -> None:
    panel, controls = window.session_panel, window.patient_controls
    panel.exercise.setCurrentIndex(panel.exercise.findData(key))
    controls.preset.setCurrentIndex(controls.preset.findData(preset))


def run_free_targets(qtbot, window, preset: str, during_trial=None):
    """Start "Free recording: 4 targets" with ``preset`` (and call ``during_trial()`` once its
    trial records); the run's facts, the displays and events the engine sent, and its
    ProtocolDone."""
    choose(window, "free_targets", preset)
    panel = window.session_panel
    assert panel.chosen().label == "Free recording: 4 targets"
    assert panel.start_button.text() == "Start protocol" and panel.start_button.isEnabled()
    shown, events = [], []
    window.engine.protocol_display.connect(shown.append)
    window.engine.protocol_event.connect(events.append)
    try:
        with qtbot.waitSignal(window.engine.protocol_started, timeout=10000) as started:
            panel.start_button.click()
        with qtbot.waitSignal(window.engine.protocol_done, timeout=120000) as done:
            if during_trial is not None:
                assert not panel.cue.isEnabled()  # the countdown: no trial to log a cue with
                qtbot.waitUntil(panel.cue.isEnabled, timeout=30000)  # its trial records
                during_trial()
    finally:
        window.engine.protocol_display.disconnect(shown.append)
        window.engine.protocol_event.disconnect(events.append)
    return started.args[0], shown, events, done.args[0]


def radii(shown: list[dict]) -> set[float]:
    return {round(t[2], 9) for d in shown for t in d.get("targets", [])}


def test_free_targets_run_in_the_engine_and_the_console_shows_its_scores(
    qtbot, console, artifacts_dir
):
    window, store = console
    open_console_session(qtbot, window, URL, "P021")
    panel = window.session_panel

    def cue_marker_and_note():  # what a therapist does during the exercise
        panel.cue_type.setCurrentIndex(panel.cue_type.findData("tactile"))
        panel.cue.setText("weight on the toes")
        qtbot.keyClick(panel.cue, QtCore.Qt.Key_Return)
        panel.marker_button.click()
        panel.notes.setPlainText("needed two tries for the left target")

    facts, shown, events, done = run_free_targets(qtbot, window, "standard", cue_marker_and_note)
    assert facts["protocol"] == "free_targets" and facts["title"] == "Free recording: 4 targets"
    assert facts["scaling"] == {"target_scale": 1.0, "dwell_scale": 1.0}
    assert done.phase == "done" and len(done.trial_ids) == 1
    trial = store.trial(done.trial_ids[0])
    assert trial.protocol == "free_targets" and trial.status == "complete"
    assert trial.patient_code == "P021" and trial.parameters["task"] == "targets"
    assert (trial.parameters["target_scale"], trial.parameters["dwell_scale"]) == (1.0, 1.0)
    training = trial.results.training  # typed TrainingScores, scored by the engine's task
    assert training is not None and training.targets == 4
    assert training.hits >= 1, "the simulated person follows the targets"
    assert 0 < training.time_in_target_pct <= 100
    # the hits the engine stored with the trial are its own events (with their time to hit),
    # never markers sent by the console
    stored = store.events(trial.id)
    hits = [e for e in stored if e.kind == "target_hit"]
    assert len(hits) == training.hits and all("time_to_hit_s" in e.payload for e in hits)
    # the therapist's cue, marker and note went with the trial (the note once the run ended)
    assert trial.cues == ["weight on the toes"]
    assert next(e for e in stored if e.kind == "cue").payload["type"] == "tactile"
    assert [e.payload for e in stored if e.kind == "marker"] == [{}]
    qtbot.waitUntil(lambda: store.trial(trial.id).notes != "", timeout=10000)
    assert store.trial(trial.id).notes == "needed two tries for the left target"
    assert panel.notes.toPlainText() == "" and not panel.cue.isEnabled()
    assert len([e for e in stored if e.kind == "target_shown"]) == 4
    # the console counted the engine's target_hit events and shows the engine's time in target
    assert sum(e["kind"] == "target_hit" for e in events) == training.hits
    assert window.trial_hits == training.hits
    assert window.live.training == {
        "hits": training.hits,
        "time_in_target": pytest.approx(training.time_in_target_pct),
    }
    # the targets drawn were the engine's (one at a time, the protocol's 9 % of the LOS)
    (radius,) = radii(shown)
    assert radius == pytest.approx(0.09 * _mean_reach(facts))
    # the result panel shows the stored record's result in the note's words
    summary = window.protocol_progress.summary.text()
    assert f"targets hit {training.hits} of 4" in summary
    assert f"time in target {training.time_in_target_pct:.0f} %" in summary

    # the seniors preset: bigger targets and a longer dwell, scored so by the engine and stored
    screen = window.show_patient_screen()

    def shoot():  # a person looks at these: bigger targets on the seniors' screen
        qtbot.waitUntil(lambda: bool(window.protocol_targets), timeout=10000)
        qtbot.wait(600)  # past the start cue's flash
        save_shot(window, artifacts_dir / "console_free_targets_seniors.png")
        save_shot(screen, artifacts_dir / "patient_screen_free_targets_seniors.png")

    facts, shown, _, done = run_free_targets(qtbot, window, "seniors", shoot)
    assert facts["scaling"] == {"target_scale": 1.5, "dwell_scale": 1.5}
    (eased,) = radii(shown)
    assert eased == pytest.approx(1.5 * radius)
    trial = store.trial(done.trial_ids[0])
    assert (trial.parameters["target_scale"], trial.parameters["dwell_scale"]) == (1.5, 1.5)
    assert trial.results.training.targets == 4
    for e in store.events(trial.id):
        if e.kind == "target_shown":
            assert e.payload["radius"] == pytest.approx(eased)
        if e.kind == "target_hit":  # held 1.5 s at least (the dwell, scaled)
            assert e.payload["time_to_hit_s"] >= 1.5 - 0.011


def test_a_test_is_not_scaled_by_the_preset_and_the_console_says_so(qtbot, console):
    window, store = console
    open_console_session(qtbot, window, URL, "P022")
    choose(window, "romberg", "seniors")
    events = []
    window.engine.protocol_event.connect(events.append)
    try:
        with qtbot.waitSignal(window.engine.protocol_started, timeout=10000) as started:
            window.session_panel.start_button.click()
        assert started.args[0]["scaling"] is None
        assert any("standardized test" in m and "seniors" in m for m in window.messages)
        qtbot.waitUntil(lambda: any(e["kind"] == "trial_started" for e in events), timeout=20000)
        assert "scaling" not in next(e for e in events if e["kind"] == "trial_started")["data"]
        with qtbot.waitSignal(window.engine.protocol_done, timeout=20000) as done:
            answer_dialog(qtbot, QtWidgets.QMessageBox.Yes)
            window.session_panel.abort_button.click()
    finally:
        window.engine.protocol_event.disconnect(events.append)
    (trial_id,) = done.args[0].trial_ids
    trial = store.trial(trial_id)
    assert trial.protocol == "romberg" and trial.status == "aborted"
    assert "target_scale" not in trial.parameters and "dwell_scale" not in trial.parameters


def _mean_reach(facts: dict) -> float:
    reach = facts["los"]["reach"]
    return sum(reach) / len(reach)
