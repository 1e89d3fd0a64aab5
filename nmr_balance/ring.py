"""A preallocated ring buffer of samples: one producer, many readers, each with its own cursor.

Storage is one flat byte buffer, so it can live in ``multiprocessing.shared_memory`` and be
mapped read-only by another process (the UI maps the engine's rings). Layout (all little-endian,
8-byte aligned)::

    header  int64[5]      written (total samples published), capacity, n_channels, magic,
                          reserved (total samples being written: >= written)
    t_host  int64[cap]    host receive time, ns (time.monotonic_ns)
    t_dev   float64[cap]  device time, s
    counter int64[cap]    sample counter
    data    float64[cap, n_channels]

Write protocol (lock-free, single producer, seqlock-like): first store ``reserved = written + n``,
then copy the n new rows into slots ``written % cap``..., then publish by storing
``written = reserved``. A reader copies the rows it wants, then reads ``reserved``: rows the
producer may have overwritten meanwhile (older than ``reserved - cap``) are discarded and counted
as overrun. So a reader that falls more than a buffer behind gets an
explicit overrun count, never silently wrong or skipped data. A producer running outside the
GIL (a Numba ``nogil`` kernel) may write by the same protocol.
"""

from __future__ import annotations

import sys
from multiprocessing import shared_memory

import numpy as np

from nmr_balance.stream import SampleBlock

_MAGIC = 0x4E4D5252494E4731  # "NMRRING1"
_HEADER = 5


def _layout(capacity: int, n_channels: int) -> int:
    return 8 * (_HEADER + capacity * (3 + n_channels))


def _attach_shm(name: str) -> shared_memory.SharedMemory:
    """Open an existing block without making this process responsible for unlinking it."""
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, create=False, track=False)
    shm = shared_memory.SharedMemory(name=name, create=False)
    # Before 3.13 every attach registers with the resource tracker, which would destroy the
    # creator's block when this process exits (CPython gh-82300). Blocks this process created
    # stay registered: their creator unlinks them.
    if shm.name not in _CREATED_HERE:
        from multiprocessing import resource_tracker

        resource_tracker.unregister(shm._name, "shared_memory")
    return shm


_CREATED_HERE: set[str] = set()


