"""Session report: how long the "Report" button takes (PDF, note, CSV) for a typical session.

A session of 12 trials (mCTSIB, 4 conditions x 3 trials of 30 s at 100 Hz: 3,000 points per
statokinesigram) with two earlier sessions for the comparisons and progress charts.
Baseline, same run: reportlab's bare canvas drawing only the 12 sway paths as polylines (the
floor cost of putting the data on paper, without tables, layout or charts).
"""

from __future__ import annotations

import datetime
import io
import tempfile
import time
from pathlib import Path

from benchmarks._report import Report, best_time
from nmr_balance.record import Condition, Cue, CueType, Patient, Session, Trial, TrialStatus
from nmr_balance.reporting import documentation_note, write_summary_csv
from nmr_balance.reporting.model import ClinicInfo, SessionReport
from nmr_balance.results import RecordingFacts, StandResult, TrialResults
from nmr_balance.stream import sway_info
from nmr_balance.summary import SessionSummary, TrialSummary, session_summary
from ui.report import write_session_pdf

COMMAND = "python -m benchmarks.bench_report"


PATIENT = Patient(17, "P017")
VISION_SURFACE = (("open", "firm"), ("closed", "firm"), ("open", "foam"), ("closed", "foam"))


def _session(sid: int, day: int, n_points: int) -> SessionSummary:
    import numpy as np

    rng = np.random.default_rng(sid)
    t0 = datetime.datetime(2026, 11, 2, 9, tzinfo=datetime.UTC) + datetime.timedelta(days=day)
    trials = []
    for k in range(12):
        xy = np.cumsum(rng.standard_normal((n_points, 2)), axis=0) * 0.3
        xy -= xy.mean(axis=0)
        cov = np.cov(xy.T)
        ev = np.linalg.eigvalsh(cov)
        path = float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))
        metrics = {
            "mean_velocity": path / 30,
            "path_length": path,
            "ellipse_area_95_chi2": float(np.pi * 5.991 * np.sqrt(np.linalg.det(cov))),
            "ellipse_major_95_chi2": float(np.sqrt(5.991 * ev[1])),
            "ellipse_minor_95_chi2": float(np.sqrt(5.991 * ev[0])),
            "ellipse_angle_deg": 30.0,
            "rms_distance": float(np.sqrt((xy**2).sum(1).mean())),
        }
        results = TrialResults(
            recording=RecordingFacts(n_points, n_points / 30.0, 30.0, 0, 1.0, "mm"),
            sway=metrics,
            stand=StandResult(True, 30.0),
            outcome="complete",
        )
        info = sway_info("sim://", n_points / 30.0)
        started = t0 + datetime.timedelta(minutes=k)
        record = Trial(
            100 * sid + k,
            sid,
            "mctsib",
            Condition(*VISION_SURFACE[k % 4]),
            {"duration_s": 30.0},
            "sim://",
            info,
            info,
            started.isoformat(),
            (started + datetime.timedelta(seconds=30)).isoformat(),
            TrialStatus.COMPLETE,
            results.to_dict(),
            ["look at the dot"],
            "",
        )
        cues = (Cue(3.0, "look at the dot", CueType.VERBAL),)
        trials.append(TrialSummary(record, results, 30.0, cues, (), xy))
    session = Session(
        sid,
        PATIENT.id,
        t0.isoformat(),
        (t0 + datetime.timedelta(minutes=14)).isoformat(),
        "A. Berg",
        pain_before=3,
        pain_after=2,
        borg_before=9,
        borg_after=12,
    )
    return session_summary(session, PATIENT, trials)


def _baseline_canvas(report: SessionReport) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    for t in report.session.trials:
        p = c.beginPath()
        x0, y0 = t.xy[0]
        p.moveTo(300 + x0, 400 + y0)
        for x, y in t.xy[1:]:
            p.lineTo(300 + x, 400 + y)
        c.drawPath(p)
    c.showPage()
    c.save()
    return buf.getvalue()


def run(quick: bool = False) -> Report:
    n_points = 1000 if quick else 3000
    history = tuple(_session(i + 1, 7 * i, n_points) for i in range(3))
    report = SessionReport(ClinicInfo("Riverside PT"), PATIENT, history[-1], history)
    out = Report("Session report (PDF, note, CSV)", COMMAND)
    repeat = 2 if quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "r.pdf"
        t_pdf = best_time(lambda: write_session_pdf(report, pdf), repeat=repeat, number=1)
        t_base = best_time(lambda: _baseline_canvas(report), repeat=repeat, number=1)
        out.add(
            "PDF of a 12-trial session (+2 earlier sessions)",
            t_pdf * 1e3,
            "ms",
            t_base * 1e3,
            "bare canvas, paths only",
            goal="< 1000 ms (button)",
            note=f"{n_points} points per statokinesigram; {pdf.stat().st_size / 1024:.0f} kB",
        )
        t_note = best_time(lambda: documentation_note(report), repeat=repeat)
        out.add("documentation note", t_note * 1e3, "ms", goal="< 50 ms")
        sessions = list(history) * 10
        t_csv = best_time(
            lambda: write_summary_csv(sessions, Path(tmp) / "s.csv"), repeat=repeat, number=1
        )
        out.add("CSV summary, 360 trials", t_csv * 1e3, "ms")
    out.headline = {"report_pdf_ms": round(t_pdf * 1e3, 1), "note_ms": round(t_note * 1e3, 2)}
    return out


if __name__ == "__main__":
    t0 = time.perf_counter()
    print(run().text())
    print(f"({time.perf_counter() - t0:.1f} s)")
