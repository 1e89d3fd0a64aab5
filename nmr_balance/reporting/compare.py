"""Means per condition, sensory ratios, and change against an earlier session, in plain words.

For sway metrics less is better (a steadier stance); for excursions, scores and time in target
more is better. :data:`KEY_METRICS` lists what reports show and which way is better.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

from dsp.ratios import mctsib_ratios, romberg_quotient
from nmr_balance.reporting.model import SessionRecord, TrialRecord

LOWER, HIGHER = "lower", "higher"


@dataclasses.dataclass(frozen=True)
class KeyMetric:
    name: str  # key in TrialRecord.metrics (dsp.metrics names for sway)
    title: str  # what a patient reads
    unit: str  # "L" = the unit of the sway (mm or deg)
    better: str  # LOWER or HIGHER


KEY_METRICS: tuple[KeyMetric, ...] = (
    KeyMetric("mean_velocity", "Mean sway velocity", "L/s", LOWER),
    KeyMetric("ellipse_area_95_chi2", "95 % sway ellipse area", "L²", LOWER),
    KeyMetric("path_length", "Sway path length", "L", LOWER),
    KeyMetric("rms_distance", "RMS sway distance", "L", LOWER),
    KeyMetric("range_ml", "Side-to-side range", "L", LOWER),
    KeyMetric("range_ap", "Front-to-back range", "L", LOWER),
    KeyMetric("success_pct", "Success", "%", HIGHER),
    KeyMetric("time_in_target_pct", "Time in target", "%", HIGHER),
    KeyMetric("max_excursion_pct", "LOS maximum excursion", "%", HIGHER),
    KeyMetric("directional_control_pct", "LOS directional control", "%", HIGHER),
)
KEY_BY_NAME = {m.name: m for m in KEY_METRICS}
#: The few metrics quoted when comparing sessions (the tables and the CSV have all of them).
HEADLINE_METRICS = (
    "mean_velocity",
    "ellipse_area_95_chi2",
    "success_pct",
    "time_in_target_pct",
    "max_excursion_pct",
    "directional_control_pct",
)
#: Changes smaller than this (in %) are reported as "about the same".
SAME_PCT = 5.0


def metric_unit(metric: KeyMetric, sway_unit: str) -> str:
    return metric.unit.replace("L", sway_unit)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def condition_key(trial: TrialRecord) -> tuple[str, str]:
    return (trial.protocol, trial.condition)


def condition_means(trials: Iterable[TrialRecord]) -> dict[tuple[str, str], dict[str, float]]:
    """Mean of each metric over the *finished* trials of each (protocol, condition).

    Aborted and interrupted trials are left out of the means (they are partial); the results
    table still lists them, marked.
    """
    sums: dict[tuple[str, str], dict[str, list[float]]] = {}
    for trial in trials:
        if not trial.finished:
            continue
        bucket = sums.setdefault(condition_key(trial), {})
        for name, value in trial.metrics.items():
            if _finite(value):
                bucket.setdefault(name, []).append(float(value))
    return {
        key: {name: sum(v) / len(v) for name, v in metrics.items()} for key, metrics in sums.items()
    }


@dataclasses.dataclass(frozen=True)
class Change:
    """How a metric moved from ``before`` to ``now``."""

    now: float
    before: float
    pct: float  # signed % change (NaN when ``before`` is 0)
    verdict: str  # "better", "worse" or "about the same"

    def text(self) -> str:
        if not math.isfinite(self.pct):
            return self.verdict
        pct = round(self.pct)
        return f"{pct:+d} % ({self.verdict})" if pct else f"0 % ({self.verdict})"


def change(now: float, before: float, better: str) -> Change | None:
    """The change of a metric, judged by which way is ``better``; None when one is missing."""
    if not (_finite(now) and _finite(before)):
        return None
    pct = (now - before) / abs(before) * 100.0 if before != 0 else math.nan
    if (math.isfinite(pct) and abs(pct) < SAME_PCT) or now == before:
        verdict = "about the same"
    elif (now < before) == (better == LOWER):
        verdict = "better"
    else:
        verdict = "worse"
    return Change(float(now), float(before), pct, verdict)


def compare_sessions(
    now: SessionRecord, before: SessionRecord | None, metrics: tuple[str, ...] = HEADLINE_METRICS
) -> dict[tuple[str, str], dict[str, Change]]:
    """Per shared (protocol, condition): the change of each of ``metrics`` from ``before``."""
    if before is None:
        return {}
    a, b = condition_means(now.trials), condition_means(before.trials)
    out: dict[tuple[str, str], dict[str, Change]] = {}
    for key in a.keys() & b.keys():
        changes = {
            name: c
            for name in metrics
            if (
                c := change(
                    a[key].get(name, math.nan), b[key].get(name, math.nan), KEY_BY_NAME[name].better
                )
            )
            is not None
        }
        if changes:
            out[key] = changes
    return dict(sorted(out.items()))


# --- mCTSIB / Romberg ------------------------------------------------------------------------
def _condition_of(trial: TrialRecord) -> tuple[str, str]:
    text = trial.condition.lower()
    vision = "closed" if "closed" in text else "open" if "open" in text else ""
    surface = "foam" if "foam" in text else "firm" if "firm" in text else ""
    return vision, surface


def sensory_ratios(
    trials: Iterable[TrialRecord], metric: str = "mean_velocity"
) -> dict[str, float]:
    """mCTSIB sensory ratios (:func:`dsp.ratios.mctsib_ratios`) of the mean ``metric`` per
    condition, over the finished trials.

    With all four conditions: ``somatosensory`` (eyes closed / open on firm, the Romberg
    quotient), ``visual`` (foam / firm, eyes open), ``vestibular`` (eyes closed on foam / eyes
    open on firm) and ``foam_eyes_closed_vs_open``. With only the two firm conditions (Romberg
    test, or an mCTSIB whose foam trials did not finish): ``somatosensory`` alone. 1 means as
    steady as eyes open on firm; larger means more sway without that sense.
    """
    values: dict[tuple[str, str], list[float]] = {}
    for trial in trials:
        value = trial.metrics.get(metric)
        if trial.finished and _finite(value):
            values.setdefault(_condition_of(trial), []).append(float(value))
    mean = {k: {metric: sum(v) / len(v)} for k, v in values.items()}
    four = [("open", "firm"), ("closed", "firm"), ("open", "foam"), ("closed", "foam")]
    if all(c in mean for c in four):
        ratios = {
            k: v[metric]
            for k, v in mctsib_ratios(*(mean[c] for c in four), metrics=(metric,)).items()
        }
    elif all(c in mean for c in four[:2]):
        ratios = {
            "somatosensory": romberg_quotient(mean[four[0]], mean[four[1]], metrics=(metric,))[
                metric
            ]
        }
    else:
        ratios = {}
    return {k: v for k, v in ratios.items() if math.isfinite(v)}


RATIO_TITLES = {
    "somatosensory": "Romberg quotient (eyes closed / open, firm)",
    "visual": "Foam ratio (foam / firm, eyes open)",
    "vestibular": "Vestibular ratio (eyes closed on foam / eyes open on firm)",
    "foam_eyes_closed_vs_open": "Romberg quotient on foam (eyes closed / open)",
}


def session_means(session: SessionRecord, metric: str) -> Mapping[tuple[str, str], float]:
    """The mean of ``metric`` per (protocol, condition) of ``session`` (for progress charts)."""
    return {key: m[metric] for key, m in condition_means(session.trials).items() if metric in m}
