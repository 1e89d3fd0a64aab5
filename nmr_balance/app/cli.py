"""The ``nmr-balance`` command line.

Each subcommand is one module in :mod:`nmr_balance.app.commands` that defines::

    NAME = "live"                      # the subcommand
    HELP = "one line for the overview"
    DESCRIPTION = "paragraphs that teach: what it does, examples"   # optional
    def add_arguments(parser): ...     # argparse options
    def run(args) -> int: ...          # exit status

Modules are discovered, so adding a command touches no central list. Errors derived from
:class:`~nmr_balance.errors.NmrBalanceError` are printed as one clear message (never a
traceback) and give exit status 2; Ctrl-C gives 130.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from nmr_balance import __version__
from nmr_balance.errors import NmrBalanceError

EPILOG = """\
Start here:
  nmr-balance live --source sim://                  simulated board, live view
  nmr-balance live --source "sim://?rate=1000&vision=closed" --duration 10
  nmr-balance sources                               every kind of source URL, with examples
  nmr-balance COMMAND --help                        details and examples for one command

Axes: x = medio-lateral (+ right), y = antero-posterior (+ forward); COP in mm, tilt in deg.
"""


def _command_modules():
    from nmr_balance.app import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{commands.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nmr-balance",
        description="Real-time balance and proprioception training: read a force plate, balance "
        "board or wobble-board IMU, compute sway metrics live, record and review trials.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nmr-balance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except NmrBalanceError as e:
        print(f"nmr-balance: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
