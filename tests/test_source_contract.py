"""One contract, every source: same open/start/read/stop/close behaviour and error types.

Sources: the simulator; a stored trial replayed from a station database at 1x; nmr, csv and
WitMotion over real ptys driven by the emulator in a subprocess; WitMotion BLE and Nordic UART
(nmr) through a fake bleak backend with real payloads; the Wii Balance Board from raw reports
(calibrated like the kernel) as evdev records on a FIFO.

Time limits here only stop a hang: a stream is awaited by its samples, not for a guessed time.
"""

import contextlib
import os
import threading
import time

import numpy as np
import pytest
from _driver_helpers import emulator
from _fake_bleak import FakeAir, make_backends, nus_peripheral, witmotion_peripheral
from ui_store import add_trial

from drivers.decoding import Decoded
from drivers.device_source import DeviceSource, SampleCounter
from drivers.protocols import wii
from drivers.protocols.nmr import NmrDecoder
from drivers.protocols.witmotion import WitmotionBleDecoder
from drivers.transports.ble import PROFILES, BleTransport
from drivers.transports.evdev_board import encode_events
from nmr_balance.app import open_source
from nmr_balance.errors import SourceStateError
from nmr_balance.source import Status
from recordings import Store

pytestmark = pytest.mark.timeout(120)
CAL = np.array([[1000, 1100, 1200, 1300], [2700, 2800, 2900, 3000], [4400, 4500, 4600, 4700]])


@pytest.fixture(scope="module")
def ptys(tmp_path_factory):
    """One emulator subprocess per serial protocol, shared by the module."""
    with contextlib.ExitStack() as stack:
        tmp = tmp_path_factory.mktemp("ptys")
        yield {
            proto: stack.enter_context(emulator(tmp, proto, "--rate", "200", name=proto))
            for proto in ("nmr", "csv", "witmotion")
        }


def ble(peripheral, target, profile, decoder):
    client, scanner = make_backends(FakeAir(peripheral))
    transport = BleTransport(target, PROFILES[profile], 2.0, client, scanner)
    return DeviceSource(
        f"ble://{target}?profile={profile}", transport, decoder, 30.0
    )  # open timeout: a hang bound


@contextlib.contextmanager
def wii_fifo(tmp_path):
    """A FIFO fed with the evdev records the kernel makes from raw Wii reports (100 Hz)."""
    path = tmp_path / "event-wii"
    os.mkfifo(path)
    keep = os.open(path, os.O_RDWR)  # a writer end that never blocks and never closes early
    stop = threading.Event()
    rng = np.random.default_rng(0)

    def feed():
        while not stop.is_set():
            raw = rng.integers(1800, 2600, (1, 4))
            # raw report -> calibrated kg, exactly as hid-wiimote does, -> evdev records
            decoded = wii.WiiReportDecoder(CAL).decode(wii.encode_reports(raw)).data
            os.write(keep, encode_events(wii.kernel_events(decoded)))
            time.sleep(0.01)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    try:
        yield f"evdev://{path}"
    finally:
        stop.set()
        thread.join(1)
        os.close(keep)


@pytest.fixture(scope="module")
def stored_trial(tmp_path_factory):
    """A station database holding one 6 s simulated trial: ``(path, trial id)``."""
    path = tmp_path_factory.mktemp("replay") / "station.db"
    with Store.open(path) as store:
        store.add_patient("P001")
        session = store.start_session("P001")
        trial_id = add_trial(store, session.id, "open", "firm", seconds=6.0)
    return path, trial_id


SOURCES = [
    "sim",
    "replay",
    "serial-nmr",
    "serial-csv",
    "serial-witmotion",
    "ble-witmotion",
    "ble-nus-nmr",
    "evdev-wii",
]


