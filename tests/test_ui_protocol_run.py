"""Protocol runs from the dashboard, driven like a therapist would with the real engine process and
the simulated board: pick a protocol from the library and a level, Start; the run goes through
its steps (countdown, trial, rest, next step) with the patient screen showing the instruction,
time left and targets; the trials land in the store with the protocol's scores and the summary
in the session notes; Abort stops a run and keeps the trial so far, unscored."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from _helpers import open_console_session, save_shot
from PySide6 import QtWidgets
from ui_shots import answer_dialog

from recordings import PROCESSED

pytestmark = pytest.mark.timeout(240)  # hang bounds; engine processes start slowly when busy

# quick_check.toml: ~8 s; long_stand.toml: one 5-minute trial, to abort
PROTOCOLS = pathlib.Path(__file__).parent / "data" / "protocols"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    """One console and engine for the module (starting an engine costs seconds); its engine
    also knows ``flaky://``, a simulated board that unplugs itself."""
    from flaky_engine import run_flaky_engine

    from ui.console_window import ConsoleWindow
    from ui.dashboard import application, open_store
    from ui.engine_client import EngineClient

    application()
    tmp = tmp_path_factory.mktemp("protocol_run")
    store = open_store(tmp / "station.db")  # read-only, as the dashboard opens it
    window = ConsoleWindow(
        EngineClient(run_flaky_engine, store_path=str(store.path), data_dir=str(tmp / "data")),
        store,
        protocol_dir=PROTOCOLS,
    )
    window.resize(1360, 860)
    window.show()
    yield window, store
    window.close()
    store.close()


def choose(panel, key: str, level: int | None) -> None:
    panel.exercise.setCurrentIndex(panel.exercise.findData(key))
    panel.level.setCurrentIndex(panel.level.findData(level))


def test_library_replaces_the_stand_in_list(qtbot):
    from ui.dashboard import application
    from ui.session_panel import SessionPanel

    application()
    panel = SessionPanel(protocol_dir=PROTOCOLS)
    qtbot.addWidget(panel)
    keys = [panel.exercise.itemData(i) for i in range(panel.exercise.count())]
    # free recordings first, then every built-in protocol and the clinic's own file
    assert keys[:2] == ["free", "free_targets"]
    assert {"mctsib", "romberg", "los", "weight_shift", "maze", "quick_check"} <= set(keys)
    panel.set_state(session=True, connected=True, recording=False)
    choose(panel, "quick_check", None)
    assert [panel.level.itemText(i) for i in range(panel.level.count())] == [
        "auto",
        "level 1",
        "level 2",
    ]
    assert not panel.duration.isEnabled() and not panel.vision.isEnabled()  # the protocol sets them
    assert panel.level.isEnabled() and panel.chosen().path.endswith("quick_check.toml")
    choose(panel, "free", None)
    assert panel.level.count() == 1 and panel.duration.isEnabled() and not panel.level.isEnabled()


