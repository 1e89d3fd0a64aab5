"""Run every ``bench_*.py`` and rewrite ``benchmarks/README.md`` with the results.

``python -m benchmarks.run_all``          all benchmarks, full size; rewrites the README.
``python -m benchmarks.run_all --quick``  small sizes (< 60 s in all); the last line printed is
                                          one JSON object of headline figures.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pathlib
import platform
import pkgutil
import subprocess
import sys
import time

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

    return (f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
            f"numba {numba.__version__}")


def bench_modules(only: list[str] | None = None):
    for info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda m: m.name):
        if info.name.startswith("bench_") and (not only or info.name in only):
            yield importlib.import_module(f"benchmarks.{info.name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes; print headline JSON last")
    parser.add_argument("--only", nargs="*", help="module names, e.g. bench_ring")
    args = parser.parse_args(argv)
    reports, headline, failures = [], {}, []
    t0 = time.perf_counter()
    for module in bench_modules(args.only):
        name = module.__name__.split(".")[-1]
        print(f"running {name} ...", flush=True)
        try:
            rep = module.run(quick=args.quick)
        except Exception as e:  # one broken bench must not hide the others' figures
            failures.append(f"{name}: {type(e).__name__}: {e}")
            print(f"  FAILED: {e}", flush=True)
            continue
        print(rep.text(), flush=True)
        reports.append(rep)
        headline.update({f"{name[6:]}.{k}": v for k, v in rep.headline.items()})
    elapsed = time.perf_counter() - t0
    if not args.quick and not args.only:
        write_readme(reports, failures, elapsed)
    for f in failures:
        print(f"benchmark failed: {f}", file=sys.stderr)
    headline["seconds"] = round(elapsed, 1)
    print(json.dumps(headline, sort_keys=True))
    return 1 if failures else 0


def write_readme(reports, failures, elapsed: float) -> None:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=HERE).stdout.strip()
    except OSError:
        commit = "?"
    parts = [
        "# Benchmarks", "",
        "Every figure is measured, never asserted by a timed test. Timings come with a baseline run in the",
        "same process (the plain NumPy/SciPy twin or a peer library); *ratio* = baseline / ours.", "",
        "Reproduce everything with `make bench` (runs `python -m benchmarks.run_all` and rewrites this file);",
        "`make bench-quick` runs small sizes in under a minute and prints the headline figures as JSON.", "",
        f"Last run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, {elapsed:.0f} s.",
        f"Machine: {machine()}.", "",
    ]
    parts += [r.markdown() for r in reports]
    if failures:
        parts += ["## Failed in the last run", ""] + [f"- {f}" for f in failures] + [""]
    (HERE / "README.md").write_text("\n".join(parts))


if __name__ == "__main__":
    sys.exit(main())
