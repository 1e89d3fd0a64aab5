"""Start-up: each one-shot command as a whole process against the peer's script; and from
launching the interpreter to the first live sample, cold and warm.

One-shot commands (issue 16): each is a fresh process run to its exit through the real CLI
(``nmr_balance.app.cli.main``), timed by the parent from launch to exit, with its peak memory
from GNU time. ``analyze`` of 1 and of the 12 Santos & Duarte trials runs in turns with the
peer's script (:data:`PEER_SCRIPT`: ``numpy.loadtxt`` + ``micromotion.cop_sway_metrics``) on the
same files; medians of 7 alternated runs (2 with --quick) after an untimed round; ratio = the
peer's median / ours, same run. ``record --duration 1`` and ``run romberg`` on the simulator
also report the time from launch to their first processed sample (a watcher thread started by
``Pipeline.__enter__`` prints it); ``report`` of a 12-trial session and ``trials`` to exit.

First live sample: a fresh ``python`` process (subprocess) doing what ``nmr-balance live`` does:
import the app, open ``sim://?rate=1000``, prepare the DSP kernels (load them from the Numba
cache, or compile them when the cache is empty: *cold*), start the pipeline, wait for the first
processed sample. The child prints CLOCK_MONOTONIC at that moment; the parent took it just
before launching, so the figure includes the interpreter's own start-up. Baseline, same run:
``python -c "import numpy, scipy"``. Best of 3 for warm figures (1 with --quick); each cold start
runs once, into an empty temporary ``NUMBA_CACHE_DIR`` (skipped by --quick).

To the first drawn dashboard frame (when ``ui`` is present): as ``nmr-balance live`` starts the
dashboard (Qt offscreen): check the URL, start the engine process (acquisition) on
``sim://?rate=1000``, then, while it starts, load the kernels and Qt and build the console
window, until the console has drawn a frame holding live samples.
"""

from __future__ import annotations

import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec

from benchmarks._report import Report

COMMAND = "python -m benchmarks.bench_startup"

_TO_FIRST_SAMPLE = """
import time
from nmr_balance.app import open_source
from nmr_balance.app.warm import FRONT_END, warm_kernels
from nmr_balance.pipeline import Pipeline
source = open_source("sim://?rate=1000")
warm_kernels(only=FRONT_END)  # as `nmr-balance live --headless` (the front-end's kernels)
with Pipeline(source) as pipeline:
    pipeline.wait_for_samples(1, timeout=120)
    print(time.monotonic(), flush=True)
"""


_TO_FIRST_FRAME = """
import os, sys, tempfile, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from nmr_balance.app import open_source
from nmr_balance.app.commands.live import start_engine
from nmr_balance.app.engine_process import run_engine
open_source("sim://?rate=1000").close()
db = os.path.join(tempfile.mkdtemp(), "s.db")
host = start_engine("sim://?rate=1000", db)
from PySide6 import QtCore
from ui.dashboard import application, build_console
app = application()
window = build_console(run_engine, "sim://?rate=1000", store_path=db, engine_host=host)
window.resize(1440, 900)
window.show()
def check():
    feed = window.engine.feed
    if window.live.frame_ms and feed is not None and feed.last_t_host_ns:
        app.processEvents()  # the paint of that frame
        print(time.monotonic(), flush=True)
        window.close()
        app.quit()
timer = QtCore.QTimer(interval=2)
timer.timeout.connect(check)
timer.start()
QtCore.QTimer.singleShot(120_000, app.quit)
app.exec()
window.engine.close()
"""


def _launch(code: str, env: dict | None = None) -> float:
    """Seconds from launching ``python -c code`` to the monotonic time it prints."""
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
    lines = out.stdout.split()
    if not lines:
        raise RuntimeError(f"the start-up child printed no time: {out.stderr[-1500:]}")
    return float(lines[-1]) - t0


DATA = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "santos_duarte_2016"

#: The peer's whole job, as a user of ``micromotion`` would write it: read each Santos & Duarte
#: file, COP in mm (x = ML = COPy, y = AP = COPx, cm -> mm), metrics, print.
PEER_SCRIPT = """
import sys, numpy as np
from micromotion import cop_sway_metrics
for path in sys.argv[1:]:
    d = np.loadtxt(path, skiprows=1)
    print(path, cop_sway_metrics(d[:, [8, 7]] * 10.0, fs=100.0))
"""

#: Runs the real CLI (``nmr_balance.app.cli.main``, what the ``nmr-balance`` script calls) and
#: prints CLOCK_MONOTONIC to stderr when the pipeline has its first processed sample: the hook
#: wraps ``Pipeline.__enter__`` (a watcher thread), nothing else changes.
_CLI_FIRST_SAMPLE = """
import sys, threading, time
from nmr_balance import pipeline as P
enter = P.Pipeline.__enter__
def watched(self):
    out = enter(self)
    def watch():
        if self.wait_for_samples(1, timeout=120):
            print("FIRST_SAMPLE", time.monotonic(), file=sys.stderr, flush=True)
    threading.Thread(target=watch, daemon=True).start()
    return out
P.Pipeline.__enter__ = watched
from nmr_balance.app.cli import main
sys.exit(main(sys.argv[1:]))
"""


