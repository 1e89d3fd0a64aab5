"""Progress review: one patient's metrics across sessions, one line per condition; clicking a
point opens that trial in replay."""

from __future__ import annotations

import datetime

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from recordings import PROCESSED
from ui import theme
from ui.trial_data import completed_figures

#: Metrics offered first (label, key); any other numeric stored metric is offered after them.
PREFERRED = (
    ("mean velocity", "mean_velocity"),
    ("95 % ellipse area", "ellipse_area_95_chi2"),
    ("path length", "path_length"),
    ("RMS distance", "rms_distance"),
)
COLOURS = [
    theme.OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky_blue")
]
SYMBOLS = ("o", "s", "t", "d", "+", "x")


def metric_unit(key: str, unit: str) -> str:
    """Unit of a sway metric given the stream's unit (mm or deg)."""
    if "velocity" in key:
        return f"{unit}/s"
    if "area" in key or "power" in key:
        return f"{unit}\u00b2"
    if "frequency" in key:
        return "Hz"
    if key.endswith("_s"):
        return "s"
    return unit if any(w in key for w in ("distance", "length", "range", "rms")) else ""


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
        self.legend = item.addLegend(offset=(-10, 10))
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
            figures = dict(trial.metrics)
            if "mean_velocity" not in figures:
                block = self.store.samples(trial.id, PROCESSED)
                figures = completed_figures(
                    figures, block.data[:, :2], trial.info.fs, trial.info.units[0]
                )
            rows.append(
                {
                    "trial_id": trial.id,
                    "t": _timestamp(trial.started),
                    "condition": trial.condition.label().replace("_", " "),
                    "figures": figures,
                    "unit": trial.info.units[0],
                }
            )
        self.rows = rows
        self._fill_metrics()
        self._draw()

    def _fill_metrics(self) -> None:
        current = self.metric_box.currentData()
        keys = {
            k for r in self.rows for k, v in r["figures"].items() if isinstance(v, (int, float))
        }
        options = [(label, key) for label, key in PREFERRED if key in keys]
        options += [(k.replace("_", " "), k) for k in sorted(keys - {k for _, k in PREFERRED})]
        self.metric_box.blockSignals(True)
        self.metric_box.clear()
        for label, key in options:
            self.metric_box.addItem(label, key)
        i = self.metric_box.findData(current)
        self.metric_box.setCurrentIndex(max(0, i))
        self.metric_box.blockSignals(False)

    def series(self) -> dict[str, list[tuple[float, float, int]]]:
        """condition -> [(time, value, trial_id)] for the chosen metric, by date."""
        key = self.metric_box.currentData()
        out: dict[str, list] = {}
        for r in sorted(self.rows, key=lambda r: r["t"]):
            v = r["figures"].get(key)
            if isinstance(v, (int, float)) and np.isfinite(v):
                out.setdefault(r["condition"], []).append((r["t"], float(v), r["trial_id"]))
        return out

    def _draw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.legend.clear()
        unit = (
            metric_unit(self.metric_box.currentData() or "", self.rows[0]["unit"])
            if self.rows
            else ""
        )
        item.setLabel(
            "left",
            f"{self.metric_box.currentText()} ({unit})" if unit else self.metric_box.currentText(),
        )
        for i, (condition, points) in enumerate(sorted(self.series().items())):
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
                    name=condition,
                )
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
        item.getViewBox().setDefaultPadding(0.08)
        item.enableAutoRange()

    def _clicked(self, scatter, points, *args) -> None:
        if len(points):
            self.trial_chosen.emit(int(points[0].data()))


__all__ = ["ProgressView"]