def test_a_protocol_runs_its_steps_lands_in_the_store_and_can_be_aborted(
    qtbot, console, artifacts_dir
):
    window, store = console
    open_console_session(qtbot, window, "sim://?rate=100&sensor=cop", "P007")
    panel, progress = window.session_panel, window.protocol_progress
    choose(panel, "quick_check", 2)
    screen = window.show_patient_screen()
    seen: list[dict] = []
    window.engine.protocol_display.connect(seen.append)
    with qtbot.waitSignal(window.engine.protocol_started, timeout=10000) as started:
        panel.start_button.click()
    assert started.args[0]["level"] == 2 and started.args[0]["n_trials"] == 2
    assert progress.isVisible() and "level 2" in progress.title.text()
    assert not panel.start_button.isEnabled() and panel.abort_button.isEnabled()
    assert not panel.stop_button.isEnabled() and not panel.exercise.isEnabled()
    # the countdown of step 1, then its trial: the patient reads the instruction and the time left
    qtbot.waitUntil(lambda: bool(seen) and seen[-1].get("phase") == "trial", timeout=10000)
    assert "step 1 of 2: stand" in progress.step.text() and "s left" in progress.step.text()
    assert "Stand still" in screen.message.text()
    assert any(d.get("phase") == "countdown" for d in seen)
    # step 2 shows a target on both screens; screenshot both mid-run
    qtbot.waitUntil(
        lambda: seen[-1].get("phase") == "trial" and bool(seen[-1].get("targets")), timeout=10000
    )
    assert any(d.get("phase") == "rest" for d in seen)
    qtbot.wait(300)
    assert window.protocol_targets and len(screen._targets.data) == 1
    assert (
        "step 2 of 2: targets" in progress.step.text()
        and "dot into the circle" in screen.message.text()
    )
    assert [
        progress.results.item(i).text().split(" \u2014")[0] for i in range(progress.results.count())
    ] == ["1. stand: complete"]
    save_shot(window, artifacts_dir / "console_protocol.png")
    save_shot(screen, artifacts_dir / "patient_screen_protocol.png")
    with qtbot.waitSignal(window.engine.protocol_done, timeout=15000) as done:
        pass
    msg = done.args[0]
    assert msg.phase == "done" and len(msg.trial_ids) == 2
    assert panel.start_button.isEnabled() and "finished" in progress.summary.text()
    stand, targets = (store.trial(i) for i in msg.trial_ids)
    # each trial's line is the one `nmr-balance run` prints: its typed scores as stored, in the
    # note's words and units
    from nmr_balance.reporting.results_text import trial_headline

    assert progress.results.count() == 2
    for i, trial in enumerate((stand, targets)):
        line = progress.results.item(i).text()
        assert line.endswith(" \u2014 " + trial_headline(trial.results, "mm")), line
    assert "mm/s" in progress.results.item(0).text()  # the stand's sway, with its unit
    assert "hits " in progress.results.item(1).text()  # the targets' hits of those shown
    assert (
        stand.protocol == targets.protocol == "quick_check"
        and stand.status == targets.status == "complete"
    )
    assert stand.parameters["level"] == 2 and stand.parameters["label"] == "stand"
    # the protocol's scores are stored with each trial: the very numbers the run computed
    scores = [r["scores"] for r in msg.results]
    assert stand.results.stand.completed is scores[0]["completed"] is True
    assert stand.results.level == 2 and "mean_velocity" in stand.results.sway
    assert targets.results.training.targets == 2 == scores[1]["targets"]
    assert targets.results.training.success_pct == pytest.approx(scores[1]["success_pct"])
    assert "target_shown" in [e.kind for e in store.events(targets.id)]
    samples = store.samples(stand.id, PROCESSED)
    # 2 s at 100 Hz; the recorder starts and stops when the engine's loop handles the events, so
    # on a busy machine the edges may move by a few tenths of a second
    assert 120 <= len(samples) <= 320 and samples.gaps() == 0
    assert np.isfinite(samples.data[:, :2]).all()
    # the session's notes are the therapist's words: the summary is computed from the trials
    assert store.session(window.session_id).notes == ""
    assert window.replay.picker.findData(targets.id) >= 0

    # a run aborted during its trial: kept, never scored (a 5-minute trial, so the abort lands
    # inside it however slowly this machine answers the dialogs)
    choose(panel, "long_stand", None)
    events: list[dict] = []
    window.engine.protocol_event.connect(events.append)
    panel.start_button.click()
    qtbot.waitUntil(lambda: any(e["kind"] == "trial_started" for e in events), timeout=10000)
    qtbot.wait(500)
    # Abort asks first: "Keep going" leaves the run alone, "Abort" stops it
    answer_dialog(qtbot, QtWidgets.QMessageBox.No)
    panel.abort_button.click()
    assert window.protocol_view is not None and panel.abort_button.isEnabled()
    with qtbot.waitSignal(window.engine.protocol_done, timeout=10000) as done:
        answer_dialog(qtbot, QtWidgets.QMessageBox.Yes)
        panel.abort_button.click()
    msg = done.args[0]
    # the patient screen does not keep the instruction (and its countdown) frozen
    assert screen.message.text() == "Stopped" and len(screen._targets.data) == 0
    assert msg.phase == "aborted" and len(msg.trial_ids) == 1
    trial = store.trial(msg.trial_ids[0])
    assert trial.status == "aborted" and trial.metrics["reason"] == "stopped by the therapist"
    never_scored = (trial.results.stand, trial.results.training, trial.results.los)
    assert never_scored == (None, None, None)
    assert len(store.samples(trial.id, PROCESSED)) > 30  # what was recorded is kept
    assert "aborted" in progress.summary.text() and progress.results.item(0).text().startswith(
        "1. stand: aborted"
    )
    assert panel.start_button.isEnabled() and not panel.abort_button.isEnabled()


def test_the_result_panel_says_what_the_note_says(qtbot, console):
    """After a run, the result panel shows the stored record's results in the note's words: the
    Romberg ratio and each condition's sway are the very text of the session's note (one
    computation, from the stored trials; a simulated board as fast as it is read)."""
    from html import escape

    from nmr_balance.reporting import fmt
    from nmr_balance.reporting.note import documentation_note
    from nmr_balance.reporting.results_text import ratio_lines
    from recordings.report_data import session_report

    window, store = console
    open_console_session(qtbot, window, "sim://?rate=100&sensor=cop&realtime=0&seed=6", "P011")
    panel, progress = window.session_panel, window.protocol_progress
    choose(panel, "romberg", None)
    with qtbot.waitSignal(window.engine.protocol_done, timeout=180000) as done:
        panel.start_button.click()
    msg = done.args[0]
    assert msg.phase == "done" and len(msg.trial_ids) == 2
    report = session_report(store, window.session_id)
    note = " ".join(documentation_note(report).split())
    (block,) = [b for b in report.session.blocks if b.name == "romberg"]
    shown = progress.summary.text()
    lines = ratio_lines(block)
    assert lines and all(not line.endswith(": -") for line in lines)  # a ratio was computed
    for line in lines:
        assert line in note and escape(line) in shown, (line, shown)
    assert len(block.conditions) == 2
    for c in block.conditions.values():
        sway = f"{fmt.number(c.mean_velocity)} {c.unit}/s"
        assert f"<td>{escape(c.label)}&nbsp;</td><td>{sway}&nbsp;</td>" in shown
        assert f"{c.label}: mean sway velocity {sway}" in note


