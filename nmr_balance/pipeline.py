"""The acquisition pipeline: source -> raw ring -> stages -> processed (sway) ring.

One acquisition thread per source reads new samples, pushes them into the raw ring, runs the
stage chain on the chunk and pushes the result into the processed ring. Consumers (console view,
recorder, UI, protocol engine) each take their own :class:`~nmr_balance.ring.Reader` on either
ring and read at their own pace; nothing is pushed to them.

Doing the stages on the acquisition thread keeps byte -> processed latency to one hop; the
stages are Numba kernels on whole chunks, far cheaper than the time between chunks.
"""

from __future__ import annotations

import collections
import dataclasses
import queue
import sys
import threading
import time
from collections.abc import Callable

import numpy as np

from nmr_balance.errors import SourceError
from nmr_balance.frontend.stage import Stage, configure_chain, run_chain
from nmr_balance.ring import RingBuffer
from nmr_balance.source import Source, Status, StatusEvent
from nmr_balance.stream import StreamInfo

#: Seconds a read may block: bounds how long stop() waits for the thread.
READ_TIMEOUT_S = 0.05
#: Interpreter thread switch interval while a pipeline runs, s.
SWITCH_INTERVAL_S = 0.0005


@dataclasses.dataclass(frozen=True)
class PipelineStats:
    """Live figures for status bars and benchmarks.

    Attributes
    ----------
    status : str
        Source status (``streaming``, ``lost``...) or ``failed``.
    samples : int
        Processed samples produced so far.
    rate_hz : float
        Processed samples per second over the last ~2 s of wall time.
    dropped : int
        Samples known lost before processing: the counter gaps seen, or the source's own
        count when it is larger (sources that number samples across a gap count the same loss).
    latency_p50_ms, latency_p99_ms, latency_max_ms : float
        Host receive time -> processed sample available, over the last ``latency_window``
        samples (NaN before the first sample).
    """

    status: str
    samples: int
    rate_hz: float
    dropped: int
    latency_p50_ms: float
    latency_p99_ms: float
    latency_max_ms: float


