"""Device emulator: the simulated board speaking a real wire protocol on a pseudo-terminal.

``nmr-balance emulate --protocol nmr --pty`` runs :func:`run`. Run it in its own process (a
writer thread in the reading process gets starved by the GIL, DESIGN.md §10). With ``link`` the
pty is also reachable at a fixed path (a symlink, like udev's /dev/serial/by-id names) that
survives the simulated disconnects, so a source can reconnect to it.

Faults (``--faults garbage,drop,disconnect``): random bytes between frames, a few bytes cut
out of the stream, and the pty closed for ``down_s`` then reopened (the board keeps sampling:
the counter jumps over the samples nobody could receive).

A slow reader: by default the board behaves like a UART FIFO of :data:`BACKLOG_LIMIT` bytes and
loses the oldest bytes beyond it (``fifo="drop"``, what real hardware does, for the drills). With
``fifo="block"`` it waits instead, like a link with flow control: its clock stands still while
the reader is behind, so every sample arrives however busy the machine is (for tests that check
decoding, not speed).

Ready signal: the pty path is announced only when the board's first sample is computed (the
simulator's first call imports and designs filters, seconds on a busy machine), so data follows
the announcement at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import math
import os
import pty
import selectors
import struct
import subprocess
import sys
import termios
import time
import tty
from collections.abc import Callable
from pathlib import Path

import numpy as np

from drivers.decoding import imu_info
from drivers.protocols import csv_lines, nmr, witmotion
from nmr_balance.errors import ConfigError
from nmr_balance.stream import Channel, SensorKind, StreamInfo

PROTOCOLS = ("nmr", "csv", "witmotion")
#: Sensor kind each protocol streams by default.
DEFAULT_SENSOR = {"nmr": "cells", "csv": "cells", "witmotion": "imu"}
#: Bytes held back while the reader is slow; beyond this the oldest are lost (a UART FIFO).
BACKLOG_LIMIT = 64 * 1024
DESCRIPTOR_EVERY_S = 1.0
#: ``mute``: the board's output is lost for ``down_s`` with the port open (its clock runs on).
FAULT_KINDS = ("garbage", "drop", "disconnect", "mute")
#: What a full FIFO does: lose the oldest bytes (a UART) or make the board wait (flow control).
FIFO_MODES = ("drop", "block")
#: How long a finished run waits for its reader to take the last bytes: a dropping board gives
#: up soon (like hardware); a blocking one waits for a slow reader (a bound against hangs).
FINISH_TIMEOUT_S = {"drop": 1.0, "block": 60.0}


@dataclasses.dataclass
class Faults:
    """Which faults to inject and how often (seconds between events of each kind)."""

    kinds: tuple[str, ...] = ()
    every_s: float = 2.0
    down_s: float = 1.0
    seed: int = 1

    def __post_init__(self) -> None:
        bad = set(self.kinds) - set(FAULT_KINDS)
        if bad:
            raise ValueError(
                f"unknown fault {sorted(bad)[0]!r}; faults are {', '.join(FAULT_KINDS)}"
            )


def angles_from_imu(
    acc_g: np.ndarray, gyro_dps: np.ndarray, fs: float, yaw0: float = 0.0
) -> np.ndarray:
    """Roll, pitch (from gravity) and yaw (integrated gz), deg, as an IMU's fusion would give."""
    roll = np.degrees(np.arctan2(acc_g[:, 1], acc_g[:, 2]))
    pitch = np.degrees(np.arctan2(-acc_g[:, 0], np.hypot(acc_g[:, 1], acc_g[:, 2])))
    yaw = (yaw0 + np.cumsum(gyro_dps[:, 2]) / fs + 180.0) % 360.0 - 180.0
    return np.column_stack([roll, pitch, yaw])


