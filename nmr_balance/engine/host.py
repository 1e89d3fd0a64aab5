"""The UI side of the engine: starts the engine process, sends it commands, collects replies.

The engine process itself runs :class:`nmr_balance.engine.loop.EngineLoop`; what travels between
them is defined in :mod:`nmr_balance.engine.messages`.
"""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from typing import Any

from nmr_balance.engine import messages as m
from nmr_balance.errors import EngineStateError


class EngineHost:
    """The UI side: starts the engine process, sends commands, collects replies.

    Parameters
    ----------
    entry : callable
        Module-level function run in the new process as ``entry(commands, replies, source_url,
        **options)`` (e.g. :func:`nmr_balance.app.engine_process.run_engine`); it must be
        importable by name, since the process is *spawned*.
    options : dict
        Extra keyword arguments for ``entry`` (e.g. ``store_path``); picklable.
    """

    def __init__(self, entry: Callable[..., None], **options: Any):
        self.entry = entry
        self.options = options
        self._ctx = multiprocessing.get_context("spawn")
        self.process = None
        self.commands = None
        self.replies = None
        self.source_url: str | None = None

    def start(self, source_url: str | None = None) -> None:
        """Start (or restart) the engine process, optionally connecting ``source_url``."""
        if self.alive:
            raise EngineStateError(
                "the engine is already running", "Stop it before starting it again"
            )
        self.source_url = source_url
        self.commands = self._ctx.Queue()
        self.replies = self._ctx.Queue()
        self.process = self._ctx.Process(
            target=self.entry,
            name="nmr-balance engine",
            daemon=True,
            args=(self.commands, self.replies, source_url),
            kwargs=self.options,
        )
        self.process.start()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.is_alive()

    @property
    def exitcode(self) -> int | None:
        return None if self.process is None else self.process.exitcode

    def send(self, command: m.Command) -> None:
        """Queue one command (:mod:`nmr_balance.engine.messages`) for the engine; never blocks."""
        m.check_command(command)
        if not self.alive:
            raise EngineStateError("the engine is not running", "Restart the engine")
        self.commands.put(command)

    def poll(self, max_messages: int = 1000) -> list[m.Reply]:
        """Replies received so far (never blocks)."""
        out = []
        if self.replies is None:
            return out
        for _ in range(max_messages):
            try:
                out.append(self.replies.get_nowait())
            except (queue.Empty, EOFError, OSError):
                break
        return out

    def wait_for(
        self, kind: type[m.Reply], timeout: float = 30.0
    ) -> tuple[m.Reply | None, list[m.Reply]]:
        """Block until a reply of type ``kind`` arrives; return it and every reply seen meanwhile
        (None if the engine died or ``timeout`` s passed)."""
        seen: list[m.Reply] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.replies.get(timeout=0.05)
            except queue.Empty:
                if not self.alive:
                    break
                continue
            seen.append(msg)
            if isinstance(msg, kind):
                return msg, seen
        return None, seen

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the engine to finish (it closes the trial and the source), then make sure."""
        if self.alive:
            try:
                self.commands.put(m.Shutdown())
            except (OSError, ValueError):
                pass
            self.process.join(timeout)
        if self.process is not None and self.process.is_alive():
            self.process.terminate()
            self.process.join(1.0)
        for q in (self.commands, self.replies):
            if q is not None:
                q.cancel_join_thread()
                q.close()
        self.commands = self.replies = None


__all__ = ["EngineHost"]
