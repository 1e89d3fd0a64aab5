"""Sample chunks as stored in the database: the column arrays of a SampleBlock, little-endian.

A chunk of ``n`` samples and ``c`` channels is ``t_host_ns`` (int64, n), ``t_device`` (float64,
n), ``counter`` (int64, n) and ``data`` (float64, n x c, row-major), concatenated: 8 * n * (3 + c)
bytes. Little-endian on every platform, so a database copied between machines replays alike.
"""

from __future__ import annotations

import zlib

import numpy as np

from nmr_balance.stream import SampleBlock

_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


def encode(block: SampleBlock) -> bytes:
    """The bytes of ``block`` (exact: decoding gives back the same bits)."""
    return b"".join(
        (
            np.ascontiguousarray(block.t_host_ns, _I8).tobytes(),
            np.ascontiguousarray(block.t_device, _F8).tobytes(),
            np.ascontiguousarray(block.counter, _I8).tobytes(),
            np.ascontiguousarray(block.data, _F8).tobytes(),
        )
    )


def decode(payload: bytes, n: int, n_channels: int) -> SampleBlock:
    """Rebuild the block of ``n`` samples and ``n_channels`` channels from ``payload``.

    Raises ``ValueError`` when the payload has the wrong size (a damaged row).
    """
    expected = 8 * n * (3 + n_channels)
    if len(payload) != expected:
        raise ValueError(f"chunk holds {len(payload)} bytes, expected {expected}")
    buf = memoryview(payload)
    step = 8 * n
    # Native-endian copies: numba kernels and arithmetic downstream want native arrays.
    t_host = np.frombuffer(buf[:step], _I8).astype(np.int64)
    t_device = np.frombuffer(buf[step : 2 * step], _F8).astype(np.float64)
    counter = np.frombuffer(buf[2 * step : 3 * step], _I8).astype(np.int64)
    data = np.frombuffer(buf[3 * step :], _F8).astype(np.float64).reshape(n, n_channels)
    return SampleBlock(t_host, t_device, counter, data)


def crc32(payload: bytes) -> int:
    return zlib.crc32(payload)


def split(block: SampleBlock, size: int) -> list[SampleBlock]:
    """``block`` cut into chunks of at most ``size`` samples (how imports store a stream)."""
    return [block.slice(i, i + size) for i in range(0, len(block), size)]
