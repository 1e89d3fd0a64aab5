"""``nmr-balance protocols`` and ``nmr-balance run``, as a user runs them (subprocess)."""

from __future__ import annotations

import json

import pytest
from _helpers import run_cli
from protocol_harness import BUILTINS

from nmr_balance.errors import DataFormatError, InvalidParameterError
from nmr_balance.protocols import LosProfile
from nmr_balance.protocols.patient_los import load_los, save_los

pytestmark = pytest.mark.timeout(90)


def nmr(*args, timeout=80):
    return run_cli(*args, timeout=timeout)  # from outside the repository (see run_cli)


def test_protocols_lists_builtins_clinic_files_and_broken_ones(tmp_path):
    (tmp_path / "kids.toml").write_text('title = "Balance for kids"\n[[steps]]\ntask = "stand"\n')
    (tmp_path / "bad.toml").write_text('[[steps]]\ntask = "stand"\nduration_s = "long"\n')
    out = nmr("protocols", "--dir", str(tmp_path), "--verbose")
    assert out.returncode == 1  # a broken file is worth a non-zero status
    lines = {ln.split()[0]: ln for ln in out.stdout.splitlines() if ln and not ln.startswith(" ")}
    for name in BUILTINS:
        assert name in lines, out.stdout
    assert "3.3 min" in lines["mctsib"] and "test" in lines["mctsib"]
    assert "4 levels" in lines["weight_shift"] and "training" in lines["weight_shift"]
    assert "[clinic]" in lines["kids"] and "Balance for kids" in lines["kids"]
    assert "BROKEN" in lines["bad"] and "step 1, field 'duration_s'" in lines["bad"]
    assert "Feet together" in out.stdout  # --verbose: instructions


