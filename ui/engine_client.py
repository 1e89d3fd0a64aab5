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

from nmr_balance.engine import messages as m
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
    protocol_done = QtCore.Signal(object)  # messages.ProtocolDone
    failed = QtCore.Signal(object)  # messages.Error: message, hint, error_type
    died = QtCore.Signal(object)  # exit code
    # the record: the engine wrote what the console asked for
    patient_added = QtCore.Signal(str)  # code
    session_started = QtCore.Signal(int, str)  # session id, patient code
    trial_notes_saved = QtCore.Signal(int)  # trial id
    session_ended = QtCore.Signal(int)  # session id
    session_signed = QtCore.Signal(object)  # messages.SessionSigned

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
        self._handlers: dict[type, Callable[[Any], None]] = {
            m.Ready: self._on_ready,
            m.StatusChanged: lambda r: self.status_changed.emit(r.status, r.message),
            m.Stats: self._on_stats,
            m.TrialStarted: self._on_trial_started,
            m.TrialStopped: self._on_trial_stopped,
            m.TrialMetrics: lambda r: self.trial_metrics.emit(r.trial_id, r.metrics or {}),
            m.Notice: lambda r: self.notice.emit(r.message),
            m.Error: self.failed.emit,
            m.ProtocolStarted: lambda r: self.protocol_started.emit(r.facts),
            m.ProtocolDisplay: lambda r: self.protocol_display.emit(r.display),
            m.ProtocolEvent: lambda r: self.protocol_event.emit(r.event),
            m.ProtocolDone: self.protocol_done.emit,
            m.PatientAdded: lambda r: self.patient_added.emit(r.code),
            m.SessionStarted: lambda r: self.session_started.emit(r.session_id, r.patient),
            m.TrialNotesSaved: lambda r: self.trial_notes_saved.emit(r.trial_id),
            m.SessionEnded: lambda r: self.session_ended.emit(r.session_id),
            m.SessionSigned: self.session_signed.emit,
        }

    # --- life cycle ----------------------------------------------------------------------------
    def start(self, url: str | None = None) -> None:
        """Start the engine process (connecting ``url`` when given)."""
        self.url = url or self.url
        self._dead_reported = False
        if not self.host.alive:
            self.host.start(self.url)
        elif self.host.source_url != self.url:  # a host handed in, started on another source
            self.host.send(m.SwitchSource(self.url))
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
            self.host.send(m.SwitchSource(url))

    def send(self, command: m.Command) -> None:
        """Queue ``command`` for the engine (raises :class:`EngineStateError` when it is down)."""
        self.host.send(command)

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
            handler = self._handlers.get(type(msg))
            if handler is None:
                self.failed.emit(
                    m.Error(
                        f"the engine sent a message the dashboard does not know: {msg!r}",
                        "Update the dashboard and the engine together",
                        "EngineStateError",
                    )
                )
                continue
            handler(msg)
        if self.host.process is not None and not self.host.alive and not self._dead_reported:
            self._dead_reported = True
            self._timer.stop()
            self.died.emit(self.host.exitcode)

    def _on_ready(self, msg: m.Ready) -> None:
        if self._ring is not None:
            self._old_rings.append(self._ring)
        self._release_old_rings()
        self.info = StreamInfo.from_dict(msg.info)
        self.raw_info = StreamInfo.from_dict(msg.raw_info)
        self._ring = RingBuffer.attach(msg.processed_ring)
        self.feed = LiveFeed(self._ring, self.info, self.history_s, from_start=True)
        self.ready.emit(self.info)

    def _on_stats(self, msg: m.Stats) -> None:
        self.stats = dict(msg.stats)
        self.stats_changed.emit(self.stats)

    def _on_trial_started(self, msg: m.TrialStarted) -> None:
        self.trial_id = msg.trial_id
        self.trial_started.emit(msg.trial_id)

    def _on_trial_stopped(self, msg: m.TrialStopped) -> None:
        self.trial_id = None
        self.trial_stopped.emit(msg.trial_id, msg.status)


__all__ = ["EngineClient"]
