"""`nmr-balance sign` and `addendum` from the real command line, with the note and the PDF.

A session recorded from the simulator (faster than real time) is signed; every later write
from the command line is refused with the locked-session message; addenda appear after the
signed text in the note and in the PDF (text extracted with pdftotext); a note changed in the
database behind the application's back is reported by `report`, which exits non-zero.
"""

from __future__ import annotations

import os
import pty
import sqlite3
import subprocess
import sys

import pytest

from tests._report_util import pdf_text

pytestmark = pytest.mark.timeout(300)

SIM = "sim://?realtime=0&rate=100&seed=5"


def nmr(*args: str, ok: bool = True, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [sys.executable, "-m", "nmr_balance.app.cli", *args],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=stdin,
    )
    if ok:
        assert out.returncode == 0, f"nmr-balance {' '.join(args)}:\n{out.stderr[-3000:]}"
    return out


def flat(text: str) -> str:
    return " ".join(text.split())


def _dump(db) -> list:
    with sqlite3.connect(db) as conn:
        return [
            conn.execute("SELECT * FROM sessions ORDER BY id").fetchall(),
            conn.execute("SELECT id, notes, metrics, status FROM trials ORDER BY id").fetchall(),
            conn.execute("SELECT count(*) FROM chunks").fetchall(),
        ]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("sign") / "s.db")
    nmr("record", "--source", SIM, "--patient", "P001", "--db", db, "--duration", "5")
    nmr(
        "record", "--source", SIM, "--patient", "P001", "--db", db, "--duration", "5",
        "--session", "1", "--note", "Pt reports mild dizziness at 3 s",
    )  # fmt: skip
    return db


def test_sign_asks_on_a_terminal_and_refuses_without_one(recorded, tmp_path):
    db = recorded
    out = nmr("sign", "--session", "1", "--by", "A. Smith", "--db", db, ok=False)
    assert out.returncode == 2 and "--yes" in out.stderr and "report --session 1" in out.stderr
    out = nmr("sign", "--session", "1", "--by", "A. Smith", "--db", db, "--yes", ok=False)
    assert out.returncode == 2 and "session 1 has not ended" in out.stderr
    assert "--end" in out.stderr and "Traceback" not in out.stderr
    # On a terminal: the note is shown and "no" signs nothing.
    for answer, signed in (("no", False), ("yes", True)):
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "nmr_balance.app.cli", "sign", "--session", "1", "--by",
             "A. Smith, PT", "--end", "--db", db],
            stdin=follower, stdout=follower, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while b"Type yes to sign" not in shown:
            chunk = os.read(leader, 4096)
            assert chunk, shown.decode()[-2000:]
            shown += chunk
        os.write(leader, answer.encode() + b"\n")
        proc.wait(timeout=120)
        rest = b""
        try:
            while chunk := os.read(leader, 4096):
                rest += chunk
        except OSError:
            pass  # the terminal closed with the process
        os.close(leader)
        text = shown.decode()
        assert "NEUROMUSCULAR RE-EDUCATION (CPT 97112)" in text and "DRAFT" not in text
        assert "Pt reports mild dizziness at 3 s" in flat(text)
        assert proc.returncode == (0 if signed else 1), proc.stderr.read()
        sessions = nmr("sessions", "--db", db, "--format", "json").stdout
        assert ('"signed_by": "A. Smith, PT"' in sessions) is signed
        if signed:
            assert "matches the signed text" in rest.decode()


def test_a_signed_session_refuses_every_change_from_the_command_line(recorded, tmp_path):
    db = recorded
    nmr("sign", "--session", "1", "--by", "A. Smith, PT", "--end", "--yes", "--db", db, ok=False)
    before = _dump(db)
    refused = [
        ("record", "--source", SIM, "--patient", "P001", "--db", db, "--duration", "2",
         "--session", "1"),
        ("run", "romberg", "--source", SIM, "--patient", "P001", "--db", db, "--session", "1"),
        ("sign", "--session", "1", "--by", "B. Jones", "--yes", "--db", db),
    ]  # fmt: skip
    for args in refused:
        out = nmr(*args, ok=False)
        assert out.returncode == 2, out.stderr
        assert "session 1 was signed by A. Smith, PT at " in out.stderr, out.stderr
        assert "nmr-balance addendum --session 1 --by NAME" in out.stderr
        assert "Traceback" not in out.stderr
        assert _dump(db) == before
    listing = nmr("sessions", "--db", db).stdout
    assert "A. Smith, PT" in listing and "UTC" in listing
    assert "A. Smith, PT" in nmr("trials", "--db", db, "--session", "1").stdout


def test_addenda_follow_the_signed_note_in_the_note_and_the_pdf(recorded, tmp_path):
    db = recorded
    nmr("sign", "--session", "1", "--by", "A. Smith, PT", "--end", "--yes", "--db", db, ok=False)
    out = nmr("addendum", "--session", "1", "--by", "B. Jones, PTA", "--text",
              "Pt called: dizziness resolved", "--db", db)  # fmt: skip
    assert "Addendum by B. Jones, PTA" in out.stdout
    with sqlite3.connect(db) as conn:
        signed_text, sha = conn.execute(
            "SELECT signed_note, signed_sha256 FROM sessions WHERE id = 1"
        ).fetchone()
    pdf = tmp_path / "s1.pdf"
    out = nmr("report", "--session", "1", "--note", "-", "--pdf", str(pdf), "--db", db)
    note = out.stdout
    assert note.startswith(signed_text)  # verbatim, not regenerated
    tail = note[len(signed_text) :]
    assert tail.index("Addendum by B. Jones, PTA") < tail.index("Pt called: dizziness resolved")
    assert note.rstrip().endswith(f"SHA-256 {sha}; matches the signed text")
    text = pdf_text(pdf)
    assert "Signed by A. Smith, PT on " in text and f"(SHA-256 {sha[:16]})" in text
    assert "Addendum by B. Jones, PTA" in text and "Pt called: dizziness resolved" in text
    assert "Signature: ____" not in text
    out = nmr("report", "--session", "1", "--note", "-", "--instruction-min", "9", "--db", db,
              ok=False)  # fmt: skip
    assert out.returncode == 2 and "minutes are those of the signed note" in out.stderr
    # Unsigned addendum target, empty text: clear refusals.
    out = nmr("addendum", "--session", "1", "--by", "X", "--text", " ", "--db", db, ok=False)
    assert out.returncode == 2 and "--text" in out.stderr


def test_report_says_when_the_signed_note_was_changed_in_the_database(recorded, tmp_path):
    db = recorded
    nmr("sign", "--session", "1", "--by", "A. Smith, PT", "--end", "--yes", "--db", db, ok=False)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE sessions SET signed_note = replace(signed_note, 'dizziness', 'nothing') "
            "WHERE id = 1"
        )
    pdf = tmp_path / "tampered.pdf"
    out = nmr("report", "--session", "1", "--note", "-", "--pdf", str(pdf), "--db", db, ok=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "THE SIGNED NOTE ON FILE WAS CHANGED AFTER SIGNING" in out.stderr
    assert out.stdout.startswith("WARNING: THE SIGNED NOTE ON FILE WAS CHANGED AFTER SIGNING")
    assert "matches the signed text" not in out.stdout
    assert "THE SIGNED NOTE ON FILE WAS CHANGED AFTER SIGNING" in pdf_text(pdf)


def test_sign_and_addendum_help_teach():
    for command in ("sign", "addendum"):
        out = nmr(command, "--help")
        assert "Examples:" in out.stdout and "nmr-balance addendum --session 12" in out.stdout
