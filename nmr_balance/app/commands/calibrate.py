"""``nmr-balance calibrate``: fit and check a raw-count load-cell calibration file."""

from __future__ import annotations

import json

NAME = "calibrate"
HELP = "fit a raw-count load-cell board's gain, offset and sign per cell from known loads"
DESCRIPTION = """\
Boards that print raw ADC counts (HX711, ADS131M04, AD7193) need a calibration: per cell, a
gain (N per count), an offset (the reading at no load) and a sign (counts fall with load on a
cell wired the other way). Put known loads on the cells, note each cell's mean reading, write
them in a TOML file (format: docs/calibration.md), and check the fit here. Then use the file
in the source URL:

  nmr-balance calibrate board2.toml
  nmr-balance live --source "serial:///dev/ttyUSB0?protocol=csv&unit=counts&calibration=board2.toml"

A cell with fewer than two different loads, or whose counts do not change with load, is refused
with the cell's name. The residual says how well a straight line fits each cell's points (N).
"""


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the calibration file (TOML, docs/calibration.md)")
    parser.add_argument("--json", action="store_true", help="print the fit as JSON")


def run(args) -> int:
    from nmr_balance.cell_calibration import CELLS, load_calibration

    cal = load_calibration(args.file)
    rows = [
        {
            "cell": cell,
            "gain_n_per_count": g,
            "offset_counts": o,
            "sign": "rises with load" if g > 0 else "falls with load",
            "residual_n": r,
        }
        for cell, g, o, r in zip(
            CELLS, cal.gain_n_per_count, cal.offset_counts, cal.residual_n, strict=True
        )
    ]
    if args.json:
        print(json.dumps({"file": cal.path, "n_points": cal.n_points, "cells": rows}, indent=1))
        return 0
    print(f"{cal.path}: {cal.n_points} known loads" + (f", {cal.device}" if cal.device else ""))
    print(f"{'cell':5} {'gain N/count':>14} {'offset counts':>14} {'residual N':>11}  sign")
    for r in rows:
        print(
            f"{r['cell']:5} {r['gain_n_per_count']:14.6g} {r['offset_counts']:14.1f} "
            f"{r['residual_n']:11.3g}  {r['sign']}"
        )
    return 0
