"""Where a protocol run stands, for the therapist: step i of n, phase and time left, each trial's
outcome as it is scored (or why it was not), and the protocol's results at the end.

Fed from the engine's replies (``protocol_started``, ``protocol_display``, ``protocol_event``,
``protocol_done``); it only shows, never decides. The results at the end are the stored
record's (:func:`nmr_balance.summary.protocol_block` of the trials just recorded, in the note's
words), so the panel cannot disagree with the note, the PDF or the CSV.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from nmr_balance.engine.messages import ProtocolDone
from nmr_balance.protocols.run import TrialResult
from nmr_balance.record import TrialStatus
from nmr_balance.reporting.results_text import (
    los_values,
    mean_sway_velocity,
    progression_line,
    protocol_trial_line,
    ratio_lines,
    reposition_values,
    single_leg_line,
    training_line,
)
from nmr_balance.results import LOS_DIRECTIONS, LosResult, RepositionResult
from nmr_balance.summary import ProtocolBlock
from ui import theme

PHASES = {
    "waiting": "waiting for samples",
    "countdown": "get ready",
    "trial": "recording",
    "rest": "rest",
    "paused": "paused: waiting for the device",
    "done": "done",
    "aborted": "aborted",
}
#: Summary kinds of the standing (sensory) tests: no targets, a fixation cross.
SENSORY_KINDS = ("mctsib", "romberg", "single_leg")
#: LOS directions by bearing (deg), as a compass rose (F = forward).
DIRECTIONS = {0: "F", 45: "FR", 90: "R", 135: "BR", 180: "B", 225: "BL", 270: "L", 315: "FL"}
#: LOS table columns: score key, header, unit ("L" = the sway unit), significant digits.
LOS_COLUMNS = (
    ("reaction_time_s", "RT", "s", 2),
    ("movement_velocity", "MVL", "L/s", 3),
    ("endpoint_excursion_pct", "EPE", "%", 3),
    ("max_excursion_pct", "MXE", "%", 3),
    ("directional_control_pct", "DCL", "%", 2),
)


def _table(header: list[str], rows: list[list]) -> str:
    """A rich-text table; a cell given as ``(text, n)`` spans ``n`` columns."""
    head = "".join(f"<th align='left'>{h}&nbsp;</th>" for h in header)

    def cell(c) -> str:
        if isinstance(c, tuple):
            return f"<td colspan='{c[1]}'>{c[0]}&nbsp;</td>"
        return f"<td>{c}&nbsp;</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table cellspacing='0' cellpadding='1'><tr>{head}</tr>{body}</table>"


def time_left_text(d: dict[str, Any]) -> str:
    """The time left of a :meth:`ProtocolRun.display` snapshot, for the therapist: a countdown
    where the phase lasts a set time; for a trial that ends on its own, what it counts (the
    target shown and its time left) or the most it may still last, never a countdown it does
    not keep."""
    if "target_number" in d:
        return (
            f", target {d['target_number']} of {d['target_count']} "
            f"({math.ceil(d['target_left_s'])} s left for it)"
        )
    if "up_to_s" in d:
        return f", up to {math.ceil(d['up_to_s'])} s left"
    if "remaining_s" in d:
        return f", {math.ceil(d['remaining_s'])} s left"
    return ""


def block_html(block: ProtocolBlock, unit: str) -> str:
    """The protocol's results as a clinician reads them (rich text), from the stored record's one
    summary (:func:`nmr_balance.summary.protocol_block`) and in the note's words
    (:mod:`nmr_balance.reporting.results_text`): a table per condition (standing tests), the
    sensory ratios, per leg, per direction (LOS), joint-position errors, training. Formats only:
    every number is the stored summary's, rounded as the note and the PDF round it."""
    out: list[str] = []
    if block.conditions:
        rows = [
            [
                escape(c.label),
                escape(mean_sway_velocity(c)),
                f"{c.falls} of {c.trials}",
            ]
            for c in block.conditions.values()
        ]
        out.append(_table(["condition", "mean sway velocity", "falls"], rows))
    if block.sensory_ratios:
        out.append("Sensory ratios of mean sway velocity:")
        out += [escape(line) for line in ratio_lines(block)]
    out += [escape(single_leg_line(s, b, h)) for s, (b, h) in block.single_leg.items()]
    if block.los is not None:
        out.append(los_table(block.los, unit))
    if block.reposition is not None:
        out.append(reposition_table(block.reposition, unit))
    if block.training is not None:
        out += [escape(line) for line in (training_line(block.training),) if line]
        if progression_line(block.training):
            out.append(escape(progression_line(block.training)))
    interrupted = sum(t.status == TrialStatus.INTERRUPTED for t in block.trials)
    if interrupted:
        out.append(f"{interrupted} trial(s) interrupted: kept, not scored")
    return "<br>".join(out)


