"""``nmr-balance analyze``: sway metrics of recorded trials (CSV/TSV or Santos & Duarte files)."""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from typing import TYPE_CHECKING

from nmr_balance.app.commands._table_options import HELP_TEXT, add_table_arguments, table_options
from nmr_balance.errors import DataFormatError, NmrBalanceError

if TYPE_CHECKING:
    from nmr_balance.io_formats import CopRecording

NAME = "analyze"
HELP = "compute sway metrics of recorded trials (CSV/TSV, Santos & Duarte)"
DESCRIPTION = """\
Compute the full set of sway metrics (distances, velocities, 95 % ellipses, spectra, entropy,
stabilogram diffusion; definitions in docs/metrics.md) for each FILE and print them as a table,
JSON or CSV. COP is reported in mm (areas mm^2, velocities mm/s); tilt files in deg.

Input formats (detected, or forced with --input):
  santos-duarte  the public data set of Santos & Duarte 2016 (tab-separated, COP in cm)
  csv            any CSV/TSV with a header row, read as `nmr-balance import` reads it (below):
                 a COP file (x, y), a force plate (Fx..Mz) or load cells (tr br tl bl), whose
                 COP the live front-end computes. '# fs: 100', '# unit: cm',
                 '# filtered_hz: 10' lines above the header are used.

Filtering (--filter): 'auto' (default) low-passes (zero-phase Butterworth, --order 4,
--cutoff 10 Hz) unless the file says it is already filtered; 'none' never filters; 'lowpass'
always does. What was done is printed for each file (and stored under "processing" in JSON).

Examples:
  nmr-balance analyze tests/data/santos_duarte_2016/BDS*.txt
  nmr-balance analyze trial.csv --x-col cop_ml --y-col cop_ap --fs 100 --unit cm
  nmr-balance analyze a.csv b.csv --time-col t --unit mm --unit s --format json > metrics.json
  nmr-balance analyze *.txt --format csv --output metrics.csv
  nmr-balance analyze wii_trial.csv --fs 100 --max-gap 0.2     bridge short drop-outs

"""
DESCRIPTION += HELP_TEXT

#: Metrics shown in the table view (JSON and CSV carry every metric).
TABLE_METRICS = (
    "mean_velocity",
    "path_length",
    "mean_distance",
    "rms_ml",
    "rms_ap",
    "ellipse_area_95_f",
    "ellipse_area_95_chi2",
    "mean_power_frequency",
    "sample_entropy_ap",
)


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help="recordings to analyse")
    parser.add_argument(
        "--format",
        choices=("table", "json", "csv"),
        default="table",
        help="output format (default: table)",
    )
    parser.add_argument("--output", metavar="PATH", help="write to PATH instead of the screen")
    parser.add_argument(
        "--input",
        choices=("auto", "santos-duarte", "csv"),
        default="auto",
        help="input format (default: detect)",
    )
    parser.add_argument(
        "--filter",
        choices=("auto", "none", "lowpass"),
        default="auto",
        help="low-pass before analysis (default: auto = unless already filtered)",
    )
    parser.add_argument(
        "--cutoff", type=float, default=10.0, metavar="HZ", help="low-pass cut-off (10)"
    )
    parser.add_argument("--order", type=int, default=4, help="Butterworth order (4)")
    parser.add_argument(
        "--max-gap",
        type=float,
        default=None,
        metavar="S",
        help="bridge gaps (empty or NaN samples, or samples missing by the time or counter "
        "column) up to S seconds by linear interpolation (default: a file with gaps is an error)",
    )
    add_table_arguments(parser)


#: Up to this many files, the metrics come from the NumPy twins of the kernels (same values to
#: ~1e-15 relative, tested): about 3.5 ms of CPU more per 60 s trial than the kernels, where
#: loading Numba and the cached kernels costs ~0.6 s of CPU per process (and a first run
#: compiles for ~20 s). Measured crossover: ~180 files of 60 s at 100 Hz in CPU time, more in
#: wall time when the workers share the twins' work (benchmarks/notes.md, issue 16).
TWINS_UP_TO_FILES = 200
#: From this many files on, worker processes share the files, one per idle core.
PARALLEL_FROM_FILES = 8


