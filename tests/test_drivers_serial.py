"""Serial sources over real pseudo-terminals, driven by the emulator in a subprocess."""

import errno

import numpy as np
import pytest
import serial
from _driver_helpers import emulator, emulator_run, read_to_end, read_until

from drivers.transports.serial_port import open_error
from nmr_balance.app import open_source
from nmr_balance.errors import (
    DeviceBusyError,
    DeviceNotFoundError,
    DevicePermissionError,
    InvalidParameterError,
    NoDataError,
)
from nmr_balance.source import Status
from nmr_balance.stream import SampleBlock

pytestmark = pytest.mark.timeout(90)


def test_missing_port_says_what_to_do():
    with pytest.raises(DeviceNotFoundError, match="nmr-balance devices") as err:
        open_source("serial:///dev/ttyNOPE0?protocol=csv").open()
    assert err.value.address == "/dev/ttyNOPE0"


def test_permission_and_busy_errors_are_translated():
    denied = open_error(
        "/dev/ttyUSB0",
        serial.SerialException(
            errno.EACCES,
            "could not open port /dev/ttyUSB0: [Errno 13] Permission denied: '/dev/ttyUSB0'",
        ),
    )
    assert isinstance(denied, DevicePermissionError) and "dialout" in str(denied)
    busy = open_error(
        "/dev/ttyUSB0",
        serial.SerialException(
            errno.EAGAIN, "Could not exclusively lock port /dev/ttyUSB0: [Errno 11]"
        ),
    )
    assert isinstance(busy, DeviceBusyError) and "Close the other program" in str(busy)


def test_bad_url_parameters_are_rejected():
    with pytest.raises(InvalidParameterError, match="protocol"):
        open_source("serial:///dev/ttyUSB0?protocol=modbus")
    with pytest.raises(InvalidParameterError, match="valid: baud"):
        open_source("serial:///dev/ttyUSB0?bad=1")
    with pytest.raises(InvalidParameterError, match="configure=1"):
        open_source("serial:///dev/ttyUSB0?protocol=witmotion&configure=1&rate=300")


def test_busy_port_wrong_protocol_and_arduino_boot(tmp_path):
    with emulator(tmp_path, "csv", "--rate", "100", "--boot", "1.5") as port:
        with open_source(f"serial://{port}?protocol=csv") as src:  # banner, 1.5 s silence
            assert src.decoder.bad_frames + src.decoder.skipped_bytes > 0  # the banner
            assert src.transport.low_latency is False  # a pty refuses it, quietly
            with pytest.raises(DeviceBusyError):
                open_source(f"serial://{port}?protocol=csv").open()
        with pytest.raises(NoDataError, match="baud") as err:
            open_source(f"serial://{port}?protocol=nmr&timeout=1").open()
        assert err.value.seconds == 1


@pytest.mark.parametrize(
    "protocol, extra",
    [
        ("nmr", ["--channels", "6", "--faults", "garbage,drop,disconnect"]),
        ("witmotion", ["--faults", "disconnect"]),
    ],
)
def test_unplug_replug_and_garbage(tmp_path, protocol, extra):
    """Status goes lost -> reconnecting -> streaming; the gap shows in the counter (nmr: the
    board's own; witmotion has none, so it is estimated from host time) and in ``dropped``;
    garbage and cut bytes are counted and never become samples.

    The emulated board blocks instead of dropping when the reader is behind (``--fifo block``)
    and runs a fixed number of samples; the test reads to its end, so a busy machine changes
    nothing but the time it takes. Losing data to a slow reader is the unplug drill's subject.
    """
    fs, down = 200.0, 0.8
    args = ["--rate", str(fs), "--fault-every", "1.5", "--down", str(down), "--duration", "6"]
    with emulator_run(tmp_path, protocol, *args, "--fifo", "block", *extra) as (port, proc):
        events = []
        with open_source(f"serial://{port}?protocol={protocol}&timeout=30") as src:
            src.add_status_listener(lambda e: events.append(e.status))
            src.start()
            dropped_before = src.dropped
            block, run = read_to_end(src, proc)
            stats = src.stats()
    assert run["disconnects"] >= 1 and src.losses == run["disconnects"] + 1  # + the end
    lost = events.index(Status.LOST)
    assert events[lost + 1] is Status.RECONNECTING
    assert Status.STREAMING in events[lost + 1 :]  # back
    steps = np.diff(block.counter)
    assert np.all(steps >= 1)
    gap = steps.max() - 1
    assert 0 < gap < run["samples"]
    if protocol == "nmr":
        # the board kept counting while unplugged (the pty was gone for `down` s): its counter
        # jumps by at least that. WitMotion's gap is estimated from when the host read the
        # bytes, which a busy machine delays: only its presence is certain.
        assert gap >= 0.5 * down * fs
    assert src.dropped - dropped_before == block.gaps() > 0
    assert (block.counter > block.counter[np.argmax(steps)]).sum() > 100  # and it streams on
    if protocol == "nmr":
        # aux1 carries the counter: every delivered sample is intact despite the garbage
        np.testing.assert_array_equal(
            block.data[:, src.info.index("aux1")], block.counter % (1 << 24)
        )
        assert stats["bad_frames"] + stats["skipped_bytes"] > 0
        assert block.counter[-1] == run["samples"] - 1  # the board's last sample arrived


