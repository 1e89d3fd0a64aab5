"""The clinical tests, run on the simulated person following a script, scored as it implies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from protocol_harness import drive

from drivers.sim import Lean, LoseBalance, StepOff, StepOn
from nmr_balance.protocols import LosProfile, find, parse_protocol
from nmr_balance.results import LOS_DIRECTIONS

pytestmark = pytest.mark.timeout(60)


def test_mctsib_orders_conditions_counts_falls_and_gives_ratios():
    fell_once = []

    def script(e, board, run):
        # eyes closed on foam: the patient steps off in the first attempt, holds the second one
        if (
            e.kind == "trial_started"
            and e.data["condition"]["surface"] == "foam"
            and e.data["condition"]["vision"] == "closed"
            and not fell_once
        ):
            fell_once.append(e.t_s)
            board.schedule(e.t_s + 12.0, StepOff())
            board.schedule(e.t_s + 16.0, StepOn())

    run, events = drive(find("mctsib"), "sim://?realtime=0&seed=5", script)
    block = run.block()  # the one session summary's block, of the trials in memory
    c = block.conditions
    labels = ("eyes open, firm", "eyes closed, firm", "eyes open, foam", "eyes closed, foam")
    assert list(c) == list(labels)  # in the order of the test
    v = dict(zip(("open_firm", "closed_firm", "open_foam", "closed_foam"), labels))
    v = {k: c[label].mean_velocity for k, label in v.items()}
    assert v["open_firm"] < v["closed_firm"] < v["open_foam"] < v["closed_foam"], v
    assert 4 < v["open_firm"] < 25 and v["closed_foam"] < 60  # mm/s
    # each condition's mean is of its held trial's own sway, as the task measured it
    held = [r for r in run.results if r.status == "complete"]
    assert [c[label].mean_velocity for label in labels] == [r.scores["mean_velocity"] for r in held]
    ratios = block.sensory_ratios
    assert ratios["somatosensory"] == pytest.approx(v["closed_firm"] / v["open_firm"])
    assert ratios["visual"] == pytest.approx(v["open_foam"] / v["open_firm"])
    assert ratios["vestibular"] == pytest.approx(v["closed_foam"] / v["open_firm"])
    assert ratios["vestibular"] > ratios["visual"] > ratios["somatosensory"] > 1
    # the fall: detected ~12 s in, trial retried once, only the held trial is averaged
    assert (c["eyes closed, foam"].trials, c["eyes closed, foam"].falls) == (2, 1)
    lost = [e for e in events if e.kind == "balance_lost"]
    assert len(lost) == 1 and lost[0].data["reason"] == "stepped off the board"
    assert lost[0].data["after_s"] == pytest.approx(12.0, abs=0.1)
    fallen = [r for r in run.results if r.status == "lost_balance"]
    assert len(fallen) == 1 and fallen[0].attempt == 1
    assert fallen[0].scores["time_standing_s"] == pytest.approx(12.0, abs=0.1)
    assert all(r.status == "complete" for r in run.results if r is not fallen[0])
    assert [e.data["attempt"] for e in events if e.kind == "step_started"] == [1, 1, 1, 1, 2]


def test_romberg_quotient_is_eyes_closed_over_eyes_open():
    run, _ = drive(find("romberg"), "sim://?realtime=0&seed=2")
    eo, ec = run.results
    assert (eo.condition["vision"], ec.condition["vision"]) == ("open", "closed")
    q = run.block().sensory_ratios["somatosensory"]
    assert q == pytest.approx(ec.scores["mean_velocity"] / eo.scores["mean_velocity"])
    assert q > 1.1  # the simulated person sways more with eyes closed
    assert eo.scores["path_length"] == pytest.approx(eo.scores["mean_velocity"] * 30, rel=0.01)


def test_single_leg_stance_times_the_loss_of_balance_from_the_signal():
    loss_after = {1: 8.0, 2: 12.0, 3: 10.0}  # left leg: loses balance in every attempt

    def script(e, board, run):
        if e.kind == "trial_started" and e.data["condition"]["stance"] == "left":
            attempt = run.attempt
            board.schedule(e.t_s + loss_after[attempt], LoseBalance(2.0))

    # a 2 s loss of control is not always a fall: the seed is one where it is, in every attempt
    run, _events = drive(find("single_leg"), "sim://?realtime=0&seed=5", script)
    left = [r for r in run.results if r.condition["stance"] == "left"]
    right = [r for r in run.results if r.condition["stance"] == "right"]
    assert [r.status for r in left] == ["lost_balance"] * 3
    for r, after in zip(left, loss_after.values()):
        # the body needs a moment to fall far enough to be told from single-leg sway
        assert after < r.scores["time_standing_s"] < after + 2.0, r.scores
        assert r.scores["loss_reason"] == "sway left the stable area"
    assert [r.status for r in right] == ["complete"]
    block = run.block()
    assert block.single_leg["right"] == (30, True)
    assert block.single_leg["left"] == (max(r.scores["time_standing_s"] for r in left), False)
    # every attempt fell: no held trial, so no mean sway for the left leg, three falls
    c = block.conditions["eyes open, firm, single leg left"]
    assert (c.trials, c.falls) == (3, 3) and math.isnan(c.mean_velocity)


def test_the_note_and_the_pdf_give_the_same_single_leg_times(tmp_path):
    """Recorded from the command line, reported as the clinic reads it: the note's line and the
    PDF's row give each leg's best time (and each condition's sway) rounded alike, in the same
    words (``results_text``)."""
    from _helpers import run_cli
    from _report_util import pdf_text

    from nmr_balance.reporting import fmt
    from recordings import Store
    from recordings.report_data import load_session_summary

    db, note, pdf = tmp_path / "s.db", tmp_path / "n.txt", tmp_path / "r.pdf"
    # a person who holds the left leg and falls on the right (every attempt) at this seed
    source = "sim://?realtime=0&skill=0.1&seed=3"
    run = run_cli(
        *("run", "single_leg", "--source", source, "--patient", "P1", "--db", str(db)),
        *("--data-dir", str(tmp_path), "-q"),
    )
    assert run.returncode == 0, run.stderr
    report = run_cli(
        "report", "--session", "1", "--db", str(db), "--note", str(note), "--pdf", str(pdf)
    )
    assert report.returncode == 0, report.stderr
    with Store.open(db, read_only=True) as store:
        (block,) = load_session_summary(store, store.session(1)).blocks
    assert block.single_leg["left"] == (30, True) and not block.single_leg["right"][1]
    right_s = block.single_leg["right"][0]
    assert 0 < right_s < 30 and fmt.number(right_s) != repr(right_s)  # rounded
    text, pdf_words = " ".join(note.read_text().split()), pdf_text(pdf)
    assert "single-leg left: 30.0 s (held the full time)" in text
    assert "single-leg left best 30.0 s (held the full time)" in pdf_words
    assert f"single-leg right: {fmt.number(right_s)} s" in text
    assert f"single-leg right best {fmt.number(right_s)} s" in pdf_words
    assert f"single-leg right best {fmt.number(right_s)} s (held" not in pdf_words
    held = block.conditions["eyes open, firm, single leg left"]
    fell = block.conditions["eyes open, firm, single leg right"]
    velocity = f"{fmt.number(held.mean_velocity)} {held.unit}/s"
    assert f"single leg left: mean sway velocity {velocity}" in text
    assert f"single leg left {held.trials} {held.falls} {velocity}" in pdf_words
    assert f"single leg right: no trial held to the end; falls {fell.falls} of" in text
    assert f"single leg right {fell.trials} {fell.falls} no trial held to the end" in pdf_words


def lean_script(fraction=0.9):
    """Lean to ``fraction`` of each LOS target; odd directions react 0.6 s later, directions
    2, 3, 6, 7 move twice as slowly (so each effect averages out of the other's comparison)."""

    def script(e, board, run):
        if e.kind == "target_shown":
            k = e.data["target"]
            reaction, movement = 0.3 + 0.6 * (k % 2), 0.8 * (1 + (k // 2) % 2)
            board.set_intent(
                Lean(e.data["x"] * fraction, e.data["y"] * fraction, reaction, movement)
            )
            board.schedule(e.t_s + 8.0, Lean(0.0, 0.0, 0.2, 1.0))  # target out: back to centre

    return script


def test_limits_of_stability_scores_follow_the_scripted_leans():
    run, events = drive(find("los"), "sim://?realtime=0&seed=3&respond=0", lean_script())
    scores = run.results[0].scores
    per = scores["per_direction"]
    assert [d["bearing_deg"] for d in per] == [0, 45, 90, 135, 180, 225, 270, 315]
    for d in per:
        assert 80 < d["max_excursion_pct"] < 110, d  # leaned to 90 % of each target
        assert 65 < d["endpoint_excursion_pct"] <= d["max_excursion_pct"] + 1e-9, d
        assert d["directional_control_pct"] > 70, d  # straight, min-jerk movements
    rt = np.array([d["reaction_time_s"] for d in per])
    vel = np.array([d["movement_velocity"] for d in per])
    # reaction time is sharpest for brisk movements (a slow lean starts inside the sway noise)
    early, late, slow = np.array([0, 4]), np.array([1, 5]), np.array([2, 3, 6, 7])
    assert rt[late].mean() - rt[early].mean() == pytest.approx(0.6, abs=0.15)
    # dsp times the onset of the movement towards the target, i.e. after the COP's anticipatory
    # counter-movement, which the simulated body makes over ~0.5 s after the scripted reaction
    assert np.all(rt[early] > 0.3) and np.all(rt[early] < 1.2)
    # velocity per mm of target distance: leans scripted twice as slow come out clearly slower
    # (the body's own dynamics cap the fast ones, so the ratio is below 2)
    distance = np.array(
        [np.hypot(e.data["x"], e.data["y"]) for e in events if e.kind == "target_shown"]
    )
    speed = vel / distance
    assert speed[np.r_[early, late]].mean() > 1.25 * speed[slow].mean()
    los = run.block().los  # typed, as the record keeps it
    assert los.composite.reaction_time_s == pytest.approx(rt.mean())
    assert [los.per_direction[d].reaction_time_s for d in LOS_DIRECTIONS] == list(rt)
    # the measured LOS: 90 % of the theoretical reach used for the targets
    theoretical = LosProfile.theoretical(1.70)
    assert los.measured_note == ""
    # within the sway (a few mm) plus overshoot of the leaned position
    assert np.array(los.measured_reach) == pytest.approx(
        0.9 * np.array(theoretical.reach), abs=15.0
    )


def test_a_patient_who_does_not_move_gets_no_measured_los():
    run, _ = drive(find("los"), "sim://?realtime=0&seed=3&respond=0")
    los = run.block().los
    assert los.measured_reach == () and "not kept" in los.measured_note
    # no lean: "no movement detected", not a reaction time of ~0 s and a negative DCL (issue 15)
    for d in run.results[0].scores["per_direction"]:
        assert d["movement_detected"] is False, d
        assert math.isnan(d["reaction_time_s"]) and math.isnan(d["directional_control_pct"])
        assert math.isfinite(d["max_excursion_pct"])  # where the sway went is still reported
    assert run.results[0].scores["composite"]["directions_moved"] == 0
    # the stored, typed results keep the flag
    from nmr_balance.results import TrialResults

    stored = TrialResults().with_scores(run.results[0].scores, "complete", None).to_dict()
    back = TrialResults.from_dict(stored).los
    assert all(s.movement_detected is False for s in back.per_direction.values())
    assert back.composite.movement_detected is None
    # and the note / PDF say so in words
    from nmr_balance.reporting.results_text import los_line

    line = los_line("F", back.per_direction["F"], "mm")
    assert line.startswith("F: no movement detected (maximum excursion ") and "reaction" not in line


def test_training_places_targets_on_the_measured_los():
    measured = LosProfile.measured([100, 90, 80, 70, 60, 70, 80, 90], "mm")
    _run, events = drive(find("weight_shift"), "sim://?realtime=0", los=measured, level=2)
    shown = [e.data for e in events if e.kind == "target_shown"]
    distance = find("weight_shift").levels[1]["distance_pct"] / 100
    right = next(t for t in shown if t["x"] > 1)
    front = next(t for t in shown if t["y"] > 1)
    back = next(t for t in shown if t["y"] < -1)
    assert right["x"] == pytest.approx(80 * distance) and front["y"] == pytest.approx(
        100 * distance
    )
    assert back["y"] == pytest.approx(-60 * distance)
    assert shown[0]["radius"] == pytest.approx(measured.mean_reach * 0.18)


def test_summaries_only_use_the_trials_of_their_task():
    """A clinic protocol may mix a standing test with an exercise: the summary is not confused."""
    protocol = parse_protocol(
        {
            "summary": "romberg",
            "defaults": {"countdown_s": 1, "duration_s": 10},
            "steps": [
                {"task": "stand", "condition": {"vision": "open"}},
                {"task": "stand", "condition": {"vision": "closed"}},
                {"task": "targets", "layout": "left_right", "count": 2, "timeout_s": 2},
            ],
        }
    )
    run, _ = drive(protocol, "sim://?realtime=0&seed=2")
    assert [r.task for r in run.results] == ["stand", "stand", "targets"]
    block = run.block()
    assert block.sensory_ratios["somatosensory"] == pytest.approx(
        run.results[1].scores["mean_velocity"] / run.results[0].scores["mean_velocity"]
    )
    # the exercise's trial is not a condition of the test, and the test's trials score no hits
    assert list(block.conditions) == ["eyes open, firm", "eyes closed, firm"]
    assert block.training is not None and block.training.targets == 2
