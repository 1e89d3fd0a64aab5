"""Where a protocol run stands, for the therapist: step i of n, phase and time left, each trial's
outcome as it is scored (or why it was not), and the protocol's summary at the end.

Fed from the engine's replies (``protocol_started``, ``protocol_display``, ``protocol_event``,
``protocol_done``); it only shows, never decides.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from nmr_balance.engine.messages import ProtocolDone
from nmr_balance.reporting import fmt
from nmr_balance.reporting.results_text import los_values, ratio, reposition_values
from nmr_balance.results import LOS_DIRECTIONS, LosResult, RepositionResult
from ui import theme

#: Scores shown in the results list, first found wins (the rest are in the store): key, label,
#: unit ("L" = the sway unit), significant digits.
KEY_SCORES = (
    ("success_pct", "success", "%", 3),
    ("hits", "hits", "", 3),
    ("mean_velocity", "mean velocity", "L/s", 3),
    ("time_standing_s", "stood", "s", 3),
    ("time_to_loss_s", "balance lost after", "s", 3),
    ("composite_score", "score", "", 3),
    ("tracking_rms", "tracking error", "L", 3),
    ("circles", "circles", "", 3),
    ("ellipse_area_95_chi2", "95 % ellipse area", "L\u00b2", 3),
)

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
#: mCTSIB conditions (summary keys), in test order, as a therapist names them.
CONDITIONS = {
    "open_firm": "eyes open, firm",
    "closed_firm": "eyes closed, firm",
    "open_foam": "eyes open, foam",
    "closed_foam": "eyes closed, foam",
}
SENSORY_RATIOS = {
    "somatosensory": "somatosensory (EC firm / EO firm)",
    "visual": "visual (EO foam / EO firm)",
    "vestibular": "vestibular (EC foam / EO firm)",
}
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


def _number(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def _fmt(v: Any, unit: str = "", digits: int = 3) -> str:
    """A number with its unit (``"10.3 mm/s"``), ``"--"`` when it is missing or not finite."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return "--"
    text = fmt.number(v, digits) if isinstance(v, float) else str(v)
    return f"{text} {unit}".strip() if unit != "%" else f"{text} %"


def key_scores(scores: dict[str, Any], unit: str = "mm", n: int = 2) -> str:
    """The first ``n`` of :data:`KEY_SCORES` present in ``scores``, with units."""
    shown = [
        f"{label} {_fmt(scores[k], u.replace('L', unit), d)}"
        for k, label, u, d in KEY_SCORES
        if k in scores
    ]
    return ", ".join(shown[:n])


def _table(header: list[str], rows: list[list]) -> str:
    """A rich-text table; a cell given as ``(text, n)`` spans ``n`` columns."""
    head = "".join(f"<th align='left'>{h}&nbsp;</th>" for h in header)

    def cell(c) -> str:
        if isinstance(c, tuple):
            return f"<td colspan='{c[1]}'>{c[0]}&nbsp;</td>"
        return f"<td>{c}&nbsp;</td>"

    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table cellspacing='0' cellpadding='1'><tr>{head}</tr>{body}</table>"


def summary_html(summary: dict[str, Any], unit: str) -> str:
    """The protocol summary as a clinician reads it (rich text), by kind: a table per condition
    (mCTSIB), the quotients (Romberg), per leg (single-leg), per direction (LOS), per trial
    (training). Formats only: every number is the run's own."""
    kind = summary.get("kind")
    v_unit = f"{unit}/s"
    out: list[str] = []
    if kind == "mctsib":
        rows = []
        for key, label in CONDITIONS.items():
            c = summary.get("conditions", {}).get(key)
            if c is None:
                continue
            falls = c.get("falls", 0)
            rows.append(
                [
                    label,
                    "fell" if c.get("fell") else _fmt(c.get("mean_velocity"), v_unit),
                    f"{c.get('trials', 0)}"
                    + (f" ({falls} fall{'s' * (falls != 1)})" if falls else ""),
                ]
            )
        out.append(_table(["condition", "mean velocity", "trials"], rows))
        out.append(f"composite: mean velocity {_fmt(summary.get('composite_velocity'), v_unit)}")
        ratios = summary.get("ratios") or {}
        shown = [
            f"{label} {ratio(_number(ratios[k].get('mean_velocity')))}"
            for k, label in SENSORY_RATIOS.items()
            if k in ratios
        ]
        if shown:
            out.append("sensory ratios of mean velocity: " + "; ".join(shown))
    elif kind == "romberg":
        eo, ec, q = (
            summary.get("eyes_open", {}),
            summary.get("eyes_closed", {}),
            summary.get("quotients", {}),
        )
        rows = [
            [label, _fmt(eo.get(k), u), _fmt(ec.get(k), u), ratio(_number(q.get(k)))]
            for k, label, u in (
                ("mean_velocity", "mean velocity", v_unit),
                ("ellipse_area_95_chi2", "95 % ellipse area", f"{unit}\u00b2"),
                ("path_length", "path length", unit),
            )
        ]
        out.append(_table(["", "eyes open", "eyes closed", "Romberg quotient"], rows))
    elif kind == "single_leg":
        rows = [
            [
                side,
                _fmt(leg.get("best_time_s"), "s"),
                "yes" if leg.get("held_full_time") else "no",
                _fmt(leg.get("mean_velocity"), v_unit),
            ]
            for side, leg in (summary.get("legs") or {}).items()
        ]
        out.append(_table(["leg", "best time", "held to the end", "mean velocity"], rows))
        if "left_right_time_ratio" in summary:
            out.append(f"left/right time ratio {_fmt(summary['left_right_time_ratio'], '', 3)}")
    elif kind == "los":
        out.append(los_table(summary, unit))
        if summary.get("measured_los_note"):
            out.append(f"measured LOS {summary['measured_los_note']}")
    elif kind == "reposition":
        scored = bool(summary.get("per_direction"))
        out.append(reposition_table(summary, unit) if scored else "no reproduction scored")
    elif kind == "training":
        per_trial = ", ".join(_fmt(v, "%") for v in summary.get("success_pct", []))
        out.append(f"success per trial: {per_trial or '--'}")
        out.append(f"mean success {_fmt(summary.get('mean_success_pct'), '%')}")
        if "next_level" in summary:
            out.append(
                f"next time: level {summary['next_level']}"  # levels are 1-based
                + (f" ({summary['progression']})" if summary.get("progression") else "")
            )
    if summary.get("interrupted"):
        out.append(f"{summary['interrupted']} trial(s) interrupted: kept, not scored")
    return "<br>".join(out)


