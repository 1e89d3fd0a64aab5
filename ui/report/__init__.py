"""The session report as a PDF (reportlab vector drawing; no Qt needed, so it also runs headless).

For a button: ``export_session_report(store, session_id, pdf="x.pdf", note="x.txt")`` (in
:mod:`ui.report.export`). For records built elsewhere: ``write_session_pdf(report, path)``.
"""

from ui.report.pdf import write_session_pdf

__all__ = ["write_session_pdf"]
