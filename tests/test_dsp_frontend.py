"""Streaming front-end: load cells, low-pass, resampling (kernels vs twins, chunking, bad input)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.signal
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dsp import _kernels_frontend as KF
from dsp.cop import WII_CELLS_XY_MM, LoadCellCop, plate_cop, weight_bearing
from dsp.filters import StreamingLowpass, butter_lowpass, zero_phase_lowpass
from dsp.resample import WindowResampler, resample_window_average


def _chunks(n, rng, max_len=40):
    edges = np.concatenate(
        [[0], np.sort(rng.choice(np.arange(1, n), size=n // 15, replace=False)), [n]]
    )
    return list(itertools.pairwise(edges))


def test_plate_cop_surface_offset_and_stance():
    # 600 N straight down at AP = +50 mm, ML = -20 mm on the surface, plus a shear force.
    fx, fy, fz, dz = 30.0, -10.0, 600.0, 40.0
    ap, ml = 0.050, -0.020
    # Moments about the origin dz below the surface: M = r x F with r = (ap, ml, -dz) (z down).
    r = np.array([ap, ml, -dz / 1000])
    m = np.cross(r, [fx, fy, fz])
    row = np.array([[fx, fy, fz, *m], [0, 0, 5.0, 0, 0, 0]])
    out = plate_cop(row, surface_offset_mm=dz)
    np.testing.assert_allclose(out[0], [ml * 1000, ap * 1000, fz], atol=1e-9)
    assert np.isnan(out[1, :2]).all() and out[1, 2] == 5.0
    np.testing.assert_allclose(KF.plate_cop_numpy(row, dz / 1000, 98.0), out, equal_nan=True)


def test_cells_cop_sign_and_magnitude_for_off_centre_load():
    cop = LoadCellCop(unit="kg")
    # 60 kg, all on the two right cells, twice as much at the front: x = +216.5, y = +119/3.
    out = cop.process(np.array([[40.0, 20.0, 0.0, 0.0]]))
    np.testing.assert_allclose(out[0], [216.5, 119.0 / 3, 60 * 9.80665])
    wb = cop.weight_bearing()
    assert wb["right"] == pytest.approx(100) and wb["front"] == pytest.approx(200 / 3)


def test_wii_piecewise_calibration_and_tare():
    cal = np.array(
        [[1000, 2700, 4400], [1100, 2800, 4500], [900, 2500, 4100], [1000, 2600, 4200]], float
    )
    cop = LoadCellCop(wii_calibration=cal)
    empty = cal[:, 0] + [3, -2, 5, 1]  # drift of a few counts with nobody on
    on_board = np.array([cal[0, 1], cal[1, 1], (cal[2, 1] + cal[2, 2]) / 2, cal[3, 0]])
    out = cop.process(np.vstack([empty, on_board]))
    assert np.isnan(out[0, :2]).all()  # below the stance threshold: no garbage COP
    expected = np.array([17, 17, 25.5, 0]) * 9.80665
    np.testing.assert_allclose(cop.last_forces[1], expected)
    cop.start_tare(10)
    cop.process(np.tile(empty, (10, 1)))
    forces_before = KF.cells_cop_numpy(
        empty[None], cal, cop.gain, cop.offset, np.zeros(4), cop.positions, 1.0
    )[0][0]
    np.testing.assert_allclose(cop.tare_n, forces_before)
    cop.process(empty[None])
    np.testing.assert_allclose(cop.last_forces[0], 0.0, atol=1e-9)
    with pytest.raises(ValueError, match="increasing raw readings"):
        LoadCellCop(wii_calibration=cal[:, ::-1])


def test_cells_kernel_twin():
    rng = np.random.default_rng(4)
    raw = rng.uniform(-2, 6, size=(300, 4))  # totals either side of the 100 N threshold
    cop = LoadCellCop(unit="kg", min_load_n=100.0)
    out = cop.process(raw)
    forces, twin = KF.cells_cop_numpy(
        raw, cop.cal, cop.gain, cop.offset, cop.tare_n, cop.positions, 100.0
    )
    np.testing.assert_allclose(out, twin, equal_nan=True, rtol=1e-12)
    np.testing.assert_allclose(cop.last_forces, forces, rtol=1e-12)
    assert np.isnan(out[:, 0]).any() and not np.isnan(out[:, 0]).all()
    assert (
        weight_bearing(np.zeros((3, 4)), WII_CELLS_XY_MM)["left"]
        != weight_bearing(np.zeros((3, 4)), WII_CELLS_XY_MM)["left"]
    )  # NaN when nobody stands on the board


def test_streaming_lowpass_equals_sosfilt_of_the_concatenation():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 3)) + [5, -2, 700]
    for prime in (True, False):
        lp = StreamingLowpass(1000.0, 3, prime=prime)
        out = np.vstack([lp.process(x[a:b]) for a, b in _chunks(len(x), rng)])
        sos = butter_lowpass(1000.0)
        zi = scipy.signal.sosfilt_zi(sos)[:, :, None] * (x[0] if prime else np.zeros(3))
        ref, _ = scipy.signal.sosfilt(sos, x, axis=0, zi=zi)
        np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        KF.sos_stream_numpy(x, sos, np.zeros((sos.shape[0], 2, 3)))[0],
        scipy.signal.sosfilt(sos, x, axis=0),
    )


def test_lowpass_nan_gap_restarts_without_transient():
    lp = StreamingLowpass(100.0, 2)
    x = np.full((300, 2), 50.0)
    x[100:120] = np.nan
    out = lp.process(x)
    assert np.isnan(out[100:120]).all()
    np.testing.assert_allclose(out[120:], 50.0, rtol=1e-12)  # primed at the new value
    lp.reset()
    np.testing.assert_allclose(lp.process(np.full((5, 2), -3.0)), -3.0, rtol=1e-12)


def test_filter_bad_parameters():
    with pytest.raises(ValueError, match="below half the sample rate"):
        butter_lowpass(15.0, 10.0)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        StreamingLowpass(100.0, 2).process(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        zero_phase_lowpass(np.array([1.0, np.nan] * 50), 100.0)


def test_zero_phase_has_no_lag():
    fs = 100.0
    t = np.arange(2000) / fs
    x = np.sin(2 * np.pi * 1.0 * t)
    y = zero_phase_lowpass(x, fs)
    assert np.max(np.abs(y[200:-200] - x[200:-200])) < 1e-3


def test_window_resampler_chunked_equals_offline_twin():
    rng = np.random.default_rng(1)
    t = 3.0 + np.cumsum(rng.uniform(0.004, 0.02, 3000))  # uneven, like the Wii board
    v = np.column_stack([np.sin(t), np.cos(3 * t), t])
    rs = WindowResampler(100.0, 3)
    parts = [rs.process(t[a:b], v[a:b]) for a, b in _chunks(len(t), rng)]
    t_out = np.concatenate([p[0] for p in parts])
    v_out = np.vstack([p[1] for p in parts])
    t_ref, v_ref = resample_window_average(t, v, 100.0)
    assert len(t_out) == len(t_ref) == rs.n_emitted
    np.testing.assert_allclose(t_out, t_ref, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v_out, v_ref, rtol=1e-9, atol=1e-9)
    # A window average of a ramp sampled-and-held lags at most one input interval.
    assert np.max(np.abs(v_out[:, 2] - t_out)) < 0.03


def test_window_average_weights_by_hold_time_not_sample_count():
    # Two samples in one 10 ms window: 1.0 held for 9 ms, then 0.0 for 1 ms -> mean 0.9.
    rs = WindowResampler(100.0, 1)
    t_out, v_out, src = rs.process(
        np.array([0.0, 0.009, 0.010, 0.020]), np.array([[1.0], [0.0], [5.0], [5.0]])
    )
    np.testing.assert_allclose(v_out[:, 0], [0.9, 5.0])
    np.testing.assert_allclose(t_out, [0.005, 0.015])
    assert src.tolist() == [2, 3]


def test_window_resampler_long_silence_gives_nan():
    rs = WindowResampler(100.0, 1, max_hold_s=0.05)
    t = np.array([0.0, 0.01, 0.02, 0.50, 0.51])
    _, v_out, _ = rs.process(t, np.ones((5, 1)))
    assert np.isfinite(v_out[:2]).all() and np.isnan(v_out[2:49]).all()


def test_front_end_bad_input_messages():
    with pytest.raises(ValueError, match=r"forces_moments must have shape \(n_samples, 6\)"):
        plate_cop(np.zeros((10, 5)))
    with pytest.raises(ValueError, match=r"raw must have shape \(n_samples, 4\)"):
        LoadCellCop().process(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="dtype"):
        LoadCellCop().process(np.array([["a"] * 4]))
    with pytest.raises(ValueError, match="t has 3 samples but values has 2"):
        WindowResampler(100.0, 1).process(np.arange(3.0), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="cells_xy_mm needs 4 cells"):
        LoadCellCop(cells_xy_mm=[[0, 0]] * 3)
    # Integer counts (raw Wii readings) are accepted and NaN forces give NaN, not a crash.
    out = LoadCellCop(unit="N").process(np.array([[100, 100, 100, 100]], dtype=np.uint16))
    np.testing.assert_allclose(out[0], [0.0, 0.0, 400.0])
    assert np.isnan(plate_cop(np.full((2, 6), np.nan))[:, :2]).all()


# --- twins agree on every edge case (zero load, non-positive thresholds, NaN, inf) -----------
_EDGE = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, -1e-300, 1e300, np.nan, np.inf, -np.inf]),
    st.integers(-2000, 2000).map(float),
)


def _agree(kernel_out, twin_out):
    """Same NaN pattern, same infinities, finite values equal to rounding."""
    np.testing.assert_array_equal(np.isnan(kernel_out), np.isnan(twin_out))
    fin = np.isfinite(kernel_out)
    np.testing.assert_array_equal(fin, np.isfinite(twin_out))
    np.testing.assert_array_equal(kernel_out[~fin], twin_out[~fin])
    np.testing.assert_allclose(kernel_out[fin], twin_out[fin], rtol=1e-9, atol=1e-9)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(_EDGE, min_size=6, max_size=6), min_size=1, max_size=6),
    dz=st.sampled_from([0.0, 0.04]),
    min_fz=st.one_of(st.sampled_from([-1.0, 0.0, -np.inf, 98.0]), st.integers(-50, 50)),
)
def test_plate_cop_kernel_and_twin_agree_on_edge_cases(rows, dz, min_fz):
    fm = np.array(rows, float)
    out = np.empty((len(fm), 3))
    KF.plate_cop(fm, dz, float(min_fz), out)  # raised ZeroDivisionError under Numba for Fz = 0
    _agree(out, KF.plate_cop_numpy(fm, dz, float(min_fz)))


@settings(max_examples=300, deadline=None)
# Found by an exploring run: cancelling 1e300 loads, where a BLAS product added in another order.
@example(
    rows=[[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1e300, 0.0, 1e300, 1.0]],
    gain=[1.0, 1.0, -1.0, 1.0],
    min_total=-1.0,
)
@given(
    rows=st.lists(st.lists(_EDGE, min_size=4, max_size=4), min_size=1, max_size=6),
    gain=st.lists(st.sampled_from([1.0, -1.0, 9.80665, 0.0, -0.5]), min_size=4, max_size=4),
    min_total=st.one_of(st.sampled_from([-1.0, 0.0, -np.inf, 98.0]), st.integers(-50, 50)),
)
def test_cells_cop_kernel_and_twin_agree_on_edge_cases(rows, gain, min_total):
    raw = np.array(rows, float)
    args = (np.zeros((4, 3)), np.array(gain), np.zeros(4), np.zeros(4), np.array(WII_CELLS_XY_MM))
    forces, out = np.empty((len(raw), 4)), np.empty((len(raw), 3))
    KF.cells_cop(raw, *args, float(min_total), forces, out)
    twin_forces, twin = KF.cells_cop_numpy(raw, *args, float(min_total))
    _agree(forces, twin_forces)
    _agree(out, twin)


def test_zero_load_is_nan_with_a_non_positive_threshold():
    # min_load_n may come from a device descriptor: 0 or below must not crash the kernels
    out = plate_cop(np.zeros((2, 6)), min_fz_n=0.0)
    assert np.isnan(out[:, :2]).all() and (out[:, 2] == 0).all()
    cop = LoadCellCop(unit="N", min_load_n=-1.0)
    out = cop.process(np.array([[0.0, 0.0, 0.0, 0.0], [10.0, -10.0, 0.0, 0.0]]))
    assert np.isnan(out[:, :2]).all()


@pytest.mark.parametrize("order", range(1, 9))
def test_butterworth_design_is_scipys_bit_for_bit(order):
    """The live low-pass designs its sections without importing scipy.signal (dsp._butter):
    every coefficient and the steady state must be SciPy's own, equal and not merely close."""
    from dsp import _butter

    for fs in (25.0, 100.0, 100.0 / 3, 200.0, 1000.0):
        for cutoff in (0.5, 2.0, 10.0, 0.1 * fs / 2, 0.9 * fs / 2):
            sos = _butter.butter_sos(order, cutoff, fs)
            expected = scipy.signal.butter(order, cutoff, fs=fs, output="sos")
            np.testing.assert_array_equal(sos, expected)
            np.testing.assert_array_equal(_butter.sosfilt_zi(sos), scipy.signal.sosfilt_zi(sos))
            for got, want in zip(
                _butter.butter_ba(order, cutoff, fs), scipy.signal.butter(order, cutoff, fs=fs)
            ):
                np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(
        butter_lowpass(100.0, 10.0, order), scipy.signal.butter(order, 10.0, fs=100.0, output="sos")
    )
