"""The end-of-session step: the patient's state after the session, then the note to review.

1. The therapist enters pain (0-10) and perceived exertion (Borg RPE, 6-20) after the session and
   the session's note (the patient's response, in their words); "Review the note" sends them to
   the engine (the database's one writer) as an :class:`~nmr_balance.engine.messages.EndSession`.
2. When the engine has stored them, the dialog shows the documentation note made from the stored
   session (the same function as ``nmr-balance report --note``), read-only, before it is saved:
   "Save PDF and note..." writes both; "Back" returns to step 1 to change what was entered.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from nmr_balance.engine.messages import EndSession
from ui.error_dialog import error_box
from ui.session_panel import BORG_RANGE, PAIN_RANGE, scale_box, scale_value


class EndSessionDialog(QtWidgets.QDialog):
    """Non-modal; ``finished_facts`` carries the command for the engine."""

    finished_facts = QtCore.Signal(object)  # EndSession

    def __init__(self, parent, session_id: int, patient: str):
        super().__init__(parent)
        self.session_id, self.patient = session_id, patient
        self.setWindowTitle(f"End session #{session_id} ({patient})")
        self.pain_after = scale_box(*PAIN_RANGE, "Pain after the session, 0-10")
        self.borg_after = scale_box(*BORG_RANGE, "Perceived exertion after (Borg RPE, 6-20)")
        self.response = QtWidgets.QPlainTextEdit(
            placeholderText="patient's response, e.g. tolerated well, no dizziness"
        )
        self.review_button = QtWidgets.QPushButton("Review the note", objectName="primary")
        self.note = QtWidgets.QPlainTextEdit(readOnly=True)
        self.save_button = QtWidgets.QPushButton("Save PDF and note\u2026")
        self.back_button = QtWidgets.QPushButton("Back")
        self.status = QtWidgets.QLabel("")

        self.ask = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(self.ask)
        form.addRow("Pain after", self.pain_after)
        form.addRow("Borg after", self.borg_after)
        form.addRow("Response", self.response)
        form.addRow(self.review_button)
        self.review = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(self.review)
        col.addWidget(QtWidgets.QLabel("The note, as it will be saved:"))
        col.addWidget(self.note, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        col.addLayout(row)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.ask)
        layout.addWidget(self.review, 1)
        layout.addWidget(self.status)
        self.review.hide()
        self.resize(560, 520)

        self.review_button.clicked.connect(self._review)
        self.back_button.clicked.connect(self._back)
        self._reporter = None
        self.save_button.clicked.connect(self._save)

    def facts(self) -> EndSession:
        return EndSession(
            session_id=self.session_id,
            pain_after=scale_value(self.pain_after),
            borg_after=scale_value(self.borg_after),
            response=self.response.toPlainText().strip(),
        )

    def _review(self) -> None:
        self.review_button.setEnabled(False)
        self.status.setText("storing\u2026")
        self.finished_facts.emit(self.facts())

    def _back(self) -> None:
        self.review.hide()
        self.ask.show()
        self.review_button.setEnabled(True)

    def show_note(self, store, reporter=None) -> None:
        """Show the note of the stored session (called once the engine has stored the facts)."""
        from nmr_balance.reporting import documentation_note
        from recordings.report_data import session_report

        self.review_button.setEnabled(True)
        self.status.setText("")
        try:
            text = documentation_note(session_report(store, self.session_id))
        except Exception as e:  # shown, the session stays stored
            error_box(self, e)
            return
        self.note.setPlainText(text)
        self._reporter = reporter
        self.save_button.setEnabled(reporter is not None)
        self.ask.hide()
        self.review.show()

    def _save(self) -> None:
        if self._reporter is None:
            return
        if self._reporter.ask_and_export(self, self.session_id, self.patient) is not None:
            self.status.setText("saving the PDF and the note\u2026")


__all__ = ["EndSessionDialog"]
