"""Timed minutes of a session for CPT 97112, from what was recorded, and the units they bill.

The minutes are the trials' recorded time plus instruction time. Instruction time is what the
therapist entered for the visit or, when nothing was entered, the recorded time between
consecutive trials (each pause counted up to ``max_gap_s``: a long break is not treatment).
Whatever is entered, the time counted never exceeds the visit's recorded span (from the session's start,
or its first trial, to its end, or its last trial's end): the report cannot claim time nobody
recorded. Interrupted trials count with the time they actually recorded.
"""

from __future__ import annotations

import dataclasses
import itertools

from nmr_balance.reporting.billing import (
    CPT_NEUROMUSCULAR_REEDUCATION,
    UnitsRule,
    units_rule,
    whole_minutes,
)
from nmr_balance.reporting.model import SessionRecord


@dataclasses.dataclass(frozen=True)
class TimedMinutes:
    """The time behind a session's 97112 units.

    Attributes
    ----------
    trial_s : float
        Recorded trial time, s.
    instruction_s : float
        Instruction time: entered, or the pauses between trials, s.
    entered_instruction_s : float or None
        What the therapist entered (None: taken from the pauses between trials).
    span_s : float
        The visit's recorded span, s.
    counted_s : float
        The time the minutes are made of: trials + instruction, at most ``span_s``.
    capped : bool
        True when trials + instruction exceeded the recorded span and were cut to it.
    minutes : int
        Whole timed minutes completed.
    units : int
        Units of 97112 under ``rule``.
    rule : UnitsRule
    """

    trial_s: float
    instruction_s: float
    entered_instruction_s: float | None
    span_s: float
    counted_s: float
    capped: bool
    minutes: int
    units: int
    rule: UnitsRule


def recorded_pauses_s(session: SessionRecord, max_gap_s: float) -> float:
    """Time between consecutive trials, each pause counted up to ``max_gap_s`` seconds."""
    trials = sorted(session.trials, key=lambda t: t.started)
    total = 0.0
    for before, after in itertools.pairwise(trials):
        gap = (after.started - before.ended).total_seconds()
        total += min(max(gap, 0.0), max_gap_s)
    return total


def recorded_span_s(session: SessionRecord) -> float:
    """From the session's start (or first trial) to its end (or last trial's end), s."""
    if not session.trials:
        return 0.0
    start = min([session.started] + [t.started for t in session.trials])
    last_trial_end = max(t.ended for t in session.trials)
    end = max(session.ended, last_trial_end) if session.ended else last_trial_end
    return max((end - start).total_seconds(), 0.0)


def timed_minutes(
    session: SessionRecord, rule: str | UnitsRule | None = None, max_gap_s: float = 180.0
) -> TimedMinutes:
    """Timed minutes and 97112 units of ``session`` under ``rule`` (name or rule; default CMS)."""
    rule = rule if isinstance(rule, UnitsRule) else units_rule(rule)
    trial_s = sum(max(t.duration_s, 0.0) for t in session.trials)
    entered = session.instruction_s
    instruction = recorded_pauses_s(session, max_gap_s) if entered is None else max(entered, 0.0)
    span = recorded_span_s(session)
    # Cap to the visit's wall-clock span: entered time beyond it, or a trial replayed or
    # simulated faster than real time, cannot count as time spent with the patient.
    counted = min(trial_s + instruction, span)
    capped = counted < trial_s + instruction
    minutes = whole_minutes(counted)
    units = rule.units_for(minutes, CPT_NEUROMUSCULAR_REEDUCATION, session.other_timed_minutes)
    return TimedMinutes(trial_s, instruction, entered, span, counted, capped, minutes, units, rule)
