"""The session report as a PDF (reportlab): page frame, header and footer, and the one writer.

Usage::

    from ui.report import write_session_pdf
    write_session_pdf(report, "session-12.pdf")      # report: nmr_balance.reporting.SessionReport
"""

from __future__ import annotations

import os
from pathlib import Path

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdfcanvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate
from reportlab.platypus.doctemplate import LayoutError

from nmr_balance.errors import StorageError
from nmr_balance.private_files import private_file
from nmr_balance.reporting import fmt
from nmr_balance.reporting.model import SessionReport
from ui.report import sections
from ui.report.charts import ACCENT, BOLD, FONT, INK, MUTED

PAGE_SIZES = {"letter": LETTER, "a4": A4}
MARGIN = 16 * mm
HEADER_H = 22 * mm


class _NumberedCanvas(pdfcanvas.Canvas):
    """Defers page output so the footer can say "page 2 of 3" (reportlab's usual recipe)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []

    def showPage(self):
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(FONT, 7.5)
            self.setFillColor(MUTED)
            self.drawRightString(
                self._pagesize[0] - MARGIN, 9 * mm, f"page {self._pageNumber} of {total}"
            )
            super().showPage()
        super().save()


def _logo(path: str):
    """The clinic logo as a reportlab image reader, or None when unset or unreadable."""
    if not path:
        return None
    from reportlab.lib.utils import ImageReader

    try:
        return ImageReader(os.path.expanduser(path))
    except (OSError, ValueError):  # a missing or damaged logo must not cost the report
        return None


def _page_decoration(report: SessionReport):
    clinic = report.clinic
    logo = _logo(clinic.logo_path)
    footer = (
        f"{report.patient.code}  -  session {report.session.id}  -  "
        f"{fmt.date(report.session.started)}  -  confidential health information"
    )

    def draw(canvas, doc):
        w, h = doc.pagesize
        canvas.saveState()
        top = h - MARGIN + 4 * mm
        text_x = MARGIN
        if logo is not None:
            iw, ih = logo.getSize()
            lh = 14 * mm
            lw = min(lh * iw / max(ih, 1), 45 * mm)
            canvas.drawImage(
                logo,
                w - MARGIN - lw,
                top - lh,
                lw,
                lh,
                mask="auto",
                preserveAspectRatio=True,
                anchor="ne",
            )
        canvas.setFillColor(INK)
        canvas.setFont(BOLD, 13)
        canvas.drawString(text_x, top - 5 * mm, clinic.name)
        canvas.setFont(FONT, 8)
        canvas.setFillColor(MUTED)
        contact = "   ".join(p for p in (clinic.address, clinic.phone) if p)
        if contact:
            canvas.drawString(text_x, top - 9.5 * mm, contact)
        canvas.setStrokeColor(ACCENT)
        canvas.setLineWidth(1.2)
        canvas.line(MARGIN, top - HEADER_H + 8 * mm, w - MARGIN, top - HEADER_H + 8 * mm)
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 9 * mm, footer)
        canvas.restoreState()

    return draw


def write_session_pdf(report: SessionReport, path: str | Path, paper: str = "letter") -> Path:
    """Write the session report of ``report`` to ``path`` (owner-only: health data).

    Parameters
    ----------
    report : SessionReport
    path : str or Path
    paper : {"letter", "a4"}

    Returns
    -------
    Path
        Where it was written.

    Raises
    ------
    StorageError
        The file cannot be written (folder missing, no permission, disk full).
    """
    path = Path(path).expanduser()
    pagesize = PAGE_SIZES.get(paper.lower(), LETTER)
    with private_file(path, "wb") as f:
        doc = BaseDocTemplate(
            f,
            pagesize=pagesize,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN + HEADER_H - 6 * mm,
            bottomMargin=MARGIN,
            title=f"Balance report - {report.patient.code} - {fmt.date(report.session.started)}",
            author=report.clinic.name,
            creator="nmr-balance",
        )
        frame = Frame(
            doc.leftMargin,
            doc.bottomMargin,
            doc.width,
            doc.height,
            id="body",
            leftPadding=0,
            rightPadding=0,
            topPadding=0,
            bottomPadding=0,
        )
        doc.addPageTemplates([PageTemplate("page", [frame], onPage=_page_decoration(report))])
        try:
            doc.build(sections.story(report, doc.width), canvasmaker=_NumberedCanvas)
        except LayoutError as e:  # a text too long for a page (e.g. a legacy patient code)
            raise StorageError(
                f"cannot write {path}: the report does not fit the page ({str(e)[:80]}...)",
                "Shorten the long text (patient code, notes); nothing was written",
            ) from None
    return path
