"""Shared by the recordings commands (record, replay, export, import, patients, sessions,
trials): the ``--db`` option, opening the store, and printing rows as a table or JSON."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from collections.abc import Iterable
from typing import Any

DB_HELP = (
    "the station database: a file, or the clinic's server as postgresql://ROLE@HOST/DBNAME "
    "(default: $NMR_BALANCE_DB, else {default})"
)


def add_db_argument(parser) -> None:
    from recordings import default_db_path

    parser.add_argument(
        "--db", metavar="PATH|URL", default=None, help=DB_HELP.format(default=default_db_path())
    )


def add_format_argument(parser) -> None:
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table for people (default), json for scripts",
    )


def open_store(args, create: bool = True):
    from recordings import Store

    return Store.open(args.db, create=create)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def print_rows(rows: list[dict[str, Any]], fmt: str, columns: Iterable[str], out=None) -> None:
    """Rows as JSON (everything) or as an aligned table of ``columns``."""
    out = out or sys.stdout
    if fmt == "json":
        json.dump([_plain(r) for r in rows], out, indent=2)
        out.write("\n")
        return
    columns = list(columns)
    if not rows:
        out.write("(none)\n")
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def print_metrics(metrics: dict[str, Any], out=None) -> None:
    """The trial's metrics, one per line with units when known."""
    out = out or sys.stdout
    units = metrics.get("units", {}) if isinstance(metrics.get("units"), dict) else {}
    for key in sorted(k for k, v in metrics.items() if isinstance(v, (int, float, str))):
        value = metrics[key]
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        out.write(f"  {key:<32} {text} {units.get(key, '')}".rstrip() + "\n")
