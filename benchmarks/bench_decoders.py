"""Decoder throughput per protocol.

Throughput: a clean byte stream fed to the decoder in 4 KiB chunks (as a serial reader hands
them over). Baselines, same run: what a straightforward parser does — for nmr one
``struct.unpack`` per record, for csv ``np.loadtxt`` (no resync, no plausibility checks), for
WitMotion the vendor's byte-by-byte Python parser (serial) and a per-packet ``struct`` loop
(BLE).

The pty path (emulator write -> processed sample) is in :mod:`benchmarks.bench_endtoend`.
"""

from __future__ import annotations

import struct
import zlib
from functools import partial

import numpy as np
from cobs import cobs

from benchmarks._report import Report, best_time
from drivers.protocols import csv_lines, nmr, wii, witmotion
from nmr_balance.stream import Channel, SensorKind, StreamInfo

COMMAND = "python -m benchmarks.bench_decoders"
CHUNK = 4096


def _streams(n: int) -> dict:
    rng = np.random.default_rng(0)
    info8 = StreamInfo(
        "b", tuple(Channel(f"c{i}", "N") for i in range(8)), 1000.0, SensorKind.FORCE_PLATE
    )
    cells = np.round(rng.uniform(0, 40, (n, 4)), 3)
    imu = np.column_stack(
        [rng.uniform(-1, 1, (n, 3)), rng.uniform(-200, 200, (n, 3)), rng.uniform(-90, 90, (n, 3))]
    )
    data8 = rng.normal(0, 100, (n, 8))
    desc = b"\x00" + nmr.encode_descriptor(info8)
    return {
        "nmr, 8 ch, 1 sample/msg": (
            nmr.NmrDecoder,
            desc + nmr.encode_samples(0, np.arange(n) * 1000, data8, 1),
            _nmr_baseline,
        ),
        "nmr, 8 ch, 10 samples/msg": (
            nmr.NmrDecoder,
            desc + nmr.encode_samples(0, np.arange(n) * 1000, data8, 10),
            _nmr_baseline,
        ),
        "csv, 4 cells": (
            csv_lines.CsvDecoder,
            csv_lines.encode_lines(csv_lines.CsvFormat(), np.arange(n) / 80, cells),
            _csv_baseline,
        ),
        "witmotion serial": (
            witmotion.WitmotionSerialDecoder,
            witmotion.encode_serial(imu),
            _witmotion_serial_baseline,
        ),
        "witmotion BLE": (
            witmotion.WitmotionBleDecoder,
            witmotion.encode_ble(imu),
            _witmotion_ble_baseline,
        ),
        "wii raw reports": (
            lambda: wii.WiiReportDecoder(_CAL),
            wii.encode_reports(rng.integers(1500, 4000, (n, 4))),
            None,
        ),
    }


_CAL = np.array([[1000, 1100, 1200, 1300], [2700, 2800, 2900, 3000], [4400, 4500, 4600, 4700]])


def _nmr_baseline(wire: bytes) -> int:
    """One struct.unpack per record: a plain-Python nmr parser (8 channels)."""
    rows = []
    for raw in wire.split(b"\x00"):
        if not raw:
            continue
        body = cobs.decode(raw)
        if struct.unpack_from("<I", body, len(body) - 4)[0] != zlib.crc32(body[:-4]):
            continue
        if body[1] != nmr.SAMPLES:
            continue
        n, _counter0 = struct.unpack_from("<BI", body, 2)
        for i in range(n):
            rows.append(struct.unpack_from("<I8f", body, 7 + i * 36))
    return len(rows)


def _csv_baseline(wire: bytes) -> int:
    import io

    return len(np.loadtxt(io.BytesIO(wire), delimiter=","))


def _witmotion_serial_baseline(wire: bytes) -> int:
    """The vendor's sample parser: a byte at a time into a list, checksum, unpack."""
    buf, rows, acc, gyro = [], 0, None, None
    for byte in wire:
        buf.append(byte)
        if buf[0] != 0x55:
            del buf[0]
            continue
        if len(buf) < 11:
            continue
        if sum(buf[:10]) & 0xFF == buf[10]:
            values = struct.unpack("<hhhh", bytes(buf[2:10]))
            if buf[1] == 0x51:
                acc = [v / 32768 * 16 for v in values[:3]]
            elif buf[1] == 0x52:
                gyro = [v / 32768 * 2000 for v in values[:3]]
            elif buf[1] == 0x53 and acc and gyro:
                rows += 1
            buf = []
        else:
            del buf[0]
    return rows


def _witmotion_ble_baseline(wire: bytes) -> int:
    rows = []
    for i in range(0, len(wire) - 19, 20):
        if wire[i] == 0x55 and wire[i + 1] == 0x61:
            rows.append(struct.unpack_from("<9h", wire, i + 2))
    return len(rows)


def _decode_chunks(factory, wire: bytes) -> int:
    dec = factory()
    return sum(len(dec.feed(wire[i : i + CHUNK])) for i in range(0, len(wire), CHUNK))


def run(quick: bool = False) -> Report:
    report = Report("Decoders and the pty path (drivers)", COMMAND)
    n = 5_000 if quick else 50_000
    for name, (factory, wire, baseline) in _streams(n).items():
        n_out = _decode_chunks(factory, wire)
        t = best_time(partial(_decode_chunks, factory, wire), repeat=3 if quick else 5)
        base_t = base_name = None
        if baseline is not None:
            assert baseline(wire) == n_out, f"{name}: baseline disagrees"
            base_t = best_time(partial(baseline, wire), repeat=3 if quick else 5)
            base_name = "plain Python" if name != "csv, 4 cells" else "np.loadtxt"
        us = t / n_out * 1e6
        report.add(
            f"{name}: decode",
            us,
            "us/sample",
            None if base_t is None else base_t / n_out * 1e6,
            base_name or "",
            note=f"{len(wire) / t / 1e6:.1f} MB/s, {n_out / t / 1e6:.2f} M samples/s, "
            f"{len(wire) / n_out:.0f} B/sample",
        )
        report.headline[f"decode_{name.split(',')[0].replace(' ', '_')}_us_per_sample"] = us
    return report


if __name__ == "__main__":
    import sys

    print(run(quick="--quick" in sys.argv).text())
