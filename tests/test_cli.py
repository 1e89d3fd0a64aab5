"""The command line, run as a user would: in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

from _helpers import REPO, run_cli

from nmr_balance import __version__


def nmr(*args, timeout=60):
    return run_cli(*args, timeout=timeout, env={"DISPLAY": None, "WAYLAND_DISPLAY": None})


def test_help_teaches_with_examples():
    out = nmr("--help")
    assert out.returncode == 0
    assert "live" in out.stdout and "sim://" in out.stdout and "Axes" in out.stdout
    live = nmr("live", "--help")
    assert "Examples" in live.stdout and "--duration" in live.stdout


def test_version():
    out = nmr("--version")
    assert out.stdout.strip() == f"nmr-balance {__version__}"


def test_live_streams_and_prints_live_figures():
    # 2 s of signal, paced in real time, then the source ends (--duration only bounds a hang):
    # the count is exact on a busy machine too; how fast it flows is the benchmarks' subject
    out = nmr("live", "--source", "sim://?rate=1000&duration=2", "--duration", "60")
    assert out.returncode == 0, out.stderr
    assert "No display found" in out.stdout
    assert "[streaming]" in out.stdout and "[ended]" in out.stdout and "[closed]" in out.stdout
    rates = [ln.split("|")[1].split()[0] for ln in out.stdout.splitlines() if "Hz |" in ln]
    assert any(r != "--" and float(r) > 0 for r in rates), out.stdout  # a live rate is shown
    summary = next(ln for ln in out.stdout.splitlines() if " samples in " in ln)
    assert int(summary.split()[0]) == 2000 and "0 dropped" in summary


def test_bad_url_is_one_clear_line_without_traceback():
    out = nmr("live", "--source", "sim://?rate=99999", "--duration", "1")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert "rate" in out.stderr and "10 to 2000" in out.stderr


def test_sources_lists_the_simulator_with_its_parameters():
    out = nmr("sources")
    assert out.returncode == 0
    assert "sim://" in out.stdout and "vision" in out.stdout


def test_demo_runs_headless_and_says_why():
    env = {**os.environ}
    env.pop("DISPLAY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "nmr_balance.app.demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        assert "no display" in first and "headless console" in first
        second = proc.stdout.readline()
        assert "Running for 20 s" in second
    finally:
        proc.kill()
        proc.wait(10)
