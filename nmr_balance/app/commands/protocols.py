"""``nmr-balance protocols``: the clinical tests and training exercises available."""

from __future__ import annotations

import pathlib

NAME = "protocols"
HELP = "list the clinical tests and training exercises (built-in and the clinic's own)"
DESCRIPTION = """\
List every protocol: the built-in tests (mCTSIB, Romberg, single-leg stance, Limits of
Stability) and training exercises (weight shift, target reaching, tracking, maze, BAPS board),
plus the clinic's own TOML files. A clinic file with a built-in name replaces it; a broken file
is listed with the reason.

Clinic protocols live in: {folder}

Examples:
  nmr-balance protocols                          names, kind, longest duration, levels
  nmr-balance protocols --verbose                with descriptions and steps
  nmr-balance run mctsib --source sim:// --patient P001
"""


def add_arguments(parser) -> None:
    from nmr_balance.protocols.library import user_dir  # the folder, for the help text

    parser.description = DESCRIPTION.format(folder=user_dir())
    parser.add_argument(
        "--dir",
        type=pathlib.Path,
        default=None,
        metavar="FOLDER",
        help="read clinic protocols from FOLDER instead of the data directory",
    )
    parser.add_argument("--verbose", "-v", action="store_true", help="descriptions and steps too")


def run(args) -> int:
    from nmr_balance.protocols.library import discover
    from nmr_balance.protocols.run import planned_seconds  # needs the metric kernels (dsp)
    from nmr_balance.protocols.schema import clean_text

    entries = discover(args.dir)
    broken = 0
    for name, entry in sorted(entries.items()):
        p = entry.protocol
        if p is None:
            broken += 1
            print(clean_text(f"{name:<22} BROKEN ({entry.origin}): {entry.error}"))
            continue
        levels = f", {len(p.levels)} levels" if p.levels else ""
        minutes = planned_seconds(p) / 60
        print(
            f"{name:<22} {p.kind:<8} <={minutes:4.1f} min{levels:<10}  {p.title}"
            f"{'  [clinic]' if entry.origin == 'clinic' else ''}"
        )
        if args.verbose:
            print("    " + " ".join(p.description.split()))
            for s in p.steps:
                extra = f" x{s.repetitions}" if s.repetitions > 1 else ""
                print(f"    {s.index}. {s.label or s.task} ({s.task}{extra}): {s.instruction}")
    return 1 if broken else 0
