"""A grid of named figures (live or stored metrics): big value, small name and unit."""

from __future__ import annotations

import math

from PySide6 import QtWidgets

#: What the live panel shows: key, label, unit template ("L" = stream unit), format.
LIVE_FIGURES = (
    ("mean_velocity", "mean velocity (10 s)", "L/s", "{:.1f}"),
    ("ellipse_area_95", "95 % ellipse (10 s)", "L\u00b2", "{:.0f}"),
    ("time_in_target", "time in target (trial)", "%", "{:.0f}"),
    ("hits", "target hits (trial)", "", "{:.0f}"),
)

#: Stored-trial figures shown in replay/compare: key in the trial metrics, label, unit, format.
TRIAL_FIGURES = (
    ("duration_s", "duration", "s", "{:.1f}"),
    ("mean_velocity", "mean velocity", "L/s", "{:.2f}"),
    ("ellipse_area_95_chi2", "95 % ellipse area", "L\u00b2", "{:.0f}"),
    ("path_length", "path length", "L", "{:.0f}"),
    ("rms_distance", "RMS distance", "L", "{:.2f}"),
    ("n_samples", "samples", "", "{:.0f}"),
)


class MetricsPanel(QtWidgets.QWidget):
    """Shows ``figures`` (tuples as in :data:`LIVE_FIGURES`) in ``columns`` columns."""

    def __init__(self, figures=LIVE_FIGURES, unit: str = "mm", columns: int = 2):
        super().__init__()
        self.figures = figures
        self.values: dict[str, QtWidgets.QLabel] = {}
        self._units: dict[str, QtWidgets.QLabel] = {}
        grid = QtWidgets.QGridLayout(self)
        grid.setContentsMargins(4, 4, 4, 4)
        grid.setVerticalSpacing(2)
        for i, (key, label, _, _) in enumerate(figures):
            value = QtWidgets.QLabel("--", objectName="metric_value")
            name = QtWidgets.QLabel(label, objectName="metric_name")
            name.setWordWrap(True)  # a narrow column wraps the name, never cuts it
            row, col = 2 * (i // columns), i % columns
            grid.addWidget(value, row, col)
            grid.addWidget(name, row + 1, col)
            self.values[key] = value
            self._units[key] = name
        self.set_unit(unit)

    def set_unit(self, unit: str) -> None:
        self.unit = unit
        for key, label, template, _ in self.figures:
            u = template.replace("L", unit) if template else ""
            self._units[key].setText(f"{label} ({u})" if u else label)

    def show_values(self, values: dict[str, float]) -> None:
        """Update from ``values`` (missing or non-finite keys show ``--``)."""
        for key, _, _, fmt in self.figures:
            v = values.get(key)
            ok = isinstance(v, (int, float)) and math.isfinite(v)
            self.values[key].setText(fmt.format(v) if ok else "--")


__all__ = ["LIVE_FIGURES", "TRIAL_FIGURES", "MetricsPanel"]
