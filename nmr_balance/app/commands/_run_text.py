"""What ``nmr-balance run`` prints for people: each event in words, each trial's key scores and the
protocol's summary, rounded, with units (``--json`` prints the full results instead).

The wording of LOS rows, ratios and numbers is the report's (:mod:`nmr_balance.reporting`), so
the terminal, the note and the PDF say the same thing the same way.
"""

from __future__ import annotations

import math
from typing import Any

from nmr_balance.reporting import fmt
from nmr_balance.reporting.results_text import los_line, ratio
from nmr_balance.results import LOS_DIRECTIONS, LosResult

#: mCTSIB conditions as the summary keys them, in the order of the test, and how to say them.
_CONDITIONS = {
    "open_firm": "eyes open, firm",
    "closed_firm": "eyes closed, firm",
    "open_foam": "eyes open, foam",
    "closed_foam": "eyes closed, foam",
}
_RATIOS = {
    "somatosensory": "somatosensory (EC firm / EO firm)",
    "visual": "visual (EO foam / EO firm)",
    "vestibular": "vestibular (EC foam / EO firm)",
}


def _n(value: Any, unit: str = "") -> str:
    text = fmt.number(value)
    return f"{text} {unit}".rstrip() if text != "-" else "-"


def event_line(e) -> str | None:
    """One event in words, or None for events a person need not see (rests, trial starts)."""
    d = e.data
    at = f"[{e.t_s:7.1f} s]"
    if e.kind == "step_started":
        attempt = f" (attempt {d['attempt']})" if d.get("attempt", 1) > 1 else ""
        return (
            f"\n{at} trial {e.trial + 1}/{d['of']}: {d['label'] or d['task']}{attempt}"
            f"\n    {d['instruction']}"
        )
    if e.kind == "target_hit":
        return f"{at} target {d['target'] + 1} reached and held after {_n(d['time_to_hit_s'], 's')}"
    if e.kind == "target_missed":
        return f"{at} target {d['target'] + 1} missed: not reached and held in time"
    if e.kind == "balance_lost":
        return f"{at} balance lost after {_n(d['after_s'], 's')}: {d['reason']}"
    if e.kind == "trial_interrupted":
        return f"{at} trial interrupted, not scored: {d['reason']}"
    if e.kind == "paused":
        return f"{at} paused ({d['reason']}): the trial starts over when the signal is back"
    if e.kind == "resumed":
        return f"{at} signal back: the trial starts over"
    if e.kind == "protocol_aborted":
        return f"{at} the run ended early: {d['reason']}"
    return None


def trial_line(r, unit: str) -> str:
    """One trial: number, label, status (and why) and its key scores."""
    s = r.scores
    parts = []
    if "mean_velocity" in s:
        parts.append(f"mean sway velocity {_n(s['mean_velocity'], unit + '/s')}")
    if s.get("completed") is False and "time_standing_s" in s:
        parts.append(f"held {_n(s['time_standing_s'], 's')}")
    if "composite" in s and "per_direction" in s:
        c = LosResult.from_dict(s).composite
        parts.append(
            f"LOS max excursion {_n(c.max_excursion_pct, '%')}, directional control "
            f"{_n(c.directional_control_pct, '%')}, reaction time {_n(c.reaction_time_s, 's')}"
        )
    if "hits" in s and "targets" in s:
        parts.append(f"targets reached {s['hits']} of {s['targets']}")
    if "success_pct" in s and "hits" not in s:
        parts.append(f"success {_n(s['success_pct'], '%')}")
    if "reposition" in s:
        parts.append(reposition_line("errors", s["reposition"]["composite"], unit))
    reason = f" ({r.reason})" if r.reason else ""
    scores = ": " + "; ".join(parts) if parts else ""
    return f"trial {r.number + 1} {r.label or r.task} [{r.status}{reason}]{scores}"


