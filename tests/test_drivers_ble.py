"""BLE sources through a fake bleak backend (bleak's ``backend=``): real payloads, disconnects."""

import numpy as np
import pytest
from _driver_helpers import read_samples, read_until
from _fake_bleak import (
    NUS_ADDR,
    WIT_ADDR,
    FakeAir,
    FakePeripheral,
    capture_notifications,
    make_backends,
    nus_peripheral,
    witmotion_peripheral,
)
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
)

from drivers import discovery
from drivers.device_source import DeviceSource
from drivers.protocols import witmotion
from drivers.protocols.nmr import NmrDecoder
from drivers.protocols.witmotion import WitmotionBleDecoder
from drivers.transports.ble import PROFILES, BleTransport, bluetooth_error
from nmr_balance.app import open_source
from nmr_balance.app.commands import devices
from nmr_balance.errors import BluetoothUnavailableError, DeviceNotFoundError, SourceError
from nmr_balance.source import Status
from nmr_balance.stream import SampleBlock, SensorKind

pytestmark = pytest.mark.timeout(60)


def ble_source(air, target, profile, decoder, url="ble://test"):
    client, scanner = make_backends(air)
    transport = BleTransport(
        target,
        PROFILES[profile],
        scan_timeout_s=2.0,
        client_backend=client,
        scanner_backend=scanner,
    )
    return DeviceSource(url, transport, decoder, open_timeout_s=30.0)  # a hang bound


def test_witmotion_ble_real_payloads_and_configuration():
    air = FakeAir(witmotion_peripheral())
    src = ble_source(air, WIT_ADDR, "witmotion", WitmotionBleDecoder(100.0))
    src.on_connect = lambda t: [t.write(c) for c in witmotion.configure_commands(100)]
    with src:
        assert src.info.channel_names[:3] == ("ax", "ay", "az") and src.info.kind is SensorKind.IMU
        src.start()
        block = read_samples(src, 40)
    # what arrived is the capture itself, in order, from wherever start() joined it
    reference = WitmotionBleDecoder().decode(b"".join(capture_notifications())).data
    first = int(np.flatnonzero(np.all(reference == block.data[0], axis=1))[0])
    expected = reference[(first + np.arange(len(block))) % len(reference)]
    np.testing.assert_array_equal(block.data, expected)
    np.testing.assert_array_equal(np.diff(block.counter), 1)
    assert air.peripherals[WIT_ADDR].written == witmotion.configure_commands(100)
    assert src.decoder.errors == 0


def test_nus_by_name_carries_nmr_across_notifications_and_survives_a_disconnect():
    air = FakeAir(nus_peripheral(drop_after=150, down_s=0.3))
    src = ble_source(air, "name=MyBoard", "nus", NmrDecoder())
    events = []
    src.add_status_listener(lambda e: events.append(e.status))
    with src:
        assert src.info.channel_names == ("tr", "br", "tl", "bl")
        assert src.info.device == "esp32" or "esp32" in src.info.device
        src.start()
        dropped_before = src.dropped
        # read to the board's last sample (counter 599), across the disconnect
        block = read_until(src, lambda b: len(b) and b.counter[-1] == 599, what="sample 599")
    assert air.peripherals[NUS_ADDR].connections == 2
    lost = events.index(Status.LOST)
    assert events[lost + 1] is Status.RECONNECTING and Status.STREAMING in events[lost + 1 :]
    # messages spanned notifications, yet every sample is intact: tr = counter % 1000
    np.testing.assert_array_equal(block.data[:, 0], block.counter % 1000)
    assert block.gaps() > 0 and src.dropped - dropped_before == block.gaps()
    assert np.all(np.diff(block.counter) >= 1)


def test_device_not_found_and_bad_address():
    src = ble_source(FakeAir(), "name=Nobody", "nus", NmrDecoder())
    with pytest.raises(DeviceNotFoundError, match="switched on"):
        src.open()
    with pytest.raises(SourceError, match="not a Bluetooth address"):
        BleTransport("12:34", PROFILES["nus"])


@pytest.mark.parametrize(
    "exc, words",
    [
        (FileNotFoundError(2, "No such file or directory"), "no D-Bus"),
        (BleakDBusError("org.freedesktop.DBus.Error.ServiceUnknown", []), "BlueZ"),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            "adapter",
        ),
    ],
)
def test_no_bluetooth_becomes_one_clear_line(exc, words):
    err = bluetooth_error(exc)
    assert isinstance(err, BluetoothUnavailableError)
    assert str(err).startswith("Bluetooth is not available on this machine (") and words in str(err)
    assert "\n" not in str(err)


