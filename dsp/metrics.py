"""Sway metrics of a whole trial (batch analysis): one entry point for one trial, one for many.

Every definition, with its reference and the choices made, is in ``docs/metrics.md``. In short:
x = ML and y = AP (mm or deg); duration T = n / fs; mean removed before distances; population
moments for distances and RMS, sample covariance (ddof = 1) for the ellipses; spectra by
:func:`dsp.spectral.welch_psd`; entropy and diffusion on a block-averaged copy at about
``analysis_fs`` Hz; spectra of faster recordings on a copy decimated to about ``spectral_fs`` Hz.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys

import numpy as np

from dsp import _derive_numpy as DN
from dsp import _layout as L
from dsp._metrics_numpy import trial_kernels_numpy
from dsp._validate import as_xy, positive
from dsp.spectral import (
    PRIETO_BAND_HZ,
    decimate,
    decimation_factor,
    decimation_filter,
    welch_psd,
    welch_psd_numpy,
)

# The Numba kernel modules (dsp._kernels_metrics, dsp._kernels_derive) are imported where they
# are used, not here: importing them imports Numba (~0.2-0.5 s), which a one-shot analysis
# with the NumPy twins (use_numba=False) never needs.

#: chi-square(2) quantile at 0.95 (= -2 ln 0.05 = 5.991...): the large-sample 95 % ellipse.
CHI2_95_2DOF = -2.0 * math.log(0.05)
#: Longest trial (samples) that :func:`trial_metrics` gives to the NumPy twins by default when
#: the kernels are not loaded: the twins' sample entropy grows with n^2 (~0.3 s at this size).
TWINS_MAX_SAMPLES = 120_000
#: Trials per block in :func:`batch_metrics`.
_BATCH_BLOCK = 256
#: Metric groups; "time" is always computed.
GROUPS = ("time", "spectral", "entropy", "diffusion")

#: Unit of each metric, "L" standing for the unit of the input (mm or deg).
METRIC_UNITS: dict[str, str] = {
    "n_samples": "",
    "duration_s": "s",
    "mean_x": "L",
    "mean_y": "L",
    "mean_distance": "L",
    "mean_distance_ml": "L",
    "mean_distance_ap": "L",
    "rms_distance": "L",
    "rms_ml": "L",
    "rms_ap": "L",
    "range_ml": "L",
    "range_ap": "L",
    "path_length": "L",
    "path_length_ml": "L",
    "path_length_ap": "L",
    "mean_velocity": "L/s",
    "mean_velocity_ml": "L/s",
    "mean_velocity_ap": "L/s",
    "circle_area_95": "L^2",
    "ellipse_area_95_chi2": "L^2",
    "ellipse_major_95_chi2": "L",
    "ellipse_minor_95_chi2": "L",
    "ellipse_area_95_f": "L^2",
    "ellipse_major_95_f": "L",
    "ellipse_minor_95_f": "L",
    "ellipse_angle_deg": "deg",
    "sway_area_per_second": "L^2/s",
    "mean_frequency_prieto": "Hz",
    "mean_frequency_prieto_ml": "Hz",
    "mean_frequency_prieto_ap": "Hz",
    "fractal_dimension_cc": "",
    "fractal_dimension_ce": "",
    **{
        f"{name}{axis}": unit
        for axis in ("", "_ml", "_ap")
        for name, unit in (
            ("total_power", "L^2"),
            ("mean_power_frequency", "Hz"),
            ("power_frequency_50", "Hz"),
            ("power_frequency_95", "Hz"),
            ("centroidal_frequency", "Hz"),
            ("frequency_dispersion", ""),
        )
    },
    "sample_entropy_ml": "",
    "sample_entropy_ap": "",
    "sda_diffusion_short": "L^2/s",
    "sda_diffusion_long": "L^2/s",
    "sda_exponent_short": "",
    "sda_exponent_long": "",
    "sda_critical_time_s": "s",
    "sda_critical_msd": "L^2",
}


class SwayMetrics(dict):
    """The metrics of one trial: a ``dict`` of name -> float, plus three attributes.

    Attributes
    ----------
    units : dict of str
        Unit of each metric (e.g. ``"mm^2"``, ``"mm/s"``, ``"Hz"``; ``""`` = dimensionless).
    notes : dict of str
        Why a metric is NaN (too short for spectra, constant signal...), by metric name.
    settings : dict
        The analysis settings used (for reports and reproducibility).
    """

    units: dict[str, str]
    notes: dict[str, str]
    settings: dict


@dataclasses.dataclass(frozen=True)
class Settings:
    """Analysis choices; every field is documented in ``docs/metrics.md``."""

    analysis_fs: float = 25.0  # Hz, rate of the copy used for entropy and diffusion
    entropy_m: int = 2  # template length
    entropy_r: float = 0.2  # tolerance, in SDs of the signal
    sda_short_s: float = 1.0  # short-term region: 0 < dt <= this
    sda_long_s: tuple[float, float] = (2.5, 10.0)  # long-term region (end capped at T / 2)
    band_hz: tuple[float, float] = PRIETO_BAND_HZ
    min_spectral_s: float = 10.0  # shorter trials get NaN spectral metrics
    min_sda_s: float = 10.0  # shorter trials get NaN diffusion metrics
    spectral_fs: float | None = 100.0  # Hz; spectra of faster trials use a copy decimated to
    # >= this rate (None: always the full rate)

    def __post_init__(self) -> None:
        lo, hi = self.band_hz
        s0, s1 = self.sda_long_s
        checks = (
            (self.analysis_fs > 0, "analysis_fs > 0"),
            (self.entropy_m >= 1, "entropy_m >= 1"),
            (self.entropy_r > 0, "entropy_r > 0"),
            (0 <= lo < hi, "band_hz = (low, high)"),
            (0 < self.sda_short_s < s0 < s1, "0 < sda_short_s < sda_long_s[0] < sda_long_s[1]"),
            (self.spectral_fs is None or self.spectral_fs > 0, "spectral_fs > 0 or None"),
        )
        for ok, expected in checks:
            if not ok:
                raise ValueError(f"bad analysis settings {self}: expected {expected}")


def units_for(unit: str) -> dict[str, str]:
    """Units of every metric for input in ``unit`` (``"mm"``, ``"deg"``, ``"cm"``...)."""
    return dict(_units_for(unit))


@functools.lru_cache(maxsize=8)
def _units_for(unit: str) -> dict[str, str]:
    return {k: u.replace("L", unit) for k, u in METRIC_UNITS.items()}


def trial_metrics(
    xy,
    fs: float,
    *,
    unit: str = "mm",
    nan_policy: str = "raise",
    max_gap_s: float = 0.25,
    settings: Settings = Settings(),
    groups: tuple[str, ...] = GROUPS,
    use_numba: bool | None = None,
) -> SwayMetrics:
    """Every sway metric of one trial.

    Parameters
    ----------
    xy : array_like, shape (n_samples, 2)
        Sway: column 0 = x (ML, + right), column 1 = y (AP, + forward), in ``unit``; evenly
        sampled at ``fs``. At least 10 samples.
    fs : float
        Sample rate, Hz.
    unit : str
        Unit of ``xy`` (``"mm"`` for COP, ``"deg"`` for tilt); labels :attr:`SwayMetrics.units`.
    nan_policy : {"raise", "interpolate"}
        Non-finite samples raise ``ValueError`` (default) or, with ``"interpolate"``, gaps up to
        ``max_gap_s`` seconds are bridged linearly (leading/trailing gaps are cut off).
    settings : Settings
        Analysis choices (entropy, diffusion regions, spectral band, minimum durations, and
        ``spectral_fs``: trials at >= 2x this rate (default 100 Hz) get their spectra from a
        decimated copy; ``None`` keeps the full rate; see ``docs/metrics.md``).
    groups : tuple of str
        Which metric groups to compute, from ``GROUPS`` ("time", "spectral", "entropy",
        "diffusion"); "time" is always computed.
    use_numba : bool or None
        True runs the Numba kernels, False their plain NumPy twins (values agree to ~1e-15
        relative; tested). None (default) takes the cheaper one for this process: the kernels
        once they are loaded here (a live engine, a batch) or for a long trial (more than
        ``TWINS_MAX_SAMPLES``), else the twins (about 5 ms for a 60 s trial at 100 Hz, where
        loading Numba and the cached kernels costs 0.3-1 s).

    Returns
    -------
    SwayMetrics
        name -> float (see ``METRIC_UNITS`` for the names), with ``units`` and ``notes``.

    Raises
    ------
    ValueError
        Wrong shape or dtype, fewer than 10 samples, non-finite samples (with ``"raise"``), a gap
        longer than ``max_gap_s`` or an unknown group.
    """
    fs = positive(fs, "fs")
    if nan_policy == "interpolate":
        xy = bridge_gaps(as_xy(xy, allow_nan=True), fs, max_gap_s)
    elif nan_policy != "raise":
        raise ValueError(f"nan_policy must be 'raise' or 'interpolate'; got {nan_policy!r}")
    # Finiteness is checked by _compute on the kernels' sums (free), not by a pass of its own.
    xy = as_xy(xy, min_samples=10, allow_nan=True)
    if use_numba is None:
        use_numba = xy.shape[0] > TWINS_MAX_SAMPLES or kernels_loaded()
    plan = _Plan.make(xy.shape[0], fs, settings, groups)
    keys, out, notes = _compute(plan, xy[None], use_numba)
    result = SwayMetrics(zip(keys, out[0].tolist()))
    result.units = units_for(unit)
    result.notes = notes
    result.settings = {
        **vars(settings),
        "fs": fs,
        "unit": unit,
        "groups": tuple(groups),
        "spectral_decimation": plan.q,
    }
    return result


def kernels_loaded() -> bool:
    """Whether this process has the trial-metric kernels ready (loaded or compiled), so that
    using them costs nothing more than the call."""
    kernels = sys.modules.get("dsp._kernels_metrics")
    return kernels is not None and bool(getattr(kernels.sway_stats, "signatures", ()))


def batch_metrics(
    trials, fs: float, *, settings: Settings = Settings(), groups: tuple[str, ...] = GROUPS
) -> dict[str, np.ndarray]:
    """The metrics of many equal-length trials at once, in parallel on every core.

    Parameters
    ----------
    trials : array_like, shape (n_trials, n_samples, 2)
        Stack of trials (x = ML, y = AP), all finite, evenly sampled at ``fs``.
    fs : float
        Sample rate, Hz.
    settings, groups
        As for :func:`trial_metrics`.

    Returns
    -------
    dict of ndarray, shape (n_trials,)
        Same names as :func:`trial_metrics`, plus ``"notes"``: a dict giving, for each name
        that is NaN in some trial, why.
    """
    fs = positive(fs, "fs")
    arr = np.asarray(trials)
    if arr.ndim != 3 or arr.shape[2] != 2:
        raise ValueError(f"trials must have shape (n_trials, n_samples, 2); got {arr.shape}")
    as_xy(arr.reshape(-1, 2), name="trials")
    if arr.shape[1] < 10:
        raise ValueError(f"each trial needs at least 10 samples; got {arr.shape[1]}")
    plan = _Plan.make(arr.shape[1], fs, settings, groups)
    # Blocks of trials keep the spectral work arrays small (cache-friendly, bounded memory).
    parts = [
        _compute(plan, np.ascontiguousarray(arr[i : i + _BATCH_BLOCK], dtype=np.float64), True)
        for i in range(0, arr.shape[0], _BATCH_BLOCK)
    ]
    keys, notes = parts[0][0], {k: v for p in parts for k, v in p[2].items()}
    out = np.vstack([p[1] for p in parts])
    values: dict = dict(zip(keys, out.T))
    values["notes"] = notes
    return values


def bridge_gaps(xy: np.ndarray, fs: float, max_gap_s: float) -> np.ndarray:
    """Cut leading/trailing non-finite rows and interpolate inner gaps of <= ``max_gap_s``.

    Raises ``ValueError`` naming the longest gap when one is longer.
    """
    good = np.isfinite(xy).all(axis=1)
    if not good.any():
        raise ValueError("xy has no finite sample: nobody stood on the board during this trial")
    first, last = np.argmax(good), len(good) - np.argmax(good[::-1])
    xy, good = xy[first:last], good[first:last]
    if good.all():
        return xy
    idx = np.flatnonzero(good)
    longest = int(np.max(np.diff(idx)) - 1)
    if longest / fs > max_gap_s:
        raise ValueError(
            f"xy has a gap of {longest} samples ({longest / fs:.3g} s), longer than max_gap_s="
            f"{max_gap_s:g} s: analyse the parts before and after it separately, or raise max_gap_s"
        )
    t = np.arange(len(xy))
    return np.column_stack([np.interp(t, idx, xy[idx, c]) for c in range(2)])


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Sizes derived from n, fs, the settings and groups; shared by the single and batch paths."""

    n: int
    fs: float
    k: int  # decimation block for entropy and diffusion
    q: int  # decimation factor for the spectra (1 = full rate)
    lags: np.ndarray  # diffusion lags, samples of the decimated copy
    groups: frozenset
    settings: Settings

    @classmethod
    def make(cls, n: int, fs: float, settings: Settings, groups) -> _Plan:
        return cls._make(n, fs, settings, tuple(groups))

    @classmethod
    @functools.lru_cache(maxsize=64)
    def _make(cls, n: int, fs: float, settings: Settings, groups: tuple) -> _Plan:
        unknown = set(groups) - set(GROUPS)
        if unknown:
            raise ValueError(f"unknown metric groups {sorted(unknown)}; choose from {GROUPS}")
        k = max(1, round(fs / settings.analysis_fs))
        fs_d, duration = fs / k, n / fs
        lags = np.zeros(0, np.int64)
        if "diffusion" in groups and duration >= settings.min_sda_s:
            # Every lag of the short-term region; about 40 evenly spread in the long-term one
            # (enough for a line fit, and 5x cheaper than every lag).
            long_lo = math.ceil(settings.sda_long_s[0] * fs_d)
            long_hi = math.floor(min(settings.sda_long_s[1], duration / 2) * fs_d)
            lags = np.unique(
                np.concatenate(
                    [
                        np.arange(1, math.floor(settings.sda_short_s * fs_d) + 1),
                        np.round(np.linspace(long_lo, long_hi, 40)) if long_hi > long_lo else [],
                    ]
                ).astype(np.int64)
            )
        lags.flags.writeable = False  # shared by every call with the same sizes
        q = decimation_factor(fs, settings.spectral_fs)
        if q > 1 and n < 2 * decimation_filter(q).size:
            q = 1  # too short to filter (and for spectra, unless
            # min_spectral_s was lowered): keep the full rate
        return cls(n, fs, k, q, lags, frozenset(groups) | {"time"}, settings)

    @property
    def spectra_ok(self) -> bool:
        return self.n / self.fs >= self.settings.min_spectral_s

    @functools.cached_property
    def f_scale(self) -> float:
        """Scale c of the 95 % prediction ellipse (``ellipse_area_95_f``) for n samples."""
        n = self.n
        return _f_quantile_2(0.95, n - 2) * 2 * (n - 1) * (n + 1) / (n * (n - 2))