def los_table(los: LosResult, unit: str) -> str:
    """Per-direction LOS scores, one row per direction, and the composite, from the stored
    typed results (:class:`nmr_balance.results.LosResult`), rounded as the note and the PDF
    round them (:func:`nmr_balance.reporting.results_text.los_values`); a direction without a
    lean says "no movement detected" instead of timing scores."""
    header = ["dir"] + [f"{h}<br>{u.replace('L', unit)}" for _, h, u, _ in LOS_COLUMNS]
    rows = []
    for name in LOS_DIRECTIONS:
        scores = los.per_direction.get(name)
        if scores is None:
            continue
        values = los_values(scores)
        if scores.movement_detected is False:
            rows.append([name, ("<i>no movement detected</i>", 3), values[3], ""])
        else:
            rows.append([name, *values])
    rows.append(["<b>all</b>"] + [f"<b>{v}</b>" for v in los_values(los.composite)])
    legend = (
        "RT reaction time, MVL movement velocity, EPE endpoint and MXE maximum excursion "
        "(% of the target), DCL directional control; all: mean of the directions with a lean"
    )
    return _table(header, rows) + f"<small>{legend}</small>"


def reposition_table(r: RepositionResult, unit: str) -> str:
    """Joint-position errors, one row per direction and the composite, from the stored typed
    results (in their own unit, else ``unit``), rounded as the note and the PDF round them
    (:func:`nmr_balance.reporting.results_text.reposition_values`)."""
    unit = r.unit or unit
    header = ["dir"] + [f"{h}<br>{unit}" for h in ("AE", "CE", "VE")] + ["n"]
    rows = [
        [name, *reposition_values(r.per_direction[name]), r.per_direction[name].n]
        for name in LOS_DIRECTIONS
        if name in r.per_direction
    ]
    rows.append(
        ["<b>all</b>"] + [f"<b>{v}</b>" for v in (*reposition_values(r.composite), r.composite.n)]
    )
    legend = (
        "reproducing a position with the eyes closed: AE absolute error, CE constant error "
        "(&lt; 0 undershoot), VE variable error, n reproductions; all: mean of the directions"
    )
    return _table(header, rows) + f"<small>{legend}</small>"


