"""Clinical ratios between trials: Romberg quotient and mCTSIB sensory ratios.

Inputs are metric dicts as returned by :func:`dsp.metrics.trial_metrics` (or any name -> float
mapping, e.g. the mean over repeated trials). Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: Metrics the ratios are computed for by default (sway size and speed).
DEFAULT_METRICS = (
    "mean_velocity",
    "path_length",
    "ellipse_area_95_f",
    "ellipse_area_95_chi2",
    "rms_distance",
    "mean_distance",
    "sway_area_per_second",
)


def _ratio(num: float, den: float) -> float:
    return num / den if den and math.isfinite(den) else math.nan


def _pick(metrics, names) -> tuple[str, ...]:
    names = tuple(names)
    for d in metrics:
        missing = [n for n in names if n not in d]
        if missing:
            raise ValueError(f"metric(s) {', '.join(missing)} missing from a trial's results")
    return names


def romberg_quotient(
    eyes_open: Mapping[str, float], eyes_closed: Mapping[str, float], metrics=DEFAULT_METRICS
) -> dict[str, float]:
    """Eyes-closed / eyes-open ratio of each metric (> 1: more sway without vision).

    A zero or non-finite eyes-open value gives NaN.
    """
    names = _pick((eyes_open, eyes_closed), metrics)
    return {n: _ratio(eyes_closed[n], eyes_open[n]) for n in names}


def mctsib_ratios(
    eo_firm: Mapping[str, float],
    ec_firm: Mapping[str, float],
    eo_foam: Mapping[str, float],
    ec_foam: Mapping[str, float],
    metrics=DEFAULT_METRICS,
) -> dict[str, dict[str, float]]:
    """Sensory ratios of the four mCTSIB conditions, per metric.

    Returns
    -------
    dict
        ``somatosensory`` (ec_firm / eo_firm), ``visual`` (eo_foam / eo_firm), ``vestibular``
        (ec_foam / eo_firm) and ``foam_eyes_closed_vs_open`` (ec_foam / eo_foam), each a dict
        metric -> ratio.
    """
    names = _pick((eo_firm, ec_firm, eo_foam, ec_foam), metrics)
    pairs = {
        "somatosensory": (ec_firm, eo_firm),
        "visual": (eo_foam, eo_firm),
        "vestibular": (ec_foam, eo_firm),
        "foam_eyes_closed_vs_open": (ec_foam, eo_foam),
    }
    return {k: {n: _ratio(a[n], b[n]) for n in names} for k, (a, b) in pairs.items()}
