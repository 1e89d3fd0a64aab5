"""The results of a session in words and rounded numbers: one wording for the note and the PDF.

Each protocol block (:class:`nmr_balance.summary.ProtocolBlock`) becomes a few plain lines —
per condition the falls and mean sway, the sensory ratios, the Limits of Stability composite
and each direction, the single-leg times, a training's hits, time in target, level and
progression. The note prints them; the PDF shows the same strings in its tables. So the two can
only differ in layout. Numbers are rounded to what the measurement supports, with units; no
interpretation is added here (see ``docs/reports.md`` for why and for the references).
"""

from __future__ import annotations

import math

from nmr_balance.reporting import fmt
from nmr_balance.reporting.compare import RATIO_FORMULAS, RATIO_TITLES
from nmr_balance.results import LOS_DIRECTIONS, LosScores, RepositionScores, TrialResults
from nmr_balance.summary import ConditionScore, ProtocolBlock, SessionSummary, TrainingSummary

#: Column titles of the LOS table, in LosScores.FIELDS order ("L" = the sway unit).
LOS_TITLES = (
    "Reaction time (s)",
    "Movement velocity (L/s)",
    "Endpoint excursion (%)",
    "Maximum excursion (%)",
    "Directional control (%)",
)
#: Column titles of the joint-position table, in ``reposition_values`` order ("L" = the unit).
REPOSITION_TITLES = ("Absolute error (L)", "Constant error (L)", "Variable error (L)")


def ratio(value: float) -> str:
    """A sensory ratio: two decimals (they are quotients of means of ~3 significant digits)."""
    return f"{value:.2f}" if math.isfinite(value) else "-"


def los_values(scores: LosScores) -> list[str]:
    """The five LOS scores of a direction (or the composite) as the tables and the note show
    them: reaction time to 0.01 s, velocity to 3 significant digits, percentages whole."""
    r, v, e, m, c = (getattr(scores, k) for k in LosScores.FIELDS)
    pct = [f"{x:.0f}" if math.isfinite(x) else "-" for x in (e, m, c)]
    return [f"{r:.2f}" if math.isfinite(r) else "-", fmt.number(v), *pct]


def los_line(name: str, scores: LosScores, unit: str) -> str:
    r, v, e, m, c = los_values(scores)
    if scores.movement_detected is False:  # no lean: no timing scores to report
        return f"{name}: no movement detected (maximum excursion {m} %)"
    return (
        f"{name}: reaction time {r} s, movement velocity {v} {unit}/s, endpoint excursion "
        f"{e} %, maximum excursion {m} %, directional control {c} %"
    )


def reposition_values(scores: RepositionScores) -> list[str]:
    """Absolute, constant and variable error of a direction (or the composite) as the tables
    and the note show them: 3 significant digits, no unit."""
    return [fmt.number(getattr(scores, k)) for k in RepositionScores.FIELDS[:3]]


def reposition_line(name: str, scores: RepositionScores, unit: str) -> str:
    """Joint-position errors of a direction (or the composite): 3 significant digits, unit."""
    a, c, v = reposition_values(scores)
    return (
        f"{name}: absolute error {a} {unit}, constant error {c} {unit}, variable error "
        f"{v} {unit} ({fmt.plural(scores.n, 'reproduction')})"
    )


def ratio_lines(block: ProtocolBlock) -> list[str]:
    return [
        f"{RATIO_TITLES[k]} [{RATIO_FORMULAS[k]}]: {ratio(v)}"
        for k, v in block.sensory_ratios.items()
    ]


def single_leg_time(best_s: float, held: bool) -> str:
    """A leg's best single-leg stance time: s to 3 significant digits, and whether it was held
    the full time."""
    return f"{fmt.number(best_s)} s" + (" (held the full time)" if held else "")


def single_leg_line(side: str, best_s: float, held: bool) -> str:
    return f"single-leg {side}: {single_leg_time(best_s, held)}"


def mean_sway_velocity(c: ConditionScore) -> str:
    """A condition's mean sway velocity of the trials held to the end (3 significant digits,
    with its unit), or that no trial was held to the end."""
    if not math.isfinite(c.mean_velocity):
        return "no trial held to the end"
    return f"{fmt.number(c.mean_velocity)} {c.unit}/s"


def training_line(t: TrainingSummary) -> str:
    parts = []
    if t.hits is not None and t.targets is not None:
        parts.append(f"targets hit {t.hits} of {t.targets}")
    if math.isfinite(t.time_in_target_pct):
        parts.append(f"time in target {t.time_in_target_pct:.0f} %")
    if math.isfinite(t.success_pct):
        parts.append(f"success {t.success_pct:.0f} %")
    if t.level is not None:
        parts.append(f"level {t.level}")
    return "; ".join(parts) or "no scores recorded"


def progression_line(t: TrainingSummary) -> str:
    if t.next_level is None:
        return ""
    return f"Progression: next session at level {t.next_level} ({t.progression})"


