"""Two stored trials side by side (e.g. baseline vs today): paths on the same scale, metrics,
and the change from the first to the second."""

from __future__ import annotations

import math

import numpy as np
from PySide6 import QtWidgets

from ui.live_metrics import ellipse_outline
from ui.metrics_panel import TRIAL_FIGURES, MetricsPanel
from ui.sway_plot import SwayPlot
from ui.trial_data import LoadedTrial, load_trial
from ui.trial_picker import TrialPicker

#: Figures whose relative change is summarised (smaller = steadier for all of them).
CHANGE_KEYS = (("mean_velocity", "mean velocity"), ("ellipse_area_95_chi2", "ellipse area"))


class _Column(QtWidgets.QGroupBox):
    def __init__(self, title: str, store):
        super().__init__(title)
        self.picker = TrialPicker(store)
        self.sway = SwayPlot(max_tail_points=6000)
        self.metrics = MetricsPanel(TRIAL_FIGURES, columns=3)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.sway, 1)
        layout.addWidget(self.metrics)

    def show_trial(self, trial: LoadedTrial, half_span: float) -> None:
        unit = trial.info.units[0]
        xy = trial.block.data[:, :2]
        self.sway.set_unit(unit, half_span)
        self.sway.show_path(xy)
        self.sway.show_ellipse(ellipse_outline(trial.figures, suffix="_chi2"))
        self.metrics.set_unit(unit)
        self.metrics.show_values(trial.figures)


def relative_change(a: dict, b: dict) -> list[tuple[str, float]]:
    """Per :data:`CHANGE_KEYS`: (label, change from ``a`` to ``b`` in %)."""
    out = []
    for key, label in CHANGE_KEYS:
        va, vb = a.get(key), b.get(key)
        if (
            isinstance(va, (int, float))
            and isinstance(vb, (int, float))
            and va
            and math.isfinite(va)
        ):
            out.append((label, 100.0 * (vb - va) / va))
    return out


class CompareView(QtWidgets.QWidget):
    """Pick trial A and trial B; both are drawn on one scale with their metrics."""

    def __init__(self, store=None):
        super().__init__()
        self.store = store
        self.trials: list[LoadedTrial | None] = [None, None]
        self.columns = [_Column("A (e.g. baseline)", store), _Column("B (e.g. today)", store)]
        self.compare_button = QtWidgets.QPushButton("Compare", objectName="primary")
        self.change = QtWidgets.QLabel("")
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.compare_button)
        top.addWidget(self.change, 1)
        row = QtWidgets.QHBoxLayout()
        for c in self.columns:
            row.addWidget(c)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row, 1)
        self.reload()
        self.compare_button.clicked.connect(
            lambda: self.compare(
                self.columns[0].picker.trial_id(), self.columns[1].picker.trial_id()
            )
        )

    def reload(self) -> None:
        """Re-read the finished trials. Unless the therapist chose, A is the oldest (a baseline)
        and B the newest finished trial: never the one being recorded, never both the same."""
        a, b = (c.picker for c in self.columns)
        for picker in (a, b):
            picker.reload(finished_only=True)
        if a.count() and (a.trial_id() == b.trial_id()):
            a.setCurrentIndex(a.count() - 1)
            b.setCurrentIndex(0)

    def compare(self, trial_a: int | None, trial_b: int | None) -> None:
        if trial_a is None or trial_b is None or self.store is None:
            return
        self.trials = [load_trial(self.store, trial_a), load_trial(self.store, trial_b)]
        spans = [np.nanmax(np.abs(t.block.data[:, :2])) if len(t.block) else 0 for t in self.trials]
        half = max(5.0, 1.15 * float(np.nanmax(spans)))
        for column, trial, tid in zip(self.columns, self.trials, (trial_a, trial_b)):
            column.picker.select(tid)
            column.show_trial(trial, half)
        changes = relative_change(self.trials[0].figures, self.trials[1].figures)
        self.change.setText(
            "B vs A:  " + "   ".join(f"{label} {pct:+.0f} %" for label, pct in changes)
        )


__all__ = ["CompareView", "relative_change"]
