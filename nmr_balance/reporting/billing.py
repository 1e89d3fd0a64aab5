"""Billing units of timed CPT codes (97112 neuromuscular reeducation) and the minutes behind them.

Two rules are in use in the US, and a clinic picks one in its station config
(``[billing] units_rule``):

``cms_8_minute`` (default)
    The CMS "8-minute rule" (Medicare, and most payers that follow it): the minutes of *all*
    timed codes of the visit are added up, and the total gives the units: fewer than 8 minutes
    bill nothing, 8-22 minutes one unit, 23-37 two, 38-52 three, and so on (a unit is 15
    minutes; a remainder of 8 minutes or more adds one). The units then go to the codes with the
    most minutes first.
``ama_midpoint``
    The AMA/CPT "substantial portion" (midpoint) rule that many commercial payers use: each code
    is counted on its own, and a unit is billed once more than half of it (8 of 15 minutes) was
    given. 7 minutes of 97112 and 7 minutes of 97110 therefore bill nothing under this rule but
    one unit under the CMS rule.

Minutes are whole minutes *completed*: 7 min 59 s counts as 7, so a report never claims more time
than was recorded.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping

from nmr_balance.errors import InvalidParameterError

#: The timed code this application documents.
CPT_NEUROMUSCULAR_REEDUCATION = "97112"
UNIT_MINUTES = 15
#: More than half a unit: the least remainder that earns one more unit under both rules.
MIDPOINT_MINUTES = 8


def _units_of(minutes: int) -> int:
    """Units of ``minutes`` timed minutes: whole 15-minute units, plus one for a remainder >= 8."""
    if minutes < 0:
        raise InvalidParameterError("minutes", minutes, "a number of minutes >= 0")
    full, rest = divmod(int(minutes), UNIT_MINUTES)
    return full + (1 if rest >= MIDPOINT_MINUTES else 0)


def cms_8_minute(minutes_by_code: Mapping[str, int]) -> dict[str, int]:
    """Units per code under the CMS 8-minute rule (the total minutes decide the total units).

    Parameters
    ----------
    minutes_by_code : mapping of str to int
        Timed minutes given per CPT code during the visit.

    Returns
    -------
    dict of str to int
        Units per code. The total follows from the total minutes; they are handed out one at a
        time to the code with the most minutes not yet covered (CMS's assignment), ties broken by
        code so the result is deterministic.
    """
    left = {code: int(m) for code, m in minutes_by_code.items()}
    units = {code: 0 for code in left}
    for _ in range(_units_of(sum(left.values()))):
        code = max(sorted(left), key=lambda c: left[c])
        units[code] += 1
        left[code] -= UNIT_MINUTES
    return units


def ama_midpoint(minutes_by_code: Mapping[str, int]) -> dict[str, int]:
    """Units per code under the AMA/CPT midpoint ("substantial portion") rule: each code alone."""
    return {code: _units_of(m) for code, m in minutes_by_code.items()}


@dataclasses.dataclass(frozen=True)
class UnitsRule:
    """A named way of turning timed minutes into billed units."""

    name: str
    title: str
    units: Callable[[Mapping[str, int]], dict[str, int]]

    def units_for(
        self,
        minutes: int,
        code: str = CPT_NEUROMUSCULAR_REEDUCATION,
        other_timed_minutes: Mapping[str, int] | None = None,
    ) -> int:
        """Units billed for ``code`` given its minutes (and the visit's other timed codes)."""
        return self.units({**(other_timed_minutes or {}), code: int(minutes)})[code]


RULES: dict[str, UnitsRule] = {
    rule.name: rule
    for rule in (
        UnitsRule("cms_8_minute", "CMS 8-minute rule (total timed minutes)", cms_8_minute),
        UnitsRule("ama_midpoint", "AMA/CPT midpoint rule (per service)", ama_midpoint),
    )
}
DEFAULT_RULE = "cms_8_minute"


def units_rule(name: str | None = None) -> UnitsRule:
    """The rule called ``name`` (default :data:`DEFAULT_RULE`); a clear error for an unknown one."""
    key = (name or DEFAULT_RULE).strip().lower()
    if key not in RULES:
        raise InvalidParameterError(
            "units_rule", name, "one of " + ", ".join(RULES), "[billing] in the station config"
        )
    return RULES[key]


def whole_minutes(seconds: float) -> int:
    """Completed minutes of ``seconds`` (rounded down: never more than what happened)."""
    if not math.isfinite(seconds) or seconds <= 0:
        return 0
    return int(seconds // 60)
