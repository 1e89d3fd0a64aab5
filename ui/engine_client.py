"""The UI's handle on the engine process: turns its replies into Qt signals, maps its rings.

The engine (acquisition, DSP, recorder) runs in its own process (DESIGN.md §2). This object
polls its reply queue on a timer, attaches the shared-memory processed ring when the engine
says ``ready`` and offers a :class:`~ui.live_feed.LiveFeed` on it. When the engine process
dies, :attr:`died` fires; the attached ring stays mapped, so the trace on screen is kept, and
:meth:`restart` brings the engine back on the same source.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6 import QtCore

from nmr_balance.engine.host import EngineHost
from nmr_balance.ring import RingBuffer
from nmr_balance.stream import StreamInfo
from ui.live_feed import LiveFeed


class EngineClient(QtCore.QObject):
    """Qt front of an :class:`EngineHost`.

    Parameters
    ----------
    entry : callable
        The engine process's entry (given by the composition root).
    history_s : float
        Seconds of history the live feed keeps.
    host : EngineHost, optional
        An engine already started (``nmr-balance live`` starts it before importing Qt, so the
        engine's start-up overlaps the window's); by default a new one on ``entry``.
    options
        Passed to the entry (e.g. ``store_path``).
    """

    ready = QtCore.Signal(object)  # StreamInfo of the processed stream
    status_changed = QtCore.Signal(str, str)  # status, message
    stats_changed = QtCore.Signal(dict)
    trial_started = QtCore.Signal(int)
    trial_stopped = QtCore.Signal(int, str)
    trial_metrics = QtCore.Signal(int, dict)
    notice = QtCore.Signal(str)
    protocol_started = QtCore.Signal(dict)  # title, level, level_reason, los_origin, n_trials...
    protocol_display = QtCore.Signal(dict)  # what the patient screen shows now
    protocol_event = QtCore.Signal(dict)  # Event.to_dict(): kind, t_s, trial, data
    protocol_done = QtCore.Signal(dict)  # phase, results, summary, trial_ids, los_path
    failed = QtCore.Signal(dict)  # an error reply: message, hint, error_type
    died = QtCore.Signal(object)  # exit code

    def __init__(
        self,
        entry: Callable[..., None],
        history_s: float = 30.0,
        host: EngineHost | None = None,
        **options: Any,
    ):
        super().__init__()
        self.host = host if host is not None else EngineHost(entry, **options)
        self.history_s = history_s
        self.url: str | None = None
        self.info: StreamInfo | None = None
        self.raw_info: StreamInfo | None = None
        self.feed: LiveFeed | None = None
        self.stats: dict[str, Any] = {}
        self.trial_id: int | None = None
        self._ring: RingBuffer | None = None
        self._old_rings: list[RingBuffer] = []
        self._dead_reported = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.poll)

    # --- life cycle ----------------------------------------------------------------------------
    def start(self, url: str | None = None) -> None:
        """Start the engine process (connecting ``url`` when given)."""
        self.url = url or self.url
        self._dead_reported = False
        if not self.host.alive:
            self.host.start(self.url)
        elif self.host.source_url != self.url:  # a host handed in, started on another source
            self.host.send("switch_source", url=self.url)
        self._timer.start()

    def restart(self) -> None:
        """Start a new engine after a crash, on the same source."""
        self.host.stop(timeout=1.0)
        self.trial_id = None
        self.start(self.url)

    def connect_source(self, url: str) -> None:
        """Switch the engine to ``url`` (starting the engine if needed)."""
        if not self._timer.isActive() or not self.host.alive:
            self.start(url)
        else:
            self.url = url
            self.host.send("switch_source", url=url)

    def send(self, cmd: str, **args: Any) -> None:
        self.host.send(cmd, **args)

    @property
    def alive(self) -> bool:
        return self.host.alive

    def close(self) -> None:
        """Stop the engine (closing any trial) and unmap the rings."""
        self._timer.stop()
        self.host.stop()
        self.poll()
        if self._ring is not None:
            self._old_rings.append(self._ring)
        self._ring, self.feed = None, None
        self._release_old_rings()

    def _release_old_rings(self) -> None:
        """Unmap rings of earlier sources (kept while something still holds a view into them)."""
        kept = []
        for ring in self._old_rings:
            try:
                ring.close()
            except BufferError:
                kept.append(ring)
        self._old_rings = kept

    # --- replies ---------------------------------------------------------------------------
    def poll(self) -> None:
        """Dispatch the engine's replies; notice its death."""
        for msg in self.host.poll():
            handler = getattr(self, f"_on_{msg.get('kind')}", None)
            if handler is not None:
                handler(msg)
        if self.host.process is not None and not self.host.alive and not self._dead_reported:
            self._dead_reported = True
            self._timer.stop()
            self.died.emit(self.host.exitcode)

    def _on_ready(self, msg: dict) -> None:
        if self._ring is not None:
            self._old_rings.append(self._ring)
        self._release_old_rings()
        self.info = StreamInfo.from_dict(msg["info"])
        self.raw_info = StreamInfo.from_dict(msg["raw_info"])
        self._ring = RingBuffer.attach(msg["processed_ring"])
        self.feed = LiveFeed(self._ring, self.info, self.history_s, from_start=True)
        self.ready.emit(self.info)

    def _on_status(self, msg: dict) -> None:
        self.status_changed.emit(msg["status"], msg.get("message", ""))

    def _on_stats(self, msg: dict) -> None:
        self.stats = {k: v for k, v in msg.items() if k != "kind"}
        self.stats_changed.emit(self.stats)

    def _on_trial_started(self, msg: dict) -> None:
        self.trial_id = msg["trial_id"]
        self.trial_started.emit(msg["trial_id"])

    def _on_trial_stopped(self, msg: dict) -> None:
        self.trial_id = None
        self.trial_stopped.emit(msg["trial_id"], msg["status"])

    def _on_trial_metrics(self, msg: dict) -> None:
        self.trial_metrics.emit(msg["trial_id"], msg.get("metrics") or {})

    def _on_notice(self, msg: dict) -> None:
        self.notice.emit(msg["message"])

    def _on_protocol_started(self, msg: dict) -> None:
        self.protocol_started.emit(msg)

    def _on_protocol_display(self, msg: dict) -> None:
        self.protocol_display.emit(msg["display"])

    def _on_protocol_event(self, msg: dict) -> None:
        self.protocol_event.emit(msg["event"])

    def _on_protocol_done(self, msg: dict) -> None:
        self.protocol_done.emit(msg)

    def _on_error(self, msg: dict) -> None:
        self.failed.emit(msg)


__all__ = ["EngineClient"]
