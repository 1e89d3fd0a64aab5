"""Progress review: one patient's metrics across sessions, one line per condition; clicking a
point opens that trial in replay."""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from nmr_balance.protocols.library import facts
from nmr_balance.reporting.compare import KEY_BY_NAME, KEY_METRICS, LOWER
from nmr_balance.results import TrialResults
from ui import theme

#: What the progress picker offers, in this order: (key, title, unit with "L" for the sway unit,
#: where the value is in a trial's typed results). Titles and units of the report's key metrics
#: are the report's own (:data:`nmr_balance.reporting.compare.KEY_METRICS`).
_LOS = "LOS (all directions) "
CURATED: tuple[tuple[str, str, str, Callable[[TrialResults], Any]], ...] = (
    *(
        (m.name, m.title, m.unit, lambda r, k=m.name: r.sway.get(k))
        for m in KEY_METRICS
        if m.better == LOWER
    ),
    (
        "success_pct",
        KEY_BY_NAME["success_pct"].title,
        "%",
        lambda r: r.training.success_pct if r.training else None,
    ),
    (
        "time_in_target_pct",
        KEY_BY_NAME["time_in_target_pct"].title,
        "%",
        lambda r: r.training.time_in_target_pct if r.training else None,
    ),
    (
        "los_max_excursion_pct",
        _LOS + "maximum excursion",
        "%",
        lambda r: r.los.composite.max_excursion_pct if r.los else None,
    ),
    (
        "los_directional_control_pct",
        _LOS + "directional control",
        "%",
        lambda r: r.los.composite.directional_control_pct if r.los else None,
    ),
    (
        "los_reaction_time_s",
        _LOS + "reaction time",
        "s",
        lambda r: r.los.composite.reaction_time_s if r.los else None,
    ),
    (
        "time_standing_s",
        "Time standing",
        "s",
        lambda r: r.stand.time_standing_s if r.stand else None,
    ),
)
COLOURS = [
    theme.OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky_blue")
]
SYMBOLS = ("o", "s", "t", "d", "+", "x")
GLYPHS = ("\u25cf", "\u25a0", "\u25bc", "\u25c6", "+", "\u00d7")  # the symbols, as text


def curated_values(metrics: dict) -> dict[str, float]:
    """The :data:`CURATED` figures of a trial's stored metrics (finite ones only)."""
    results = TrialResults.from_dict(metrics)
    out = {}
    for key, _, _, get in CURATED:
        v = get(results)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            out[key] = float(v)
    return out


def line_label(protocol: str, condition: str) -> str:
    """One progress line per protocol and condition: ``"mCTSIB \u2014 eyes closed, foam, feet
    together"`` (the protocol's title up to its colon, as the console's picker names it)."""
    title = facts(protocol).title
    short = title if title.startswith("Free recording") else title.split(":")[0]
    return f"{short} \u2014 {condition}"


def _timestamp(iso: str) -> float:
    return datetime.datetime.fromisoformat(iso).timestamp()


