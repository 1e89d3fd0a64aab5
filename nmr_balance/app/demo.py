"""``make demo``: the main job on the built-in simulated board.

With a display: the live dashboard; the simulated person follows any protocol started from the
console (eyes closed and foam raise the sway, targets are reached). Without one: says so, runs
the headless console view (until Ctrl-C; 20 s when nobody is at the keyboard, so scripted runs
end), then a Limits of Stability test on the simulated person at 8x real time, printed as it
goes.
"""

from __future__ import annotations

import sys

from nmr_balance.app.cli import main as cli_main
from nmr_balance.terminal_view import has_display

DEMO_SOURCE = "sim://?rate=100&sensor=cop"
#: The protocol the headless demo runs, and on what: the simulated person plays along.
DEMO_RUN = ("los", "sim://?rate=100&sensor=cop&speed=8")
PLAYS_ALONG = (
    "The simulated person follows the protocol you start: eyes closed and foam raise the sway, "
    "targets are reached after a reaction time (skill= in the source URL sets how well, 0-1)."
)


def _dashboard_available() -> bool:
    # find_spec, not import: loading Qt here would come before the engine's start (see live)
    from importlib.util import find_spec

    try:
        return find_spec("ui.dashboard") is not None  # lands with the dashboard
    except ImportError:
        return False


def main() -> int:
    if has_display() and _dashboard_available():
        print(PLAYS_ALONG)
        return cli_main(["live", "--source", DEMO_SOURCE])
    why = (
        "no display is available (DISPLAY/WAYLAND_DISPLAY not set)"
        if not has_display()
        else "the dashboard is not installed in this build"
    )
    print(f"nmr-balance demo: {why}, so here is the headless console view of the simulated board.")
    duration = None if sys.stdin.isatty() else 20.0
    print(
        "Stop with Ctrl-C."
        if duration is None
        else f"Running for {duration:g} s (no terminal attached)."
    )
    code = cli_main(
        ["live", "--headless", "--source", DEMO_SOURCE]
        + ([] if duration is None else ["--duration", str(duration)])
    )
    if code != 0:
        return code
    return _run_protocol()


def _run_protocol() -> int:
    """A Limits of Stability test on the simulated person, 8x real time, nothing stored."""
    import tempfile

    name, source = DEMO_RUN
    print(f"\nNow a Limits of Stability test, 8x real time. {PLAYS_ALONG}")
    with tempfile.TemporaryDirectory() as data:  # the measured LOS is not kept
        return cli_main(
            ["run", name, "--source", source, "--patient", "DEMO", "--no-record"]
            + ["--data-dir", data]
        )


if __name__ == "__main__":
    sys.exit(main())