def reposition_line(name: str, scores: dict[str, Any], unit: str) -> str:
    return (
        f"{name}: absolute {_n(scores.get('absolute_error'), unit)}, constant "
        f"{_n(scores.get('constant_error'), unit)}, variable {_n(scores.get('variable_error'), unit)}"
        f" ({scores.get('n', 0)} reproductions)"
    )


def summary_lines(run) -> list[str]:
    """The protocol's summary in words (per kind: mCTSIB, Romberg, single-leg, LOS, training,
    joint position)."""
    s, unit = run.summary or {}, run.unit
    kind = s.get("kind")
    lines: list[str] = []
    if kind == "mctsib":
        for key, label in _CONDITIONS.items():
            c = s.get("conditions", {}).get(key)
            if c is None:
                continue
            sway = (
                f"mean sway velocity {_n(c['mean_velocity'], unit + '/s')}"
                if math.isfinite(c["mean_velocity"])
                else "no trial held to the end"
            )
            lines.append(f"{label}: {sway}; falls {c['falls']} of {c['trials']}")
        lines.append(f"composite sway velocity {_n(s.get('composite_velocity'), unit + '/s')}")
        ratios = s.get("ratios", {})
        if ratios:
            lines.append("sensory ratios of mean sway velocity:")
            for key, label in _RATIOS.items():
                value = ratios.get(key, {}).get("mean_velocity", math.nan)
                lines.append(f"  {label}: {ratio(value)}")
    elif kind == "romberg":
        for key, label in (("eyes_open", "eyes open"), ("eyes_closed", "eyes closed")):
            lines.append(f"{label}: mean sway velocity {_n(s[key]['mean_velocity'], unit + '/s')}")
        q = s.get("quotients", {}).get("mean_velocity", math.nan)
        lines.append(f"Romberg quotient (eyes closed / open, mean sway velocity): {ratio(q)}")
    elif kind == "single_leg":
        for side, leg in s.get("legs", {}).items():
            held = " (held the full time)" if leg["held_full_time"] else ""
            lines.append(f"{side} leg: best {_n(leg['best_time_s'], 's')}{held}")
    elif kind == "los" and "composite" in s:
        los = LosResult.from_dict(s)
        lines.append(los_line("composite", los.composite, unit))
        lines += [
            los_line(d, los.per_direction[d], unit)
            for d in LOS_DIRECTIONS
            if d in los.per_direction
        ]
        if "measured_los_note" in s:
            lines.append(f"measured LOS {s['measured_los_note']}")
    elif kind == "training":
        per = ", ".join(_n(v, "%") for v in s.get("success_pct", []))
        lines.append(f"success per set: {per}; mean {_n(s.get('mean_success_pct'), '%')}")
        if s.get("level") is not None:
            lines.append(f"level {s['level']}")
        if s.get("next_level") is not None:
            lines.append(f"next time: level {s['next_level']} ({s.get('progression', '')})")
    elif kind == "reposition" and "composite" in s:
        lines.append(
            "joint-position errors (constant < 0: undershoot; variable: spread about the mean):"
        )
        lines.append("  " + reposition_line("composite", s["composite"], unit))
        for d, scores in s.get("per_direction", {}).items():
            lines.append("  " + reposition_line(d, scores, unit))
    if s.get("interrupted"):
        lines.append(f"{s['interrupted']} trial(s) interrupted by the device: not scored")
    return lines


def print_results(run, recorded: list[str] | None = None) -> None:
    """Each trial's line, then the protocol's results: ``recorded`` (the stored trials' block
    in the report's words, :func:`nmr_balance.reporting.results_text.block_lines`: what the
    note and the PDF will say) when the run was recorded, else the run's own summary."""
    print(f"\n=== {run.protocol.title} ===")
    for r in run.results:
        print(trial_line(r, run.unit))
    lines = recorded or summary_lines(run)
    if lines:
        print("results (as the report and the note give them):" if recorded else "summary:")
        for line in lines:
            print("  " + line)
