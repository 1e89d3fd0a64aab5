"""Truthful file inputs (issue 14, files): no unit or rate guessed, gaps kept, all-or-nothing
imports, exports that check what they wrote, hostile files that stay harmless.

Every test here failed on d524038 (the commit the issue was filed against). Real files, a real
SQLite store, real subprocesses; the lab-export fixtures in ``tests/data/lab_exports`` are
SYNTHETIC (see ``tests/data/README.md``).
"""

from __future__ import annotations

import json
import os
import pathlib
import sqlite3
import stat
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from _recordings_util import plate_info, plate_samples, processed_of, store_trial

from nmr_balance.app.cli import build_parser, main
from nmr_balance.errors import DataFormatError, InvalidParameterError, StorageError
from nmr_balance.stream import sway_info
from recordings import Condition, Store
from recordings._table import TableOptions, read_table
from recordings.c3d_io import read_c3d, write_c3d
from recordings.exchange import export_trial, import_file, read_file
from recordings.metrics import trial_metrics
from recordings.store import PROCESSED, RAW

LAB = pathlib.Path(__file__).parent / "data" / "lab_exports"
ROOT = pathlib.Path(__file__).resolve().parents[1]


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def station(tmp_path):
    """A database with one patient (P001) and one recorded plate trial of 300 samples."""
    db = tmp_path / "station.db"
    with Store.open(db) as store:
        store.add_patient("P001", name="Ann Example", birth_year=1950)
        raw = plate_samples(300, seed=1)
        tid = store_trial(store, raw, processed_of(raw), plate_info())
        store.set_metrics(tid, trial_metrics(store.samples(tid, PROCESSED), store.trial(tid).info))
    return db, tid


def snapshot(db) -> tuple[dict[str, int], str]:
    """Row counts of every table and SQLite's integrity verdict."""
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in names}
        return rows, con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def cop_file(path, n=400, fs=100.0, header="time,x,y", scale=1.0):
    t = np.arange(n) / fs
    x, y = np.sin(t) * scale, np.cos(t) * scale
    path.write_text(
        header + "\n" + "".join(f"{a:.6f},{b:.6f},{c:.6f}\n" for a, b, c in zip(t, x, y))
    )
    return path


# --- 1. no silent unit or time guess -------------------------------------------------------


def test_a_column_without_a_unit_is_refused_by_import_and_analyze(tmp_path, capsys):
    f = cop_file(tmp_path / "metres.csv", scale=0.01)  # a COP in metres, no unit anywhere
    db = tmp_path / "s.db"
    code, out, _ = cli(capsys, "import", f, "--patient", "P1", "--db", db)
    assert code == 1 and "column 'x' (x) has no unit" in out and "--unit mm" in out
    code, _, err = cli(capsys, "analyze", f)
    assert code == 1 and "column 'x' (x) has no unit" in err and "--unit" in err
    assert snapshot(db)[0]["trials"] == 0 and snapshot(db)[0]["patients"] == 0
    code, out, _ = cli(
        capsys, "import", f, "--patient", "P1", "--db", db, "--unit", "m", "--unit", "s"
    )
    assert code == 0, out
    with Store.open(db) as store:
        raw = store.samples(store.trials()[0].id, RAW)
    np.testing.assert_allclose(raw.data[:, 0], np.sin(np.arange(400) / 100.0) * 10.0, atol=1e-3)


def test_forces_need_their_unit_and_raw_counts_are_not_newtons(tmp_path):
    f = tmp_path / "plate.csv"
    rows = "".join(f"{i / 100:.2f},1,2,700,0.5,0.4,0.1\n" for i in range(200))
    f.write_text("t[s],Fx,Fy,Fz,Mx,My,Mz\n" + rows)
    with pytest.raises(DataFormatError, match=r"column 'Fx' \(Fx\) has no unit.*--unit N"):
        read_file(f)
    data = read_file(f, TableOptions(units=("N", "Nm")))
    assert data.raw_info.units == ("N", "N", "N", "N m", "N m", "N m")
    with pytest.raises(InvalidParameterError, match="a unit of moment for Mx"):
        TableOptions(units=("N", "Mx=mm"))
    wrong = tmp_path / "wrong.csv"
    wrong.write_text(f.read_text().replace("Fz,", "Fz[mm],", 1))
    with pytest.raises(DataFormatError, match=r"unit \[mm\] of column 'Fz\[mm\]' \(the file\)"):
        read_file(wrong, TableOptions(units=("N", "Nm")))
    counts = tmp_path / "adc.csv"  # raw ADC counts of a load-cell board called newtons
    counts.write_text(
        "t[s],tr,br,tl,bl\n"
        + "".join(f"{i / 100:.2f},9.1e6,9.2e6,9.0e6,9.3e6\n" for i in range(200))
    )
    with pytest.raises(DataFormatError, match="beyond any balance recording"):
        read_file(counts, TableOptions(units=("N",)))


