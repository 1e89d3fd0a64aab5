"""``nmr-balance import``: store trial files (CSV, Santos & Duarte TSV, C3D) as trials."""

from __future__ import annotations

from nmr_balance.app.commands._recordings import add_db_argument, open_store
from nmr_balance.app.commands._table_options import HELP_TEXT, add_table_arguments, table_options

NAME = "import"
HELP = "import trial files (CSV, Santos & Duarte TSV, C3D with force plates) into the database"
DESCRIPTION = (
    """\
Read trial files and store each as a trial of the given patient (added if new), in one new
session unless --session is given. Each file is checked completely before anything is
written: a file that cannot be read is reported and skipped, adds nothing (not even the
patient), and the other files are still imported.

Understood: our own CSV and C3D exports (restored exactly), the Santos & Duarte (2016) balance
data set's BDS*.txt files, C3D files with a type 2/4 force plate (COP from forces and moments),
and any CSV/TSV with a header line (see below).

Examples:
  nmr-balance import trial12.csv --patient P001
  nmr-balance import data/BDS000*.txt --patient SD01 --condition eyes_open,firm
  nmr-balance import lab.c3d --patient P002 --protocol romberg
  nmr-balance import other.csv --patient P003 --column t=Time --column x=CoP_ML --column y=CoP_AP \\
      --unit cm --unit s
  nmr-balance import board.csv --patient P003 --column counter=seq --unit tr=kg --unit kg --fs 100
  nmr-balance import kistler.txt --patient P004       preamble and units row are read

"""
    + HELP_TEXT
)


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
    add_table_arguments(parser)
    add_db_argument(parser)


def run(args) -> int:
    from nmr_balance.errors import DataFormatError
    from recordings import Condition
    from recordings.exchange import import_file
    from recordings.rows import check_code

    options = table_options(args)
    patient = check_code(args.patient)
    condition = Condition.parse(args.condition) if args.condition else None
    failed = 0
    with open_store(args) as store:
        session = args.session  # None: the first file's import starts one, the others join it
        for path in args.files:
            try:
                tid = import_file(
                    store,
                    path,
                    patient,
                    session_id=session,
                    protocol=args.protocol,
                    condition=condition,
                    options=options,
                )
            except DataFormatError as e:
                print(f"skipped {path}: {e}")
                failed += 1
                continue
            t = store.trial(tid)
            session = t.session_id
            m = t.metrics
            gaps = t.parameters.get("gaps")
            seen = f", {gaps} gaps ({t.parameters.get('missing_samples')} samples missing)"
            print(
                f"{path} -> trial {tid} ({m.get('n_samples')} samples at "
                f"{t.raw_info.fs:g} Hz, {t.raw_info.kind.value}"
                f"{seen if gaps else ''})"
            )
            if t.parameters.get("rate_from"):
                print(f"  rate: {t.parameters['rate_from']}")
    return 1 if failed else 0
