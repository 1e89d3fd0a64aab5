"""``nmr-balance patients``: list patients, or add one."""

from __future__ import annotations

import dataclasses

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    add_format_argument,
    open_store,
    print_rows,
)

NAME = "patients"
HELP = "list the patients in the station database, or add one"
DESCRIPTION = """\
List patients (by pseudonymous code), or add one with --add. Names and birth years are
optional and never leave the station in a pseudonymised export.

Examples:
  nmr-balance patients
  nmr-balance patients --add P014 --birth-year 1948 --sex F --height-cm 162 --weight-kg 58
  nmr-balance patients --format json > patients.json
"""


def add_arguments(parser) -> None:
    add_db_argument(parser)
    add_format_argument(parser)
    parser.add_argument("--add", metavar="CODE", help="add a patient with this pseudonymous code")
    parser.add_argument("--name", help="full name (kept in the database only)")
    parser.add_argument("--birth-year", type=int)
    parser.add_argument("--sex", choices=("F", "M", "X"))
    parser.add_argument("--height-cm", type=float)
    parser.add_argument("--weight-kg", type=float)
    parser.add_argument("--foot-length-cm", type=float)
    parser.add_argument("--notes", default="")


def run(args) -> int:
    with open_store(args, create=bool(args.add)) as store:
        if args.add:
            p = store.add_patient(
                args.add,
                name=args.name,
                birth_year=args.birth_year,
                sex=args.sex,
                height_cm=args.height_cm,
                weight_kg=args.weight_kg,
                foot_length_cm=args.foot_length_cm,
                notes=args.notes,
            )
            print(f"added patient {p.code} (id {p.id})")
            return 0
        rows = [dataclasses.asdict(p) for p in store.patients()]
        for r in rows:
            r["trials"] = len(store.trials(patient=r["code"]))
    print_rows(
        rows,
        args.format,
        ("code", "sex", "birth_year", "height_cm", "weight_kg", "trials", "created"),
    )
    return 0
