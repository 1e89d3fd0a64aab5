"""CPT 97112 units: both rules at their boundaries, and the minutes never exceed what was recorded."""

from __future__ import annotations

import datetime

import pytest

from nmr_balance.errors import InvalidParameterError
from nmr_balance.reporting.billing import ama_midpoint, cms_8_minute, units_rule, whole_minutes
from nmr_balance.reporting.minutes import timed_minutes
from tests._report_util import T0, edit, mctsib_session, session_of, trial

BOUNDARIES = {0: 0, 7: 0, 8: 1, 22: 1, 23: 2, 37: 2, 38: 3, 52: 3, 53: 4, 60: 4, 67: 4, 68: 5}


@pytest.mark.parametrize("rule", ["cms_8_minute", "ama_midpoint"])
@pytest.mark.parametrize("minutes,units", sorted(BOUNDARIES.items()))
def test_units_at_the_boundaries(rule, minutes, units):
    # One timed code alone: both rules agree (8-22 = 1, 23-37 = 2, ...).
    assert units_rule(rule).units_for(minutes) == units


def test_rules_differ_when_several_timed_codes_share_a_visit():
    minutes = {"97112": 7, "97110": 7}
    assert sum(cms_8_minute(minutes).values()) == 1  # 14 minutes in total: one unit
    assert ama_midpoint(minutes) == {"97112": 0, "97110": 0}  # neither code reaches 8 minutes
    # CMS hands units to the code with the most minutes: 33 + 7 = 40 min -> 3 units.
    assert cms_8_minute({"97112": 33, "97110": 7}) == {"97112": 2, "97110": 1}
    assert units_rule("cms_8_minute").units_for(10, other_timed_minutes={"97110": 20}) == 1


def test_unknown_rule_and_negative_minutes_say_what_is_valid():
    with pytest.raises(InvalidParameterError, match="cms_8_minute"):
        units_rule("eight_minutes")
    with pytest.raises(InvalidParameterError):
        cms_8_minute({"97112": -1})


def test_whole_minutes_round_down():
    assert whole_minutes(7 * 60 + 59.9) == 7
    assert whole_minutes(8 * 60) == 8
    assert whole_minutes(float("nan")) == 0


def _session(trial_minutes: list[float], gap_s: float, **fields):
    trials, t = [], T0
    for i, m in enumerate(trial_minutes):
        trials.append(trial(i + 1, t, duration_s=m * 60, planned_s=m * 60))
        t += datetime.timedelta(seconds=m * 60 + gap_s)
    return session_of(1, T0, trials, **fields)


def test_rests_and_countdowns_are_not_instruction_unless_the_clinic_says_so():
    # 3 trials of 4 min with 2 min pauses: by default only the 12 trial minutes count.
    m = timed_minutes(_session([4, 4, 4], 120), max_gap_s=180)
    assert (m.trial_s, m.instruction_s, m.minutes, m.units) == (720, 0, 12, 1)
    assert not m.pauses_counted


def test_minutes_count_trials_plus_pauses_up_to_the_limit_when_the_clinic_counts_pauses():
    # 3 trials of 4 min with 2 min pauses: 12 + 4 = 16 min -> 1 unit.
    m = timed_minutes(_session([4, 4, 4], 120), max_gap_s=180, count_pauses=True)
    assert (m.trial_s, m.instruction_s, m.minutes, m.units) == (720, 240, 16, 1)
    assert m.pauses_counted
    # Long pauses (10 min each) count only up to the 3-minute limit: 12 + 6 = 18 min.
    m = timed_minutes(_session([4, 4, 4], 600), max_gap_s=180, count_pauses=True)
    assert (m.instruction_s, m.minutes) == (360, 18)


def test_entered_instruction_time_is_capped_to_the_recorded_span():
    # Span = 3 x 4 min + 2 pauses of 1 min = 14 min; 20 min of instruction cannot have happened.
    m = timed_minutes(_session([4, 4, 4], 60, instruction_s=20 * 60))
    assert m.capped and m.span_s == 14 * 60 and m.counted_s == 14 * 60
    assert m.minutes == 14 and m.units == 1
    # The same visit, with a recorded session start 10 min before the first trial: room for more.
    s = _session([4, 4, 4], 60, instruction_s=9 * 60)
    s = edit(s, started=T0 - datetime.timedelta(minutes=10))
    m = timed_minutes(s)
    assert not m.capped and m.minutes == 21 and m.units == 1


def test_interrupted_trial_counts_only_the_recorded_seconds():
    session = mctsib_session(1, 0, interrupted=True)
    m = timed_minutes(session, max_gap_s=0, count_pauses=True)
    assert m.trial_s == pytest.approx(3 * 30 + 12.4)
    assert m.minutes == 1 and m.units == 0  # 1 min 42 s: below the 8-minute threshold


def test_trials_faster_than_real_time_count_only_the_wall_clock_span():
    # Two 5-minute recordings that started 1 min apart (replayed at speed): 10 min of signal in a
    # 6-minute visit. Only the 6 minutes can have been spent with the patient.
    session = _session([5, 5], -4 * 60)
    m = timed_minutes(session)
    assert m.trial_s == 600 and m.span_s == 360
    assert m.capped and m.counted_s == 360 and m.minutes == 6 and m.units == 0
