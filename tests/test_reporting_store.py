"""Reports from a real station database: simulated sessions recorded faster than real time,
a replayed trial, an interrupted trial; the PDF rendered to PNG and looked at page by page."""

from __future__ import annotations

import csv
import datetime
import math
import shutil
import time

import numpy as np
import pytest

from nmr_balance.app import open_source
from nmr_balance.app.cli import main
from nmr_balance.pipeline import Pipeline
from nmr_balance.record import CueType
from nmr_balance.reporting import documentation_note
from nmr_balance.reporting.minutes import timed_minutes
from recordings import Condition, Store
from recordings.recorder import Recorder
from recordings.report_data import session_report
from recordings.store import PROCESSED, RAW
from tests._report_util import MIN_BODY_INK, page_count, pdf_text, render
from ui.report import write_session_pdf

pytestmark = pytest.mark.timeout(90)

CONDITIONS = ("eyes_open,firm", "eyes_closed,firm", "eyes_open,foam", "eyes_closed,foam")
TRIAL_S = 8.0
DAY = datetime.timedelta(days=1)


def _record(store: Store, session_id: int, url: str, condition: str, cues=(), **params) -> int:
    """Record ``url`` (a finite, unpaced source) as one trial until it ends; return its id."""
    with Pipeline(open_source(url)) as pipeline:
        rec = Recorder(
            store,
            pipeline,
            session_id,
            protocol="mctsib",
            condition=Condition.parse(condition),
            parameters={"duration_s": TRIAL_S, **params},
            from_start=True,
            commit_interval_s=0.1,
        )
        tid = rec.start()
        for text, mode in cues:
            rec.cue(text, mode=mode)
        deadline = time.monotonic() + 20
        while pipeline.running and time.monotonic() < deadline:
            time.sleep(0.01)
        rec.stop()
    return tid


def _sim(condition: str, seed: int, duration: float = TRIAL_S) -> str:
    vision = "closed" if "closed" in condition else "open"
    surface = "foam" if "foam" in condition else "firm"
    return (
        f"sim://?rate=100&realtime=0&duration={duration}&seed={seed}&vision={vision}"
        f"&surface={surface}"
    )


def _interrupted_trial(store: Store, session_id: int, seed: int) -> int:
    """A trial whose recorder died 3.2 s in: chunks committed, no finish (as after a crash)."""
    source = open_source(_sim("eyes_closed,foam", seed, 3.2))
    with Pipeline(source) as pipeline:
        reader = pipeline.processed.reader(from_start=True)
        raw = pipeline.raw.reader(from_start=True)
        while pipeline.running:
            time.sleep(0.01)
        proc, raw_block = reader.read(), raw.read()
        with store.transaction():
            tid = store.begin_trial(
                session_id,
                pipeline.raw_info,
                pipeline.info,
                protocol="mctsib",
                condition=Condition.parse("eyes_closed,foam"),
                parameters={"duration_s": TRIAL_S},
            )
            store.append_chunk(tid, RAW, 0, raw_block)
            store.append_chunk(tid, PROCESSED, 0, proc)
            store.add_event(tid, 3.1, "device_lost", {"message": "no data for 1 s"})
    return tid


@pytest.fixture(scope="module")
def clinic_db(tmp_path_factory):
    """Three weekly mCTSIB sessions of one patient; the last one has an interrupted trial."""
    db = tmp_path_factory.mktemp("clinic") / "station.db"
    start = datetime.datetime.now(datetime.UTC) - 14 * DAY
    ids = {}
    with Store.open(db) as store:
        store.add_patient("P017", birth_year=1948, sex="F")
        for week in range(3):
            s = store.start_session(
                "P017",
                therapist="A. Berg",
                pain_before=3,
                borg_before=9,
                started=(start + 7 * week * DAY).isoformat(),
            )
            for i, cond in enumerate(CONDITIONS):
                if week == 2 and i == 3:
                    ids["interrupted"] = _interrupted_trial(store, s.id, 100 + i)
                    continue
                cues = (
                    [("look at the dot", "verbal"), ("hand on the hip", "tactile")]
                    if i == 1
                    else []
                )
                _record(store, s.id, _sim(cond, 10 * week + i), cond, cues)
            store.end_session(s.id, pain_after=2, borg_after=12, notes="Tolerated well.")
            ids[week] = s.id
    with Store.open(db) as store:  # reopening marks the crashed trial interrupted
        assert store.trial(ids["interrupted"]).status == "interrupted"
    return db, ids


