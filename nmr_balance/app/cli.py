"""The ``nmr-balance`` command line.

Each subcommand is one module in :mod:`nmr_balance.app.commands` that defines::

    NAME = "live"                      # the subcommand
    HELP = "one line for the overview"
    DESCRIPTION = "paragraphs that teach: what it does, examples"   # optional
    def add_arguments(parser): ...     # argparse options
    def run(args) -> int: ...          # exit status

Modules are discovered, so adding a command touches no central list. A run of one command
imports only that command's module (``nmr-balance analyze f.txt`` never imports what
``record`` or ``report`` need); the overview (``--help``, no or an unknown command) imports
them all for their help lines, so keep their top-level imports light. Errors derived from
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


def _command_modules(command: str | None = None):
    """The command modules, or only the one for ``command`` (``import`` lives in ``import_``)."""
    from nmr_balance.app import commands

    names = sorted(
        info.name for info in pkgutil.iter_modules(commands.__path__) if info.name[0] != "_"
    )
    if command is not None:
        names = [n for n in names if n in (command, command + "_")]
    for name in names:
        yield importlib.import_module(f"{commands.__name__}.{name}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or (``command``) of that one alone when it exists."""
    modules = list(_command_modules(command)) if command else []
    if not modules or command != modules[0].NAME:
        modules = list(_command_modules())
    parser = argparse.ArgumentParser(
        prog="nmr-balance",
        description="Real-time balance and proprioception training: read a force plate, balance "
        "board or wobble-board IMU, compute sway metrics live, record and review trials.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nmr-balance {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in modules:
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
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv[0] if argv and not argv[0].startswith("-") else None)
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
