"""``nmr-balance import``: store trial files (CSV, Santos & Duarte TSV, C3D) as trials."""

from __future__ import annotations

from nmr_balance.app.commands._recordings import add_db_argument, open_store

NAME = "import"
HELP = "import trial files (CSV, Santos & Duarte TSV, C3D with force plates) into the database"
DESCRIPTION = """\
Read trial files and store each as a trial of the given patient (added if new), in one new
session unless --session is given. A file that cannot be read is reported and skipped; nothing
already stored is touched.

Understood: our own CSV and C3D exports (restored exactly), the Santos & Duarte (2016) balance
data set's BDS*.txt files, C3D files with a type 2/4 force plate (COP from forces and moments),
and any CSV/TSV with a header line: name the columns with --column (units in brackets in the
file's header, e.g. COPx[cm], are converted to mm, N, N m).

Examples:
  nmr-balance import trial12.csv --patient P001
  nmr-balance import data/BDS000*.txt --patient SD01 --condition eyes_open,firm
  nmr-balance import lab.c3d --patient P002 --protocol romberg
  nmr-balance import other.csv --patient P003 --column t=Time --column x=CoP_ML --column y=CoP_AP
  nmr-balance import samples.csv --patient P003 --column x=ml --column y=ap --fs 100
"""


def add_arguments(parser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--patient", required=True, metavar="CODE")
    parser.add_argument("--session", type=int, metavar="ID")
    parser.add_argument("--protocol", default=None)
    parser.add_argument(
        "--condition",
        default=None,
        help="eyes_open|eyes_closed, firm|foam, stance (comma-separated)",
    )
    parser.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="OURS=THEIRS",
        help="map a column: t, x, y, fz, Fx..Mz or tr br tl bl = the file's name",
    )
    parser.add_argument("--fs", type=float, help="sample rate (Hz) when there is no time column")
    parser.add_argument("--max-mb", type=float, default=1024, help="refuse larger files (1024)")
    add_db_argument(parser)


def run(args) -> int:
    from nmr_balance.errors import DataFormatError, InvalidParameterError
    from recordings import Condition
    from recordings.exchange import import_file

    columns = None
    if args.column:
        columns = {}
        for item in args.column:
            ours, sep, theirs = item.partition("=")
            if not sep or not ours or not theirs:
                raise InvalidParameterError("column", item, "OURS=THEIRS, e.g. x=CoP_ML")
            columns[ours.strip()] = theirs.strip()
    condition = Condition.parse(args.condition) if args.condition else None
    failed = 0
    with open_store(args) as store:
        session = args.session  # None: the first file's import starts one, the others join it
        for path in args.files:
            try:
                tid = import_file(
                    store,
                    path,
                    args.patient,
                    session_id=session,
                    protocol=args.protocol,
                    condition=condition,
                    columns=columns,
                    fs=args.fs,
                    max_bytes=int(args.max_mb * 2**20),
                )
            except DataFormatError as e:
                print(f"skipped {path}: {e}")
                failed += 1
                continue
            t = store.trial(tid)
            session = t.session_id
            print(
                f"{path} -> trial {tid} ({t.metrics.get('n_samples')} samples at "
                f"{t.raw_info.fs:g} Hz, {t.raw_info.kind.value})"
            )
    return 1 if failed else 0
