"""Training exercises on the simulated person: targets, weight shift, tracking, maze, BAPS board,
difficulty levels and progression."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from protocol_harness import drive, free_targets_snapshots

from drivers.sim import Follow, Lean
from drivers.sim.board import TILT_DEG_PER_MM
from nmr_balance.protocols import find, parse_protocol
from nmr_balance.protocols.progression import next_level
from nmr_balance.protocols.schema import Progression

pytestmark = pytest.mark.timeout(60)


def reach_targets(skip=(), scale=1.0):
    """Lean to each target shown, except (repetition, target) pairs in ``skip``."""

    def script(e, board, run):
        if e.kind == "rest":
            board.set_intent(Lean(0.0, 0.0))
        if e.kind == "target_shown":
            rep = run.plan[e.trial].repetition
            if (rep, e.data["target"]) in skip:
                board.set_intent(Lean(0.0, 0.0))
            else:
                board.set_intent(Lean(e.data["x"] / scale, e.data["y"] / scale, 0.3, 0.7))

    return script


def test_target_reaching_counts_hits_and_misses_and_progresses():
    skip = {(1, 2), (1, 5)}  # first set: two targets ignored
    run, events = drive(
        find("target"), "sim://?realtime=0&seed=6&respond=0", reach_targets(skip), level=1
    )
    first, second = run.results
    assert (first.scores["hits"], first.scores["misses"]) == (8, 2)
    assert [o["target"] for o in first.scores["outcomes"] if not o["hit"]] == [2, 5]
    assert (second.scores["hits"], second.scores["misses"]) == (10, 0)
    assert first.scores["success_pct"] == 80 and second.scores["success_pct"] == 100
    times = [o["time_to_hit_s"] for o in second.scores["outcomes"]]
    # react 0.3 s + move 0.7 s + the body's lag, then hold 1.0 s
    assert all(1.2 < t < 3.5 for t in times), times
    assert 0 < second.scores["time_in_target_pct"] < 100
    missed = [e for e in events if e.kind == "target_missed"]
    shown = {e.data["target"]: e.t_s for e in events if e.kind == "target_shown" and e.trial == 0}
    assert [m.t_s - shown[m.data["target"]] for m in missed] == pytest.approx(
        [15.0, 15.0], abs=0.011
    )
    # >= 80 % in each of the last 2 trials -> next level
    training = run.block().training
    assert training.next_level == 2 and "up to level 2" in training.progression
    assert (training.sets, training.hits, training.targets) == (2, 18, 20)
    # random targets: distinct places, within the LOS at the level's distance
    xy = np.array([[e.data["x"], e.data["y"]] for e in events if e.kind == "target_shown"])
    assert len(np.unique(xy.round(3), axis=0)) == 20
    bearing = np.degrees(np.arctan2(xy[:, 0], xy[:, 1]))
    ratio = np.hypot(*xy.T) / run.los.at(bearing)
    assert np.all((ratio >= 0.8 * 0.40 - 1e-9) & (ratio <= 0.40 + 1e-9))


def test_failing_targets_keeps_the_level_and_bad_runs_drop_it():
    skip = {(r, k) for r in (1, 2) for k in range(0, 10, 2)}  # half the targets, both sets
    run, _ = drive(
        find("target"), "sim://?realtime=0&seed=6&respond=0", reach_targets(skip), level=3
    )
    assert [r.scores["success_pct"] for r in run.results] == [50, 50]
    training = run.block().training
    assert training.level == 3 and training.next_level == 3  # levels are 1-based
    rule = Progression(advance_at=80, drop_below=40, over_trials=2)
    assert next_level(rule, 3, 4, [30, 35])[0] == 2
    assert next_level(rule, 3, 4, [90, 35])[0] == 3
    assert next_level(rule, 3, 4, [90, math.nan])[0] == 3  # an unscored trial counts neither way
    assert next_level(rule, 4, 4, [95, 95]) == (4, "stay at the top level 4: success % 95, 95")
    assert next_level(rule, 1, 4, [10, 10])[0] == 1


def test_weight_shift_alternates_sides_and_scores_each_step():
    run, events = drive(
        find("weight_shift"), "sim://?realtime=0&seed=1&respond=0", reach_targets(), level=1
    )
    shown = [(e.trial, e.data["x"], e.data["y"]) for e in events if e.kind == "target_shown"]
    lr = [s for s in shown if s[0] == 0]
    fb = [s for s in shown if s[0] == 1]
    assert [np.sign(x) for _, x, _ in lr] == [1, -1] * 4 and all(abs(y) < 1e-9 for _, _, y in lr)
    assert [np.sign(y) for _, _, y in fb] == [1, -1] * 4 and all(abs(x) < 1e-9 for _, x, _ in fb)
    assert [r.scores["hits"] for r in run.results] == [8, 8]
    assert run.block().training.success_pct == 100


def follow_the_target(lags):
    """Follow each tracking step's moving target with the given lag (s) per step."""

    def script(e, board, run):
        if e.kind == "trial_started":
            path, t0 = run.task.path, e.t_s
            board.set_intent(Follow(lambda t: tuple(path(t - t0)[0]), lags[e.trial]))

    return script