def test_run_prints_results_as_json_and_reuses_the_patients_measured_los(tmp_path):
    save_los("P001", LosProfile.measured([100, 90, 80, 70, 60, 70, 80, 90], "mm"), tmp_path)
    out = nmr(
        "run",
        "romberg",
        "--source",
        "sim://?realtime=0&seed=2",
        "--patient",
        "P001",
        "--data-dir",
        str(tmp_path),
        "--no-record",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [t["status"] for t in result["trials"]] == ["complete", "complete"]
    summary = result["summary"]  # the one session summary's block, as numbers
    assert summary["protocol"] == "romberg" and summary["kind"] == "test"
    eo, ec = (summary["conditions"][c] for c in ("eyes open, firm", "eyes closed, firm"))
    assert (eo["trials"], eo["falls"], eo["unit"]) == (1, 0, "mm")
    assert eo["mean_velocity"] == result["trials"][0]["scores"]["mean_velocity"]
    assert summary["sensory_ratios"]["somatosensory"] == pytest.approx(
        ec["mean_velocity"] / eo["mean_velocity"]
    )
    # the targets (none in Romberg) would be placed on the patient's measured LOS
    assert result["target_los"]["origin"] == "measured"
    assert result["target_los"]["reach"][0] == 100


def test_run_human_output_and_clear_errors(tmp_path):
    out = nmr(
        "run",
        "los",
        "--source",
        "sim://?realtime=0&respond=0",
        "--patient",
        "P002",
        "--data-dir",
        str(tmp_path),
        "--no-record",
    )
    assert out.returncode == 0, out.stderr
    assert "Lean towards each target" in out.stdout and "=== Limits of Stability" in out.stdout
    # results in words, rounded, with units: no JSON or dictionary dumps, no raw keys
    assert "composite: reaction time" in out.stdout and "directional control" in out.stdout
    assert "{" not in out.stdout and "reaction_time_s" not in out.stdout
    # nobody leaned: no LOS is kept for this patient
    assert "not kept" in out.stdout and load_los("P002", tmp_path) is None
    bad = nmr("run", "nonsense", "--patient", "P1")
    assert bad.returncode == 2 and "Known protocols" in bad.stderr and "mctsib" in bad.stderr
    assert "did you mean" not in bad.stderr and "protocol file" not in bad.stderr
    typo = nmr("run", "mctsbi", "--patient", "P1")
    assert typo.returncode == 2 and "did you mean mctsib?" in typo.stderr
    bad = nmr("run", "weight_shift", "--patient", "P1", "--level", "9")
    assert bad.returncode == 2 and "a level from 1 (easiest) to 4" in bad.stderr
    assert "0-3" not in bad.stderr and "protocol file" not in bad.stderr
    # targets are scaled for training only, within 0.5-3: said before anything opens
    bad = nmr("run", "mctsib", "--patient", "P1", "--target-scale", "1.5")
    assert bad.returncode == 2 and "mctsib is a standardized test" in bad.stderr
    bad = nmr("run", "free_targets", "--patient", "P1", "--dwell-scale", "9")
    assert bad.returncode == 2 and "dwell_scale=9.0" in bad.stderr and "0.5 to 3" in bad.stderr


def test_run_scales_a_training_runs_targets_and_stores_the_scales(tmp_path):
    """``--target-scale 1.5 --dwell-scale 1.5`` (the seniors preset): the targets shown are 1.5x
    the standard radius, and each trial says what it was scored against."""
    from recordings import Store

    db = tmp_path / "station.db"
    common = ["--source", "sim://?realtime=0&seed=2", "--db", str(db), "--data-dir", str(tmp_path)]
    for patient, scale in (("P030", "1"), ("P031", "1.5")):
        scales = ["--target-scale", scale, "--dwell-scale", scale]
        out = nmr("run", "free_targets", "--patient", patient, *common, *scales, "--json")
        assert out.returncode == 0, out.stderr
    with Store.open(db) as store:
        standard, seniors = (store.trials(patient=p)[0] for p in ("P030", "P031"))
        assert (seniors.parameters["target_scale"], seniors.parameters["dwell_scale"]) == (1.5, 1.5)
        assert (standard.parameters["target_scale"], standard.parameters["dwell_scale"]) == (1, 1)
        radius = {
            t.id: {e.payload["radius"] for e in store.events(t.id) if e.kind == "target_shown"}
            for t in (standard, seniors)
        }
        (r_standard,), (r_seniors,) = radius[standard.id], radius[seniors.id]
        assert r_seniors == pytest.approx(1.5 * r_standard)
        assert seniors.results.training.targets == 4


def test_stored_los_is_private_and_a_damaged_one_says_what_to_do(tmp_path):
    path = save_los("P003", LosProfile.theoretical(1.6), tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_los("P003", tmp_path) == LosProfile(
        LosProfile.theoretical(1.6).reach, "mm", "theoretical"
    )
    path.write_text("{not json")
    with pytest.raises(DataFormatError, match="nmr-balance run los"):
        load_los("P003", tmp_path)
    with pytest.raises(InvalidParameterError, match="pseudonymous code"):
        save_los("../../etc", LosProfile.theoretical(), tmp_path)


SHORT = """
name = "short"
summary = "romberg"
[defaults]
task = "stand"
duration_s = 1.5
countdown_s = 0.3
[[steps]]
condition = { vision = "open" }
[[steps]]
condition = { vision = "closed", surface = "foam" }
[[steps]]
task = "targets"
layout = "left_right"
count = 2
timeout_s = 0.8
dwell_s = 0.3
"""


def test_run_records_every_trial_with_its_scores(tmp_path):
    """Real-time source (the recorder stores samples as they arrive), a short clinic protocol."""
    from recordings import PROCESSED, Store

    protocol = tmp_path / "short.toml"
    protocol.write_text(SHORT)
    db = tmp_path / "station.db"
    out = nmr(
        "run",
        str(protocol),
        "--source",
        "sim://?rate=100",
        "--patient",
        "P010",
        "--db",
        str(db),
        "--data-dir",
        str(tmp_path),
        "--json",
        "--therapist",
        "AB",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert db.stat().st_mode & 0o777 == 0o600
    with Store.open(db) as store:
        trials = [store.trial(i) for i in result["recorded_trial_ids"]]
        assert [t.status for t in trials] == ["complete", "complete", "complete"]
        assert [t.protocol for t in trials] == ["short"] * 3
        assert (trials[1].condition.vision, trials[1].condition.surface) == ("closed", "foam")
        for t, r in zip(trials, result["trials"]):
            assert t.parameters["task"] == r["task"] and t.patient_code == "P010"
        # the protocol's scores are stored with the trial as typed results
        stand, targets = trials[0].results, trials[2].results
        assert stand.stand is not None and stand.stand.completed is True
        assert stand.outcome == "complete" and stand.level is None  # a stand step: no level
        assert "mean_velocity" in stand.sway and stand.training is None
        assert targets.training.targets == 2 and targets.training.hits == 0
        kinds = [e.kind for e in store.events(trials[2].id)]
        assert kinds.count("target_shown") == 2 and kinds.count("target_missed") == 2
        n = len(store.samples(trials[0].id, PROCESSED))
        assert 100 <= n <= 220  # ~1.5 s at 100 Hz, started live
        session = store.sessions("P010")[-1]
        # the session's notes are the therapist's words: no summary dumped into them
        assert session.therapist == "AB" and session.notes == ""


def test_a_source_faster_than_real_time_is_recorded_by_sample_time(tmp_path):
    """sim://?realtime=0 runs at the run's pace (pull mode): each stored trial is exactly its
    planned span of samples, its events in sample time, and --note lands on the last trial."""
    from recordings import PROCESSED, RAW, Store

    db = tmp_path / "x.db"
    out = nmr(
        "run",
        "romberg",
        "--source",
        "sim://?realtime=0&rate=100",
        "--patient",
        "P1",
        "--db",
        str(db),
        "--data-dir",
        str(tmp_path),
        "--note",
        "Pt steady, no complaints",
        "--json",
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    with Store.open(db) as store:
        trials = [store.trial(i) for i in result["recorded_trial_ids"]]
        assert len(trials) == len(result["trials"]) >= 2
        for t, r in zip(trials, result["trials"]):
            planned = round((r["t_end_s"] - r["t_start_s"]) * 100)
            assert len(store.samples(t.id, PROCESSED)) == planned
            assert len(store.samples(t.id, RAW)) == planned
            assert t.status == "complete"
        assert trials[-1].notes == "Pt steady, no complaints" and trials[0].notes == ""
        assert store.sessions("P1")[-1].notes == ""


def test_the_training_level_follows_the_patients_recorded_history(tmp_path):
    """Progression across sessions: the level of the last trials, moved by the rule."""
    from nmr_balance.app.protocol_recording import level_from_history
    from nmr_balance.protocols import find
    from nmr_balance.stream import sway_info
    from recordings import Store

    protocol = find("weight_shift")  # 4 levels; >= 80 % twice -> up, < 40 % twice -> down
    info = sway_info("sim://", 100.0)
    with Store.open(tmp_path / "station.db") as store:
        assert level_from_history(store, "NEW", protocol) == (1, "no earlier sessions: level 1")
        store.ensure_patient("P1")
        session = store.start_session("P1")

        def trial(level, success, name="weight_shift", status="complete"):
            tid = store.begin_trial(
                session.id, info, info, protocol=name, parameters={"level": level}
            )
            store.finish_trial(tid, status, {"training": {"success_pct": success}})

        trial(1, 100)
        assert level_from_history(store, "P1", protocol)[0] == 1  # one trial is not enough
        # a trial stored before typed results (flat "protocol.*" keys) still counts
        tid = store.begin_trial(
            session.id, info, info, protocol="weight_shift", parameters={"level": 1}
        )
        store.finish_trial(tid, "complete", {"protocol.success_pct": 90})
        assert level_from_history(store, "P1", protocol) == (
            2,
            "up to level 2: success % 100, 90 >= 80 in the last 2 trials",
        )
        trial(2, 85)
        trial(2, 20, name="maze")  # other protocols do not count
        trial(2, 0, status="aborted")  # nor unfinished trials
        assert level_from_history(store, "P1", protocol)[0] == 2
        trial(2, 30)
        trial(2, 10)
        assert level_from_history(store, "P1", protocol)[0] == 1  # two bad ones: back down
        trial(4, 95)
        trial(4, 99)
        assert level_from_history(store, "P1", protocol)[0] == 4  # already at the top


def test_run_tells_events_and_training_results_in_words(tmp_path):
    out = nmr(
        "run",
        "weight_shift",
        "--level",
        "1",
        "--source",
        "sim://?realtime=0",
        "--patient",
        "P004",
        "--data-dir",
        str(tmp_path),
        "--no-record",
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "target 1 reached and held after" in text  # not "target_hit: target 0, hit True"
    assert "1. left / right: complete \u2014 hits " in text and ", level 1" in text
    # the protocol's results in the note's words: hits over both sets, level, progression
    assert "targets hit " in text and "; level 1" in text
    assert "Progression: next session at level " in text
    assert "{" not in text and "hit True" not in text and "t_s" not in text


@pytest.mark.parametrize("name", ["romberg", "los", "weight_shift"])
def test_a_run_not_recorded_reports_what_the_record_says(name, tmp_path):
    """One computation: the results of a run kept only in memory (``--no-record``) are the
    ones the record gives for the same signal, read back from the store (what the note and the
    PDF print), in numbers (``--json``) and in words; only the trial numbers differ (the
    run's own 1, 2... against the database's ids)."""
    source = "sim://?realtime=0&seed=4"
    common = (
        ("--patient", "P1", "--source", source, "--level", "1")
        if name == "weight_shift"
        else (
            "--patient",
            "P1",
            "--source",
            source,
        )
    )
    db = tmp_path / "s.db"
    doc, words = {}, {}
    for how, where in (("memory", ("--no-record",)), ("record", ("--db", str(db)))):
        data = ("--data-dir", str(tmp_path / how))  # no measured LOS carried between the two
        out = nmr("run", name, *common, *where, *data, "--json")
        assert out.returncode == 0, out.stderr
        doc[how] = json.loads(out.stdout)
        text = nmr("run", name, *common, *where, "--data-dir", str(tmp_path / f"{how}2"))
        assert text.returncode == 0, text.stderr
        words[how] = text.stdout[text.stdout.index("results (as") :].splitlines()
    memory, record = doc["memory"]["summary"], doc["record"]["summary"]
    assert doc["memory"]["recorded_trial_ids"] == [] and doc["record"]["recorded_trial_ids"]
    if name == "los":
        assert memory["los"].pop("trial") == 1
        assert record["los"].pop("trial") in doc["record"]["recorded_trial_ids"]
        words = {k: [ln.split(" (trial")[0] for ln in v] for k, v in words.items()}
    assert memory == record and memory["trials"] == len(doc["memory"]["trials"])
    assert words["memory"] == words["record"] and len(words["memory"]) > 1
