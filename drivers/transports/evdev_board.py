"""Wii Balance Board through Linux evdev (the kernel's hid-wiimote driver). Linux only.

The transport reads raw ``struct input_event`` records from ``/dev/input/eventN`` (24 bytes on
64-bit Linux: time, type u16, code u16, value s32), so it needs no extra package; boards are
found by name in ``/sys/class/input``. The decoder turns the records into samples with
:class:`~drivers.protocols.wii.WiiEventAssembler`. If ``/dev/input/eventN`` is not readable the
error says to add a udev rule or join the ``input`` group.
"""

from __future__ import annotations

import errno
import os
import select
import struct
import sys
import threading
import time
from pathlib import Path

import numpy as np

from drivers.decoding import Decoded, Decoder
from drivers.protocols.wii import WiiEventAssembler, wii_info
from drivers.transports.base import DataCallback, LostCallback, Transport
from nmr_balance.errors import DeviceNotFoundError, DevicePermissionError, SourceError
from nmr_balance.stream import StreamInfo

EVENT = struct.Struct("@llHHi")  # struct input_event on 64-bit Linux
SYS_INPUT = Path("/sys/class/input")


def balance_boards(sys_input: Path = SYS_INPUT) -> list[tuple[str, str]]:
    """``(device path, name)`` of every Wii Balance Board the kernel exposes."""
    found = []
    for node in sorted(sys_input.glob("event*")):
        try:
            name = (node / "device" / "name").read_text().strip()
        except OSError:
            continue
        if "Balance Board" in name:
            found.append((f"/dev/input/{node.name}", name))
    return found


class WiiEvdevDecoder(Decoder):
    """``input_event`` records -> samples ``tr br tl bl`` (kg)."""

    name = "evdev"

    def __init__(self) -> None:
        super().__init__()
        self._events = WiiEventAssembler()

    def stream_info(self, source: str) -> StreamInfo:
        return wii_info(source)

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        n = len(buffer) // EVENT.size
        rec = np.frombuffer(
            bytes(buffer[: n * EVENT.size]),
            np.dtype([("sec", "l"), ("usec", "l"), ("type", "H"), ("code", "H"), ("value", "i")]),
        )
        kg = self._events.feed(
            zip(rec["type"].tolist(), rec["code"].tolist(), rec["value"].tolist())
        )
        self.good_frames += len(kg)
        return Decoded(kg, None, np.full(len(kg), np.nan), n * EVENT.size)


def encode_events(events) -> bytes:
    """``input_event`` records for ``(type, code, value)`` triples (tests, captures)."""
    now = time.time()
    sec, usec = int(now), int((now % 1) * 1e6)
    return b"".join(EVENT.pack(sec, usec, t, c, v) for t, c, v in events)


class EvdevTransport(Transport):
    """Reads ``input_event`` records from an evdev node (``auto``: the first balance board)."""

    def __init__(self, path: str = "auto"):
        self.requested = path.strip() or "auto"
        self.address = (
            "Wii Balance Board" if self.requested in ("auto", "/auto") else self.requested
        )
        self.no_data_hint = (
            "The input device sent no balance-board events: is it the board "
            "(`nmr-balance devices`) and is someone pressing on it?"
        )
        self._fd: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def _resolve(self) -> str:
        if self.requested not in ("auto", "/auto"):
            return self.requested
        if not sys.platform.startswith("linux"):
            raise SourceError(
                "the Wii Balance Board over evdev needs Linux",
                "On other systems use a board that speaks nmr or csv",
            )
        boards = balance_boards()
        if not boards:
            raise DeviceNotFoundError(
                "Wii Balance Board",
                "Pair it first (press the red sync button under the "
                "battery cover, then pair in your Bluetooth settings); the kernel module "
                "hid-wiimote must be loaded",
            )
        return boards[0][0]

    def connect(self, on_data: DataCallback, on_lost: LostCallback) -> None:
        self.disconnect()
        path = self._resolve()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            raise DeviceNotFoundError(path) from None
        except PermissionError:
            raise DevicePermissionError(
                path,
                "Add a udev rule giving your user access to the board, or join the "
                "'input' group (`sudo usermod -aG input $USER`, then log in again)",
            ) from None
        self._fd = fd
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._reader, args=(fd, on_data, on_lost), name=f"evdev {path}", daemon=True
        )
        self._thread.start()

    def _reader(self, fd: int, on_data: DataCallback, on_lost: LostCallback) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                chunk = os.read(fd, EVENT.size * 64)
            except BlockingIOError:
                continue
            except OSError as exc:
                if not self._stop.is_set():
                    reason = "the board went away" if exc.errno == errno.ENODEV else str(exc)
                    on_lost(reason)
                return
            if not chunk:  # end of file: the device node (or a capture pipe) closed
                if not self._stop.is_set():
                    on_lost("the input device closed")
                return
            on_data(chunk, time.monotonic_ns())

    def disconnect(self) -> None:
        self._stop.set()
        thread, fd = self._thread, self._fd
        self._thread = self._fd = None
        if thread is not None and thread is not threading.current_thread():
            thread.join(1.0)
        if fd is not None:
            os.close(fd)
