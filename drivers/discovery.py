"""What is connected: serial ports, BLE devices advertising a known service, balance boards."""

from __future__ import annotations

import asyncio
import dataclasses

from nmr_balance.errors import BluetoothUnavailableError

#: USB VID:PID -> (what it usually is, protocol guess). Guesses only: a CH340 may carry anything.
USB_GUESSES = {
    "1a86:7523": ("CH340 USB-serial (WitMotion WT901C, Arduino clones)", "witmotion or csv"),
    "1a86:55d4": ("CH9102 USB-serial (WitMotion, ESP32 boards)", "witmotion or nmr"),
    "10c4:ea60": ("CP210x USB-serial (WitMotion, ESP32 boards)", "witmotion or nmr"),
    "0403:6001": ("FTDI USB-serial", "csv or witmotion"),
    "2341:0043": ("Arduino Uno", "csv"),
    "2341:0042": ("Arduino Mega", "csv"),
    "2341:8036": ("Arduino Leonardo", "csv"),
    "2e8a:000a": ("Raspberry Pi Pico", "nmr"),
    "303a:1001": ("ESP32-S3/C3 USB", "nmr"),
}
USB_VENDORS = {
    "2341": ("Arduino", "csv"),
    "2a03": ("Arduino", "csv"),
    "303a": ("Espressif", "nmr"),
    "2e8a": ("Raspberry Pi", "nmr"),
    "239a": ("Adafruit", "nmr"),
}


@dataclasses.dataclass(frozen=True)
class SerialPort:
    path: str
    vid_pid: str
    description: str
    protocol_guess: str

    @property
    def url(self) -> str:
        proto = self.protocol_guess.split()[0] if self.protocol_guess else "nmr"
        return f"serial://{self.path}?protocol={proto}"


@dataclasses.dataclass(frozen=True)
class BleDevice:
    name: str
    address: str
    rssi: int
    profile: str

    @property
    def url(self) -> str:
        return f"ble://{self.address}?profile={self.profile}"


@dataclasses.dataclass(frozen=True)
class InputBoard:
    path: str
    name: str

    @property
    def url(self) -> str:
        return f"evdev://{self.path}"


def guess_protocol(vid: int | None, pid: int | None) -> tuple[str, str]:
    """(what it usually is, protocol guess) for a USB id; ("", "") when unknown."""
    if vid is None:
        return "", ""
    key = f"{vid:04x}:{pid or 0:04x}"
    return USB_GUESSES.get(key) or USB_VENDORS.get(key[:4]) or ("", "")


def serial_ports() -> list[SerialPort]:
    """Every serial port pyserial sees (COM3 on Windows, /dev/ttyUSB0 on Linux...)."""
    from serial.tools import list_ports

    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        what, guess = guess_protocol(p.vid, p.pid)
        vid_pid = f"{p.vid:04x}:{p.pid:04x}" if p.vid is not None else ""
        desc = p.description if p.description and p.description != "n/a" else what
        out.append(SerialPort(p.device, vid_pid, desc or "serial port", guess))
    return out


def profile_of(name: str | None, service_uuids: list[str]) -> str | None:
    """Which BLE profile a device's advertisement matches, or None."""
    from drivers.transports.ble import PROFILES

    uuids = {u.lower() for u in service_uuids}
    for profile in PROFILES.values():
        if profile.service in uuids:
            return profile.name
    for profile in PROFILES.values():
        if name and profile.name_prefixes and name.startswith(profile.name_prefixes):
            return profile.name
    return None


async def _scan(timeout_s: float, scanner_backend) -> list[BleDevice]:
    from bleak import BleakScanner

    kw = {} if scanner_backend is None else {"backend": scanner_backend}
    found = await BleakScanner.discover(timeout_s, return_adv=True, **kw)
    out = []
    for device, adv in found.values():
        profile = profile_of(adv.local_name or device.name, adv.service_uuids)
        if profile:
            out.append(
                BleDevice(adv.local_name or device.name or "?", device.address, adv.rssi, profile)
            )
    return sorted(out, key=lambda d: -d.rssi)


def ble_devices(timeout_s: float = 5.0, scanner_backend=None) -> list[BleDevice]:
    """BLE devices advertising a known service; raises BluetoothUnavailableError without BT."""
    from drivers.transports.ble import bluetooth_error

    try:
        return asyncio.run(_scan(timeout_s, scanner_backend))
    except Exception as exc:
        err = bluetooth_error(exc)
        if err is None:
            raise BluetoothUnavailableError(f"{type(exc).__name__}: {exc}") from None
        raise err from None


def input_boards() -> list[InputBoard]:
    from drivers.transports.evdev_board import balance_boards

    return [InputBoard(path, name) for path, name in balance_boards()]