def block_lines(block: ProtocolBlock) -> list[str]:
    """The results of one protocol block, one finding per line (no trailing periods)."""
    lines = []
    unit = block.trials[0].unit if block.trials else "mm"
    for c in block.conditions.values():
        sway = mean_sway_velocity(c)
        if math.isfinite(c.mean_velocity):
            sway = "mean sway velocity " + sway
        lines.append(f"{c.label}: {sway}; falls {c.falls} of {fmt.plural(c.trials, 'trial')}")
    if block.sensory_ratios:
        lines.append("Sensory ratios of mean sway velocity:")
        lines += ["  " + line for line in ratio_lines(block)]
    for side, (best, held) in block.single_leg.items():
        lines.append(single_leg_line(side, best, held))
    if block.los is not None:
        lines.append(f"Limits of Stability (trial {block.los_trial}):")
        lines.append("  " + los_line("composite", block.los.composite, unit))
        for d in LOS_DIRECTIONS:
            if d in block.los.per_direction:
                lines.append("  " + los_line(d, block.los.per_direction[d], unit))
    if block.reposition is not None:
        r = block.reposition
        lines.append(
            f"Joint-position sense (trial {block.reposition_trial}), errors reproducing a "
            "position with the eyes closed (constant < 0: undershoot):"
        )
        lines.append("  " + reposition_line("composite", r.composite, r.unit or unit))
        for d in LOS_DIRECTIONS:
            if d in r.per_direction:
                lines.append("  " + reposition_line(d, r.per_direction[d], r.unit or unit))
    if block.training is not None:
        lines.append(training_line(block.training))
        progression = progression_line(block.training)
        if progression:
            lines.append(progression)
    return lines


__all__ = [
    "LOS_TITLES",
    "REPOSITION_TITLES",
    "block_lines",
    "los_line",
    "los_values",
    "mean_sway_velocity",
    "progression_line",
    "protocol_trial_line",
    "ratio",
    "ratio_lines",
    "reposition_line",
    "reposition_values",
    "session_lines",
    "single_leg_line",
    "single_leg_time",
    "training_line",
    "trial_headline",
]


def session_lines(summary: SessionSummary) -> list[str]:
    """A session's results, protocol by protocol, in the words of the note and the PDF: what
    the console's result panel shows (``recordings.report_data.load_session_summary`` loads the
    summary from the station database)."""
    lines = []
    for block in summary.blocks:
        lines.append(f"{block.title} ({fmt.plural(len(block.trials), 'trial')})")
        lines += ["  " + line for line in block_lines(block)]
    return lines


def protocol_trial_line(result, level: int | None, unit: str) -> str:
    """One trial of a protocol run as it ends, in the words of ``nmr-balance run`` and of the
    console's run list: its number, label, how it ended (and why) and its key scores
    (:func:`trial_headline` of its typed results; a trial not scored has none).

    Parameters
    ----------
    result : nmr_balance.protocols.run.TrialResult
    level : int or None
        The run's level (1-based; None for tests).
    unit : str
        The sway unit (``mm`` or ``deg``).
    """
    status = result.status.replace("_", " ") + (f": {result.reason}" if result.reason else "")
    words = trial_headline(result.typed(level), unit) if result.scored else ""
    return f"{result.number + 1}. {result.label or result.task}: {status}" + (
        f" \u2014 {words}" if words else ""
    )


def trial_headline(results: TrialResults, unit: str) -> str:
    """The one line a listing shows for a trial's results: the task's scores (a standing task's
    are its fall and its sway; a free recording's its sway), then the level."""
    parts = []
    if results.los is not None:
        c = results.los.composite
        r, _, _, m, d = los_values(c)
        parts.append(f"LOS max excursion {m} %, directional control {d} %, reaction {r} s")
    if results.training is not None:
        t = results.training
        if t.hits is not None and t.targets is not None:
            parts.append(f"hits {t.hits}/{t.targets}")
        if math.isfinite(t.time_in_target_pct):
            parts.append(f"in target {t.time_in_target_pct:.0f} %")
        if t.hits is None and math.isfinite(t.success_pct):
            parts.append(f"success {t.success_pct:.0f} %")
    if results.reposition is not None:
        a, _, _ = reposition_values(results.reposition.composite)
        parts.append(f"joint-position absolute error {a} {results.reposition.unit or unit}")
    if results.stand is not None and not results.stand.completed:
        parts.append(f"fell after {fmt.number(results.stand.time_standing_s)} s")
    # standing is measured by its sway (a free recording too); a movement task by its scores
    if (results.stand is not None or not parts) and math.isfinite(
        results.sway.get("mean_velocity", math.nan)
    ):
        parts.append(f"sway {fmt.number(results.sway['mean_velocity'])} {unit}/s")
    if results.level is not None:
        parts.append(f"level {results.level}")
    return ", ".join(parts)
