"""The ``serial://``, ``ble://`` and ``evdev://`` URL schemes: parameters -> DeviceSource."""

from __future__ import annotations

from drivers.decoding import Decoder, load_cell_geometry
from drivers.device_source import DeviceSource
from drivers.protocols import csv_lines, nmr, witmotion
from nmr_balance.errors import InvalidParameterError
from nmr_balance.registry import Params, Scheme, SourceURL
from nmr_balance.stream import SensorKind

SERIAL_USAGE = """\
serial:///dev/ttyUSB0?protocol=nmr&baud=115200        (Windows: serial://COM3?protocol=...)
  protocol  nmr (our binary protocol, docs/protocol.md) | csv (Arduino + HX711 lines)
            | witmotion (WT901 family, 0x55 packets)            (default nmr)
  baud      line rate (default 115200; USB-native boards ignore it)
  timeout   seconds to wait for the first valid data (default 5)
  reconnect 1 = retry when the device goes away (default), 0 = stay lost
  csv:       columns=millis,w1,w2,w3,w4  sep=,  unit=kg  rate=80  max=1000
             unit=counts&calibration=FILE: raw ADC counts (HX711, ADS131M04, AD7193), per-cell
             gain, offset and sign fitted from known loads (docs/calibration.md)
             width_mm=433  depth_mm=238  (cell spacing; w1..w4 = TR, BR, TL, BL)
  witmotion: rate=100 (nominal Hz)  configure=1 sends unlock, set rate, save first"""

BLE_USAGE = """\
ble://AA:BB:CC:DD:EE:FF?profile=witmotion     ble://name=MyBoard?profile=nus&protocol=nmr
  profile   witmotion (WT901BLE: service ffe5, notify ffe4, write ffe9)
            | nus (Nordic UART Service, carries protocol=nmr or csv)    (default nus)
  protocol  nus only: nmr | csv (csv takes the serial csv parameters)
  scan      seconds to look for the device (default 10)
  timeout, reconnect, rate: as for serial://"""

EVDEV_USAGE = """\
evdev://auto   or   evdev:///dev/input/event7      (Linux; needs the evdev extra)
  The Wii Balance Board paired over Bluetooth, read through the kernel's hid-wiimote driver.
  timeout, reconnect: as for serial://"""


def csv_format(p: Params) -> csv_lines.CsvFormat:
    columns = tuple(p.text("columns", "millis,w1,w2,w3,w4").split(","))
    kinds = [k.value for k in SensorKind]
    kind = SensorKind(p.text("kind", "cells", choices=kinds))
    width = p.number("width_mm", 433.0, lo=1, hi=5000)
    depth = p.number("depth_mm", 238.0, lo=1, hi=5000)
    unit = p.text("unit", "kg")
    calibration = p.text("calibration", "")
    geometry = load_cell_geometry(width, depth) if kind is SensorKind.LOAD_CELLS else {}
    if (unit == "counts") != bool(calibration) and kind is SensorKind.LOAD_CELLS:
        raise InvalidParameterError(
            "calibration" if calibration else "unit",
            calibration or unit,
            "unit=counts together with calibration=FILE (raw counts need a calibration of "
            "known loads, docs/calibration.md)",
            p.where,
        )
    if calibration:
        from nmr_balance.cell_calibration import load_calibration

        geometry.update(load_calibration(calibration).geometry())
    return csv_lines.CsvFormat(
        columns=columns,
        sep=p.text("sep", ","),
        unit=unit,
        kind=kind,
        fs=p.number("rate", 80.0, lo=0.1, hi=100000),
        max_abs=p.number("max", 1000.0 if unit != "counts" else float(1 << 32), lo=0),
        geometry=geometry,
    )


def make_decoder(protocol: str, p: Params, ble: bool = False) -> Decoder:
    """The decoder for ``protocol``, configured from the URL parameters."""
    if protocol == "nmr":
        return nmr.NmrDecoder()
    if protocol == "csv":
        return csv_lines.CsvDecoder(csv_format(p))
    rate = p.number("rate", 100.0, lo=0.1, hi=1000)
    return witmotion.WitmotionBleDecoder(rate) if ble else witmotion.WitmotionSerialDecoder(rate)


def witmotion_setup(p: Params):
    """``configure=1``: unlock, set the output rate, save (needs a rate the board knows)."""
    if not p.flag("configure", False):
        return None
    rate = p.number("rate", 100.0)
    if rate not in witmotion.RATE_CODES:
        raise InvalidParameterError(
            "rate",
            rate,
            "with configure=1 one of " + ", ".join(f"{r:g}" for r in sorted(witmotion.RATE_CODES)),
            p.where,
        )
    commands = witmotion.configure_commands(rate)

    def send(transport) -> None:
        for command in commands:
            transport.write(command)

    return send


def _source(parsed: SourceURL, transport, decoder: Decoder, on_connect=None) -> DeviceSource:
    p = parsed.params
    source = DeviceSource(
        parsed.url,
        transport,
        decoder,
        open_timeout_s=p.number("timeout", 5.0, lo=0.1, hi=600),
        reconnect=p.flag("reconnect", True),
        on_connect=on_connect,
    )
    p.finish()
    return source


def serial_from_url(parsed: SourceURL) -> DeviceSource:
    from drivers.transports.serial_port import SerialTransport

    p = parsed.params
    protocol = p.text("protocol", "nmr", choices=("nmr", "csv", "witmotion"))
    transport = SerialTransport(
        parsed.location or "/dev/ttyUSB0",
        p.number("baud", 115200, lo=50, hi=20_000_000, integer=True),
        exclusive=p.flag("exclusive", True),
    )
    decoder = make_decoder(protocol, p)
    setup = witmotion_setup(p) if protocol == "witmotion" else None
    return _source(parsed, transport, decoder, setup)


def ble_from_url(parsed: SourceURL) -> DeviceSource:
    from drivers.transports.ble import PROFILES, BleTransport

    p = parsed.params
    profile = PROFILES[p.text("profile", "nus", choices=sorted(PROFILES))]
    if profile.name == "witmotion":
        decoder = make_decoder("witmotion", p, ble=True)
    else:
        decoder = make_decoder(p.text("protocol", "nmr", choices=("nmr", "csv")), p)
    transport = BleTransport(
        parsed.location, profile, scan_timeout_s=p.number("scan", 10.0, lo=0.5, hi=120)
    )
    setup = witmotion_setup(p) if profile.name == "witmotion" else None
    return _source(parsed, transport, decoder, setup)


def evdev_from_url(parsed: SourceURL) -> DeviceSource:
    from drivers.transports.evdev_board import EvdevTransport, WiiEvdevDecoder

    return _source(parsed, EvdevTransport(parsed.location or "auto"), WiiEvdevDecoder())


SCHEMES = (
    Scheme(
        "serial",
        serial_from_url,
        "a board on a serial port: nmr, csv (HX711) or WitMotion",
        SERIAL_USAGE,
    ),
    Scheme(
        "ble",
        ble_from_url,
        "a Bluetooth LE board: WitMotion WT901BLE or Nordic UART (nmr/csv)",
        BLE_USAGE,
    ),
    Scheme(
        "evdev", evdev_from_url, "Wii Balance Board through the Linux kernel driver", EVDEV_USAGE
    ),
)
