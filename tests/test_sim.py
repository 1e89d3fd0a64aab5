"""The simulated board: plausible sway, consistent sensor channels, scripted intents."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import FakeClock
from scipy import signal

from drivers.sim import Condition, Lean, LoseBalance, SimulatedBoard, StepOff, StepOn
from drivers.sim import source as sim_source
from drivers.sim.board import TILT_DEG_PER_MM, WII_CELLS_XY_MM
from drivers.sim.model import G
from nmr_balance.app import open_source


def cop_trial(condition=Condition(), seed=0, fs=100.0, seconds=30.0):
    board = SimulatedBoard("cop", fs, seed=seed, condition=condition)
    board.generate(int(5 * fs))  # settle
    return board.generate(int(seconds * fs))[:, :2]


def mean_velocity(xy, fs):
    return np.sum(np.hypot(*np.diff(xy, axis=0).T)) * fs / (len(xy) - 1)


def test_same_seed_same_samples_other_seed_other_samples():
    a = SimulatedBoard("plate", 200, seed=7).generate(500)
    b = SimulatedBoard("plate", 200, seed=7).generate(500)
    c = SimulatedBoard("plate", 200, seed=8).generate(500)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("fs", [10, 37.5, 100, 1000, 2000])
def test_any_rate_gives_the_same_physics(fs):
    xy = cop_trial(fs=fs, seconds=20)
    assert xy.shape == (int(20 * fs), 2)
    assert 3 < mean_velocity(xy, fs) < 25  # mm/s, quiet standing eyes open firm
    assert 1 < np.std(xy[:, 1]) < 12  # AP RMS in mm


def test_conditions_order_sway_as_in_published_norms():
    v = {}
    for name, cond in {
        "eo_firm": Condition(),
        "ec_firm": Condition("closed"),
        "eo_foam": Condition("open", "foam"),
        "ec_foam": Condition("closed", "foam"),
    }.items():
        v[name] = np.mean([mean_velocity(cop_trial(cond, seed=s), 100) for s in range(3)])
    assert 5 <= v["eo_firm"] < v["ec_firm"] < v["eo_foam"] < v["ec_foam"] <= 35, v
    single = cop_trial(Condition(stance="left"))
    both = cop_trial()
    assert np.std(single[:, 0]) > 2 * np.std(both[:, 0])  # ML sway explodes on one leg


def test_most_power_is_below_one_hz():
    xy = cop_trial(seconds=60)
    f, p = signal.welch(xy[:, 1] - xy[:, 1].mean(), fs=100, nperseg=2048)
    assert p[f < 1.0].sum() / p.sum() > 0.8


def test_force_plate_channels_give_back_the_cop():
    cop = SimulatedBoard("cop", 500, seed=3).generate(2000)
    plate_board = SimulatedBoard("plate", 500, seed=3, noise=False)
    plate = plate_board.generate(2000)
    fx, fy, fz, mx, my = plate[:, :5].T
    dz = plate_board.info.geometry["surface_offset_mm"] * 1e-3
    ml = (mx - fy * dz) / fz * 1e3  # AMTI formula, docs/conventions.md
    ap = (-my - fx * dz) / fz * 1e3
    assert np.allclose(ml, cop[:, 0], atol=1e-9) and np.allclose(ap, cop[:, 1], atol=1e-9)
    assert np.allclose(fz, 70 * G)
    assert plate_board.info.channel_names == ("Fx", "Fy", "Fz", "Mx", "My", "Mz")


def test_load_cells_give_back_the_cop_and_the_weight():
    cop = SimulatedBoard("cop", 100, seed=4).generate(1000)
    cells = SimulatedBoard("cells", 100, seed=4, noise=False).generate(1000)
    total = cells.sum(axis=1)
    assert np.allclose(total, 70.0)  # kg
    pos = np.array(WII_CELLS_XY_MM)
    xy = cells @ pos / total[:, None]
    assert np.allclose(xy, cop[:, :2], atol=1e-9)
    assert (cells > 0).all()


def test_imu_accelerometer_and_gyro_match_the_tilt():
    fs = 200
    tilt = SimulatedBoard("tilt", fs, seed=5).generate(2000)[:, :2]
    imu = SimulatedBoard("imu", fs, seed=5, noise=False).generate(2000)
    acc, gyro = imu[:, :3], imu[:, 3:]
    assert np.allclose(np.linalg.norm(acc, axis=1), 1.0)
    # right edge down -> ax = -sin(phi); front edge down -> ay = -sin(theta)*cos(phi)
    phi = np.degrees(np.arcsin(-acc[:, 0]))
    theta = np.degrees(np.arctan2(-acc[:, 1], acc[:, 2]))
    assert np.allclose(phi, tilt[:, 0], atol=1e-6) and np.allclose(theta, tilt[:, 1], atol=1e-6)
    # the gyro integrates to the change in tilt (small angles: about y for phi, -x for theta)
    assert np.allclose(np.cumsum(gyro[1:, 1]) / fs, tilt[1:, 0] - tilt[0, 0], atol=0.02)
    assert np.allclose(np.cumsum(-gyro[1:, 0]) / fs, tilt[1:, 1] - tilt[0, 1], atol=0.02)
    assert 0 < np.std(tilt) / TILT_DEG_PER_MM < 20


def test_lean_intent_moves_the_cop_to_the_target_and_holds():
    board = SimulatedBoard("cop", 100, seed=1)
    board.generate(300)
    board.set_intent(Lean(60.0, -30.0))
    xy = board.generate(400)[:, :2]
    early, held = xy[:20].mean(axis=0), xy[-150:].mean(axis=0)
    assert np.hypot(*early) < 20  # reaction time: not there at once
    assert np.allclose(held, [60.0, -30.0], atol=8)
    board.set_intent(Lean(0, 0))
    back = board.generate(400)[-150:, :2].mean(axis=0)
    assert np.hypot(*back) < 8


def test_scheduled_step_off_and_on():
    board = SimulatedBoard("cop", 100, seed=2)
    board.schedule(1.0, StepOff())
    board.schedule(2.0, StepOn())
    data = board.generate(300)
    on1, off, on2 = data[:100], data[100:200], data[200:]
    assert np.isfinite(on1).all() and np.isfinite(on2).all()
    assert np.isnan(off[:, :2]).all() and (off[:, 2] == 0).all()
    cells = SimulatedBoard("cells", 100, seed=2, noise=False)
    cells.schedule(1.0, StepOff())
    assert np.allclose(cells.generate(200)[100:], 0.0)


def test_losing_balance_raises_sway():
    calm = SimulatedBoard("cop", 100, seed=9, condition=Condition(stance="left"))
    wobbly = SimulatedBoard("cop", 100, seed=9, condition=Condition(stance="left"))
    calm.generate(300), wobbly.generate(300)
    wobbly.set_intent(LoseBalance(2.0))
    a, b = calm.generate(200)[:, :2], wobbly.generate(200)[:, :2]
    assert mean_velocity(b, 100) > 1.5 * mean_velocity(a, 100)


def test_sim_source_counters_device_time_and_end():
    src = open_source("sim://?rate=250&realtime=0&duration=2&sensor=cells")
    with src:
        src.start()
        blocks = []
        while not src.ended:
            blocks.append(src.read())
    counter = np.concatenate([b.counter for b in blocks])
    t_dev = np.concatenate([b.t_device for b in blocks])
    assert counter.tolist() == list(range(500))
    assert np.allclose(t_dev, counter / 250)
    assert src.info.kind.value == "cells" and src.info.has_device_time


def _due(src):
    """Samples a paced source has due now (reads that do not wait, until one returns none)."""
    n, got = 0, src.read(0)
    while len(got):
        n += len(got)
        got = src.read(0)
    return n


def test_realtime_pacing_delivers_the_nominal_rate(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(sim_source, "time", clock)
    with open_source("sim://?rate=200") as src:
        src.start()
        assert _due(src) == 0
        clock.t += 1.0
        assert _due(src) == 200  # one second of wall time, 200 samples (in 0.25 s steps)
        t = clock.t
        block = src.read(None)  # a read that may wait sleeps until the next sample is due
        assert len(block) == 1 and clock.t - t == pytest.approx(1 / 200)


def test_speed_runs_faster_than_real_time(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(sim_source, "time", clock)
    with open_source("sim://?rate=100&speed=10") as src:
        src.start()
        clock.t += 0.5
        assert _due(src) == 500  # 5 s of signal in 0.5 s of wall time


def test_noise_filter_is_scipys_lfilter_without_importing_scipy_signal():
    """The pendulum's coloured noise: 2nd-order Butterworth (dsp._butter) run in transposed
    direct form II, operation for operation scipy.signal.lfilter: equal outputs and states."""
    from drivers.sim.model import lfilter2
    from dsp._butter import butter_ba

    rng = np.random.default_rng(5)
    for cutoff, fs in ((0.5, 100.0), (1.0, 1000.0), (3.0, 50.0)):
        b, a = butter_ba(2, cutoff, fs)
        x, zi = rng.standard_normal(3000), rng.standard_normal(2)
        y, zf = lfilter2(b, a, x, zi)
        y_ref, zf_ref = signal.lfilter(b, a, x, zi=zi)
        np.testing.assert_array_equal(y, y_ref)
        np.testing.assert_array_equal(zf, zf_ref)
        # in chunks, carrying the state, as the pendulum does
        parts, state = [], zi
        for chunk in np.array_split(x, 7):
            part, state = lfilter2(b, a, chunk, state)
            parts.append(part)
        np.testing.assert_array_equal(np.concatenate(parts), y_ref)