def _f_quantile_2(p: float, d2: int) -> float:
    """Quantile of the F(2, d2) distribution (closed form: its CDF is 1 - (1 + 2x/d2)^(-d2/2))."""
    return d2 / 2.0 * ((1.0 - p) ** (-2.0 / d2) - 1.0)


def _compute(plan: _Plan, trials: np.ndarray, use_numba: bool):
    """Metric names, values (n_trials, n_metrics) and NaN reasons for ``trials`` (n_trials, n, 2)."""
    s, n_trials, n = plan.settings, trials.shape[0], plan.n
    if use_numba:
        from dsp import _kernels_derive as D
        from dsp import _kernels_metrics as K
    stats = np.zeros((n_trials, L.N_STATS))
    entropy = np.zeros((n_trials, 2, 2), np.int64)
    msd = np.empty((n_trials, plan.lags.size, 3))
    msd.fill(np.nan)
    m = s.entropy_m if "entropy" in plan.groups else 0
    if not use_numba:
        kernels = trial_kernels_numpy
    elif n_trials == 1:
        kernels = K.trial_kernels
    else:
        K.trial_kernels_many(trials, plan.k, plan.lags, m, s.entropy_r, stats, entropy, msd)
        kernels = None
    # One (n_trials, 2, n) copy: contiguous x and y rows for the kernels and the spectra.
    signals = K.xy_rows(trials) if use_numba else np.ascontiguousarray(trials.transpose(0, 2, 1))
    if kernels is not None:
        for t in range(n_trials):
            kernels(
                signals[t, 0],
                signals[t, 1],
                plan.k,
                plan.lags,
                m,
                s.entropy_r,
                stats[t],
                entropy[t],
                msd[t],
            )
    if not math.isfinite(stats[:, L.MEAN_X : L.MEAN_Y + 1].sum()):
        # A non-finite sample makes its trial's mean non-finite: as_xy names it and raises
        # (and lets through a finite trial whose sum overflowed).
        for trial in trials:
            as_xy(trial)
    with_spectra = "spectral" in plan.groups and plan.spectra_ok
    f, psd = np.zeros(2), np.zeros((n_trials, 2, 2))
    if with_spectra:
        spectral_in, spectral_fs = signals, plan.fs
        if plan.q > 1:
            spectral_in, spectral_fs = decimate(signals, plan.q, use_numba), plan.fs / plan.q
        f, psd = (
            welch_psd(spectral_in, spectral_fs, workers=-1 if n_trials > 1 else None)
            if use_numba
            else welch_psd_numpy(spectral_in, spectral_fs)
        )
    lo, hi = s.band_hz
    keys = L.TIME_KEYS + (L.SPECTRAL_KEYS if with_spectra else ())
    if use_numba and n_trials == 1:
        out = np.empty((1, len(keys)))
        D.time_metrics(stats[0], n, plan.fs, CHI2_95_2DOF, plan.f_scale, out[0, : L.N_TIME])
        if with_spectra:
            D.spectral_metrics(f, psd[0], lo, hi, out[0, L.N_TIME :])
    elif use_numba:
        out = np.empty((n_trials, len(keys)))
        D.derive_many(
            stats, f, psd, n, plan.fs, CHI2_95_2DOF, plan.f_scale, lo, hi, with_spectra, out
        )
    else:
        out = DN.time_metrics_numpy(stats, n, plan.fs, CHI2_95_2DOF, plan.f_scale)
        if with_spectra:
            out = np.hstack([out, DN.spectral_metrics_numpy(f, psd, lo, hi)])
    notes: dict[str, str] = {}
    if math.isnan(out.sum()):
        for key, val in zip(keys, out.T):
            if np.isnan(val).any():
                notes[key] = "undefined for a trial without sway (constant signal)"
    keys, parts = list(keys), [out]
    if "spectral" in plan.groups and not with_spectra:
        reason = (
            f"trial of {n / plan.fs:.3g} s is shorter than the {s.min_spectral_s:g} s "
            "needed for spectral metrics"
        )
        _append(
            keys,
            parts,
            notes,
            L.SPECTRAL_KEYS,
            np.full((n_trials, len(L.SPECTRAL_KEYS)), np.nan),
            reason,
        )
    if "entropy" in plan.groups:
        _append(keys, parts, notes, *_entropy(entropy))
    if "diffusion" in plan.groups:
        _append(keys, parts, notes, *_diffusion(msd, plan, use_numba))
    return keys, (np.hstack(parts) if len(parts) > 1 else out), notes


