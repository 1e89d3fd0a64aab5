"""How numbers, times and durations read in notes, tables and the CSV (one place for all)."""

from __future__ import annotations

import datetime
import math


def duration(seconds: float) -> str:
    """``"45 s"``, ``"2 min 05 s"``, ``"1 h 02 min"`` (rounded down to whole seconds)."""
    if not math.isfinite(seconds) or seconds < 0:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s} s" if seconds == s else f"{math.floor(seconds * 10) / 10:.1f} s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m} min {s:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def number(value, digits: int = 3) -> str:
    """A metric value with ``digits`` significant digits (no scientific notation for doubles)."""
    if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
        return "-"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(digits - 1 - magnitude, 0)
    return f"{value:.{decimals}f}"


def score(value: float | None, scale: str = "") -> str:
    """A patient-reported score (pain 0-10, Borg), or "not recorded"."""
    if value is None or not math.isfinite(value):
        return "not recorded"
    text = f"{value:g}"
    return f"{text}{scale}"


def date(moment: datetime.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d")


def clock(moment: datetime.datetime) -> str:
    return moment.astimezone().strftime("%H:%M")


def date_time(moment: datetime.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"
