"""The documentation note for the medical record: copy-paste-ready text of what was recorded.

What good documentation of CPT 97112 names (DESIGN.md §1): body regions treated, exercises and
their objectives, sets/repetitions/durations, surface and resistance, cues (verbal, tactile,
visual), patient response (pain 0-10, perceived exertion), progress, and the timed minutes with
the units they bill. Everything comes from the recording: trials that stopped early are said to
have stopped early, missing patient-reported scores are "not recorded", and the minutes never
exceed what was recorded (:mod:`nmr_balance.reporting.minutes`). The therapist reviews the draft
and signs it (``nmr-balance sign``); a signed session's note is then the text as signed, with
its addenda and a line that checks it (:mod:`nmr_balance.reporting.signature`).
"""

from __future__ import annotations

import collections
import textwrap

from nmr_balance.protocols.library import facts
from nmr_balance.record import Cue, CueType
from nmr_balance.reporting import fmt
from nmr_balance.reporting.compare import KEY_BY_NAME, compare_sessions, metric_unit
from nmr_balance.reporting.minutes import TimedMinutes, timed_minutes
from nmr_balance.reporting.model import SessionReport
from nmr_balance.reporting.results_text import block_lines
from nmr_balance.reporting.signature import SIGNING_FOOTER, signed_note
from nmr_balance.summary import SessionSummary, TrialSummary

WIDTH = 92


def _wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_on_hyphens=False,
    ) or [first or indent]


def exercise_groups(session: SessionSummary) -> dict[str, list[list[TrialSummary]]]:
    """Trials grouped by exercise, then by condition, in the order they were first done."""
    groups: dict[str, dict[str, list[TrialSummary]]] = {}
    for trial in sorted(session.trials, key=lambda t: t.started):
        groups.setdefault(trial.exercise_label(), {}).setdefault(trial.condition, []).append(trial)
    return {name: list(by_condition.values()) for name, by_condition in groups.items()}


def stopped_early_text(trial: TrialSummary) -> str:
    """ "stopped after 12.4 s of 30 s planned (interrupted: device lost at 12.1 s)"."""
    planned = f" of {fmt.duration(trial.planned_s)} planned" if trial.planned_s else ""
    why = f": {'; '.join(trial.problems)}" if trial.problems else ""
    return f"stopped after {fmt.duration(trial.duration_s)}{planned} ({trial.status}{why})"


def _dose_line(trials: list[TrialSummary]) -> str:
    """ "eyes closed, foam (foam pad): 3 trials x 30 s; 1 stopped after ..."."""
    first = trials[0]
    count = fmt.plural(len(trials), "trial") if first.is_test else fmt.plural(len(trials), "set")
    reps = [t.repetitions for t in trials if t.repetitions is not None]
    dose = count
    if reps:
        dose += (
            f" x {reps[0]} repetitions"
            if len(set(reps)) == 1
            else f" ({', '.join(map(str, reps))} repetitions)"
        )
    durations = sorted({fmt.duration(t.duration_s) for t in trials if t.finished})
    if durations:
        dose += f", {' / '.join(durations)} each" if len(trials) > 1 else f", {durations[0]}"
    details = [
        d
        for d in (
            first.surface_text(),
            first.resistance,
            f"level {first.level}" if first.level is not None else "",
        )
        if d
    ]
    head = first.condition + (f" ({'; '.join(details)})" if details else "")
    early = [f"trial {t.id} {stopped_early_text(t)}" for t in trials if not t.finished]
    return f"{head}: {dose}" + ("; " + "; ".join(early) if early else "")


def _exercises(session: SessionSummary) -> list[str]:
    """Per protocol: what was done (the dose per condition), then its results."""
    lines = ["Exercises and activities:"]
    for i, block in enumerate(session.blocks, 1):
        first = block.trials[0]
        objective = first.objective_text()
        kind = block.facts.kind if block.facts.kind in ("test", "training") else ""
        lines += _wrap(
            first.exercise_label()
            + (f" ({kind})" if kind else "")
            + (f" - objective: {objective}" if objective else ""),
            "   ",
            f"{i}. ",
        )
        by_condition: dict[str, list[TrialSummary]] = {}
        for t in block.trials:
            by_condition.setdefault(t.condition, []).append(t)
        for trials in by_condition.values():
            lines += _wrap(_dose_line(trials), "       ", "     - ")
        results = block_lines(block)
        if results:
            lines.append("     Results:")
            for line in results:
                indent = "         " + " " * (len(line) - len(line.lstrip()))
                lines += _wrap(line.strip(), indent + "  ", indent)
    return lines