def test_1khz_8_channels_every_sample_once_in_order(tmp_path):
    """Decoding at 1 kHz x 8 channels over a pty: from the first sample read to the board's
    last, each arrives exactly once, in order, intact, with its device time.

    The board waits for a slow reader (``--fifo block``), so this holds on a busy machine too.
    Zero loss in real time (a board that cannot wait) is a performance claim: the soak drill
    (``python -m benchmarks.soak``) measures it, for an hour, on a quiet machine.
    """
    args = ["--rate", "1000", "--sensor", "plate", "--channels", "8", "--duration", "5"]
    with (
        emulator_run(tmp_path, "nmr", *args, "--fifo", "block") as (port, proc),
        open_source(f"serial://{port}?protocol=nmr&timeout=30") as src,
    ):
        src.start()
        block, run = read_to_end(src, proc)
        stats = src.stats()
    assert src.info.n_channels == 8 and run["samples"] == 5000
    # The reader joins a running stream: what was queued before it opened the port is flushed,
    # and samples count from the first descriptor (sent every second). Then it reads to the end.
    assert len(block) >= 1000
    np.testing.assert_array_equal(block.counter, np.arange(5000 - len(block), 5000))
    assert block.gaps() == 0 and src.dropped == 0 and stats["bad_frames"] == 0
    np.testing.assert_array_equal(block.data[:, 6], block.counter % (1 << 24))
    np.testing.assert_allclose(np.diff(block.t_device), 1e-3, atol=2e-6)


@pytest.mark.parametrize("protocol", ["csv", "witmotion", "witmotion+time"])
def test_a_mid_stream_silence_with_the_port_open_is_a_gap(tmp_path, protocol):
    """The board's output is lost for 2 s while the port stays open (no link loss). csv
    carries the board's clock: the jump becomes the gap; the plain WitMotion stream has no
    clock: the host-side silence does. Either way the gap is in the counter and in dropped."""
    fs, down = 100.0, 2.0
    args = ["--rate", str(fs), "--faults", "mute", "--fault-every", "1.5", "--down", str(down)]
    protocol, _, clock = protocol.partition("+")
    args += ["--device-time"] if clock else []
    with (
        emulator(tmp_path, protocol, *args) as port,
        open_source(f"serial://{port}?protocol={protocol}&rate={fs:g}") as src,
    ):
        src.start()

        def gap_and_after(b: SampleBlock) -> bool:
            steps = np.diff(b.counter)
            return len(steps) > 0 and steps.max() > 1 and len(b) - np.argmax(steps) > 50

        block = read_until(src, gap_and_after, what="a gap, then 50 samples")
        assert src.losses == 0 and src.status is Status.STREAMING
    steps = np.diff(block.counter)
    assert np.all(steps >= 1)
    assert 0.7 * down * fs < steps.max() - 1 < 1.5 * down * fs
    assert src.dropped == block.gaps() >= 0.7 * down * fs
    if protocol == "csv" or clock:  # counted from the board's clock: the counter follows it
        dt = np.diff(block.t_device)
        np.testing.assert_allclose(steps, np.round(dt * fs), atol=0)
