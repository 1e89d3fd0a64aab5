"""The UI's view of a processed (sway) ring: fixed-size history arrays refreshed by pulling.

Qt-free on purpose, so frame logic can be benchmarked and tested without a window. Each
:meth:`LiveFeed.pull` reads what is new with the feed's own ring reader and shifts it into
preallocated arrays of the last ``history_s`` seconds; nothing is allocated per sample and
nothing is pushed to the UI.
"""

from __future__ import annotations

import numpy as np

from nmr_balance.ring import RingBuffer
from nmr_balance.stream import SampleBlock, StreamInfo, sample_time


class LiveFeed:
    """Rolling history of the sway stream ``x``, ``y``, ``fz`` read from a ring.

    Parameters
    ----------
    ring : RingBuffer or None
        The processed ring (attached from the engine's shared memory, or a local one); None
        for a feed filled with :meth:`push` only (replay).
    info : StreamInfo
        Its description (channels ``x``, ``y`` and maybe ``fz``).
    history_s : float
        Seconds kept for the time series.

    Attributes
    ----------
    t : ndarray, shape (capacity,)
        Sample time, s (device time when the device has a clock, else counter / fs); NaN where
        nothing has arrived yet. The newest sample is last.
    xy : ndarray, shape (capacity, 2)
        Sway position (mm or deg).
    fz : ndarray, shape (capacity,)
        Vertical load, N (NaN for tilt sources).
    counter : ndarray of int64, shape (capacity,)
    total : int
        Samples received since the feed was made (or last cleared).
    clears : int
        How many times :meth:`clear` was called (consumers keeping state restart on a change).
    missed : int
        Samples the feed itself skipped (it fell more than a ring behind).
    """

    def __init__(
        self,
        ring: RingBuffer | None,
        info: StreamInfo,
        history_s: float = 30.0,
        from_start: bool = False,
    ):
        self.ring = ring
        self.info = info
        self.capacity = max(16, round(history_s * info.fs))
        self.t = np.full(self.capacity, np.nan)
        self.xy = np.full((self.capacity, 2), np.nan)
        self.fz = np.full(self.capacity, np.nan)
        self.counter = np.full(self.capacity, -1, np.int64)
        self.total = 0
        self.clears = 0
        self.last_t_host_ns = 0
        self._fz_col = info.index("fz") if "fz" in info.channel_names else None
        self.reader = ring.reader(from_start=from_start) if ring is not None else None

    @property
    def missed(self) -> int:
        return self.reader.overruns if self.reader is not None else 0

    @property
    def filled(self) -> int:
        """How many of the history slots hold samples."""
        return min(self.total, self.capacity)

    def pull(self) -> SampleBlock:
        """Take in everything new; return it (what arrived since the last pull)."""
        block = self.reader.read()
        self.push(block)
        return block

    def push(self, block: SampleBlock) -> None:
        """Shift ``block`` into the history (also used by replay, which has no ring)."""
        n = len(block)
        if n == 0:
            return
        times = sample_time(block, self.info)
        if n >= self.capacity:
            block, times, n = (
                block.slice(n - self.capacity, n),
                times[-self.capacity :],
                self.capacity,
            )
        keep = self.capacity - n
        for dst, src in (
            (self.t, times),
            (self.fz, block.data[:, self._fz_col] if self._fz_col is not None else None),
            (self.counter, block.counter),
            (self.xy, block.data[:, :2]),
        ):
            dst[:keep] = dst[n:]
            dst[keep:] = np.nan if src is None else src
        self.total += n
        self.last_t_host_ns = int(block.t_host_ns[-1])

    def clear(self) -> None:
        """Forget the history (e.g. at the start of a trial or a replay seek)."""
        for a in (self.t, self.xy, self.fz):
            a[:] = np.nan
        self.counter[:] = -1
        self.total = 0
        self.clears += 1

    def recent(self, seconds: float) -> slice:
        """Slice of the history covering the newest ``seconds``."""
        n = min(self.filled, max(1, round(seconds * self.info.fs)))
        return slice(self.capacity - n, self.capacity)


__all__ = ["LiveFeed"]