#: GNU time, for the peak memory: a child's maximum resident set counts its parent's at the
#: moment of exec (subprocess execs from a copy of this, ~100 MB, process), so the child is
#: started by this 2 MB program instead.
GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def _whole(argv: list[str], env: dict | None = None) -> tuple[float, float, float | None]:
    """Run ``argv`` to its exit: (wall s, peak RSS MiB of it and its children (NaN without GNU
    time), first sample s after launch or None)."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [GNU_TIME, "-f", "%M", "-o", rss.name, *argv] if GNU_TIME else argv
        t0 = time.monotonic()
        proc = subprocess.run(
            wrapped,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
            text=True,
            check=False,
        )
        wall = time.monotonic() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"{argv[:4]} exited with {proc.returncode}: {proc.stderr[-1500:]}")
        peak = float(rss.read().split()[-1]) / 1024.0 if GNU_TIME else float("nan")
    # (anywhere in stderr: a progress bar may share the line)
    first = [float(t) - t0 for t in re.findall(r"FIRST_SAMPLE ([0-9.]+)\n", proc.stderr)]
    return wall, peak, (first[0] if first else None)


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", _CLI_FIRST_SAMPLE, *args]


def _alternated(
    commands: dict[str, list[str]], runs: int, warm: bool = True
) -> dict[str, list[tuple]]:
    """Each command ``runs`` times, taking turns (ours, peer, ours, ...): both see the same
    load on the shared machine. With ``warm``, a first round only warms the OS file cache,
    untimed."""
    for argv in commands.values() if warm else ():
        _whole(argv)
    out: dict[str, list[tuple]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            out[name].append(_whole(argv))
    return out


def _median(values) -> float:
    return float(statistics.median(values))


def _session_db(path: str) -> int:
    """A station database with a 12-trial session (mCTSIB, 4 conditions x 3 trials of 30 s at
    100 Hz, simulated), as a recorder stores it; returns the session id."""
    import numpy as np

    from drivers.sim.board import SimulatedBoard
    from drivers.sim.model import Condition as SimCondition
    from nmr_balance.stream import SampleBlock
    from recordings import PROCESSED, RAW, Condition, Store
    from recordings.metrics import trial_metrics

    with Store.open(path) as store:
        store.ensure_patient("P001")
        session = store.start_session("P001")
        for k, (vision, surface) in enumerate(
            [(v, s) for v in ("open", "closed") for s in ("firm", "foam")] * 3
        ):
            board = SimulatedBoard(
                kind="cop", fs=100.0, seed=k, condition=SimCondition(vision=vision, surface=surface)
            )
            n = 3000
            counter = np.arange(n, dtype=np.int64)
            t_host = 10**12 + counter * 10**7
            block = SampleBlock(t_host, counter / 100.0, counter, board.generate(n))
            info = board.info
            with store.transaction():
                tid = store.begin_trial(
                    session.id,
                    info,
                    info,
                    protocol="mctsib",
                    condition=Condition(vision, surface, "feet_together"),
                )
                for seq, start in enumerate(range(0, n, 100)):
                    part = block.slice(start, start + 100)
                    store.append_chunk(tid, RAW, seq, part)
                    store.append_chunk(tid, PROCESSED, seq, part)
            store.finish_trial(tid, "complete", trial_metrics(block, info))
        return session.id


def commands(rep: Report, quick: bool) -> None:
    """Each one-shot command as a whole process (interpreter start to exit), alternated with
    the peer's script where there is one; medians."""
    runs = 2 if quick else 7
    load = os.getloadavg()[0]
    where = f"median of {runs} alternated runs, load average {load:.1f} at the start"
    files = sorted(str(p) for p in DATA.glob("BDS*.txt"))
    peer = [sys.executable, "-c", PEER_SCRIPT]
    have_peer = find_spec("micromotion") is not None
    for label, key, chosen in (("1 file", "one", files[:1]), ("12 files", "twelve", files)):
        jobs = {"ours": _cli("analyze", *chosen)}
        if have_peer:
            jobs["peer"] = peer + chosen
        got = _alternated(jobs, runs, warm=not quick)
        ours = _median(r[0] for r in got["ours"])
        theirs = _median(r[0] for r in got["peer"]) if have_peer else None
        rep.add(
            f"nmr-balance analyze, {label} (whole process)",
            ours,
            "s",
            theirs,
            "peer script: numpy.loadtxt + micromotion.cop_sway_metrics",
            goal=">= 3x the peer" + (" (< 0.6 s)" if key == "one" else ""),
            note=where
            + ("" if have_peer else "; micromotion not installed (pip install -e '.[bench]')"),
        )
        ours_mb = max(r[1] for r in got["ours"])
        theirs_mb = max(r[1] for r in got["peer"]) if have_peer else None
        rep.add(
            f"nmr-balance analyze, {label}: peak memory",
            ours_mb,
            "MiB",
            theirs_mb,
            "peer script",
            goal="<= the peer's",
            note="largest resident set of the process and its workers, over the runs",
        )
        if theirs:
            rep.headline[f"analyze_{key}_vs_peer_x"] = round(theirs / ours, 2)
        rep.headline[f"analyze_{key}_s"] = round(ours, 3)
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "station.db")
        got = _alternated(
            {"record": _cli("record", "--duration", "1", "--patient", "P001", "--db", db)},
            runs,
            warm=not quick,
        )["record"]
        first = _median(r[2] for r in got)
        rep.add(
            "nmr-balance record --duration 1: first sample",
            first,
            "s",
            goal="< 1 s (warm)",
            note=f"launch -> first processed sample of sim://; {where}",
        )
        rep.add(
            "nmr-balance record --duration 1: to exit",
            _median(r[0] for r in got),
            "s",
            note="1 s of signal at real-time pace, the trial's metrics, the database",
        )
        rep.headline["record_first_sample_s"] = round(first, 3)
        if quick:
            return
        got = _alternated(
            {
                "run": _cli(
                    "run",
                    "romberg",
                    "--source",
                    "sim://?realtime=0",
                    "--patient",
                    "P001",
                    "--no-record",
                    "--quiet",
                )
            },
            runs,
        )["run"]
        rep.add(
            "nmr-balance run romberg (sim, realtime=0, --no-record): first sample",
            _median(r[2] for r in got),
            "s",
            goal="< 1 s (warm)",
            note=where,
        )
        rep.add(
            "nmr-balance run romberg (sim, realtime=0, --no-record): to exit",
            _median(r[0] for r in got),
            "s",
            note="2 trials of 30 s simulated as fast as they are read, scored",
        )
        session = _session_db(db)
        pdf = os.path.join(tmp, "report.pdf")
        for name, argv in (
            ("report --session S --pdf (12-trial session)", ["report", "--session", str(session)]),
            ("trials (12 trials)", ["trials"]),
        ):
            if name.startswith("report"):
                argv = [*argv, "--pdf", pdf, "--note", os.path.join(tmp, "note.txt")]
            got = _alternated({name: _cli(*argv, "--db", db)}, runs)[name]
            rep.add(f"nmr-balance {name}", _median(r[0] for r in got), "s", note=where)


