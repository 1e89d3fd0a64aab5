"""``nmr-balance live``: stream a source and watch it."""

from __future__ import annotations

from nmr_balance.app import open_source
from nmr_balance.app.warm import warm_kernels
from nmr_balance.console import has_display, print_events, run_console
from nmr_balance.pipeline import Pipeline

NAME = "live"
HELP = "stream a sensor (or the simulator) and show it live"
DESCRIPTION = """\
Stream a source through the live pipeline and show centre of pressure (or board tilt),
sample rate, dropped samples and latency.

Without a display (or with --headless) this is a console view in the terminal; stop it with
Ctrl-C or --duration.

Examples:
  nmr-balance live --source sim://                                 simulated person, 100 Hz
  nmr-balance live --source "sim://?rate=1000&vision=closed&surface=foam" --duration 10
  nmr-balance live --source "sim://?sensor=cells"                  Wii-like load cells
  nmr-balance sources                                              all source URLs
"""


def add_arguments(parser) -> None:
    parser.add_argument("--source", default="sim://", metavar="URL",
                        help="where samples come from (default: sim://, the simulated board)")
    parser.add_argument("--duration", type=float, default=None, metavar="S",
                        help="stop after S seconds (default: until Ctrl-C or the source ends)")
    parser.add_argument("--headless", action="store_true",
                        help="console view even when a display is available")


def run(args) -> int:
    source = open_source(args.source)  # a bad URL fails here, before anything is shown
    warm_kernels()  # a progress bar while the first run compiles, instead of a frozen screen
    if not args.headless and not has_display():
        print("No display found (DISPLAY/WAYLAND_DISPLAY not set): showing the headless console view.")
    with Pipeline(source) as pipeline:
        summary = run_console(pipeline, args.duration)
    print_events(pipeline.events())  # the closing ones
    if pipeline.error is not None:
        return 1
    return 0 if summary["samples"] > 0 else 1
