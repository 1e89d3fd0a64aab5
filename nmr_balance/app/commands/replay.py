"""``nmr-balance replay``: play a stored trial (or a trial file) through the live pipeline."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import quote

from nmr_balance.app.commands._recordings import add_db_argument, open_store, print_metrics
from nmr_balance.app.warm import FRONT_END, warm_kernels

NAME = "replay"
HELP = "replay a recorded trial through the live pipeline, at any speed"
DESCRIPTION = """\
Stream a stored trial (by id) or a trial file (CSV, C3D, Santos & Duarte TSV) through the same
pipeline as a live sensor, show it, and score it again. For a stored trial the replayed metrics
are compared with the stored ones: they match for a trial recorded from the source's start;
for a trial that began while the live filters were already running, the samples after the
front-end's start-up (a fraction of a second) must match, and the replay says so.

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
    # here, not at the top: `nmr-balance --help` imports every command module
    from nmr_balance.app import open_source
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.terminal_view import print_events, run_console
    from recordings.metrics import trial_metrics
    from recordings.store import PROCESSED

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
        with open_store(args, create=False) as store:
            kept = store.samples(stored.id, PROCESSED)
        print(_compare(metrics, stored.metrics, replayed, kept, pipeline))
    return 0


def _compare(metrics: dict, stored_metrics: dict, replayed, kept, pipeline) -> str:
    """What a replay can say about the stored trial, in words.

    Equal metrics say it all. Otherwise, the samples are compared after the front-end's start-up
    (``settle_s`` of its stages: the low-pass filter, the IMU's complementary filter): a replay
    starts the filters at the trial's first sample, while live they were already running when
    the trial began, so the first fraction of a second differs, and the metrics with it (by
    ~0.1 %); after the start-up the samples must agree to 1e-9 of their range unless the
    front-end itself changed (or the live trial had a tare or level the replay does not redo).
    """
    import numpy as np

    if _same(metrics, stored_metrics):
        return "replayed metrics equal the stored ones"
    settle_s = sum(getattr(stage, "settle_s", 0.0) for stage in pipeline.stages)
    skip = math.ceil(settle_s * pipeline.info.fs)
    n = min(len(replayed), len(kept))
    if n - skip < pipeline.info.fs:  # less than a second left to compare
        return (
            f"replayed metrics differ from the stored ones; the trial is too short to compare "
            f"its samples after the front-end's start-up ({settle_s:.2f} s)"
        )
    a, b = replayed.data[skip:n, :2], kept.data[skip:n, :2]
    scale = 1.0 + float(np.nanmax(np.abs(b))) if np.isfinite(b).any() else 1.0
    diff = float(np.nanmax(np.abs(a - b))) if np.isfinite(a - b).any() else 0.0
    unit = pipeline.info.units[0]
    worst = _worst_metric(metrics, stored_metrics)
    if diff <= 1e-9 * scale and len(replayed) == len(kept):
        return (
            f"replayed samples equal the stored ones after the front-end's start-up (the first "
            f"{settle_s:.2f} s: live, its filters were already running when the trial began; a "
            f"replay starts them at the trial's first sample); the metrics differ by that "
            f"start only (at most {worst})"
        )
    return (
        f"replayed samples DIFFER from the stored ones after the front-end's start-up (by up to "
        f"{diff:.3g} {unit}; {len(replayed)} samples replayed, {len(kept)} stored): the "
        "front-end changed since the trial was recorded, or it was recorded with a tare or "
        f"level the replay does not redo (metrics: at most {worst})"
    )


def _worst_metric(a: dict, b: dict) -> str:
    """The largest relative difference between two metric sets, as '0.12 % (mean_velocity)'."""
    worst, name = 0.0, ""
    for k, v in b.items():
        w = a.get(k)
        if isinstance(v, (int, float)) and isinstance(w, (int, float)) and v and math.isfinite(v):
            rel = abs(w - v) / abs(v)
            if math.isfinite(rel) and rel > worst:
                worst, name = rel, k
    return f"{100 * worst:.2g} % ({name})" if name else "0 %"


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
