"""The parts of the session report, in reading order, as reportlab flowables.

Summary first (what a patient wants to know), then per protocol the results table, the sensory
ratios, the statokinesigrams and LOS radars, then the comparison with earlier sessions, the
progress charts, and last the details for the medical record (minutes, units, cues, response).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from nmr_balance.protocols.library import facts
from nmr_balance.reporting import fmt
from nmr_balance.reporting.compare import (
    HIGHER,
    KEY_BY_NAME,
    KEY_METRICS,
    RATIO_FORMULAS,
    RATIO_TITLES,
    compare_sessions,
    condition_means,
    headline_metrics,
    metric_unit,
    session_means,
)
from nmr_balance.reporting.minutes import timed_minutes
from nmr_balance.reporting.model import SessionReport
from nmr_balance.reporting.note import cue_type_text, exercise_groups, stopped_early_text
from nmr_balance.reporting.results_text import (
    LOS_TITLES,
    REPOSITION_TITLES,
    los_values,
    mean_sway_velocity,
    progression_line,
    ratio,
    reposition_values,
    single_leg_time,
    training_line,
)
from nmr_balance.reporting.signature import addendum_heading, pdf_signature_line, tampered_line
from nmr_balance.results import LOS_DIRECTIONS, LosScores
from nmr_balance.summary import ProtocolBlock, SessionSummary, TrialSummary
from ui.report import charts

BASE = ParagraphStyle(
    "base", fontName=charts.FONT, fontSize=9, leading=12, textColor=charts.INK, alignment=TA_LEFT
)
SMALL = ParagraphStyle("small", parent=BASE, fontSize=7.5, leading=9.5, textColor=charts.MUTED)
TITLE = ParagraphStyle("title", parent=BASE, fontName=charts.BOLD, fontSize=17, leading=21)
H1 = ParagraphStyle(
    "h1",
    parent=BASE,
    fontName=charts.BOLD,
    fontSize=12,
    leading=15,
    spaceBefore=10,
    spaceAfter=4,
    textColor=charts.ACCENT,
)
H2 = ParagraphStyle(
    "h2", parent=BASE, fontName=charts.BOLD, fontSize=9.5, leading=12, spaceBefore=6, spaceAfter=3
)
CELL = ParagraphStyle("cell", parent=BASE, fontSize=7.5, leading=9)
VERDICT_COLOURS = {"better": "#2f855a", "worse": "#c2410c", "about the same": "#4a5568"}
#: Table columns of the results, at most this many metrics (the CSV has them all).
MAX_METRIC_COLUMNS = 5


def _p(text: str, style: ParagraphStyle = BASE) -> Paragraph:
    return Paragraph(text, style)


def _table(
    rows: list[list],
    widths: Sequence[float] | None = None,
    header_rows: int = 1,
    bold_rows: Sequence[int] = (),
) -> Table:
    """A light, zebra-striped table with a tinted header; cells may be strings or flowables."""
    cells = [
        [_p(escape(c) if isinstance(c, str) else c, CELL) if isinstance(c, str) else c for c in row]
        for row in rows
    ]
    t = Table(cells, colWidths=widths, repeatRows=header_rows, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.8, charts.ACCENT),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8f1f5")),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for r in range(header_rows, len(rows)):
        if (r - header_rows) % 2:
            style.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f6f8fa")))
    for r in bold_rows:
        style.append(("LINEABOVE", (0, r), (-1, r), 0.5, charts.GRID))
        style.append(("BACKGROUND", (0, r), (-1, r), colors.HexColor("#eef2f5")))
    t.setStyle(TableStyle(style))
    return t


def _verdict(text: str, verdict: str) -> str:
    return f'<font color="{VERDICT_COLOURS[verdict]}"><b>{escape(text)}</b></font>'


# --- summary ---------------------------------------------------------------------------------
def _header(report: SessionReport, width: float) -> list[Flowable]:
    s, p = report.session, report.patient
    when = f"{fmt.date(s.started)}, {fmt.clock(s.started)}" + (
        f" - {fmt.clock(s.ended)}" if s.ended else ""
    )
    details = [
        ("Patient", p.label()),
        ("Born / sex", " / ".join(x for x in (str(p.birth_year or ""), p.sex) if x) or "-"),
        ("Session", f"#{s.id}, {when}"),
        (report.clinic.provider_label, s.therapist or "-"),
        ("Station", s.station or "-"),
        ("Sessions so far", str(len(report.earlier) + 1)),
    ]
    rows = [[_p(f"<b>{k}</b>", CELL), _p(escape(v), CELL)] for k, v in details]
    half = (len(rows) + 1) // 2
    grid = [rows[i] + (rows[i + half] if i + half < len(rows) else ["", ""]) for i in range(half)]
    t = Table(grid, colWidths=[width * 0.14, width * 0.36] * 2, hAlign="LEFT")
    t.setStyle(
        TableStyle([("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)])
    )
    return [_p("Balance and proprioception report", TITLE), Spacer(1, 4), t, Spacer(1, 6)]


def _summary(report: SessionReport) -> list[Flowable]:
    s = report.session
    lines = []
    for name, conditions in exercise_groups(s).items():
        n = sum(len(c) for c in conditions)
        unit = "trial" if conditions[0][0].is_test else "set"
        lines.append(
            f"{escape(name)}: {fmt.plural(n, unit)} in {fmt.plural(len(conditions), 'condition')}."
        )
    prev = report.previous
    if prev is not None:
        changes = compare_sessions(s, prev)
        several = len({protocol for protocol, _ in changes}) > 1
        for (protocol, condition), by_metric in changes.items():
            # Training is judged by its score, tests by how fast the patient sways.
            order = (
                ("mean_velocity", "max_excursion_pct", "success_pct")
                if facts(protocol).is_test
                else ("success_pct", "time_in_target_pct", "mean_velocity")
            )
            name = next((n for n in order if n in by_metric), None)
            if name is None:
                continue
            c, metric = by_metric[name], KEY_BY_NAME[name]
            change = (
                "about the same as"
                if c.verdict == "about the same"
                else f"{abs(c.pct):.0f} % {'lower' if c.pct < 0 else 'higher'} than"
            )
            where = f"{facts(protocol).title}, {condition}" if several else condition.capitalize()
            lines.append(
                f"{escape(where)}: {metric.title.lower()} "
                f"{change} on {fmt.date(prev.started)} - " + _verdict(c.verdict, c.verdict) + "."
            )
    else:
        lines.append("This is the first recorded session: it is the baseline for later ones.")
    for t in s.trials:
        if not t.finished:
            lines.append(
                _verdict("Note: ", "worse") + f"trial {t.id} ({escape(t.condition)}) "
                f"{escape(stopped_early_text(t))}; it is listed but not averaged."
            )
    return [_p("Summary", H1)] + [_p("&bull; " + line) for line in lines]


# --- per protocol ------------------------------------------------------------------------------
def _metric_columns(trials: Sequence[TrialSummary]) -> list[str]:
    """The key metrics these trials have; for training, scores come before sway."""
    present = [m for m in KEY_METRICS if any(m.name in t.metrics for t in trials)]
    if not trials[0].is_test:
        present.sort(key=lambda m: m.better != HIGHER)
    return [m.name for m in present[:MAX_METRIC_COLUMNS]]


def _results_table(trials: Sequence[TrialSummary], width: float) -> Table:
    unit = trials[0].unit
    names = _metric_columns(trials)
    show_level = any(t.level is not None for t in trials)
    head = (
        ["Trial", "Condition", "Time", "Status"]
        + (["Level"] if show_level else [])
        + [
            f"{KEY_BY_NAME[n].title} ({metric_unit(KEY_BY_NAME[n], unit)})".replace(" ()", "")
            for n in names
        ]
    )
    rows = [head]
    for t in trials:
        status = (
            "complete"
            if t.finished
            else _verdict(
                f"stopped early ({fmt.duration(t.duration_s)}"
                + (f" of {fmt.duration(t.planned_s)}" if t.planned_s else "")
                + ")",
                "worse",
            )
        )
        rows.append(
            [str(t.id), t.condition, fmt.clock(t.started), _p(status, CELL)]
            + ([str(t.level) if t.level is not None else "-"] if show_level else [])
            + [fmt.number(t.metrics.get(n)) for n in names]
        )
    bold = []
    means = condition_means(trials)
    for (_, condition), m in means.items():
        n = sum(1 for t in trials if t.finished and t.condition == condition)
        if n > 1:
            bold.append(len(rows))
            rows.append(
                ["mean", condition, f"n = {n}", ""]
                + ([""] if show_level else [])
                + [fmt.number(m.get(k)) for k in names]
            )
    fixed = [0.06, 0.2, 0.07, 0.15] + ([0.06] if show_level else [])
    rest = (1 - sum(fixed)) / max(len(names), 1)
    return _table(rows, [width * f for f in fixed + [rest] * len(names)], bold_rows=bold)


def _ratios(block: ProtocolBlock, width: float) -> list[Flowable]:
    """The protocol's sensory ratios as numbers (no reading is added: docs/reports.md)."""
    if not block.sensory_ratios:
        return []
    rows = [["Sensory ratio (mean sway velocity)", "Formed as", "Value"]]
    for name, value in block.sensory_ratios.items():
        rows.append([RATIO_TITLES[name], RATIO_FORMULAS[name], ratio(value)])
    return [_p("Sensory ratios", H2), _table(rows, [width * 0.55, width * 0.3, width * 0.15])]


