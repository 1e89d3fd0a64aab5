"""``nmr-balance emulate``: the simulated board as a serial device on a pseudo-terminal."""

from __future__ import annotations

import sys
from pathlib import Path

from nmr_balance.errors import ConfigError

NAME = "emulate"
HELP = "pretend to be a sensor board on a pseudo-terminal (nmr, csv or witmotion protocol)"
DESCRIPTION = """\
Create a pseudo-terminal, print its path, and stream the simulated board on it in a real wire
protocol, so the whole serial path (driver, decoder, reconnection) can be tried without any
hardware. Open the printed path in another terminal, e.g.:

  nmr-balance emulate --protocol nmr --pty --rate 1000
  nmr-balance live --source "serial:///dev/pts/7?protocol=nmr"

  nmr-balance emulate --protocol witmotion --pty --link /tmp/imu
  nmr-balance live --source "serial:///tmp/imu?protocol=witmotion"

  nmr-balance emulate --protocol csv --pty --faults garbage,drop,disconnect --link /tmp/hx
    (garbage bytes, a few dropped bytes, and an unplug of 1 s every ~2 s)

  nmr-balance emulate --protocol csv --pty --faults mute --fault-every 3 --down 600
    (a board that stops sending after 3 s with the port still open: a stall)

Stop with Ctrl-C. Linux and macOS (ptys do not exist on Windows).
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--protocol",
        choices=("nmr", "csv", "witmotion"),
        default="nmr",
        help="wire protocol to speak (default nmr)",
    )
    parser.add_argument(
        "--pty",
        action="store_true",
        default=True,
        help="serve on a new pseudo-terminal (the only transport so far)",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="samples per second (default: nmr 1000, csv 80, witmotion 100)",
    )
    parser.add_argument(
        "--sensor",
        choices=("cop", "plate", "cells", "imu", "tilt"),
        default=None,
        help="what the simulated board measures (default: imu for witmotion, cells otherwise)",
    )
    parser.add_argument(
        "--channels",
        type=int,
        default=None,
        help="nmr: pad to this many channels with aux channels (aux1 = counter)",
    )
    parser.add_argument(
        "--pack", type=int, default=1, help="nmr: samples per message, 1-255 (default 1)"
    )
    parser.add_argument(
        "--host-clock",
        action="store_true",
        help="nmr: stamp samples with this machine's monotonic clock at write "
        "time (to measure latency)",
    )
    parser.add_argument(
        "--device-time",
        action="store_true",
        help="witmotion: also send the board's clock (0x50 time packets)",
    )
    parser.add_argument(
        "--calibration",
        metavar="FILE",
        default=None,
        help="csv: print raw ADC counts, as a board calibrated by FILE would (docs/calibration.md)",
    )
    parser.add_argument("--vision", choices=("open", "closed"), default="open")
    parser.add_argument("--surface", choices=("firm", "foam"), default="firm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--link",
        type=Path,
        default=None,
        help="also make the pty reachable at this path (a symlink that follows reconnections)",
    )
    parser.add_argument(
        "--boot",
        type=float,
        default=0.0,
        help="act like an Arduino that just reset: a banner, then this many "
        "seconds of silence before data (default 0)",
    )
    parser.add_argument(
        "--faults",
        default="",
        help="comma list of garbage, drop, disconnect, mute (the board stops sending for --down "
        "seconds with the port open; its clock runs on) (default none)",
    )
    parser.add_argument(
        "--fault-every",
        type=float,
        default=2.0,
        help="seconds between faults of each kind (default 2)",
    )
    parser.add_argument(
        "--down",
        type=float,
        default=1.0,
        help="seconds a simulated unplug or mute lasts (default 1)",
    )
    parser.add_argument(
        "--fifo",
        choices=("drop", "block"),
        default="drop",
        help="when the reader falls 64 KiB behind: drop the oldest bytes like a UART FIFO "
        "(default), or block: the board waits and nothing is lost (for tests of decoding)",
    )


def run(args) -> int:
    from drivers import emulator
    from drivers.sim import Condition, SimulatedBoard

    rate = args.rate or {"nmr": 1000.0, "csv": 80.0, "witmotion": 100.0}[args.protocol]
    sensor = args.sensor or emulator.DEFAULT_SENSOR[args.protocol]
    kinds = tuple(k for k in args.faults.split(",") if k)
    calibration = None
    if args.calibration is not None:  # a bad file is refused before the pty exists
        from nmr_balance.cell_calibration import load_calibration

        calibration = load_calibration(args.calibration)
    try:
        board = SimulatedBoard(
            sensor,
            rate,
            seed=args.seed,
            condition=Condition(vision=args.vision, surface=args.surface),
        )
        faults = emulator.Faults(
            kinds, every_s=args.fault_every, down_s=args.down, seed=args.seed + 1
        )
        encoder = emulator.StreamEncoder(
            args.protocol,
            board.info,
            args.channels,
            pack=max(1, min(255, args.pack)),
            host_clock=args.host_clock,
            device_time=args.device_time,
            calibration=calibration,
        )
    except ValueError as exc:
        raise ConfigError(
            f"cannot emulate that board: {exc}",
            "See `nmr-balance emulate --help` for the combinations",
        ) from None
    print(
        f"emulating a {sensor} board at {rate:g} Hz speaking {args.protocol}; open "
        f"serial://<path>?protocol={args.protocol}",
        file=sys.stderr,
        flush=True,
    )
    stats = emulator.run(
        encoder,
        board.generate,
        link=args.link,
        duration_s=args.duration,
        faults=faults,
        announce=emulator.announce_stdout,
        boot_s=args.boot,
        fifo=args.fifo,
    )
    print(
        f"sent {stats['samples']} samples, {stats['bytes']} bytes, "
        f"{stats['disconnects']} disconnects, {stats['overflow_bytes']} bytes lost to a full FIFO",
        file=sys.stderr,
    )
    return 0