def test_report_data_reflects_what_was_recorded(clinic_db):
    db, ids = clinic_db
    with Store.open(db) as store:
        report = session_report(store, ids[2])
    s = report.session
    assert [t.status for t in s.trials] == ["complete"] * 3 + ["interrupted"]
    assert all(t.duration_s == pytest.approx(TRIAL_S) for t in s.trials[:3])
    assert s.trials[3].duration_s == pytest.approx(3.2)
    assert s.trials[3].problems == ("device lost at 3.1 s",)
    assert [c.type for c in s.trials[1].cues] == [CueType.VERBAL, CueType.TACTILE]
    assert s.trials[0].xy.shape == (800, 2) and np.all(np.isfinite(s.trials[0].xy))
    assert [h.id for h in report.history] == [ids[0], ids[1], ids[2]]
    assert report.previous.id == ids[1] and report.baseline.id == ids[0]
    # Never more time than recorded: the visit lasted well under 8 minutes of timed work.
    m = timed_minutes(s, report.units_rule, report.max_gap_instruction_s)
    assert m.trial_s == pytest.approx(3 * TRIAL_S + 3.2)
    # Simulated faster than real time: 27 s of signal in a shorter visit; only the span counts.
    assert m.counted_s == pytest.approx(min(m.trial_s, m.span_s)) and m.units == 0


def test_pdf_of_the_session_with_the_interrupted_trial(clinic_db, tmp_path, artifacts_dir):
    db, ids = clinic_db
    with Store.open(db) as store:
        report = session_report(store, ids[2])
    pdf = write_session_pdf(report, tmp_path / "report.pdf")
    assert pdf.stat().st_mode & 0o777 == 0o600
    pages, ink = render(pdf, tmp_path)
    # Summary + 4 sway paths, comparison, progress charts, record: 3 or 4 pages, none blank.
    assert len(pages) == page_count(pdf) and 3 <= len(pages) <= 4
    assert min(ink) > MIN_BODY_INK, ink
    text = pdf_text(pdf)
    for phrase in (
        "Balance and proprioception report",
        "P017",
        "stopped early",
        "Compared with earlier sessions",
        "Progress across sessions",
        "Timed minutes (CPT 97112)",
        "device lost at 3.1 s",
        "look at the dot (verbal",
        f"page 1 of {len(pages)}",
    ):
        assert phrase in text, phrase
    for p in pages:  # for a person to look at
        shutil.copy(p, artifacts_dir / f"report-{p.name}")


def test_note_from_the_store_is_honest(clinic_db):
    db, ids = clinic_db
    with Store.open(db) as store:
        note = " ".join(documentation_note(session_report(store, ids[2])).split())
    assert (
        "trial 4 stopped after 3.2 s of 8 s planned (interrupted: device lost at 3.1 s)".replace(
            "trial 4", f"trial {ids['interrupted']}"
        )
        in note
    )
    assert 'Verbal (1): "look at the dot"' in note and 'Tactile (1): "hand on the hip"' in note
    assert "Pain (0-10): 3/10 before, 2/10 after." in note
    assert "Since the previous session" in note and "Since the baseline" in note
    assert "CPT 97112 units: 0 (CMS 8-minute rule" in note


def test_report_of_a_replayed_session_matches_the_original(clinic_db, tmp_path):
    """A stored trial replayed through the live pipeline into a new session reports alike."""
    db, ids = clinic_db
    with Store.open(db) as store:
        original = store.trials(session=ids[0])[1]
        s = store.start_session("P017", therapist="replay")
        tid = _record(
            store, s.id, f"replay://{db}?trial={original.id}&speed=max", "eyes_closed,firm"
        )
        report = session_report(store, s.id)
        before = session_report(store, ids[0]).session.trials[1]
    (after,) = report.session.trials
    assert after.id == tid and after.duration_s == pytest.approx(before.duration_s)
    np.testing.assert_array_equal(after.xy, before.xy)
    assert after.metrics.get("n_samples") == before.metrics.get("n_samples")
    write_session_pdf(report, tmp_path / "replayed.pdf")
    assert "eyes closed, firm" in pdf_text(tmp_path / "replayed.pdf")


