"""Helpers shared by many test files: repository paths, the console on a station database,
screenshot checks, a fake clock.

Test files never import each other (``test_layout.py`` checks it): what two of them share lives
here or in the other helper modules (``_driver_helpers``, ``_fake_bleak``, ``_recordings_util``,
``_report_util``, ``ui_store``, ``protocol_harness``, ``flaky_engine``).
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
import sys

import numpy as np

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = pathlib.Path(__file__).resolve().parent / "data"
#: The command line as a user runs it, in a fresh process.
CLI = (sys.executable, "-m", "nmr_balance.app.cli")


def run_cli(
    *args: str, timeout: float = 120, cwd=None, env: dict | None = None, **kw
) -> subprocess.CompletedProcess:
    """``nmr-balance ARGS`` in a subprocess, unbuffered, with its output captured as text and
    its exit status left to the caller. ``env``: variables set for it (None: removed, e.g.
    ``{"DISPLAY": None}`` for a machine without a display); ``cwd``: by default a folder of
    the user's, not the repository, so the installed app must find its own package data."""
    environ = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name, value in (env or {}).items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO.parent if cwd is None else cwd,
        env=environ,
        check=False,
        **kw,
    )


def not_blank(image) -> float:
    """Pixel standard deviation of a QImage (0 for a blank, single-colour picture)."""
    ptr = image.convertToFormat(image.Format.Format_Grayscale8)
    arr = np.frombuffer(ptr.constBits(), np.uint8, ptr.sizeInBytes()).astype(float)
    return float(arr.std())


def save_shot(widget, path) -> None:
    """Save a PNG of ``widget`` for a person to look at; fail if it came out blank."""
    image = widget.grab().toImage()
    assert image.save(str(path))
    assert not_blank(image) > 10, f"{path.name} looks blank"


class FakeClock:
    """Stands in for the ``time`` module inside a module that paces by the clock (replay, the
    simulator): ``monkeypatch.setattr(module, "time", clock)``. The test moves ``t`` on and
    ``sleep`` advances it, so pacing is checked exactly, whatever else the machine is doing."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def monotonic(self) -> float:
        return self.t

    def monotonic_ns(self) -> int:
        return round(self.t * 1e9)

    def sleep(self, seconds: float) -> None:
        self.t += max(0.0, seconds)


@contextlib.contextmanager
def console_on(qtbot, db):
    """The console (``ui.console_window``) on the station database ``db`` as the dashboard opens
    it: the store read-only in this process (``ui.dashboard.open_store`` creates or updates the
    file first), the engine its one writer, started in its own process on first use. Yields the
    window and that store; closes both."""
    from nmr_balance.app.engine_process import run_engine
    from ui.console_window import ConsoleWindow
    from ui.dashboard import application, open_store
    from ui.engine_client import EngineClient

    application()
    store = open_store(db)
    try:
        window = ConsoleWindow(EngineClient(run_engine, store_path=str(db)), store)
        qtbot.addWidget(window)
        try:
            yield window, store
        finally:
            window.close()
    finally:
        store.close()


def open_console_session(qtbot, window, url: str, patient: str) -> None:
    """On a running console (``ui.console_window``): connect ``url``, add ``patient`` and start
    a session for them, each step waited for on the engine's reply."""
    with qtbot.waitSignal(window.engine.ready, timeout=30000):
        window.connect_source(url)
    with qtbot.waitSignal(window.engine.patient_added, timeout=10000):
        window.add_patient(patient)
    with qtbot.waitSignal(window.engine.session_started, timeout=10000):
        window.start_session(patient)