def test_import_and_analyze_share_one_table_option_definition():
    sub = next(a for a in build_parser()._actions if a.choices and "import" in a.choices)
    shared = {"--column", "--unit", "--fs", "--skip-rows", "--delimiter", "--max-mb", "--time-col"}
    for name in ("import", "analyze"):
        options = {s for a in sub.choices[name]._actions for s in a.option_strings}
        assert shared <= options, name


def test_unknown_mapping_names_are_an_error(tmp_path, capsys):
    with pytest.raises(InvalidParameterError, match="cnt"):
        TableOptions(columns={"cnt": "seq"})
    f = cop_file(tmp_path / "a.csv", header="time[s],x[mm],y[mm]")
    code, _, err = cli(
        capsys, "import", f, "--patient", "P1", "--db", tmp_path / "s.db", "--column", "bogus=x"
    )
    assert code == 2 and "bogus" in err and "counter" in err
    assert not (tmp_path / "s.db").exists()


def ble_board_file(path, rng_seed=3):
    """A DIY BLE board at 100.5 Hz: 7 gaps, 65 samples missing; counter and jittery clock."""
    rng = np.random.default_rng(rng_seed)
    counter = np.arange(1500)
    lost = np.zeros(1500, bool)
    for start, k in zip((100, 300, 420, 700, 900, 1100, 1300), (5, 10, 8, 12, 9, 11, 10)):
        lost[start : start + k] = True
    counter = counter[~lost]
    t = counter / 100.5 + rng.normal(0, 0.0005, len(counter))
    x = np.sin(t)
    path.write_text(
        "seq,time[s],x[mm],y[mm]\n"
        + "".join(f"{c},{a:.6f},{b:.4f},{b:.4f}\n" for c, a, b in zip(counter, t, x))
    )
    return path


def test_a_counter_column_defines_gaps_and_the_rate_is_the_median_step(tmp_path, capsys):
    f = ble_board_file(tmp_path / "ble.csv")
    db = tmp_path / "s.db"
    code, out, _ = cli(
        capsys, "import", f, "--patient", "P1", "--db", db, "--column", "counter=seq"
    )
    assert code == 0, out
    assert "7 gaps (65 samples missing)" in out and "median step" in out
    with Store.open(db) as store:
        trial = store.trials()[0]
        raw = store.samples(trial.id, RAW)
        gaps = [e for e in store.events(trial.id) if e.kind == "signal_gap"]
    assert trial.raw_info.fs == pytest.approx(100.5, abs=0.05)  # the mean step says 98.7
    assert raw.gaps() == 65 and len(gaps) == 7
    assert sum(e.payload["missing_samples"] for e in gaps) == 65
    assert trial.parameters["gaps"] == 7 and "median" in trial.parameters["rate_from"]
    assert trial.metrics["gaps"] == 65  # shown wherever the trial's metrics are
    # without the counter, the time column still shows the gaps (steps >= 1.5 median steps)
    data = read_file(f)
    assert data.raw.gaps() == 65 and data.raw_info.fs == pytest.approx(100.5, abs=0.05)


def test_analyze_does_not_interpolate_gaps_unless_asked(tmp_path, capsys):
    f = ble_board_file(tmp_path / "ble.csv")
    code, _, err = cli(capsys, "analyze", f, "--column", "counter=seq")
    assert code == 1 and "65 empty or non-numeric samples" in err and "--max-gap" in err
    code, out, err = cli(
        capsys, "analyze", f, "--column", "counter=seq", "--max-gap", "0.2", "--format", "json"
    )
    assert code == 0, err
    assert json.loads(out)[0]["n_samples"] == 1500


