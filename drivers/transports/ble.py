"""Bluetooth LE transport (bleak 3.x) in its own asyncio loop thread.

Notifications are a byte stream: a packet may span notifications and several may share one, so
each notification goes straight to the decoder's buffer. A dropped link calls ``on_lost`` (the
source then reconnects with backoff by calling :meth:`BleTransport.connect` again).

Without Bluetooth bleak raises different things (DESIGN.md §10): ``FileNotFoundError`` (no
D-Bus), ``BleakDBusError`` ServiceUnknown (no BlueZ), ``BleakBluetoothNotAvailableError`` (no
adapter). All become :class:`~nmr_balance.errors.BluetoothUnavailableError`.

Tests inject fake backends through bleak's own ``backend=`` arguments (``client_backend``,
``scanner_backend``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import threading
import time

from drivers.protocols import witmotion
from drivers.transports.base import DataCallback, LostCallback, Transport
from nmr_balance.errors import BluetoothUnavailableError, DeviceNotFoundError, SourceError

CONNECT_TIMEOUT_S = 20.0
_ADDRESS = re.compile(r"^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$|^[0-9A-Fa-f-]{36}$")


@dataclasses.dataclass(frozen=True)
class BleProfile:
    """GATT layout of a device family: where the data comes from and where commands go."""

    name: str
    service: str
    notify: str
    write: str
    name_prefixes: tuple[str, ...] = ()


PROFILES = {
    "witmotion": BleProfile(
        "witmotion", witmotion.BLE_SERVICE, witmotion.BLE_NOTIFY, witmotion.BLE_WRITE, ("WT", "BWT")
    ),
    # Nordic UART Service: the device sends on TX (notify) and receives on RX (write)
    "nus": BleProfile(
        "nus",
        "6e400001-b5a3-f393-e0a9-e50e24dcca9e",
        "6e400003-b5a3-f393-e0a9-e50e24dcca9e",
        "6e400002-b5a3-f393-e0a9-e50e24dcca9e",
    ),
}


def bluetooth_error(exc: BaseException) -> BluetoothUnavailableError | None:
    """The one-line "no Bluetooth" error for the exceptions that mean it, else None."""
    from bleak.exc import BleakBluetoothNotAvailableError, BleakDBusError

    if isinstance(exc, FileNotFoundError):
        return BluetoothUnavailableError("no D-Bus system bus")
    if isinstance(exc, BleakDBusError) and "ServiceUnknown" in str(exc):
        return BluetoothUnavailableError("the BlueZ service is not running")
    if isinstance(exc, BleakBluetoothNotAvailableError):
        return BluetoothUnavailableError(
            f"no Bluetooth adapter: {exc.args[0] if exc.args else exc}"
        )
    return None


class LoopThread:
    """An asyncio event loop running in a daemon thread; ``run(coro, timeout)`` from any thread."""

    def __init__(self, name: str):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def run(self, coro, timeout: float):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2.0)
        if not self.thread.is_alive():
            self.loop.close()


class BleTransport(Transport):
    """Bytes from the notify characteristic of a BLE device.

    Parameters
    ----------
    target : str
        ``AA:BB:CC:DD:EE:FF`` (or a macOS UUID) or ``name=MyBoard``.
    profile : BleProfile
        Which characteristics to use.
    scan_timeout_s : float
        How long to look for the device.
    client_backend, scanner_backend : type, optional
        bleak ``backend=`` overrides (tests).
    """

    def __init__(
        self,
        target: str,
        profile: BleProfile,
        scan_timeout_s: float = 10.0,
        client_backend=None,
        scanner_backend=None,
    ):
        target = target.strip("/")
        self.by_name = target.startswith("name=")
        self.address = target[5:] if self.by_name else target
        if not self.by_name and not _ADDRESS.match(self.address):
            raise SourceError(
                f"'{target}' is not a Bluetooth address",
                "Write ble://AA:BB:CC:DD:EE:FF or ble://name=DeviceName "
                "(`nmr-balance devices` lists nearby devices)",
            )
        self.profile = profile
        self.scan_timeout_s = scan_timeout_s
        self.client_backend, self.scanner_backend = client_backend, scanner_backend
        self.no_data_hint = (
            f"The device connected but sent nothing valid: check profile= and "
            f"protocol= in the URL (profile now {profile.name})"
        )
        #: The address of the sensor this stream reads. Given by name, the first device found
        #: is the one: a reconnection goes back to it, never to another sensor of the same
        #: name nearby (their samples would merge into one stream without anyone knowing).
        self.sensor_id: str | None = None if self.by_name else self.address
        self._loop: LoopThread | None = None
        self._client = None
        self._closing = False

    # --- public (any thread) -------------------------------------------------------------
    def connect(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        if self._loop is None:
            self._loop = LoopThread(f"ble {self.address}")
        self._closing = False
        try:
            self._loop.run(
                self._connect(on_data, on_lost), self.scan_timeout_s + CONNECT_TIMEOUT_S + 5
            )
        except SourceError:
            raise
        except Exception as exc:
            raise bluetooth_error(exc) or SourceError(
                f"could not connect to {self.address} over Bluetooth ({type(exc).__name__}: {exc})",
                "Is it switched on, in range and not connected to a phone app?",
            ) from None

    def write(self, data: bytes) -> None:
        if self._client is None or self._loop is None:
            raise SourceError(f"{self.address} is not connected", "Open the source first")
        self._loop.run(self._client.write_gatt_char(self.profile.write, data, response=False), 5.0)

    def disconnect(self) -> None:
        self._closing = True
        if self._loop is None:
            return
        client, self._client = self._client, None
        if client is not None:
            try:
                self._loop.run(client.disconnect(), 5.0)
            except Exception:
                pass
        self._loop.stop()
        self._loop = None

    # --- loop thread ----------------------------------------------------------------------
    async def _find(self):
        from bleak import BleakScanner

        kw = {} if self.scanner_backend is None else {"backend": self.scanner_backend}
        if self.sensor_id is None:  # by name, the first time only
            device = await BleakScanner.find_device_by_name(self.address, self.scan_timeout_s, **kw)
        else:
            device = await BleakScanner.find_device_by_address(
                self.sensor_id, self.scan_timeout_s, **kw
            )
        if device is None:
            raise DeviceNotFoundError(
                self.address,
                f"No Bluetooth device {'named ' if self.by_name else ''}"
                f"{self.address} answered within {self.scan_timeout_s:g} s: is it switched on, "
                "charged and near? `nmr-balance devices` lists what is advertising",
            )
        return device

    async def _connect(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        from bleak import BleakClient

        device = await self._find()

        def lost(_client) -> None:
            if not self._closing and self._client is client:
                self._client = None
                on_lost("the Bluetooth link dropped (out of range or switched off?)")

        def notified(_char, data: bytearray) -> None:
            on_data(bytes(data), time.monotonic_ns())

        kw = {} if self.client_backend is None else {"backend": self.client_backend}
        client = BleakClient(device, disconnected_callback=lost, timeout=CONNECT_TIMEOUT_S, **kw)
        await client.connect()
        self.sensor_id = device.address
        self._client = client
        try:
            await client.start_notify(self.profile.notify, notified)
        except Exception:
            self._client = None
            await client.disconnect()
            raise