def test_cli_report_note_and_csv(clinic_db, tmp_path, capsys):
    db, ids = clinic_db
    pdf, note, summary = tmp_path / "s.pdf", tmp_path / "s.txt", tmp_path / "all.csv"

    def report(*args) -> int:  # `nmr-balance report --db DB ARGS`, in this process
        return main(["report", "--db", str(db), *args])

    session = ("--session", str(ids[2]))
    assert report(*session, "--pdf", str(pdf), "--note", str(note), "--csv", str(summary)) == 0
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert "CPT 97112" in note.read_text()
    rows = list(csv.DictReader(summary.open()))
    assert len(rows) >= 12 and {r["status"] for r in rows} >= {"complete", "interrupted"}
    assert report("--session", str(ids[0]), "--note", "-") == 0
    assert "NEUROMUSCULAR RE-EDUCATION" in capsys.readouterr().out
    # 30 minutes of instruction cannot have happened in a visit recorded in seconds.
    assert report(*session, "--note", "-", "--instruction-min", "30") == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "entered by the therapist" in out and "exceed the recorded visit span" in out
    assert "CPT 97112 units: 0" in out
    # Clear errors, exit status 2, no traceback.
    assert report("--session", "999", "--note", "-") == 2
    assert "session" in capsys.readouterr().err
    assert report() == 2
    assert report("--session", str(ids[0]), "--pdf", str(tmp_path / "missing-dir" / "x.pdf")) == 2
    assert "cannot write" in capsys.readouterr().err


def test_los_results_of_the_protocol_engine_are_read_by_bearing(clinic_db):
    """The engine stores a list of per-direction dicts with bearings; the report keys them F..FL."""
    db, _ = clinic_db
    with Store.open(db) as store:
        s = store.start_session("P017", therapist="A. Berg")
        tid = _record(store, s.id, _sim("eyes_open,firm", 77, 2.0), "eyes_open,firm")
        per_direction = [
            {
                "bearing_deg": 45.0 * i,
                "max_excursion_pct": 60.0 + i,
                "reaction_time_s": 0.5,
                "label": "not a number",
            }
            for i in range(8)
        ]
        store.set_metrics(
            tid,
            {**store.trial(tid).metrics, "per_direction": per_direction, "max_excursion_pct": 63.5},
        )
        (trial,) = session_report(store, s.id).session.trials
    assert list(trial.los.per_direction) == ["F", "FR", "R", "BR", "B", "BL", "L", "FL"]
    right = trial.los.per_direction["R"]
    assert (right.max_excursion_pct, right.reaction_time_s) == (62.0, 0.5)
    assert math.isnan(right.directional_control_pct)  # not stored: not invented
    # the composite of a record stored without one is the mean of its directions
    assert trial.los.composite.max_excursion_pct == 63.5
    assert trial.metrics["max_excursion_pct"] == 63.5 and "per_direction" not in trial.metrics


def test_report_button_writes_off_the_gui_thread(clinic_db, tmp_path, qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

    from ui.report.button import ReportExporter

    db, ids = clinic_db
    window = QWidget()
    qtbot.addWidget(window)
    reporter = ReportExporter(db, parent=window)
    answers = iter([("", ""), (str(tmp_path / "P017-s3"), "PDF report (*.pdf)")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: next(answers)))
    assert reporter.ask_and_export(window, ids[2], "P017") is None  # cancelled: nothing happens
    with qtbot.waitSignal(reporter.finished, timeout=30_000) as done:
        assert reporter.ask_and_export(window, ids[2], "P017") == tmp_path / "P017-s3.pdf"
    made = done.args[0]
    assert made.pdf.read_bytes()[:5] == b"%PDF-" and made.note_path == tmp_path / "P017-s3.txt"
    assert made.note_path.read_text() == made.note == QApplication.clipboard().text()
    # A failure is one message in a dialog, not an exception in the event loop.
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: shown.append(a[2])))
    with qtbot.waitSignal(reporter.failed, timeout=30_000):
        reporter.export(9999, tmp_path / "never.pdf")
    assert len(shown) == 1 and "session" in shown[0] and not (tmp_path / "never.pdf").exists()
    assert reporter.wait()


