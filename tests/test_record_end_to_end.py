"""One session, end to end from the command line, with the simulator faster than real time.

`run mctsib`, `run los`, `run weight_shift --level 2` and a `record --note` go into one session of
one database; then `report --session N --pdf --note`. The note and the PDF (its text extracted
with pdftotext) must carry the same numbers: the sensory ratios, the Limits of Stability
composite and each direction, the weight-shift hits and level 2, the therapist's note; and
`trials --format json` the same typed results. Neither document holds a dictionary dump.

What the simulated patient does is not judged here (its plausibility is the simulator's own
tests): only that every output says the same thing about the one stored record.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import subprocess

import pytest
from _helpers import run_cli

from tests._report_util import pdf_text

pytestmark = pytest.mark.timeout(600)

SIM = "sim://?realtime=0&rate=100&seed=3"
NOTE = "Pt reports mild dizziness at 20 s"


@dataclasses.dataclass(frozen=True)
class Made:
    """What the command line made: the database, the session, the note, the PDF's text, the
    CSV summary."""

    db: str
    session_id: int
    note: str
    pdf: str
    csv: pathlib.Path
    los_run: str  # what `run los` printed

    def __iter__(self):  # db, session_id, note, pdf
        return iter((self.db, self.session_id, self.note, self.pdf))


def nmr(*args: str) -> subprocess.CompletedProcess:
    out = run_cli(*args, timeout=300)
    assert out.returncode == 0, f"nmr-balance {' '.join(args)}:\n{out.stderr[-3000:]}"
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The recorded session (see :class:`Made`)."""
    tmp = tmp_path_factory.mktemp("e2e")
    db, data = str(tmp / "station.db"), str(tmp / "data")
    common = ("--patient", "P100", "--db", db, "--data-dir", data, "--quiet")
    first = json.loads(nmr("run", "mctsib", "--source", SIM, *common, "--json").stdout)
    with_trials = json.loads(nmr("trials", "--db", db, "--format", "json").stdout)
    (session_id,) = {t["session"] for t in with_trials}
    assert {t["id"] for t in with_trials} == set(first["recorded_trial_ids"])
    more = ("--session", str(session_id))
    los_run = nmr("run", "los", "--source", SIM, *common, *more).stdout
    nmr("run", "weight_shift", "--source", SIM, "--level", "2", *common, *more)
    nmr(
        "record",
        "--source",
        SIM,
        "--patient",
        "P100",
        "--db",
        db,
        "--duration",
        "5",
        "--note",
        NOTE,
        *more,
    )
    pdf, note, csv = tmp / "report.pdf", tmp / "note.txt", tmp / "summary.csv"
    nmr("report", "--session", str(session_id), "--db", db, "--pdf", str(pdf), "--note", str(note))
    nmr("report", "--csv", str(csv), "--db", db)
    return Made(db, session_id, note.read_text(), pdf_text(pdf), csv, los_run)


def summary_of(db: str, session_id: int):
    from recordings import Store
    from recordings.report_data import load_session_summary

    with Store.open(db) as store:
        return load_session_summary(store, store.session(session_id), with_paths=False)


def test_one_session_holds_every_run_and_the_recording(session):
    db, session_id, _, _ = session
    summary = summary_of(db, session_id)
    assert [b.name for b in summary.blocks] == ["mctsib", "los", "weight_shift", "free"]
    assert all(t.status == "complete" for t in summary.trials)
    assert summary.trials[-1].notes == NOTE and summary.notes == ""


def test_note_and_pdf_carry_the_same_sensory_ratios(session):
    from nmr_balance.reporting.results_text import ratio

    db, session_id, note, pdf = session
    mctsib = next(b for b in summary_of(db, session_id).blocks if b.name == "mctsib")
    assert set(mctsib.sensory_ratios) >= {"somatosensory", "visual", "vestibular"}
    for name, value in mctsib.sensory_ratios.items():
        assert math.isfinite(value)
        assert f"[{_formula(name)}]: {ratio(value)}" in flat(note), name
        assert f"{_formula(name)} {ratio(value)}" in pdf, name


def _formula(name: str) -> str:
    from nmr_balance.reporting.compare import RATIO_FORMULAS

    return RATIO_FORMULAS[name]


