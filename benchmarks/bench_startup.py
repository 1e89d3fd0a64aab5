"""Start-up: from launching the interpreter to the first live sample, cold and warm.

Each figure is a fresh ``python`` process (subprocess) doing what ``nmr-balance live`` does:
import the app, open ``sim://?rate=1000``, prepare the DSP kernels (load them from the Numba
cache, or compile them when the cache is empty: *cold*), start the pipeline, wait for the first
processed sample. The child prints CLOCK_MONOTONIC at that moment; the parent took it just
before launching, so the figure includes the interpreter's own start-up. Baseline, same run:
``python -c "import numpy, scipy"``. Best of 3 for warm figures (the machine is shared; 1 with --quick);
each cold start runs once, into an empty temporary ``NUMBA_CACHE_DIR`` (skipped by --quick).

To the first drawn dashboard frame (when ``ui`` is present): as ``nmr-balance live`` starts the
dashboard (Qt offscreen): check the URL, start the engine process (acquisition) on
``sim://?rate=1000``, then, while it starts, load the kernels and Qt and build the console
window, until the console has drawn a frame holding live samples.
"""

from __future__ import annotations

import os
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
from nmr_balance.app.warm import warm_kernels
from nmr_balance.pipeline import Pipeline
source = open_source("sim://?rate=1000")
warm_kernels()
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


def run(quick: bool = False) -> Report:
    rep = Report("Start-up (drills)", COMMAND + (" --quick" if quick else ""))
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
