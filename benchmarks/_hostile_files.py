"""Hostile files for the fuzz drill: damaged and crafted CSV, C3D and protocol (TOML) files.

Each file is imported (or loaded, for protocols) through the real code path. Outcomes:

- **refused**: a clear :class:`~nmr_balance.errors.NmrBalanceError`; the database must be
  exactly as before (row counts of every table, SQLite's ``integrity_check``);
- **accepted**: the damage left a valid file (a flipped digit is still a number); the new trial
  must read back (``trials``, the report summary) and the database stay sound;
- **crash**: any other exception, or a refused import that changed the database.

Exports are fuzzed too: to a missing folder, a folder, a device, a name without a suffix; a
failed export must leave no file (not even an empty or temporary one). ``native_crashes`` counts
C3D files that crashed ezc3d itself (in its child process): contained, so they are refusals.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ROMBERG = ROOT / "nmr_balance" / "protocols" / "builtin" / "romberg.toml"


def snapshot(db: Path) -> tuple:
    con = sqlite3.connect(db)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = tuple((n, con.execute(f"SELECT count(*) FROM {n}").fetchone()[0]) for n in names)
        return rows, con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


def _base_station(folder: Path) -> tuple[Path, bytes, bytes, str]:
    """A station with one plate trial; its CSV and C3D exports and a foreign COP table."""
    sys.path.insert(0, str(ROOT / "tests"))
    from _recordings_util import plate_info, plate_samples, processed_of, store_trial

    from recordings import Store
    from recordings.exchange import export_trial

    db = folder / "station.db"
    with Store.open(db) as store:
        store.add_patient("P001")
        raw = plate_samples(200, seed=5)
        tid = store_trial(store, raw, processed_of(raw), plate_info())
        csv = export_trial(store, tid, folder / "base.csv").read_bytes()
        c3d = export_trial(store, tid, folder / "base.c3d").read_bytes()
    t = np.arange(300) / 100
    foreign = "time[s],x[mm],y[mm]\n" + "".join(
        f"{a:.3f},{np.sin(a):.4f},{np.cos(a):.4f}\n" for a in t
    )
    return db, csv, c3d, foreign


def _damage_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    how = rng.integers(0, 4)
    if how == 0:  # a few flipped bytes
        for pos in rng.integers(0, len(b), rng.integers(1, 5)):
            b[pos] = int(rng.integers(0, 256))
    elif how == 1:  # cut anywhere
        b = b[: int(rng.integers(0, len(b)))]
    elif how == 2:  # random bytes inserted
        pos = int(rng.integers(0, len(b)))
        b[pos:pos] = rng.integers(0, 256, int(rng.integers(1, 200)), dtype=np.uint8).tobytes()
    else:  # a stretch overwritten with garbage
        pos = int(rng.integers(0, len(b)))
        n = int(rng.integers(1, 600))
        b[pos : pos + n] = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    return bytes(b)


_CRAFTED = {
    "metrics": ["[1, 2]", "null", '"x"', '{"n_samples": [[[[1]]]]}', "1e999", "{" * 50],
    "started": ["not-a-date", "2026-13-40T99:00:00", "2026-05-01T09:00:00", "", "\u2028"],
    "status": ["hacked", "recording", "'; DROP TABLE trials; --"],
    "events": ['[[0.5, "cue", [1]]]', '[["x", "cue", {}]]', "[1]", '[[1e999, "cue", {}]]'],
    "info": ["{}", "[]", '{"fs": 0}'],
    "processed_rows": ["-1", "1e9", "x"],
    "vision": ["sideways", "=cmd|' /C calc'!A0"],
    "protocol": ["x" * 5000, "\x1b[31mred"],
}


def _crafted_csv(csv: bytes, rng: np.random.Generator) -> bytes:
    text = csv.decode()
    key = list(_CRAFTED)[int(rng.integers(0, len(_CRAFTED)))]
    value = _CRAFTED[key][int(rng.integers(0, len(_CRAFTED[key])))]
    start = text.find(f"# {key}: ")
    if start < 0:
        return csv
    end = text.index("\n", start)
    return (text[:start] + f"# {key}: {value}" + text[end:]).encode()


def _hostile_toml(rng: np.random.Generator) -> bytes:
    text = ROMBERG.read_text()
    how = int(rng.integers(0, 8))
    if how == 0:
        return _damage_bytes(text.encode(), rng)
    if how == 1:
        return text.replace(
            "duration_s = 30", f"duration_s = {rng.choice(['nan', 'inf', '-inf'])}"
        ).encode()
    if how == 2:
        depth = int(rng.integers(10, 20_000))
        return f"a = {'[' * depth}{']' * depth}\n".encode()
    if how == 3:
        return text.replace("stand still", "\\u001b[2J\\u001b]0;pwned\\u0007stand still").encode()
    if how == 4:
        return (text + "# " + "x" * int(rng.integers(200_000, 400_000)) + "\n").encode()
    if how == 5:
        return text.replace(
            "attempts = 2", f"attempts = {int(rng.integers(-(10**9), 10**9))}"
        ).encode()
    if how == 6:
        return text.replace(
            'name = "romberg"', f'name = "{"n" * int(rng.integers(1, 3000))}"'
        ).encode()
    return text.replace("countdown_s = 5", "countdown_s = 1e308").encode()


def fuzz_files(n: int, seed: int, folder: Path, c3d_share: float = 0.2) -> dict:
    """Import ``n`` hostile files of each kind (C3D: ``c3d_share`` of ``n``; each is parsed in
    a child process); return the counts per kind."""
    from nmr_balance.errors import NmrBalanceError
    from nmr_balance.protocols.schema import load_protocol
    from recordings import Store
    from recordings.exchange import export_trial, import_file

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    db, csv, c3d, foreign = _base_station(folder)
    inbox = folder / "inbox"
    inbox.mkdir(exist_ok=True)
    kinds = {
        "csv": lambda: _crafted_csv(csv, rng) if rng.random() < 0.4 else _damage_bytes(csv, rng),
        "table": lambda: _damage_bytes(foreign.encode(), rng),
        "c3d": lambda: _damage_bytes(c3d, rng),
    }
    counts = {
        k: {"files": 0, "refused": 0, "accepted": 0, "crashes": 0, "db_changed": 0}
        for k in (*kinds, "toml", "export")
    }
    counts["c3d"]["native_crashes"] = 0
    examples: list[str] = []
    t0 = time.perf_counter()
    with Store.open(db) as store:
        for kind, make in kinds.items():
            for i in range(max(1, int(n * c3d_share)) if kind == "c3d" else n):
                c = counts[kind]
                path = inbox / f"{kind}{i}.{'c3d' if kind == 'c3d' else 'csv'}"
                path.write_bytes(make())
                before = snapshot(db)
                c["files"] += 1
                try:
                    import_file(store, path, f"F{kind}{i}")
                    c["accepted"] += 1
                    store.trials()  # what `trials` and the reports read
                    if snapshot(db)[1] != "ok":
                        raise RuntimeError("integrity check failed after an accepted import")
                except NmrBalanceError as e:
                    c["refused"] += 1
                    if kind == "c3d":
                        c["native_crashes"] += "crashed" in str(e)
                    if snapshot(db) != before:
                        c["db_changed"] += 1
                        c["crashes"] += 1
                        examples.append(f"{path.name}: refused but the database changed")
                except Exception as e:
                    c["crashes"] += 1
                    if len(examples) < 10:
                        shutil.copy(path, folder / f"crash_{path.name}")
                        examples.append(f"{path.name}: {type(e).__name__}: {str(e)[:200]}")
        c = counts["toml"]
        for i in range(n):
            path = inbox / f"p{i}.toml"
            path.write_bytes(_hostile_toml(rng))
            c["files"] += 1
            try:
                load_protocol(path)
                c["accepted"] += 1
            except NmrBalanceError:
                c["refused"] += 1
            except Exception as e:
                c["crashes"] += 1
                if len(examples) < 10:
                    examples.append(f"{path.name}: {type(e).__name__}: {str(e)[:200]}")
        if hasattr(os, "mkfifo"):  # a pipe named like a protocol must not hang the loader
            fifo = inbox / "pipe.toml"
            os.mkfifo(fifo)
            c["files"] += 1
            try:
                load_protocol(fifo)
                c["accepted"] += 1
            except NmrBalanceError:
                c["refused"] += 1
        c = counts["export"]
        tid = store.trials()[0].id
        out = folder / "out"
        out.mkdir(exist_ok=True)
        (out / "a_folder.csv").mkdir(exist_ok=True)
        targets = [
            (out / "missing" / "t.csv", None),
            (out / "missing" / "t.c3d", None),
            (out / "a_folder.csv", None),
            (Path("/dev/full"), "c3d"),
            (Path("/dev/full"), "csv"),
            (out / "no_suffix", "c3d"),
            (out / "upper.C3D", None),
        ]
        for path, fmt in targets:
            c["files"] += 1
            try:
                export_trial(store, tid, path, fmt)
                c["accepted"] += 1
            except NmrBalanceError:
                c["refused"] += 1
        left = sorted(p.name for p in out.iterdir())
        c["partial_files"] = len(
            [p for p in left if p not in ("a_folder.csv", "no_suffix", "upper.C3D")]
        )
        c["crashes"] += c["partial_files"]
        if c["partial_files"]:
            examples.append(f"files left by failed exports: {left}")
    leftovers = [p.name for p in inbox.iterdir() if p.name.startswith(".")]
    return {
        "kinds": counts,
        "temporary_files_left": leftovers,
        "crashes": sum(k["crashes"] for k in counts.values()) + len(leftovers),
        "seconds": round(time.perf_counter() - t0, 1),
        "examples": examples,
    }