class StreamEncoder:
    """Turns consecutive simulated samples into one protocol's bytes.

    Parameters
    ----------
    protocol : str
        ``nmr``, ``csv`` or ``witmotion``.
    board_info : StreamInfo
        What the simulated board produces.
    n_channels : int, optional
        nmr only: pad with ``aux1..`` channels up to this many. ``aux1`` is the sample counter
        modulo 2**24 (exact in float32), so a reader can check every value arrived intact.
    pack : int
        nmr only: samples per message.
    device_time : bool
        witmotion only: send the board's clock (``0x50`` time packets).
    calibration : CellCalibration, optional
        csv only: send raw counts, the inverse of this calibration (a raw-count board).
    host_clock : bool
        nmr only: device time = this machine's monotonic clock when the bytes are written (us),
        so a reader on the same machine can measure write -> processed latency.
    """

    def __init__(
        self,
        protocol: str,
        board_info: StreamInfo,
        n_channels: int | None = None,
        pack: int = 1,
        host_clock: bool = False,
        device_time: bool = False,
        calibration=None,
    ):
        self.protocol, self.fs, self.pack = protocol, board_info.fs, pack
        self.host_clock = host_clock
        #: csv: print raw ADC counts as a board with this CellCalibration would read the loads
        self.calibration = calibration
        if calibration is not None and protocol != "csv":
            raise ValueError("raw counts (--calibration) are for the csv protocol")
        #: witmotion: open each cycle with a 0x50 time packet (the board's clock, from now on)
        self.device_time_t0 = time.time() if device_time else None
        n_aux = max(0, (n_channels or 0) - board_info.n_channels) if protocol == "nmr" else 0
        aux = tuple(Channel(f"aux{i + 1}", "1") for i in range(n_aux))
        self.info = board_info.replace(channels=board_info.channels + aux)
        self._yaw = 0.0
        self._last_descriptor = -math.inf
        if protocol == "csv" and board_info.kind is not SensorKind.LOAD_CELLS:
            raise ValueError("the csv emulator speaks for a load-cell board (--sensor cells)")
        if protocol == "witmotion":
            if board_info.kind is not SensorKind.IMU:
                raise ValueError("the witmotion emulator needs an IMU board (--sensor imu)")
            self.info = imu_info(board_info.source, self.fs, "emulated WitMotion WT901")

    def banner(self) -> bytes:
        """What the board prints when it boots, before any data."""
        text = "nmr-balance emulator booting"
        if self.protocol == "nmr":
            return nmr.encode_text(text)
        return f"{text}\r\nHX711 ready, tare done\r\n".encode()

    def resend_descriptor(self) -> None:
        """nmr: send the descriptor with the next samples (a board does so after a restart)."""
        self._last_descriptor = -math.inf

    def encode(self, counter0: int, data: np.ndarray) -> bytes:
        """Bytes for samples ``counter0 ..`` with board values ``data`` (n, board channels)."""
        n = len(data)
        t_s = (counter0 + np.arange(n)) / self.fs
        if self.protocol == "csv":
            if self.calibration is not None:  # kg -> the counts the cells would give
                cal = self.calibration
                newtons = data * 9.80665
                gain, offset = np.array(cal.gain_n_per_count), np.array(cal.offset_counts)
                data = np.round(offset + newtons / gain)
            return csv_lines.encode_lines(csv_lines.CsvFormat(fs=self.fs), t_s, data)
        if self.protocol == "witmotion":
            angles = angles_from_imu(data[:, :3], data[:, 3:6], self.fs, self._yaw)
            self._yaw = angles[-1, 2] if n else self._yaw
            clock = None if self.device_time_t0 is None else self.device_time_t0 + t_s
            return witmotion.encode_serial(np.hstack([data, angles]), t_s=clock)
        out = b""
        if t_s[0] - self._last_descriptor >= DESCRIPTOR_EVERY_S:
            out = nmr.encode_descriptor(self.info, device_id="emulator")
            self._last_descriptor = t_s[0]
        n_aux = self.info.n_channels - data.shape[1]
        if n_aux:
            counters = counter0 + np.arange(n)
            aux = np.column_stack(
                [counters % (1 << 24)] + [np.sin(counters / 50.0 + k) for k in range(1, n_aux)]
            )
            data = np.hstack([data, aux])
        t_us = np.full(n, time.monotonic_ns() // 1000) if self.host_clock else np.round(t_s * 1e6)
        return out + nmr.encode_samples(counter0, t_us, data, self.pack)


class Pty:
    """A raw-mode pseudo-terminal whose master side the emulator writes (non-blocking)."""

    def __init__(self, link: Path | None):
        self.link = link
        self.master, self.slave = pty.openpty()
        tty.setraw(self.slave)  # no echo, no CR/LF translation: binary-safe before anyone opens
        # taken now, before the path is announced: a host may open the port at once
        self._attrs_unopened = termios.tcgetattr(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)
        if link is not None:
            tmp = link.with_name(link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.path)
            tmp.replace(link)

    @property
    def address(self) -> str:
        return str(self.link or self.path)

    def wait_for_host(self, timeout_s: float) -> bool:
        """Wait until a program opens the port (it sets the line settings, e.g. the baud)."""
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if termios.tcgetattr(self.slave) != self._attrs_unopened:
                return True
            time.sleep(0.01)
        return False

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.master, data)
        except (BlockingIOError, InterruptedError):
            return 0

    def unread(self) -> int:
        """Bytes written that the host has not read yet."""
        try:
            return struct.unpack("i", fcntl.ioctl(self.slave, termios.FIONREAD, b"\0\0\0\0"))[0]
        except OSError:
            return 0

    def drain_input(self) -> None:
        """Throw away what the host sent (configuration commands), so it never fills up."""
        try:
            while os.read(self.master, 4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self) -> None:
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


