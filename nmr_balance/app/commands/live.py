"""``nmr-balance live``: stream a source and watch it (console window, or headless view)."""

from __future__ import annotations

from nmr_balance.app.commands._recordings import add_db_argument
from nmr_balance.app.warm import FRONT_END, warm_kernels

NAME = "live"
HELP = "stream a sensor (or the simulator) and show it live"
DESCRIPTION = """\
Stream a source through the live pipeline and show centre of pressure (or board tilt),
sample rate, dropped samples and latency.

With a display this opens the therapist console (the acquisition engine runs in its own
process); --patient-screen also opens the patient's biofeedback window (fullscreen on a
second monitor when there is one). In the console, pick a free recording or a protocol from
the library (`nmr-balance protocols`) and its level: a protocol runs step by step (instructions,
countdowns, trials, rests) and records each trial as `nmr-balance run` does. Without a display (or with --headless) it is a console view
in the terminal; stop it with Ctrl-C or --duration.

Examples:
  nmr-balance live --source sim://                                 simulated person, 100 Hz
  nmr-balance live --source "sim://?rate=1000&vision=closed&surface=foam" --duration 10
  nmr-balance live --source "sim://?sensor=cells" --patient-screen Wii-like board + patient view
  nmr-balance live --screenshot console.png --duration 5           render offscreen, save a PNG
  nmr-balance live --headless --source sim://                      terminal view only
  nmr-balance sources                                              all source URLs
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--source",
        default="sim://",
        metavar="URL",
        help="where samples come from (default: sim://, the simulated board)",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="stop after S seconds (default: until Ctrl-C, the window closes or the source ends)",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="console view in the terminal even when a display is available",
    )
    parser.add_argument(
        "--patient-screen", action="store_true", help="also open the patient's biofeedback window"
    )
    parser.add_argument(
        "--screenshot",
        metavar="FILE.png",
        default=None,
        help="render the console (offscreen if there is no display) for --duration "
        "seconds (default 3), save a PNG of it and exit",
    )
    add_db_argument(parser)


def run(args) -> int:
    # here, not at the top: `nmr-balance --help` imports every command module
    from nmr_balance.app import open_source
    from nmr_balance.pipeline import Pipeline
    from nmr_balance.terminal_view import has_display, print_events, run_console

    source = open_source(args.source)  # a bad URL fails here, before anything is shown
    if args.screenshot or (has_display() and not args.headless):
        source.close()  # nothing was opened yet: the engine process opens the device
        return _run_dashboard(args)
    if not args.headless:
        print(
            "No display found (DISPLAY/WAYLAND_DISPLAY not set): showing the headless console view."
        )
    # the front-end's kernels (and a progress bar while a first run compiles them)
    warm_kernels(only=FRONT_END)
    with Pipeline(source) as pipeline:
        summary = run_console(pipeline, args.duration)
    print_events(pipeline.events())  # the closing ones
    if pipeline.error is not None:
        return 1
    return 0 if summary["samples"] > 0 else 1


def start_engine(url: str, store_path: str | None = None):
    """Start the engine process on ``url``, then prepare this process's kernels while it starts.

    The engine process imports, opens the source and loads its kernels on the other core while
    this process loads Qt and builds the window (a warm start ~1 s sooner than one after the
    other). Returns the running :class:`~nmr_balance.engine.host.EngineHost`.
    """
    import dsp
    from nmr_balance.app.engine_process import run_engine
    from nmr_balance.engine.host import EngineHost
    from recordings import station_db

    engine = EngineHost(run_engine, store_path=str(station_db(store_path)))
    engine.start(url)
    try:
        # This process only needs the live view's kernels. If they had to be compiled, the
        # Numba cache is empty (a first run): prepare the others too, with the progress bar,
        # so the engine finds them ready instead of compiling at the first trial's end.
        warm_kernels(only=("live",))
        if dsp.cache_misses():
            warm_kernels()
    except BaseException:
        engine.stop()
        raise
    return engine


def _run_dashboard(args) -> int:
    import os

    from nmr_balance.app.engine_process import run_engine
    from nmr_balance.terminal_view import has_display

    if args.screenshot and not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    engine = start_engine(args.source, args.db)
    try:
        from nmr_balance.app.discovery import discover_sources
        from ui.dashboard import run as run_dashboard

        duration = (
            args.duration if args.duration is not None else (3.0 if args.screenshot else None)
        )
        return run_dashboard(
            run_engine,
            args.source,
            store_path=args.db,
            discover=discover_sources,
            patient_screen=args.patient_screen,
            screenshot=args.screenshot,
            duration_s=duration,
            engine_host=engine,
        )
    finally:
        engine.stop()