class RingBuffer:
    """Ring of the most recent ``capacity`` samples of a stream.

    Parameters
    ----------
    n_channels : int
        Columns of ``SampleBlock.data``.
    capacity : int
        Samples kept (e.g. 60 s x fs).
    buffer : writable buffer, optional
        Storage to use (e.g. a SharedMemory's ``buf``); allocated privately when omitted.
    """

    def __init__(self, n_channels: int, capacity: int, buffer=None, *, _attach: bool = False):
        if capacity < 1 or n_channels < 1:
            raise ValueError(
                f"ring needs capacity >= 1 and n_channels >= 1, got {capacity}, {n_channels}"
            )
        self.capacity = int(capacity)
        self.n_channels = int(n_channels)
        size = _layout(self.capacity, self.n_channels)
        self._shm: shared_memory.SharedMemory | None = None
        self._buffer = bytearray(size) if buffer is None else buffer
        words = np.frombuffer(self._buffer, dtype=np.int64, count=size // 8)
        self._header = words[:_HEADER]
        cap, nc = self.capacity, self.n_channels
        o = _HEADER
        self.t_host = words[o : o + cap]
        self.t_device = words[o + cap : o + 2 * cap].view(np.float64)
        self.counter = words[o + 2 * cap : o + 3 * cap]
        self.data = words[o + 3 * cap : o + (3 + nc) * cap].view(np.float64).reshape(cap, nc)
        if _attach:
            if self._header[3] != _MAGIC or self._header[1] != cap or self._header[2] != nc:
                raise ValueError("shared memory block is not a ring of this shape")
        else:
            self._header[:] = (0, cap, nc, _MAGIC, 0)

    # --- shared memory ---------------------------------------------------------------------
    @classmethod
    def shared(cls, n_channels: int, capacity: int) -> RingBuffer:
        """A ring in a new shared-memory block; other processes :meth:`attach` by ``name``."""
        shm = shared_memory.SharedMemory(create=True, size=_layout(capacity, n_channels))
        _CREATED_HERE.add(shm.name)
        ring = cls(n_channels, capacity, shm.buf)
        ring._shm = shm
        return ring

    @classmethod
    def attach(cls, name: str) -> RingBuffer:
        """Map a ring created by :meth:`shared` in another process (read by its readers)."""
        shm = _attach_shm(name)
        header = np.frombuffer(shm.buf, dtype=np.int64, count=_HEADER)
        capacity, n_channels = int(header[1]), int(header[2])
        del header
        ring = cls(n_channels, capacity, shm.buf, _attach=True)
        ring._shm = shm
        return ring

    @property
    def name(self) -> str | None:
        """Shared-memory name, or None for a private ring."""
        return self._shm.name if self._shm else None

    def close(self, unlink: bool = False) -> None:
        """Release the mapping (and destroy the block when ``unlink`` and we created it)."""
        if self._shm is None:
            return
        self.t_host = self.t_device = self.counter = self.data = self._header = None  # drop views
        shm, self._shm = self._shm, None
        shm.close()
        if unlink:
            shm.unlink()

    # --- producer --------------------------------------------------------------------------
    @property
    def written(self) -> int:
        """Total samples pushed since creation."""
        return int(self._header[0])

    def push(self, block: SampleBlock) -> None:
        """Append ``block`` (only the last ``capacity`` rows survive a larger block)."""
        n = len(block)
        if n == 0:
            return
        if block.n_channels != self.n_channels:
            raise ValueError(f"block has {block.n_channels} channels, ring has {self.n_channels}")
        w = int(self._header[0])
        if n > self.capacity:
            block = block.slice(n - self.capacity, n)
            w += n - self.capacity
            n = self.capacity
        self._header[4] = w + n  # reserve: readers now distrust the slots about to change
        start = w % self.capacity
        first = min(n, self.capacity - start)
        for dst, src in (
            (self.t_host, block.t_host_ns),
            (self.t_device, block.t_device),
            (self.counter, block.counter),
            (self.data, block.data),
        ):
            dst[start : start + first] = src[:first]
            if first < n:
                dst[: n - first] = src[first:]
        self._header[0] = w + n  # publish only after the rows are in place

    # --- readers ---------------------------------------------------------------------------
    def _copy(self, start: int, stop: int) -> tuple[SampleBlock, int]:
        """Copy rows [start, stop) (absolute indices); return the block and rows lost to overrun."""
        n = stop - start
        if n <= 0:
            return SampleBlock.empty(self.n_channels), 0
        i0 = start % self.capacity
        idx = (np.arange(n) + i0) % self.capacity if i0 + n > self.capacity else slice(i0, i0 + n)
        block = SampleBlock(
            self.t_host[idx].copy(),
            self.t_device[idx].copy(),
            self.counter[idx].copy(),
            self.data[idx].copy(),
        )
        # Rows the producer may have overwritten (or be overwriting) while we copied: drop them.
        oldest_valid = int(self._header[4]) - self.capacity
        lost = max(0, oldest_valid - start)
        if lost:
            block = block.slice(min(lost, n), n)
        return block, min(lost, n)

    def latest(self, n: int) -> SampleBlock:
        """Copy of the newest ``n`` samples (fewer if not yet written). Does not consume."""
        w = self.written
        start = max(0, w - min(n, self.capacity))
        return self._copy(start, w)[0]

    def reader(self, from_start: bool = False) -> Reader:
        """A new reader: from the oldest sample still held, or (default) from now on."""
        w = self.written
        return Reader(self, max(0, w - self.capacity) if from_start else w)


class Reader:
    """One consumer's cursor into a :class:`RingBuffer`.

    Attributes
    ----------
    cursor : int
        Absolute index of the next sample this reader will get.
    overruns : int
        Samples this reader missed because it fell more than a buffer behind.
    """

    def __init__(self, ring: RingBuffer, cursor: int):
        self.ring = ring
        self.cursor = cursor
        self.overruns = 0

    @property
    def pending(self) -> int:
        """Samples written but not yet read (may exceed capacity: the excess is overrun)."""
        return self.ring.written - self.cursor

    def read(self, max_n: int | None = None) -> SampleBlock:
        """Everything new since the last read (at most ``max_n`` samples), oldest first."""
        w = self.ring.written
        oldest = w - self.ring.capacity
        if self.cursor < oldest:
            self.overruns += oldest - self.cursor
            self.cursor = oldest
        stop = w if max_n is None else min(w, self.cursor + max_n)
        block, lost = self.ring._copy(self.cursor, stop)
        self.overruns += lost
        self.cursor = stop
        return block