def test_tracking_error_and_lag_follow_the_scripted_lag():
    lags = [0.0, 0.3, 0.9]
    run, _ = drive(
        find("tracking"), "sim://?realtime=0&seed=2&respond=0", follow_the_target(lags), level=1
    )
    scores = [r.scores for r in run.results]
    measured = np.array([s["tracking_lag_s"] for s in scores])
    # the simulated body follows its reference ~0.75 s late, on top of the scripted lag
    assert np.all(measured > np.array(lags) + 0.55) and np.all(measured < np.array(lags) + 0.95), (
        measured
    )
    assert measured[2] - measured[0] == pytest.approx(0.9, abs=0.12)
    for s in scores:
        assert s["tracking_rms_at_lag"] < 0.6 * s["tracking_rms"]
    assert scores[0]["time_in_target_pct"] > 90
    assert run.block().training.success_pct == pytest.approx(
        np.mean([s["time_in_target_pct"] for s in scores])
    )


def maze_protocol(points, width_pct=20):
    return parse_protocol(
        {
            "summary": "training",
            "steps": [
                {
                    "task": "maze",
                    "maze": points,
                    "width_pct": width_pct,
                    "duration_s": 40,
                    "countdown_s": 1,
                }
            ],
        }
    )


def walk(points_mm, speed_mm_s, t0):
    """A path(t) that walks the polyline at constant speed, then stays at its end."""
    seg = np.diff(points_mm, axis=0)
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*seg.T))])

    def path(t):
        s = np.clip((t - t0) * speed_mm_s, 0, cum[-1])
        return float(np.interp(s, cum, points_mm[:, 0])), float(np.interp(s, cum, points_mm[:, 1]))

    return path


@pytest.mark.parametrize("cut_corners", [False, True])
def test_maze_is_completed_along_the_corridor_and_walls_count(cut_corners):
    points = [[0, 0], [40, 0], [40, 40], [-20, 40]]
    protocol = maze_protocol(points)

    def script(e, board, run):
        if e.kind == "trial_started":
            pts = np.array([run.los.point(x, y) for x, y in points])
            if cut_corners:  # straight from start to end, through the walls
                pts = pts[[0, -1]]
            board.set_intent(Follow(walk(pts, 15.0, e.t_s), 0.2))

    run, _ = drive(protocol, "sim://?realtime=0&seed=3&respond=0", script)
    s = run.results[0].scores
    if cut_corners:
        assert not s["completed"] and s["wall_touches"] >= 1 and s["progress_pct"] < 60
        assert s["time_s"] == pytest.approx(40, abs=0.02)
    else:
        length = sum(np.hypot(*np.diff([run.los.point(x, y) for x, y in points], axis=0).T))
        assert s["completed"] and s["wall_touches"] == 0 and s["progress_pct"] == 100
        assert length / 15.0 < s["time_s"] < length / 15.0 + 2.0
        assert s["inside_pct"] == 100


def test_baps_routine_on_a_wobble_board_counts_directions_and_circles():
    """Tilt stream (deg): tilt to 8 directions and back, then circles; the script traces the
    clockwise circles both times, so the counter-clockwise set counts none."""

    def script(e, board, run):
        to_mm = 1.0 / TILT_DEG_PER_MM
        if e.kind == "target_shown":
            board.set_intent(Lean(e.data["x"] * to_mm, e.data["y"] * to_mm, 0.2, 0.6))
        if e.kind == "trial_started" and e.data["task"] == "circles":
            r_mm, t0 = run.task.radius * to_mm, e.t_s
            w = 2 * math.pi / 6.0

            def circle(t):  # clockwise seen from above: bearing grows
                return r_mm * math.sin(w * (t - t0)), r_mm * math.cos(w * (t - t0))

            board.set_intent(Follow(circle, 0.1))

    run, events = drive(
        find("baps"), "sim://?realtime=0&sensor=tilt&seed=1&respond=0", script, level=1
    )
    directions, cw, ccw = run.results
    assert run.unit == "deg" and run.los.reach == (15.0,) * 8
    assert directions.scores["targets"] == 16 and directions.scores["hits"] == 16  # 8 out, 8 back
    shown = [e.data for e in events if e.kind == "target_shown" and e.trial == 0]
    assert [round(math.hypot(d["x"], d["y"]), 6) for d in shown[1::2]] == [0.0] * 8
    assert math.hypot(shown[0]["x"], shown[0]["y"]) == pytest.approx(15.0 * 0.40)
    assert cw.scores["circles"] == 5 and cw.scores["success_pct"] == 100
    assert cw.t_end_s - cw.t_start_s == pytest.approx(30.0, abs=1.5)  # 5 x 6 s, then done
    assert 80 < cw.scores["radius_pct"] < 115 and cw.scores["roundness_pct"] > 80
    assert ccw.scores["circles"] == 0 and ccw.scores["success_pct"] == 0
    assert ccw.t_end_s - ccw.t_start_s == pytest.approx(60.0, abs=0.02)  # ran to its limit


