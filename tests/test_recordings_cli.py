"""The recordings commands: record, trials/sessions/patients listings, export, import, replay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nmr_balance.app.cli import main
from recordings import Store

pytestmark = pytest.mark.timeout(90)


def cli(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_record_list_export_import_replay(tmp_path, capsys):
    db = str(tmp_path / "station.db")
    code, out, _ = cli(
        capsys,
        "record",
        "--source",
        "sim://?rate=200&sensor=cop",
        "--patient",
        "P001",
        "--condition",
        "eyes_closed,foam",
        "--protocol",
        "romberg",
        "--duration",
        "1",
        "--db",
        db,
    )
    assert code == 0
    assert "new patient P001 added" in out and "trial 1 (complete)" in out
    # key metrics in words, and why the spectra are missing (1 s is too short for them)
    assert "200 samples at 200 Hz (1.00 s)" in out and "mean sway velocity" in out
    assert "not computed: trial of 1 s is shorter than the 10 s needed" in out
    assert " nan" not in out.lower()
    code, out, _ = cli(capsys, "trials", "--db", db, "--format", "json")
    [trial] = json.loads(out)
    assert trial["status"] == "complete" and trial["vision"] == "closed"
    assert trial["protocol"] == "romberg" and trial["metrics"]["n_samples"] == 200  # 1 s, exactly
    code, out, _ = cli(capsys, "trials", "--db", db)
    assert out.splitlines()[0].split()[:3] == ["id", "patient", "session"]
    assert "eyes closed, foam" in out
    code, out, _ = cli(
        capsys,
        "patients",
        "--db",
        db,
        "--add",
        "P002",
        "--name",
        "Bo Example",
        "--birth-year",
        "1944",
    )
    assert code == 0 and "added patient P002" in out
    code, out, _ = cli(capsys, "patients", "--db", db, "--format", "json")
    assert [p["code"] for p in json.loads(out)] == ["P001", "P002"]
    code, out, _ = cli(capsys, "sessions", "--db", db, "--patient", "P001", "--format", "json")
    assert json.loads(out)[0]["trials"] == 1
    csv_path, c3d_path = tmp_path / "t.csv", tmp_path / "t.c3d"
    assert cli(capsys, "export", "1", "-o", str(csv_path), "--db", db)[0] == 0
    assert cli(capsys, "export", "1", "-o", str(c3d_path), "--db", db)[0] == 0
    code, out, _ = cli(
        capsys, "import", str(csv_path), str(c3d_path), "--patient", "P002", "--db", db
    )
    assert code == 0 and "-> trial 2" in out and "-> trial 3" in out
    code, out, _ = cli(capsys, "replay", "1", "--speed", "max", "--db", db)
    assert code == 0 and "replayed metrics equal the stored ones" in out
    # a replay's host times are the recorded ones: no (negative) latency figure is made of them
    assert "latency not measured" in out and "latency p50" not in out
    with Store.open(db) as store:
        assert [t.status for t in store.trials()] == ["complete"] * 3


def test_clear_errors(tmp_path, capsys):
    db = tmp_path / "station.db"
    code, _, err = cli(capsys, "trials", "--db", str(db))
    assert code == 2 and "no database at" in err
    db.write_text("not a database at all")
    code, _, err = cli(capsys, "trials", "--db", str(db))
    assert code == 2 and "not an SQLite database" in err and "left untouched" in err
    assert db.read_text() == "not a database at all"
    good = str(tmp_path / "good.db")
    code, _, err = cli(
        capsys, "record", "--source", "sim://?rat=100", "--patient", "P1", "--db", good
    )
    assert code == 2 and "rat" in err
    assert not os.path.exists(good)  # a bad URL fails before anything is written
    code, _, err = cli(
        capsys, "record", "--source", "sim://", "--patient", "P1", "--duration", "0", "--db", good
    )
    assert code == 2 and "--duration" in err and "positive number of seconds" in err
    assert not os.path.exists(good)  # nor does a bad duration
    # a target exercise is run by the protocol engine, which shows and scores its targets: a
    # trial recorded as one would be stored with nothing scored
    code, _, err = cli(
        capsys, "record", "--patient", "P1", "--protocol", "free_targets", "--db", good
    )
    assert code == 2 and "targets steps" in err and "nmr-balance run free_targets" in err
    assert not os.path.exists(good)
    code, _, err = cli(capsys, "export", "--db", str(tmp_path / "x.db"))
    assert code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    code, out, _ = cli(capsys, "import", str(bad), "--patient", "P1", "--db", good)
    assert code == 1 and "skipped" in out and "cannot tell which columns" in out


def _default_sigint():
    # A shell running us in the background may have set SIGINT to "ignore", which the child
    # would inherit (and Python then installs no KeyboardInterrupt handler).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_record_ctrl_c_keeps_an_aborted_trial(tmp_path):
    db = tmp_path / "station.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nmr_balance.app.cli",
            "record",
            "--source",
            "sim://?rate=500",
            "--patient",
            "P001",
            "--duration",
            "60",
            "--db",
            str(db),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )
    deadline, seen = time.monotonic() + 30, 0
    while time.monotonic() < deadline and seen <= 500:
        # Another process watching the recording sees its commits as they happen (this
        # caught a lock-dropping bug that left readers on a stale WAL).
        time.sleep(0.3)
        if db.exists():
            with Store.open(db) as store:  # recovery must leave a live recording alone
                trials = store.trials()
                seen = len(store.samples(trials[0].id, 1)) if trials else 0
                assert not trials or trials[0].status == "recording"
    assert seen > 500, "the recording's commits never became visible to another process"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "(aborted)" in out
    with Store.open(db) as store:
        [trial] = store.trials()
        assert trial.status == "aborted" and trial.metrics["n_samples"] > 500


def test_record_refuses_an_unknown_condition_word_before_writing(tmp_path, capsys):
    db = tmp_path / "station.db"
    args = ["record", "--source", "sim://?realtime=0", "--patient", "P1", "--duration", "1"]
    code, _, err = cli(capsys, *args, "--condition", "eyes_shut,foam", "--db", str(db))
    assert code == 2 and "did you mean eyes_closed?" in err and "feet_together" in err
    code, _, err = cli(capsys, *args, "--condition", "tandem,feet_together", "--db", str(db))
    assert code == 2 and "a second stance" in err
    assert not db.exists()  # nothing was written
    code, _, _ = cli(capsys, *args, "--condition", "EC,foam,tandem", "--db", str(db))
    assert code == 0
    code, out, _ = cli(capsys, "trials", "--db", str(db), "--format", "json")
    [trial] = json.loads(out)
    assert (trial["vision"], trial["surface"], trial["stance"]) == ("closed", "foam", "tandem")


def test_replay_of_a_trial_begun_mid_stream_explains_the_filter_start(tmp_path, capsys):
    """A protocol trial starts while the live low-pass has been running; its replay starts the
    filter at the trial's first sample. The samples after the filter's start-up are equal, and
    the replay says that is the only difference, not that the front-end changed."""
    from nmr_balance.app import open_source
    from nmr_balance.app.protocol_recording import ProtocolRecorder
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.protocols import ProtocolRun, parse_protocol
    from nmr_balance.protocols.runner import StatusLog, run_on_pipeline
    from recordings import Store

    db = tmp_path / "s.db"
    protocol = parse_protocol(
        {"steps": [{"task": "stand", "duration_s": 12, "countdown_s": 3}]}, "mid_stream"
    )
    with Store.open(db) as store:
        store.ensure_patient("P1")
        session = store.start_session("P1")
        pipeline = Pipeline(open_source("sim://?realtime=0&seed=4"), pull=True)
        status = StatusLog(pipeline)
        with pipeline:
            run = ProtocolRun(protocol, pipeline.info)
            recorder = ProtocolRecorder(store, pipeline, session.id, protocol)
            run_on_pipeline(run, pipeline, recorder.on_event, progress=False, status=status)
        [tid] = recorder.trial_ids
    code, out, _ = cli(capsys, "replay", str(tid), "--speed", "max", "--db", str(db))
    assert code == 0
    assert "replayed samples equal the stored ones after the front-end's start-up" in out
    assert "DIFFER" not in out and "changed" not in out
