"""How to read a table that is not our own export: the options ``import`` and ``analyze`` share.

One definition, so both commands read a file the same way and refuse it for the same reasons
(a column without a unit, a mapping name we do not know, no time column and no rate).
"""

from __future__ import annotations

HELP_TEXT = """\
Reading tables (CSV/TSV; shared with `nmr-balance import` and `analyze`):
  A lab's preamble above the header (OptiTrack Motive, AMTI, Kistler BioWare) is skipped: the
  header is the line above the first rows of numbers (a units row like "s N N Nm" under it is
  read), and the delimiter is the one that splits the numbers. --skip-rows N says it instead.
  Columns named like ours (t, x, y, fz, Fx..Mz, tr br tl bl, counter) are found by name; map
  others with --column OURS=THEIRS. Units are never guessed: a column needs one, from the
  header (COPx[cm], "Fz (N)"), a units row, a '# unit: cm' line, or --unit (--unit cm for
  every unit-less position column, --unit N for forces, --unit Nm for moments, --unit s for
  time; --unit Fz=N for one column). The rate is the median step of the time column (or of
  time per counter step); a counter column or a long time step marks missing samples (gaps),
  which are stored and shown, never filled in silently. Without a time column, give --fs.
"""


def add_table_arguments(parser) -> None:
    """Add the shared table-reading options to ``parser``."""
    g = parser.add_argument_group("reading tables (CSV/TSV)")
    g.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="map a column: t (time), counter, x, y, fz, Fx..Mz or tr br tl bl = the file's "
        "column (header text or 0-based index)",
    )
    g.add_argument("--x-col", metavar="THEIRS", help="same as --column x=THEIRS (ML position)")
    g.add_argument("--y-col", metavar="THEIRS", help="same as --column y=THEIRS (AP position)")
    g.add_argument("--time-col", metavar="THEIRS", help="same as --column t=THEIRS")
    g.add_argument(
        "--unit",
        action="append",
        default=[],
        metavar="UNIT|NAME=UNIT",
        help="unit of columns the file gives none: mm cm m deg (positions), N kN kg (forces), "
        "Nm Nmm (moments), s ms (time); NAME=UNIT for one column (e.g. Fz=N)",
    )
    g.add_argument(
        "--fs",
        type=float,
        default=None,
        metavar="HZ",
        help="sample rate when there is no time column",
    )
    g.add_argument(
        "--skip-rows",
        type=int,
        default=None,
        metavar="N",
        help="lines above the header line (default: found from where the numbers start)",
    )
    g.add_argument("--delimiter", default=None, help="column delimiter (default: from the data)")
    g.add_argument(
        "--max-mb", type=float, default=1024, help="refuse larger files (default 1024 MB)"
    )


def table_options(args):
    """The :class:`recordings._table.TableOptions` the parsed ``args`` describe."""
    from nmr_balance.errors import InvalidParameterError
    from recordings._table import TableOptions

    columns: dict[str, str] = {}
    for item in args.column:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise InvalidParameterError("column", item, "OURS=THEIRS, e.g. x=CoP_ML")
        columns[ours.strip()] = theirs.strip()
    for ours, theirs in (("x", args.x_col), ("y", args.y_col), ("t", args.time_col)):
        if theirs is not None:
            columns[ours] = theirs
    delimiter = args.delimiter
    if delimiter in ("\\t", "tab"):
        delimiter = "\t"
    return TableOptions(
        columns=columns or None,
        units=tuple(args.unit),
        fs=args.fs,
        skip_rows=args.skip_rows,
        delimiter=delimiter,
        max_bytes=int(args.max_mb * 2**20),
    )
