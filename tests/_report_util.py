"""Plain report records for the reporting tests: sessions built by hand, with known numbers."""

from __future__ import annotations

import dataclasses
import datetime
import re
import subprocess

import numpy as np

from nmr_balance.record import Condition, Cue, CueType, Patient, Session, Trial, TrialStatus
from nmr_balance.reporting.model import ClinicInfo, SessionReport
from nmr_balance.results import (
    LOS_DIRECTIONS,
    LosResult,
    RecordingFacts,
    StandResult,
    TrainingScores,
    TrialResults,
)
from nmr_balance.stream import sway_info
from nmr_balance.summary import SessionSummary, TrialSummary, session_summary

PATIENT = Patient(17, "P017", birth_year=1948, sex="F")

T0 = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
CONDITIONS = ("eyes open, firm", "eyes closed, firm", "eyes open, foam", "eyes closed, foam")


def sway_path(n: int, scale_mm: float, seed: int) -> np.ndarray:
    """A wandering 2-D path (mm), shape (n, 2): ML narrower than AP like real standing sway."""
    rng = np.random.default_rng(seed)
    steps = rng.standard_normal((n, 2)) * [0.35, 0.6]
    path = np.cumsum(steps, axis=0)
    path -= np.linspace(0, 1, n)[:, None] * path[-1]  # no drift: a closed, bounded wander
    return path / np.abs(path).max() * scale_mm


def sway_metrics(xy: np.ndarray, fs: float) -> dict[str, float]:
    """The metrics a report shows, computed directly (ellipse: chi-square(2) 95 %)."""
    d = xy - xy.mean(axis=0)
    cov = np.cov(d.T)
    evals, evecs = np.linalg.eigh(cov)
    path = float(np.sum(np.hypot(*np.diff(xy, axis=0).T)))
    chi2 = 5.991464547107979
    return {
        "mean_x": float(xy[:, 0].mean()),
        "mean_y": float(xy[:, 1].mean()),
        "mean_velocity": path / (len(xy) / fs),
        "path_length": path,
        "rms_distance": float(np.sqrt(np.mean(np.sum(d**2, axis=1)))),
        "range_ml": float(np.ptp(xy[:, 0])),
        "range_ap": float(np.ptp(xy[:, 1])),
        "ellipse_area_95_chi2": float(np.pi * chi2 * np.sqrt(np.linalg.det(cov))),
        "ellipse_major_95_chi2": float(np.sqrt(chi2 * evals[1])),
        "ellipse_minor_95_chi2": float(np.sqrt(chi2 * evals[0])),
        "ellipse_angle_deg": float(np.degrees(np.arctan2(evecs[1, 1], evecs[0, 1]))),
        "n_samples": len(xy),
        "duration_s": len(xy) / fs,
    }


def condition_of(label: str) -> Condition:
    """ "eyes closed, foam" -> Condition("closed", "foam")."""
    vision = "closed" if "closed" in label else "open" if "open" in label else ""
    surface = "foam" if "foam" in label else "firm" if "firm" in label else ""
    return Condition(vision, surface)


def trial(
    tid: int,
    started: datetime.datetime,
    condition: str = CONDITIONS[0],
    duration_s: float = 30.0,
    scale_mm: float = 8.0,
    status: str = "complete",
    protocol: str = "mctsib",
    seed: int | None = None,
    *,
    metrics: dict | None = None,
    training: dict | None = None,
    los: dict | None = None,
    level: int | None = None,
    repetitions: int | None = None,
    planned_s: float = 30.0,
    cues: tuple = (),
    problems: tuple = (),
    notes: str = "",
    stand: bool | None = None,
) -> TrialSummary:
    """A trial of known numbers: a wandering sway path and its metrics, plus the given scores."""
    fs = 25.0
    xy = sway_path(max(int(duration_s * fs), 10), scale_mm, tid if seed is None else seed)
    sway = sway_metrics(xy, fs)
    sway.update(metrics or {})
    if stand is None:
        stand = protocol in ("mctsib", "romberg", "free")
    results = TrialResults(
        recording=RecordingFacts(len(xy), fs, duration_s, 0, 1.0, "mm"),
        sway={k: float(v) for k, v in sway.items()},
        stand=StandResult(True, duration_s) if stand else None,
        los=LosResult.from_dict({"per_direction": los, "composite": _composite(los)})
        if los
        else None,
        training=TrainingScores.from_dict(training) if training else None,
        level=level,
        outcome=status,
    )
    parameters = {"duration_s": planned_s}
    if level is not None:
        parameters["level"] = level
    if repetitions is not None:
        parameters["repetitions"] = repetitions
    info = sway_info("sim://", fs)
    record = Trial(
        id=tid,
        session_id=0,
        protocol=protocol,
        condition=condition_of(condition),
        parameters=parameters,
        source_url="sim://",
        raw_info=info,
        info=info,
        started=started.isoformat(),
        ended=(started + datetime.timedelta(seconds=duration_s)).isoformat(),
        status=TrialStatus(status),
        metrics=results.to_dict(),
        cues=[c.text for c in cues],
        notes=notes,
    )
    return TrialSummary(record, results, duration_s, tuple(cues), tuple(problems), xy)


def _composite(los: dict) -> dict:
    keys = next(iter(los.values())).keys()
    return {k: float(np.mean([v[k] for v in los.values()])) for k in keys}


