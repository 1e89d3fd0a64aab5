"""The app as a user starts it: `nmr-balance live --screenshot` in a subprocess, offscreen."""

from __future__ import annotations

import os
import subprocess

import pytest
from _helpers import CLI, REPO, not_blank, run_cli
from PySide6 import QtGui

pytestmark = pytest.mark.timeout(90)


def test_live_opens_the_console_and_saves_a_screenshot(tmp_path, artifacts_dir, qapp):
    shot = artifacts_dir / "cli_console.png"
    shot.unlink(missing_ok=True)
    out = run_cli(
        *("live", "--source", "sim://?rate=200&vision=closed&surface=foam"),
        *("--db", str(tmp_path / "s.db"), "--screenshot", str(shot), "--duration", "2.5"),
        "--patient-screen",
        timeout=80,
        cwd=REPO,
        # no display: the command itself must choose offscreen
        env={"DISPLAY": None, "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None},
    )
    assert out.returncode == 0, out.stderr
    assert "saved a screenshot" in out.stdout and "Traceback" not in out.stderr
    image = QtGui.QImage(str(shot))
    assert image.width() >= 1200 and not_blank(image) > 10
    # it fits a 1366x768 clinic laptop (issue 15)
    assert image.width() <= 1366 and image.height() <= 768, (image.width(), image.height())
    # the database was created owner-only (health data)
    assert (tmp_path / "s.db").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("sig, group", [("SIGTERM", False), ("SIGTERM", True), ("SIGINT", True)])
def test_ctrl_c_or_sigterm_closes_the_dashboard_cleanly(tmp_path, sig, group):
    """A TERM (system shutdown, `timeout`) or Ctrl-C in the terminal, to the UI alone or to the
    whole process group (UI and engine at once, as a terminal and `timeout` send it), closes the
    console like its close button: the engine stops and its shared memory is released, with
    nothing leaked or left behind."""
    import signal
    import time

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [
            *CLI,
            "live",
            "--source",
            "sim://?rate=200",
            "--db",
            str(tmp_path / "s.db"),
            "--screenshot",
            str(tmp_path / "x.png"),
            "--duration",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    shown = proc.stdout.readline()  # the console says it is open (and how to stop it)
    assert "Ctrl-C" in shown, proc.communicate()[1]
    time.sleep(1.0)  # streaming
    if group:
        os.killpg(proc.pid, getattr(signal, sig))
    else:
        proc.send_signal(getattr(signal, sig))
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "leaked" not in err and "Traceback" not in err
    assert "saved a screenshot" not in out  # it stopped early, not at the end of --duration