class ProgressView(QtWidgets.QWidget):
    """Metric vs session date for a patient, by condition.

    Signals
    -------
    trial_chosen(int)
        A point was clicked: open this trial.
    """

    trial_chosen = QtCore.Signal(int)

    def __init__(self, store=None):
        super().__init__()
        self.store = store
        self.rows: list[dict] = []
        self.patient = QtWidgets.QComboBox()
        self.metric_box = QtWidgets.QComboBox()
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLabel("bottom", "session date")
        # the legend sits under the plot, never over its points
        self.legend = QtWidgets.QLabel("", objectName="metric_name")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(QtCore.Qt.RichText)
        self.hint = QtWidgets.QLabel(
            "Click a point to replay that trial.", objectName="metric_name"
        )
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Patient"))
        top.addWidget(self.patient)
        top.addWidget(QtWidgets.QLabel("Metric"))
        top.addWidget(self.metric_box)
        top.addStretch(1)
        top.addWidget(self.hint)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        self.patient.currentIndexChanged.connect(
            lambda: self.show_patient(self.patient.currentText())
        )
        self.metric_box.currentIndexChanged.connect(self._draw)
        self.reload()

    def reload(self) -> None:
        """Re-read the patient list (keeps the current patient)."""
        if self.store is None:
            return
        current = self.patient.currentText()
        self.patient.blockSignals(True)
        self.patient.clear()
        self.patient.addItems([p.code for p in self.store.patients()])
        self.patient.blockSignals(False)
        if current:
            self.patient.setCurrentText(current)
        if self.patient.currentText():
            self.show_patient(self.patient.currentText())

    def show_patient(self, code: str) -> None:
        """Collect the patient's finished trials and plot the chosen metric."""
        if self.store is None or not code:
            return
        if self.patient.currentText() != code:
            self.patient.setCurrentText(code)
        rows = []
        for trial in self.store.trials(patient=code):
            if trial.status not in ("complete", "interrupted"):
                continue
            rows.append(
                {
                    "trial_id": trial.id,
                    "t": _timestamp(trial.started),
                    "line": line_label(trial.protocol, trial.condition.label().replace("_", " ")),
                    "figures": curated_values(trial.metrics),
                    "unit": trial.info.units[0],
                }
            )
        self.rows = rows
        self._fill_metrics()
        self._draw()

    def _fill_metrics(self) -> None:
        """Offer the curated metrics that the patient's trials have (report titles, in order)."""
        current = self.metric_box.currentData()
        have = {k for r in self.rows for k in r["figures"]}
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for key, title, _, _ in CURATED:
            if key in have:
                self.metric_box.addItem(title, key)
        i = self.metric_box.findData(current)
        self.metric_box.setCurrentIndex(max(0, i))
        self.metric_box.blockSignals(False)

    def series(self) -> dict[str, list[tuple[float, float, int]]]:
        """line (protocol and condition) -> [(time, value, trial_id)] for the chosen metric, by
        date."""
        key = self.metric_box.currentData()
        out: dict[str, list] = {}
        for r in sorted(self.rows, key=lambda r: r["t"]):
            v = r["figures"].get(key)
            if isinstance(v, (int, float)) and np.isfinite(v):
                out.setdefault(r["line"], []).append((r["t"], float(v), r["trial_id"]))
        return out

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        units = {key: u for key, _, u, _ in CURATED}
        unit = units.get(self.metric_box.currentData(), "")
        unit = unit.replace("L", self.rows[0]["unit"]) if self.rows else ""
        legend = []
        item.setLabel(
            "left",
            f"{self.metric_box.currentText()} ({unit})" if unit else self.metric_box.currentText(),
        )
        for i, (line, points) in enumerate(sorted(self.series().items())):
            t, v, ids = (np.array(c) for c in zip(*points))
            colour = COLOURS[i % len(COLOURS)]
            symbol = SYMBOLS[i % len(SYMBOLS)]
            item.addItem(
                pg.PlotDataItem(
                    t,
                    v,
                    pen=theme.pen(colour),
                    symbol=symbol,
                    symbolSize=11,
                    symbolBrush=colour,
                    symbolPen="w",
                )
            )
            legend.append(
                f"<span style='color:{colour}'>{GLYPHS[i % len(GLYPHS)]}</span>&nbsp;{line}"
            )
            # the clickable points carry their trial ids (a PlotDataItem would drop the data)
            spots = pg.ScatterPlotItem(
                t,
                v,
                data=ids.astype(int),
                symbol=symbol,
                size=11,
                brush=colour,
                pen="w",
                hoverable=True,
            )
            spots.sigClicked.connect(self._clicked)
            item.addItem(spots)
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(legend))
        item.getViewBox().setDefaultPadding(0.08)
        item.enableAutoRange()

    def _clicked(self, scatter, points, *args) -> None:
        if len(points):
            self.trial_chosen.emit(int(points[0].data()))


__all__ = ["CURATED", "ProgressView", "curated_values", "line_label"]
