"""Replay, compare and progress views on a database of real (simulated) trials, offscreen."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
import pytest
from _helpers import save_shot
from PySide6 import QtWidgets
from ui_store import fill_store

from recordings import Store
from ui.compare_view import CompareView, relative_change
from ui.progress_view import ProgressView
from ui.replay_view import ReplayView
from ui.theme import apply as apply_theme

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("review") / "station.db"
    ids = fill_store(path)
    s = Store.open(path)
    s.ids = ids
    yield s
    s.close()


def test_replay_controls_play_pause_speed_scrub(qtbot, store, artifacts_dir):
    apply_theme(QtWidgets.QApplication.instance())
    view = ReplayView(store)
    qtbot.addWidget(view)
    view.resize(1100, 900)
    view.show()
    trial_id = store.ids[(0, "closed")]
    view.open_trial(trial_id)
    assert view.picker.trial_id() == trial_id
    assert view.trial.duration_s == pytest.approx(5.99, abs=0.02)
    assert view.position_s == 0.0 and not view.playing
    # events drawn as lines on both stabilograms (marker + cue)
    assert len(view.view.series._events) == 4

    view.set_speed(8.0)
    assert view.speed_box.currentData() == 8.0
    t0 = time.monotonic()
    view.play()
    assert view.playing
    qtbot.wait(300)
    view.pause()
    ran_s = time.monotonic() - t0
    played = view.position_s
    # the playhead moved, by at most 8x the wall time it ran (however busy the machine was)
    assert 0 < played <= min(8 * ran_s, view.trial.duration_s), (played, ran_s)
    qtbot.wait(100)
    assert view.position_s == played  # paused: nothing moves
    n_shown = view.feed.filled
    assert n_shown == view.trial.index_at(played)

    view.seek(4.0)  # scrub forward, then back
    assert view.feed.filled == view.trial.index_at(4.0)
    assert view.slider.value() == 400
    view.seek(1.0)
    assert view.feed.filled == view.trial.index_at(1.0)
    # the newest sample drawn is the one at the playhead
    np.testing.assert_allclose(
        view.feed.xy[-1], view.trial.block.data[view.trial.index_at(1.0) - 1, :2]
    )
    with pytest.raises(ValueError):
        view.set_speed(16.0)
    # play to the end: it stops by itself at the end of the trial
    view.seek(5.5)
    view.play()
    qtbot.waitUntil(lambda: not view.playing, timeout=3000)
    assert view.position_s == pytest.approx(view.trial.duration_s)
    view.seek(3.0)
    save_shot(view, artifacts_dir / "replay_view.png")


def test_compare_two_trials_side_by_side(qtbot, store, artifacts_dir):
    view = CompareView(store)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    first, last = store.ids[(0, "closed")], store.ids[(3, "closed")]
    view.compare(first, last)
    a, b = view.trials
    assert a.trial.id == first and b.trial.id == last
    # the later trial was recorded with 55 % of the sway: slower and smaller
    assert b.figures["mean_velocity"] < a.figures["mean_velocity"]
    changes = dict(relative_change(a.figures, b.figures))
    # 0.55 x the sway of another simulated trial (another seed): about -45 %, give or take the
    # trial-to-trial variation of the simulated person
    assert -70 < changes["mean velocity"] < -25
    assert "mean velocity" in view.change.text()
    assert view.columns[0].metrics.values["mean_velocity"].text() != "--"
    save_shot(view, artifacts_dir / "compare_view.png")


def test_progress_by_condition_and_click_opens_trial(qtbot, store, artifacts_dir):
    view = ProgressView(store)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    view.show_patient("P001")
    series = view.series()
    mctsib = "mCTSIB \u2014 "
    assert set(series) == {
        mctsib + "eyes open, firm, feet together",
        mctsib + "eyes closed, foam, feet together",
    }
    for points in series.values():
        assert len(points) == 4
        times = [p[0] for p in points]
        assert times == sorted(times)
    closed = [p[1] for p in series[mctsib + "eyes closed, foam, feet together"]]
    assert closed[-1] < closed[0]  # training worked: the simulated sway shrank
    assert view.metric_box.currentData() == "mean_velocity"
    # a short list of named metrics (the report's titles), not the ~60 raw stored keys
    offered = [view.metric_box.itemText(i) for i in range(view.metric_box.count())]
    assert offered[0] == "Mean sway velocity" and len(offered) <= 12
    assert not any("_" in o or "n samples" in o or "protocol." in o for o in offered)
    assert "mm/s" in view.plot.getPlotItem().getAxis("left").labelText
    # the legend is under the plot (not over its points), one entry per line
    assert view.legend.isVisible() and view.legend.text().count("mCTSIB") == 2
    chosen = []
    view.trial_chosen.connect(chosen.append)
    scatter = next(i for i in view.plot.getPlotItem().items if isinstance(i, pg.ScatterPlotItem))
    spot = scatter.points()[2]
    scatter.sigClicked.emit(scatter, [spot], None)
    assert chosen == [int(spot.data())] and chosen[0] in store.ids.values()
    save_shot(view, artifacts_dir / "progress_view.png")


def test_progress_keeps_protocols_apart_with_one_line_each(qtbot, tmp_path):
    """A LOS trial and a quiet-stance trial in the same condition are two lines, and LOS scores
    are offered under their own names."""
    from ui_store import sim_block

    from recordings import PROCESSED, RAW, Condition
    from recordings.metrics import trial_metrics

    fill_store(tmp_path / "s.db", n_sessions=2)
    s = Store.open(tmp_path / "s.db")
    try:
        session = s.start_session("P001")
        info, block = sim_block("open", "firm", 6.0, seed=9)
        trial_id = s.begin_trial(
            session.id,
            info,
            info,
            protocol="los",
            condition=Condition("open", "firm", "feet_together"),
        )
        s.append_chunk(trial_id, RAW, 0, block)
        s.append_chunk(trial_id, PROCESSED, 0, block)
        composite = {
            "max_excursion_pct": 84.0,
            "directional_control_pct": 91.0,
            "reaction_time_s": 0.6,
        }
        s.finish_trial(
            trial_id, "complete", {**trial_metrics(block, info), "los": {"composite": composite}}
        )
        view = ProgressView(s)
        qtbot.addWidget(view)
        view.resize(1000, 600)
        view.show()
        view.show_patient("P001")
        lines = set(view.series())
        assert "Limits of Stability (8 directions) \u2014 eyes open, firm, feet together" in lines
        assert "mCTSIB \u2014 eyes open, firm, feet together" in lines
        view.metric_box.setCurrentIndex(
            view.metric_box.findText("LOS (all directions) directional control")
        )
        assert view.series() == {
            "Limits of Stability (8 directions) \u2014 eyes open, firm, feet together": [
                (view.rows[-1]["t"], 91.0, trial_id)
            ]
        }
        assert "(%)" in view.plot.getPlotItem().getAxis("left").labelText
    finally:
        s.close()
