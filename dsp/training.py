"""Training-score primitives: targets, dwell and hits, tracking error, Limits of Stability.

Positions are sway coordinates (x = ML, y = AP; mm or deg). Formulas are in ``docs/metrics.md``.
"""

from __future__ import annotations

import math

import numpy as np

from dsp._validate import as_xy, positive


def _kernels():
    """``dsp._kernels_live``, imported on first use: it imports Numba (~0.35 s of CPU),
    which listing devices or protocols, or configuring a stage, never needs."""
    from dsp import _kernels_live

    return _kernels_live


def distance_to_target(xy, center) -> np.ndarray:
    """Distance (unit of ``xy``) of each sample ``xy`` (n, 2) from ``center`` (2,); NaN stays NaN."""
    xy = as_xy(xy, allow_nan=True)
    return np.hypot(xy[:, 0] - center[0], xy[:, 1] - center[1])


def inside_target(xy, center, radius: float) -> np.ndarray:
    """True where the sample lies within ``radius`` of ``center`` (a NaN sample is outside)."""
    with np.errstate(invalid="ignore"):
        return distance_to_target(xy, center) <= radius


def time_in_target(inside, fs: float) -> float:
    """Seconds spent inside: number of inside samples / fs."""
    return float(np.count_nonzero(inside)) / positive(fs, "fs")


