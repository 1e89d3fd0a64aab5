"""Choosing a stored trial: a combo box of the store's trials and a small dialog around it."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets


def trial_label(trial) -> str:
    """``#12 P001 11-21 14:30 romberg eyes closed, firm`` (+ `` (aborted)`` unless complete):
    short enough for a picker half a 1366 px screen wide; :func:`trial_tooltip` has it all."""
    when = (trial.started or "")[5:16].replace("T", " ")
    status = "" if trial.status == "complete" else f" ({trial.status})"
    return (
        f"#{trial.id} {trial.patient_code} {when} {trial.protocol} "
        f"{trial.condition.label().replace('_', ' ')}{status}"
    )


def trial_tooltip(trial) -> str:
    """The whole description: ``#12, P001, 2026-11-21 14:30, romberg, eyes closed, firm,
    complete``."""
    when = (trial.started or "")[:16].replace("T", " ")
    return (
        f"#{trial.id}, {trial.patient_code}, {when}, {trial.protocol}, "
        f"{trial.condition.label().replace('_', ' ')}, {trial.status}"
    )


class TrialPicker(QtWidgets.QComboBox):
    """The trials of a store (newest first), optionally one patient's."""

    def __init__(self, store=None):
        super().__init__()
        self.setMinimumContentsLength(20)
        self.setSizeAdjustPolicy(QtWidgets.QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.store = store
        self.reload()

    def reload(self, patient: str | None = None, finished_only: bool = False) -> None:
        """Re-read the trials (keeping the current one); ``finished_only`` leaves out a trial
        still being recorded."""
        current = self.trial_id()
        self.blockSignals(True)
        self.clear()
        if self.store is not None:
            for trial in reversed(self.store.trials(patient=patient)):
                if finished_only and trial.status == "recording":
                    continue
                self.addItem(trial_label(trial), trial.id)
                self.setItemData(self.count() - 1, trial_tooltip(trial), QtCore.Qt.ToolTipRole)
        self.blockSignals(False)
        if current is not None:
            self.select(current)

    def trial_id(self) -> int | None:
        data = self.currentData()
        return None if data is None else int(data)

    def select(self, trial_id: int) -> bool:
        i = self.findData(int(trial_id))
        if i >= 0:
            self.setCurrentIndex(i)
        return i >= 0


def pick_trial(parent, store) -> int | None:
    """Ask for a trial (modal dialog); its id, or None when cancelled or none exist."""
    dialog = QtWidgets.QDialog(parent)
    dialog.setWindowTitle("Open a stored trial")
    picker = TrialPicker(store)
    buttons = QtWidgets.QDialogButtonBox(
        QtWidgets.QDialogButtonBox.Open | QtWidgets.QDialogButtonBox.Cancel
    )
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QtWidgets.QVBoxLayout(dialog)
    layout.addWidget(QtWidgets.QLabel("Stream a stored trial through the live pipeline:"))
    layout.addWidget(picker)
    layout.addWidget(buttons)
    if not picker.count():
        QtWidgets.QMessageBox.information(
            parent, "No stored trials", "No trial has been recorded yet."
        )
        return None
    return picker.trial_id() if dialog.exec() == QtWidgets.QDialog.Accepted else None


__all__ = ["TrialPicker", "pick_trial", "trial_label", "trial_tooltip"]