def test_ble_on_this_machine_gives_the_clear_error_not_a_traceback():
    # this machine has no D-Bus/BlueZ/adapter: the real bleak backend must fail cleanly
    with pytest.raises((BluetoothUnavailableError, DeviceNotFoundError)):
        open_source(f"ble://{WIT_ADDR}?profile=witmotion&scan=1&timeout=1").open()


def test_discovery_lists_known_profiles_with_rssi(capsys):
    other = FakePeripheral(
        "Headphones", "00:11:22:33:44:55", "0000110b-0000-1000-8000-00805f9b34fb", "x", "y", [b""]
    )
    air = FakeAir(witmotion_peripheral(rssi=-70), nus_peripheral(rssi=-50), other)
    _, scanner = make_backends(air)
    found = discovery.ble_devices(0.3, scanner_backend=scanner)
    assert [(d.name, d.profile, d.rssi) for d in found] == [
        ("MyBoard", "nus", -50),
        ("WT901BLE67", "witmotion", -70),
    ]
    assert found[1].url == f"ble://{WIT_ADDR}?profile=witmotion"

    class Args:
        scan, no_ble = 0.3, False

    assert devices.run(Args(), scanner_backend=scanner) == 0
    out = capsys.readouterr().out
    assert "Serial ports" in out and "WT901BLE67" in out and "Wii Balance Boards" in out


def test_devices_without_bluetooth_says_so_in_one_line_and_lists_the_rest(capsys):
    class Args:
        scan, no_ble = 0.5, False

    assert devices.run(Args()) == 0
    out = capsys.readouterr().out.splitlines()
    ble_lines = [line for line in out if line.startswith("Bluetooth")]
    assert len(ble_lines) == 1 and "not available on this machine" in ble_lines[0]
    assert (out[0].startswith("Serial ports") and out[-1].startswith("Wii Balance Boards")) or any(
        line.startswith("Wii Balance Boards") for line in out
    )


def test_ble_url_parsing():
    src = open_source("ble://name=MyBoard?profile=nus&protocol=csv&rate=10")
    assert src.transport.by_name and src.transport.address == "MyBoard"
    assert src.decoder.name == "csv" and src.decoder.fmt.fs == 10
    src = open_source(f"ble://{WIT_ADDR}?profile=witmotion")
    assert src.transport.profile.notify == witmotion.BLE_NOTIFY
    assert isinstance(src.decoder, WitmotionBleDecoder)


def _negated(notifications):
    """The same packets with every value negated: another sensor's data, same format."""
    out = []
    for note in notifications:
        packets = np.frombuffer(note, np.uint8).reshape(-1, 20).copy()
        values = packets[:, 2:].copy().view("<i2")
        packets[:, 2:] = (-values.astype(np.int32)).clip(-32768, 32767).astype("<i2").view(np.uint8)
        out.append(packets.tobytes())
    return out


def test_two_sensors_of_one_name_never_merge_into_one_stream():
    """Two WT901BLE67 nearby advertise the same name. Opened by name, the stream keeps the
    address of the one it found (the sensor id, stored with the stream) and reconnects to that
    one only: the other's samples never enter, even while the first is away."""
    first = witmotion_peripheral(drop_after=20, down_s=0.6)
    other = witmotion_peripheral()
    other.address, other.notifications = "C1:D2:E3:F4:A5:B7", _negated(first.notifications)
    air = FakeAir(first, other)
    src = ble_source(air, "name=WT901BLE67", "witmotion", WitmotionBleDecoder(100.0))
    events = []
    src.add_status_listener(lambda e: events.append(e.status))
    with src:
        sensor = src.info.geometry["sensor_id"]
        assert sensor in (first.address, other.address)
        ours = air.peripherals[sensor]
        ours.drop_after = 20  # whichever was found drops its link once
        src.start()
        block = read_until(
            src,
            lambda b: (
                Status.STREAMING in events[events.index(Status.LOST) :]
                if Status.LOST in events
                else False
            ),
            what="the link back",
        )
        block = SampleBlock.concat([block, read_samples(src, 40)], 9)
    reference = WitmotionBleDecoder().decode(b"".join(ours.notifications)).data
    assert all(np.any(np.all(reference == row, axis=1)) for row in block.data)  # all its own
    assert (
        ours.connections == 2
        and air.peripherals[other.address if sensor == first.address else first.address].connections
        == 0
    )
