"""The one door from protocols to the metric code: every score a task reports comes from ``dsp``.

Sway metrics are :func:`nmr_balance.results.sway_metrics`; hits, time in target, tracking error and the
Limits of Stability scores are :mod:`dsp.training` (definitions in ``docs/metrics.md``; the
sensory ratios of a protocol's trials are :mod:`nmr_balance.summary`'s). This module only adapts units and
conventions: protocols use compass bearings (0 deg = forward, clockwise) and report time in
target as a percentage; ``dsp`` uses math angles (0 deg = right, counter-clockwise) and seconds.
Circle quality (BAPS routine) is the only score defined here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dsp import training
from dsp.ratios import DEFAULT_METRICS
from nmr_balance.results import LosScores, sway_metrics

LOS_KEYS = LosScores.FIELDS
#: Sway metrics reported for standing trials (from dsp's full per-trial set).
SWAY_KEYS = tuple(
    dict.fromkeys(
        (
            "mean_velocity",
            "mean_velocity_ml",
            "mean_velocity_ap",
            "rms_ml",
            "rms_ap",
            *DEFAULT_METRICS,
        )
    )
)


def sway(xy: np.ndarray, fs: float, unit: str) -> dict[str, float]:
    """Sway metrics of a standing trial: :func:`nmr_balance.results.sway_metrics` (time group),
    with its one gap policy.

    A trial that cannot be scored (too short, a long gap) gives NaNs, not an error: a patient may
    fall at once.
    """
    m = sway_metrics(xy, fs, unit, groups=("time",))
    return {k: float(m.get(k, math.nan)) for k in SWAY_KEYS}


def inside(xy: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    """Inside-target test; ``centre`` is (2,) or, for a moving target, (n, 2)."""
    centre = np.asarray(centre, dtype=float)
    if len(xy) == 0:
        return np.zeros(0, bool)
    # dsp takes the centre as (cx, cy); a (2, n) array of per-sample centres broadcasts the same way
    return training.inside_target(xy, centre.T if centre.ndim == 2 else centre, radius)


def time_in_target_pct(xy: np.ndarray, centre: np.ndarray, radius: float, fs: float) -> float:
    """% of the time spent inside the (possibly moving) target."""
    if len(xy) == 0:
        return math.nan
    return 100.0 * training.time_in_target(inside(xy, centre, radius), fs) * fs / len(xy)


def dwell_detector(fs: float, dwell_s: float) -> training.DwellDetector:
    """Streaming enter-and-hold detector (one per target shown)."""
    return training.DwellDetector(fs, dwell_s)


def tracking_error(
    xy: np.ndarray, ref: np.ndarray, fs: float, max_lag_s: float = 2.0
) -> dict[str, float]:
    """RMS distance to a moving target, and the lag (s) that best explains it."""
    e = training.tracking_error(xy, ref, fs, max_lag_s=max_lag_s)
    return {
        "tracking_rms": e["rms"],
        "tracking_lag_s": e["lag_s"],
        "tracking_rms_at_lag": e["rms_at_lag"],
    }


def los_direction(
    xy: np.ndarray, fs: float, bearing_deg: float, target: np.ndarray, cue_index: int
) -> dict[str, Any]:
    """LOS scores of one direction (``xy`` from shortly before the cue, the cue at ``cue_index``),
    plus ``max_excursion`` in the stream unit (for the measured LOS profile) and
    ``movement_detected`` (False: no lean towards the target, the timing scores are NaN)."""
    ok = np.isfinite(xy).all(axis=1)
    distance = float(np.hypot(*target))
    if ok.sum() < 10 or not ok[cue_index:].all():
        return {k: math.nan for k in LOS_KEYS} | {
            "max_excursion": math.nan,
            "movement_detected": False,
        }
    d = training.limits_of_stability(
        xy[ok], fs, 90.0 - bearing_deg, distance, cue_index=int(ok[:cue_index].sum())
    )
    out: dict[str, Any] = {k: float(d[k]) for k in LOS_KEYS}
    out["max_excursion"] = out["max_excursion_pct"] * distance / 100.0
    out["movement_detected"] = bool(d["movement_detected"])
    return out


def circle_quality(xy: np.ndarray, radius: float) -> dict[str, float]:
    """How round and how big the traced circles were: mean radius (% of the prescribed one) and
    roundness = 100 - coefficient of variation of the radius (%)."""
    ok = np.isfinite(xy).all(axis=1)
    r = np.hypot(*xy[ok].T)
    if len(r) < 2 or r.mean() == 0:
        return {"radius_pct": math.nan, "roundness_pct": math.nan}
    return {
        "radius_pct": 100.0 * float(r.mean()) / radius,
        "roundness_pct": max(0.0, 100.0 - 100.0 * float(r.std() / r.mean())),
    }


def reposition(
    criterion: np.ndarray, reproduced: np.ndarray, bearings_deg: np.ndarray
) -> dict[str, Any]:
    """Joint-position reproduction errors per direction and composite (:mod:`dsp.proprioception`).

    Parameters
    ----------
    criterion, reproduced : ndarray, shape (n, 2)
        Held and reproduced positions of each presentation, sway unit.
    bearings_deg : ndarray, shape (n,)
        Compass bearing of each presentation's target.

    Returns
    -------
    dict
        ``per_direction`` (``F``, ``R``... -> AE, CE, VE, distance error, n) and ``composite``
        (the mean of the directions' scores; n = all reproductions).
    """
    from dsp.proprioception import error_scores, signed_errors
    from nmr_balance.results import LOS_DIRECTIONS, RepositionScores

    radial, distance = signed_errors(criterion, reproduced)
    names = [LOS_DIRECTIONS[round(float(b) / 45.0) % 8] for b in bearings_deg]
    per = {}
    for name in dict.fromkeys(names):
        sel = np.array([n == name for n in names])
        per[name] = error_scores(radial[sel], distance[sel])
    composite = {
        k: float(np.nanmean([d[k] for d in per.values()]))
        if any(math.isfinite(d[k]) for d in per.values())
        else math.nan
        for k in RepositionScores.FIELDS
    }
    composite["n"] = int(sum(d["n"] for d in per.values()))
    return {"per_direction": per, "composite": composite}
