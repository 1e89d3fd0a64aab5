"""``nmr-balance export``: write a trial (or a whole session) to CSV or C3D."""

from __future__ import annotations

from pathlib import Path

from nmr_balance.app.commands._recordings import add_db_argument, open_store

NAME = "export"
HELP = "export a trial or a session to CSV or C3D (pseudonymised unless --identified)"
DESCRIPTION = """\
Write a stored trial to an open format: CSV (a # header block with pseudonym, condition, units,
sample rate and filter, then t, x, y, fz and the raw channels; reads back bit-exact) or C3D
(the biomechanics standard: force-plate channels, COP; 32-bit floats). Exports are
pseudonymised: the patient appears by code only, names, birth years, notes and file paths are
left out; --identified includes name and birth year.

Examples:
  nmr-balance export 12                              -> trial12.csv
  nmr-balance export 12 -o romberg_ec.c3d            format from the suffix
  nmr-balance export --session 4 --format c3d -o session4/
"""


def add_arguments(parser) -> None:
    parser.add_argument("trial", nargs="?", type=int, metavar="TRIAL_ID")
    parser.add_argument("--session", type=int, metavar="ID", help="export every trial of a session")
    parser.add_argument("-o", "--output", metavar="PATH", help="file (or folder for --session)")
    parser.add_argument(
        "--format",
        choices=("csv", "c3d"),
        default=None,
        help="default: from the output suffix, else csv",
    )
    parser.add_argument(
        "--identified", action="store_true", help="include the patient's name and birth year"
    )
    add_db_argument(parser)


def run(args) -> int:
    from nmr_balance.errors import ConfigError
    from recordings.exchange import export_session, export_trial

    if (args.trial is None) == (args.session is None):
        raise ConfigError("say what to export", "Give a TRIAL_ID or --session ID (not both)")
    with open_store(args, create=False) as store:
        if args.session is not None:
            paths = export_session(
                store,
                args.session,
                args.output or f"session{args.session}",
                args.format or "csv",
                args.identified,
            )
        else:
            fmt = args.format or (Path(args.output).suffix.lstrip(".") if args.output else "csv")
            out = args.output or f"trial{args.trial}.{fmt}"
            paths = [export_trial(store, args.trial, out, fmt, args.identified)]
    for p in paths:
        print(f"wrote {p}")
    return 0
