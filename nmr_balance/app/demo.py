"""``make demo``: the main job on the built-in simulated board.

With a display: the live dashboard. Without one: says so and runs the headless console view
(until Ctrl-C; 20 s when nobody is at the keyboard, so scripted runs end).
"""

from __future__ import annotations

import sys

from nmr_balance.app.cli import main as cli_main
from nmr_balance.terminal_view import has_display

DEMO_SOURCE = "sim://?rate=100&sensor=cop"


def _dashboard_available() -> bool:
    # find_spec, not import: loading Qt here would come before the engine's start (see live)
    from importlib.util import find_spec

    try:
        return find_spec("ui.dashboard") is not None  # lands with the dashboard
    except ImportError:
        return False


def main() -> int:
    if has_display() and _dashboard_available():
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
    return cli_main(
        ["live", "--headless", "--source", DEMO_SOURCE]
        + ([] if duration is None else ["--duration", str(duration)])
    )


if __name__ == "__main__":
    sys.exit(main())