def test_overlapping_sessions_of_one_patient_are_flagged(tmp_path):
    """Two visits of one patient whose times overlap cannot both bill those minutes: the note
    and the PDF say so; a later, separate visit is not flagged."""
    from recordings.report_data import load_session_summary

    with Store.open(tmp_path / "s.db") as store:
        store.add_patient("P1")
        store.add_patient("P2")
        a = store.start_session("P1", started="2026-11-02T09:00:00.000+00:00")
        b = store.start_session("P1", started="2026-11-02T09:20:00.000+00:00")
        other = store.start_session("P2", started="2026-11-02T09:10:00.000+00:00")
        for s in (a, b, other):
            store.end_session(s.id)  # all end now: a and b overlap, P2's is another patient
        later = store.start_session("P1", started="2099-01-01T09:00:00.000+00:00")
        assert load_session_summary(store, store.session(a.id)).overlaps == (b.id,)
        assert load_session_summary(store, store.session(b.id)).overlaps == (a.id,)
        assert load_session_summary(store, store.session(later.id)).overlaps == ()
        report = session_report(store, a.id)
    note = " ".join(documentation_note(report).split())
    assert f"overlaps in time with session #{b.id} of the same patient" in note
    pdf = pdf_text(write_session_pdf(report, tmp_path / "a.pdf"))
    assert f"overlaps in time with session #{b.id} of the same patient" in pdf


def test_a_stored_cue_of_a_type_no_longer_known_is_shown_as_stored(tmp_path):
    """No way in stores a cue of another type now, but an older version did: the record keeps
    saying what it holds ("type not recognised: 'auditory'"), never another type in its place."""
    import json
    import sqlite3

    db = tmp_path / "s.db"
    with Store.open(db) as store:
        store.add_patient("P1")
        session = store.start_session("P1")
        tid = _record(store, session.id, _sim("eyes_open,firm", 3, duration=2.0), "eyes_open,firm")
        store.end_session(session.id)
    # as an older version wrote them: straight into the events table
    conn = sqlite3.connect(db)
    with conn:
        for t, payload in (
            (0.5, {"text": "weight on the heels", "type": "auditory"}),
            (0.8, {"text": "eyes on the dot", "mode": "Visual"}),
            (1.0, {"text": "stand tall", "type": None}),
        ):
            conn.execute(
                "INSERT INTO events (trial_id, t, kind, payload) VALUES (?, ?, 'cue', ?)",
                (tid, t, json.dumps(payload)),
            )
    conn.close()
    with Store.open(db, read_only=True) as store:
        report = session_report(store, session.id)
    (trial,) = report.session.trials
    assert [(c.text, c.type, c.stored_type) for c in trial.cues] == [
        ("weight on the heels", None, "auditory"),
        ("eyes on the dot", CueType.VISUAL, ""),
        ("stand tall", CueType.UNSPECIFIED, ""),
    ]
    note = " ".join(documentation_note(report).split())
    assert "Type not recognised: 'auditory' (1): \"weight on the heels\"" in note
    assert 'Visual (1): "eyes on the dot"' in note
    assert 'Type not recorded (1): "stand tall"' in note
    assert "Verbal: none logged" in note
    pdf = pdf_text(write_session_pdf(report, tmp_path / "s.pdf"))
    pdf = pdf.replace(" Cues given ", " ")  # the row's title, laid out in the middle of its cell
    assert f"weight on the heels (type not recognised: 'auditory', trial {tid})" in pdf
    assert f"eyes on the dot (visual, trial {tid})" in pdf
    assert f"stand tall (type not recorded, trial {tid})" in pdf
