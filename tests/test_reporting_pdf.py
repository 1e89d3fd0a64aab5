"""The session report PDF from hand-built records: pages rendered (pdftoppm) and read back."""

from __future__ import annotations

import dataclasses
import datetime
import shutil

import numpy as np
import pytest

from nmr_balance.reporting.model import ClinicInfo
from tests._report_util import (
    MIN_BODY_INK,
    edit,
    los_trial,
    mctsib_session,
    page_count,
    pdf_text,
    render,
    report_of,
    training_session,
)
from ui.report import write_session_pdf

pytestmark = pytest.mark.timeout(60)


def three_visits():
    """Baseline, a week later, and today (with an interrupted trial, training and LOS)."""
    s0 = mctsib_session(1, 0, scale=1.3)
    s1 = mctsib_session(2, 7, scale=1.15, first_trial_id=5)
    s1 = edit(s1, trials=s1.trials + training_session(8, 7, 30, 42, 10).trials)
    s2 = mctsib_session(3, 14, scale=1.0, interrupted=True, first_trial_id=11)
    extra = training_session(9, 14, 20, 50, offset_min=10).trials
    los = los_trial(40, s2.started + datetime.timedelta(minutes=25))
    s2 = edit(
        s2,
        trials=s2.trials + extra + (los,),
        ended=s2.started + datetime.timedelta(minutes=28),
        notes="Patient reports fewer falls at home.",
    )
    return s0, s1, s2


def test_full_report_pages_are_all_used_and_say_what_happened(tmp_path, artifacts_dir):
    s0, s1, s2 = three_visits()
    pdf = write_session_pdf(report_of(s2, (s0, s1, s2)), tmp_path / "r.pdf")
    assert pdf.stat().st_mode & 0o777 == 0o600
    pages, ink = render(pdf, tmp_path)
    # mCTSIB; training and LOS; comparison; progress and session details: 4 pages, none blank
    # (training has no sway-path plots: a target trace is not a measure of steadiness).
    assert len(pages) == page_count(pdf) == 4
    assert min(ink) > MIN_BODY_INK, ink
    text = pdf_text(pdf)
    for phrase in (
        "Riverside Physical Therapy",
        "12 Main Street",
        "P017",
        "page 4 of 4",
        "stopped early",
        "stopped after 12.4 s of 30 s planned (interrupted: device lost at 12.1 s)",
        "Sensory ratios",
        "Romberg quotient",
        "Limits of Stability",
        "Weight shift: left/right, then front/back (training)",
        "Success (%)",
        "Compared with earlier sessions",
        "Baseline",
        "(2026-11-02)",
        "Previous",
        "(2026-11-09)",
        "(better)",
        "Progress across sessions",
        "lower is better",
        "higher is better",
        "Timed minutes (CPT 97112)",
        "CMS 8-minute rule",
        "look at the dot (verbal, trial 12)",
        "fewer falls at home",
        "Signature",
        "Weight shift: left/right, then front/back, eyes open, foam: success 19 % higher than on 2026-11-09 - better",
    ):
        assert phrase in text, phrase
    for p in pages:
        shutil.copy(p, artifacts_dir / f"report-full-{p.name}")


def test_first_session_has_no_comparison_and_a_logo_is_drawn(tmp_path):
    from PIL import Image

    logo = tmp_path / "logo.png"
    Image.new("RGB", (300, 100), (200, 30, 30)).save(logo)
    session = mctsib_session(1, 0)
    report = dataclasses.replace(
        report_of(session), clinic=ClinicInfo("Clinic", logo_path=str(logo))
    )
    pdf = write_session_pdf(report, tmp_path / "first.pdf", paper="a4")
    text = pdf_text(pdf)
    assert "first recorded session" in text and "Compared with earlier" not in text
    pages, ink = render(pdf, tmp_path, dpi=30)
    assert len(pages) == page_count(pdf) == 2 and min(ink) > MIN_BODY_INK
    red = np.asarray(Image.open(pages[0]).convert("RGB")).astype(int)
    assert np.sum((red[..., 0] > 150) & (red[..., 1] < 80) & (red[..., 2] < 80)) > 100  # the logo
    # A missing logo costs nothing but the logo.
    report = dataclasses.replace(
        report, clinic=ClinicInfo("Clinic", logo_path=str(tmp_path / "no.png"))
    )
    assert page_count(write_session_pdf(report, tmp_path / "nologo.pdf")) == 2


def test_unwritable_path_is_a_clear_storage_error(tmp_path):
    from nmr_balance.errors import StorageError

    with pytest.raises(StorageError, match="cannot write"):
        write_session_pdf(report_of(mctsib_session(1, 0)), tmp_path / "no" / "such" / "r.pdf")


def test_the_blank_page_check_sees_a_blank_page(tmp_path):
    """The ink measure must tell an empty page (header and footer only) from a used one."""
    from reportlab.platypus import PageBreak

    from ui.report import sections

    story = sections.story
    try:
        sections.story = lambda report, width: story(report, width) + [PageBreak(), PageBreak()]
        # PageBreak twice: reportlab then leaves one empty page (header/footer only) at the end.
        pdf = write_session_pdf(report_of(mctsib_session(1, 0)), tmp_path / "blank.pdf")
    finally:
        sections.story = story
    pages, ink = render(pdf, tmp_path)
    assert len(pages) >= 3 and ink[-1] < MIN_BODY_INK < min(ink[:2])