@pytest.fixture(params=SOURCES)
def make_source(request, tmp_path):
    name = request.param
    with contextlib.ExitStack() as stack:
        if name == "sim":
            yield lambda: open_source("sim://?rate=200&sensor=cells")
        elif name == "replay":
            path, trial_id = request.getfixturevalue("stored_trial")
            yield lambda: open_source(f"replay://{path}?trial={trial_id}&speed=1")
        elif name.startswith("serial-"):
            proto = name.split("-", 1)[1]
            port = request.getfixturevalue("ptys")[proto]
            # timeout: how long open() waits for the first sample (a hang bound here)
            yield lambda: open_source(f"serial://{port}?protocol={proto}&timeout=30")
        elif name == "ble-witmotion":
            yield lambda: ble(
                witmotion_peripheral(), "C1:D2:E3:F4:A5:B6", "witmotion", WitmotionBleDecoder()
            )
        elif name == "ble-nus-nmr":
            yield lambda: ble(nus_peripheral(), "name=MyBoard", "nus", NmrDecoder())
        else:
            url = stack.enter_context(wii_fifo(tmp_path))
            yield lambda: open_source(url)


def read_some(src, n=10, hang_s=30.0):
    """Blocks of at least ``n`` samples in all (fewer only if the source hangs for ``hang_s``)."""
    got, end = [], time.monotonic() + hang_s
    while sum(map(len, got)) < n and time.monotonic() < end:
        got.append(src.read(0.1))
    return got


def test_life_cycle(make_source):
    src = make_source()
    assert src.status is Status.IDLE
    with pytest.raises(SourceStateError):
        src.read()
    info = src.open()
    assert src.status is Status.CONNECTED and info.n_channels >= 3 and info.fs > 0
    with pytest.raises(SourceStateError, match="start"):
        src.read()
    with pytest.raises(SourceStateError):
        src.open()
    t_start = time.monotonic_ns()
    src.start()
    assert src.status is Status.STREAMING
    blocks = [b for b in read_some(src) if len(b)]
    assert sum(map(len, blocks)) >= 10
    for b in blocks:
        assert b.data.shape[1] == info.n_channels and np.all(np.isfinite(b.data))
        assert b.t_host_ns.dtype == np.int64 and b.counter.dtype == np.int64
        assert np.all(b.t_host_ns >= t_start - 10**9) and np.all(np.diff(b.t_host_ns) >= 0)
    counters = np.concatenate([b.counter for b in blocks])
    assert np.all(np.diff(counters) >= 1)
    src.stop()
    assert src.status is Status.CONNECTED
    src.start()
    t0 = time.monotonic()
    src.read(0.0)
    assert time.monotonic() - t0 < 5.0  # read(0) does not wait for data (bound: a hang)
    again = [b for b in read_some(src, 3) if len(b)]
    assert again and again[0].counter[0] > counters[-1]
    t0 = time.monotonic()
    src.close()
    assert time.monotonic() - t0 < 15.0  # shutdown ends (reader threads included): no hang
    assert src.status is Status.CLOSED and src.ended
    src.close()  # idempotent
    with pytest.raises(SourceStateError, match="closed"):
        src.read()


def test_context_manager_closes_on_error(make_source):
    with pytest.raises(RuntimeError), make_source() as src:
        src.start()
        raise RuntimeError("boom")
    assert src.status is Status.CLOSED


def test_sample_counter_rebases_a_restarted_device_past_the_gap():
    sc = SampleCounter(fs=100.0)

    def dec(c):
        c = np.asarray(c)
        return Decoded(np.zeros((len(c), 1)), c, np.full(len(c), np.nan), 0)

    b1 = sc.block(dec([500, 501, 502]), t_ns=10**9)
    sc.mark_gap()
    b2 = sc.block(dec([0, 1]), t_ns=3 * 10**9)  # device rebooted, 2 s later
    assert list(b1.counter) == [500, 501, 502]
    assert b2.counter[0] - b1.counter[-1] - 1 == pytest.approx(198, abs=1)
    assert sc.gap_samples == b2.counter[0] - 503
    # a decoder that unwrapped the restart into a +1 step is rebased the same way
    sc.mark_gap()
    b3 = sc.block(dec([b2.counter[-1] - sc.offset + 1]), t_ns=4 * 10**9)
    assert b3.counter[0] - b2.counter[-1] - 1 == pytest.approx(99, abs=1)
    # a device that kept counting through the gap keeps its own counter
    sc.mark_gap()
    c = b3.counter[-1] - sc.offset + 51
    b4 = sc.block(dec([c]), t_ns=4 * 10**9 + 5 * 10**8)
    assert b4.counter[0] == c + sc.offset and b4.counter[0] - b3.counter[-1] == 51
