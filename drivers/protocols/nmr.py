"""The ``nmr`` binary protocol (version 1): encoder and decoder. Specified in docs/protocol.md.

On the wire every message is ``COBS(body) 0x00``; ``body = version u8 | type u8 | payload |
crc32 u32le`` with the CRC-32/ISO-HDLC (the zlib/Ethernet CRC) of ``version | type | payload``.

- ``DESCRIPTOR`` (type 1): payload = UTF-8 JSON ``{"device", "id", "kind", "fs", "channels":
  [[name, unit], ...], "geometry"}``. Sent at start-up and at least every 2 s.
- ``SAMPLES`` (type 2): payload = ``n u8 | counter0 u32le | n x (t_us u32le | N x float32le)``;
  sample ``i`` has counter ``counter0 + i`` (mod 2**32) and device time ``t_us`` (mod 2**32).
- ``TEXT`` (type 3): payload = UTF-8 log line from the board (ignored by the decoder).

The CRC runs through :func:`zlib.crc32` (C speed); ``tests/test_decoder_nmr.py`` checks it
against the ``crc`` package's CRC-32 definition. COBS is the ``cobs`` package.
"""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
from cobs import cobs

from drivers.decoding import Decoded, Decoder, Unwrapper
from nmr_balance.stream import Channel, SensorKind, StreamInfo

VERSION = 1
DESCRIPTOR, SAMPLES, TEXT = 1, 2, 3
#: Longest message a board may send (COBS-encoded, without the delimiter).
MAX_FRAME = 4096
#: Most samples in one SAMPLES message.
MAX_PACK = 255
_CRC = struct.Struct("<I")
_SAMPLES_HEAD = struct.Struct("<BI")  # n, counter0
#: zlib.crc32 of any byte string followed by its own CRC-32 (little-endian).
_CRC_RESIDUE = 0x2144DF1C


def frame(msg_type: int, payload: bytes) -> bytes:
    """One wire message: COBS-encoded body plus its 0x00 delimiter."""
    body = bytes((VERSION, msg_type)) + payload
    return cobs.encode(body + _CRC.pack(zlib.crc32(body))) + b"\x00"


def sample_dtype(n_channels: int) -> np.dtype:
    """Layout of one sample record: device time (us, u32) and the channels (float32)."""
    return np.dtype([("t_us", "<u4"), ("v", "<f4", (n_channels,))])


def encode_descriptor(info: StreamInfo, device_id: str = "") -> bytes:
    """The DESCRIPTOR message for a board that streams ``info``'s channels."""
    doc = {
        "device": info.device,
        "id": device_id,
        "kind": info.kind.value,
        "fs": info.fs,
        "channels": [[c.name, c.unit] for c in info.channels],
        "geometry": info.geometry,
    }
    return frame(DESCRIPTOR, json.dumps(doc, separators=(",", ":")).encode())


def encode_samples(counter0: int, t_us: np.ndarray, data: np.ndarray, pack: int = 1) -> bytes:
    """SAMPLES messages for consecutive samples, ``pack`` samples per message.

    Parameters
    ----------
    counter0 : int
        Counter of the first sample (wraps at 2**32).
    t_us : ndarray, shape (n,)
        Device time of each sample, microseconds (wraps at 2**32).
    data : ndarray, shape (n, n_channels)
        Channel values (sent as float32).
    pack : int
        Samples per message, 1..255 (more per message = less overhead, more latency).
    """
    n, n_ch = data.shape
    rec = np.empty(n, sample_dtype(n_ch))
    rec["t_us"] = np.asarray(t_us, np.int64) % (1 << 32)
    rec["v"] = data
    out = []
    for i in range(0, n, pack):
        chunk = rec[i : i + pack]
        head = struct.pack("<BI", len(chunk), (counter0 + i) % (1 << 32))
        out.append(frame(SAMPLES, head + chunk.tobytes()))
    return b"".join(out)


def encode_text(text: str) -> bytes:
    return frame(TEXT, text.encode())


def info_from_descriptor(doc: dict, source: str) -> StreamInfo:
    """StreamInfo from a parsed DESCRIPTOR; raises ValueError/KeyError/TypeError if malformed."""
    channels = tuple(Channel(str(n), str(u)) for n, u in doc["channels"])
    if not channels:
        raise ValueError("no channels")
    device = str(doc.get("device") or "nmr board")
    if doc.get("id"):
        device = f"{device} {doc['id']}"
    return StreamInfo(
        source=source,
        channels=channels,
        fs=float(doc["fs"]),
        kind=SensorKind(doc["kind"]),
        geometry=dict(doc.get("geometry") or {}),
        device=device,
        has_device_time=True,
    )


