"""What the soak and fault drills share: their length option, a recorded trial, saving figures.

Each drill writes its figures as JSON to ``benchmarks/results/<drill>.json``;
``python -m benchmarks.run_all`` puts the last run of each into the README's "Soak and fault
drills" table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def add_length_options(parser: argparse.ArgumentParser, default_minutes: float) -> None:
    parser.add_argument(
        "--minutes",
        type=float,
        default=default_minutes,
        help=f"how long to run (default {default_minutes:g})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="how long to run, in seconds (overrides --minutes; for a quick check)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        help="where the figures go (default benchmarks/results/<drill>.json)",
    )


def length_s(args: argparse.Namespace) -> float:
    return args.seconds if args.seconds is not None else args.minutes * 60.0


def header(drill: str) -> dict:
    """Who ran what, when, under which load (the machine is shared: tails depend on it)."""
    return {
        "drill": drill,
        "command": " ".join([f"python -m benchmarks.{drill}", *sys.argv[1:]]),
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "cores": os.cpu_count(),
        "load_average_start": round(os.getloadavg()[0], 2),
    }


def save(result: dict, path: Path | None) -> Path:
    """Write ``result`` (plus the end time and load) atomically; return the path."""
    path = path or RESULTS / f"{result['drill']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    result = {
        **result,
        "ended_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "load_average_end": round(os.getloadavg()[0], 2),
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1, default=float))
    tmp.replace(path)
    return path


@contextlib.contextmanager
def recording(db: Path, pipeline, protocol: str, **kw):
    """A :class:`~recordings.recorder.Recorder` on ``pipeline`` into a new trial in ``db``.

    Yields the recorder (started, from the rings' start); stops it ("complete") at the end.
    """
    from recordings import Store
    from recordings.recorder import Recorder

    with Store.open(db) as store:
        store.ensure_patient("DRILL")
        session = store.start_session("DRILL", station=protocol)
        recorder = Recorder(store, pipeline, session.id, protocol=protocol, from_start=True, **kw)
        recorder.start()
        try:
            yield recorder
        finally:
            recorder.stop()
