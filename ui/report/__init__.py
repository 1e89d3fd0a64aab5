"""The session report as a PDF (reportlab vector drawing; no Qt needed, so it also runs headless).

For a button: ``export_session_report(store, session_id, pdf="x.pdf", note="x.txt")`` (in
:mod:`ui.report.export`). For records built elsewhere: ``write_session_pdf(report, path)``.
"""


def __getattr__(name: str):
    # reportlab (with urllib, ssl, xml) takes half a second to import: only when a report is
    # written, not every time the console (whose Report button lives here) starts.
    if name == "write_session_pdf":
        from ui.report.pdf import write_session_pdf

        return write_session_pdf
    raise AttributeError(f"module 'ui.report' has no attribute {name!r}")


__all__ = ["write_session_pdf"]