# --- 2. truncated C3D; stored counts ----------------------------------------------------------


def test_a_truncated_c3d_is_refused_not_imported_short(station, tmp_path):
    db, tid = station
    with Store.open(db) as store:
        path = export_trial(store, tid, tmp_path / "t.c3d")
        whole = path.read_bytes()
        path.write_bytes(whole[: len(whole) // 2])
        before = snapshot(db)
        with pytest.raises(DataFormatError, match="truncated: the header announces 300 frames"):
            import_file(store, path, "P002")
    assert snapshot(db) == before


def test_stored_sample_count_and_duration_are_facts_of_the_recording():
    raw = plate_samples(1000, seed=2)
    proc = processed_of(raw)
    proc.data[:80] = np.nan  # nobody on the board for the first 0.8 s: the DSP trims it
    m = trial_metrics(proc, sway_info("sim://", 100.0))
    assert "mean_velocity" in m  # the sway set was computed
    assert m["n_samples"] == 1000 and isinstance(m["n_samples"], int)
    assert m["duration_s"] == pytest.approx(10.0)


# --- 3. exports check what they wrote -----------------------------------------------------------


def test_export_failures_are_errors_and_paths_are_kept_as_given(station, tmp_path, capsys):
    db, tid = station
    code, out, err = cli(capsys, "export", tid, "-o", "/nodir/t.c3d", "--db", db)
    assert code == 2 and "does not exist" in err and "wrote" not in out
    code, out, err = cli(capsys, "export", tid, "-o", "/dev/full", "--format", "c3d", "--db", db)
    assert code == 2 and "not a regular file" in err and "wrote" not in out
    os.chdir(tmp_path)
    code, out, _ = cli(capsys, "export", tid, "-o", "trial_out", "--format", "c3d", "--db", db)
    assert code == 0 and (tmp_path / "trial_out").stat().st_size > 0
    assert not (tmp_path / "trial_out.c3d").exists()
    assert len(read_c3d(tmp_path / "trial_out").processed) == 300
    code, out, _ = cli(capsys, "export", tid, "-o", "x.C3D", "--db", db)
    assert code == 0 and (tmp_path / "x.C3D").exists() and not (tmp_path / "x.C3D.c3d").exists()
    code, out, err = cli(capsys, "export", tid, "-o", "/nodir/t.csv", "--db", db)
    assert code == 2 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["station.db", "trial_out", "x.C3D"]


def test_a_failed_csv_export_leaves_no_file_and_keeps_the_old_one(station, tmp_path, monkeypatch):
    db, tid = station
    target = tmp_path / "out" / "t.csv"
    target.parent.mkdir()
    target.write_text("the previous export\n")

    def disk_full(f, *a, **k):
        f.write("1,2,3\n" * 100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savetxt", disk_full)
    with Store.open(db) as store, pytest.raises(StorageError, match="the disk is full"):
        export_trial(store, tid, target)
    assert [p.name for p in target.parent.iterdir()] == ["t.csv"]
    assert target.read_text() == "the previous export\n"


def test_a_c3d_export_at_zero_hz_is_an_error_not_an_abort(station, tmp_path):
    db, tid = station
    script = f"""
import numpy as np
from recordings import Store
from recordings.c3d_io import write_c3d
from nmr_balance.errors import StorageError
store = Store.open({str(db)!r})
data = store.load_trial({tid})
data.info = data.info.replace(fs=0.0)
try:
    write_c3d(data, {str(tmp_path / "z.c3d")!r}, {{}})
except StorageError as e:
    print("refused:", e)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "refused" in done.stdout and not (tmp_path / "z.c3d").exists()


# --- 4. imports are all-or-nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "value", "message"),
    [
        ("metrics", "[1, 2]", "not a table of numbers"),
        ("started", "not-a-date", "not an ISO 8601 time"),
        ("status", "hacked", "status"),
        ("events", '[[0.5, "cue", [1]]]', "damaged event"),
    ],
)
def test_a_crafted_csv_header_is_refused_before_anything_is_written(
    station, tmp_path, capsys, line, value, message
):
    db, tid = station
    with Store.open(db) as store:
        path = export_trial(store, tid, tmp_path / "t.csv")
    text = path.read_text()
    start = text.index(f"# {line}: ")
    end = text.index("\n", start)
    path.write_text(text[:start] + f"# {line}: {value}" + text[end:])
    before = snapshot(db)
    code, out, _ = cli(capsys, "import", path, "--patient", "NEW1", "--db", db)
    assert code == 1 and message in out
    assert snapshot(db) == before  # not even the patient
    assert cli(capsys, "trials", "--db", db)[0] == 0
    assert cli(capsys, "report", "--csv", tmp_path / "all.csv", "--db", db)[0] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("metrics", [1, 2], "not a table of numbers"), ("started", "not-a-date", "ISO 8601")],
)
def test_crafted_c3d_metadata_is_refused_too(station, tmp_path, field, value, message):
    db, tid = station
    with Store.open(db) as store:
        data = store.load_trial(tid)
        header = {"patient": "P001", "status": "complete"}
        if field == "metrics":
            data.metrics = value
        else:
            header[field] = value
        path = write_c3d(data, tmp_path / "crafted.c3d", header)
        before = snapshot(db)
        with pytest.raises(DataFormatError, match=message):
            import_file(store, path, "NEW2")
    assert snapshot(db) == before


def _flipped_c3d(store, tid, path):
    good = export_trial(store, tid, path)
    b = bytearray(good.read_bytes())
    b[525] = 0xFF  # one byte of the parameter section: ezc3d segfaults on it (measured)
    path.write_bytes(bytes(b))
    return path


def test_a_byte_that_crashes_ezc3d_is_one_refused_file_in_a_batch(station, tmp_path, capsys):
    db, tid = station
    with Store.open(db) as store:
        bad = _flipped_c3d(store, tid, tmp_path / "flipped.c3d")
        good = export_trial(store, tid, tmp_path / "good.csv")
        also = export_trial(store, tid, tmp_path / "also.c3d")
    # the crash is real: ezc3d in-process dies with SIGSEGV on this file
    probe = subprocess.run(
        [sys.executable, "-c", "import ezc3d, sys; ezc3d.c3d(sys.argv[1])", str(bad)],
        capture_output=True,
    )
    assert probe.returncode < 0
    code, out, _ = cli(capsys, "import", bad, good, also, "--patient", "P001", "--db", db)
    assert code == 1 and "crashed" in out
    assert "good.csv -> trial" in out and "also.c3d -> trial" in out
    assert snapshot(db)[1] == "ok"


# --- 5. memory ----------------------------------------------------------------------------------


def test_import_memory_stays_a_small_multiple_of_the_file_size(tmp_path):
    n = 200_000
    rng = np.random.default_rng(0)
    table = np.column_stack([np.arange(n) / 100.0, rng.normal(size=(n, 3))])
    path = tmp_path / "big.csv"
    with open(path, "w") as f:
        f.write("t[s],x[mm],y[mm],fz[N]\n")
        np.savetxt(f, table, fmt="%.17g", delimiter=",")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        values = read_table(path).values
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert values.shape == (n, 4)
    assert peak < 2.0 * size, f"peak {peak / 2**20:.1f} MB for a {size / 2**20:.1f} MB file"


def test_a_single_huge_line_is_refused_without_holding_it(tmp_path):
    path = tmp_path / "line.csv"
    with open(path, "w") as f:
        f.write("t,x\n")
        f.write("1," * (3 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match="longer than 1 MB"):
            read_table(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


# --- 6. protocol files --------------------------------------------------------------------------

ROMBERG = (ROOT / "nmr_balance" / "protocols" / "builtin" / "romberg.toml").read_text()


def test_hostile_protocol_files_are_listed_as_bad_and_the_others_work(tmp_path):
    clinic = tmp_path / "protocols"
    clinic.mkdir()
    (clinic / "good.toml").write_text(ROMBERG.replace('name = "romberg"', 'name = "good"'))
    (clinic / "nan.toml").write_text(
        ROMBERG.replace('name = "romberg"', 'name = "nan"').replace(
            "duration_s = 30", "duration_s = nan"
        )
    )
    (clinic / "deep.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    (clinic / "deeper.toml").write_text("a = " + "[" * 50 + "]" * 50 + "\n")
    (clinic / "big.toml").write_text("# padding\n" * 40_000 + ROMBERG)
    os.mkfifo(clinic / "fifo.toml")
    (clinic / "ansi.toml").write_text(
        ROMBERG.replace('name = "romberg"', 'name = "ansi"').replace(
            "Look straight ahead", "\\u001b[2J\\u001b[31mLook straight ahead\\u0007"
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "nmr_balance.app.cli", "protocols", "--dir", str(clinic), "-v"],
        capture_output=True,
        text=True,
        timeout=120,  # the FIFO used to hang this for ever
        cwd=ROOT,
    )
    out = done.stdout
    assert done.returncode == 1, done.stderr
    for bad in ("nan", "deep", "deeper", "big", "fifo"):
        assert f"\n{bad}" in "\n" + out and "BROKEN" in out.split(f"\n{bad}", 1)[-1].split("\n")[0]
    assert "a finite number" in out and "a pipe or device" in out and "256 KB" in out
    assert "nested at most" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "Look straight ahead" in out  # the clinic's text, without the escapes
    assert all(f"\n{n} " in "\n" + out for n in ("good", "romberg", "ansi"))


# --- 7. privacy, spreadsheets, identifiers, JSON ----------------------------------------------


def test_files_with_patient_data_are_0600_also_when_overwriting(station, tmp_path, capsys):
    db, tid = station
    for name in ("t.csv", "t.c3d", "summary.csv"):
        (tmp_path / name).write_text("old")
        os.chmod(tmp_path / name, 0o644)
    assert cli(capsys, "export", tid, "-o", tmp_path / "t.csv", "--identified", "--db", db)[0] == 0
    assert cli(capsys, "export", tid, "-o", tmp_path / "t.c3d", "--db", db)[0] == 0
    assert cli(capsys, "report", "--csv", tmp_path / "summary.csv", "--db", db)[0] == 0
    for name in ("t.csv", "t.c3d", "summary.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


def test_report_csv_cells_cannot_be_formulas(tmp_path, capsys):
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        store.add_patient("P001")
        s = store.start_session("P001", therapist='=HYPERLINK("http://x","click")')
        raw = plate_samples(200)
        with store.transaction():
            tid = store.begin_trial(
                s.id,
                plate_info(),
                plate_info(),
                protocol="@SUM(1+1)*cmd|' /C calc'!A0",
                condition=Condition("", "", "-2+3"),
            )
            store.append_chunk(tid, RAW, 0, raw)
        store.finish_trial(tid, "complete", {"n_samples": 200, "mean_x": -1.5})
    assert cli(capsys, "report", "--csv", tmp_path / "r.csv", "--db", db)[0] == 0
    text = (tmp_path / "r.csv").read_text()
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'-2+3" in text
    assert ",-1.5" in text  # numbers stay numbers
    for cell in (c for line in text.splitlines() for c in line.split(",")):
        assert cell[:1] not in ("=", "+", "@") and not cell.startswith('"=')


@pytest.mark.parametrize("code", ["A\u2028B", "X" * 5000, "=cmd", "P\x1b[31m", "a/b", " "])
def test_patient_codes_have_a_length_limit_and_a_character_policy(tmp_path, capsys, code):
    with Store.open(tmp_path / "s.db") as store, pytest.raises(InvalidParameterError):
        store.add_patient(code)
    f = cop_file(tmp_path / "a.csv", header="time[s],x[mm],y[mm]")
    assert cli(capsys, "import", f, "--patient", code, "--db", tmp_path / "s.db")[0] == 2
    assert snapshot(tmp_path / "s.db")[0]["patients"] == 0


def test_a_line_separator_in_header_text_survives_the_round_trip(station, tmp_path):
    db, tid = station
    with Store.open(db) as store:
        store.add_patient("Ünïcode-01.x")
        store.set_trial_notes(tid, "keeps the shoulder\u2028down\u2029well")
        path = export_trial(store, tid, tmp_path / "t.csv", identified=True)
        back = store.trial(import_file(store, path, "Ünïcode-01.x"))
        assert back.patient_code == "Ünïcode-01.x"
        assert len(store.events(back.id)) == len(store.events(tid))
        assert len(store.samples(back.id, RAW)) == 300
        assert path.read_text().count("\n") == len(path.read_text().splitlines())


def test_stored_metrics_are_standard_json(station):
    db, tid = station
    with Store.open(db) as store:
        store.set_metrics(
            tid, {"n_samples": 300, "sample_entropy_ap": float("nan"), "u": {"a": float("inf")}}
        )
        assert store.trial(tid).metrics["sample_entropy_ap"] is None  # read as "not computed"
    con = sqlite3.connect(db)
    try:
        got = con.execute(
            "SELECT json_extract(metrics, '$.sample_entropy_ap'), json_extract(metrics, '$.n_samples') "
            "FROM trials WHERE id = ?",
            (tid,),
        ).fetchone()
    finally:
        con.close()
    assert got == (None, 300)


# --- 8. formats: lab exports with a preamble ------------------------------------------------


def test_lab_exports_with_a_preamble_are_read(tmp_path, capsys):
    motive, kistler = LAB / "motive_amti_forceplate.csv", LAB / "kistler_bioware.txt"
    table = read_table(kistler)
    assert len(table.preamble) == 18 and table.columns[0] == "abs time"
    assert table.units[:4] == ["s", "N", "N", "N"] and table.values.shape == (300, 7)
    assert read_table(kistler, TableOptions(skip_rows=19)).values.shape == (300, 7)
    short = tmp_path / "short.csv"
    short.write_text("Exported by a lab system; 1 line\nt;x;y\ns;cm;cm\n0;1;2\n0.01;1;2\n")
    for options in (TableOptions(), TableOptions(skip_rows=1)):
        table = read_table(short, options)
        assert table.columns == ["t", "x", "y"] and table.units == ["s", "cm", "cm"]
        assert table.values.shape == (2, 3) and table.preamble == [
            "Exported by a lab system; 1 line"
        ]
    table = read_table(motive)  # 32 lines of preamble, a 6x6 calibration matrix among them
    assert table.columns[:2] == ["Frame", "Time (Seconds)"] and table.values.shape == (295, 8)
    code, out, err = cli(
        capsys, "analyze", kistler, motive, "--column", "counter=Frame", "--format", "json"
    )
    # Kistler has no Frame column: the mapping is refused for it by name, Motive has gaps
    assert code == 1 and "no column 'Frame'" in err and "5 empty or non-numeric samples" in err
    code, out, err = cli(capsys, "analyze", kistler, "--format", "json")
    assert code == 0, err
    res = json.loads(out)[0]
    assert res["n_samples"] == 300 and res["fs"] == 100.0 and res["unit"] == "mm"
    db = tmp_path / "s.db"
    code, out, _ = cli(
        capsys, "import", motive, "--patient", "LAB1", "--db", db, "--column", "counter=Frame"
    )
    assert code == 0 and "1 gaps (5 samples missing)" in out


def test_a_pdf_that_cannot_be_laid_out_is_an_error_and_leaves_no_file(station, tmp_path, capsys):
    db, tid = station
    con = sqlite3.connect(db)  # a code from before the policy, as an old database may hold
    con.execute("UPDATE patients SET code = ? WHERE code = 'P001'", ("X" * 5000,))
    con.commit()
    con.close()
    with Store.open(db) as store:
        sid = store.trial(tid).session_id
    code, _, err = cli(capsys, "report", "--session", sid, "--pdf", tmp_path / "r.pdf", "--db", db)
    assert code == 2 and "does not fit the page" in err
    assert not (tmp_path / "r.pdf").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("station.db")) == []


def test_a_c3d_export_of_an_old_very_long_code_reads_back(station, tmp_path):
    db, tid = station
    with Store.open(db) as store:
        data = store.load_trial(tid)
    path = write_c3d(data, tmp_path / "x.c3d", {"patient": "X" * 5000, "status": "complete"})
    back = read_c3d(path)  # a 5000-byte SUBJECTS:NAMES string made an unreadable file
    assert len(back.processed) == 300 and back.header["patient"] == "X" * 5000
