"""Trial metrics: published reference values, analytic cases, NumPy twins, properties, bad input."""

from __future__ import annotations

import csv
import math
import pathlib

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from dsp import _kernels_metrics as K
from dsp.metrics import GROUPS, Settings, _f_quantile_2, batch_metrics, trial_metrics
from dsp.spectral import welch_psd, welch_psd_scipy
from nmr_balance.io_formats import read_santos_duarte

DATA = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"
with open(DATA / "published_values.tsv", newline="") as _f:
    PUBLISHED = list(csv.DictReader(_f, delimiter="\t"))


def _circle(r=10.0, fs=100.0, turns=30, f=0.5):
    t = np.arange(int(turns / f * fs)) / fs
    return np.column_stack([r * np.cos(2 * np.pi * f * t), r * np.sin(2 * np.pi * f * t)])


@pytest.mark.parametrize("use_numba", [True, False], ids=["kernels", "twins"])
@pytest.mark.parametrize("row", PUBLISHED, ids=[r["Trial"] for r in PUBLISHED])
def test_reproduces_published_values(row, use_numba):
    rec = read_santos_duarte(DATA / f"{row['Trial']}.txt")
    m = trial_metrics(
        rec.xy / 10.0, rec.fs, unit="cm", groups=("time", "spectral"), use_numba=use_numba
    )
    for ours, theirs in (
        ("ellipse_area_95_f", "COParea"),
        ("mean_velocity", "COPvelo"),
        ("mean_power_frequency", "COPmfreq"),
    ):
        assert m[ours] == pytest.approx(float(row[theirs]), rel=1e-9, abs=0)
    assert m.units["ellipse_area_95_f"] == "cm^2" and m.units["mean_velocity"] == "cm/s"


def test_plate_cop_from_forces_matches_published_cop_columns():
    from dsp.cop import plate_cop

    for row in PUBLISHED[:3]:
        rec = read_santos_duarte(DATA / f"{row['Trial']}.txt")
        cop = plate_cop(rec.forces_moments, surface_offset_mm=0.0)
        # The files round COP to 1e-6 cm = 1e-5 mm.
        np.testing.assert_allclose(cop[:, :2], rec.xy, rtol=0, atol=1e-5)
        np.testing.assert_allclose(cop[:, 2], rec.forces_moments[:, 2])


@pytest.mark.parametrize("trial", ["BDS00001", "BDS00007", "BDS00012"])
def test_numba_kernels_agree_with_numpy_twins_on_real_data(trial):
    rec = read_santos_duarte(DATA / f"{trial}.txt")
    fast = trial_metrics(rec.xy, rec.fs, use_numba=True)
    slow = trial_metrics(rec.xy, rec.fs, use_numba=False)
    assert fast.keys() == slow.keys() and len(fast) > 55
    assert fast.notes == slow.notes
    for key in fast:
        assert fast[key] == pytest.approx(slow[key], rel=1e-12, abs=1e-12), key
    f1, p1 = welch_psd(rec.xy.T, rec.fs)
    f2, p2 = welch_psd_scipy(rec.xy.T, rec.fs)
    np.testing.assert_allclose(f1, f2)
    np.testing.assert_allclose(p1, p2, rtol=1e-9, atol=1e-12 * p2.max())