def cue_type_text(cue: Cue) -> str:
    """How a cue was given, in the words of the note and the PDF: its type ("verbal"), "type
    not recorded", or for a type an old record holds that is none of the core's, "type not
    recognised: 'xyz'" (what was stored, as it was stored)."""
    if cue.type is None:
        return f"type not recognised: {cue.stored_type!r}"
    return cue.type.value or "type not recorded"


def _cues(session: SessionSummary) -> list[str]:
    # every known type, even with none logged; the others only when they were
    by_mode: dict[str, collections.Counter] = {
        cue_type_text(Cue(0.0, "", t)): collections.Counter() for t in CueType
    }
    for trial in session.trials:
        for cue in trial.cues:
            by_mode.setdefault(cue_type_text(cue), collections.Counter())[cue.text.strip()] += 1
    lines = ["Cues given (as logged during the trials):"]
    for mode, counts in by_mode.items():
        if mode.startswith("type not") and not counts:
            continue
        title = mode[0].upper() + mode[1:]
        if not counts:
            lines.append(f"   {title}: none logged")
            continue
        items = [f'"{text}"' + (f" (x{n})" if n > 1 else "") for text, n in counts.items()]
        lines += _wrap(f"{title} ({sum(counts.values())}): " + ", ".join(items), "      ", "   ")
    return lines


def _response(session: SessionSummary) -> list[str]:
    def pair(before, after, scale):
        if before is None and after is None:
            return "not recorded"
        return f"{fmt.score(before, scale)} before, {fmt.score(after, scale)} after"

    return [
        "Patient response:",
        f"   Pain (0-10): {pair(session.pain_before, session.pain_after, '/10')}.",
        f"   Perceived exertion (Borg 6-20): {pair(session.borg_before, session.borg_after, '')}.",
        *_wrap(
            "Response to treatment: " + (session.response.strip() or "not recorded") + ".",
            "      ",
            "   ",
        ),
    ]


def _therapist_notes(session: SessionSummary) -> list[str]:
    """The therapist's own words: the session's notes and each trial's, as typed."""
    lines = []
    if session.notes.strip():
        lines += _wrap(session.notes.strip(), "      ", "   Session: ")
    for t in session.trials:
        if t.notes.strip():
            lines += _wrap(
                f"Trial {t.id} ({t.exercise_label()}, {t.condition}): {t.notes.strip()}",
                "      ",
                "   ",
            )
    return ["Therapist notes:", *lines] if lines else []


def progress_lines(report: SessionReport) -> list[str]:
    """Key metrics against the previous session and the baseline, better/worse in words."""
    lines = []
    for label, before in (("previous session", report.previous), ("baseline", report.baseline)):
        if before is None or (label == "baseline" and before is report.previous):
            continue
        changes = compare_sessions(report.session, before)
        lines.append(f"   Since the {label} ({fmt.date(before.started)}):")
        if not changes:
            lines.append("      no condition in common to compare")
        unit = next((t.unit for t in report.session.trials), "mm")
        for (protocol, condition), by_metric in changes.items():
            parts = [
                f"{KEY_BY_NAME[name].title.lower()} {fmt.number(c.before)} -> "
                f"{fmt.number(c.now)} {metric_unit(KEY_BY_NAME[name], unit)} {c.text()}"
                for name, c in by_metric.items()
            ]
            if parts:
                lines += _wrap(
                    f"{facts(protocol).title}, {condition}: " + "; ".join(parts),
                    "         ",
                    "      ",
                )
    head = "Progress:" if report.previous else "Progress: first recorded session (baseline)."
    return [head, *lines]


