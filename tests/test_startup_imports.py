"""Each command loads only what it uses: what a fresh process imported, read from sys.modules.

Not timed (timings are benchmarks: ``python -m benchmarks.bench_startup``); an import that
should not happen is a fact that can be checked on any machine.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

DATA = pathlib.Path(__file__).parent / "data" / "santos_duarte_2016"
HEAVY = ("numba", "llvmlite", "scipy.signal", "scipy.stats", "PySide6", "reportlab", "pyqtgraph")


def _imported(argv: list[str], tmp_path) -> tuple[set[str], str]:
    """Top-level packages (and scipy submodules) a fresh ``nmr-balance argv`` process
    imported, and its stdout."""
    code = (
        "import json, sys\n"
        "from nmr_balance.app.cli import main\n"
        f"rc = main({argv!r})\n"
        "print(json.dumps(sorted(sys.modules)))\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    *text, modules = out.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(text)


def _loaded(modules: set[str], names) -> list[str]:
    return sorted(n for n in names if n in modules)


def test_analyze_of_one_file_imports_no_numba_scipy_signal_qt_or_reportlab(tmp_path):
    modules, text = _imported(["analyze", str(DATA / "BDS00001.txt")], tmp_path)
    assert "BDS00001.txt" in text and "mean_velocity" in text  # it did analyse the file
    assert _loaded(modules, HEAVY) == []
    assert "dsp.metrics" in modules


def _modules_after(argv: list[str], tmp_path) -> set[str]:
    """What a fresh ``nmr-balance argv`` process imported (``--help`` exits through argparse)."""
    code = (
        "import sys\n"
        "from nmr_balance.app.cli import main\n"
        "try:\n"
        f"    rc = main({argv!r})\n"
        "except SystemExit as e:\n"  # --help exits through argparse
        "    rc = e.code\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\n"
        "sys.exit(rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return set(out.stdout.split("MODULES", 1)[1].split())


@pytest.mark.parametrize(
    "argv", [["--help"], ["analyze", "--help"], ["record", "--help"], ["trials"]]
)
def test_help_and_trials_import_no_numba(argv, tmp_path):
    if argv == ["trials"]:
        argv = ["trials", "--db", str(tmp_path / "station.db")]
        from recordings import Store

        Store.open(str(tmp_path / "station.db")).close()  # an empty station database
    assert _loaded(_modules_after(argv, tmp_path), HEAVY) == []


#: What recording or running a protocol needs, and no --help does.
RECORDING = (
    "nmr_balance.pipeline",
    "nmr_balance.app.protocol_recording",
    "nmr_balance.protocols.run",
    "nmr_balance.results",
    "recordings.store",
)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["record", "--help"],
        ["sign", "--help"],
        ["addendum", "--help"],
        ["analyze", "--help"],
        ["protocols", "--help"],
        ["sources", "--help"],
    ],
)
def test_help_loads_neither_the_pipeline_nor_the_store_nor_numpy(argv, tmp_path):
    """The overview imports every command module for its help line, so each keeps what its
    ``run`` needs (NumPy, the protocol engine, the sources) inside ``run``; ``record --help``
    imports its own (``--db`` shows the default database path without opening the store)."""
    modules = _modules_after(argv, tmp_path)
    assert _loaded(modules, RECORDING) == []
    assert _loaded(modules, ("numpy", *HEAVY)) == []
    if argv[0] != "--help":  # no other command's module
        assert _loaded(modules, ("nmr_balance.app.commands.run",)) == []


def test_record_on_the_simulator_imports_no_scipy_signal_qt_or_reportlab(tmp_path):
    """Streaming needs the front-end kernels (Numba) but not scipy.signal (the low-pass and the
    simulator's noise filter are designed by dsp._butter), Qt or reportlab."""
    db = str(tmp_path / "station.db")
    modules, text = _imported(
        ["record", "--duration", "0.3", "--patient", "P001", "--db", db], tmp_path
    )
    assert "trial 1 (complete)" in text
    assert "numba" in modules  # the live front-end runs on the kernels
    assert _loaded(modules, ("scipy.signal", "scipy.stats", "PySide6", "reportlab")) == []


def test_the_rate_median_is_numpys_without_numpy_ma():
    """Reading a file's rate avoids np.median's NaN check (it imports numpy.ma, 20-40 ms)."""
    import numpy as np

    from nmr_balance.io_formats import _median

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10, 11, 6000, 6001):
        steps = 0.01 + rng.random(n) * 1e-4
        assert _median(steps) == np.median(steps)


@pytest.mark.parametrize("command", ["protocols", "sources"])
def test_listing_protocols_and_sources_imports_no_numba(command, tmp_path):
    modules, text = _imported([command], tmp_path)
    assert text.strip()
    assert _loaded(modules, HEAVY) == []


def test_report_note_alone_imports_no_reportlab(tmp_path):
    """The documentation note is text: reportlab is imported only when a PDF is asked for."""
    from recordings import Store

    db = str(tmp_path / "station.db")
    with Store.open(db) as store:
        store.add_patient("P001")
        session = store.start_session("P001")
    note = tmp_path / "note.txt"
    argv = ["report", "--session", str(session.id), "--note", str(note), "--db", db]
    modules, _ = _imported(argv, tmp_path)
    assert note.read_text().strip()
    assert _loaded(modules, HEAVY) == []
