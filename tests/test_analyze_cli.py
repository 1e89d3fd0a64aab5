"""``nmr-balance analyze``: formats, column mapping, filtering policy, bad files."""

from __future__ import annotations

import csv
import io
import json
import pathlib

import numpy as np
import pytest

from nmr_balance.app.cli import main

DATA = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"
with open(DATA / "published_values.tsv", newline="") as _f:
    PUBLISHED = {r["Trial"]: r for r in csv.DictReader(_f, delimiter="\t")}


def _run(capsys, *argv):
    code = main(["analyze", *map(str, argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_for_santos_duarte_files_matches_published_values_in_mm(capsys):
    files = [DATA / "BDS00001.txt", DATA / "BDS00010.txt"]
    code, out, _ = _run(capsys, *files, "--format", "json")
    assert code == 0
    results = json.loads(out)
    assert len(results) == 2
    for res in results:
        pub = PUBLISHED[pathlib.Path(res["file"]).stem]
        m, units = res["metrics"], res["units"]
        assert m["ellipse_area_95_f"] == pytest.approx(float(pub["COParea"]) * 100, rel=1e-9)
        assert m["mean_velocity"] == pytest.approx(float(pub["COPvelo"]) * 10, rel=1e-9)
        assert m["mean_power_frequency"] == pytest.approx(float(pub["COPmfreq"]), rel=1e-9)
        assert m["ellipse_area_95_chi2"] < m["ellipse_area_95_f"]
        assert units["ellipse_area_95_f"] == "mm^2" and units["mean_velocity"] == "mm/s"
        assert "already low-pass filtered at 10 Hz" in res["processing"]


def _write_csv(path, xy, header="# fs: 100\n# unit: cm\n", cols=("t[s]", "cop_ml", "cop_ap")):
    t = np.arange(len(xy)) / 100.0
    body = "\n".join(f"{a:.6f},{b:.17g},{c:.17g}" for a, b, c in zip(t, xy[:, 0], xy[:, 1]))
    path.write_text(header + ",".join(cols) + "\n" + body + "\n")


def test_csv_column_mapping_units_and_default_filtering(tmp_path, capsys):
    rng = np.random.default_rng(0)
    xy = np.cumsum(rng.normal(scale=0.01, size=(2000, 2)), axis=0)
    raw = tmp_path / "raw.csv"
    _write_csv(raw, xy)
    code, out, err = _run(capsys, raw, "--x-col", "cop_ml", "--y-col", "cop_ap", "--format", "json")
    assert code == 0, err
    res = json.loads(out)[0]
    assert res["fs"] == 100.0 and res["unit"] == "mm"
    assert res["processing"].startswith("low-pass filtered: zero-phase Butterworth, order 4")
    # Unfiltered: raw path is longer than the filtered one we report.
    from dsp.metrics import trial_metrics

    assert res["metrics"]["path_length"] < trial_metrics(xy * 10, 100.0)["path_length"]
    code, out, _ = _run(
        capsys, raw, "--x-col", "1", "--y-col", "2", "--filter", "none", "--format", "json"
    )
    assert json.loads(out)[0]["metrics"]["path_length"] == pytest.approx(
        trial_metrics(xy * 10, 100.0)["path_length"], rel=1e-9
    )
    pre = tmp_path / "pre.csv"
    _write_csv(pre, xy, header="# fs: 100\n# unit: cm\n# filtered_hz: 10\n")
    code, out, _ = _run(capsys, pre, "--x-col", "cop_ml", "--y-col", "cop_ap", "--format", "json")
    assert "not filtered again" in json.loads(out)[0]["processing"]


def test_table_and_csv_output_and_rate_from_time_column(tmp_path, capsys):
    xy = np.cumsum(np.random.default_rng(1).normal(size=(1500, 2)), axis=0)
    f = tmp_path / "t.csv"
    _write_csv(f, xy, header="", cols=("time", "x", "y"))
    code, out, _ = _run(capsys, f, "--time-col", "time", "--unit", "mm", "--unit", "s")
    assert code == 0 and "mean_velocity [mm/s]" in out and "t.csv" in out
    code, out, _ = _run(
        capsys, f, "--time-col", "time", "--unit", "mm", "--unit", "s", "--format", "csv"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["file", "processing", "n_samples"] and len(rows) == 2
    assert "mean_velocity (mm/s)" in rows[0]


def test_bad_files_are_reported_and_the_rest_analysed(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\nthree,4\n")
    missing = tmp_path / "nope.csv"
    norate = tmp_path / "norate.csv"
    norate.write_text("x[mm],y[mm]\n" + "\n".join(f"{i},{i}" for i in range(50)))
    code, out, err = _run(capsys, bad, missing, norate, DATA / "BDS00002.txt", "--format", "json")
    assert code == 1
    assert len(json.loads(out)) == 1
    assert "unreadable numbers" in err and "no such file" in err
    assert "give --fs" in err


def test_gaps_are_reported_or_bridged(tmp_path, capsys):
    xy = np.cumsum(np.random.default_rng(2).normal(size=(1500, 2)), axis=0)
    xy[300:310] = np.nan
    f = tmp_path / "gappy.csv"
    _write_csv(f, xy, header="# fs: 100\n", cols=("t[s]", "x[mm]", "y[mm]"))
    code, _, err = _run(capsys, f)
    assert code == 1 and "10 empty or non-numeric samples (first at data row 300)" in err
    assert "--max-gap" in err
    code, out, err = _run(capsys, f, "--max-gap", "0.2", "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["metrics"]["n_samples"] == 1500


def test_csv_reader_errors_name_the_columns(tmp_path, capsys):
    f = tmp_path / "c.csv"
    f.write_text("a;b\n1;2\n3;4\n")
    code, _, err = _run(capsys, f, "--x-col", "nope", "--y-col", "b", "--fs", "10")
    assert code == 1 and "Columns are: a, b" in err
    code, _, err = _run(capsys, f, "--x-col", "a", "--y-col", "b", "--fs", "10", "--unit", "m")
    assert code == 1 and "fewer than" not in err  # read, in metres; too short for metrics
    from recordings._table import TableOptions
    from recordings.exchange import read_file

    data = read_file(f, TableOptions({"x": "a", "y": "b"}, ("m",), fs=10.0))
    np.testing.assert_allclose(data.raw.data[:, :2], [[1000, 2000], [3000, 4000]])


def test_help_teaches_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "--help"])
    out = capsys.readouterr().out
    assert "Examples:" in out and "--x-col" in out and "santos-duarte" in out


@pytest.mark.timeout(600)  # a hang bound: on a fresh clone this compiles every kernel group
def test_warmup_reports_progress_per_kernel_group():
    import dsp

    calls = []
    seconds = dsp.warmup(lambda done, total, name: calls.append((done, total, name)), batch=False)
    assert seconds >= 0 and calls[-1][0] == calls[-1][1] == len(calls) - 1
    assert [c[0] for c in calls] == list(range(len(calls)))
    assert "trial metrics" in [c[2] for c in calls] and "batch metrics (parallel)" not in [
        c[2] for c in calls
    ]


def test_warmup_of_some_groups_only():
    import dsp

    calls = []
    dsp.warmup(lambda done, total, name: calls.append(name), only=("live", "tilt"))
    assert calls == ["IMU tilt", "live metrics and training", "ready"]
    with pytest.raises(ValueError, match=r"unknown kernel groups.*'spectra'.*choose from"):
        dsp.warmup(only=("spectra",))


@pytest.mark.timeout(600)  # a hang bound: the first run compiles into an empty cache
def test_cache_misses_tell_a_first_run_from_a_warm_one(tmp_path):
    """`nmr-balance live` compiles everything up front only when the Numba cache is empty, and
    the progress bar says "compiling" only then: before the first run the cache lacks the
    kernels; after it, the same groups only load (no kernel missing, no cache miss)."""
    import os
    import subprocess
    import sys

    code = (
        "import dsp\n"
        "from nmr_balance.app.warm import label\n"
        "before = len(dsp.uncached_kernels(('live',))), label(('live',))\n"
        "dsp.warmup(only=('live',))\n"
        "print(before[0], repr(before[1]), dsp.cache_misses(), len(dsp.uncached_kernels(('live',))))"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            timeout=280,
            check=True,
        ).stdout.strip()
        for _ in range(2)
    ]
    from nmr_balance.app.warm import COMPILING, LOADING

    first, second = (run.rsplit(" ", 2) for run in runs)
    missing, said = first[0].split(" ", 1)
    assert int(missing) > 0 and said == repr(COMPILING) and int(first[1]) > 0
    assert int(first[2]) == 0  # the first run filled the cache
    missing, said = second[0].split(" ", 1)
    assert int(missing) == 0 and said == repr(LOADING) and int(second[1]) == 0


def _json_run(capsys, monkeypatch, files, twins_up_to, parallel_from):
    from nmr_balance.app.commands import analyze

    monkeypatch.setattr(analyze, "TWINS_UP_TO_FILES", twins_up_to)
    monkeypatch.setattr(analyze, "PARALLEL_FROM_FILES", parallel_from)
    monkeypatch.setattr(analyze, "idle_cores", lambda: 2)  # the pool, however busy the machine
    code, table, _ = _run(capsys, *files)
    assert code == 0
    code, out, _ = _run(capsys, *files, "--format", "json")
    assert code == 0
    return table, json.loads(out)


def test_the_numpy_and_kernel_paths_and_the_worker_pool_give_the_same_output(capsys, monkeypatch):
    """A few files run the NumPy twins, many files the kernels, from 8 files on in two worker
    processes: what is printed must not depend on it (table identical, every JSON value equal
    to 1e-12 relative, same notes and processing)."""
    files = sorted(DATA.glob("BDS*.txt"))
    assert len(files) == 12
    many = 10**6
    runs = {
        "twins, serial": _json_run(capsys, monkeypatch, files, many, many),
        "kernels, serial": _json_run(capsys, monkeypatch, files, 0, many),
        "twins, 2 workers": _json_run(capsys, monkeypatch, files, many, 2),
        "kernels, 2 workers": _json_run(capsys, monkeypatch, files, 0, 2),
    }
    table, ref = runs.pop("twins, serial")
    assert [r["file"] for r in ref] == [str(f) for f in files]
    for name, (other_table, other) in runs.items():
        assert other_table == table, name
        assert len(other) == len(ref), name
        for a, b in zip(ref, other):
            assert a["file"] == b["file"] and a["processing"] == b["processing"], name
            assert a["notes"] == b["notes"] and a["units"] == b["units"], name
            assert a["metrics"].keys() == b["metrics"].keys(), name
            for key, value in a["metrics"].items():
                assert b["metrics"][key] == pytest.approx(value, rel=1e-12, abs=1e-12), (
                    name,
                    a["file"],
                    key,
                )


def test_a_bad_file_among_many_is_reported_and_the_others_analysed_in_the_pool(
    capsys, monkeypatch, tmp_path
):
    from nmr_balance.app.commands import analyze

    monkeypatch.setattr(analyze, "PARALLEL_FROM_FILES", 2)
    monkeypatch.setattr(analyze, "idle_cores", lambda: 2)
    bad = tmp_path / "bad.txt"
    bad.write_text("Time[s]\tnot\tthe header\n1\t2\t3\n")
    files = [DATA / "BDS00001.txt", bad, DATA / "BDS00002.txt"]
    code, out, err = _run(capsys, *files, "--format", "json")
    assert code == 1
    assert [r["file"] for r in json.loads(out)] == [str(files[0]), str(files[2])]
    assert "bad.txt: cannot tell which columns" in err


def test_idle_cores_is_between_one_and_the_core_count(monkeypatch):
    import os

    from nmr_balance.app.commands import analyze

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    for load, expected in ((0.0, 2), (0.4, 2), (0.6, 1), (1.0, 1), (7.5, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert analyze.idle_cores() == expected, load