def check_link_path(link: Path) -> None:
    """Refuse a ``--link`` path that exists (a file, a folder, an old link): the emulator makes
    the link itself and removes it when it ends, so it must never replace something."""
    if link.is_symlink() or link.exists():
        what = "a link" if link.is_symlink() else "a folder" if link.is_dir() else "a file"
        raise ConfigError(
            f"--link {link}: {what} is already there; the emulator never replaces anything",
            "Pick a path that does not exist yet (it is created and removed by the emulator); "
            "a link left by an emulator that was killed can be removed with `rm`",
        )
    if not link.parent.is_dir():
        raise ConfigError(
            f"--link {link}: the folder {link.parent} does not exist",
            "Pick a path in an existing folder",
        )


def _inject(data: bytes, faults: Faults, rng: np.random.Generator, due: dict, now: float) -> bytes:
    for kind in ("garbage", "drop"):
        if kind in faults.kinds and now >= due[kind]:
            due[kind] = now + faults.every_s * rng.uniform(0.5, 1.5)
            cut = int(rng.integers(0, max(1, len(data))))
            if kind == "garbage":
                junk = rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8).tobytes()
                data = data[:cut] + junk + data[cut:]
            else:
                data = data[:cut] + data[cut + int(rng.integers(1, 8)) :]
    return data


def run(
    encoder: StreamEncoder,
    generate: Callable[[int], np.ndarray],
    *,
    link: Path | None = None,
    duration_s: float | None = None,
    faults: Faults | None = None,
    announce: Callable[[str], None] = print,
    boot_s: float = 0.0,
    fifo: str = "drop",
) -> dict:
    """Stream until ``duration_s`` (or forever); returns counts (samples, bytes, overflows).

    ``announce(address)`` is called with the pty path (or link) each time a pty opens; the
    first time, the first sample is ready and data follows at once.
    ``boot_s`` > 0 behaves like an Arduino that just reset: a banner, then silence, then data.
    ``fifo`` is what happens when the reader falls :data:`BACKLOG_LIMIT` bytes behind:
    ``"drop"`` loses the oldest bytes (counted in ``overflow_bytes``), ``"block"`` makes the
    board wait (its clock stands still, nothing is lost).
    """
    if link is not None:
        check_link_path(link)
    if fifo not in FIFO_MODES:
        raise ValueError(f"unknown fifo mode {fifo!r}; choose {' or '.join(FIFO_MODES)}")
    faults = faults or Faults()
    rng = np.random.default_rng(faults.seed)
    # Computed before the pty is announced: the generator's first call can take seconds.
    head = [generate(1)]

    def samples(n: int) -> np.ndarray:
        """The board's next ``n`` samples (the first one computed in advance)."""
        if not head or n <= 0:
            return generate(n)
        return np.concatenate([head.pop(), generate(n - 1)])

    port = Pty(link)
    announce(port.address)
    if boot_s > 0 or faults.kinds:
        # faults are timed from when a host is there to see them; and the host opening the port
        # resets an Arduino-like board (DTR): banner, then silence
        port.wait_for_host(timeout_s=60.0)
    if boot_s > 0:
        port.write(encoder.banner())
        time.sleep(boot_s)
    fs = encoder.fs
    backlog = bytearray()
    stats = {"samples": 0, "bytes": 0, "overflow_bytes": 0, "disconnects": 0}
    due = {k: faults.every_s for k in FAULT_KINDS}
    t0 = time.monotonic()
    sent = 0
    total = None if duration_s is None else math.ceil(duration_s * fs)  # samples in the run
    try:
        while total is None or sent < total:
            now = time.monotonic() - t0
            n = math.floor(now * fs) - sent
            if total is not None:
                n = min(n, total - sent)
            if fifo == "block" and n > 0 and len(backlog) >= BACKLOG_LIMIT:
                # the board waits for the reader: its clock stands still meanwhile
                t0 = time.monotonic() - sent / fs
                n = 0
            if n > 0:
                chunk = encoder.encode(sent, samples(n))
                sent += n
                backlog += _inject(chunk, faults, rng, due, now)
                if fifo == "drop" and len(backlog) > BACKLOG_LIMIT:
                    stats["overflow_bytes"] += len(backlog) - BACKLOG_LIMIT
                    del backlog[: len(backlog) - BACKLOG_LIMIT]
            if backlog:
                written = port.write(bytes(backlog))
                stats["bytes"] += written
                del backlog[:written]
            port.drain_input()
            # a finite run does not unplug in its last seconds: the host could not be back
            ends_soon = duration_s is not None and now + faults.down_s + 2.0 > duration_s
            if "disconnect" in faults.kinds and now >= due["disconnect"] and not ends_soon:
                port.close()
                stats["disconnects"] += 1
                backlog.clear()
                time.sleep(faults.down_s)
                port = Pty(link)
                # the board kept sampling while unplugged: those samples are gone
                skipped = math.floor((time.monotonic() - t0) * fs) - sent
                if total is not None:
                    skipped = min(skipped, total - sent)
                samples(skipped)
                sent += skipped
                encoder.resend_descriptor()
                announce(port.address)
                due["disconnect"] = time.monotonic() - t0 + faults.every_s
                continue
            if "mute" in faults.kinds and now >= due["mute"] and not ends_soon:
                _finish_writing(port, backlog, stats)  # what was sent before arrives whole
                end = time.monotonic() + faults.down_s
                while time.monotonic() < end:  # the port stays open, nothing comes
                    port.drain_input()
                    time.sleep(0.02)
                skipped = math.floor((time.monotonic() - t0) * fs) - sent
                if total is not None:
                    skipped = min(skipped, total - sent)
                samples(skipped)  # sampled but never sent: the device clock jumps
                sent += skipped
                due["mute"] = time.monotonic() - t0 + faults.every_s
                continue
            wait = (sent + 1) / fs - (time.monotonic() - t0)
            if wait > 0:
                time.sleep(min(wait, 0.05))
        _finish_writing(port, backlog, stats, FINISH_TIMEOUT_S[fifo])
    finally:
        stats["samples"] = sent
        port.close()
    return stats