class DwellDetector:
    """Streaming enter-and-hold detection: a hit when the cursor stays in for ``dwell_s``.

    A hit fires once per entry, at the sample completing the dwell; leaving re-arms it.
    """

    def __init__(self, fs: float, dwell_s: float):
        self.need = max(1, round(positive(dwell_s, "dwell_s") * positive(fs, "fs")))
        self.fs = fs
        self._state = np.zeros(2, np.int64)

    def reset(self) -> None:
        self._state[:] = 0

    @property
    def held_s(self) -> float:
        """How long the cursor has been inside so far (s)."""
        return float(self._state[0]) / self.fs

    def update(self, inside) -> np.ndarray:
        """Feed a chunk of booleans; return the sample numbers (from the start) of new hits."""
        inside = np.ascontiguousarray(inside, dtype=np.bool_)
        hits = np.empty(len(inside) // self.need + 1, np.int64)
        m = _kernels().dwell_hits(inside, self.need, self._state, hits)
        return hits[:m]


def detect_hits(inside, fs: float, dwell_s: float) -> np.ndarray:
    """Sample numbers of the hits in a whole recording (see :class:`DwellDetector`)."""
    return DwellDetector(fs, dwell_s).update(inside)


def tracking_error(xy, target, fs: float, max_lag_s: float = 1.0) -> dict[str, float]:
    """How well the sway follows a moving target.

    Parameters
    ----------
    xy, target : ndarray, shape (n_samples, 2)
        Sway and target positions at the same instants.
    fs : float
        Sample rate, Hz.
    max_lag_s : float
        Largest lag of the sway behind the target that is searched.

    Returns
    -------
    dict
        ``rms`` (unit; at zero lag), ``lag_s`` (the lag that minimises the RMS distance between
        the sway and the delayed target) and ``rms_at_lag`` (that minimum).
    """
    xy, target = as_xy(xy, allow_nan=True), as_xy(target, "target", allow_nan=True)
    if xy.shape != target.shape:
        raise ValueError(f"xy {xy.shape} and target {target.shape} must have the same shape")
    max_lag = min(round(max_lag_s * positive(fs, "fs")), len(xy) - 1)
    rms = _kernels().lagged_rms(xy, target, max(max_lag, 0))
    if np.isnan(rms).all():
        return {"rms": math.nan, "lag_s": math.nan, "rms_at_lag": math.nan}
    best = int(np.nanargmin(rms))
    return {"rms": float(rms[0]), "lag_s": best / fs, "rms_at_lag": float(rms[best])}


#: LOS: a primary movement ending nearer the start than this (% of the target distance) is
#: sway, not a lean. Quiet stance drifts the COP up to ~10 mm in a few seconds (more on foam or
#: with eyes closed), i.e. 10-15 % of a 70-90 mm backward target: 20 % clears it.
MIN_LOS_MOVEMENT_PCT = 20.0


def limits_of_stability(
    xy,
    fs: float,
    direction_deg: float,
    target_distance: float,
    cue_index: int = 0,
    onset_fraction: float = 0.1,
    min_movement_pct: float = MIN_LOS_MOVEMENT_PCT,
) -> dict[str, float]:
    """Limits-of-Stability scores of one directed lean.

    Parameters
    ----------
    xy : ndarray, shape (n_samples, 2)
        Low-pass-filtered sway from the cue onwards (or with the cue at ``cue_index``).
    fs : float
        Sample rate, Hz.
    direction_deg : float
        Target direction: 0 = right (+x), 90 = forward (+y), 180 = left, 270 = back.
    target_distance : float
        Distance of the target from the start position (unit of ``xy``), the 100 % mark.
    cue_index : int
        Sample at which the "go" cue was given; the start position is the mean of the samples
        before it (or the first sample).
    onset_fraction : float
        Movement onset and end: where the velocity towards the target first rises above, and
        then falls back below, this fraction of its peak.
    min_movement_pct : float
        The primary movement must end at least this far towards the target from the start
        position (its endpoint excursion, % of ``target_distance``) to count as a lean;
        anything less is quiet-stance sway.

    Returns
    -------
    dict
        ``reaction_time_s``, ``movement_velocity`` (unit/s, mean speed between 5 % and 95 % of
        the endpoint excursion), ``endpoint_excursion_pct``, ``max_excursion_pct``,
        ``directional_control_pct`` (100 (on - off) / on over the primary movement) and
        ``movement_detected`` (1.0 or 0.0). Without a movement towards the target (none, or one
        smaller than ``min_movement_pct``) only ``max_excursion_pct`` is given, the rest is NaN:
        a reaction time of 0 s or a negative directional control of sway is not a score.
    """
    xy = as_xy(xy, min_samples=3)
    fs = positive(fs, "fs")
    if not 0 <= cue_index < len(xy) - 2:
        raise ValueError(f"cue_index must be in [0, {len(xy) - 3}]; got {cue_index}")
    start = xy[:cue_index].mean(axis=0) if cue_index > 0 else xy[0]
    u = np.array([math.cos(math.radians(direction_deg)), math.sin(math.radians(direction_deg))])
    rel = xy[cue_index:] - start
    along = rel[:, 0] * u[0] + rel[:, 1] * u[1]
    across = rel[:, 1] * u[0] - rel[:, 0] * u[1]
    speed = np.gradient(along) * fs
    nan = math.nan
    result = {
        "reaction_time_s": nan,
        "movement_velocity": nan,
        "endpoint_excursion_pct": nan,
        "max_excursion_pct": float(100 * along.max() / target_distance),
        "directional_control_pct": nan,
        "movement_detected": 0.0,
    }
    peak = int(np.argmax(speed))
    if speed[peak] <= 0:
        return result
    level = onset_fraction * speed[peak]
    below_before = np.flatnonzero(speed[:peak] < level)
    onset = int(below_before[-1] + 1) if below_before.size else 0
    below_after = np.flatnonzero(speed[peak:] < level)
    end = peak + int(below_after[0]) if below_after.size else len(along) - 1
    epe = along[end] - along[onset]
    if 100 * along[end] / target_distance < min_movement_pct:
        return result  # the primary movement ended hardly off the start: sway, not a lean
    result["movement_detected"] = 1.0
    result["reaction_time_s"] = onset / fs
    result["endpoint_excursion_pct"] = float(100 * along[end] / target_distance)
    seg = along[onset : end + 1] - along[onset]
    if epe > 0 and len(seg) > 1:
        t5, t95 = np.argmax(seg >= 0.05 * epe), np.argmax(seg >= 0.95 * epe)
        if t95 > t5:
            result["movement_velocity"] = float(0.9 * epe / ((t95 - t5) / fs))
        d_along, d_across = np.diff(along[onset : end + 1]), np.diff(across[onset : end + 1])
        on = np.clip(d_along, 0, None).sum()
        off = np.abs(d_across).sum() + np.clip(-d_along, 0, None).sum()
        result["directional_control_pct"] = float(100 * (on - off) / on)
    return result