class Pipeline:
    """Runs one source through the front-end stages on its own thread.

    Parameters
    ----------
    source : Source
        Opened or not; the pipeline opens it if needed and closes it on :meth:`close`.
    stages : list of Stage, optional
        The processing chain; default: :func:`nmr_balance.frontend.sensors.default_stages`.
    ring_seconds : float
        How much history each ring keeps.
    shared : bool
        Put the rings in shared memory (for a UI in another process).
    latency_window : int
        How many recent samples the latency percentiles cover.
    pull : bool
        No acquisition thread: the caller moves samples with :meth:`pump`, so a source faster
        than real time (``sim://?realtime=0``, a fast replay) goes exactly as fast as its
        consumer and never overruns the rings (headless runs and recordings by sample time).
    """

    def __init__(
        self,
        source: Source,
        stages: list[Stage] | None = None,
        *,
        ring_seconds: float = 120.0,
        shared: bool = False,
        latency_window: int = 8192,
        pull: bool = False,
    ):
        self.source = source
        self._stages = stages
        self._ring_seconds = ring_seconds
        self._shared = shared
        self.pull = pull
        self._pumping = False
        self.raw: RingBuffer | None = None
        self.processed: RingBuffer | None = None
        self.raw_info: StreamInfo | None = None
        self.info: StreamInfo | None = None
        self.error: BaseException | None = None
        self._events: queue.SimpleQueue[StatusEvent] = queue.SimpleQueue()
        self._calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latency = np.full(latency_window, np.nan)
        self._latency_n = 0
        self._last_counter: int | None = None
        self._gaps = 0
        self._rate_marks: collections.deque[tuple[float, int]] = collections.deque(maxlen=64)
        source.add_status_listener(self._events.put)

    @property
    def stages(self) -> list[Stage]:
        return list(self._stages or [])

    # --- life cycle ------------------------------------------------------------------------
    def start(self) -> Pipeline:
        """Open the source if needed, build the rings and start streaming."""
        if self._thread is not None:
            raise SourceError("this pipeline was already started", "Create a new Pipeline")
        if self.source.status is Status.IDLE:
            self.source.open()
        self.raw_info = self.source.info
        if self._stages is None:
            from nmr_balance.frontend.sensors import default_stages

            self._stages = default_stages(self.raw_info)
        self.info = configure_chain(self._stages, self.raw_info)
        make = RingBuffer.shared if self._shared else RingBuffer
        self.raw = make(self.raw_info.n_channels, self._capacity(self.raw_info.fs))
        self.processed = make(self.info.n_channels, self._capacity(self.info.fs))
        # The GIL hand-over interval bounds how long the UI or another thread can hold up the
        # acquisition thread; 0.5 ms halves the jitter measured with the default 5 ms (DESIGN §10).
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self.source.start()
        if self.pull:
            self._pumping = True
            return self
        self._thread = threading.Thread(
            target=self._run, name=f"acquire {self.source.url}", daemon=True
        )
        self._thread.start()
        return self

    def pump(self) -> int:
        """Pull mode: read one block from the source and process it, in the caller's thread.

        Returns the number of processed samples added (0 when the source had nothing yet or
        has ended: then :attr:`running` turns False).
        """
        if not self.pull:
            raise SourceError("pump() is for a pipeline made with pull=True", "Read its rings")
        if not self._pumping:
            return 0
        try:
            self._run_calls()
            block = self.source.read(timeout=READ_TIMEOUT_S)
            if not len(block):
                if self.source.ended:
                    self._pumping = False
                return 0
            before = self.processed.written
            self._process(block)
            return self.processed.written - before
        except BaseException as e:
            self.error = e
            self._pumping = False
            self._events.put(
                StatusEvent(Status.CLOSED, f"acquisition failed: {e}", time.monotonic())
            )
            raise

    def _capacity(self, fs: float) -> int:
        return max(1024, int(self._ring_seconds * fs))

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the thread (bounded wait) and the source. Safe to call twice."""
        self._stop.set()
        self._pumping = False
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise SourceError(
                    f"the acquisition thread for {self.source.url} did not stop in {timeout} s"
                )
        self.source.stop()

    def close(self) -> None:
        """Stop, close the source and release the rings' shared memory."""
        try:
            self.stop()
        finally:
            self.source.close()
            for ring in (self.raw, self.processed):
                if ring is not None:
                    ring.close(unlink=True)

    def __enter__(self) -> Pipeline:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def running(self) -> bool:
        if self.pull:
            return self._pumping
        return self._thread is not None and self._thread.is_alive()

    def call_soon(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the acquisition thread between chunks (e.g. ``stage.tare()``)."""
        self._calls.put(fn)

    def events(self) -> list[StatusEvent]:
        """Status events since the last call (connecting, streaming, lost, ended...)."""
        out = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def wait_for_samples(self, n: int, timeout: float) -> bool:
        """Block until ``n`` processed samples exist (True) or ``timeout`` s pass (False)."""
        deadline = time.monotonic() + timeout
        while self.processed is None or self.processed.written < n:
            if time.monotonic() > deadline or (self._thread and not self._thread.is_alive()):
                return self.processed is not None and self.processed.written >= n
            time.sleep(0.005)
        return True

    # --- the acquisition thread ------------------------------------------------------------
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._run_calls()
                block = self.source.read(timeout=READ_TIMEOUT_S)
                if len(block):
                    self._process(block)
                elif self.source.ended:
                    break
                self._mark_rate()
        except BaseException as e:  # reported through stats/events, never lost silently
            self.error = e
            self._events.put(
                StatusEvent(Status.CLOSED, f"acquisition failed: {e}", time.monotonic())
            )
        finally:
            self._run_calls()

    def _process(self, block) -> None:
        """Raw block -> raw ring, stages, processed ring (the acquisition step, either mode)."""
        self._count_gaps(block)
        self.raw.push(block)
        out = run_chain(self._stages, block)
        self.processed.push(out)
        if len(out):
            self._note_latency(time.monotonic_ns() - out.t_host_ns)

    def _run_calls(self) -> None:
        while True:
            try:
                fn = self._calls.get_nowait()
            except queue.Empty:
                return
            fn()

    def _count_gaps(self, block) -> None:
        self._gaps += block.gaps(self._last_counter)
        self._last_counter = int(block.counter[-1])

    def _note_latency(self, latency_ns: np.ndarray) -> None:
        size = len(self._latency)
        lat = latency_ns[-size:] * 1e-6
        i = self._latency_n % size
        first = min(len(lat), size - i)
        self._latency[i : i + first] = lat[:first]
        self._latency[: len(lat) - first] = lat[first:]
        self._latency_n += len(lat)

    def _mark_rate(self) -> None:
        now = time.monotonic()
        if not self._rate_marks or now - self._rate_marks[-1][0] >= 0.1:
            self._rate_marks.append((now, self.processed.written))

    # --- figures ---------------------------------------------------------------------------
    def stats(self) -> PipelineStats:
        lat = self._latency[: min(self._latency_n, len(self._latency))]
        if len(lat):
            p50, p99 = np.percentile(lat, [50, 99])
            mx = float(lat.max())
        else:
            p50 = p99 = mx = float("nan")
        rate = float("nan")
        marks = list(self._rate_marks)
        if len(marks) >= 2:
            now_t, now_n = marks[-1]
            old = next((m for m in marks if now_t - m[0] <= 2.0), marks[0])
            if now_t > old[0]:
                rate = (now_n - old[1]) / (now_t - old[0])
        status = "failed" if self.error else self.source.status.value
        return PipelineStats(
            status=status,
            samples=self.processed.written if self.processed else 0,
            rate_hz=rate,
            # a source that fills counter gaps in counts them too (DeviceSource): not twice
            dropped=max(self._gaps, self.source.dropped),
            latency_p50_ms=float(p50),
            latency_p99_ms=float(p99),
            latency_max_ms=mx,
        )
