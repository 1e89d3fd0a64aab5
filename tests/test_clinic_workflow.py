"""A clinic day on the shared server, from the command line: a protocol run, two stations
recording into one session at once, the listing, the report, export and import, all with
``--db postgresql://...`` and nothing else changed."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

pytestmark = pytest.mark.timeout(300)

CLI = [sys.executable, "-m", "nmr_balance.app.cli"]


def cli(*args: str, db: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([*CLI, *args, "--db", db], capture_output=True, text=True, timeout=240)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_a_session_from_two_stations_on_the_server(pg_url, tmp_path):
    cli(
        "run",
        "romberg",
        "--source",
        "sim://?realtime=0",
        "--patient",
        "P1",
        "--quiet",
        "--station",
        "room 1",
        db=pg_url,
    )
    (session,) = json.loads(
        cli("sessions", "--patient", "P1", "--format", "json", db=pg_url).stdout
    )
    sid = str(session["id"])
    # Two stations add a trial each to the same visit, at the same time.
    stations = [
        subprocess.Popen(
            [
                *CLI,
                "record",
                "--source",
                f"sim://?realtime=0&seed={i}",
                "--patient",
                "P1",
                "--session",
                sid,
                "--duration",
                "3",
                "--note",
                f"from station {name}",
                "--db",
                pg_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, name in enumerate("AB")
    ]
    for p in stations:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, out + err
    trials = json.loads(cli("trials", "--session", sid, "--format", "json", db=pg_url).stdout)
    assert len(trials) == 4 and {t["status"] for t in trials} == {"complete"}
    assert sorted(t["protocol"] for t in trials).count("romberg") == 2
    pdf, note = tmp_path / "s.pdf", tmp_path / "s.txt"
    cli("report", "--session", sid, "--pdf", str(pdf), "--note", str(note), db=pg_url)
    text = note.read_text()
    assert "Romberg" in text and "P1" in text  # the whole visit, whichever station recorded it
    assert pdf.stat().st_size > 1000 and stat.S_IMODE(pdf.stat().st_mode) == 0o600
    # Replay a trial stored on the server through the live pipeline.
    replayed = cli("replay", str(trials[0]["id"]), "--speed", "max", db=pg_url)
    assert "3000 samples" in replayed.stdout, replayed.stdout  # the whole 30 s trial
    # Export a trial from the server and import it back as another patient.
    exported = tmp_path / "t.csv"
    cli("export", str(trials[-1]["id"]), "-o", str(exported), db=pg_url)
    cli("import", str(exported), "--patient", "P2", db=pg_url)
    after = json.loads(cli("trials", "--patient", "P2", "--format", "json", db=pg_url).stdout)
    assert len(after) == 1 and after[0]["status"] == "complete"
    assert not any(name.startswith("postgresql") for name in os.listdir(tmp_path))
