"""What a transport is: something that moves bytes from a device, on its own thread.

A transport knows nothing about frames. :meth:`Transport.connect` opens the device (raising
the typed errors of :mod:`nmr_balance.errors` with advice) and from then on hands every chunk of
bytes to ``on_data(chunk, t_host_ns)`` and a loss of the device, once, to ``on_lost(reason)``,
both from the transport's own thread. :meth:`Transport.disconnect` is bounded in time and may
be called more than once. After a loss, :meth:`connect` may be called again (reconnection).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

DataCallback = Callable[[bytes, int], None]
LostCallback = Callable[[str], None]


class Transport(abc.ABC):
    """Base class of the byte transports (serial, BLE, evdev)."""

    #: Where the device is, as the user wrote it (port path, BLE address or name).
    address: str = ""
    #: Advice for a stream that opens but carries no valid frame (wrong baud, wrong protocol).
    no_data_hint: str | None = None

    @abc.abstractmethod
    def connect(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        """Open the device and start delivering bytes; raise a typed SourceError on failure."""

    def write(self, data: bytes) -> None:
        """Send bytes to the device (configuration commands)."""
        raise NotImplementedError(f"{type(self).__name__} cannot send to the device")

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Stop delivering and release the device (bounded, idempotent)."""