def _minutes(minutes: TimedMinutes) -> list[str]:
    if minutes.entered_instruction_s is not None:
        source = "entered by the therapist"
    elif minutes.pauses_counted:
        source = "time between trials, each pause counted up to the configured limit"
    else:
        source = "none entered; rests and countdowns between trials are not counted"
    lines = _wrap(
        f"Timed minutes: {minutes.minutes} (recorded trial time "
        f"{fmt.duration(minutes.trial_s)} + instruction {fmt.duration(minutes.instruction_s)}"
        f", {source}; whole minutes, rounded down).",
        "   ",
        "",
    )
    if minutes.capped:
        lines += _wrap(
            f"Trials + instruction ({fmt.duration(minutes.trial_s + minutes.instruction_s)}"
            f") exceed the recorded visit span ({fmt.duration(minutes.span_s)}); only "
            f"{fmt.duration(minutes.counted_s)} is counted.",
            "   ",
            "   ",
        )
    lines.append(f"CPT 97112 units: {minutes.units} ({minutes.rule.title}).")
    return lines


def _overlap_lines(session: SessionSummary) -> list[str]:
    if not session.overlaps:
        return []
    ids = ", ".join(f"#{i}" for i in session.overlaps)
    return _wrap(
        f"ATTENTION: this session overlaps in time with session {ids} of the same patient. "
        "Check the times before billing: the same minutes cannot be billed twice.",
        "   ",
        "",
    )


def documentation_note(report: SessionReport) -> str:
    """The note of ``report``'s session, as plain text (ends with a newline).

    A signed session's note is the text as signed, its addenda and the verification line; an
    unsigned one's is the draft, with blank lines for the signature.
    """
    if report.signature is not None:
        return signed_note(report.signature, report.addenda)
    return _note(report, draft=True)


def note_to_sign(report: SessionReport) -> str:
    """The note as it will be signed: no "draft" wording, ending with the signing footer (the
    signature line goes below it, see :func:`recordings.signing.sign_session`)."""
    return _note(report, draft=False)


def _note(report: SessionReport, draft: bool) -> str:
    s = report.session
    minutes = timed_minutes(s, report.units_rule, report.max_gap_instruction_s, report.count_pauses)
    span = f"{fmt.date(s.started)} {fmt.clock(s.started)}" + (
        f"-{fmt.clock(s.ended)}" if s.ended else ""
    )
    regions = list(dict.fromkeys(r for t in s.trials for r in t.regions()))
    lines = [
        "NEUROMUSCULAR RE-EDUCATION (CPT 97112)"
        + (" - DRAFT, REVIEW AND EDIT BEFORE SIGNING" if draft else ""),
        (
            f"Patient: {report.patient.label()}   Date: {span}   "
            f"{report.clinic.provider_label}: {s.therapist or 'not recorded'}   "
            f"Station: {s.station or 'not recorded'}"
        ),
        *_overlap_lines(s),
        "",
        *_wrap(
            "Body regions treated: "
            + (", ".join(regions) or "not recorded")
            + " (balance and proprioception, neuromuscular re-education)."
        ),
        "",
        *(_exercises(s) if s.trials else ["Exercises and activities: no trials recorded."]),
        "",
        *_cues(s),
        "",
        *_response(s),
        "",
        *progress_lines(report),
        "",
        *_minutes(minutes),
    ]
    early = [t for t in s.trials if not t.finished]
    if early:
        lines += [
            "",
            "Trials that did not run to the end (their partial data are not in the means):",
        ]
        for t in early:
            lines += _wrap(
                f"trial {t.id}, {t.exercise_label()} {t.condition}: {stopped_early_text(t)}.",
                "     ",
                "   - ",
            )
    notes = _therapist_notes(s)
    if notes:
        lines += ["", *notes]
    if not draft:
        return "\n".join([*lines, "", SIGNING_FOOTER]) + "\n"
    lines += [
        "",
        "Drafted by nmr-balance from the recorded session. Reviewed and signed:",
        "",
        "______________________________   Date: ____________",
    ]
    return "\n".join(lines) + "\n"
