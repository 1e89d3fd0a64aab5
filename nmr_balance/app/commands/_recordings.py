"""Shared by the recordings commands (record, replay, export, import, patients, sessions,
trials, run, sign and addendum): the ``--db`` option, opening the store, the session
``--session`` continues, a signer's ``--session`` and ``--by``, and printing rows as a table or
JSON. Kept light: every command's ``--help`` imports it."""

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


def add_signer_arguments(parser) -> None:
    """``--session ID --by NAME``: the session a signer acts on (sign, addendum), and who."""
    parser.add_argument("--session", type=int, required=True, metavar="ID", help="the session")
    parser.add_argument(
        "--by",
        required=True,
        metavar="NAME",
        help='your name as the record shows it ("A. Smith, PT")',
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


#: What record and replay print of a trial, in words (every metric: ``trials --format json``).
SHOWN_METRICS = (
    ("mean_velocity", "mean sway velocity"),
    ("mean_velocity_ml", "  side to side (ML)"),
    ("mean_velocity_ap", "  front to back (AP)"),
    ("rms_distance", "RMS distance"),
    ("range_ml", "range side to side (ML)"),
    ("range_ap", "range front to back (AP)"),
    ("path_length", "path length"),
    ("ellipse_area_95_chi2", "95 % ellipse area"),
    ("mean_power_frequency", "mean power frequency"),
    ("power_frequency_95", "95 % power frequency"),
)


def print_metrics(metrics: dict[str, Any], out=None) -> None:
    """A trial's key metrics in words, rounded, with units; a metric that could not be computed
    says why (e.g. spectra need 10 s of signal). How many samples, at what rate, how long."""
    from nmr_balance.reporting import fmt

    out = out or sys.stdout
    units = metrics.get("units") if isinstance(metrics.get("units"), dict) else {}
    notes = metrics.get("notes") if isinstance(metrics.get("notes"), dict) else {}
    n, fs = metrics.get("n_samples"), metrics.get("fs_hz")
    if isinstance(n, int) and isinstance(fs, (int, float)) and fs:
        out.write(
            f"  {n} samples at {fmt.number(fs)} Hz ({fmt.number(n / fs)} s), "
            f"{metrics.get('gaps', 0)} gaps\n"
        )
    if metrics.get("sway_error"):
        out.write(f"  no sway metrics: {metrics['sway_error']}\n")
        return
    width = max(len(label) for _, label in SHOWN_METRICS)
    for key, label in SHOWN_METRICS:
        value = metrics.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            text = f"{fmt.number(value)} {units.get(key, '')}".rstrip()
        else:
            text = "not computed: " + notes.get(key, "no value")
        out.write(f"  {label:<{width}}  {text}\n")
    total = sum(1 for k in units if k in metrics)
    if total > len(SHOWN_METRICS):
        out.write(f"  ({total} metrics in all: `nmr-balance trials --format json`)\n")


def signed_text(session) -> str:
    """ "A. Smith 2026-12-02 14:05 UTC" for a signed session, "" otherwise (listings)."""
    if session is None or not session.signed:
        return ""
    from nmr_balance.record import utc_minute

    return f"{session.signed_by} {utc_minute(session.signed_at)}"


def continued_session(store, session_id: int | None, patient):
    """The session ``--session`` names (None: a new one will be started), checked to be the
    patient's own: a trial is never filed under another patient's visit."""
    from nmr_balance.errors import InvalidParameterError

    if session_id is None:
        return None
    session = store.session(session_id)
    if session.patient_id != patient.id:
        raise InvalidParameterError(
            "--session",
            session_id,
            f"a session of patient {patient.code} (session {session_id} is another "
            "patient's; `nmr-balance sessions --patient "
            f"{patient.code}` lists theirs)",
        )
    if session.signed:  # refused before a device is opened; the store refuses it anyway
        from nmr_balance.errors import SessionSignedError

        raise SessionSignedError(session.id, session.signed_by, session.signed_at)
    return session
