"""``nmr-balance devices``: list the sensors this computer can see."""

from __future__ import annotations

from nmr_balance.errors import BluetoothUnavailableError

NAME = "devices"
HELP = "list serial ports, Bluetooth LE sensors and Wii Balance Boards, with a URL for each"
DESCRIPTION = """\
List what is connected, with the source URL to open each one:

  serial ports      path, USB VID:PID, description, a guess of the protocol
  Bluetooth LE      devices advertising a known service (WitMotion, Nordic UART): name,
                    address, signal strength (RSSI, dBm), profile
  Wii Balance Board boards the Linux kernel exposes through evdev

Examples:
  nmr-balance devices                 everything (scans Bluetooth for 5 s)
  nmr-balance devices --no-ble        skip the Bluetooth scan
  nmr-balance devices --scan 10       scan Bluetooth longer

Without Bluetooth (no adapter, no BlueZ) it says so in one line and lists the rest.
"""


def add_arguments(parser) -> None:
    parser.add_argument(
        "--scan",
        type=float,
        default=5.0,
        help="seconds to scan for Bluetooth LE devices (default 5)",
    )
    parser.add_argument("--no-ble", action="store_true", help="do not scan Bluetooth")


def run(args, scanner_backend=None) -> int:
    from drivers import discovery

    ports = discovery.serial_ports()
    print(f"Serial ports ({len(ports)}):")
    for p in ports:
        guess = f"protocol: {p.protocol_guess}" if p.protocol_guess else "protocol: unknown"
        print(f"  {p.path:<16} {p.vid_pid or '-':<10} {p.description:<40} {guess}")
        print(f"      {p.url}")
    if not args.no_ble:
        try:
            found = discovery.ble_devices(args.scan, scanner_backend)
        except BluetoothUnavailableError as exc:
            print(f"Bluetooth LE: {exc}")
        else:
            print(f"Bluetooth LE sensors ({len(found)}):")
            for d in found:
                print(f"  {d.name:<20} {d.address:<18} {d.rssi:>4} dBm  profile: {d.profile}")
                print(f"      {d.url}")
    boards = discovery.input_boards()
    print(f"Wii Balance Boards ({len(boards)}):")
    for b in boards:
        print(f"  {b.path:<20} {b.name}")
        print(f"      {b.url}")
    return 0
