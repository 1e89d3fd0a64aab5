"""Where a protocol run stands, for the therapist: step i of n, phase and time left, each trial's
outcome as it is scored (or why it was not), and the protocol's summary at the end.

Fed from the engine's replies (``protocol_started``, ``protocol_display``, ``protocol_event``,
``protocol_done``); it only shows, never decides.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6 import QtWidgets

from nmr_balance.engine.messages import ProtocolDone

#: Scores shown in the results table, first found wins (the rest are in the store).
KEY_SCORES = (
    "success_pct",
    "hits",
    "mean_velocity",
    "time_to_loss_s",
    "composite_score",
    "tracking_error",
    "repetitions",
    "ellipse_area_95",
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


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "--" if not math.isfinite(v) else f"{v:.3g}"
    return str(v)


def key_scores(scores: dict[str, Any], n: int = 2) -> str:
    """The first ``n`` of :data:`KEY_SCORES` present in ``scores``, as text."""
    shown = [f"{k.replace('_', ' ')} {_fmt(scores[k])}" for k in KEY_SCORES if k in scores]
    return ", ".join(shown[:n])


class ProtocolProgress(QtWidgets.QGroupBox):
    """The run's progress panel (hidden until a protocol starts)."""

    def __init__(self):
        super().__init__("Protocol")
        self.title = QtWidgets.QLabel("")
        self.title.setWordWrap(True)
        self.step = QtWidgets.QLabel("", objectName="countdown")
        self.step.setWordWrap(True)
        self.results = QtWidgets.QListWidget()  # one line per trial: "1. stand: complete, ..."
        self.results.setWordWrap(True)
        self.results.setMinimumHeight(90)
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.title, self.step, self.results, self.summary):
            layout.addWidget(w)
        self.n_trials = 0
        self.hide()

    def started(self, facts: dict[str, Any]) -> None:
        self.n_trials = facts.get("n_trials", 0)
        level = f", level {facts['level']}" if facts.get("levels") else ""
        why = f" ({facts['level_reason']})" if facts.get("level_reason") else ""
        self.title.setText(
            f"<b>{facts.get('title', '')}</b>{level}{why}<br>"
            f"targets at: {facts.get('los_origin', '')}"
        )
        self.step.setText("starting\u2026")
        self.results.clear()
        self.summary.setText("")
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
            status = r["status"] + (f": {data['reason']}" if kind == "trial_interrupted" else "")
            scores = key_scores(r.get("scores") or {})
            self.results.addItem(
                f"{r['number'] + 1}. {r.get('label') or r.get('task', '')}: {status}"
                + (f" \u2014 {scores}" if scores else "")
            )
            self.results.scrollToBottom()

    def done(self, msg: ProtocolDone) -> None:
        n = len(msg.trial_ids)
        head = "finished" if msg.phase == "done" else "aborted"
        summary = {
            k: v
            for k, v in (msg.summary or {}).items()
            if isinstance(v, (int, float, str)) and k != "protocol"
        }
        lines = [f"<b>{head}</b>: {n} trial(s) recorded"]
        lines += [f"{k.replace('_', ' ')}: {_fmt(v)}" for k, v in list(summary.items())[:6]]
        if msg.los_path:
            lines.append("measured LOS stored for this patient's next runs")
        self.summary.setText("<br>".join(lines))
        self.step.setText(PHASES.get(msg.phase, msg.phase))


__all__ = ["ProtocolProgress", "key_scores"]