def run(quick: bool = False) -> Report:
    rep = Report("Start-up (drills)", COMMAND + (" --quick" if quick else ""))
    commands(rep, quick)
    repeat = 1 if quick else 3
    base = min(_launch("import numpy, scipy, time; print(time.monotonic())") for _ in range(repeat))
    warm = min(_launch(_TO_FIRST_SAMPLE) for _ in range(repeat))
    rep.add(
        "warm start to the first live sample (Numba cache filled)",
        warm,
        "s",
        base,
        "python -c 'import numpy, scipy'",
        goal="< 3 s to a live dashboard",
        note="interpreter start -> first processed sample of sim://?rate=1000",
    )
    rep.headline["warm_start_to_first_sample_s"] = round(warm, 2)
    if find_spec("ui.dashboard") is not None:
        frames, failed = [], []
        for _ in range(repeat):
            try:
                frames.append(_launch(_TO_FIRST_FRAME))
            except (RuntimeError, subprocess.SubprocessError) as e:
                failed.append(str(e)[:200])
        note = "interpreter start -> console drawn with live samples (offscreen; engine process)"
        if failed:
            note += f"; {len(failed)} of {repeat} starts drew no frame: {failed[0]}"
        rep.add(
            "warm start to the first drawn dashboard frame",
            min(frames, default=float("nan")),
            "s",
            base,
            "python -c 'import numpy, scipy'",
            goal="< 3 s",
            note=note,
        )
        if frames:
            rep.headline["warm_start_to_first_frame_s"] = round(min(frames), 2)
    if not quick:
        with tempfile.TemporaryDirectory() as cache:
            cold = _launch(_TO_FIRST_SAMPLE, {"NUMBA_CACHE_DIR": cache})
        rep.add(
            "cold start to the first live sample (empty Numba cache)",
            cold,
            "s",
            base,
            "python -c 'import numpy, scipy'",
            note="compiles the live kernels (a progress bar shows it); later starts are warm",
        )
        rep.headline["cold_start_to_first_sample_s"] = round(cold, 2)
        if find_spec("ui.dashboard") is not None:
            with tempfile.TemporaryDirectory() as cache:
                cold_frame = _launch(_TO_FIRST_FRAME, {"NUMBA_CACHE_DIR": cache})
            rep.add(
                "cold start to the first drawn dashboard frame (empty Numba cache)",
                cold_frame,
                "s",
                base,
                "python -c 'import numpy, scipy'",
                note="the console process compiles every kernel (progress bar) while the "
                "engine compiles its front-end; later starts are warm",
            )
            rep.headline["cold_start_to_first_frame_s"] = round(cold_frame, 2)
    return rep


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv).text())
