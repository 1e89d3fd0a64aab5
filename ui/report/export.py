"""One call for the dashboard's "Report" button (and ``nmr-balance report``): store -> files.

The PDF is drawn without Qt (reportlab), so this is safe to run off the GUI thread: a report
with many trials takes about a second, which a worker thread keeps off the patient's screen.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nmr_balance.private_files import write_private_text
from nmr_balance.record import Signature
from nmr_balance.reporting import ReportConfig, documentation_note
from recordings import Store
from recordings.report_data import session_report


@dataclasses.dataclass(frozen=True)
class ExportedReport:
    """What :func:`export_session_report` made: the files written and the note's text.

    ``signature``: the session's signature (None when unsigned); when its text no longer
    matches its hash (``signature.intact`` is False) the note and the PDF say so, and the
    caller should too.
    """

    pdf: Path | None
    note_path: Path | None
    note: str
    signature: Signature | None = None


def export_session_report(
    store: Store,
    session_id: int,
    pdf: str | Path | None = None,
    note: str | Path | None = None,
    config: ReportConfig | None = None,
    paper: str = "letter",
    instruction_s: float | None = None,
) -> ExportedReport:
    """Write the PDF and/or the documentation note of ``session_id``; return what was made.

    ``instruction_s``: the instruction time the therapist states (see
    :func:`recordings.report_data.session_report`).

    Raises :class:`~nmr_balance.errors.InvalidParameterError` for an unknown session and
    :class:`~nmr_balance.errors.StorageError` when a file cannot be written (show the message;
    nothing in the store is touched).
    """
    report = session_report(store, session_id, config, instruction_s)
    text = documentation_note(report)
    pdf_path = None
    if pdf is not None:
        from ui.report.pdf import write_session_pdf  # reportlab: only for a PDF (~0.2 s)

        pdf_path = write_session_pdf(report, pdf, paper)
    note_path = write_private_text(note, text) if note is not None else None
    return ExportedReport(pdf_path, note_path, text, report.signature)
