"""``nmr-balance addendum``: add a dated, named addendum to a signed session's note."""

from __future__ import annotations

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    add_signer_arguments,
    open_store,
)

NAME = "addendum"
HELP = "add a dated addendum to a signed session's note (the signed text never changes)"
DESCRIPTION = """\
A signed session's note is fixed (`nmr-balance sign`). What comes later (a correction, a call
from the patient, a result that arrived) is an addendum: your name, the time (UTC) and your
text, shown after the signed note in `report --note` and in the PDF. Addenda are never edited
or deleted; a wrong addendum is corrected by another one.

Examples:
  nmr-balance addendum --session 12 --by "A. Smith, PT" --text "Pt called: dizziness resolved"
  nmr-balance addendum --session 12 --by "B. Jones, PTA" --text "Correction: foam pad was 10 cm"
  nmr-balance report --session 12 --note -                 the note with its addenda
"""


def add_arguments(parser) -> None:
    add_signer_arguments(parser)
    parser.add_argument("--text", required=True, metavar="TEXT", help="the addendum, in your words")
    add_db_argument(parser)


def run(args) -> int:
    from nmr_balance.reporting.signature import addendum_heading
    from recordings import signing

    with open_store(args, create=False) as store:
        addendum = signing.add_addendum(store, args.session, args.by, args.text)
    print(f"session {args.session}: {addendum_heading(addendum)} {addendum.text}")
    return 0
