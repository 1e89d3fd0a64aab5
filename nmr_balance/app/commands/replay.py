"""``nmr-balance replay``: play a stored trial (or a trial file) through the live pipeline."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import quote

from nmr_balance.app import open_source
from nmr_balance.app.commands._recordings import add_db_argument, open_store, print_metrics
from nmr_balance.app.warm import FRONT_END, warm_kernels
from nmr_balance.pipeline import Pipeline
from nmr_balance.terminal_view import print_events, run_console

NAME = "replay"
HELP = "replay a recorded trial through the live pipeline, at any speed"
DESCRIPTION = """\
Stream a stored trial (by id) or a trial file (CSV, C3D, Santos & Duarte TSV) through the same
pipeline as a live sensor, show it, and score it again. For a stored trial the replayed metrics
are compared with the stored ones (they match: live and replay use the same front-end).

The same is available to every command that takes a source URL:
  replay:///path/station.db?trial=ID&speed=2&start=10

Examples:
  nmr-balance replay 12                        real time
  nmr-balance replay 12 --speed max            as fast as possible
  nmr-balance replay 12 --speed 4 --start 10   4x, from 10 s in
  nmr-balance replay BDS00001.txt --speed 10
"""


def add_arguments(parser) -> None:
    parser.add_argument("trial", metavar="TRIAL_ID|FILE", help="a trial id or a trial file")
    parser.add_argument("--speed", default="1", help="1 = real time (default), 4 = 4x, max")
    parser.add_argument("--start", type=float, default=0.0, metavar="S", help="start at S s")
    add_db_argument(parser)


def run(args) -> int:
    from recordings.metrics import trial_metrics

    stored = None
    if args.trial.isdigit():
        with open_store(args, create=False) as store:
            stored = store.trial(int(args.trial))
            path = store.location
        url = f"replay://{quote(str(path))}?trial={stored.id}"
    else:
        url = f"replay://{quote(str(Path(args.trial).expanduser().resolve()))}?"
    url += f"&speed={args.speed}&start={args.start:g}"
    warm_kernels(only=(*FRONT_END, "live"))  # front-end and the console's live metrics
    with Pipeline(open_source(url)) as pipeline:
        reader = pipeline.processed.reader(from_start=True)
        run_console(pipeline, None)
        replayed = reader.read()
    print_events(pipeline.events())
    metrics = trial_metrics(replayed, pipeline.info)
    print_metrics(metrics)
    if stored is not None and args.start == 0:
        same = _same(metrics, stored.metrics)
        print(
            "replayed metrics equal the stored ones"
            if same
            else "replayed metrics DIFFER from the stored ones (was the front-end changed since?)"
        )
    return 0


def _same(a: dict, b: dict) -> bool:
    """Equal metrics, NaN equal to NaN; floats to 1e-12 relative: the stored ones may come from
    the Numba kernels and these from their NumPy twins (or the other way round), which agree to
    ~1e-15 — a changed front-end moves them far more."""
    keys = [k for k, v in b.items() if isinstance(v, (int, float))]
    return all(
        k in a
        and (
            a[k] == b[k]
            or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
            or math.isclose(a[k], b[k], rel_tol=1e-12, abs_tol=1e-300)
        )
        for k in keys
    )
