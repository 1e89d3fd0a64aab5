"""The end-of-session step: the patient's state after the session, then the note to review.

1. The therapist enters pain (0-10) and perceived exertion (Borg RPE, 6-20) after the session and
   the session's note (the patient's response, in their words); "Review the note" sends them to
   the engine (the database's one writer) as an :class:`~nmr_balance.engine.messages.EndSession`.
2. When the engine has stored them, the dialog shows the documentation note made from the stored
   session (the same function as ``nmr-balance report --note``), read-only, before it is saved:
   "Save PDF and note..." writes both; "Back" returns to step 1 to change what was entered.
3. "Sign as <therapist>" signs the note the therapist has just read (the engine signs it as a
   :class:`~nmr_balance.engine.messages.SignSession`, refusing if the record changed since it
   was shown); the session is then locked, and the dialog shows the signed note with its
   verification line. The name is the session's therapist, and can be changed before signing.
"""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from nmr_balance.engine.messages import EndSession, SessionSigned, SignSession
from ui.error_dialog import error_box
from ui.session_panel import BORG_RANGE, PAIN_RANGE, scale_box, scale_value


class EndSessionDialog(QtWidgets.QDialog):
    """Non-modal; ``finished_facts`` carries the command for the engine."""

    finished_facts = QtCore.Signal(object)  # EndSession
    sign_requested = QtCore.Signal(object)  # SignSession

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
        self.signer = QtWidgets.QLineEdit(placeholderText="your name, as the record shows it")
        self.sign_button = QtWidgets.QPushButton("Sign")
        self._to_sign: str | None = None
        self._signing = False
        self.status = QtWidgets.QLabel("")

        self.ask = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(self.ask)
        form.addRow("Pain after", self.pain_after)
        form.addRow("Borg after", self.borg_after)
        form.addRow("Response", self.response)
        form.addRow(self.review_button)
        self.review = QtWidgets.QWidget()
        col = QtWidgets.QVBoxLayout(self.review)
        self.note_title = QtWidgets.QLabel("The note, as it will be saved:")
        col.addWidget(self.note_title)
        col.addWidget(self.note, 1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.back_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        col.addLayout(row)
        sign_row = QtWidgets.QHBoxLayout()
        sign_row.addWidget(QtWidgets.QLabel("Signed by"))
        sign_row.addWidget(self.signer, 1)
        sign_row.addWidget(self.sign_button)
        col.addLayout(sign_row)
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
        self.signer.textChanged.connect(self._name_changed)
        self.sign_button.clicked.connect(self._sign)
        self._name_changed("")

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

    def show_note(self, store, reporter=None, config=None) -> None:
        """Show the note of the stored session (called once the engine has stored the facts),
        worded with the station's report ``config`` (the one the engine signs with)."""
        from nmr_balance.reporting import documentation_note
        from nmr_balance.reporting.note import note_to_sign
        from recordings.report_data import session_report

        self.review_button.setEnabled(True)
        self.status.setText("")
        try:
            report = session_report(store, self.session_id, config)
            text = documentation_note(report)
        except Exception as e:  # shown, the session stays stored
            error_box(self, e)
            return
        self.note.setPlainText(text)
        signed = report.signature is not None
        self.note_title.setText(
            "The note as signed (fixed; later changes are addenda):"
            if signed
            else "The note, as it will be saved:"
        )
        self._to_sign = None if signed else note_to_sign(report)  # what "Sign" signs
        if not self.signer.text().strip():
            self.signer.setText(report.session.therapist)
        self.signer.setEnabled(not signed)
        self._name_changed(self.signer.text())
        self.back_button.setEnabled(not signed)
        self._reporter = reporter
        self.save_button.setEnabled(reporter is not None)
        self.ask.hide()
        self.review.show()

    def _name_changed(self, text: str) -> None:
        name = text.strip()
        self.sign_button.setText(f"Sign as {name}" if name else "Sign")
        self.sign_button.setEnabled(bool(name) and self._to_sign is not None)

    def _sign(self) -> None:
        if self._to_sign is None or not self.signer.text().strip():
            return
        self.sign_button.setEnabled(False)
        self._signing = True
        self.status.setText("signing\u2026")
        self.sign_requested.emit(
            SignSession(self.session_id, self.signer.text().strip(), self._to_sign)
        )

    def sign_failed(self) -> None:
        """The engine refused to sign (its message is shown by the window): allow a retry."""
        if not self._signing:
            return
        self._signing = False
        self.status.setText("not signed")
        self._name_changed(self.signer.text())

    def show_signed(self, store, signed: SessionSigned, reporter=None, config=None) -> None:
        """The engine signed the note: show it as filed, with its verification line."""
        self._to_sign, self._signing = None, False
        self.show_note(store, reporter, config)
        self.status.setText(f"signed by {signed.by}: the session's record is now fixed")

    def _save(self) -> None:
        if self._reporter is None:
            return
        if self._reporter.ask_and_export(self, self.session_id, self.patient) is not None:
            self.status.setText("saving the PDF and the note\u2026")


__all__ = ["EndSessionDialog"]