def _conditions(block: ProtocolBlock, width: float) -> list[Flowable]:
    """Per condition: trials, falls and the mean sway velocity of those held to the end."""
    if not block.conditions:
        return []
    rows = [["Condition", "Trials", "Falls", "Mean sway velocity"]]
    for c in block.conditions.values():
        rows.append(
            [
                c.label,
                str(c.trials),
                str(c.falls),
                _p(escape(mean_sway_velocity(c)), CELL),
            ]
        )
    for side, (best, held) in block.single_leg.items():
        rows.append(
            [f"single-leg {side}", "", "", _p(escape("best " + single_leg_time(best, held)), CELL)]
        )
    return [
        _p("Results per condition", H2),
        _table(rows, [width * 0.4, width * 0.15, width * 0.15, width * 0.3]),
    ]


def _training(block: ProtocolBlock) -> list[Flowable]:
    if block.training is None:
        return []
    lines = [training_line(block.training), progression_line(block.training)]
    return [_p("Training results", H2)] + [_p(escape(line)) for line in lines if line]


def _statokinesigrams(trials: Sequence[TrialSummary], width: float) -> list[Flowable]:
    """Sway paths of the standing trials (a target or LOS trace is not a sway measure)."""
    shown = [
        t
        for t in trials
        if t.standing and (t.xy is not None or "ellipse_major_95_chi2" in t.metrics)
    ]
    if not shown:
        return []
    limit = charts.sway_limit([t.xy for t in shown], [t.metrics for t in shown])
    per_row = 3
    size = width / per_row - 4
    drawings = [
        charts.statokinesigram(
            t.xy,
            t.metrics,
            f"Trial {t.id}: {t.condition}",
            limit,
            t.unit,
            size,
            partial=not t.finished,
        )
        for t in shown
    ]
    rows = [drawings[i : i + per_row] for i in range(0, len(drawings), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    grid = Table(rows, colWidths=[width / per_row] * per_row, hAlign="LEFT")
    grid.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    caption = _p(
        "Sway path seen from above (statokinesigram) with its 95 % prediction ellipse "
        "(chi-square, 2 degrees of freedom), all on the same scale.",
        SMALL,
    )
    return [CondPageBreak(size + 60), _p("Sway paths", H2), caption, Spacer(1, 3), grid]


def _los(block: ProtocolBlock, width: float) -> list[Flowable]:
    """The Limits of Stability: the radar, and beside it the scores per direction and composite."""
    if block.los is None:
        return []
    unit = block.trials[0].unit
    radar = charts.los_radar(
        {
            d: {k: getattr(v, k) for k in LosScores.FIELDS}
            for d, v in block.los.per_direction.items()
        },
        f"Trial {block.los_trial} (% of the target distance)",
        size=200,
    )
    rows = [["Dir.", *(t.replace("(L/s)", f"({unit}/s)") for t in LOS_TITLES)]]
    for d in LOS_DIRECTIONS:
        if d in block.los.per_direction:
            rows.append([d, *los_values(block.los.per_direction[d])])
    rows.append(["composite", *los_values(block.los.composite)])
    side = width - 215
    table = _table(rows, [side * 0.2] + [side * 0.16] * 5, bold_rows=[len(rows) - 1])
    pair = Table([[radar, table]], colWidths=[215, side], hAlign="LEFT")
    pair.setStyle(
        TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    return [KeepTogether([_p("Limits of Stability by direction", H2), pair])]


def _reposition(block: ProtocolBlock, width: float) -> list[Flowable]:
    """The joint-position test: absolute, constant and variable error per direction."""
    r = block.reposition
    if r is None:
        return []
    unit = r.unit or block.trials[0].unit
    rows = [["Dir.", *(t.replace("(L)", f"({unit})") for t in REPOSITION_TITLES), "Reproductions"]]
    named = [d for d in LOS_DIRECTIONS if d in r.per_direction]
    for name, scores in [*((d, r.per_direction[d]) for d in named), ("composite", r.composite)]:
        rows.append([name, *reposition_values(scores), str(scores.n)])
    table = _table(rows, [width * 0.16] + [width * 0.21] * 4, bold_rows=[len(rows) - 1])
    caption = _p(
        f"Trial {block.reposition_trial}: each position shown, held, then reproduced with the "
        "eyes closed. Constant error < 0: undershoot; variable error: spread about the mean "
        "(Schmidt & Lee; see docs/metrics.md).",
        SMALL,
    )
    return [KeepTogether([_p("Joint-position sense by direction", H2), caption, table])]


def _protocol_sections(report: SessionReport, width: float) -> list[Flowable]:
    out: list[Flowable] = []
    for block in report.session.blocks:
        trials = block.trials
        objective = trials[0].objective_text()
        kind = block.facts.kind if block.facts.kind in ("test", "training") else ""
        out += [_p(escape(block.title) + (f" ({kind})" if kind else ""), H1)]
        if objective:
            out.append(_p(f"Objective: {escape(objective)}.", SMALL))
        out += [Spacer(1, 3), _results_table(trials, width)]
        out += _conditions(block, width) + _ratios(block, width) + _los(block, width)
        out += _reposition(block, width)
        out += _training(block) + _statokinesigrams(trials, width)
    return out


# --- across sessions ---------------------------------------------------------------------------
def _comparison(report: SessionReport, width: float) -> list[Flowable]:
    prev, base = report.previous, report.baseline
    if prev is None:
        return []
    vs_prev = compare_sessions(report.session, prev)
    vs_base = compare_sessions(report.session, base) if base is not prev else {}
    unit = report.session.trials[0].unit if report.session.trials else "mm"
    head = ["Condition", "Measure", "Today", f"Previous ({fmt.date(prev.started)})", "Change"]
    if vs_base:
        head += [f"Baseline ({fmt.date(base.started)})", "Change"]
    rows, sections_at, protocol = [head], [], None
    for key, by_metric in vs_prev.items():
        if key[0] != protocol:
            protocol = key[0]
            sections_at.append(len(rows))
            rows.append(
                [_p(f"<b>{escape(facts(protocol).title)}</b>", CELL)] + [""] * (len(head) - 1)
            )
        for name, c in by_metric.items():
            metric = KEY_BY_NAME[name]
            row = [
                key[1],
                f"{metric.title} ({metric_unit(metric, unit)})".replace(" ()", ""),
                fmt.number(c.now),
                fmt.number(c.before),
                _p(_verdict(c.text(), c.verdict), CELL),
            ]
            if vs_base:
                b = vs_base.get(key, {}).get(name)
                row += (
                    [fmt.number(b.before), _p(_verdict(b.text(), b.verdict), CELL)]
                    if b
                    else ["-", "-"]
                )
            rows.append(row)
    if len(rows) == 1:
        return []
    widths = [0.17, 0.23, 0.09, 0.12, 0.12] + ([0.12, 0.15] if vs_base else [])
    scale = 1 / sum(widths)
    note = _p(
        "For sway measures lower is better (steadier); for scores, time in target and "
        "excursions higher is better. Changes under 5 % are reported as about the same.",
        SMALL,
    )
    table = _table(rows, [width * w * scale for w in widths], bold_rows=sections_at)
    table.setStyle(TableStyle([("SPAN", (0, r), (-1, r)) for r in sections_at]))
    return [_p("Compared with earlier sessions", H1), table, note]


def _progress(report: SessionReport, width: float) -> list[Flowable]:
    """Per protocol, the headline metrics across the sessions that have them (a line per condition)."""
    history = [s for s in report.history if s.trials]
    if len(history) < 2:
        return []
    unit = report.session.trials[0].unit if report.session.trials else "mm"
    dates = [fmt.date(s.started)[5:] for s in history]
    drawings = []
    protocols = dict.fromkeys(t.protocol for s in history for t in s.trials)
    for protocol in protocols:
        names = headline_metrics(t for s in history for t in s.trials if t.protocol == protocol)
        for name in names:
            series = _series(history, protocol, name)
            if any(sum(math.isfinite(v) for v in vals) > 1 for vals in series.values()):
                metric = KEY_BY_NAME[name]
                drawings.append(
                    charts.progress_chart(
                        dates,
                        series,
                        f"{facts(protocol).title}: {metric.title.lower()}",
                        metric_unit(metric, unit),
                        metric.better,
                        width / 2 - 6,
                        150,
                    )
                )
    if not drawings:
        return []
    rows = [
        drawings[i : i + 2] + [""] * (2 - len(drawings[i : i + 2]))
        for i in range(0, len(drawings), 2)
    ]
    grid = Table(rows, colWidths=[width / 2] * 2, hAlign="LEFT")
    return [
        CondPageBreak(200),
        _p("Progress across sessions", H1),
        grid,
        _p("Each point is the mean of the completed trials of that condition on that day.", SMALL),
    ]


def _series(
    history: Sequence[SessionSummary], protocol: str, metric: str
) -> dict[str, list[float]]:
    """Condition -> the mean of ``metric`` per session (NaN where not measured)."""
    per_session = [
        {k[1]: v for k, v in session_means(s, metric).items() if k[0] == protocol} for s in history
    ]
    conditions = list(dict.fromkeys(c for m in per_session for c in m))
    return {c: [m.get(c, math.nan) for m in per_session] for c in conditions}


# --- for the record ----------------------------------------------------------------------------
def _record(report: SessionReport, width: float) -> list[Flowable]:
    s = report.session
    m = timed_minutes(s, report.units_rule, report.max_gap_instruction_s, report.count_pauses)
    cues = [
        f"{escape(c.text)} ({escape(cue_type_text(c))}, trial {t.id})"
        for t in s.trials
        for c in t.cues
    ]
    rows = [
        [
            "Timed minutes (CPT 97112)",
            f"{m.minutes} min: trials {fmt.duration(m.trial_s)} recorded + instruction "
            f"{fmt.duration(m.instruction_s)}"
            + (
                f", capped to the recorded visit span of {fmt.duration(m.span_s)}"
                if m.capped
                else ""
            ),
        ],
        ["Units billed", f"{m.units} ({m.rule.title})"],
        ["Pain (0-10)", f"{fmt.score(s.pain_before)} before, {fmt.score(s.pain_after)} after"],
        [
            "Perceived exertion (Borg)",
            f"{fmt.score(s.borg_before)} before, {fmt.score(s.borg_after)} after",
        ],
        ["Response to treatment", _p(escape(s.response.strip() or "not recorded"), CELL)],
        ["Cues given", _p("; ".join(cues) or "none logged", CELL)],
    ]
    notes = ([f"Session: {s.notes.strip()}"] if s.notes.strip() else []) + [
        f"Trial {t.id} ({t.exercise_label()}, {t.condition}): {t.notes.strip()}"
        for t in s.trials
        if t.notes.strip()
    ]
    if notes:
        rows.append(
            [
                f"{report.clinic.provider_label}'s notes",
                _p("<br/>".join(escape(n) for n in notes), CELL),
            ]
        )
    if s.overlaps:
        ids = ", ".join(f"#{i}" for i in s.overlaps)
        rows.append(
            [
                "Attention",
                _p(
                    _verdict(f"overlaps in time with session {ids} of the same patient", "worse")
                    + ": check the times before billing.",
                    CELL,
                ),
            ]
        )
    t = _table([["For the medical record", ""]] + rows, [width * 0.28, width * 0.72])
    t.setStyle(TableStyle([("SPAN", (0, 0), (1, 0))]))
    return [KeepTogether([_p("Session details", H1), t, *_signature(report)])]


def _signature(report: SessionReport) -> list[Flowable]:
    """The signature (or blank lines for one), then the addenda, dated, in order."""
    sig = report.signature
    if sig is None:
        return [
            _p(
                "<br/><br/>Signature: ______________________________ &nbsp;&nbsp;&nbsp; "
                "Date: ______________",
                BASE,
            )
        ]
    out = [_p("<br/>" + escape(pdf_signature_line(sig)), BASE)]
    if not sig.intact:
        out.append(_tampered(report))
    for addendum in report.addenda:
        out += [
            _p(f"<b>{escape(addendum_heading(addendum))}</b>", BASE),
            _p(escape(addendum.text).replace("\n", "<br/>"), CELL),
        ]
    return out


def _tampered(report: SessionReport) -> Flowable:
    return _p(_verdict(tampered_line(report.signature), "worse"), BASE)


def story(report: SessionReport, width: float) -> list[Flowable]:
    """Every flowable of the report, in order."""
    warning = [] if report.signature is None or report.signature.intact else [_tampered(report)]
    return (
        warning
        + _header(report, width)
        + _summary(report)
        + _protocol_sections(report, width)
        + _comparison(report, width)
        + _progress(report, width)
        + _record(report, width)
    )
