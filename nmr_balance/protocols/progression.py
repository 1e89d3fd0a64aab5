"""Difficulty progression: when to move a patient up or down a level."""

from __future__ import annotations

import math

from nmr_balance.protocols.schema import Progression


def next_level(
    rule: Progression, level: int, n_levels: int, history: list[float]
) -> tuple[int, str]:
    """The level for the next session and why.

    Parameters
    ----------
    rule : Progression
        E.g. ``>= 80 % success over 2 trials -> next level``.
    level : int
        Current level (1-based, as the patient and the therapist say it).
    n_levels : int
        Levels the protocol defines.
    history : list of float
        The rule's metric for the trials done at the current level, oldest first (NaN = not
        scored, e.g. an interrupted trial, which counts neither way).

    Returns
    -------
    level : int
        1-based.
    why : str
    """
    recent = [v for v in history if math.isfinite(v)][-rule.over_trials :]
    if len(recent) < rule.over_trials:
        return (
            level,
            f"stay at level {level}: {len(recent)} of {rule.over_trials} scored trials so far",
        )
    shown = ", ".join(f"{v:.0f}" for v in recent)
    metric = rule.metric.replace("_pct", " %").replace("_", " ")
    if min(recent) >= rule.advance_at:
        if level < n_levels:
            return level + 1, (
                f"up to level {level + 1}: {metric} {shown} >= {rule.advance_at:g} "
                f"in the last {rule.over_trials} trials"
            )
        return level, f"stay at the top level {level}: {metric} {shown}"
    if max(recent) < rule.drop_below and level > 1:
        return level - 1, (
            f"down to level {level - 1}: {metric} {shown} < {rule.drop_below:g} "
            f"in the last {rule.over_trials} trials"
        )
    return level, f"stay at level {level}: {metric} {shown}"
