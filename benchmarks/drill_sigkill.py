"""SIGKILL drill: the recording process killed at random moments, again and again.

    python -m benchmarks.drill_sigkill                    # 20 kills (at most 5 minutes)
    python -m benchmarks.drill_sigkill --kills 3 --seconds 30    # a quick check

Each round starts a child process that records ``sim://?sensor=plate&rate=1000`` (a
:class:`~recordings.recorder.Recorder`, commits every 0.25 s) into the same database, lets it
run for a random 0.3-4 s (seeded), and kills it with SIGKILL. Then the database is opened as
the app would open it (``Store.open`` recovers dead recorders' trials) and checked:

- it opens, and SQLite's ``integrity_check`` says ok;
- the killed trial is marked ``interrupted`` (scored from what was committed);
- at most 1 s lost: the last committed sample was taken less than 1 s before the kill
  (samples carry CLOCK_MONOTONIC, shared by both processes); the committed counters run
  0, 1, 2... with no hole.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._drills import add_length_options, header, length_s, save
from recordings import Store
from recordings.store import PROCESSED, RAW

CHILD_URL = "sim://?sensor=plate&rate=1000"


def child(db: Path) -> None:
    """Record until killed; print the trial id once recording."""
    from benchmarks._drills import recording
    from nmr_balance.app import open_source
    from nmr_balance.pipeline import Pipeline

    with (
        Pipeline(open_source(CHILD_URL)) as pipeline,
        recording(db, pipeline, "sigkill drill", commit_interval_s=0.25) as rec,
    ):
        print(rec.trial_id, flush=True)
        while True:
            time.sleep(1.0)


def one_kill(db: Path, wait_s: float) -> dict:
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.drill_sigkill", "--child", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        if not line.isdigit():
            raise RuntimeError(
                f"the recording child did not start: {line!r} {proc.stderr.read()[-2000:]}"
            )
        trial_id = int(line)
        time.sleep(wait_s)
        kill_ns = time.monotonic_ns()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    t0 = time.perf_counter()
    try:
        store = Store.open(db)
    except Exception as e:
        return {"trial_id": trial_id, "opens": False, "error": f"{type(e).__name__}: {e}"}
    with store:
        open_s = time.perf_counter() - t0
        integrity = store.check() or "ok"
        trial = store.trial(trial_id)
        raw = store.samples(trial_id, RAW)
        n_processed = len(store.samples(trial_id, PROCESSED))
    lost_s = (kill_ns - int(raw.t_host_ns[-1])) / 1e9 if len(raw) else None
    contiguous = bool(len(raw)) and np.array_equal(
        raw.counter, raw.counter[0] + np.arange(len(raw))
    )
    return {
        "trial_id": trial_id,
        "opens": True,
        "ran_s": round(wait_s, 3),
        "open_and_recover_s": round(open_s, 3),
        "integrity": integrity,
        "status": trial.status,
        "samples": len(raw),
        "processed": n_processed,
        "contiguous": contiguous,
        "lost_s": None if lost_s is None else round(lost_s, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_length_options(parser, default_minutes=5)
    parser.add_argument("--kills", type=int, default=20, help="how many kills (default 20)")
    parser.add_argument("--seed", type=int, default=9, help="for the random moments")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    started = header("drill_sigkill")
    rng = np.random.default_rng(args.seed)
    end = time.monotonic() + length_s(args)
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "station.db"
        for i in range(args.kills):
            if time.monotonic() > end:
                break
            r = one_kill(db, float(rng.uniform(0.3, 4.0)))
            rounds.append(r)
            print(
                f"kill {i + 1}: after {r.get('ran_s')} s, lost {r.get('lost_s')} s, "
                f"{r.get('status')}, integrity {r.get('integrity')}, {r.get('samples')} samples"
                f"{'' if r['opens'] else ' DOES NOT OPEN: ' + r['error']}",
                flush=True,
            )
    lost = [r["lost_s"] for r in rounds if r.get("lost_s") is not None]
    ok = bool(rounds) and all(
        r["opens"]
        and r["integrity"] == "ok"
        and r["status"] == "interrupted"
        and r["contiguous"]
        and r["lost_s"] is not None
        and r["lost_s"] <= 1.0
        for r in rounds
    )
    result = {
        **started,
        "kills": len(rounds),
        "ok": ok,
        "all_open_clean": all(r["opens"] and r["integrity"] == "ok" for r in rounds),
        "all_interrupted": all(r.get("status") == "interrupted" for r in rounds),
        "lost_s_max": max(lost, default=None),
        "lost_s_median": float(np.median(lost)) if lost else None,
        "open_and_recover_s_max": max(
            (r.get("open_and_recover_s", 0) for r in rounds), default=None
        ),
        "rounds": rounds,
    }
    path = save(result, args.json)
    print(
        f"{'OK' if ok else 'FAILED'}: {len(rounds)} kills, lost at most {result['lost_s_max']} s "
        f"(median {result['lost_s_median']} s), every open clean: {result['all_open_clean']}, "
        f"every trial interrupted: {result['all_interrupted']}; figures: {path}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
