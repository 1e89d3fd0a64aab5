"""The simulated patient plays along with the running protocol (issue 15 item 5).

The protocol tells its source what it asks of the patient (``Source.instruct``); ``sim://``
closes the eyes, steps on the foam and leans to the targets, with a settable skill. The first
tests run the real command line, as a user would, faster than real time.
"""

from __future__ import annotations

import json
import math
import pathlib

import numpy as np
import pytest
from _helpers import run_cli

from drivers.sim import LoseBalance, SimulatedBoard
from drivers.sim.patient import Planned, Reach, SetCondition, SimulatedPatient
from nmr_balance.app import open_source
from nmr_balance.instruction import Instruction
from nmr_balance.protocols import ProtocolRun, find
from nmr_balance.source import Source
from nmr_balance.stream import sway_info

pytestmark = pytest.mark.timeout(120)


def run_json(data: pathlib.Path, *args: str) -> dict:
    # a data folder of its own (tmp_path): an LOS run stores the patient's measured LOS, which
    # would place the targets of later runs
    out = run_cli(
        *("run", *args, "--patient", "P1", "--no-record", "--json", "--data-dir", str(data)),
        timeout=110,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_mctsib_eyes_closed_on_foam_sways_more_than_eyes_open_on_firm(tmp_path):
    s = run_json(tmp_path, "mctsib", "--source", "sim://?realtime=0")["summary"]
    names = {"eyes open, firm": "open_firm", "eyes closed, firm": "closed_firm"}
    names |= {"eyes open, foam": "open_foam", "eyes closed, foam": "closed_foam"}
    v = {names[k]: c["mean_velocity"] for k, c in s["conditions"].items()}
    # eyes closed sways more on firm ground, foam more than firm either way (one 30 s trial
    # each: eyes closed vs open on foam is within one trial's spread, so not compared)
    assert v["open_firm"] < v["closed_firm"] < min(v["open_foam"], v["closed_foam"]), v
    assert v["closed_foam"] / v["open_firm"] > 1.5, v
    assert s["sensory_ratios"]["vestibular"] > 1.5 and s["unit"] == "mm"
    # within the published range of quiet standing: Santos & Duarte 2016 (tests/data) measured
    # 6-7 mm/s eyes open on firm ground and 19-20 mm/s on foam for a young adult
    assert 4.0 < v["open_firm"] < 20.0 and 10.0 < v["closed_foam"] < 45.0, v


def test_los_reaches_every_target_straight(tmp_path):
    s = run_json(tmp_path, "los", "--source", "sim://?realtime=0")["summary"]
    los = s["los"]
    assert list(los["per_direction"]) == ["F", "FR", "R", "BR", "B", "BL", "L", "FL"]
    for d in los["per_direction"].values():
        assert d["max_excursion_pct"] >= 60.0, d
        assert d["directional_control_pct"] > 50.0, d
        assert 0.3 < d["reaction_time_s"] < 2.0, d
    # a real reach in every direction: kept as the patient's LOS
    assert len(los["measured_los"]["reach"]) == 8 and "measured_los_note" not in los


def success(doc: dict) -> float:
    scores = [r["scores"] for r in doc["trials"] if r["status"] == "complete"]
    return 100.0 * sum(s["hits"] for s in scores) / sum(s["targets"] for s in scores)


def test_weight_shift_level_1_succeeds_by_default_and_fails_at_low_skill(tmp_path):
    good = run_json(tmp_path, "weight_shift", "--level", "1", "--source", "sim://?realtime=0")
    assert success(good) >= 50.0
    poor = run_json(
        tmp_path, "weight_shift", "--level", "1", "--source", "sim://?realtime=0&skill=0.1"
    )
    assert success(poor) < 50.0
    assert success(poor) < success(good)
    # the left/right targets need a real weight shift: the poor patient misses most of them
    lr = next(r for r in poor["trials"] if r["label"] == "left / right")
    assert lr["scores"]["success_pct"] < 50.0


def test_the_tilt_board_plays_along_in_degrees(tmp_path):
    doc = run_json(tmp_path, "los", "--source", "sim://?realtime=0&sensor=imu")
    for d in doc["summary"]["los"]["per_direction"].values():
        assert d["max_excursion_pct"] >= 60.0, d
    assert (
        doc["summary"]["unit"] == "deg" and len(doc["summary"]["los"]["measured_los"]["reach"]) == 8
    )


# --- the channel, piece by piece ---------------------------------------------------------------
def test_real_sources_and_a_person_who_only_stands_ignore_instructions():
    from drivers.device_source import DeviceSource
    from recordings.replay import ReplaySource

    assert DeviceSource.instruct is Source.instruct and ReplaySource.instruct is Source.instruct
    src = open_source("sim://?respond=0&realtime=0&duration=1")
    src.open()
    src.instruct(Instruction(0.0, "trial", {"vision": "closed"}, target=(50.0, 0.0)))
    assert src.board.condition.vision == "open"  # nobody to play along


def test_the_run_says_what_it_asks_in_each_phase():
    run = ProtocolRun(find("los"), sway_info("test", 100.0))
    assert run.instruction().phase == "waiting" and run.instruction().target is None
    from nmr_balance.stream import SampleBlock

    def feed(seconds: float, start: float) -> None:
        n = int(seconds * 100)
        counter = np.arange(int(start * 100), int(start * 100) + n)
        data = np.column_stack([np.zeros((n, 2)), np.full(n, 700.0)])
        run.feed(SampleBlock(np.zeros(n, np.int64), counter / 100.0, counter, data))

    feed(2.0, 0.0)  # countdown 5 s
    ins = run.instruction()
    assert (ins.phase, ins.target, ins.target_since_s) == ("countdown", None, 0.0)
    feed(4.0, 2.0)  # the trial began at 5 s: the first target (forward)
    ins = run.instruction()
    assert ins.phase == "trial" and ins.target_since_s == pytest.approx(5.0)
    assert ins.target[0] == pytest.approx(0.0, abs=1e-9) and ins.target[1] > 100  # mm forward
    feed(8.0, 6.0)  # 14 s: direction 1 held 5-13 s, returning to the centre since 13 s
    ins = run.instruction()
    assert ins.target is None and ins.target_since_s == pytest.approx(13.0)
    assert ins.visible and not ins.moving and ins.unit == "mm"


def test_the_patient_acts_a_reaction_time_after_each_cue():
    patient = SimulatedPatient(skill=0.7, seed=1)
    acts = patient.respond(Instruction(0.0, "countdown", {"vision": "closed", "surface": "foam"}))
    (when, change), *_ = acts
    assert isinstance(change, SetCondition) and change.condition.surface == "foam"
    assert when >= 0.2  # a reaction time: on time even if the board is a read ahead
    acts = patient.respond(Instruction(6.0, "trial", target=(0.0, 80.0), target_since_s=5.0))
    reach = [(t, a.intent) for t, a in acts if isinstance(a, Planned)]
    t0, first = reach[0]
    assert isinstance(first, Reach) and 5.2 <= t0 < 6.5
    assert first.y_mm == pytest.approx(80.0, rel=0.15) and abs(first.x_mm) < 10
    # the same target again: nothing new; a new one: a new plan, the old one is dropped
    assert patient.respond(Instruction(6.1, "trial", target=(0.0, 80.0), target_since_s=5.0)) == []
    plan = patient.plan
    patient.respond(Instruction(9.0, "trial", target=(80.0, 0.0), target_since_s=8.9))
    assert patient.plan == plan + 1


def test_low_skill_reacts_later_reaches_less_and_sometimes_falls():
    good, poor = SimulatedPatient(0.7), SimulatedPatient(0.1)
    assert poor.reaction_s > good.reaction_s and poor.capacity < good.capacity
    assert poor.hold_s < 1.0 < good.hold_s and poor.noise_gain > good.noise_gain == 1.0
    falls = 0
    for k in range(40):
        acts = poor.respond(Instruction(k, "trial", target=(40.0, 0.0), target_since_s=k - 0.1))
        falls += any(isinstance(a.intent, LoseBalance) for _, a in acts if isinstance(a, Planned))
        poor.respond(Instruction(k + 0.5, "trial", target=None, target_since_s=k + 0.4))
    assert 5 < falls < 35  # sometimes, not always
    with pytest.raises(ValueError, match="skill"):
        SimulatedPatient(1.5)


def test_reproduction_from_memory_undershoots():
    patient = SimulatedPatient(0.7, seed=3)
    ends = []
    for k in range(30):
        ins = Instruction(k, "trial", target=(0.0, 40.0), target_since_s=k - 0.1, visible=False)
        acts = patient.respond(ins)
        ends.append(next(a.intent.y_mm for _, a in acts if isinstance(a, Planned)))
        patient.respond(Instruction(k + 0.5, "trial", target_since_s=k + 0.4))
    assert np.mean(ends) < 40.0 - 1.0  # constant error: an undershoot
    assert np.std(ends) > 0.5  # variable error


def test_bad_skill_in_the_url_says_what_is_expected():
    from nmr_balance.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="skill"):
        open_source("sim://?skill=2")


