"""Fuzz drill: a million damaged frames through every decoder, and hostile files through every
importer, zero crashes.

    python -m benchmarks.drill_fuzz                      # 1,000,000 frames per decoder
    python -m benchmarks.drill_fuzz --frames 50000       # a quick check
    python -m benchmarks.drill_fuzz --seconds 10         # or: at most 10 s per decoder
    python -m benchmarks.drill_fuzz --files 50           # fewer hostile files (default 300)

Hostile files (:mod:`benchmarks._hostile_files`): our CSV export damaged or with crafted header
lines, a foreign table damaged, our C3D export damaged (each parsed in a child process), clinic
protocol files (TOML) with NaN, deep nesting, escapes, huge sizes and a FIFO, and exports to
places that cannot take them. Every refused import must leave the database exactly as it was
(row counts, ``integrity_check``); every failed export must leave no file.

A clean stream of each protocol (the byte streams of :mod:`benchmarks.bench_decoders`: nmr with
one sample per message, csv lines, WitMotion serial packets and BLE notifications, Wii balance
board reports) is damaged again on every pass, with a new seed: about one frame in 20 gets a
flipped bit, one in 50 loses 1-8 bytes, one in 50 gets 1-40 random bytes inserted, and one
pass in 4 also gets a stretch of pure garbage. It is fed in chunks of random size (1-4096
bytes), as a serial reader hands bytes over, to one long-lived decoder.

A crash is any exception from ``feed``, or a sample that is not finite where the protocol cannot
carry one (every decoder but nmr, whose float32 payload may legitimately hold NaN). The decoder
is replaced after a crash and the drill goes on; the first few crashing chunks are kept (hex).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._drills import header, save
from benchmarks._hostile_files import fuzz_files
from benchmarks.bench_decoders import _streams

#: bench_decoders stream name -> (short name, frames per sample)
DECODERS = {
    "nmr, 8 ch, 1 sample/msg": ("nmr", 1),
    "csv, 4 cells": ("csv", 1),
    "witmotion serial": ("witmotion serial", 3),
    "witmotion BLE": ("witmotion BLE", 1),
    "wii raw reports": ("wii", 1),
}
BASE_SAMPLES = 50_000


def damage(wire: np.ndarray, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """A damaged copy of ``wire`` (uint8): bit flips, cuts, insertions, sometimes garbage."""
    data = wire.copy()
    flips = rng.integers(0, len(data), n_frames // 20)
    data[flips] ^= (1 << rng.integers(0, 8, len(flips))).astype(np.uint8)
    keep = np.ones(len(data), bool)
    for pos in rng.integers(0, len(data), n_frames // 50):
        keep[pos : pos + rng.integers(1, 9)] = False
    data = data[keep]
    cuts = np.sort(rng.integers(0, len(data), n_frames // 50))
    pieces = np.split(data, cuts)
    junk = [rng.integers(0, 256, rng.integers(1, 41), dtype=np.uint8) for _ in cuts]
    if rng.random() < 0.25:
        junk[0] = rng.integers(0, 256, 20_000, dtype=np.uint8)
    out = [pieces[0]]
    for j, piece in zip(junk, pieces[1:]):
        out += [j, piece]
    return np.concatenate(out)


def fuzz_one(
    factory,
    wire: bytes,
    frames_per_pass: int,
    frames: int,
    seconds: float | None,
    finite: bool,
    seed: int,
) -> dict:
    rng = np.random.default_rng(seed)
    clean = np.frombuffer(wire, np.uint8)
    dec = factory()
    done = crashes = samples = n_bytes = 0
    examples: list[dict] = []
    t0 = time.perf_counter()
    while done < frames and (seconds is None or time.perf_counter() - t0 < seconds):
        buf = damage(clean, frames_per_pass, rng).tobytes()
        sizes = rng.integers(1, 4097, len(buf) // 1024 + 2)
        pos = 0
        for size in sizes:
            chunk = buf[pos : pos + size]
            pos += size
            if not chunk:
                break
            try:
                out = dec.feed(chunk)
                samples += len(out)
                if finite and len(out) and not np.all(np.isfinite(out.data)):
                    raise ValueError("a sample that is not finite")
            except Exception as e:
                crashes += 1
                if len(examples) < 3:
                    examples.append({"error": f"{type(e).__name__}: {e}", "chunk_hex": chunk.hex()})
                dec = factory()
        n_bytes += len(buf)
        done += frames_per_pass
    elapsed = time.perf_counter() - t0
    return {
        "frames": done,
        "bytes": n_bytes,
        "crashes": crashes,
        "samples_out": samples,
        "bad_frames": getattr(dec, "bad_frames", None),
        "seconds": round(elapsed, 2),
        "frames_per_s": round(done / elapsed),
        "crash_examples": examples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=1_000_000,
        help="damaged frames per decoder (default 1,000,000)",
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="also stop each decoder after this many seconds"
    )
    parser.add_argument("--minutes", type=float, default=None, help="the same, in minutes")
    parser.add_argument(
        "--files",
        type=int,
        default=300,
        help="hostile files per kind (CSV, table, TOML; C3D a fifth of it); 0 skips them",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--json", type=Path, default=None, help="default benchmarks/results/drill_fuzz.json"
    )
    args = parser.parse_args(argv)
    seconds = (
        args.seconds
        if args.seconds is not None
        else (args.minutes * 60 if args.minutes is not None else None)
    )
    streams = _streams(BASE_SAMPLES)
    result = {**header("drill_fuzz"), "frames_requested": args.frames, "decoders": {}}
    for key, (name, per_sample) in DECODERS.items():
        factory, wire, _ = streams[key]
        r = fuzz_one(
            factory,
            wire,
            BASE_SAMPLES * per_sample,
            args.frames,
            seconds,
            finite=name != "nmr",
            seed=args.seed,
        )
        result["decoders"][name] = r
        print(
            f"{name:<18} {r['frames']:>9} frames  {r['crashes']} crashes  "
            f"{r['frames_per_s']:>9} frames/s  {r['samples_out']} samples out",
            flush=True,
        )
    result["crashes"] = sum(r["crashes"] for r in result["decoders"].values())
    if args.files > 0:
        with tempfile.TemporaryDirectory(prefix="nmr-fuzz-files-") as folder:
            files = fuzz_files(args.files, args.seed, Path(folder))
        result["files"] = files
        for kind, c in files["kinds"].items():
            print(
                f"{kind + ' files':<18} {c['files']:>9} files   {c['crashes']} crashes  "
                f"{c['refused']} refused, {c['accepted']} accepted"
                + (
                    f", {c['native_crashes']} C3D-library crashes contained"
                    if "native_crashes" in c
                    else ""
                )
                + (f", {c['partial_files']} partial files" if "partial_files" in c else ""),
                flush=True,
            )
        result["crashes"] += files["crashes"]
    result["ok"] = result["crashes"] == 0 and all(
        r["frames"] >= args.frames or seconds for r in result["decoders"].values()
    )
    path = save(result, args.json)
    print(f"{'OK' if result['ok'] else 'FAILED'}: {result['crashes']} crashes; figures: {path}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