def test_events_are_json_for_the_recorder_and_display_says_what_to_show():
    """The UI pulls ``display()``; the recorder stores ``event.to_dict()``."""
    snapshots = []

    def script(e, board, run):
        snapshots.append((e.kind, run.display()))
        if e.kind == "target_shown":
            board.set_intent(Lean(e.data["x"], e.data["y"], 0.3, 0.7))

    _, events = drive(find("weight_shift"), "sim://?realtime=0&respond=0", script, level=1)
    json.loads(json.dumps([e.to_dict() for e in events]))
    assert {e.kind for e in events} >= {
        "step_started",
        "trial_started",
        "target_shown",
        "target_hit",
        "trial_done",
        "rest",
        "protocol_done",
    }
    assert [e.t_s for e in events] == sorted(e.t_s for e in events)
    shown = [d for k, d in snapshots if k == "target_shown"]
    first = next(e for e in events if e.kind == "target_shown")
    assert shown[0]["phase"] == "trial" and shown[0]["unit"] == "mm"
    assert shown[0]["targets"][0] == pytest.approx(
        [first.data["x"], first.data["y"], first.data["radius"]]
    )
    countdown = next(d for k, d in snapshots if k == "step_started")
    assert countdown["phase"] == "countdown" and "weight" in countdown["instruction"]
    assert countdown["remaining_s"] == pytest.approx(3.0, abs=0.06)


#: A target's nearest edge must lie this far from the centre, in % of its radius: a patient
#: standing still (quiet sway of a few mm) must not "hit" a target without moving.
CENTRE_MARGIN_PCT = 25.0


def test_no_built_in_target_covers_the_centre_at_any_level():
    """Every target of every built-in protocol, at every level, on a plate (theoretical LOS,
    where the back reach is the shortest) and a tilt board, keeps the centre outside it with a
    margin; the centre targets of ``return_to_centre`` are the deliberate way back."""
    from nmr_balance.protocols.geometry import LosProfile
    from nmr_balance.protocols.library import BUILTIN_DIR
    from nmr_balance.protocols.schema import load_protocol
    from nmr_balance.protocols.tasks import TASK_TYPES

    checked = 0
    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        protocol = load_protocol(path)
        for level in range(1, len(protocol.levels) + 1) if protocol.levels else [None]:
            for step in protocol.steps_at(level):
                if step.task not in ("targets", "reposition"):
                    continue
                for los in (LosProfile.theoretical(1.50), LosProfile.theoretical(unit="deg")):
                    for seed in range(10):  # random layouts: several draws
                        task = TASK_TYPES[step.task](step, los, 100.0, los.unit, seed)
                        xy = task.points if step.task == "targets" else task.targets
                        d = np.hypot(*np.asarray(xy).T)
                        if step.task == "targets" and step.return_to_centre:
                            d = d[d > 0]  # the way back to the centre
                        assert d.min() > task.radius * (1 + CENTRE_MARGIN_PCT / 100), (
                            f"{protocol.name} level {level} {step.label!r}: a target "
                            f"{d.min():.3g} {los.unit} from the centre with radius "
                            f"{task.radius:.3g} covers (or nearly) the centre"
                        )
                        checked += 1
    assert checked > 50


def test_a_trial_that_ends_at_its_last_target_counts_targets_not_a_minute():
    """free_targets: 4 targets of up to 15 s each. Its trial ends at the 4th hit, so the display
    gives the target shown (n of 4), its own time left and the most the trial may still last
    (``up_to_s``), never a 60 s countdown (``remaining_s``) it does not keep."""
    events, snapshots = free_targets_snapshots()  # (event, display()) at each event
    started = next(e.t_s for e in events if e.kind == "trial_started")
    ended = next(e.t_s for e in events if e.kind == "trial_done")
    assert [e.kind for e in events].count("target_hit") == 4
    assert ended - started < 4 * 15 - 10  # it ended at the 4th hit, well before 60 s
    trial = [d for e, d in snapshots if d["phase"] == "trial"]
    assert trial and all("remaining_s" not in d for d in trial)
    shown = [(e, d) for e, d in snapshots if e.kind == "target_shown"]
    assert [d["target_number"] for _, d in shown] == [1, 2, 3, 4]
    for e, d in shown:
        assert d["target_count"] == 4
        late = d["up_to_s"] - (started + 60.0 - e.t_s)  # the display is of the block's end
        assert -0.5 < late <= 0.0 and d["target_left_s"] == pytest.approx(15.0 + late)
    # a trial of a set length still counts down (the countdown before it too)
    countdown = next(d for e, d in snapshots if e.kind == "step_started")
    assert countdown["phase"] == "countdown" and "target_number" not in countdown
    assert 0 < countdown["remaining_s"] <= 3.0
