"""Console panels on their own: trial countdown and abort, typed source URLs, figures."""

from __future__ import annotations

import math

from PySide6 import QtWidgets
from ui_shots import answer_dialog

from ui.dashboard import application
from ui.metrics_panel import MetricsPanel
from ui.session_panel import SessionPanel
from ui.source_panel import SIMULATED, SourcePanel


def test_countdown_starts_the_trial_and_abort_during_it_starts_nothing(qtbot):
    application()
    panel = SessionPanel(countdown_s=0.3)
    qtbot.addWidget(panel)
    starts, stops = [], []
    panel.start_trial_requested.connect(lambda: starts.append(1))
    panel.stop_trial_requested.connect(stops.append)
    panel.set_state(session=True, connected=True, recording=False)
    panel.start_button.click()
    assert panel.countdown.text() == "starting in 1" and not panel.start_button.isEnabled()
    panel.abort_button.click()  # changed their mind during the countdown
    qtbot.wait(500)
    assert starts == [] and stops == [] and panel.countdown.text() == "cancelled"
    assert panel.start_button.isEnabled()
    with qtbot.waitSignal(panel.start_trial_requested, timeout=2000):
        panel.start_button.click()
    panel.trial_running()
    panel.set_state(session=True, connected=True, recording=True)
    assert not panel.exercise.isEnabled() and panel.cue.isEnabled()
    answer_dialog(qtbot, QtWidgets.QMessageBox.Yes)  # a started trial: Abort asks first
    panel.abort_button.click()
    assert stops == ["aborted"]
    assert panel.condition() == "eyes_open,firm,feet_apart"


def test_source_panel_takes_a_typed_url_or_the_chosen_entry(qtbot):
    application()
    panel = SourcePanel(
        discover=lambda: [("WitMotion on /dev/ttyUSB0", "serial:///dev/ttyUSB0?protocol=witmotion")]
    )
    qtbot.addWidget(panel)
    assert panel.url() == SIMULATED[0][1]
    panel.refresh()
    assert panel.url() == "serial:///dev/ttyUSB0?protocol=witmotion"
    urls = []
    panel.connect_requested.connect(urls.append)
    panel.choice.setEditText("sim://?rate=250")
    panel.connect_button.click()
    assert urls == ["sim://?rate=250"]
    panel.show_url("replay:///tmp/x.db?trial=3")  # connected elsewhere: the picker says so
    assert panel.url() == "replay:///tmp/x.db?trial=3"
    panel.show_url(SIMULATED[1][1])
    assert panel.choice.currentText() == SIMULATED[1][0]
    # while streaming, Connect says what it does: reconnect this source or switch to another
    panel.set_streaming(SIMULATED[1][1])
    assert panel.connect_button.text() == "Reconnect"
    panel.choice.setCurrentIndex(panel.choice.findData(SIMULATED[0][1]))
    panel.set_streaming(SIMULATED[1][1])
    assert panel.connect_button.text() == "Switch to this source"
    panel.set_streaming(None)
    assert panel.connect_button.text() == "Connect"


def test_metrics_panel_formats_values_and_units(qtbot):
    application()
    panel = MetricsPanel(unit="deg")
    qtbot.addWidget(panel)
    panel.show_values({"mean_velocity": 1.234, "ellipse_area_95": math.nan, "hits": 3})
    assert panel.values["mean_velocity"].text() == "1.2"
    assert panel.values["ellipse_area_95"].text() == "--" and panel.values["hits"].text() == "3"
    assert "deg/s" in panel._units["mean_velocity"].text()


def test_free_recordings_come_from_their_protocol_files(qtbot):
    """The free recordings are built-in protocols (one source of truth: title, instruction,
    default length and kind are their TOML's; no levels, so they never set a patient's level).
    Only the quiet stance is started and stopped by the therapist; the 4 targets run as a
    protocol, like every other library protocol, offered once after them."""
    from nmr_balance.protocols.library import discover, facts
    from ui.exercises import FREE_RECORDINGS, library

    known = set(discover())
    choices, broken = library()
    assert broken == [] and [c.key for c in choices[:2]] == list(FREE_RECORDINGS)
    assert sorted(c.key for c in choices) == sorted(known)  # each protocol once
    for c in choices[:2]:
        described = facts(c.key)
        assert c.label == described.title and described.kind == "training"
        assert c.short_label == c.label  # the whole "Free recording: ..." label
        assert not described.protocol.levels
    free, targets = choices[:2]
    assert free.timed_by_therapist and not targets.timed_by_therapist
    assert (free.label, free.instruction, free.duration_s) == (
        "Free recording: quiet stance",
        "Stand still and look ahead.",
        30.0,
    )
    assert targets.label == "Free recording: 4 targets" and targets.path.endswith(
        "free_targets.toml"
    )
    assert [c.key for c in choices if c.timed_by_therapist] == ["free"]
    application()
    panel = SessionPanel()
    qtbot.addWidget(panel)
    panel.set_state(session=True, connected=True, recording=False)
    panel.exercise.setCurrentIndex(panel.exercise.findData("free_targets"))
    assert panel.start_button.text() == "Start protocol" and not panel.duration.isVisibleTo(panel)
    panel.exercise.setCurrentIndex(panel.exercise.findData("free"))
    assert panel.start_button.text() == "Start trial" and panel.duration.isVisibleTo(panel)
    assert panel.duration.value() == 30


def test_stance_choices_are_the_cores_stances(qtbot):
    """The console offers exactly the stances the store accepts (``record.STANCES``, one
    vocabulary): semi-tandem included, and each choice parses back to itself."""
    from nmr_balance.record import STANCES, Condition

    application()
    panel = SessionPanel()
    qtbot.addWidget(panel)
    offered = [panel.stance.itemData(i) for i in range(panel.stance.count())]
    assert offered == list(STANCES)
    for i, stance in enumerate(offered):
        panel.stance.setCurrentIndex(i)
        assert Condition.parse(panel.condition()).stance == stance
        assert "_" not in panel.stance.currentText()  # words, not keys


def test_the_sway_scale_picker_says_the_plots_scale_before_any_stream(qtbot):
    """Before a source is connected the sway plot shows +-40 mm: the picker says so (it was
    blank), and a tilt stream then offers degrees."""
    from nmr_balance.stream import Channel, SensorKind, StreamInfo
    from ui.live_view import LiveView

    application()
    view = LiveView()
    qtbot.addWidget(view)
    assert view.scale_box.currentText() == "\u00b140 mm" and view.scale_box.currentData() == 40.0
    tilt = (Channel("x", "deg"), Channel("y", "deg"))
    view.set_stream(StreamInfo("sim://?sensor=imu", tilt, 100.0, SensorKind.IMU))
    assert view.scale_box.currentText() == "\u00b18 deg"