def _append(keys, parts, notes, names, columns, reason) -> None:
    """Add metric ``columns`` (n_trials, len(names)); note ``reason`` for those with a NaN."""
    keys.extend(names)
    parts.append(columns)
    for name, col in zip(names, columns.T):
        if np.isnan(col).any():
            notes[name] = reason


def _entropy(counts):
    a, b = counts[:, :, 0].astype(float), counts[:, :, 1].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where((a > 0) & (b > 0), -np.log(a / b), np.nan)
    return (
        ("sample_entropy_ml", "sample_entropy_ap"),
        values,
        "no matching templates (trial too short, or no sway)",
    )


def _diffusion(msd, plan: _Plan, use_numba: bool = True):
    s = plan.settings
    keys = L.SDA_KEYS
    t = plan.lags / (plan.fs / plan.k)
    short = t <= s.sda_short_s
    long_ = (t >= s.sda_long_s[0]) & (t <= s.sda_long_s[1])
    if short.sum() < 2 or long_.sum() < 2:
        return (
            keys,
            np.full((msd.shape[0], len(keys)), np.nan),
            (
                f"trial of {plan.n / plan.fs:.3g} s is too short for stabilogram-diffusion "
                f"analysis (needs >= {s.min_sda_s:g} s)"
            ),
        )
    r2 = np.ascontiguousarray(msd[:, :, 2])
    if use_numba:
        from dsp._kernels_derive import sda_fit

        values = np.empty((r2.shape[0], len(keys)))
        sda_fit(r2, t, short, long_, values)
    else:
        values = DN.sda_fit_numpy(r2, t, short, long_)
    return keys, values, "undefined: no sway, or no diffusion change between the two regions"
