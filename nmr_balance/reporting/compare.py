"""Means per condition, sensory ratios, and change against an earlier session, in plain words.

For sway metrics less is better (a steadier stance); for excursions, scores and time in target
more is better. :data:`KEY_METRICS` lists what reports show and which way is better.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

from nmr_balance.summary import SessionSummary, TrialSummary

LOWER, HIGHER = "lower", "higher"


@dataclasses.dataclass(frozen=True)
class KeyMetric:
    name: str  # key in TrialSummary.metrics (dsp.metrics names for sway)
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
    KeyMetric("hits", "Targets hit", "", HIGHER),
    KeyMetric("reaction_time_s", "LOS reaction time", "s", LOWER),
    KeyMetric("movement_velocity", "LOS movement velocity", "L/s", HIGHER),
    KeyMetric("endpoint_excursion_pct", "LOS endpoint excursion", "%", HIGHER),
    KeyMetric("max_excursion_pct", "LOS maximum excursion", "%", HIGHER),
    KeyMetric("directional_control_pct", "LOS directional control", "%", HIGHER),
    KeyMetric("time_standing_s", "Time standing", "s", HIGHER),
)
KEY_BY_NAME = {m.name: m for m in KEY_METRICS}
#: Changes smaller than this (in %) are reported as "about the same".
SAME_PCT = 5.0


def metric_unit(metric: KeyMetric, sway_unit: str) -> str:
    return metric.unit.replace("L", sway_unit)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def condition_key(trial: TrialSummary) -> tuple[str, str]:
    return (trial.protocol, trial.condition)


def condition_means(trials: Iterable[TrialSummary]) -> dict[tuple[str, str], dict[str, float]]:
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


def headline_metrics(trials: Iterable[TrialSummary]) -> tuple[str, ...]:
    """The few metrics that say how a protocol went: LOS excursion and control for a Limits
    of Stability test, the score for training, sway for standing tests (a target or LOS trace
    is not a sway measure)."""
    trials = list(trials)
    if any(t.results.los is not None for t in trials):
        return ("max_excursion_pct", "directional_control_pct")
    if any(t.results.training is not None for t in trials):
        return ("success_pct", "time_in_target_pct")
    return ("mean_velocity", "ellipse_area_95_chi2")


def compare_sessions(
    now: SessionSummary, before: SessionSummary | None, metrics: tuple[str, ...] | None = None
) -> dict[tuple[str, str], dict[str, Change]]:
    """Per shared (protocol, condition): the change of each of ``metrics`` (default: each
    protocol's :func:`headline_metrics`) from ``before``."""
    if before is None:
        return {}
    a, b = condition_means(now.trials), condition_means(before.trials)
    out: dict[tuple[str, str], dict[str, Change]] = {}
    for key in a.keys() & b.keys():
        names = metrics or headline_metrics(t for t in now.trials if t.protocol == key[0])
        changes = {
            name: c
            for name in names
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


# --- mCTSIB / Romberg (computed once, in nmr_balance.summary.protocol_block) ---------------------
RATIO_TITLES = {
    "somatosensory": "Romberg quotient (eyes closed / open, firm)",
    "visual": "Foam ratio (foam / firm, eyes open)",
    "vestibular": "Vestibular ratio (eyes closed on foam / eyes open on firm)",
    "foam_eyes_closed_vs_open": "Romberg quotient on foam (eyes closed / open)",
}
#: How each ratio is formed, for the reader (docs/reports.md).
RATIO_FORMULAS = {
    "somatosensory": "EC firm / EO firm",
    "visual": "EO foam / EO firm",
    "vestibular": "EC foam / EO firm",
    "foam_eyes_closed_vs_open": "EC foam / EO foam",
}


def session_means(session: SessionSummary, metric: str) -> Mapping[tuple[str, str], float]:
    """The mean of ``metric`` per (protocol, condition) of ``session`` (for progress charts)."""
    return {key: m[metric] for key, m in condition_means(session.trials).items() if metric in m}
