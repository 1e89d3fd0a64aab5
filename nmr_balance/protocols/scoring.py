"""The one door from protocols to the metric code: every score a task reports comes from here.

Sway metrics are :func:`dsp.metrics.trial_metrics`. The training-score primitives (dwell and hit
detection, time in target, tracking error, Limits of Stability per direction) belong to ``dsp``
as well (issue 3); until they land there, the small reference versions below stand in, with the
same inputs and outputs, so switching is a change to this file only. Definitions:

* **hit**: the cursor is inside the target (distance <= radius) without interruption for
  ``dwell_s``; the hit time is the end of that hold.
* **time in target**: % of valid samples inside the (possibly moving) target.
* **tracking error**: RMS distance cursor - target; **lag**: the delay (s, 0-2 s) that minimises
  the RMS distance between the cursor and the delayed target.
* **LOS per direction** (NeuroCom definitions), with ``p`` = the sway projected on the target
  direction: reaction time = cue -> ``|p|`` first exceeds 5 % of the target distance (the
  anticipatory counter-movement of the COP, opposite to the target, is the start of the
  response); movement velocity = mean speed of ``p`` between 5 % and 95 %
  of the primary movement; endpoint excursion = ``p`` where the primary movement stops (first
  time the speed of ``p`` falls below 10 % of its peak after the peak), % of the target distance;
  maximum excursion = the largest ``p``, % of the target distance (and in the stream unit);
  directional control = (path along the target direction - path off it) / path along it, %.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LOS_KEYS = ("reaction_time_s", "movement_velocity", "endpoint_excursion_pct", "max_excursion_pct",
            "directional_control_pct")
#: Sway metrics reported for standing trials (a subset of dsp's full set, per trial).
SWAY_KEYS = ("mean_velocity", "mean_velocity_ml", "mean_velocity_ap", "path_length", "rms_distance",
             "rms_ml", "rms_ap", "ellipse_area_95_chi2", "mean_distance")


def sway(xy: np.ndarray, fs: float, unit: str) -> dict[str, float]:
    """Sway metrics of a standing trial (time-domain group of :func:`dsp.metrics.trial_metrics`).

    Too short a trial (< 10 samples) gives NaNs, not an error: a patient may fall at once.
    """
    from dsp.metrics import trial_metrics

    finite = np.isfinite(xy).all(axis=1)
    if finite.sum() < 10:
        return {k: math.nan for k in SWAY_KEYS}
    m = trial_metrics(xy[finite], fs, unit=unit, groups=("time",))
    return {k: float(m[k]) for k in SWAY_KEYS}


def _inside(xy: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.hypot(*(xy - centre).T) <= radius


def dwell_hit(t: np.ndarray, xy: np.ndarray, centre: np.ndarray, radius: float,
              dwell_s: float) -> float | None:
    """Time (s) at which the cursor completed a hold of ``dwell_s`` inside the target, or None.

    Parameters
    ----------
    t : ndarray, shape (n,)
        Sample times, s.
    xy : ndarray, shape (n, 2)
        Cursor; NaN rows count as outside.
    centre : ndarray, shape (2,)
    radius, dwell_s : float
    """
    inside = _inside(xy, centre, radius)
    if not inside.any():
        return None
    # start time of the run each inside sample belongs to
    starts = np.flatnonzero(inside & ~np.concatenate([[False], inside[:-1]]))
    run_start = t[starts][np.searchsorted(starts, np.flatnonzero(inside), side="right") - 1]
    held = np.flatnonzero(t[inside] - run_start >= dwell_s - 1e-9)
    return float(t[inside][held[0]]) if len(held) else None


def time_in_target(xy: np.ndarray, centres: np.ndarray, radius: float, fs: float) -> float:
    """% of samples inside the target; ``centres`` is (2,) or (n, 2) for a moving target."""
    if len(xy) == 0:
        return math.nan
    return 100.0 * float(np.mean(_inside(xy, centres, radius)))


def tracking_error(xy: np.ndarray, ref: np.ndarray, fs: float, max_lag_s: float = 2.0) -> dict[str, float]:
    """RMS distance to a moving target and the lag that best explains it (s)."""
    ok = np.isfinite(xy).all(axis=1)
    if ok.sum() < 2:
        return {"tracking_rms": math.nan, "tracking_lag_s": math.nan, "tracking_rms_at_lag": math.nan}
    rms = float(np.sqrt(np.mean(np.sum((xy[ok] - ref[ok]) ** 2, axis=1))))
    best, best_lag = rms, 0
    for lag in range(1, min(int(max_lag_s * fs), len(xy) // 2) + 1):
        a, b, good = xy[lag:], ref[:-lag], ok[lag:]
        e = float(np.sqrt(np.mean(np.sum((a[good] - b[good]) ** 2, axis=1))))
        if e < best:
            best, best_lag = e, lag
    return {"tracking_rms": rms, "tracking_lag_s": best_lag / fs, "tracking_rms_at_lag": best}


def los_direction(t: np.ndarray, xy: np.ndarray, target: np.ndarray, fs: float) -> dict[str, Any]:
    """Limits-of-Stability scores of one direction; ``t`` is time since the cue (s)."""
    nan = {k: math.nan for k in LOS_KEYS} | {"max_excursion": math.nan}
    ok = np.isfinite(xy).all(axis=1)
    if ok.sum() < 10:
        return nan
    t, xy = t[ok], xy[ok] - xy[ok][0]
    dist = float(np.hypot(*target))
    u = target / dist
    p = xy @ u
    q = xy @ np.array([-u[1], u[0]])
    onset = np.flatnonzero(np.abs(p) > 0.05 * dist)
    if not len(onset):
        return nan
    i0 = int(onset[0])
    speed = np.abs(np.gradient(p, t))
    peak = i0 + int(np.argmax(speed[i0:]))
    below = np.flatnonzero(speed[peak:] < 0.1 * speed[peak])
    i_end = peak + (int(below[0]) if len(below) else len(p) - 1 - peak)
    p_end = p[i_end]
    moving = (p >= 0.05 * p_end) & (p <= 0.95 * p_end) & (np.arange(len(p)) <= i_end)
    idx = np.flatnonzero(moving)
    velocity = ((p[idx[-1]] - p[idx[0]]) / (t[idx[-1]] - t[idx[0]])
                if len(idx) >= 2 and t[idx[-1]] > t[idx[0]] else math.nan)
    along = np.sum(np.abs(np.diff(p[:i_end + 1])))
    off = np.sum(np.abs(np.diff(q[:i_end + 1])))
    return {
        "reaction_time_s": float(t[i0]),
        "movement_velocity": float(velocity),
        "endpoint_excursion_pct": 100.0 * float(p_end) / dist,
        "max_excursion_pct": 100.0 * float(p.max()) / dist,
        "directional_control_pct": 100.0 * float((along - off) / along) if along > 0 else math.nan,
        "max_excursion": float(p.max()),
    }


def circle_quality(xy: np.ndarray, radius: float) -> dict[str, float]:
    """How round and how big the traced circles were: mean radius (% of the prescribed one) and
    roundness = 100 - coefficient of variation of the radius (%)."""
    ok = np.isfinite(xy).all(axis=1)
    r = np.hypot(*xy[ok].T)
    if len(r) < 2 or r.mean() == 0:
        return {"radius_pct": math.nan, "roundness_pct": math.nan}
    return {"radius_pct": 100.0 * float(r.mean()) / radius,
            "roundness_pct": max(0.0, 100.0 - 100.0 * float(r.std() / r.mean()))}


def romberg_quotients(eyes_open: dict[str, float], eyes_closed: dict[str, float]) -> dict[str, float]:
    """Romberg quotient (eyes closed / eyes open) of every metric both trials have."""
    return {k: (eyes_closed[k] / eyes_open[k] if eyes_open[k] else math.nan)
            for k in eyes_open if k in eyes_closed}


#: mCTSIB sensory ratios: (name, condition compared with eyes-open firm). With sway velocity a
#: ratio > 1 says how much worse balance gets when that input is the one left to rely on.
MCTSIB_RATIOS = (("somatosensory", "closed_firm"), ("visual", "open_foam"), ("vestibular", "closed_foam"))


def mctsib_ratios(velocity: dict[str, float]) -> dict[str, float]:
    """Sensory ratios from the mean velocity per condition (keys ``open_firm``, ``closed_firm``,
    ``open_foam``, ``closed_foam``): each condition relative to eyes-open firm."""
    ref = velocity.get("open_firm", math.nan)
    return {name: (velocity.get(cond, math.nan) / ref if ref else math.nan) for name, cond in MCTSIB_RATIOS}
