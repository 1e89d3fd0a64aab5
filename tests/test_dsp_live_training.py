"""Live sliding-window metrics and training-score primitives."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize

from dsp import _kernels_live as KL
from dsp.live import SlidingSway
from dsp.metrics import trial_metrics
from dsp.training import (
    DwellDetector,
    detect_hits,
    distance_to_target,
    inside_target,
    limits_of_stability,
    time_in_target,
    tracking_error,
)


def test_sliding_window_matches_recomputation_over_many_chunks():
    rng = np.random.default_rng(0)
    xy = np.cumsum(rng.normal(size=(5000, 2)), axis=0)
    xy[1200:1260] = np.nan  # someone stepped off
    live = SlidingSway(fs=100.0, window_s=5.0)
    i = 0
    while i < len(xy):
        n = int(rng.integers(1, 60))
        values = live.update(xy[i : i + n])
        i = min(i + n, len(xy))
        window = xy[max(0, i - 500) : i]
        np.testing.assert_array_equal(live.window(), window)
        sums = KL.window_sums_numpy(window)
        state = live._state
        np.testing.assert_allclose(
            state[[KL.S_N, KL.S_X, KL.S_Y, KL.S_XX, KL.S_YY, KL.S_XY, KL.S_PATH]],
            sums,
            rtol=1e-9,
            atol=1e-6,
        )
    # The final window's ellipse and velocity agree with the batch metrics of that window.
    batch = trial_metrics(xy[-500:], 100.0, groups=("time",))
    assert values["ellipse_area_95_chi2"] == pytest.approx(batch["ellipse_area_95_chi2"], rel=1e-9)
    assert values["ellipse_angle_deg"] == pytest.approx(batch["ellipse_angle_deg"], rel=1e-9)
    assert values["mean_velocity"] == pytest.approx(batch["path_length"] / (499 / 100.0), rel=1e-9)


def test_sliding_window_empty_and_nan_only():
    live = SlidingSway(fs=50.0, window_s=1.0)
    assert math.isnan(live.values()["mean_velocity"])
    v = live.update(np.full((10, 2), np.nan))
    assert v["n_valid"] == 0 and math.isnan(v["ellipse_area_95_chi2"]) and v["path_length"] == 0


def test_targets_and_time_in_target():
    xy = np.array([[0, 0], [3, 4], [10, 0], [np.nan, np.nan]], float)
    np.testing.assert_allclose(distance_to_target(xy, (0, 0))[:3], [0, 5, 10])
    inside = inside_target(xy, (0, 0), 5.0)
    assert inside.tolist() == [True, True, False, False]
    assert time_in_target(inside, 100.0) == 0.02


def test_dwell_hits_enter_and_hold_streaming_equals_twin():
    rng = np.random.default_rng(1)
    inside = rng.random(5000) < 0.9
    need = 25
    expected = KL.dwell_hits_numpy(inside, need)
    det = DwellDetector(fs=100.0, dwell_s=0.25)
    got = np.concatenate([det.update(inside[a : a + 37]) for a in range(0, 5000, 37)])
    np.testing.assert_array_equal(got, expected)
    assert len(expected) > 5
    # A hit once per entry, at the sample that completes the dwell.
    seq = np.array([0, 1, 1, 1, 1, 1, 0, 1, 1, 0], bool)
    assert detect_hits(seq, fs=10.0, dwell_s=0.3).tolist() == [3]


def test_tracking_error_finds_the_lag():
    fs = 100.0
    t = np.arange(3000) / fs
    target = np.column_stack([50 * np.sin(2 * np.pi * 0.2 * t), 30 * np.cos(2 * np.pi * 0.13 * t)])
    delay = 32
    xy = np.vstack([np.repeat(target[:1], delay, axis=0), target[:-delay]])
    res = tracking_error(xy, target, fs, max_lag_s=1.0)
    assert res["lag_s"] == pytest.approx(0.32)
    assert res["rms_at_lag"] == pytest.approx(0.0, abs=1e-9)
    assert res["rms"] > 5
    np.testing.assert_allclose(KL.lagged_rms(xy, target, 50), KL.lagged_rms_numpy(xy, target, 50))


def _min_jerk(tau):
    tau = np.clip(tau, 0, 1)
    return 10 * tau**3 - 15 * tau**4 + 6 * tau**5


@pytest.mark.parametrize("direction", [0.0, 45.0, 90.0, 225.0])
def test_limits_of_stability_of_a_minimum_jerk_lean(direction):
    fs, reaction, move_s, reach = 100.0, 0.4, 1.0, 80.0
    t = np.arange(int(4 * fs)) / fs
    s = reach * _min_jerk((t - reaction) / move_s)
    u = np.array([np.cos(np.radians(direction)), np.sin(np.radians(direction))])
    xy = np.array([12.0, -7.0]) + s[:, None] * u
    res = limits_of_stability(xy, fs, direction, target_distance=100.0)
    # Onset = speed above 10 % of its peak: 30 tau^2 (1 - tau)^2 = 0.1 * 30 / 16.
    tau_on = scipy.optimize.brentq(lambda x: 30 * x**2 * (1 - x) ** 2 - 0.1875, 0, 0.5)
    assert res["reaction_time_s"] == pytest.approx(reaction + tau_on * move_s, abs=0.015)
    assert res["endpoint_excursion_pct"] == pytest.approx(80.0, abs=0.5)
    assert res["max_excursion_pct"] == pytest.approx(80.0, abs=1e-9)
    assert res["directional_control_pct"] == pytest.approx(100.0, abs=1e-6)
    tau5 = scipy.optimize.brentq(lambda x: _min_jerk(x) - 0.05, 0, 1)
    tau95 = scipy.optimize.brentq(lambda x: _min_jerk(x) - 0.95, 0, 1)
    assert res["movement_velocity"] == pytest.approx(
        0.9 * reach / ((tau95 - tau5) * move_s), rel=0.03
    )


def test_limits_of_stability_penalises_sideways_movement_and_handles_no_movement():
    fs = 100.0
    t = np.arange(300) / fs
    s = 60 * _min_jerk((t - 0.2) / 1.0)
    wobble = 3 * np.sin(2 * np.pi * 3 * t) * (s > 0)
    res = limits_of_stability(np.column_stack([s, wobble]), fs, 0.0, 100.0)
    assert 0 < res["directional_control_pct"] < 90
    still = limits_of_stability(np.zeros((100, 2)), fs, 0.0, 100.0)
    assert math.isnan(still["reaction_time_s"]) and still["max_excursion_pct"] == 0
    assert still["movement_detected"] == 0.0 and res["movement_detected"] == 1.0
    with pytest.raises(ValueError, match="cue_index"):
        limits_of_stability(np.zeros((100, 2)), fs, 0.0, 100.0, cue_index=200)


def test_limits_of_stability_of_quiet_sway_is_no_movement_not_a_score():
    """A patient who does not lean: the quiet-stance wobble after the cue must not be scored as a
    reaction time of ~0 s and a negative directional control (issue 15)."""
    fs = 100.0
    rng = np.random.default_rng(4)
    t = np.arange(int(8 * fs)) / fs
    # ~3 mm of sway at 0.3-1 Hz plus noise: the size of quiet stance, against a 130 mm target
    sway = np.column_stack(
        [2.5 * np.sin(2 * np.pi * 0.4 * t + 1), 3.0 * np.sin(2 * np.pi * 0.7 * t)]
    ) + rng.normal(0, 0.3, (len(t), 2))
    res = limits_of_stability(sway, fs, 90.0, target_distance=130.0, cue_index=50)
    assert res["movement_detected"] == 0.0
    for key in ("reaction_time_s", "movement_velocity", "endpoint_excursion_pct"):
        assert math.isnan(res[key]), key
    assert math.isnan(res["directional_control_pct"])
    assert 0 < res["max_excursion_pct"] < 5  # where the sway went is still reported
    # the same sway with a real lean of 60 % on top is a movement, scored
    s = 78 * _min_jerk((t - 1.0) / 1.0)
    lean = limits_of_stability(sway + np.column_stack([0 * s, s]), fs, 90.0, 130.0, cue_index=50)
    assert lean["movement_detected"] == 1.0
    assert lean["reaction_time_s"] > 0.3 and lean["directional_control_pct"] > 50


def test_romberg_and_mctsib_ratios_on_the_santos_duarte_trials():
    import csv
    import pathlib

    from dsp.ratios import mctsib_ratios, romberg_quotient
    from nmr_balance.io_formats import read_santos_duarte

    data = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"
    with open(data / "published_values.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    by_condition = {}
    for row in rows[::3]:  # first repetition of each condition
        rec = read_santos_duarte(data / f"{row['Trial']}.txt")
        by_condition[(row["Vision"], row["Surface"])] = trial_metrics(
            rec.xy, rec.fs, groups=("time",)
        )
    eo, ec = by_condition[("Open", "Firm")], by_condition[("Closed", "Firm")]
    rq = romberg_quotient(eo, ec)
    assert rq["mean_velocity"] == pytest.approx(ec["mean_velocity"] / eo["mean_velocity"])
    r = mctsib_ratios(eo, ec, by_condition[("Open", "Foam")], by_condition[("Closed", "Foam")])
    # Standing on foam roughly triples this subject's sway velocity (published COPvelo).
    assert r["visual"]["mean_velocity"] == pytest.approx(
        float(rows[6]["COPvelo"]) / float(rows[0]["COPvelo"]), rel=1e-9
    )
    assert r["vestibular"]["mean_velocity"] > 2.5
    assert math.isnan(
        romberg_quotient({"mean_velocity": 0.0}, {"mean_velocity": 1.0}, ["mean_velocity"])[
            "mean_velocity"
        ]
    )
    with pytest.raises(ValueError, match="missing"):
        romberg_quotient({}, {}, ["mean_velocity"])
