"""The source interface: anything that delivers samples (sensor, simulator, replay).

Life cycle::

    with open_source("sim://?rate=100") as src:   # open(): connect, learn the StreamInfo
        src.start()                               # begin streaming
        block = src.read(timeout=0.1)             # new samples since the last read
        src.stop()
                                                  # close() on leaving the with-block

Status changes (connecting, streaming, lost, reconnecting, closed...) go to listeners added
with :meth:`Source.add_status_listener`; they are called from the source's own thread, so a
listener must be quick and thread-safe (append to a queue, set a flag).
"""

from __future__ import annotations

import abc
import dataclasses
import enum
import threading
import time
from collections.abc import Callable

from nmr_balance.errors import SourceStateError
from nmr_balance.instruction import Instruction
from nmr_balance.stream import SampleBlock, StreamInfo


class Status(str, enum.Enum):
    """Connection state of a source."""

    IDLE = "idle"  # created, not opened
    CONNECTING = "connecting"  # open() in progress
    CONNECTED = "connected"  # open, not streaming
    STREAMING = "streaming"  # samples flowing
    LOST = "lost"  # device went away; a reconnect may follow
    RECONNECTING = "reconnecting"  # trying to get the device back
    ENDED = "ended"  # a finite source (replay, timed simulation) delivered all
    CLOSED = "closed"  # closed for good


@dataclasses.dataclass(frozen=True)
class StatusEvent:
    """One status change: the new status, a message for people and when (monotonic s)."""

    status: Status
    message: str
    t_monotonic: float


StatusListener = Callable[[StatusEvent], None]


class Source(abc.ABC):
    """Base class of every source. Subclasses implement the ``_do_*`` hooks.

    The base class enforces the life cycle (clear :class:`SourceStateError` on misuse), makes
    ``stop`` and ``close`` idempotent, and dispatches status events.

    Attributes
    ----------
    url : str
        The URL the source was opened with.
    info : StreamInfo
        Valid after :meth:`open`.
    dropped : int
        Samples known to be lost before reaching :meth:`read` (decoder drops, gaps).
    host_time_is_receipt : bool
        The blocks' ``t_host_ns`` is when this process received each sample, so host time ->
        processed latency means something. A replay keeps the recorded host times instead.
    """

    host_time_is_receipt = True

    def __init__(self, url: str):
        self.url = url
        self.info: StreamInfo | None = None
        self.dropped = 0
        self._status = Status.IDLE
        self._listeners: list[StatusListener] = []
        self._lock = threading.Lock()

    # --- public API --------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        return self._status

    def add_status_listener(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def open(self) -> StreamInfo:
        """Connect to the device and learn its stream description."""
        if self._status not in (Status.IDLE,):
            raise SourceStateError("open", self._status.value, "a new source (sources open once)")
        self._set_status(Status.CONNECTING, f"connecting to {self.url}")
        try:
            self.info = self._do_open()
        except BaseException:
            self._set_status(Status.CLOSED, f"could not open {self.url}")
            raise
        self._set_status(Status.CONNECTED, f"connected to {self.info.device or self.url}")
        return self.info

    def start(self) -> None:
        """Begin streaming."""
        if self._status is Status.IDLE:
            self.open()
        if self._status is Status.STREAMING:
            return
        if self._status in (Status.LOST, Status.RECONNECTING):
            # the device went away between open() and start(): deliver once it is back
            self._do_start()
            return
        if self._status is not Status.CONNECTED:
            raise SourceStateError("start", self._status.value, "open()")
        self._do_start()
        self._set_status(Status.STREAMING, f"streaming {self.info.fs:g} Hz from {self.url}")

    def read(self, timeout: float | None = 0.1) -> SampleBlock:
        """Return the samples that arrived since the last call (possibly none).

        Blocks up to ``timeout`` seconds for at least one sample. While the device is lost or
        reconnecting it returns an empty block (the gap shows in the counters afterwards).
        """
        if self._status in (Status.IDLE, Status.CONNECTING, Status.CONNECTED):
            raise SourceStateError("read from", self._status.value, "start()")
        if self._status is Status.CLOSED:
            raise SourceStateError("read from", "closed", "open a new source")
        if self._status is Status.ENDED:
            return SampleBlock.empty(self.info.n_channels)
        return self._do_read(timeout)

    @property
    def ended(self) -> bool:
        """True when a finite source has delivered everything (or the source was closed)."""
        return self._status in (Status.ENDED, Status.CLOSED)

    def instruct(self, instruction: Instruction) -> None:  # noqa: B027 (a hook most ignore)
        """Hear what the running protocol asks of the patient (see :mod:`nmr_balance.instruction`).

        A real sensor ignores it: the patient reads the screen, not the device. The simulated
        board plays the patient and responds. Called from the thread that drives the protocol;
        an implementation must be quick and thread-safe.
        """

    def stop(self) -> None:
        """Stop streaming; the source stays open and can be started again."""
        if self._status in (Status.STREAMING, Status.LOST, Status.RECONNECTING, Status.ENDED):
            self._do_stop()
            self._set_status(Status.CONNECTED, "stopped")

    def close(self) -> None:
        """Release the device. Safe to call more than once."""
        if self._status is Status.CLOSED:
            return
        try:
            if self._status in (Status.STREAMING, Status.LOST, Status.RECONNECTING, Status.ENDED):
                self._do_stop()
        finally:
            try:
                self._do_close()
            finally:
                self._set_status(Status.CLOSED, f"closed {self.url}")

    def __enter__(self) -> Source:
        if self._status is Status.IDLE:
            self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- for subclasses ----------------------------------------------------------------------
    def _set_status(self, status: Status, message: str = "") -> None:
        with self._lock:
            if status is self._status and status is not Status.LOST:
                return
            self._status = status
        event = StatusEvent(status, message or status.value, time.monotonic())
        for listener in list(self._listeners):
            listener(event)

    def _mark_ended(self, message: str = "end of stream") -> None:
        self._set_status(Status.ENDED, message)

    @abc.abstractmethod
    def _do_open(self) -> StreamInfo: ...

    @abc.abstractmethod
    def _do_start(self) -> None: ...

    @abc.abstractmethod
    def _do_read(self, timeout: float | None) -> SampleBlock: ...

    # Optional hooks: a source with nothing to stop or release keeps these no-ops.
    def _do_stop(self) -> None:  # noqa: B027 (optional hook, not abstract on purpose)
        pass

    def _do_close(self) -> None:  # noqa: B027 (optional hook, not abstract on purpose)
        pass