def session_of(
    sid: int,
    start: datetime.datetime,
    trials,
    ended: datetime.datetime | None = None,
    **fields,
) -> SessionSummary:
    session = Session(
        id=sid,
        patient_id=PATIENT.id,
        started=start.isoformat(),
        ended=ended.isoformat() if ended else None,
        **fields,
    )
    return session_summary(session, PATIENT, list(trials))


def edit(summary: SessionSummary, trials=None, **session_fields) -> SessionSummary:
    """``summary`` with other trials and/or session fields (datetimes allowed), re-summarised
    (the way a changed record would be)."""
    fields = {
        k: v.isoformat() if isinstance(v, datetime.datetime) else v
        for k, v in session_fields.items()
    }
    session = dataclasses.replace(summary.session, **fields)
    return session_summary(
        session, summary.patient, list(summary.trials if trials is None else trials)
    )


def mctsib_session(
    sid: int, day: int, scale: float = 1.0, interrupted: bool = False, first_trial_id: int = 1
) -> SessionSummary:
    """One mCTSIB visit: each condition once, 30 s, 60 s apart; sway grows with difficulty."""
    start = T0 + datetime.timedelta(days=day)
    trials, t = [], start + datetime.timedelta(minutes=2)
    for i, cond in enumerate(CONDITIONS):
        last = interrupted and i == len(CONDITIONS) - 1
        cues = (
            (
                Cue(5.0, "look at the dot", CueType.VERBAL),
                Cue(12.0, "hand on the hip", CueType.TACTILE),
                Cue(20.0, "look at the dot", CueType.VERBAL),
            )
            if i == 1
            else ()
        )
        trials.append(
            trial(
                first_trial_id + i,
                t,
                cond,
                duration_s=12.4 if last else 30.0,
                scale_mm=scale * (6 + 4 * i),
                status="interrupted" if last else "complete",
                seed=i,
                problems=("device lost at 12.1 s",) if last else (),
                cues=cues,
            )
        )
        t += datetime.timedelta(seconds=90)
    ended = t + datetime.timedelta(minutes=1)
    return session_of(
        sid,
        start,
        trials,
        ended,
        therapist="A. Berg",
        pain_before=3,
        pain_after=2,
        borg_before=9,
        borg_after=12,
    )


def training_session(
    sid: int, day: int, first_trial_id: int, score: float, offset_min: float = 0.0
) -> SessionSummary:
    """Weight-shift training: 3 sets of 10 repetitions, 2 min each, level 3, foam."""
    start = T0 + datetime.timedelta(days=day, minutes=offset_min)
    trials = tuple(
        trial(
            first_trial_id + k,
            start + datetime.timedelta(minutes=3 * k),
            "eyes open, foam",
            duration_s=120.0,
            protocol="weight_shift",
            repetitions=10,
            level=3,
            planned_s=120.0,
            training={
                "success_pct": score + k,
                "time_in_target_pct": 60.0 + k,
                "hits": 7 + k,
                "targets": 10,
            },
            cues=(Cue(30.0, "shift from the ankles", CueType.VISUAL),),
        )
        for k in range(3)
    )
    return session_of(
        sid,
        start,
        trials,
        start + datetime.timedelta(minutes=10),
        therapist="A. Berg",
        pain_before=2,
        borg_before=8,
        borg_after=13,
    )


def report_of(
    session: SessionSummary,
    history: tuple[SessionSummary, ...] = (),
    units_rule: str = "cms_8_minute",
    count_pauses: bool = False,
) -> SessionReport:
    return SessionReport(
        ClinicInfo("Riverside Physical Therapy", "12 Main Street, Springfield", "+1 555 0100"),
        PATIENT,
        session,
        history=history or (session,),
        units_rule=units_rule,
        count_pauses=count_pauses,
    )


def los_trial(tid: int, started: datetime.datetime, reach: float = 80.0) -> TrialSummary:
    """A Limits of Stability trial: per direction, excursions around ``reach`` % (less backwards)."""
    los = {
        d: {
            "reaction_time_s": 0.6 + 0.02 * i,
            "movement_velocity": 3.0 + 0.1 * i,
            "endpoint_excursion_pct": reach * (0.7 if "B" in d else 0.9) - 5,
            "max_excursion_pct": reach * (0.7 if "B" in d else 0.9),
            "directional_control_pct": 75.0 + i,
        }
        for i, d in enumerate(LOS_DIRECTIONS)
    }
    return trial(
        tid, started, "eyes open, firm", duration_s=80.0, protocol="los", planned_s=80.0, los=los
    )


# --- reading a PDF back (poppler-utils) ---------------------------------------------------
#: A page whose body (between the running header and footer) has less ink than this is blank.
MIN_BODY_INK = 0.005


def render(pdf, out_dir, dpi: int = 50) -> tuple[list, list[float]]:
    """The PDF's pages as PNGs (pdftoppm) and the share of ink in each page's body.

    The body is the page without its running header and footer (which every page has), so a
    page holding nothing but those scores about 0; ink = darker than light grey.
    """
    from PIL import Image

    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / "page")],
        check=True,
        timeout=60,
    )
    pages = sorted(out_dir.glob("page-*.png"))
    ink = []
    for p in pages:
        grey = np.asarray(Image.open(p).convert("L"))
        body = grey[int(0.13 * len(grey)) : int(0.9 * len(grey))]
        ink.append(float(np.mean(body < 200)))
    return pages, ink


def pdf_text(pdf) -> str:
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    return " ".join(out.split())


def page_count(pdf) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE).group(1))
