"""The session report as a PDF (reportlab vector drawing; no Qt needed, so it also runs headless).

``write_session_pdf(report, path)`` is what the dashboard's "Report" button and
``nmr-balance report`` call; build ``report`` with ``recordings.report_data.session_report``.
"""

from ui.report.pdf import write_session_pdf

__all__ = ["write_session_pdf"]
