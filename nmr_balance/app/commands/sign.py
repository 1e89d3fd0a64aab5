"""``nmr-balance sign``: sign a session's documentation note; the record is then fixed."""

from __future__ import annotations

import sys

from nmr_balance.app.commands._recordings import (
    add_db_argument,
    add_signer_arguments,
    open_store,
)

NAME = "sign"
HELP = "sign a session's documentation note (CPT 97112): the record is then fixed"
DESCRIPTION = """\
Sign the documentation note of an ended session. What is signed is the note as `report --note`
shows it now, without the "draft" wording; the session keeps the text exactly as signed, your
name, the time (UTC) and the text's SHA-256, so anyone can check later that what is on file is
what was signed (`nmr-balance report --session N --note -` ends with that check).

Once signed, the session is locked: no trial can be added to it, and its trial notes, results
and documentation fields cannot change. Corrections and later information go in an addendum,
dated and named (`nmr-balance addendum`); addenda are never edited or deleted.

The note is shown first and you confirm with "yes"; --yes signs without asking (scripts).
Without a terminal to ask on, --yes is required. A session is signed once; one that has not
ended is refused: end it in the console's End session step, or add --end to end it at the end
of its last trial (the visit's recorded span; billed minutes never go beyond it anyway). With
--yes, ending and signing are one step (both or neither); when asked, the session is ended
before its note is shown.

Examples:
  nmr-balance sessions --patient P001                      find the session id
  nmr-balance report --session 12 --note -                 read the draft first
  nmr-balance sign --session 12 --by "A. Smith, PT"        shows the note, asks to confirm
  nmr-balance sign --session 12 --by "A. Smith, PT" --end --yes
  nmr-balance addendum --session 12 --by "A. Smith, PT" --text "Pt called: dizziness resolved"
"""


def add_arguments(parser) -> None:
    add_signer_arguments(parser)
    parser.add_argument("--yes", action="store_true", help="sign without showing and asking")
    parser.add_argument(
        "--end",
        action="store_true",
        help="end the session first, at the end of its last trial (if it has not ended)",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="station config the note is worded with (clinic, billing rule; default: "
        "station.toml in the user config folder, if present)",
    )
    add_db_argument(parser)


def _confirm(note: str, session_id: int, by: str) -> bool:
    sys.stdout.write(note)
    sys.stdout.write(f"\nSign the note above of session {session_id} as {by}? Type yes to sign: ")
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def run(args) -> int:
    import contextlib

    from nmr_balance.errors import InvalidParameterError
    from nmr_balance.reporting import load_report_config
    from nmr_balance.reporting.signature import verification_line
    from recordings import signing

    if not args.yes and not sys.stdin.isatty():
        raise InvalidParameterError(
            "--yes",
            False,
            "--yes when there is no terminal to confirm on (the note is then signed unseen: "
            "read it first with `nmr-balance report --session "
            f"{args.session} --note -`)",
        )
    config = load_report_config(args.config)
    # With --yes, ending and signing are one transaction: both or neither. Asking first holds
    # no transaction (a person may take minutes; the station keeps recording meanwhile).
    with (
        open_store(args, create=False) as store,
        store.transaction() if args.yes else contextlib.nullcontext(),
    ):
        session = store.session(args.session)
        if args.end and session.ended is None and not session.signed:
            ends = [t.ended for t in store.trials(session=session.id) if t.ended]
            store.end_session(session.id, ended=max(ends) if ends else None)
            if not args.yes:
                print(f"session {session.id} ended", file=sys.stderr)
        shown = None
        if not args.yes:
            shown = signing.note_to_sign(store, args.session, config)
            if not _confirm(shown, args.session, args.by):
                print("not signed", file=sys.stderr)
                return 1
        sig = signing.sign_session(store, args.session, args.by, config=config, shown=shown)
    print(verification_line(sig))
    return 0
