"""Serial transport (pyserial): a reader thread doing ``read(in_waiting or 1)``.

``read(in_waiting or 1)`` takes whatever has arrived in one call, so a busy process never falls
behind by reading one frame at a time (DESIGN.md §10). Shutdown is bounded: ``cancel_read`` wakes
the thread and the join waits at most ``JOIN_TIMEOUT_S``. Low-latency mode (the FTDI/CH34x
1 ms latency timer) is asked for when the port supports it; a pty or a plain UART refuses it,
and that is fine.
"""

from __future__ import annotations

import errno
import sys
import threading
import time

import serial

from drivers.transports.base import DataCallback, LostCallback, Transport
from nmr_balance.errors import (
    DeviceBusyError,
    DeviceNotFoundError,
    DevicePermissionError,
    SourceError,
)

JOIN_TIMEOUT_S = 1.0
#: Common rates, for error messages about a wrong ``baud=``.
COMMON_BAUDS = (9600, 57600, 115200, 230400, 460800, 921600)


def permission_hint(port: str) -> str:
    if sys.platform.startswith("linux"):
        return (
            f"Add yourself to the group that owns {port} (usually 'dialout'): "
            "`sudo usermod -aG dialout $USER`, then log out and back in"
        )
    return "Check that your user may open this port, or that no driver prompt is pending"


def open_error(port: str, exc: Exception) -> SourceError:
    """Translate a pyserial/OS error from opening ``port`` into a typed error with advice."""
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return DeviceNotFoundError(port)
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return DevicePermissionError(port, permission_hint(port))
    if code in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in text or "busy" in text:
        return DeviceBusyError(port)
    return SourceError(
        f"cannot open serial port {port} ({text})",
        "Check the port name; `nmr-balance devices` lists the serial ports",
    )


class SerialTransport(Transport):
    """Bytes from a serial port (USB-serial adapter, Arduino, ESP32, pty).

    Parameters
    ----------
    port : str
        Port path (``/dev/ttyUSB0``, ``COM3``, a pty or a symlink to one).
    baud : int
        Line rate (ignored by USB CDC boards and ptys, essential for UART adapters).
    exclusive : bool
        Lock the port so a second program gets a clear "busy" error.
    """

    def __init__(self, port: str, baud: int = 115200, exclusive: bool = True):
        self.address = port
        self.baud = baud
        self.exclusive = exclusive
        self.low_latency = False
        self.no_data_hint = (
            f"Check baud= (now {baud}; common: {', '.join(map(str, COMMON_BAUDS))}) and "
            "protocol= in the URL, and that the board is powered and streaming "
            "(`nmr-balance devices` guesses the protocol)"
        )
        self._serial: serial.Serial | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def connect(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        self.disconnect()
        try:
            port = serial.Serial(self.address, self.baud, timeout=0.1, exclusive=self.exclusive)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise open_error(self.address, exc) from None
        try:  # a USB adapter may shorten its latency timer; a pty refuses
            port.set_low_latency_mode(True)
            self.low_latency = True
        except (AttributeError, NotImplementedError, ValueError, OSError, serial.SerialException):
            self.low_latency = False
        port.reset_input_buffer()  # bytes queued before we came belong to nobody
        self._serial = port
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._reader,
            args=(port, on_data, on_lost),
            name=f"serial {self.address}",
            daemon=True,
        )
        self._thread.start()

    def _reader(self, port: serial.Serial, on_data: DataCallback, on_lost: LostCallback) -> None:
        while not self._stop.is_set():
            try:
                chunk = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                # TypeError/AttributeError: pyserial's fd vanished under a concurrent close
                if not self._stop.is_set():
                    on_lost(f"the serial port stopped working ({exc})")
                return
            if chunk:
                on_data(chunk, time.monotonic_ns())

    def write(self, data: bytes) -> None:
        if self._serial is None:
            raise SourceError(f"{self.address} is not open", "Open the source first")
        self._serial.write(data)

    def disconnect(self) -> None:
        self._stop.set()
        port, thread = self._serial, self._thread
        self._serial = self._thread = None
        if port is not None:
            try:
                port.cancel_read()
            except (serial.SerialException, OSError, AttributeError):
                pass
        if thread is not None and thread is not threading.current_thread():
            thread.join(JOIN_TIMEOUT_S)
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                pass
