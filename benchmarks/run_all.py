"""Run every ``bench_*.py`` and rewrite ``benchmarks/README.md`` with the results.

``python -m benchmarks.run_all``          all benchmarks, full size; rewrites the README.
``python -m benchmarks.run_all --quick``  small sizes (< 60 s in all); the last line printed is
                                          one JSON object of headline figures.
``python -m benchmarks.run_all --readme`` rewrite the README from the stored results only
                                          (after a drill finished), running nothing.

A full run also stores its reports in ``benchmarks/results/benches.json``. The drills
(``benchmarks/soak.py``, ``drill_*.py``) store theirs as ``benchmarks/results/<drill>.json``;
the README gets a goals table, every report, the drills' table (:mod:`benchmarks._readme`)
and the hand-written ``benchmarks/notes.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import pathlib
import pkgutil
import platform
import subprocess
import sys
import time

from benchmarks._readme import write_readme

HERE = pathlib.Path(__file__).resolve().parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    import numba
    import numpy
    import scipy

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
        f"numba {numba.__version__}"
    )


def bench_modules(only: list[str] | None = None):
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if info.name.startswith("bench_") and (not only or info.name in only):
            yield importlib.import_module(f"benchmarks.{info.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes; print headline JSON last"
    )
    parser.add_argument("--only", nargs="*", help="module names, e.g. bench_ring")
    parser.add_argument(
        "--readme",
        action="store_true",
        help="only rewrite the README from benchmarks/results/ (runs nothing)",
    )
    args = parser.parse_args(argv)
    if args.readme:
        write_readme(HERE)
        return 0
    reports, headline, failures = [], {}, []
    t0 = time.perf_counter()
    for module in bench_modules(args.only):
        name = module.__name__.split(".")[-1]
        print(f"running {name} ...", flush=True)
        t_module = time.perf_counter()
        try:
            rep = module.run(quick=args.quick)
        except Exception as e:  # one broken bench must not hide the others' figures
            failures.append(f"{name}: {type(e).__name__}: {e}")
            print(f"  FAILED: {e}", flush=True)
            continue
        print(rep.text(), f"\n  ({time.perf_counter() - t_module:.1f} s)", flush=True)
        reports.append(rep)
        headline.update({f"{name[6:]}.{k}": v for k, v in rep.headline.items()})
    elapsed = time.perf_counter() - t0
    if not args.quick:
        store_reports(reports, failures, elapsed, rerun=args.only or [])
        write_readme(HERE)
    for f in failures:
        print(f"benchmark failed: {f}", file=sys.stderr)
    headline["seconds"] = round(elapsed, 1)
    print(json.dumps(headline, sort_keys=True))
    return 1 if failures else 0


def store_reports(reports, failures, elapsed: float, rerun: list[str] = ()) -> None:
    """Keep a full run's reports (``results/benches.json``) for the README and later rewrites.

    ``rerun`` (``--only`` modules): replace just their reports (by title) in the stored run.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=HERE,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = "?"
    out = {
        "run_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit,
        "seconds": round(elapsed),
        "machine": machine(),
        "load_average": round(os.getloadavg()[0], 1),
        "failures": failures,
        "reports": [dataclasses.asdict(r) for r in reports],
    }
    path = HERE / "results" / "benches.json"
    if rerun and not reports and path.exists():
        out = json.loads(path.read_text())  # nothing ran: keep the stored run, note the failures
        out["failures"] = [
            f for f in out.get("failures", []) if f.split(":")[0] not in rerun
        ] + failures
    elif rerun and path.exists():
        stored = json.loads(path.read_text())
        fresh = {r["title"] for r in out["reports"]}
        out["reports"] = [r for r in stored["reports"] if r["title"] not in fresh] + out["reports"]
        out.update({k: stored[k] for k in ("seconds", "commit", "run_utc", "load_average")})
        out["partial_reruns"] = stored.get("partial_reruns", []) + [
            f"{', '.join(sorted(fresh))} at {time.strftime('%H:%M UTC', time.gmtime())}"
        ]
        out["failures"] = [
            f for f in stored.get("failures", []) if f.split(":")[0] not in rerun
        ] + failures
    (HERE / "results").mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    sys.exit(main())