def test_kernel_twins_individually():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=400))
    y = np.cumsum(rng.normal(size=400))
    np.testing.assert_allclose(K.sway_stats(x, y), K.sway_stats_numpy(x, y), rtol=1e-12)
    np.testing.assert_allclose(K.block_mean(x, 3), K.block_mean_numpy(x, 3), rtol=1e-12)
    for m, r in ((2, 0.2 * x.std()), (3, 0.5 * x.std()), (1, 0.1)):
        assert K.sample_entropy_counts(x, m, r) == K.sample_entropy_counts_numpy(x, m, r)
    # Ties and pairs exactly r apart (a quantised signal), a constant one (r = 0: every pair
    # matches), and the r = 0.2 SD of a long trial: counts equal, not merely close.
    q = np.round(x / 4.0)
    c = np.full(50, 3.0)
    long_ = np.cumsum(rng.normal(size=3000))
    for s, m, r in ((q, 2, 1.0), (q, 3, 0.0), (c, 2, 0.0), (long_, 2, 0.2 * long_.std())):
        counts = K.sample_entropy_counts(s, m, r)
        assert counts == K.sample_entropy_counts_numpy(s, m, r)
        assert counts[1] > 0
    assert K.sample_entropy_counts_numpy(c, 2, 0.0) == (48 * 47 // 2,) * 2  # N - m templates
    lags = np.array([1, 2, 5, 40])
    np.testing.assert_allclose(
        K.mean_square_displacement(x, y, lags),
        K.mean_square_displacement_numpy(x, y, lags),
        rtol=1e-12,
    )


def test_f_quantile_closed_form_matches_scipy():
    for d2 in (3, 10, 998, 5998):
        assert _f_quantile_2(0.95, d2) == pytest.approx(scipy.stats.f.ppf(0.95, 2, d2), rel=1e-12)


def test_circle_path_length_and_distance():
    r, f, turns = 10.0, 0.5, 30
    xy = _circle(r, 100.0, turns, f)
    m = trial_metrics(xy, 100.0)
    # n - 1 chords of the inscribed polygon, each 2 r sin(pi f / fs); -> 2 pi r per turn.
    chord = 2 * r * np.sin(np.pi * f / 100.0)
    assert m["path_length"] == pytest.approx((len(xy) - 1) * chord, rel=1e-12)
    assert m["path_length"] == pytest.approx(2 * np.pi * r * turns, rel=1e-3)
    assert m["mean_distance"] == pytest.approx(r, rel=1e-12)
    assert m["rms_distance"] == pytest.approx(r, rel=1e-12)
    assert m["mean_velocity"] == pytest.approx(m["path_length"] / (len(xy) / 100.0), rel=1e-12)
    assert m["mean_velocity"] == pytest.approx(2 * np.pi * r * f, rel=1e-3)
    assert m["mean_frequency_prieto"] == pytest.approx(f, rel=1e-3)
    assert m["range_ml"] == pytest.approx(2 * r, rel=1e-3)
    assert m["circle_area_95"] == pytest.approx(np.pi * r * r, rel=1e-9)
    # Mean-removed swept area: one disc per turn.
    assert m["sway_area_per_second"] == pytest.approx(np.pi * r * r * f, rel=1e-3)


@pytest.mark.parametrize("freq", [0.4, 1.0, 2.5])
def test_sinusoid_frequencies(freq):
    fs, dur = 100.0, 60.0
    t = np.arange(int(fs * dur)) / fs
    xy = np.column_stack([3 * np.sin(2 * np.pi * freq * t), np.zeros_like(t)])
    m = trial_metrics(xy, fs, groups=("time", "spectral"))
    df = fs / (len(t) // 2)
    for key in ("mean_power_frequency_ml", "power_frequency_50_ml", "centroidal_frequency_ml"):
        assert abs(m[key] - freq) <= df, key
    assert m["frequency_dispersion_ml"] < 0.2
    assert m["total_power_ml"] == pytest.approx(4.5, rel=0.05)  # variance of 3 sin
    assert math.isnan(m["mean_power_frequency_ap"])
    assert m["mean_power_frequency"] == pytest.approx(m["mean_power_frequency_ml"])


def test_known_covariance_gives_ellipse():
    rng = np.random.default_rng(7)
    cov = np.array([[4.0, 1.5], [1.5, 2.0]])
    xy = rng.multivariate_normal([5, -3], cov, size=200_000)
    m = trial_metrics(xy, 100.0, groups=("time",))
    expected = np.pi * (-2 * np.log(0.05)) * np.sqrt(np.linalg.det(cov))
    assert m["ellipse_area_95_chi2"] == pytest.approx(expected, rel=0.01)
    l1 = np.linalg.eigvalsh(cov)[-1]  # the larger eigenvalue
    assert m["ellipse_major_95_chi2"] == pytest.approx(np.sqrt(5.991464547 * l1), rel=0.01)
    angle = np.degrees(np.arctan2(*np.linalg.eigh(cov)[1][:, 1][::-1]))
    assert (m["ellipse_angle_deg"] - angle + 90) % 180 - 90 == pytest.approx(0, abs=1.0)
    # 95 % of the points fall inside the chi2 ellipse.
    d = xy - xy.mean(0)
    inside = np.einsum("ij,jk,ik->i", d, np.linalg.inv(np.cov(d.T)), d) <= 5.991464547
    assert inside.mean() == pytest.approx(0.95, abs=0.005)
    assert m["ellipse_area_95_f"] > m["ellipse_area_95_chi2"]


def test_constant_signal_is_zero_sway_without_errors():
    with np.errstate(all="raise"):
        m = trial_metrics(np.full((3000, 2), 7.0), 100.0)
    for key in (
        "path_length",
        "mean_velocity",
        "mean_distance",
        "ellipse_area_95_f",
        "ellipse_area_95_chi2",
        "circle_area_95",
        "total_power",
        "range_ml",
    ):
        assert m[key] == 0.0, key
    assert m["sda_diffusion_short"] == 0.0
    for key in ("mean_power_frequency", "mean_frequency_prieto", "sda_exponent_short"):
        assert math.isnan(m[key]) and m.notes[key], key


def test_batch_equals_single_trials():
    rng = np.random.default_rng(11)
    trials = np.cumsum(rng.normal(size=(5, 1500, 2)), axis=1)
    batch = batch_metrics(trials, 50.0)
    for i in (0, 4):
        single = trial_metrics(trials[i], 50.0)
        for key, value in single.items():
            assert batch[key][i] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), key


def test_stabilogram_diffusion_of_brownian_motion():
    # Random walk: MSD = 2 D t per axis, scaling exponent H = 0.5 at every time scale.
    rng = np.random.default_rng(5)
    fs, d_true = 25.0, 2.0
    steps = rng.normal(scale=np.sqrt(2 * d_true / fs), size=(200, 1500, 2))
    m = batch_metrics(np.cumsum(steps, axis=1), fs, groups=("diffusion",))
    # Planar: <r^2> = 4 D t, and D_r = slope / 2 = 2 D.
    assert np.median(m["sda_diffusion_short"]) == pytest.approx(2 * d_true, rel=0.05)
    assert np.median(m["sda_exponent_short"]) == pytest.approx(0.5, abs=0.03)


def test_sample_entropy_orders_regular_and_random():
    t = np.arange(3000) / 100.0
    rng = np.random.default_rng(2)
    regular = np.column_stack([np.sin(2 * np.pi * 0.3 * t)] * 2)
    noisy = rng.normal(size=(3000, 2))
    assert trial_metrics(regular, 100.0)["sample_entropy_ml"] < 0.5
    assert trial_metrics(noisy, 100.0)["sample_entropy_ml"] > 1.5


@settings(max_examples=25, deadline=None)
@given(
    dx=st.floats(-1e3, 1e3),
    dy=st.floats(-1e3, 1e3),
    angle=st.floats(0, 2 * np.pi),
    scale=st.floats(0.1, 20),
    seed=st.integers(0, 2**16),
)
def test_invariances(dx, dy, angle, scale, seed):
    rng = np.random.default_rng(seed)
    xy = np.cumsum(rng.normal(size=(1200, 2)), axis=0)
    base = trial_metrics(xy, 100.0)
    moved = trial_metrics(xy + [dx, dy], 100.0)
    c, s = np.cos(angle), np.sin(angle)
    rotated = trial_metrics(xy @ np.array([[c, -s], [s, c]]).T, 100.0)
    scaled = trial_metrics(xy * scale, 100.0)
    for key in (
        "mean_distance",
        "rms_distance",
        "path_length",
        "ellipse_area_95_f",
        "sway_area_per_second",
        "mean_power_frequency",
        "sample_entropy_ml",
        "sda_diffusion_short",
        "range_ap",
        "total_power_ap",
    ):
        assert moved[key] == pytest.approx(base[key], rel=1e-7, abs=1e-9), key
    for key in (
        "mean_distance",
        "rms_distance",
        "path_length",
        "mean_velocity",
        "ellipse_area_95_f",
        "ellipse_area_95_chi2",
        "circle_area_95",
        "sway_area_per_second",
        "total_power",
        "mean_frequency_prieto",
        "centroidal_frequency",
        "sda_diffusion_short",
        "fractal_dimension_cc",
    ):
        assert rotated[key] == pytest.approx(base[key], rel=1e-7, abs=1e-9), key
    for key, power in (
        ("ellipse_area_95_f", 2),
        ("circle_area_95", 2),
        ("total_power", 2),
        ("mean_velocity", 1),
        ("path_length", 1),
        ("mean_distance", 1),
        ("mean_power_frequency", 0),
        ("sample_entropy_ml", 0),
    ):
        assert scaled[key] == pytest.approx(base[key] * scale**power, rel=1e-7), key


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        trial_metrics(np.zeros((100, 3)), 100.0)
    with pytest.raises(ValueError, match="dtype"):
        trial_metrics(np.array([["a", "b"]] * 20), 100.0)
    with pytest.raises(ValueError, match="at least 10 samples"):
        trial_metrics(np.zeros((5, 2)), 100.0)
    with pytest.raises(ValueError, match="fs must be a positive number"):
        trial_metrics(np.zeros((50, 2)), 0)
    with pytest.raises(ValueError, match="unknown metric groups"):
        trial_metrics(np.zeros((50, 2)), 10.0, groups=("time", "colour"))
    xy = np.cumsum(np.random.default_rng(0).normal(size=(3000, 2)), axis=0)
    xy[100:110] = np.nan
    with pytest.raises(ValueError, match=r"10 non-finite samples \(first at index 100"):
        trial_metrics(xy, 100.0)
    m = trial_metrics(xy, 100.0, nan_policy="interpolate")
    assert np.isfinite(m["mean_velocity"]) and m["n_samples"] == 3000
    xy[200:260] = np.nan
    with pytest.raises(ValueError, match="gap of 60 samples"):
        trial_metrics(xy, 100.0, nan_policy="interpolate")
    with pytest.raises(ValueError, match="trials must have shape"):
        batch_metrics(np.zeros((10, 2)), 100.0)


def test_short_trial_gets_nan_spectra_with_reason():
    xy = np.cumsum(np.random.default_rng(1).normal(size=(500, 2)), axis=0)
    m = trial_metrics(xy, 100.0)  # 5 s
    assert np.isfinite(m["mean_velocity"])
    assert math.isnan(m["mean_power_frequency"])
    assert "shorter than the 10 s" in m.notes["mean_power_frequency"]
    assert "too short" in m.notes["sda_diffusion_long"]
    relaxed = trial_metrics(xy, 100.0, settings=Settings(min_spectral_s=4.0))
    assert np.isfinite(relaxed["mean_power_frequency"])
    assert set(relaxed) <= set(relaxed.units) and relaxed.units["sda_diffusion_short"] == "mm^2/s"
    with pytest.raises(ValueError, match="entropy_m >= 1"):
        Settings(entropy_m=0)
    assert set(GROUPS) == {"time", "spectral", "entropy", "diffusion"}


def test_numpy_path_loads_neither_numba_nor_scipy(tmp_path):
    """``use_numba=False`` (what a one-shot ``analyze`` runs) imports only NumPy: loading Numba
    and scipy.signal would cost more than the analysis of one trial."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from dsp.metrics import trial_metrics\n"
        "from nmr_balance.io_formats import read_santos_duarte\n"
        f"rec = read_santos_duarte({str(DATA / 'BDS00003.txt')!r})\n"
        "m = trial_metrics(rec.xy, rec.fs, use_numba=False)\n"
        "assert len(m) > 55 and m['mean_power_frequency'] > 0, m\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('numba', 'scipy', 'llvmlite')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]", out.stdout


def test_default_path_is_the_twins_until_the_kernels_are_loaded_and_for_long_trials():
    """``use_numba=None`` picks the cheaper path for this process; a fresh process (no kernel
    loaded) gets the twins for a normal trial and the kernels for a very long one."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from dsp import metrics\n"
        "xy = np.cumsum(np.random.default_rng(1).normal(size=(3000, 2)), axis=0)\n"
        "a = metrics.trial_metrics(xy, 100.0, groups=('time',))\n"
        "print('numba' in sys.modules, metrics.kernels_loaded())\n"
        "n = metrics.TWINS_MAX_SAMPLES + 1\n"
        "long_ = np.cumsum(np.random.default_rng(2).normal(size=(n, 2)), axis=0)\n"
        "metrics.trial_metrics(long_, 1000.0, groups=('time',))\n"
        "print(metrics.kernels_loaded())\n"
        "b = metrics.trial_metrics(xy, 100.0, groups=('time',))\n"
        "print(all(abs(a[k] - b[k]) <= 1e-12 * abs(a[k]) for k in a))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split() == ["False", "False", "True", "True"], out.stdout
