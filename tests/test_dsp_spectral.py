"""Spectra: Welch against SciPy, the decimating filter against its twin and its response, and
decimated spectral metrics against the full-rate ones on 10 Hz-filtered sway at 1 kHz."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import scipy.signal

from drivers.sim.board import SimulatedBoard
from dsp._kernels_derive import SPECTRAL_KEYS
from dsp._spectral_numpy import hann_periodic
from dsp.filters import zero_phase_lowpass
from dsp.metrics import Settings, trial_metrics
from dsp.spectral import (
    decimate,
    decimation_factor,
    decimation_filter,
    welch_psd,
    welch_psd_numpy,
    welch_psd_scipy,
)
from nmr_balance.frontend.sensors import default_stages
from nmr_balance.frontend.stage import configure_chain, run_chain
from nmr_balance.io_formats import read_santos_duarte
from nmr_balance.stream import SampleBlock

DATA = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"
#: Stated agreement of decimated and full-rate spectral metrics (docs/metrics.md); measured
#: <= 5e-4 on these trials.
DECIMATED_RTOL = 1e-3


@pytest.mark.parametrize(
    "trials, n", [(3, 3000), (3, 3001), (3, 3002), (3, 3003), (3, 1201), (40, 3000)]
)  # 40 trials: several FFT chunks
def test_welch_equals_scipy_on_stacks_of_any_length(trials, n):
    rng = np.random.default_rng(n)
    # A random walk with a large offset: the segments' detrend must not lose precision.
    signals = np.cumsum(rng.normal(size=(trials, 2, n)), axis=-1) + 80.0
    f1, p1 = welch_psd(signals, 100.0)
    f2, p2 = welch_psd_scipy(signals, 100.0)
    f3, p3 = welch_psd_numpy(signals, 100.0)  # the twin: NumPy only
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_array_equal(f3, f2)
    assert p1.shape == p2.shape == p3.shape == (trials, 2, n // 4 + 1)
    np.testing.assert_allclose(p1, p2, rtol=1e-12, atol=1e-13 * p2.max())
    np.testing.assert_allclose(p3, p2, rtol=1e-12, atol=1e-13 * p2.max())
    np.testing.assert_allclose(p3, p1, rtol=1e-12, atol=1e-13 * p2.max())


@pytest.mark.parametrize("n", [1, 2, 7, 600, 1500, 1501, 15000])
def test_hann_window_is_scipys_bit_for_bit(n):
    """The Welch window no longer needs scipy.signal (about half a second to import)."""
    np.testing.assert_array_equal(hann_periodic(n), scipy.signal.get_window("hann", n))


@pytest.mark.parametrize("rows", [2, 7])  # one trial's x and y; a batch (rows in parallel)
@pytest.mark.parametrize("q, n", [(10, 30000), (10, 30007), (2, 2001), (4, 997), (25, 5000)])
def test_decimation_kernel_matches_its_numpy_twin(q, n, rows):
    x = np.cumsum(np.random.default_rng(q).normal(size=(rows, n)), axis=-1)
    fast, slow = decimate(x, q), decimate(x, q, use_numba=False)
    assert fast.shape == (rows, -(-n // q))
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12 * np.abs(x).max())


def test_decimation_filter_response_and_zero_phase():
    q, fs = 10, 1000.0
    h = decimation_filter(q)
    assert h.size % 2 == 1 and np.allclose(h, h[::-1]) and h.sum() == pytest.approx(1.0)
    _, gain = scipy.signal.freqz(h, worN=np.array([0.0, 5.0, 10.0, 25.0]), fs=fs)
    np.testing.assert_allclose(np.abs(gain), 1.0, atol=2e-3)  # flat to 0.25 fs/q
    _, stop = scipy.signal.freqz(h, worN=np.linspace(75.0, 500.0, 800), fs=fs)
    assert np.abs(stop).max() < 1e-3  # >= 60 dB from 0.75 fs/q
    # Zero phase: a 2 Hz sine decimated is the same sine sampled at 100 Hz (edges included).
    t = np.arange(30000) / fs
    out = decimate(np.sin(2 * np.pi * 2.0 * t), q)
    np.testing.assert_allclose(out, np.sin(2 * np.pi * 2.0 * t[::q]), atol=2e-3)


def test_decimation_factor():
    assert decimation_factor(100.0, 100.0) == 1
    assert decimation_factor(120.0, 100.0) == 1
    assert decimation_factor(1000.0, 100.0) == 10
    assert decimation_factor(250.0, 100.0) == 2
    assert decimation_factor(1000.0, None) == 1
    with pytest.raises(ValueError, match="spectral_fs"):
        Settings(spectral_fs=0.0)


def test_100hz_trials_are_untouched_by_the_default():
    rec = read_santos_duarte(DATA / "BDS00007.txt")
    default = trial_metrics(rec.xy, rec.fs)
    full = trial_metrics(rec.xy, rec.fs, settings=Settings(spectral_fs=None))
    assert default.settings["spectral_decimation"] == 1
    assert dict(default) == dict(full)


def _simulated_plate_sway(fs: float, seed: int, seconds: float = 32.0) -> np.ndarray:
    """The simulator's 6-axis plate through the live front-end (COP, 10 Hz low-pass)."""
    board = SimulatedBoard("plate", fs, seed=seed, noise=True)
    stages = default_stages(board.info)
    configure_chain(stages, board.info)
    data = board.generate(int(seconds * fs))
    t = np.arange(len(data)) / fs
    block = SampleBlock((t * 1e9).astype(np.int64), t, np.arange(len(data)), data)
    return np.ascontiguousarray(run_chain(stages, block).data[int(2 * fs) :, :2])  # skip start-up


def _upsampled_santos_duarte(name: str, up: int) -> tuple[np.ndarray, float]:
    """A published 100 Hz trial upsampled and low-passed at 10 Hz (as ``analyze`` does)."""
    rec = read_santos_duarte(DATA / f"{name}.txt")
    fs = rec.fs * up
    return zero_phase_lowpass(scipy.signal.resample_poly(rec.xy, up, 1, axis=0), fs), fs


@pytest.mark.parametrize("case", ["sim-1", "sim-2", "BDS00001-x10", "BDS00004-x2", "BDS00010-x10"])
def test_decimated_spectral_metrics_agree_with_full_rate(case):
    source, arg = case.split("-")
    if source == "sim":
        fs = 1000.0
        xy = _simulated_plate_sway(fs, int(arg))
    else:
        xy, fs = _upsampled_santos_duarte(source, int(arg[1:]))
    fast = trial_metrics(xy, fs, groups=("spectral",))
    full = trial_metrics(xy, fs, groups=("spectral",), settings=Settings(spectral_fs=None))
    assert fast.settings["spectral_decimation"] == round(fs / 100.0) > 1
    assert full.settings["spectral_decimation"] == 1
    for key in SPECTRAL_KEYS:
        assert fast[key] == pytest.approx(full[key], rel=DECIMATED_RTOL), key
    # Time-domain metrics never use the decimated copy.
    for key in ("path_length", "ellipse_area_95_f", "rms_ml", "range_ap"):
        assert fast[key] == full[key]
