"""A Source made of a transport (bytes) and a decoder (samples), with reconnection.

The transport's thread hands each chunk to the decoder at once, so every sample gets the host
time of the chunk that completed it; :meth:`DeviceSource.read` only collects finished blocks.
When the device disappears the status goes ``lost``, a reconnect thread retries with backoff
(``reconnecting``) and, once the device is back, ``streaming`` again. The gap stays visible:
devices with a counter keep theirs (a restarted device is rebased past the gap), devices without
one get the missing samples counted from their clock, or else estimated from host time, added to
the counter, and the gap is counted in :attr:`Source.dropped`. The same holds mid-stream with
the link up: a jump of the device clock, or (no clock) a long silence, is a gap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from drivers.decoding import Decoded, Decoder
from drivers.transports.base import Transport
from nmr_balance.errors import ConnectionLostError, NoDataError
from nmr_balance.source import Source, Status
from nmr_balance.stream import SampleBlock, StreamInfo

#: Waits between reconnection attempts, s (the last one repeats). A re-plugged cable or a board
#: that reset is usually back within 1-2 s and a failed attempt costs next to nothing, so the
#: first 2 s are polled every 0.25 s (with 0.1, 0.25, 0.5, 1... the unplug drill measured 0.85 s
#: from a pty's return to streaming); then it backs off.
BACKOFF_S = (0.1,) + (0.25,) * 7 + (0.5, 1.0, 2.0, 5.0)


#: A step of the device clock longer than this (s, and than :data:`GAP_PERIODS` sample periods)
#: is a gap: ``round(step * fs) - 1`` samples are missing. Shorter irregularities are the
#: device's own jitter (a 10 Hz HX711 board run at a nominal 80 Hz steps 0.1 s every sample).
CLOCK_GAP_S = 0.25
GAP_PERIODS = 2.5
#: Without a counter or a clock, host-side silence this long (s, and >= 10 sample periods) that
#: is followed by fewer than half the samples it should have held is a gap. A host that was
#: merely busy finds the samples waiting in the port's buffer, so it is not mistaken for one.
HOST_SILENCE_S = 1.0


class SampleCounter:
    """Gives decoded samples their stream counter and host time, keeping gaps visible.

    Where the gaps come from, best first: the device's counter; else the device's clock (a step
    longer than :data:`CLOCK_GAP_S`); else host time (after a link loss, or a silence longer
    than :data:`HOST_SILENCE_S` with the link up).

    Parameters
    ----------
    fs : float
        Nominal rate, Hz, to estimate how many samples a gap swallowed.
    """

    def __init__(self, fs: float):
        self.fs = fs
        self.next: int | None = None
        self.offset = 0
        self.last_t_ns: int | None = None
        self.last_t_device = np.nan
        self.after_gap = False
        self.gap_samples = 0
        self._clock_gap_s = max(CLOCK_GAP_S, GAP_PERIODS / fs)
        self._silence_s = max(HOST_SILENCE_S, 10.0 / fs)

    def mark_gap(self) -> None:
        """The link dropped: the next samples come after an unknown number of lost ones."""
        self.after_gap = True

    def _host_missing(self, n: int, t_ns: int, silence: bool) -> int:
        """Samples that the host's clock says are missing before these ``n``."""
        if self.last_t_ns is None:
            return 0
        expected = round((t_ns - self.last_t_ns) * 1e-9 * self.fs)
        if self.after_gap:
            return max(0, expected - n)
        if silence and (t_ns - self.last_t_ns) * 1e-9 > self._silence_s and n < expected / 2:
            return expected - n
        return 0

    def _clock_missing(self, t_device: np.ndarray) -> np.ndarray:
        """Per sample, how many samples the device clock says are missing just before it."""
        steps = np.diff(t_device, prepend=self.last_t_device)
        big = steps > self._clock_gap_s  # NaN (no previous time) is no gap
        return np.where(big, np.round(np.where(big, steps, 0.0) * self.fs) - 1, 0).astype(np.int64)

    def block(self, decoded: Decoded, t_ns: int) -> SampleBlock:
        n = len(decoded)
        clock = decoded.counter is None and bool(np.isfinite(decoded.t_device).all())
        missing = self._host_missing(n, t_ns, silence=decoded.counter is None and not clock)
        if decoded.counter is not None:
            counter = decoded.counter + self.offset
            # a counter that went back, or that claims far fewer lost samples than the host's
            # clock saw go by, belongs to a device that restarted: continue past the gap
            if self.next is not None and counter[0] < self.next + missing // 2:
                self.offset += self.next + missing - counter[0]
                counter = decoded.counter + self.offset
        else:
            start = 0 if self.next is None else self.next
            extra = np.zeros(n, np.int64)
            if clock:
                extra = self._clock_missing(decoded.t_device)
                self.last_t_device = float(decoded.t_device[-1])
            if self.next is not None:  # the device clock or the host, whichever saw more
                extra[0] = max(extra[0], missing)
            counter = start + np.arange(n, dtype=np.int64) + np.cumsum(extra)
        first = counter[0] if self.next is None else self.next
        self.gap_samples += int(counter[-1] - first + 1 - n)  # between and within blocks
        self.next = int(counter[-1]) + 1
        self.last_t_ns = t_ns
        self.after_gap = False
        return SampleBlock(np.full(n, t_ns, np.int64), decoded.t_device, counter, decoded.data)


