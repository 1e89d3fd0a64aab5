"""``nmr-balance sessions``: list sessions (visits)."""

from __future__ import annotations

import dataclasses

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    add_format_argument,
    open_store,
    print_rows,
    signed_text,
)

NAME = "sessions"
HELP = "list sessions (visits), with pain and exertion before/after"
DESCRIPTION = """\
List the sessions in the station database, oldest first. "signed" says who signed a session's
note and when (`nmr-balance sign`); a signed session takes no more trials or changes.

Examples:
  nmr-balance sessions
  nmr-balance sessions --patient P001 --format json
"""


def add_arguments(parser) -> None:
    add_db_argument(parser)
    add_format_argument(parser)
    parser.add_argument("--patient", metavar="CODE", help="only this patient's sessions")


def run(args) -> int:
    with open_store(args, create=False) as store:
        codes = {p.id: p.code for p in store.patients()}
        rows = []
        for s in store.sessions(args.patient):
            row = dataclasses.asdict(s)
            row["patient"] = codes.get(s.patient_id, "")
            row["trials"] = len(store.trials(session=s.id))
            row["signed"] = signed_text(s)
            rows.append(row)
    print_rows(
        rows,
        args.format,
        (
            "id",
            "patient",
            "started",
            "therapist",
            "station",
            "pain_before",
            "pain_after",
            "borg_before",
            "borg_after",
            "trials",
            "signed",
        ),
    )
    return 0
