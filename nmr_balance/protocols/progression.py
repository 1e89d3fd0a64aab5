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
        Current level (0-based).
    n_levels : int
        Levels the protocol defines.
    history : list of float
        The rule's metric for the trials done at the current level, oldest first (NaN = not
        scored, e.g. an interrupted trial, which counts neither way).
    """
    recent = [v for v in history if math.isfinite(v)][-rule.over_trials :]
    if len(recent) < rule.over_trials:
        return (
            level,
            f"stay at level {level + 1}: {len(recent)} of {rule.over_trials} scored trials so far",
        )
    shown = ", ".join(f"{v:.0f}" for v in recent)
    if min(recent) >= rule.advance_at:
        if level + 1 < n_levels:
            return level + 1, (
                f"up to level {level + 2}: {rule.metric} {shown} >= {rule.advance_at:g} "
                f"in the last {rule.over_trials} trials"
            )
        return level, f"stay at the top level {level + 1}: {rule.metric} {shown}"
    if max(recent) < rule.drop_below and level > 0:
        return level - 1, (
            f"down to level {level}: {rule.metric} {shown} < {rule.drop_below:g} "
            f"in the last {rule.over_trials} trials"
        )
    return level, f"stay at level {level + 1}: {rule.metric} {shown}"