def _finish_writing(port: Pty, backlog: bytearray, stats: dict, timeout_s: float = 1.0) -> None:
    """At the end of a finite run, hand the reader the last frames before closing the port."""
    end = time.monotonic() + timeout_s
    while backlog and time.monotonic() < end:
        written = port.write(bytes(backlog))
        stats["bytes"] += written
        del backlog[:written]
        if backlog:
            time.sleep(0.005)
    # Closing the pty discards what the host has not read, and the kernel moves written bytes
    # to the reading side a little later: wait until nothing has been pending for a while.
    quiet_since = None
    while time.monotonic() < end + 1.0:
        if port.unread():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.1:
            return
        time.sleep(0.005)


def announce_stdout(address: str) -> None:
    print(address, flush=True)
    sys.stdout.flush()


def spawn(link: Path, protocol: str, *args: str, start_timeout_s: float = 60.0) -> subprocess.Popen:
    """Start ``nmr-balance emulate`` in a subprocess on a pty reachable at ``link``.

    Returns when the emulator is ready: it announces the pty once its first sample is computed,
    so data follows at once (``start_timeout_s`` bounds a hang, e.g. a slow start on a busy
    machine). With ``--duration`` the process ends by itself and its stderr ends with
    ``sent N samples, ...`` (:func:`sent_samples`). The emulator must be another process
    (DESIGN.md §10).
    """
    cmd = [
        sys.executable,
        "-m",
        "nmr_balance.app.cli",
        "emulate",
        "--protocol",
        protocol,
        "--pty",
        "--link",
        str(link),
        *args,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    line = proc.stdout.readline().decode().strip() if sel.select(start_timeout_s) else ""
    if line != str(link):
        proc.kill()
        raise RuntimeError(
            f"the emulator did not start ({line!r}): "
            + proc.stderr.read().decode(errors="replace")[-2000:]
        )
    return proc


def sent_samples(stderr_text: str) -> int | None:
    """The sample count an emulator that ended by itself reports (None if it did not)."""
    for line in stderr_text.splitlines():
        if line.startswith("sent ") and " samples" in line:
            return int(line.split()[1])
    return None


def stop(proc: subprocess.Popen) -> None:
    """Terminate an emulator (bounded wait)."""
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextlib.contextmanager
def spawned(link: Path, protocol: str, *args: str, start_timeout_s: float = 60.0):
    """Run :func:`spawn` for the duration of a ``with`` block; yield the path."""
    proc = spawn(link, protocol, *args, start_timeout_s=start_timeout_s)
    try:
        yield link
    finally:
        stop(proc)
