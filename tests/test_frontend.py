"""The pipeline front-end stages: each sensor kind of the simulator ends in the same sway stream."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from drivers.sim.board import TILT_DEG_PER_MM, SimulatedBoard
from nmr_balance.errors import ConfigError
from nmr_balance.frontend.sensors import (
    LoadCellStage,
    LowpassStage,
    ResampleStage,
    TiltStage,
    default_stages,
    find_stage,
)
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo

FS = 200.0
N = 2000


def _blocks(data, fs, chunk=25, t_device=None):
    for a in range(0, len(data), chunk):
        b = min(a + chunk, len(data))
        t = t_device[a:b] if t_device is not None else np.arange(a, b) / fs
        yield SampleBlock((t * 1e9).astype(np.int64), t, np.arange(a, b, dtype=np.int64), data[a:b])


def _run(kind, seed=3, noise=False, stages=None):
    board = SimulatedBoard(kind, FS, seed=seed, noise=noise)
    stages = default_stages(board.info) if stages is None else stages
    out_info = configure_chain(stages, board.info)
    data = board.generate(N)
    out = np.vstack([run_chain(stages, blk).data for blk in _blocks(data, FS)])
    return out_info, out, stages


def _reference_cop(seed=3):
    _, cop, _ = _run("cop", seed, stages=[])  # the simulator's true COP, unfiltered
    return cop


def _lowpassed(x, stage):
    sos = stage.filter.sos
    zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * x[0]
    return scipy.signal.sosfilt(sos, x, axis=0, zi=zi)[0]


@pytest.mark.parametrize("kind", ["plate", "cells"])
def test_force_sensors_give_the_true_cop_then_lowpass(kind):
    info, out, stages = _run(kind)
    assert info.channel_names == ("x", "y", "fz") and info.units == ("mm", "mm", "N")
    assert isinstance(stages[-1], LowpassStage)
    expected = _lowpassed(_reference_cop(), stages[-1])
    np.testing.assert_allclose(out[:, :2], expected[:, :2], atol=0.05)
    np.testing.assert_allclose(out[:, 2], expected[:, 2], rtol=1e-6)


def test_imu_gives_the_true_tilt():
    info, out, stages = _run("imu")
    assert info.units[:2] == ("deg", "deg") and np.isnan(out[:, 2]).all()
    truth = _lowpassed(_reference_cop()[:, :2] * TILT_DEG_PER_MM, stages[-1])
    rms = np.sqrt(np.mean((out[:, :2] - truth) ** 2))
    assert rms < 0.01 and truth.std() > 0.5


def test_cop_stream_is_lowpassed_and_prefiltered_stream_passes():
    board = SimulatedBoard("cop", FS)
    assert [type(s) for s in default_stages(board.info)] == [LowpassStage]
    info = board.info.replace(geometry={"filtered_hz": 10.0})
    assert default_stages(info) == []


def test_cells_stage_tare_and_stance_through_the_chain():
    info = StreamInfo(
        "test",
        tuple(Channel(c, "kg") for c in ("tr", "br", "tl", "bl")),
        100.0,
        SensorKind.LOAD_CELLS,
    )
    stages = default_stages(info)
    configure_chain(stages, info)
    cells = find_stage(stages, LoadCellStage)
    cells.tare(duration_s=0.5)  # the UI does this via pipeline.call_soon
    offset = np.array([0.4, 0.3, 0.5, 0.2])  # an empty board that reads 1.4 kg
    empty = np.tile(offset, (100, 1))
    out = run_chain(stages, next(_blocks(empty, 100.0, chunk=100)))
    assert np.isnan(out.data[:, :2]).all()  # nobody on: no COP
    person = np.tile(offset + [20, 20, 10, 10], (100, 1))  # 60 kg, 2/3 on the right
    out = run_chain(stages, next(_blocks(person, 100.0, chunk=100)))
    np.testing.assert_allclose(out.data[-1, :2], [216.5 / 3, 0.0], atol=1e-6)
    assert cells.weight_bearing()["right"] == pytest.approx(200 / 3)


def test_uneven_stream_is_resampled_first():
    rng = np.random.default_rng(0)
    t = np.cumsum(rng.uniform(0.005, 0.015, 3000))
    info = StreamInfo(
        "wii",
        tuple(Channel(c, "kg") for c in ("tr", "br", "tl", "bl")),
        100.0,
        SensorKind.LOAD_CELLS,
        geometry={"uneven": True},
        has_device_time=True,
    )
    stages = default_stages(info)
    assert isinstance(stages[0], ResampleStage)
    out_info = configure_chain(stages, info)
    data = np.tile([20.0, 20.0, 10.0, 10.0], (3000, 1))
    outs = [run_chain(stages, b) for b in _blocks(data, 100.0, 37, t_device=t)]
    out = SampleBlock.concat([o for o in outs if len(o)], 3)
    assert out_info.fs == 100.0 and out.gaps() == 0
    np.testing.assert_allclose(np.diff(out.t_device), 0.01, atol=1e-9)
    assert len(out) == pytest.approx((t[-1] - t[0]) * 100, abs=1)


def test_tilt_stage_level_and_bad_geometry():
    board = SimulatedBoard("imu", 100.0, noise=False)
    stages = default_stages(board.info)
    configure_chain(stages, board.info)
    tilt = find_stage(stages, TiltStage)
    tilt.level(duration_s=1.0)
    data = board.generate(300)
    blocks = list(_blocks(data, 100.0, 50))
    run_chain(stages, blocks[0]), run_chain(stages, blocks[1])
    assert not tilt.estimator.calibrating
    bad = board.info.replace(geometry={"imu_axes": "x,x,y"})
    with pytest.raises(ConfigError, match="name x, y and z once each"):
        configure_chain(default_stages(bad), bad)
    missing = StreamInfo("p", (Channel("Fx", "N"),), 100.0, SensorKind.FORCE_PLATE)
    with pytest.raises(ConfigError, match="needs channels Fx, Fy, Fz"):
        configure_chain(default_stages(missing), missing)


@pytest.mark.timeout(30)
def test_live_pipeline_from_simulated_cells_with_tare_through_call_soon():
    from nmr_balance.app import open_source
    from nmr_balance.pipeline import Pipeline

    with Pipeline(open_source("sim://?sensor=cells&rate=200")) as p:
        assert p.info.channel_names == ("x", "y", "fz") and p.info.units[0] == "mm"
        cells = find_stage(p.stages, LoadCellStage)
        assert cells is not None and isinstance(p.stages[-1], LowpassStage)
        assert p.wait_for_samples(200, timeout=10)
        before = p.processed.latest(50).data
        assert np.isfinite(before).all() and np.abs(before[:, :2]).max() < 100  # mm near centre
        # Taring with someone on the board zeroes the cells: the load falls below the stance
        # threshold and the COP becomes NaN instead of garbage.
        p.call_soon(lambda: cells.tare(duration_s=0.1))
        n0 = p.processed.written
        assert p.wait_for_samples(n0 + 200, timeout=10)
        after = p.processed.latest(20).data
        assert np.isnan(after[:, :2]).all() and np.abs(after[:, 2]).max() < 50
