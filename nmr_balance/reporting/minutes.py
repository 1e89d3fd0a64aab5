"""Timed minutes of a session for CPT 97112, from what was recorded, and the units they bill.

The minutes are the trials' recorded time plus instruction time. Instruction time is what the
therapist entered for the visit (``Session.instruction_s``, ``report --instruction-min``). The
time between trials (rests, countdowns, setting up) is *not* instruction unless the clinic says
so (``[billing] count_pauses_as_instruction = true``): then, when nothing was entered, each pause
counts up to ``max_gap_s`` (a long break is not treatment).
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
from nmr_balance.summary import SessionSummary


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
        What the therapist entered (None: nothing entered).
    pauses_counted : bool
        True when the pauses between trials were counted as instruction (clinic setting).
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
    pauses_counted: bool
    span_s: float
    counted_s: float
    capped: bool
    minutes: int
    units: int
    rule: UnitsRule


def recorded_pauses_s(session: SessionSummary, max_gap_s: float) -> float:
    """Time between consecutive trials, each pause counted up to ``max_gap_s`` seconds."""
    trials = sorted(session.trials, key=lambda t: t.started)
    total = 0.0
    for before, after in itertools.pairwise(trials):
        gap = (after.started - before.ended).total_seconds()
        total += min(max(gap, 0.0), max_gap_s)
    return total


def recorded_span_s(session: SessionSummary) -> float:
    """From the session's start (or first trial) to its end (or last trial's end), s."""
    if not session.trials:
        return 0.0
    start = min([session.started] + [t.started for t in session.trials])
    last_trial_end = max(t.ended for t in session.trials)
    end = max(session.ended, last_trial_end) if session.ended else last_trial_end
    return max((end - start).total_seconds(), 0.0)


def timed_minutes(
    session: SessionSummary,
    rule: str | UnitsRule | None = None,
    max_gap_s: float = 180.0,
    count_pauses: bool = False,
) -> TimedMinutes:
    """Timed minutes and 97112 units of ``session`` under ``rule`` (name or rule; default CMS).

    ``count_pauses``: count the time between trials as instruction when none was entered."""
    rule = rule if isinstance(rule, UnitsRule) else units_rule(rule)
    trial_s = sum(max(t.duration_s, 0.0) for t in session.trials)
    entered = session.instruction_s
    pauses = count_pauses and entered is None
    if entered is not None:
        instruction = max(entered, 0.0)
    else:
        instruction = recorded_pauses_s(session, max_gap_s) if pauses else 0.0
    span = recorded_span_s(session)
    # Cap to the visit's wall-clock span: entered time beyond it, or a trial replayed or
    # simulated faster than real time, cannot count as time spent with the patient.
    counted = min(trial_s + instruction, span)
    capped = counted < trial_s + instruction
    minutes = whole_minutes(counted)
    units = rule.units_for(minutes, CPT_NEUROMUSCULAR_REEDUCATION, session.other_timed_minutes)
    return TimedMinutes(
        trial_s, instruction, entered, pauses, span, counted, capped, minutes, units, rule
    )
