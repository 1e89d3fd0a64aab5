"""Target reaching as the engine scores it (the one place targets are scored: the console's free
target exercise is the built-in protocol ``free_targets``), on scripted paths whose hits, hit
times and time in target are known exactly; and the target scaling of a patient preset, applied
to training runs only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nmr_balance.engine import messages as m
from nmr_balance.errors import InvalidParameterError
from nmr_balance.protocols import LosProfile, ProtocolRun, find
from nmr_balance.protocols.scaling import TargetScaling
from nmr_balance.protocols.tasks.training import Targets
from nmr_balance.stream import SampleBlock, sway_info

FS = 100.0


def feed_task(task: Targets, path: np.ndarray, t0: float, chunk: int = 7):
    """Feed ``path`` (n, 2), sampled at FS from ``t0``, in chunks of ``chunk`` samples (hits
    cross chunk boundaries), as the run does: stop where the task ends, drop the rest."""
    events = []
    for start in range(0, len(path), chunk):
        xy = path[start : start + chunk]
        t = t0 + (start + np.arange(len(xy))) / FS
        new, end = task.feed(t, xy)
        events += new
        if end is not None:
            task.truncate(len(xy) - end)
            return events
    return events


def test_free_targets_hit_after_an_unbroken_dwell_and_time_in_target_is_exact():
    """Per target: 0.6 s inside, 0.2 s out (the dwell starts over), then 1.0 s inside: the hit
    is the 100th sample of the second stay, 1.79 s after the target appeared; the next target
    owns the samples after it. 160 of every 180 samples are inside: 88.9 % time in target."""
    step = find("free_targets").steps[0]
    assert (step.directions, step.distance_pct, step.radius_pct, step.dwell_s) == (4, 30, 9, 1.0)
    los = LosProfile.theoretical(1.70, "mm")
    task = Targets(step, los, FS, "mm", 0)
    shown = task.start(0.0)
    points = task.points
    # forward first, then clockwise: right, back, left, at 30 % of the LOS that way
    np.testing.assert_allclose(points[0], [0.0, 0.3 * los.reach[0]], atol=1e-9)
    np.testing.assert_allclose(points[1], [0.3 * los.reach[2], 0.0], atol=1e-9)
    assert task.radius == pytest.approx(0.09 * los.mean_reach)
    centre = np.zeros(2)
    path = np.concatenate(
        [
            np.vstack([np.tile(p, (60, 1)), np.tile(centre, (20, 1)), np.tile(p, (100, 1))])
            for p in points
        ]
    )
    events = shown + feed_task(task, path, 0.0)
    hits = [d for k, d in events if k == "target_hit"]
    assert [h["target"] for h in hits] == [0, 1, 2, 3]
    assert [h["t_s"] for h in hits] == pytest.approx([1.79, 3.59, 5.39, 7.19])
    assert [h["time_to_hit_s"] for h in hits] == pytest.approx([1.79, 1.80, 1.80, 1.80])
    assert [d["target"] for k, d in events if k == "target_shown"] == [0, 1, 2, 3]
    scores = task.result()
    assert (scores["hits"], scores["targets"], scores["misses"]) == (4, 4, 0)
    assert scores["success_pct"] == 100.0
    assert scores["time_in_target_pct"] == pytest.approx(100 * 160 / 180)
    assert len(task.t) == 720  # the trial ended at the last hit's sample


def test_a_target_never_held_long_enough_is_missed_at_its_timeout():
    step = find("free_targets").steps[0]
    task = Targets(step, LosProfile.theoretical(1.70, "mm"), FS, "mm", 0)
    task.start(0.0)
    p = task.points[0]
    # in and out every 0.9 s: never 1 s inside, so no hit; missed 15 s after it appeared
    path = np.tile(np.vstack([np.tile(p, (90, 1)), np.zeros((10, 2))]), (16, 1))
    events = feed_task(task, path, 0.0)
    assert events[0][0] == "target_missed" and events[0][1]["target"] == 0
    assert events[0][1]["t_s"] == pytest.approx(15.0)
    assert [k for k, _ in events[1:2]] == ["target_shown"]
    assert task.outcomes[0] == {"target": 0, "hit": False}


def blocks(n: int, start: int = 0, xy=(0.0, 0.0)) -> SampleBlock:
    c = np.arange(start, start + n)
    data = np.column_stack([np.tile(xy, (n, 1)), np.full(n, 700.0)])
    return SampleBlock(np.zeros(n, np.int64), c / FS, c, data)


def run_to_first_trial(run: ProtocolRun) -> list:
    """Feed centred samples through the countdown into the first trial."""
    events = []
    counter = 0
    while run.phase != "trial":
        events += run.feed(blocks(50, counter))
        counter += 50
    return events


def test_a_training_run_scales_its_targets_and_says_so_in_each_trial():
    info = sway_info("test", FS)
    protocol = find("free_targets")
    standard = ProtocolRun(protocol, info)
    seniors = ProtocolRun(protocol, info, scaling=TargetScaling(1.5, 1.5))
    assert standard.describe()["scaling"] == {"target_scale": 1.0, "dwell_scale": 1.0}
    assert seniors.describe()["scaling"] == {"target_scale": 1.5, "dwell_scale": 1.5}
    step = seniors.plan[0].step
    assert (step.radius_pct, step.dwell_s) == (13.5, 1.5)
    assert protocol.steps[0].radius_pct == 9  # the protocol itself is untouched
    started = [e for e in run_to_first_trial(seniors) if e.kind == "trial_started"]
    assert started[0].data["scaling"] == {"target_scale": 1.5, "dwell_scale": 1.5}
    run_to_first_trial(standard)
    (x, y, r_seniors), (_, _, r_standard) = (
        seniors.display()["targets"][0],
        standard.display()["targets"][0],
    )
    assert r_seniors == pytest.approx(1.5 * r_standard) and math.hypot(x, y) > 0
    assert seniors.task._detector.need == 150  # 1.5 s at 100 Hz makes a hit


@pytest.mark.parametrize("name", ["romberg", "los", "mctsib"])
def test_a_test_is_standardized_and_never_scaled(name):
    protocol = find(name)
    run = ProtocolRun(protocol, sway_info("test", FS), scaling=TargetScaling(1.5, 1.5))
    assert run.scaling is None and run.describe()["scaling"] is None
    assert [p.step.params for p in run.plan] == [
        p.step.params for p in ProtocolRun(protocol, sway_info("test", FS)).plan
    ]
    started = [e for e in run_to_first_trial(run) if e.kind == "trial_started"]
    assert "scaling" not in started[0].data


@pytest.mark.parametrize(
    ("field", "value"),
    [("target_scale", 0.0), ("dwell_scale", math.nan), ("target_scale", 5), ("dwell_scale", True)],
)
def test_a_scale_out_of_range_is_refused_naming_it(field, value):
    with pytest.raises(InvalidParameterError, match=f"{field}=.*from 0.5 to 3") as e:
        TargetScaling(**{field: value})
    assert e.value.name == field
    with pytest.raises(InvalidParameterError, match=field):  # also when the console sends it
        m.StartProtocol(1, "P1", "free_targets", **{field: value})
    assert m.StartProtocol(1, "P1", "free_targets", target_scale=1.2).scaling == TargetScaling(
        1.2, 1.0
    )
