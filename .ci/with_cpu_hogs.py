"""Run a command with CPU-bound processes beside it: ``make test-stress`` runs ``make test`` so.

The suite must stay green on a busy machine (CI shares two cores with other jobs), so this is
how to check it here:

    python .ci/with_cpu_hogs.py --hogs 2 -- make test

Each hog spins on one core. They are stopped when the command ends, however it ends (exit,
Ctrl-C, TERM), and each hog also stops by itself within a fraction of a second once this script
is gone (it watches its parent), so none is ever left running. The command's exit status is
this script's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

# Spin in 0.2 s slices; between slices, stop if the parent (this script, its pid in argv) has
# gone, also if it was gone before the hog started.
HOG = """
import os, sys, time
parent = int(sys.argv[1])
while os.getppid() == parent:
    end = time.monotonic() + 0.2
    while time.monotonic() < end:
        pass
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a command with CPU-bound processes beside it (a busy machine).",
        epilog="Example: python .ci/with_cpu_hogs.py --hogs 2 -- make test",
    )
    parser.add_argument("--hogs", type=int, default=2, help="CPU-bound processes (default 2)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --, e.g. -- make test")

    def terminate(signum, frame):  # TERM: end like Ctrl-C, through the finally below
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    hogs = [
        subprocess.Popen([sys.executable, "-c", HOG, str(os.getpid())]) for _ in range(args.hogs)
    ]
    print(
        f"with_cpu_hogs: {args.hogs} CPU-bound processes running "
        f"(pids {', '.join(str(h.pid) for h in hogs)}); running: {' '.join(command)}",
        flush=True,
    )
    t0 = time.monotonic()
    child = None
    try:
        child = subprocess.Popen(command)
        code = child.wait()
    except KeyboardInterrupt:
        code = 130
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()
    print(
        f"with_cpu_hogs: '{' '.join(command)}' exited {code} after "
        f"{time.monotonic() - t0:.0f} s beside {args.hogs} CPU hogs (stopped)",
        flush=True,
    )
    return code


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
