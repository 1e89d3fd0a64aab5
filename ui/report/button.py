"""The dashboard's "Report" button: pick where to save, write PDF + note off the GUI thread.

Usage in a window::

    self.reporter = ReportExporter(store_path, config, parent=self)
    self.reporter.finished.connect(lambda made: self.statusBar().showMessage(f"saved {made.pdf}"))
    button.clicked.connect(lambda: self.reporter.ask_and_export(self, session_id, patient_code))

The note goes next to the PDF (same name, ``.txt``) and onto the clipboard, ready to paste into
the medical record. Errors (unwritable folder, unknown session) come back as one message in a
dialog; nothing is raised into the event loop and the GUI never waits for the PDF.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from nmr_balance.errors import NmrBalanceError
from nmr_balance.reporting import ReportConfig


class _Job(QRunnable):
    def __init__(
        self,
        exporter: ReportExporter,
        session_id: int,
        pdf: Path,
        note: Path | None,
        instruction_s: float | None,
    ):
        super().__init__()
        self.exporter, self.session_id, self.pdf, self.note = exporter, session_id, pdf, note
        self.instruction_s = instruction_s

    def run(self) -> None:
        from recordings import Store
        from ui.report.export import export_session_report

        try:  # its own connection: SQLite connections belong to the thread that made them
            with Store.open(self.exporter.store_path, read_only=True) as store:
                made = export_session_report(
                    store,
                    self.session_id,
                    self.pdf,
                    self.note,
                    self.exporter.config,
                    instruction_s=self.instruction_s,
                )
        except NmrBalanceError as e:
            self.exporter.failed.emit(str(e))
            return
        self.exporter.finished.emit(made)


class ReportExporter(QObject):
    """Writes session reports in a worker thread; tells the GUI through signals.

    Signals
    -------
    finished(ExportedReport)
        The files were written (``made.pdf``, ``made.note_path``, ``made.note``).
    failed(str)
        One message saying what went wrong and what to do.
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        store_path: str | Path,
        config: ReportConfig | None = None,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.store_path = Path(store_path)
        self.config = config or ReportConfig()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one report at a time; clicks queue up
        self._dialog_parent: QWidget | None = None
        self.failed.connect(self._show_error)
        self.finished.connect(self._copy_note)

    def export(
        self,
        session_id: int,
        pdf: str | Path,
        note: str | Path | None = None,
        instruction_s: float | None = None,
    ) -> None:
        """Start writing the report of ``session_id`` to ``pdf`` (and the note to ``note``).

        ``instruction_s``: instruction time the therapist states (default: recorded pauses).
        """
        self._pool.start(
            _Job(self, int(session_id), Path(pdf), Path(note) if note else None, instruction_s)
        )

    def ask_and_export(
        self,
        parent: QWidget | None,
        session_id: int,
        patient_code: str = "",
        folder: str | Path | None = None,
    ) -> Path | None:
        """Ask where to save (default ``<patient>-session-<id>.pdf``), then :meth:`export`.

        Returns the chosen PDF path, or None when the therapist cancelled.
        """
        self._dialog_parent = parent
        name = f"{patient_code + '-' if patient_code else ''}session-{session_id}.pdf"
        start = str(Path(folder or Path.home()) / name)
        chosen, _ = QFileDialog.getSaveFileName(
            parent, "Save the session report", start, "PDF report (*.pdf)"
        )
        if not chosen:
            return None
        pdf = Path(chosen).with_suffix(".pdf")
        self.export(session_id, pdf, pdf.with_suffix(".txt"))
        return pdf

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until queued reports are written (for tests and for closing the window)."""
        return self._pool.waitForDone(msecs)

    def _copy_note(self, made) -> None:
        clipboard = QApplication.clipboard() if QApplication.instance() else None
        if clipboard is not None:
            clipboard.setText(made.note)

    def _show_error(self, message: str) -> None:
        if self._dialog_parent is not None:
            QMessageBox.warning(self._dialog_parent, "The report was not saved", message)