def los_polygon(los: LosResult) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) of the reached LOS polygon in % of each target (closed; F up, R right), or None.
    A direction without a finite maximum excursion is drawn at 0."""
    names = [d for d in LOS_DIRECTIONS if d in los.per_direction]
    if not names:
        return None
    b = np.radians([45.0 * LOS_DIRECTIONS.index(d) for d in names])
    r = np.array([los.per_direction[d].max_excursion_pct for d in names], float)
    r = np.where(np.isfinite(r), r, 0.0)
    x, y = r * np.sin(b), r * np.cos(b)
    return np.append(x, x[0]), np.append(y, y[0])


class LosPolygon(pg.PlotWidget):
    """The reached LOS as a polygon, in % of each direction's target (the ring at 100 % is the
    targets), forward up and right to the right, as the patient faces the screen."""

    def __init__(self):
        super().__init__()
        item = self.getPlotItem()
        item.setAspectLocked(True)
        item.setMenuEnabled(False)
        item.setMouseEnabled(x=False, y=False)
        item.hideButtons()
        item.hideAxis("left")
        item.hideAxis("bottom")
        a = np.linspace(0, 2 * np.pi, 73)
        for r, alpha in ((100, 255), (50, 90)):
            item.addItem(
                pg.PlotDataItem(
                    r * np.sin(a), r * np.cos(a), pen=theme.pen(theme.CONSOLE["muted"], alpha)
                )
            )
        for bearing, name in DIRECTIONS.items():
            b = math.radians(bearing)
            label = pg.TextItem(name, color=theme.CONSOLE["muted"], anchor=(0.5, 0.5))
            label.setPos(118 * math.sin(b), 118 * math.cos(b))
            item.addItem(label)
        self.reached = pg.PlotDataItem(
            pen=theme.pen(theme.CONSOLE["trace"]),
            symbol="o",
            symbolSize=5,
            symbolBrush=theme.CONSOLE["trace"],
            fillLevel=None,
        )
        item.addItem(self.reached)
        item.setRange(xRange=(-130, 130), yRange=(-130, 130), padding=0)
        self.setFixedHeight(200)

    def show_los(self, los: LosResult) -> None:
        xy = los_polygon(los)
        self.reached.setData(*(xy if xy is not None else ([], [])))


class ProtocolProgress(QtWidgets.QGroupBox):
    """The run's progress panel (hidden until a protocol starts)."""

    def __init__(self):
        super().__init__("Protocol")
        self.unit = "mm"
        self.level: int | None = None  # the run's (1-based; None for a test)
        self.title = QtWidgets.QLabel("")
        self.title.setWordWrap(True)
        self.step = QtWidgets.QLabel("", objectName="countdown")
        self.step.setWordWrap(True)
        self.results = QtWidgets.QListWidget()  # one line per trial: "1. stand: complete, ..."
        self.results.setWordWrap(True)
        self.results.setFixedHeight(self._list_height(0))
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(QtCore.Qt.RichText)
        self.polygon = LosPolygon()
        self.polygon.hide()
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.title, self.step, self.results, self.summary, self.polygon):
            layout.addWidget(w)
        self.n_trials = 0
        self.hide()

    def _list_height(self, rows: int) -> int:
        """Height of the results list for ``rows`` lines (2-5 shown; more scroll), px: the
        summary below is what matters once the run ends."""
        line = self.results.fontMetrics().lineSpacing() + 4
        return 2 * self.results.frameWidth() + 4 + line * min(max(rows, 2), 5)

    def started(self, facts: dict[str, Any]) -> None:
        self.n_trials = facts.get("n_trials", 0)
        self.unit = facts.get("unit", self.unit)
        self.level = facts.get("level")
        level = f", level {facts['level']}" if facts.get("levels") else ""
        why = f" ({facts['level_reason']})" if facts.get("level_reason") else ""
        origin = {"theoretical": "theoretical LOS (from height)", "measured": "measured LOS"}
        where = origin.get(facts.get("los_origin"), facts.get("los_origin", ""))
        targets = facts.get("summary_kind") not in SENSORY_KINDS  # standing tests show no targets
        self.title.setText(
            f"<b>{facts.get('title', '')}</b>{level}{why}"
            + (f"<br>targets placed on the {where}" if targets and where else "")
        )
        self.step.setText("starting\u2026")
        self.results.clear()
        self.results.setFixedHeight(self._list_height(0))
        self.summary.setText("")
        self.polygon.hide()
        self.show()

    def show_display(self, d: dict[str, Any]) -> None:
        phase = d.get("phase", "")
        text = PHASES.get(phase, phase)
        if phase not in ("done", "aborted") and "trial" in d:
            text = f"step {d['trial'] + 1} of {d['of']}: {d.get('label') or ''} \u2014 {text}"
        text += time_left_text(d)
        self.step.setText(text)

    def on_event(self, e: dict[str, Any]) -> None:
        kind, data = e["kind"], e["data"]
        if kind in ("trial_done", "trial_interrupted"):
            # the line `nmr-balance run` prints: the trial's typed results, in the note's words
            result = TrialResult.from_dict(data["result"])
            self.results.addItem(protocol_trial_line(result, self.level, self.unit))
            self.results.setFixedHeight(self._list_height(self.results.count()))
            self.results.scrollToBottom()

    def done(self, msg: ProtocolDone, block: ProtocolBlock | None, missing: str = "") -> None:
        """The run ended: its stored results (``block``, the record's one summary of the trials
        just recorded), or ``missing`` saying why there are none to show."""
        n = len(msg.trial_ids)
        head = "finished" if msg.phase == "done" else "aborted"
        lines = [f"<b>{head}</b>: {n} trial(s) recorded"]
        if block is not None:
            lines.append(block_html(block, self.unit))
        elif missing:
            lines.append(f"<i>{escape(missing)}</i>")
        if msg.los_path:
            lines.append("measured LOS stored for this patient's next runs")
        self.summary.setText("<br>".join(lines))
        self.step.setText(PHASES.get(msg.phase, msg.phase))
        los = block.los if block is not None else None
        self.polygon.setVisible(los is not None and bool(los.per_direction))
        if los is not None and los.per_direction:
            self.polygon.show_los(los)


__all__ = [
    "SENSORY_KINDS",
    "ProtocolProgress",
    "block_html",
    "los_polygon",
    "los_table",
    "reposition_table",
]