def run(args) -> int:
    files = list(args.files)
    args.use_numba = len(files) > TWINS_UP_TO_FILES
    if args.use_numba:
        _warm()
    outcomes = _analyse_all(files, args)
    if len(files) >= 3:
        from tqdm import tqdm

        outcomes = tqdm(
            outcomes, total=len(files), desc="analysing", unit="file", delay=1.0, file=sys.stderr
        )
    results, failures = [], 0
    for result, error in outcomes:
        if error is None:
            results.append(result)
        else:
            failures += 1
            print(f"nmr-balance analyze: {error}", file=sys.stderr)
    text = {"table": _table, "json": _json, "csv": _csv}[args.format](results)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        print(f"wrote {len(results)} result(s) to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if failures else 0


def _warm() -> None:
    """Load (or, on a first run, compile) the trial-metric kernels, with progress (and those of
    >= 200 Hz spectra: ~0.5 s more, small beside the batch that asks for kernels)."""
    from nmr_balance.app.warm import warm_kernels

    warm_kernels(only=("metrics", "decimation"))


def _analyse_all(files: list[str], args):
    """(result, None) or (None, error message) for each file, in order; lazily."""
    workers = idle_cores() if len(files) >= PARALLEL_FROM_FILES else 1
    if workers == 1:
        return (_outcome(path, args) for path in files)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start in milliseconds with everything imported (and the kernels loaded
    # when the parent loaded them); elsewhere (Windows, macOS) the platform's own start method.
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    pool = ProcessPoolExecutor(workers, mp_context=context)
    chunk = max(1, len(files) // (workers * 4))

    def outcomes():
        with pool:
            yield from pool.map(_outcome, files, [args] * len(files), chunksize=chunk)

    return outcomes()


def idle_cores() -> int:
    """Cores no other process is using (at least 1): all of them on an idle machine. A worker on
    a busy core only adds its start-up and waits (measured at load 8-26 on 2 shared cores: the
    pool took 10-20 % longer than one process; benchmarks/notes.md)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]  # 1-minute average of runnable processes
    except (AttributeError, OSError):  # Windows: no load average; assume an idle clinic PC
        load = 0.0
    return max(1, min(cores, int(cores - load + 0.5)))


def _outcome(path: str, args):
    try:
        return analyse_file(path, args), None
    except (NmrBalanceError, ValueError) as e:
        return None, ("" if isinstance(e, NmrBalanceError) else f"{path}: ") + str(e)


def load(path: str, args) -> CopRecording:
    """Read ``path`` in the format chosen by ``args.input`` (or detected).

    A table goes through the importer's reader (:func:`recordings.exchange.read_file`): same
    options, same refusals. Samples missing by its time or counter column come back as NaN rows,
    so they are an error unless ``--max-gap`` bridges them.
    """
    # NumPy and the readers are imported here, not at the top: every command's --help imports
    # this module for its help line.
    import numpy as np

    from nmr_balance.io_formats import CopRecording, read_santos_duarte, sniff_format

    kind = args.input if args.input != "auto" else sniff_format(path).replace("_", "-")
    if kind == "santos-duarte":
        return read_santos_duarte(path)
    from nmr_balance.stream import SensorKind
    from recordings.exchange import process, read_file

    data = read_file(path, table_options(args))
    if data.raw_info.kind is SensorKind.COP:
        block, info = data.raw, data.raw_info
    else:
        data = process(data)
        block, info = data.processed, data.info
    span = int(block.counter[-1] - block.counter[0]) + 1
    xy = np.full((span, 2), np.nan)
    xy[block.counter - block.counter[0]] = block.data[:, :2]
    filtered = info.geometry.get("filtered_hz") or _said_filtered(data.header)
    return CopRecording(xy, info.fs, info.units[0], str(path), "csv", filtered)


def _said_filtered(header: dict) -> float | None:
    text = str(header.get("filter", "")).split(" ", 1)[0]
    try:
        return float(text) if text else None
    except ValueError:
        return None


def analyse_file(path: str, args) -> dict:
    """Metrics of one file, as the JSON object written for it."""
    import numpy as np

    from dsp.metrics import TWINS_MAX_SAMPLES, bridge_gaps, trial_metrics

    rec = load(path, args)
    xy, done = rec.xy, "not filtered"
    if args.max_gap is not None:
        xy = bridge_gaps(xy, rec.fs, args.max_gap)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        raise DataFormatError(
            str(path),
            f"{int(bad.sum())} empty or non-numeric samples (first "
            f"at data row {int(np.argmax(bad))})",
            "Bridge short gaps with --max-gap S, or cut the file to the valid part",
        )
    want = args.filter == "lowpass" or (args.filter == "auto" and rec.filtered_hz is None)
    if args.filter == "auto" and rec.filtered_hz is not None:
        done = (
            f"not filtered again: the file is already low-pass filtered at {rec.filtered_hz:g} Hz"
        )
    if want:
        if args.cutoff >= rec.fs / 2:
            done = f"not filtered: cut-off {args.cutoff:g} Hz is not below fs/2 = {rec.fs / 2:g} Hz"
        else:
            from dsp.filters import zero_phase_lowpass  # scipy.signal: only when filtering

            xy = zero_phase_lowpass(xy, rec.fs, args.cutoff, args.order)
            done = (
                f"low-pass filtered: zero-phase Butterworth, order {args.order} "
                f"(x2 passes), cut-off {args.cutoff:g} Hz"
            )
    # The path changes what is loaded, never a value (the twins agree to ~1e-15, tested).
    use_numba = getattr(args, "use_numba", True) or len(xy) > TWINS_MAX_SAMPLES
    if use_numba and not getattr(args, "use_numba", True):
        _warm()  # a long recording in a small job: the kernels after all (progress on a first run)
        args.use_numba = True
    m = trial_metrics(xy, rec.fs, unit=rec.unit, use_numba=use_numba)
    return {
        "file": str(path),
        "format": rec.format,
        "fs": rec.fs,
        "n_samples": len(xy),
        "unit": rec.unit,
        "processing": done,
        "metrics": {k: (v if math.isfinite(v) else None) for k, v in m.items()},
        "units": {k: m.units[k] for k in m},
        "notes": m.notes,
    }


def _table(results: list[dict]) -> str:
    if not results:
        return ""
    units = results[0]["units"]
    heads = ["file"] + [f"{k} [{units[k]}]" if units[k] else k for k in TABLE_METRICS]
    rows = [[r["file"]] + [_num(r["metrics"][k]) for k in TABLE_METRICS] for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths))]
    lines += [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))
        for row in rows
    ]
    lines += [""] + sorted({f"{r['file']}: {r['processing']}" for r in results})
    return "\n".join(lines) + "\n"


def _num(v) -> str:
    return "--" if v is None else f"{v:.4g}"


def _json(results: list[dict]) -> str:
    return json.dumps(results, indent=2) + "\n"


def _csv(results: list[dict]) -> str:
    if not results:
        return ""
    import io

    keys = list(results[0]["metrics"])
    units = results[0]["units"]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["file", "processing"] + [f"{k} ({units[k]})" if units[k] else k for k in keys])
    for r in results:
        w.writerow(
            [r["file"], r["processing"]]
            + ["" if r["metrics"][k] is None else repr(r["metrics"][k]) for k in keys]
        )
    return out.getvalue()
