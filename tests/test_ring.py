"""Ring buffer: wrap-around, overrun accounting, latest(), shared memory, nogil producers."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nmr_balance.ring import RingBuffer
from nmr_balance.stream import SampleBlock


def block(start: int, n: int, n_channels: int = 2) -> SampleBlock:
    """Samples whose every field encodes their absolute index, so any mix-up is visible."""
    k = np.arange(start, start + n, dtype=np.int64)
    return SampleBlock(
        k * 10, k / 100.0, k, np.repeat(k[:, None].astype(float), n_channels, axis=1)
    )


def assert_consistent(b: SampleBlock) -> None:
    assert np.array_equal(b.t_host_ns, b.counter * 10)
    assert np.allclose(b.t_device, b.counter / 100.0)
    assert np.array_equal(b.data[:, 0], b.counter)
    if len(b) > 1:
        assert np.all(np.diff(b.counter) == 1)


@settings(max_examples=150, deadline=None)
@given(
    capacity=st.integers(1, 50),
    pushes=st.lists(st.integers(0, 80), max_size=25),
    reads=st.lists(st.integers(0, 3), max_size=25),
)
def test_reader_gets_every_sample_or_counts_it_as_overrun(capacity, pushes, reads):
    ring = RingBuffer(2, capacity)
    reader = ring.reader()
    got = []
    written = 0
    for i, n in enumerate(pushes):
        ring.push(block(written, n))
        written += n
        if i < len(reads) and reads[i]:
            b = reader.read()
            assert_consistent(b)
            got.extend(b.counter.tolist())
    b = reader.read()
    assert_consistent(b)
    got.extend(b.counter.tolist())
    assert ring.written == written
    # what was read is in order, without duplicates; the rest is exactly the overrun count
    assert got == sorted(set(got))
    assert len(got) + reader.overruns == written
    # the newest sample is always delivered (it cannot have been overwritten)
    if written:
        assert got[-1] == written - 1


@settings(max_examples=100, deadline=None)
@given(capacity=st.integers(1, 40), total=st.integers(0, 200), n=st.integers(0, 60))
def test_latest_returns_the_newest_samples(capacity, total, n):
    ring = RingBuffer(3, capacity)
    for start in range(0, total, 7):
        ring.push(block(start, min(7, total - start), 3))
    latest = ring.latest(n)
    expect = list(range(max(0, total - min(n, capacity)), total))
    assert latest.counter.tolist() == expect
    assert_consistent(latest)
    assert ring.latest(n).counter.tolist() == expect  # does not consume


def test_read_max_n_and_pending():
    ring = RingBuffer(2, 100)
    reader = ring.reader()
    ring.push(block(0, 30))
    assert reader.pending == 30
    assert reader.read(max_n=10).counter.tolist() == list(range(10))
    assert reader.pending == 20
    assert reader.read().counter.tolist() == list(range(10, 30))
    assert reader.read().counter.tolist() == []


def test_reader_from_start_and_independent_cursors():
    ring = RingBuffer(2, 16)
    ring.push(block(0, 20))
    early, late = ring.reader(from_start=True), ring.reader()
    assert early.read().counter.tolist() == list(range(4, 20))
    ring.push(block(20, 5))
    assert late.read().counter.tolist() == list(range(20, 25))
    assert early.read().counter.tolist() == list(range(20, 25))


def test_push_rejects_wrong_channel_count():
    ring = RingBuffer(2, 8)
    with pytest.raises(ValueError, match="3 channels, ring has 2"):
        ring.push(block(0, 1, 3))


def test_concurrent_producer_and_reader_never_see_torn_or_wrong_rows():
    ring = RingBuffer(2, 64)
    reader = ring.reader()
    total = 200_000
    done = threading.Event()

    def produce():
        k = 0
        while k < total:
            n = min(37, total - k)
            ring.push(block(k, n))
            k += n
        done.set()

    t = threading.Thread(target=produce)
    t.start()
    got = 0
    last = -1
    while not (done.is_set() and reader.pending == 0):
        b = reader.read()
        assert_consistent(b)
        if len(b):
            assert b.counter[0] > last
            last = int(b.counter[-1])
        got += len(b)
    t.join()
    assert got + reader.overruns == total


def test_nogil_numba_producer_follows_the_write_protocol():
    numba = pytest.importorskip("numba")

    @numba.njit(nogil=True)
    def produce(header, t_host, t_dev, counter, data, total):
        cap = counter.shape[0]
        for k in range(total):
            header[4] = k + 1  # reserve before touching the slot
            i = header[0] % cap
            t_host[i] = k * 10
            t_dev[i] = k / 100.0
            counter[i] = k
            data[i, 0] = k
            data[i, 1] = k
            header[0] = k + 1  # publish after the row is written

    ring = RingBuffer(2, 256)
    reader = ring.reader()
    total = 2_000_000
    t = threading.Thread(
        target=produce,
        args=(ring._header, ring.t_host, ring.t_device, ring.counter, ring.data, total),
    )
    t.start()
    got = 0
    while t.is_alive() or reader.pending:
        b = reader.read()
        assert_consistent(b)
        got += len(b)
    t.join()
    assert got + reader.overruns == total
    assert ring.written == total


def test_shared_ring_is_readable_from_another_process():
    ring = RingBuffer.shared(2, 128)
    try:
        ring.push(block(0, 200))
        code = (
            "import sys; from nmr_balance.ring import RingBuffer\n"
            f"r = RingBuffer.attach({ring.name!r})\n"
            "b = r.latest(5)\n"
            "print(r.written, r.capacity, b.counter.tolist(), b.data[:, 1].tolist())\n"
            "r.close()\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.split()[:2] == ["200", "128"]
        assert "[195, 196, 197, 198, 199]" in out.stdout
        # the block survives the other process exiting (it must not unlink what it attached)
        assert ring.latest(1).counter.tolist() == [199]
        again = RingBuffer.attach(ring.name)
        assert again.written == 200
        again.close()
    finally:
        ring.close(unlink=True)
