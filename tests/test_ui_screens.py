"""Screens that fit (issue 15): the console at 1366x768 and 1920x1080 with no text cut off, the
protocol result panel (LOS table and polygon, mCTSIB table), and the patient screen (standard and
seniors presets) during LOS, mCTSIB and target training: every target and the LOS in view, a
display that keeps most of the screen, a fixation dot for sensory tests, cue sounds or their
visual stand-in, fullscreen that never covers the console on one monitor.

The protocol runs are real: the built-in protocols run on the simulated board (as fast as it
goes, ``realtime=0``) with a scripted patient, and the console and patient screen are fed the
run's own facts, display snapshots and events, exactly as the engine sends them. The result panel
reads the stored record: its runs are recorded by ``nmr-balance run`` (same simulated board) into
the console's station database, and the panel shows their stored results.
PNGs of every screen go to ``artifacts/`` for a person to look at.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import wave
from html import escape

import numpy as np
import pytest
from _helpers import console_on, save_shot
from protocol_harness import drive
from PySide6 import QtCore, QtGui, QtWidgets
from ui_shots import SCREEN_SIZES, cut_texts, settle

from drivers.sim.board import Lean
from nmr_balance.app import open_source
from nmr_balance.protocols.library import find
from nmr_balance.reporting.results_text import los_values, ratio_lines
from ui.dashboard import application

pytestmark = pytest.mark.timeout(120)


def lean_to_targets(skip: tuple[int, ...] = ()):
    """Script: lean to 90 % of each LOS target, then back; directions in ``skip`` not at all."""

    def script(e, board, run):
        if e.kind == "target_shown" and e.data["target"] not in skip:
            board.set_intent(Lean(0.9 * e.data["x"], 0.9 * e.data["y"], 0.3, 0.9))
            board.schedule(e.t_s + 8.0, Lean(0.0, 0.0, 0.2, 1.0))

    return script


class Recorder:
    """Script wrapper: keeps the run's display snapshot at chosen events (as the engine sends
    ``protocol_display``) besides driving the simulated patient."""

    def __init__(self, script=None, when=lambda e: False):
        self.script, self.when = script, when
        self.snapshots: list[dict] = []
        self.run = None

    def __call__(self, e, board, run):
        self.run = run
        if self.script:
            self.script(e, board, run)
        if self.when(e):
            self.snapshots.append(run.display())


@pytest.fixture(scope="module")
def runs():
    """LOS (one direction not attempted), mCTSIB and target training, run to the end."""
    application()
    out = {}
    los_snap = Recorder(
        lean_to_targets(skip=(5,)), lambda e: e.kind == "target_shown" and e.data["target"] == 0
    )
    out["los"] = (*drive(find("los"), "sim://?realtime=0&seed=3&respond=0", los_snap), los_snap)
    m = Recorder(when=lambda e: e.kind == "trial_started")
    out["mctsib"] = (*drive(find("mctsib"), "sim://?realtime=0&seed=2", m), m)
    t = Recorder(when=lambda e: e.kind == "target_shown")
    out["targets"] = (*drive(find("weight_shift"), "sim://?realtime=0&seed=5", t, level=4), t)
    # the joint-position test on a plate (mm) and a tilt board (deg); the plate run keeps its
    # display snapshots (as the engine sends them while the run goes on)
    j = Recorder()
    source = open_source("sim://?realtime=0&seed=3")
    instruct = source.instruct

    def snapshot_then_instruct(instruction):  # the harness instructs the board once a read
        if j.run is not None:
            j.snapshots.append(j.run.display())
        instruct(instruction)

    source.instruct = snapshot_then_instruct
    out["reposition"] = (*drive(find("joint_position"), script=j, source=source), j)
    out["reposition_deg"] = drive(find("joint_position"), "sim://?realtime=0&seed=3&sensor=imu")
    return out


#: Runs recorded by ``nmr-balance run`` for the result panel: key, protocol, source, options.
RECORDED = (
    ("los", "los", "sim://?realtime=0&rate=100&seed=3", ()),
    ("mctsib", "mctsib", "sim://?realtime=0&rate=100&seed=2", ()),
    ("romberg", "romberg", "sim://?realtime=0&rate=100&seed=4", ()),
    ("single_leg", "single_leg", "sim://?realtime=0&rate=100&seed=4", ()),
    ("weight_shift", "weight_shift", "sim://?realtime=0&rate=100&seed=4", ("--level", "1")),
    ("joint_position", "joint_position", "sim://?realtime=0&seed=3", ()),
    ("joint_position_deg", "joint_position", "sim://?realtime=0&seed=3&sensor=imu", ()),
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A station database holding one recorded run of each :data:`RECORDED` protocol (the
    simulated board, as fast as it goes), and each run's trial ids."""
    tmp = tmp_path_factory.mktemp("recorded")
    db, ids = tmp / "station.db", {}
    for key, name, url, extra in RECORDED:
        out = subprocess.run(
            [sys.executable, "-m", "nmr_balance.app.cli", "run", name, *extra]
            + ["--source", url, "--patient", "P001"]
            + ["--db", str(db), "--data-dir", str(tmp / "data"), "--quiet", "--json"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert out.returncode == 0, out.stderr[-3000:]
        ids[key] = json.loads(out.stdout)["recorded_trial_ids"]
    return db, ids


def done_message(run, trial_ids: list[int]):
    """The engine's ``ProtocolDone`` reply for a run whose trials are ``trial_ids``."""
    from nmr_balance.engine import messages as m

    return m.ProtocolDone(
        phase=run.phase,
        results=[r.to_dict() for r in run.results],
        trial_ids=trial_ids,
        los_path=None,
    )


@pytest.fixture
def console(qtbot, tmp_path, recorded):
    """A console on a copy of the :func:`recorded` station database."""
    shutil.copy(recorded[0], tmp_path / "station.db")
    with console_on(qtbot, tmp_path / "station.db") as (window, _):
        yield window


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_console_fits_the_screen_with_no_text_cut(qtbot, console, size, artifacts_dir):
    window = console
    # a 1366x768 laptop minus its task bar and title bar: the console must fit in it at start
    need = window.minimumSizeHint()
    assert need.width() <= 1366 and need.height() <= 768 - 60, need
    settle(qtbot, window, size)
    assert (window.width(), window.height()) == size
    assert cut_texts(window) == []
    panel = window.session_panel
    # the notes box shows several lines, never squeezed to one
    assert panel.notes.height() >= 3 * panel.notes.fontMetrics().lineSpacing()
    save_shot(window, artifacts_dir / f"console_{size[0]}x{size[1]}.png")
    # a protocol sets condition, stance and duration: its rows make way for a line saying so
    panel.exercise.setCurrentIndex(panel.exercise.findData("mctsib"))
    settle(qtbot, window)
    assert not panel.duration.isVisibleTo(panel) and not panel.vision.isVisibleTo(panel)
    assert panel.protocol_sets.isVisibleTo(panel)
    assert panel.exercise.currentText() == "mCTSIB"  # the short name; the title is the tooltip
    assert "modified Clinical Test" in panel.exercise.itemData(
        panel.exercise.currentIndex(), QtCore.Qt.ToolTipRole
    )
    assert cut_texts(window) == []
    for key in [panel.exercise.itemData(i) for i in range(panel.exercise.count())]:
        if key is None:
            continue  # the separator
        panel.exercise.setCurrentIndex(panel.exercise.findData(key))
        settle(qtbot, window, ms=0)
        assert cut_texts(panel) == [], key


def feed_run(window, run, events, trial_ids: list[int], snapshot: dict | None = None) -> None:
    """Hand the console a run as the engine would: started, events, display, done (its trials
    stored as ``trial_ids``)."""
    window._on_protocol_started({**run.describe(), "level_reason": ""})
    for e in events:
        window._on_protocol_event(e.to_dict())
    if snapshot is not None:
        window._on_protocol_display(snapshot)
    window._on_protocol_done(done_message(run, trial_ids))


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_protocol_result_panel_los_and_mctsib(qtbot, console, runs, recorded, size, artifacts_dir):
    from recordings.report_data import run_block

    window, ids = console, recorded[1]
    settle(qtbot, window, size)
    progress = window.protocol_progress
    run, events, _ = runs["los"]
    window.live.set_stream(run.info)  # the console's plots, as when the board is connected
    assert window.live.scale_box.currentData() == 40.0
    window._on_protocol_started({**run.describe(), "level_reason": ""})
    # the therapist's sway plot zooms out to show the LOS targets (~130 mm forward)...
    assert window.live.scale_box.currentData() == 160.0
    feed_run(window, run, events, ids["los"])
    assert window.live.scale_box.currentData() == 40.0  # ...and back after the run
    settle(qtbot, window)
    assert (window.width(), window.height()) == size  # the results never grow the window
    text = progress.summary.text()
    # a table: one row per direction, with units, and no dictionary dump
    for name in ("F", "FR", "R", "BR", "B", "BL", "L", "FL"):
        assert f"<td>{name}&nbsp;</td>" in text, name
    assert "RT<br>s" in text and "MVL<br>mm/s" in text and "DCL<br>%" in text
    assert "kind:" not in text and "trials:" not in text
    # the stored record's numbers: the LOS of the recorded trial, as the note rounds them
    stored = run_block(window.store, ids["los"]).los
    assert "<td><b>" + "</b>&nbsp;</td><td><b>".join(los_values(stored.composite)) in text
    assert progress.polygon.isVisibleTo(progress)
    x, y = progress.polygon.reached.getData()
    reached = np.hypot(x, y)[:-1]
    assert reached[0] == pytest.approx(stored.per_direction["F"].max_excursion_pct)
    assert 50 < reached[0] < 150  # the simulated patient leaned towards the forward target
    assert cut_texts(window) == []
    save_shot(progress, artifacts_dir / f"protocol_result_los_{size[0]}x{size[1]}.png")
    save_shot(window, artifacts_dir / f"console_los_result_{size[0]}x{size[1]}.png")

    run, events, _ = runs["mctsib"]
    window._on_protocol_started({**run.describe(), "level_reason": ""})
    assert window.live.scale_box.currentData() == 40.0  # standing tests: no targets, no zoom
    feed_run(window, run, events, ids["mctsib"])
    settle(qtbot, window)
    assert (window.width(), window.height()) == size
    text = progress.summary.text()
    assert "eyes closed, foam" in text and "mm/s" in text
    assert "Sensory ratios" in text and not progress.polygon.isVisibleTo(progress)
    block = run_block(window.store, ids["mctsib"])
    assert all(escape(line) in text for line in ratio_lines(block))
    lines = [progress.results.item(i).text() for i in range(progress.results.count())]
    assert all("mm/s" in line for line in lines if "mean velocity" in line), lines
    assert cut_texts(window) == []
    save_shot(progress, artifacts_dir / f"protocol_result_mctsib_{size[0]}x{size[1]}.png")


def test_los_table_says_no_movement_for_a_direction_not_attempted(runs):
    """Direction 5 (back-left) was not attempted: the table says so, never 0 s / -44 %."""
    from nmr_balance.results import LosResult
    from ui.protocol_progress import los_table

    run, _, _ = runs["los"]
    los = LosResult.from_dict(run.results[-1].scores)
    assert los.per_direction["BL"].movement_detected is False
    text = los_table(los, "mm")
    assert "<td>BL&nbsp;</td><td colspan='3'><i>no movement detected</i>" in text


def test_the_panel_says_when_a_run_recorded_nothing(qtbot):
    """No station database: the panel says there are no results, it computes none itself."""
    from nmr_balance.engine import messages as m
    from ui.protocol_progress import ProtocolProgress

    application()
    progress = ProtocolProgress()
    qtbot.addWidget(progress)
    done = m.ProtocolDone(phase="done", results=[], trial_ids=[])
    progress.done(done, None, "no trial was recorded, so there are no results")
    assert "no trial was recorded" in progress.summary.text()
    assert not progress.polygon.isVisibleTo(progress)


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_protocol_result_panel_joint_position(qtbot, console, runs, recorded, size, artifacts_dir):
    """The joint-position test's errors as a table: a row per direction and the composite,
    absolute/constant/variable error in the sensor's unit, worded and rounded as the note."""
    from nmr_balance.reporting.results_text import reposition_values
    from recordings.report_data import run_block

    window, ids = console, recorded[1]
    settle(qtbot, window, size)
    progress = window.protocol_progress
    run, events, _ = runs["reposition"]
    feed_run(window, run, events, ids["joint_position"])
    settle(qtbot, window)
    assert (window.width(), window.height()) == size
    text = progress.summary.text()
    assert "AE<br>mm" in text and "CE<br>mm" in text and "VE<br>mm" in text
    stored = run_block(window.store, ids["joint_position"]).reposition
    assert set(stored.per_direction) == {"F", "R", "B", "L"}
    for name, scores in stored.per_direction.items():
        row = "".join(f"<td>{v}&nbsp;</td>" for v in [name, *reposition_values(scores), scores.n])
        assert row in text, (name, text)
    composite = reposition_values(stored.composite)
    assert all(v != "-" for v in composite)  # finite errors, the stored record's
    assert "".join(f"<td><b>{v}</b>&nbsp;</td>" for v in composite) in text
    assert "kind:" not in text and "nan" not in text.lower()
    assert not progress.polygon.isVisibleTo(progress)
    assert cut_texts(window) == []
    save_shot(progress, artifacts_dir / f"protocol_result_joint_position_{size[0]}x{size[1]}.png")
    save_shot(window, artifacts_dir / f"console_joint_position_result_{size[0]}x{size[1]}.png")
    # on a tilt board the same table reads in degrees
    run, events = runs["reposition_deg"]
    assert run.unit == "deg"
    feed_run(window, run, events, ids["joint_position_deg"])
    settle(qtbot, window)
    text = progress.summary.text()
    assert "AE<br>deg" in text and "<br>mm" not in text
    assert cut_texts(window) == []


def in_view(screen, x: float, y: float, r: float) -> bool:
    """The circle (x, y, r) lies inside what the patient screen shows, with a margin."""
    (x0, x1), (y0, y1) = screen.plot.getPlotItem().getViewBox().viewRange()
    return x0 < x - r and x + r < x1 and y0 < y - r and y + r < y1


@pytest.mark.parametrize("preset", ["standard", "seniors", "children"])
def test_patient_screen_shows_every_target_with_room_to_spare(qtbot, runs, preset, artifacts_dir):
    from ui.patient_screen import MAX_TEXT_FRACTION, PatientScreen

    screen = PatientScreen("mm", preset=preset)
    qtbot.addWidget(screen)
    for size in (*SCREEN_SIZES, (800, 600)):
        for name in ("los", "mctsib", "targets"):
            run, events, snaps = runs[name]
            facts = run.describe()
            screen.set_extent(facts["extent"])
            shown = [e.data for e in events if e.kind == "target_shown"]
            snap = snaps.snapshots[-1 if name == "targets" else 0]
            screen.show_protocol(snap)
            xy = np.array([[3.0, 5.0], [4.0, 6.0]])
            targets = snap.get("targets", [])
            from ui.live_metrics import Target

            screen.show_frame(xy, 100.0, [Target(*t) for t in targets], 0 if targets else None)
            settle(qtbot, screen, size)
            tag = f"{name}_{preset}_{size[0]}x{size[1]}"
            # every target of the run, and the whole LOS, inside the view with a margin
            for d in shown:
                assert in_view(screen, d["x"], d["y"], d.get("radius", 0.0)), (tag, d)
            los = np.array(facts["los"]["reach"])
            b = np.radians(np.arange(8) * 45.0)
            for x, y in zip(los * np.sin(b), los * np.cos(b)):
                assert in_view(screen, x, y, 0.0), (tag, x, y)
            # the display keeps most of the screen whatever the preset's font
            assert screen.plot.height() >= (1 - MAX_TEXT_FRACTION) * screen.height() - 60, tag
            assert cut_texts(screen) == [], tag
            if name == "mctsib":  # a sensory test: a fixed fixation dot, no live sway feedback
                assert snap["feedback"] is False and not screen.feedback
                assert screen._fixation.isVisible() and not screen._cursor.isVisible()
            else:
                assert screen.feedback and screen._cursor.isVisible()
                assert not screen._fixation.isVisible()
            save_shot(screen, artifacts_dir / f"patient_screen_{tag}.png")


def test_patient_screen_tells_the_joint_position_prompt(qtbot, runs, artifacts_dir):
    """During the joint-position test the patient screen says what to do now, the task's prompt
    (eyes closed: go back to the position; back to the centre), not only the step's
    instruction; with the eyes closed no cursor is drawn."""
    from ui.patient_screen import PatientScreen

    run, _, snaps = runs["reposition"]
    reproduce = [d for d in snaps.snapshots if d.get("prompt", "").startswith("Eyes closed")]
    back = [d for d in snaps.snapshots if d.get("prompt") == "Back to the centre"]
    assert reproduce and back  # the run's own display snapshots of both phases
    screen = PatientScreen("mm", preset="seniors")
    qtbot.addWidget(screen)
    screen.set_extent(run.describe()["extent"])
    settle(qtbot, screen, (1366, 768))
    screen.show_protocol(reproduce[0])
    settle(qtbot, screen)
    text = screen.message.text()
    assert "Eyes closed: go back to that position and hold it" in text
    assert run.protocol.steps[0].instruction not in text  # the prompt of the moment, not all
    assert not screen.feedback and not screen._cursor.isVisible()
    assert cut_texts(screen) == []
    save_shot(screen, artifacts_dir / "patient_screen_joint_position_reproduce_1366x768.png")
    screen.show_protocol(back[0])
    assert "Back to the centre" in screen.message.text() and screen.feedback


def test_los_targets_were_out_of_view_before_and_the_run_knows_its_extent(runs):
    run, events, _ = runs["los"]
    shown = [e.data for e in events if e.kind == "target_shown"]
    far = max(math.hypot(d["x"], d["y"]) + d["radius"] for d in shown)
    assert far > 50  # outside the old fixed +-50 mm view
    assert run.view_extent() == pytest.approx(max(far, max(run.los.reach)))


def test_cue_sounds_are_distinct_tones_and_flash_without_audio(qtbot):
    from ui.patient_screen import FLASH_COLOURS, FLASH_MS, PatientScreen
    from ui.sounds import RATE_HZ, TONES, Sounds, tone, tone_files

    application()
    # three distinct cues: different pitch and contour (rising start, falling stop, short hit)
    peaks = {}
    for name, notes in TONES.items():
        x = tone(notes).astype(float)
        half = len(x) // 2
        first, last = (
            np.fft.rfftfreq(len(p), 1 / RATE_HZ)[np.argmax(np.abs(np.fft.rfft(p)))]
            for p in (x[:half], x[half:])
        )
        peaks[name] = (round(first), round(last))
    assert peaks["start"][0] < peaks["start"][1] and peaks["stop"][0] > peaks["stop"][1]
    assert len({p[1] for p in peaks.values()}) == 3
    for name, path in tone_files().items():
        with wave.open(str(path)) as w:
            assert w.getframerate() == RATE_HZ and w.getnframes() == len(tone(TONES[name]))
    with pytest.raises(ValueError, match="no sound"):
        Sounds().play("boom")

    # this station: either the tones can play, or it says why not and the screen will flash
    here = Sounds()
    assert (
        here.play("hit") is True if here.available else (here.why_silent and not here.play("hit"))
    )
    # a station without the sound module (or without an audio output): a visual flash
    screen = PatientScreen("mm", sounds=Sounds(multimedia=None))
    qtbot.addWidget(screen)
    screen.resize(800, 600)
    screen.show()
    sounds = screen.sounds
    assert not sounds.available and "sound" in sounds.why_silent
    assert sounds.play("start") is False
    for name in ("start", "stop", "hit"):
        screen.cue(name)
        assert screen.last_flash == name
        colour = screen.plot.backgroundBrush().color().name().upper()
        assert colour == FLASH_COLOURS[name].upper()
    qtbot.wait(FLASH_MS + 200)
    assert screen.plot.backgroundBrush().color().name() == "#000000"
    screen.last_flash = ""
    screen.sound_on = False  # sounds switched off: start and stop say nothing, a hit flashes
    screen.cue("start")
    assert screen.last_flash == ""
    screen.celebrate_hit()
    assert screen.last_flash == "hit"


def test_fullscreen_on_one_screen_opens_a_window_and_esc_leaves_fullscreen(qtbot):
    from ui.patient_screen import PatientScreen

    application()
    assert len(QtGui.QGuiApplication.screens()) == 1  # the offscreen platform: one screen
    screen = PatientScreen("mm")
    qtbot.addWidget(screen)
    assert screen.go_fullscreen() is False  # would cover the console: a window instead
    assert screen.isVisible() and not screen.isFullScreen()
    screen.showFullScreen()  # the therapist asks for it anyway (F11)
    qtbot.waitUntil(screen.isFullScreen, timeout=2000)
    qtbot.keyClick(screen, QtCore.Qt.Key_Escape)
    qtbot.waitUntil(lambda: not screen.isFullScreen(), timeout=2000)
    qtbot.keyClick(screen, QtCore.Qt.Key_F11)
    qtbot.waitUntil(screen.isFullScreen, timeout=2000)
    qtbot.keyClick(screen, QtCore.Qt.Key_Escape)
    qtbot.waitUntil(lambda: not screen.isFullScreen(), timeout=2000)


def test_console_on_one_screen_says_where_the_patient_screen_went(qtbot, console):
    window = console
    window.show_patient_screen(fullscreen=True)
    assert not window.patient_screen.isFullScreen()
    assert any("only one screen" in m for m in window.messages)
    # where no tone can play, the console says why and that the patient screen flashes
    silent = not window.patient_screen.sounds.available
    assert any("flashes instead" in m for m in window.messages) == silent


def test_disabled_controls_look_disabled(qtbot):
    from ui.session_panel import SessionPanel

    application()
    panel = SessionPanel()
    qtbot.addWidget(panel)
    panel.resize(372, 700)
    panel.show()
    panel.set_state(session=True, connected=True, recording=False)
    qtbot.wait(20)

    def colour(w) -> tuple[int, int, int]:
        image = w.grab().toImage()
        c = image.pixelColor(image.width() // 2, image.height() // 2)
        return c.red(), c.green(), c.blue()

    enabled = colour(panel.duration)
    panel.set_state(session=True, connected=True, recording=True)  # a free trial running
    qtbot.wait(20)
    assert not panel.duration.isEnabled()
    assert colour(panel.duration) != enabled  # greyed, not only unresponsive


def test_abort_asks_first(qtbot):
    from ui.session_panel import SessionPanel

    application()
    panel = SessionPanel()
    qtbot.addWidget(panel)
    asked, answers, stops = [], [False, True], []
    panel.confirm = lambda parent, title, text: asked.append(text) or answers.pop(0)
    panel.stop_trial_requested.connect(stops.append)
    panel.set_state(session=True, connected=True, recording=True)
    panel.trial_running()
    panel.abort_button.click()  # "Keep going"
    assert asked and "kept" in asked[0] and stops == []
    panel.abort_button.click()  # "Abort"
    assert stops == ["aborted"]
    # the real question box: Abort is not the default, Enter keeps the trial going
    from ui.session_panel import _ask

    def answer():
        box = QtWidgets.QApplication.activeModalWidget()
        assert isinstance(box, QtWidgets.QMessageBox)
        assert box.defaultButton() is box.button(QtWidgets.QMessageBox.No)
        qtbot.keyClick(box, QtCore.Qt.Key_Return)

    QtCore.QTimer.singleShot(100, answer)
    assert _ask(panel, "Abort?", "Abort this trial?") is False


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_replay_compare_progress_tabs_fit_with_no_text_cut(qtbot, tmp_path, size, artifacts_dir):
    """Every tab of the console, with a patient's stored trials in it."""
    from ui_store import fill_store

    ids = fill_store(tmp_path / "station.db")
    with console_on(qtbot, tmp_path / "station.db") as (window, _):
        settle(qtbot, window, size)
        window.open_in_replay(ids[(2, "closed")])
        window.replay.seek(3.0)
        window.compare.reload()
        window.compare.compare(*(c.picker.trial_id() for c in window.compare.columns))
        window.progress.show_patient("P001")
        for tab in (window.replay, window.compare, window.progress):
            window.tabs.setCurrentWidget(tab)
            settle(qtbot, window)
            assert (window.width(), window.height()) == size
            assert cut_texts(window) == [], window.tabs.tabText(window.tabs.currentIndex())
            name = window.tabs.tabText(window.tabs.currentIndex()).lower()
            save_shot(window, artifacts_dir / f"console_{name}_{size[0]}x{size[1]}.png")


@pytest.mark.parametrize(
    "name, expect",
    [
        ("romberg", ("Sensory ratios", "eyes closed, firm", "mm/s")),
        ("single_leg", ("single-leg left", "single-leg right", " s")),
        ("weight_shift", ("success", "%", "level 1")),
    ],
)
def test_every_summary_kind_reads_as_a_table_with_units(recorded, name, expect):
    """The result panel's text for the other summary kinds, from recorded runs: no dictionary
    dump, units on every number."""
    from recordings import Store
    from recordings.report_data import run_block
    from ui.protocol_progress import block_html

    store = Store.open(recorded[0], read_only=True)
    try:
        text = block_html(run_block(store, recorded[1][name]), "mm")
    finally:
        store.close()
    for words in expect:
        assert words in text, (name, words, text)
    assert "kind:" not in text and "{" not in text and "nan" not in text.lower()