def test_note_and_pdf_carry_the_same_los_composite_and_directions(session):
    from nmr_balance.reporting.results_text import los_line, los_values
    from nmr_balance.results import LOS_DIRECTIONS

    db, session_id, note, pdf = session
    los = next(b for b in summary_of(db, session_id).blocks if b.name == "los").los
    assert los is not None and list(los.per_direction) == list(LOS_DIRECTIONS)
    rows = [("composite", los.composite)] + [(d, los.per_direction[d]) for d in LOS_DIRECTIONS]
    for name, scores in rows:
        assert los_line(name, scores, "mm") in flat(note), name
        assert f"{name} {' '.join(los_values(scores))}" in pdf, name
        assert los_line(name, scores, "mm") in session.los_run, name  # what `run` printed
    # and `trials --format json` gives the very same numbers, typed, for scripts
    listed = json.loads(nmr("trials", "--db", db, "--format", "json").stdout)
    (los_trial,) = [t for t in listed if t["protocol"] == "los"]
    composite = los_trial["results"]["los"]["composite"]
    assert set(composite) == {
        "reaction_time_s",
        "movement_velocity",
        "endpoint_excursion_pct",
        "max_excursion_pct",
        "directional_control_pct",
    }
    for key, value in composite.items():
        assert value == pytest.approx(getattr(los.composite, key), nan_ok=True)
    assert list(los_trial["results"]["los"]["per_direction"]) == list(LOS_DIRECTIONS)
    assert "level" not in los_trial["results"] and los_trial["level"] is None  # tests: no level


def test_note_and_pdf_carry_the_weight_shift_hits_and_level_2(session):
    from nmr_balance.reporting.results_text import training_line

    db, session_id, note, pdf = session
    block = next(b for b in summary_of(db, session_id).blocks if b.name == "weight_shift")
    training = block.training
    assert training.level == 2 and training.sets == 2 and training.targets == 16
    line = training_line(training)
    assert f"targets hit {training.hits} of 16" in line and "level 2" in line
    assert line in flat(note) and line in pdf
    listed = json.loads(nmr("trials", "--db", db, "--format", "json").stdout)
    shifts = [t for t in listed if t["protocol"] == "weight_shift"]
    assert [t["results"]["training"]["level"] for t in shifts] == [2, 2]
    assert sum(t["results"]["training"]["hits"] for t in shifts) == training.hits
    assert {"hits", "targets", "time_in_target_pct"} <= set(shifts[0]["results"]["training"])


def test_the_csv_summary_has_the_same_typed_results(session):
    import csv

    db, session_id, _, _ = session
    summary = summary_of(db, session_id)
    rows = {int(r["trial_id"]): r for r in csv.DictReader(session.csv.open())}
    assert set(rows) == {t.id for t in summary.trials}
    block = next(b for b in summary.blocks if b.name == "los")
    row = rows[block.los_trial]
    assert float(row["max_excursion_pct"]) == pytest.approx(block.los.composite.max_excursion_pct)
    assert float(row["los_F_reaction_time_s"]) == pytest.approx(
        block.los.per_direction["F"].reaction_time_s
    )
    shifts = [rows[t.id] for t in summary.trials if t.protocol == "weight_shift"]
    assert [r["level"] for r in shifts] == ["2", "2"]
    assert sum(int(float(r["hits"])) for r in shifts) == summary.blocks[2].training.hits
    assert rows[summary.trials[-1].id]["level"] == ""  # a free recording has no level


def test_the_therapists_note_is_in_both_in_their_words_and_nothing_is_a_dump(session):
    _, _, note, pdf = session
    assert NOTE in flat(note) and NOTE in pdf
    for text in (note, pdf):
        assert "{" not in text and "}" not in text
        assert "Level 1" not in text  # tests are not given an invented level
    assert "as steady as eyes open" not in pdf and "as steady as eyes open" not in note
    # no standing-sway reading of a target or LOS trace, no sway chart titled as LOS
    assert "smaller, tighter trace" not in pdf
    assert "Limits of Stability (8 directions): mean sway velocity" not in pdf


def test_trials_lists_each_trials_key_result(session):
    db, *_ = session
    table = nmr("trials", "--db", db).stdout.splitlines()
    assert table[0].split()[-1] == "result"
    shifts = [line for line in table if " weight_shift " in line]
    assert len(shifts) == 2 and all("hits " in s and "level 2" in s for s in shifts)
    (los,) = [line for line in table if " los " in line]
    assert "LOS max excursion" in los and "directional control" in los