def los_table(summary: dict[str, Any], unit: str) -> str:
    """Per-direction LOS scores, one row per direction, and the composite, read as the stored
    typed results (:class:`nmr_balance.results.LosResult`) and rounded as the note and the PDF
    round them (:func:`nmr_balance.reporting.results_text.los_values`); a direction without a
    lean says "no movement detected" instead of timing scores."""
    los = LosResult.from_dict(summary)
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
    if summary.get("composite"):
        rows.append(["<b>all</b>"] + [f"<b>{v}</b>" for v in los_values(los.composite)])
    legend = (
        "RT reaction time, MVL movement velocity, EPE endpoint and MXE maximum excursion "
        "(% of the target), DCL directional control; all: mean of the directions with a lean"
    )
    return _table(header, rows) + f"<small>{legend}</small>"


def reposition_table(summary: dict[str, Any], unit: str) -> str:
    """Joint-position errors, one row per direction and the composite, read as the stored typed
    results (:class:`nmr_balance.results.RepositionResult`, in its own unit, else ``unit``) and
    rounded as the note and the PDF round them
    (:func:`nmr_balance.reporting.results_text.reposition_values`)."""
    r = RepositionResult.from_dict(summary)
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


def los_polygon(summary: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) of the reached LOS polygon in % of each target (closed; F up, R right), or None.
    A direction without a finite maximum excursion is drawn at 0."""
    per = summary.get("per_direction") or []
    if not per:
        return None
    b = np.radians([d["bearing_deg"] for d in per])
    r = np.array([d.get("max_excursion_pct", math.nan) for d in per], float)
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

    def show_summary(self, summary: dict[str, Any]) -> None:
        xy = los_polygon(summary)
        self.reached.setData(*(xy if xy is not None else ([], [])))


class ProtocolProgress(QtWidgets.QGroupBox):
    """The run's progress panel (hidden until a protocol starts)."""

    def __init__(self):
        super().__init__("Protocol")
        self.unit = "mm"
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
        if "remaining_s" in d:
            text += f", {math.ceil(d['remaining_s'])} s left"
        self.step.setText(text)

    def on_event(self, e: dict[str, Any]) -> None:
        kind, data = e["kind"], e["data"]
        if kind in ("trial_done", "trial_interrupted"):
            r = data["result"]
            status = r["status"].replace("_", " ")
            status += f": {data['reason']}" if kind == "trial_interrupted" else ""
            scores = key_scores(r.get("scores") or {}, self.unit)
            self.results.addItem(
                f"{r['number'] + 1}. {r.get('label') or r.get('task', '')}: {status}"
                + (f" \u2014 {scores}" if scores else "")
            )
            self.results.setFixedHeight(self._list_height(self.results.count()))
            self.results.scrollToBottom()

    def done(self, msg: ProtocolDone) -> None:
        n = len(msg.trial_ids)
        head = "finished" if msg.phase == "done" else "aborted"
        summary = msg.summary or {}
        lines = [f"<b>{head}</b>: {n} trial(s) recorded"]
        if summary:
            lines.append(summary_html(summary, self.unit))
        if msg.los_path:
            lines.append("measured LOS stored for this patient's next runs")
        self.summary.setText("<br>".join(lines))
        self.step.setText(PHASES.get(msg.phase, msg.phase))
        self.polygon.setVisible(summary.get("kind") == "los" and bool(summary.get("per_direction")))
        if self.polygon.isVisibleTo(self):
            self.polygon.show_summary(summary)


__all__ = [
    "SENSORY_KINDS",
    "ProtocolProgress",
    "key_scores",
    "los_polygon",
    "los_table",
    "reposition_table",
    "summary_html",
]