class NmrDecoder(Decoder):
    """Stateful ``nmr`` decoder: remembers the descriptor, unwraps counters and device time.

    SAMPLES messages that arrive before the first DESCRIPTOR cannot be interpreted; they are
    counted in ``waiting_frames`` (not errors: a board joined mid-stream).
    """

    name = "nmr"
    has_counter = True
    has_device_time = True

    def __init__(self) -> None:
        super().__init__()
        self.descriptor: dict | None = None
        self.n_channels = 0
        self.waiting_frames = 0
        self.texts: list[str] = []
        self._synced = False
        self._counter = Unwrapper(32)
        self._clock = Unwrapper(32)
        self._dtype: np.dtype | None = None

    def stream_info(self, source: str) -> StreamInfo | None:
        return None if self.descriptor is None else info_from_descriptor(self.descriptor, source)

    def decode(self, buffer: bytes | bytearray | memoryview) -> Decoded:
        buf = bytes(buffer)
        pos, blocks = 0, []
        while True:
            end = buf.find(b"\x00", pos)
            if end < 0:
                if len(buf) - pos > MAX_FRAME:  # no delimiter for too long: drop it all
                    self.skipped_bytes += len(buf) - pos
                    self._synced = False
                    pos = len(buf)
                break
            if end > pos:
                # before the first delimiter we may have joined mid-message: a failure there is
                # skipped bytes, not a bad frame
                block = self._message(buf[pos:end], joined=not self._synced)
                if block is not None:
                    blocks.append(block)
            self._synced = True
            pos = end + 1
        size = self._dtype.itemsize if self._dtype is not None else 0
        kept = [b for b in blocks if len(b[2]) == b[0] * size]
        self.waiting_frames += len(blocks) - len(kept)  # sent under a superseded descriptor
        if not kept:
            return Decoded.nothing(self.n_channels, pos, has_counter=True)
        # one vectorised pass over every message of this call
        n = np.array([b[0] for b in kept])
        rec = np.frombuffer(b"".join(b[2] for b in kept), self._dtype)
        starts = np.repeat(np.array([b[1] for b in kept], np.int64) - np.cumsum(n) + n, n)
        counter = self._counter((starts + np.arange(len(rec))) % (1 << 32))
        t_us = self._clock(rec["t_us"].astype(np.int64))
        return Decoded(rec["v"].astype(np.float64), counter, t_us * 1e-6, pos)

    def _message(self, raw: bytes, joined: bool = False):
        try:
            body = cobs.decode(raw)
        except cobs.DecodeError:
            body = b""
        # the CRC-32 of a body that ends in its own CRC is a constant (the "residue")
        if len(body) < 6 or zlib.crc32(body) != _CRC_RESIDUE:
            if joined:
                self.skipped_bytes += len(raw)
            else:
                self.bad_frames += 1
            return None
        if body[0] != VERSION:
            self.bad_frames += 1
            return None
        msg_type, size = body[1], len(body) - 6
        if msg_type == SAMPLES and self._dtype is not None and size >= 5:
            n, counter0 = _SAMPLES_HEAD.unpack_from(body, 2)
            if n == 0 or size - 5 != n * self._dtype.itemsize:
                self.bad_frames += 1
                return None
            self.good_frames += 1
            return n, counter0, memoryview(body)[7:-4]
        payload = body[2:-4]
        if msg_type == DESCRIPTOR:
            return self._descriptor(payload)
        if msg_type == TEXT:
            self.good_frames += 1
            self.texts = (self.texts + [payload.decode("utf-8", "replace")])[-20:]
            return None
        if msg_type == SAMPLES and size >= 5:
            self.waiting_frames += 1  # no descriptor yet
            return None
        self.bad_frames += 1
        return None

    def _descriptor(self, payload: bytes):
        try:
            doc = json.loads(payload.decode("utf-8"))
            info_from_descriptor(doc, "")
        except (ValueError, KeyError, TypeError, AttributeError):
            self.bad_frames += 1
            return
        self.good_frames += 1
        if self.descriptor is not None and len(doc["channels"]) != self.n_channels:
            # the board changed its channel set: the unwrapped counters restart with it
            self._counter, self._clock = Unwrapper(32), Unwrapper(32)
        self.descriptor = doc
        self.n_channels = len(doc["channels"])
        self._dtype = sample_dtype(self.n_channels)
        return
