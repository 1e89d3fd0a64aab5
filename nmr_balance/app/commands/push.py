"""``nmr-balance push``: upload this station's finished trials to the clinic's server."""

from __future__ import annotations

import sys

from nmr_balance.app.commands._recordings import add_db_argument

NAME = "push"
HELP = "upload this station's finished trials to the clinic's PostgreSQL server (idempotent)"
DESCRIPTION = """\
Upload the finished trials of this station's database (--db, default: the station's own
file) to the clinic's PostgreSQL server, with their sessions, events and samples. Use it when a
station recorded offline (the server was down, a home kit, a laptop on a visit).

Safe to repeat: a trial already on the server is recognised by its stable id and skipped;
pushing twice uploads once. A trial whose server copy differs is reported as a conflict and
neither copy is changed (exit status 1). Trials still being recorded are not pushed. The
server gets the patients' pseudonymous codes, never their names.

The password comes from ~/.pgpass (or PGPASSFILE) or a service file, never from the URL.

Examples:
  nmr-balance push --to postgresql://station1@dbserver/nmr
  nmr-balance push --db laptop.db --to "postgresql://station1@dbserver/nmr?sslmode=verify-full"
"""


def add_arguments(parser) -> None:
    add_db_argument(parser)
    parser.add_argument(
        "--to",
        metavar="URL",
        required=True,
        help="the clinic's server, postgresql://ROLE@HOST/DBNAME (libpq options after ?)",
    )


def run(args) -> int:
    from tqdm import tqdm

    from nmr_balance.errors import InvalidParameterError
    from recordings import Store, _pg, default_db_path
    from recordings.push import push

    if not _pg.is_url(args.to):
        raise InvalidParameterError(
            "--to", args.to, "the clinic's server as postgresql://ROLE@HOST/DBNAME"
        )
    local_db = args.db or default_db_path()  # the station's own file, whatever $NMR_BALANCE_DB says
    with Store.open(local_db, create=False) as local, Store.open(args.to) as server:
        bar = tqdm(total=0, unit="trial", desc="pushing", disable=None, file=sys.stderr)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = push(local, server, progress)
        bar.close()
    print(f"{result.summary()} -> {server.path}")
    for uid, why in result.conflicts:
        print(f"  conflict: trial {uid}: {why}; nothing was changed")
    return 1 if result.conflicts else 0