def test_a_board_scheduled_by_the_patient_changes_condition_on_time():
    board = SimulatedBoard("cop", 100.0, patient=SimulatedPatient(0.7))
    board.generate(100)
    board.set_intent(Instruction(1.0, "countdown", {"vision": "closed"}, target_since_s=1.0))
    board.generate(10)
    assert board.condition.vision == "open"  # the reaction time has not passed
    board.generate(100)
    assert board.condition.vision == "closed"
    assert np.isfinite(board.generate(10)).all()


@pytest.mark.parametrize(
    ("sensor", "unit"), [("imu", "deg"), ("tilt", "deg"), ("cop", "mm"), ("plate", "mm")]
)
def test_joint_position_test_gives_finite_errors_in_the_sensor_unit(sensor, unit, tmp_path):
    doc = run_json(tmp_path, "joint_position", "--source", f"sim://?realtime=0&sensor={sensor}")
    s = doc["summary"]["reposition"]
    assert s["unit"] == unit == doc["summary"]["unit"]
    for scores in [s["composite"], *s["per_direction"].values()]:
        for key in ("absolute_error", "constant_error", "variable_error"):
            assert math.isfinite(scores[key]), (key, scores)
    assert set(s["per_direction"]) == {"F", "R", "B", "L"}


def test_moving_targets_are_pursued_and_skill_shows(tmp_path):
    """Tracking: the patient chases the moving target (anticipating it), the less able one lags."""
    good = run_json(tmp_path, "tracking", "--source", "sim://?realtime=0")["summary"]
    poor = run_json(tmp_path, "tracking", "--source", "sim://?realtime=0&skill=0.2")["summary"]
    good, poor = good["training"], poor["training"]
    assert good["success_pct"] > 80.0, good
    assert poor["success_pct"] < good["success_pct"] - 15.0, poor
