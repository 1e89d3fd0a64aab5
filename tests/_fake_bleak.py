"""A fake bleak backend (client + scanner) for tests, injected with bleak's ``backend=``.

A :class:`FakeAir` holds peripherals; each peripheral advertises (name, address, service
UUIDs, RSSI) and, once a client subscribes to its notify characteristic, sends its
``notifications`` (real payloads) at ``interval_s``. ``drop_after`` notifications it drops the
link (the client's disconnected callback fires, as bleak's does); it may then come back after
``down_s``. ``make_backends(air)`` returns ``(client_class, scanner_class)``.

Two peripherals the BLE and contract tests share: a WitMotion WT901BLE67 replaying a real
capture (:func:`witmotion_peripheral`) and an ESP32 board speaking nmr over Nordic UART
(:func:`nus_peripheral`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError

from drivers.protocols import nmr
from drivers.transports.ble import PROFILES
from nmr_balance.stream import Channel, SensorKind, StreamInfo

CAPTURE = Path(__file__).parent / "data/devices/witmotion_wt901ble67_ble/wt901-100hz.jsonl"
WIT_ADDR, NUS_ADDR = "C1:D2:E3:F4:A5:B6", "AA:BB:CC:DD:EE:01"


@dataclasses.dataclass
class FakePeripheral:
    name: str
    address: str
    service: str
    notify: str
    write: str
    notifications: list[bytes]
    interval_s: float = 0.01
    rssi: int = -60
    drop_after: int | None = None
    down_s: float = 0.3
    loop_payloads: bool = True
    sent: int = 0
    position: int = 0
    written: list[bytes] = dataclasses.field(default_factory=list)
    connections: int = 0
    available: bool = True
    back_t: float | None = None  # time.monotonic() when the board last came back from a drop


class FakeAir:
    def __init__(self, *peripherals: FakePeripheral):
        self.peripherals = {p.address: p for p in peripherals}


def make_backends(air: FakeAir):
    class FakeScanner(BaseBleakScanner):
        def __init__(
            self, detection_callback=None, service_uuids=None, scanning_mode="active", **kwargs
        ):
            super().__init__(detection_callback, service_uuids)
            self._task = None

        async def _advertise(self):
            while True:
                for p in air.peripherals.values():
                    if not p.available:
                        continue
                    adv = AdvertisementData(p.name, {}, {}, [p.service], None, p.rssi, ())
                    device = self.create_or_update_device(p.address, p.address, p.name, None, adv)
                    self.call_detection_callbacks(device, adv)
                await asyncio.sleep(0.02)

        async def start(self):
            self.seen_devices = {}
            self._task = asyncio.get_running_loop().create_task(self._advertise())

        async def stop(self):
            if self._task:
                self._task.cancel()

    class FakeClient(BaseBleakClient):
        def __init__(self, address_or_ble_device, **kwargs):
            super().__init__(address_or_ble_device, **kwargs)
            self.peripheral = air.peripherals.get(self.address)
            self._connected = False
            self._task = None

        @property
        def mtu_size(self) -> int:
            return 247

        @property
        def name(self) -> str:
            return self.peripheral.name if self.peripheral else self.address

        async def connect(self, pair: bool, **kwargs) -> None:
            p = self.peripheral
            if p is None or not p.available:
                raise BleakDeviceNotFoundError(self.address, f"Device {self.address} not found")
            p.connections += 1
            services = BleakGATTServiceCollection()
            service = BleakGATTService(None, 1, p.service)
            services.add_service(service)
            for handle, (uuid, props) in enumerate(
                [(p.notify, ["notify"]), (p.write, ["write-without-response", "write"])], 2
            ):
                services.add_characteristic(
                    BleakGATTCharacteristic(None, handle, uuid, props, lambda: 244, service)
                )
            self.services = services
            self._connected = True

        async def disconnect(self) -> None:
            self._connected = False
            if self._task:
                self._task.cancel()

        async def pair(self, *args, **kwargs) -> None:
            pass

        async def unpair(self) -> None:
            pass

        @property
        def is_connected(self) -> bool:
            return self._connected

        async def read_gatt_char(self, characteristic, **kwargs):
            return bytearray()

        async def read_gatt_descriptor(self, descriptor, **kwargs):
            return bytearray()

        async def write_gatt_char(self, characteristic, data, response) -> None:
            self.peripheral.written.append(bytes(data))

        async def write_gatt_descriptor(self, descriptor, data) -> None:
            pass

        async def start_notify(self, characteristic, callback, **kwargs) -> None:
            self._task = asyncio.get_running_loop().create_task(self._stream(callback))

        async def stop_notify(self, characteristic) -> None:
            if self._task:
                self._task.cancel()

        async def _stream(self, callback):
            # the board keeps its place in its stream across links (and keeps sending into the
            # void while unlinked), like a real one that was not switched off
            p = self.peripheral
            while p.loop_payloads or p.position < len(p.notifications):
                await asyncio.sleep(p.interval_s)
                if not self._connected:
                    return
                if p.drop_after is not None and p.sent == p.drop_after:
                    self._connected = False
                    p.available = False
                    p.drop_after = None  # drop once
                    if self._disconnected_callback:
                        self._disconnected_callback()
                    await asyncio.sleep(p.down_s)
                    p.position += int(p.down_s / p.interval_s)
                    p.back_t = time.monotonic()
                    p.available = True
                    return
                payload = p.notifications[p.position % len(p.notifications)]
                p.position += 1
                p.sent += 1
                callback(bytearray(payload))

    return FakeClient, FakeScanner


def ble_device(address: str, name: str) -> BLEDevice:
    return BLEDevice(address, name, None)


def capture_notifications():
    return [bytes.fromhex(json.loads(line)["hex"]) for line in CAPTURE.read_text().splitlines()[1:]]


def witmotion_peripheral(**kw):
    p = PROFILES["witmotion"]
    return FakePeripheral(
        "WT901BLE67",
        WIT_ADDR,
        p.service,
        p.notify,
        p.write,
        capture_notifications(),
        interval_s=0.03,
        **kw,
    )


def nus_stream(n=600, fs=100.0, size=61):
    """An nmr stream (descriptor every 100 samples) cut into ``size``-byte notifications, so
    messages span notifications."""
    info = StreamInfo(
        "b", tuple(Channel(c, "kg") for c in ("tr", "br", "tl", "bl")), fs, SensorKind.LOAD_CELLS
    )
    data = np.column_stack([np.arange(n) % 1000, np.full((n, 3), 20.0)])
    wire = b"".join(
        nmr.encode_descriptor(info, "esp32")
        + nmr.encode_samples(i, np.arange(i, i + 100) * 10_000, data[i : i + 100], pack=2)
        for i in range(0, n, 100)
    )
    return [wire[i : i + size] for i in range(0, len(wire), size)]


def nus_peripheral(**kw):
    p = PROFILES["nus"]
    return FakePeripheral(
        "MyBoard",
        NUS_ADDR,
        p.service,
        p.notify,
        p.write,
        nus_stream(),
        interval_s=0.01,
        loop_payloads=False,
        **kw,
    )