class DeviceSource(Source):
    """Source over a :class:`Transport` and a :class:`Decoder`.

    Parameters
    ----------
    url : str
        The URL it was opened with (becomes ``StreamInfo.source``).
    transport : Transport
        Moves the bytes.
    decoder : Decoder
        Turns them into samples; ``stream_info`` must be known after the first valid frames.
    open_timeout_s : float
        How long :meth:`open` waits for the first valid sample (an Arduino resets when the port
        opens and stays silent 1-2 s; nmr boards send their descriptor every 2 s at most).
    reconnect : bool
        Retry after a loss (otherwise the source stays ``lost``).
    on_connect : callable, optional
        ``on_connect(transport)`` after each successful connect (e.g. configuration commands).
    """

    def __init__(
        self,
        url: str,
        transport: Transport,
        decoder: Decoder,
        open_timeout_s: float = 5.0,
        reconnect: bool = True,
        on_connect: Callable[[Transport], None] | None = None,
    ):
        super().__init__(url)
        self.transport = transport
        self.decoder = decoder
        self.open_timeout_s = open_timeout_s
        self.reconnect = reconnect
        self.on_connect = on_connect
        self.losses = 0
        self._cond = threading.Condition()
        self._blocks: list[SampleBlock] = []
        self._delivering = False
        self._first_sample = threading.Event()
        self._closing = threading.Event()
        self._counter: SampleCounter | None = None
        self._reconnector: threading.Thread | None = None

    # --- Source hooks ---------------------------------------------------------------------
    def _do_open(self) -> StreamInfo:
        try:
            self._connect()
            if not self._first_sample.wait(self.open_timeout_s):
                raise NoDataError(
                    self.transport.address, self.open_timeout_s, self.transport.no_data_hint
                )
        except BaseException:
            self._closing.set()  # no reconnect thread may outlive a failed open
            self.transport.disconnect()
            raise
        info = self.decoder.stream_info(self.url)
        sensor = getattr(self.transport, "sensor_id", None)
        if sensor:  # which sensor of several alike this stream is, kept with the recording
            info = info.replace(geometry={**info.geometry, "sensor_id": sensor})
        return info

    def _do_start(self) -> None:
        with self._cond:
            self._blocks.clear()
            self._delivering = True

    def _do_read(self, timeout: float | None) -> SampleBlock:
        with self._cond:
            if not self._blocks and timeout != 0:
                self._cond.wait(timeout)
            blocks, self._blocks = self._blocks, []
        return SampleBlock.concat(blocks, self.info.n_channels)

    def _do_stop(self) -> None:
        with self._cond:
            self._delivering = False
            self._blocks.clear()

    def _do_close(self) -> None:
        self._closing.set()
        self.transport.disconnect()
        if self._reconnector is not None:
            self._reconnector.join(2.0)
        with self._cond:
            self._cond.notify_all()

    # --- transport callbacks (transport thread) ----------------------------------------------
    def _on_data(self, chunk: bytes, t_ns: int) -> None:
        with self._cond:
            decoded = self.decoder.feed(chunk)
            if not len(decoded):
                return
            if self._counter is None:
                info = self.decoder.stream_info(self.url)
                if info is None:
                    return
                self._counter = SampleCounter(info.fs)
            before = self._counter.gap_samples
            block = self._counter.block(decoded, t_ns)
            self.dropped += self._counter.gap_samples - before
            self._first_sample.set()
            if self._delivering:
                self._blocks.append(block)
                self._cond.notify_all()

    def _on_lost(self, reason: str) -> None:
        if self._closing.is_set():
            return
        self.losses += 1
        if self._counter is not None:
            self._counter.mark_gap()
        self._set_status(Status.LOST, str(ConnectionLostError(self.transport.address, reason)))
        if self.reconnect:
            self._reconnector = threading.Thread(
                target=self._reconnect_loop, daemon=True, name=f"reconnect {self.transport.address}"
            )
            self._reconnector.start()

    # --- helpers ------------------------------------------------------------------------------
    def _connect(self) -> None:
        self.decoder.reset_buffer()
        self.transport.connect(self._on_data, self._on_lost)
        if self.on_connect is not None:
            self.on_connect(self.transport)

    def _reconnect_loop(self) -> None:
        for attempt in range(10**9):
            wait = BACKOFF_S[min(attempt, len(BACKOFF_S) - 1)]
            if self._closing.wait(wait):
                return
            self._set_status(
                Status.RECONNECTING,
                f"reconnecting to {self.transport.address} (attempt {attempt + 1})",
            )
            try:
                self._connect()
            except Exception:
                continue
            if self._closing.is_set():
                self.transport.disconnect()
                return
            back = Status.STREAMING if self._delivering else Status.CONNECTED
            self._set_status(back, f"{self.transport.address} is back")
            return

    def stats(self) -> dict:
        """Decoder and link counters, for status displays and tests."""
        d = self.decoder
        return {
            "good_frames": d.good_frames,
            "bad_frames": d.bad_frames,
            "skipped_bytes": d.skipped_bytes,
            "gap_samples": self.dropped,
            "losses": self.losses,
        }
