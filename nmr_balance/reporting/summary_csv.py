"""CSV summary of every trial's metrics, for a clinic's own analysis (spreadsheet, R, pandas).

One row per trial, with who/when/what columns first and then every metric any trial has (sorted
by name; empty where a trial lacks one). Patients appear by their pseudonymous code only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from nmr_balance.private_files import private_file
from nmr_balance.summary import SessionSummary

FIXED_COLUMNS = (
    "patient",
    "session_id",
    "session_started",
    "therapist",
    "trial_id",
    "protocol",
    "exercise",
    "condition",
    "status",
    "trial_started",
    "duration_s",
    "planned_s",
    "unit",
    "level",
    "repetitions",
    "n_cues",
    "problems",
    "pain_before",
    "pain_after",
    "borg_before",
    "borg_after",
)


def summary_rows(sessions: Iterable[SessionSummary]) -> list[dict]:
    """One dict per trial (keys: :data:`FIXED_COLUMNS` then metric names)."""
    rows = []
    for s in sessions:
        patient = s.patient
        for t in sorted(s.trials, key=lambda t: t.started):
            row = {
                "patient": patient.code,
                "session_id": s.id,
                "session_started": s.started.isoformat(),
                "therapist": s.therapist,
                "trial_id": t.id,
                "protocol": t.protocol,
                "exercise": t.exercise_label(),
                "condition": t.condition,
                "status": t.status.value,
                "trial_started": t.started.isoformat(),
                "duration_s": round(t.duration_s, 3),
                "planned_s": t.planned_s,
                "unit": t.unit,
                "level": t.level,
                "repetitions": t.repetitions,
                "n_cues": len(t.cues),
                "problems": "; ".join(t.problems),
                "pain_before": s.pain_before,
                "pain_after": s.pain_after,
                "borg_before": s.borg_before,
                "borg_after": s.borg_after,
            }
            row.update(t.metrics)
            if t.los is not None:  # each direction's five LOS scores, named los_F_..., los_FR_...
                for d, scores in t.los.per_direction.items():
                    row.update({f"los_{d}_{k}": v for k, v in scores.to_dict().items()})
            rows.append(row)
    return rows


def write_summary_csv(sessions: Iterable[SessionSummary], path: str | Path) -> int:
    """Write the summary of ``sessions`` to ``path`` (owner-only: health data); return the rows.

    Raises :class:`~nmr_balance.errors.StorageError` when the file cannot be written.
    """
    rows = summary_rows(sessions)
    metrics = sorted({k for r in rows for k in r} - set(FIXED_COLUMNS))
    with private_file(path) as f:
        writer = csv.DictWriter(f, [*FIXED_COLUMNS, *metrics], restval="")
        writer.writeheader()
        writer.writerows({k: safe_cell(v) for k, v in r.items()} for r in rows)
    return len(rows)


def safe_cell(value: object) -> object:
    """A value a spreadsheet shows as text: a text starting with ``= + - @`` (or a tab or
    carriage return) would be run as a formula (``=HYPERLINK(...)``), so it gets a leading
    ``'``. Numbers are left alone (``-1.5`` stays a number); ``None`` becomes empty."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