def test_device_loss_interrupts_the_trial_and_the_console_says_so(qtbot, console):
    window, store = console
    # the board unplugs itself 7 s after it starts: inside Romberg's first trial (5 s countdown)
    open_console_session(qtbot, window, "flaky://?lose_after=7&lost_for=1", "P009")
    choose(window.session_panel, "romberg", None)
    events: list[dict] = []
    window.engine.protocol_event.connect(events.append)
    window.session_panel.start_button.click()
    qtbot.waitUntil(lambda: any(e["kind"] == "resumed" for e in events), timeout=15000)
    kinds = [e["kind"] for e in events]
    assert kinds.index("trial_started") < kinds.index("trial_interrupted") < kinds.index("paused")
    assert any("interrupted" in m and "unplugged" in m for m in window.messages)
    assert (
        "1. eyes open: interrupted: USB cable unplugged"
        in window.protocol_progress.results.item(0).text()
    )
    with qtbot.waitSignal(
        window.engine.protocol_done, timeout=10000
    ) as done:  # during the new countdown
        answer_dialog(qtbot, QtWidgets.QMessageBox.Yes)
        window.session_panel.abort_button.click()
    assert done.args[0].phase == "aborted"
    (trial_id,) = done.args[0].trial_ids
    trial = store.trial(trial_id)
    assert trial.status == "interrupted" and "unplugged" in trial.metrics["reason"]
    never_scored = (trial.results.stand, trial.results.training, trial.results.los)
    assert never_scored == (None, None, None)  # never silently scored
    assert len(store.samples(trial_id, PROCESSED)) > 100  # what came before the loss is kept


def test_patient_screen_draws_the_maze_walls_and_the_guide_circle(qtbot):
    from ui.dashboard import application
    from ui.patient_screen import PatientScreen, shape_lines

    application()
    # a straight corridor along x: its walls are the lines y = +-half_width
    x, y = shape_lines({"corridor": [[-20, 0], [0, 0], [20, 0]], "half_width": 5.0})
    walls = np.isfinite(x)
    assert sorted(set(np.round(y[walls], 9))) == [-5.0, 5.0] and x[walls].min() == -20
    x, y = shape_lines({"guide_circle": 30.0})
    assert np.allclose(np.hypot(x, y)[np.isfinite(x)], 30.0)
    assert len(shape_lines({"phase": "countdown"})[0]) == 0
    screen = PatientScreen("mm")
    qtbot.addWidget(screen)
    screen.show_protocol(
        {
            "phase": "countdown",
            "instruction": "Trace the circle.",
            "remaining_s": 2.2,
            "guide_circle": 30.0,
        }
    )
    assert screen.message.text() == "Trace the circle.\nGet ready: 3"
    assert np.isfinite(screen._shapes.xData).sum() == 73
    screen.show_protocol({"phase": "rest", "remaining_s": 4.5})
    assert screen.message.text() == "Rest: 5 s" and screen._shapes.xData is None  # nothing drawn


def test_free_targets_show_the_target_shown_and_its_time_not_a_minute(qtbot):
    """The console's free 4 targets end at the 4th hit: the therapist's progress line and the
    patient screen say which target is up and how long it has left, never a 60 s countdown
    (snapshots of a real run's ``ProtocolRun.display()``)."""
    from protocol_harness import free_targets_snapshots

    from ui.dashboard import application
    from ui.patient_screen import PatientScreen
    from ui.protocol_progress import ProtocolProgress

    application()
    _, snapshots = free_targets_snapshots()
    second = next(d for e, d in snapshots if e.kind == "target_shown" and e.data["target"] == 1)
    assert second["up_to_s"] > 30  # what a countdown of the whole trial would have shown
    progress, screen = ProtocolProgress(), PatientScreen("mm")
    qtbot.addWidget(progress)
    qtbot.addWidget(screen)
    progress.show_display(second)
    assert progress.step.text().endswith(", target 2 of 4 (15 s left for it)"), progress.step.text()
    screen.show_protocol(second)
    assert screen.message.text() == "Move the dot into the highlighted circle\nTarget 2 of 4: 15 s"
    # a task that ends on its own and counts no targets says the most it may last
    maze = {"phase": "trial", "instruction": "Follow the path", "up_to_s": 41.2}
    progress.show_display(maze)
    assert progress.step.text().endswith(", up to 42 s left")
    screen.show_protocol(maze)
    assert screen.message.text() == "Follow the path\nup to 42 s"
    # a trial of a set length counts down, as before
    stand = {"phase": "trial", "instruction": "Stand still", "remaining_s": 12.3}
    progress.show_display(stand)
    assert progress.step.text().endswith(", 13 s left")
    screen.show_protocol(stand)
    assert screen.message.text() == "Stand still\n13 s"
