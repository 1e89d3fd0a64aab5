"""Crash safety: kill -9 mid-trial, and a disk that fills up while recording."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from urllib.parse import quote

import numpy as np
import pytest

from nmr_balance.app import open_source
from nmr_balance.errors import DiskFullError
from nmr_balance.pipeline import Pipeline
from recordings import Store
from recordings import recorder as recorder_module
from recordings.recorder import Recorder
from recordings.store import PROCESSED, RAW

pytestmark = pytest.mark.timeout(90)

_CHILD = textwrap.dedent("""
    import sys, time
    from nmr_balance.app import open_source
    from nmr_balance.pipeline import Pipeline
    from recordings import Store
    from recordings.recorder import Recorder
    store = Store.open(sys.argv[1])
    store.ensure_patient("P001")
    session = store.start_session("P001")
    with Pipeline(open_source("sim://?sensor=plate&rate=1000")) as pipeline:
        rec = Recorder(store, pipeline, session.id, from_start=True, commit_interval_s=0.25)
        print(rec.start(), flush=True)
        while True:
            rec.mark("marker", t=time.monotonic())
            time.sleep(0.1)
""")


def test_sigkill_mid_trial_keeps_every_committed_sample(store_target):
    """Killed mid-trial, the recording keeps all it had committed, whole and in order, and the
    trial reads as interrupted. The kill comes once another process has seen 1000 samples
    committed (not after a guessed time). How much a crash loses in real time (at most the
    last second) is the SIGKILL drill's measurement (python -m benchmarks.drill_sigkill)."""
    db = store_target  # a station file, or the clinic's server (a station killed mid-trial)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        trial_id = int(child.stdout.readline())
        deadline, committed = time.monotonic() + 60, 0
        while committed < 1000:
            assert time.monotonic() < deadline, f"only {committed} samples committed in 60 s"
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.1)
            with Store.open(db) as store:  # recovery leaves a live recording alone
                committed = len(store.samples(trial_id, RAW))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
    # The server notices a dead station's connection a moment later (SQLite at once).
    deadline = time.monotonic() + 30
    while True:
        with Store.open(db) as store:
            if store.trial(trial_id).status != "recording" or time.monotonic() > deadline:
                break
        time.sleep(0.1)
    with Store.open(db) as store:
        trial = store.trial(trial_id)
        assert trial.status == "interrupted"
        raw = store.samples(trial_id, RAW)
        processed = store.samples(trial_id, PROCESSED)
        assert store.check() == []
    assert len(raw) >= committed and np.array_equal(raw.counter, np.arange(len(raw)))
    assert len(processed) >= len(raw) - 1000
    assert trial.metrics["n_samples"] == len(processed)  # scored from what was committed
    # ... and the interrupted trial replays
    with Pipeline(open_source(f"replay://{quote(str(db))}?trial={trial_id}&speed=max")) as pipeline:
        reader = pipeline.processed.reader(from_start=True)
        deadline = time.monotonic() + 20
        while pipeline.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(reader.read()) == len(raw)


@contextlib.contextmanager
def small_filesystem(path, size_kb: int):
    """A real tmpfs of ``size_kb`` at ``path`` when we may mount (root), else None."""
    path.mkdir()
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        mounted = (
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
                capture_output=True,
                check=False,
            ).returncode
            == 0
        )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)


def limit_database_size(monkeypatch, pages: int):
    """Injected full disk: SQLite's own max_page_count makes writes fail with SQLITE_FULL."""
    real_open = Store.open

    def open_limited(path, *a, **kw):
        store = real_open(path, *a, **kw)
        store._q(f"PRAGMA max_page_count = {pages}")
        return store

    monkeypatch.setattr(recorder_module.Store, "open", open_limited)


def fill_up(directory):
    """Take every free byte of the file system at ``directory``: a real full disk from now on."""
    with open(directory / "ballast", "wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:  # until ENOSPC
            f.write(bytes(1 << 16))


def record_until_full(db, monkeypatch=None, pages=None, fill=None):
    """Record until the disk is full; ``fill`` (if given) fills it once something is committed
    (so the test does not depend on how many samples a busy machine puts in the first commit)."""
    with Store.open(db) as store:
        store.ensure_patient("P001")
        session = store.start_session("P001")
        if monkeypatch is not None:
            limit_database_size(monkeypatch, pages)
        with Pipeline(open_source("sim://?sensor=plate&rate=1000&speed=4")) as pipeline:
            rec = Recorder(store, pipeline, session.id, from_start=True, commit_interval_s=0.1)
            trial_id = rec.start()
            deadline = time.monotonic() + 60  # a bound for hangs
            while rec.recording and time.monotonic() < deadline:
                if fill is not None and rec.n_raw > 0:
                    fill()
                    fill = None
                time.sleep(0.02)
            with pytest.raises(DiskFullError) as err:
                rec.stop()
    assert "full" in str(err.value) and "committed is kept" in str(err.value)
    return trial_id, rec.n_raw


def check_intact(db, trial_id, n_committed):
    with Store.open(db) as store:
        assert store.check() == []
        assert store.trial(trial_id).status in ("aborted", "interrupted")
        raw = store.samples(trial_id, RAW)
    assert len(raw) == n_committed > 0
    assert np.array_equal(raw.counter, np.arange(n_committed))


def test_full_disk_stops_recording_cleanly(tmp_path, monkeypatch):
    mount = tmp_path / "small"
    with small_filesystem(mount, 64 * 1024) as real:
        db = mount / "station.db"
        if real:
            trial_id, n = record_until_full(db, fill=lambda: fill_up(mount))
            (mount / "ballast").unlink()
        else:  # not allowed to mount here: the same failure, injected through SQLite
            trial_id, n = record_until_full(db, monkeypatch, pages=60)
        copy = tmp_path / "copy"
        copy.mkdir()
        for f in mount.iterdir():
            shutil.copy(f, copy / f.name)
    check_intact(copy / "station.db", trial_id, n)


def test_injected_sqlite_full_stops_recording_cleanly(tmp_path, monkeypatch):
    db = tmp_path / "station.db"
    trial_id, n = record_until_full(db, monkeypatch, pages=60)
    monkeypatch.undo()
    check_intact(db, trial_id, n)
