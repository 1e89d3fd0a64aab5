"""Protocol-level results: what a clinician reads after the last trial.

* ``mctsib``: mean sway velocity per condition (over the trials held to the end), falls,
  composite (mean of the conditions), sensory ratios to eyes-open firm for each sway metric.
* ``romberg``: Romberg quotient (eyes closed / eyes open) of each sway metric.
* ``single_leg``: per leg, longest time standing and sway while standing; left/right ratio.
* ``los``: per direction and composite LOS scores, and the measured LOS profile (reused by
  training as the patient's own reach).
* ``training``: success per trial, mean, and the level suggested by the progression rule.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nmr_balance.protocols import scoring
from nmr_balance.protocols.geometry import LosProfile
from nmr_balance.protocols.progression import next_level
from nmr_balance.protocols.schema import Protocol


def _cond_key(condition: dict[str, str]) -> str:
    return f"{condition['vision']}_{condition['surface']}"


def _mean(values: list[float]) -> float:
    values = [v for v in values if math.isfinite(v)]
    return float(np.mean(values)) if values else math.nan


def _scored(results) -> list:
    return [r for r in results if r.status != "interrupted"]


def summarise(
    protocol: Protocol, results: list, los: LosProfile, level: int | None
) -> dict[str, Any]:
    """The protocol's summary (see module doc); every kind also lists interrupted trials."""
    fn = {
        "mctsib": _mctsib,
        "romberg": _romberg,
        "single_leg": _single_leg,
        "los": _los,
        "training": _training,
        "reposition": _reposition,
    }.get(protocol.summary)
    out: dict[str, Any] = {
        "protocol": protocol.name,
        "kind": protocol.summary,
        "trials": len(results),
        "interrupted": sum(r.status == "interrupted" for r in results),
        "los": los.to_dict(),
    }
    if fn is not None:
        out.update(fn(protocol, _scored(results), level))
    return out


def _by_condition(results) -> dict[str, list]:
    groups: dict[str, list] = {}
    for r in results:
        if r.task == "stand":
            groups.setdefault(_cond_key(r.condition), []).append(r)
    return groups


def _mctsib(protocol, results, level) -> dict[str, Any]:
    conditions, per_condition = {}, {}
    for key, trials in _by_condition(results).items():
        held = [r for r in trials if r.status == "complete"]
        per_condition[key] = {k: _mean([r.scores[k] for r in held]) for k in scoring.SWAY_KEYS}
        conditions[key] = {
            "mean_velocity": per_condition[key]["mean_velocity"],
            "trials": len(trials),
            "falls": len(trials) - len(held),
            "fell": not held,
        }
    return {
        "conditions": conditions,
        "composite_velocity": _mean([c["mean_velocity"] for c in conditions.values()]),
        "ratios": scoring.mctsib_ratios(per_condition),
    }


def _romberg(protocol, results, level) -> dict[str, Any]:
    per_vision: dict[str, dict[str, float]] = {}
    for vision in ("open", "closed"):
        held = [
            r
            for r in results
            if r.task == "stand" and r.condition["vision"] == vision and r.status == "complete"
        ]
        per_vision[vision] = {k: _mean([r.scores[k] for r in held]) for k in scoring.SWAY_KEYS}
    return {
        "eyes_open": per_vision["open"],
        "eyes_closed": per_vision["closed"],
        "quotients": scoring.romberg_quotients(per_vision["open"], per_vision["closed"]),
    }


def _single_leg(protocol, results, level) -> dict[str, Any]:
    legs = {}
    for side in ("left", "right"):
        trials = [r for r in results if r.task == "single_leg" and r.condition["stance"] == side]
        if not trials:
            continue
        best = max(trials, key=lambda r: r.scores["time_standing_s"])
        legs[side] = {
            "best_time_s": best.scores["time_standing_s"],
            "times_s": [r.scores["time_standing_s"] for r in trials],
            "held_full_time": best.status == "complete",
            "mean_velocity": best.scores["mean_velocity"],
        }
    out: dict[str, Any] = {"legs": legs}
    if len(legs) == 2 and legs["right"]["best_time_s"] > 0:
        out["left_right_time_ratio"] = legs["left"]["best_time_s"] / legs["right"]["best_time_s"]
    return out


def _los(protocol, results, level) -> dict[str, Any]:
    trials = [r for r in results if r.task == "los"]
    if not trials:
        return {}
    last = trials[-1].scores
    return {
        k: last[k]
        for k in ("per_direction", "composite", "measured_los", "measured_los_note")
        if k in last
    }


def _training(protocol, results, level) -> dict[str, Any]:
    success = [float(r.scores.get("success_pct", math.nan)) for r in results]
    out: dict[str, Any] = {
        "success_pct": success,
        "mean_success_pct": _mean(success),
        "level": level,
    }
    rule = protocol.progression
    if rule is not None and level is not None:
        metric = [float(r.scores.get(rule.metric, math.nan)) for r in results]
        new, why = next_level(rule, level, len(protocol.levels), metric)
        out.update(next_level=new, progression=why)
    return out


def _reposition(protocol, results, level) -> dict[str, Any]:
    """The joint-position test: the last complete trial's errors per direction and composite."""
    trials = [r for r in results if r.task == "reposition" and "reposition" in r.scores]
    if not trials:
        return {}
    return dict(trials[-1].scores["reposition"])
