"""The clinic's server: write throughput and commit latency on PostgreSQL vs SQLite (same run),
1/3/10 stations recording 1 kHz x 8 channels at once; push of 100 trials; the progress query of
a patient with 500 trials.

``python -m benchmarks.bench_clinic_server [--quick]``

Each station is its own process and writes what the recorder writes: every 0.25 s one
transaction with a 250-sample chunk of the raw and of the processed stream (8 channels, plus
time and counter columns), paced at 1 kHz. The figure to read is the commit latency p99: a
station commits at least once a second, so while p99 stays under 1 s no more than a second of
samples is ever at risk. The server is a throwaway PostgreSQL on this machine (tests/pg_server.py,
Unix socket, fsync off like a server with a battery-backed cache; SQLite keeps synchronous=FULL).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._report import Report

N_CH, FS, CHUNK = 8, 1000.0, 250


def _info():
    from nmr_balance.stream import Channel, SensorKind, StreamInfo

    return StreamInfo(
        "bench://station",
        tuple(Channel(f"c{i}", "N") for i in range(N_CH)),
        FS,
        SensorKind.LOAD_CELLS,
        device="benchmark",
    )


def _station(target: str, code: str, seconds: float, start_at: float, out) -> None:
    """One station: record ``seconds`` of 1 kHz x 8 ch, a commit per 0.25 s; report latencies."""
    from nmr_balance.stream import SampleBlock
    from recordings import Store
    from recordings.store import PROCESSED, RAW

    rng = np.random.default_rng(abs(hash(code)) % 2**32)
    latencies = []
    with Store.open(target) as store:
        store.ensure_patient(code)
        sid = store.start_session(code).id
        info = _info()
        with store.transaction():
            tid = store.begin_trial(sid, info, info)
        while time.time() < start_at:  # all stations start together
            time.sleep(0.001)
        t0 = time.monotonic()
        for seq in range(int(seconds * FS / CHUNK)):
            due = t0 + (seq + 1) * CHUNK / FS
            time.sleep(max(0.0, due - time.monotonic()))
            c = np.arange(seq * CHUNK, (seq + 1) * CHUNK, dtype=np.int64)
            block = SampleBlock(c * 1_000_000, c / FS, c, rng.normal(100, 5, (CHUNK, N_CH)))
            t = time.perf_counter()
            with store.transaction():
                store.append_chunk(tid, RAW, seq, block)
                store.append_chunk(tid, PROCESSED, seq, block)
            latencies.append(time.perf_counter() - t)
        store.finish_trial(tid, "complete", {})
        lost = seq + 1 - len(store.chunk_index(tid, RAW))
    out.put((code, latencies, lost))


def _stations(target: str, n: int, seconds: float) -> tuple[np.ndarray, int]:
    """``n`` stations at once into ``target``; all commit latencies (s) and chunks lost."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 2.0 + 0.2 * n  # time for every process to import and connect
    procs = [
        ctx.Process(target=_station, args=(target, f"S{n}_{i}", seconds, start_at, out))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(30)
    latencies = np.concatenate([np.asarray(r[1]) for r in results])
    return latencies, sum(r[2] for r in results)


def _fill(store, code: str, n_trials: int, n_samples: int) -> None:
    """``n_trials`` finished 100 Hz trials of ``n_samples`` for patient ``code``."""
    from nmr_balance.stream import SampleBlock
    from recordings.chunks import split
    from recordings.store import PROCESSED, RAW

    info = _info()
    store.ensure_patient(code)
    rng = np.random.default_rng(3)
    sid = 0
    for i in range(n_trials):
        if i % 5 == 0:  # five trials a visit
            sid = store.start_session(code).id
        c = np.arange(n_samples, dtype=np.int64)
        block = SampleBlock(c * 10_000_000, c / 100, c, rng.normal(size=(n_samples, N_CH)))
        with store.transaction():
            tid = store.begin_trial(sid, info, info)
            for seq, part in enumerate(split(block, 250)):
                store.append_chunk(tid, RAW, seq, part)
                store.append_chunk(tid, PROCESSED, seq, part)
        store.finish_trial(tid, "complete", {"mean_velocity": float(i)})


def run(quick: bool = False) -> Report:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from pg_server import ThrowawayServer

    from recordings import Store
    from recordings.push import push

    report = Report(
        "Clinic server (PostgreSQL vs SQLite)", "python -m benchmarks.bench_clinic_server"
    )
    counts = (1, 3) if quick else (1, 3, 10, 20)
    seconds = 2.0 if quick else 15.0
    with ThrowawayServer() as server, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        holds = 0
        for n in counts:
            pg, pg_lost = _stations(server.url, n, seconds)
            lite, lite_lost = _stations(str(tmp / f"st{n}.db"), n, seconds)
            p99_pg, p99_lite = np.percentile(pg, 99), np.percentile(lite, 99)
            if p99_pg < 1.0 and pg_lost == 0:
                holds = n
            report.add(
                f"commit latency p99, {n} station(s) x 1 kHz x 8 ch",
                p99_pg * 1e3,
                "ms",
                p99_lite * 1e3,
                "one SQLite file",
                "< 1000 ms" if n == counts[-1] else "",
                f"median {np.median(pg) * 1e3:.1f} ms (SQLite {np.median(lite) * 1e3:.1f}); "
                f"max {pg.max() * 1e3:.0f} ms; {len(pg)} commits, chunks lost: "
                f"{pg_lost} (SQLite {lite_lost}); {n * FS * 2 * (3 + N_CH) * 8 / 2**20:.2f} "
                "MiB/s written",
            )
            report.headline[f"commit_p99_ms_{n}_stations"] = round(float(p99_pg * 1e3), 1)
        report.add(
            "stations one server held (commit p99 < 1 s, nothing lost)",
            holds,
            "stations",
            None,
            "",
            "",
            f"largest count tried: {counts[-1]}; 2 cores shared by server and stations",
        )
        report.headline["stations_held"] = holds
        # Push 100 finished trials (30 s at 100 Hz each) from a station's file to the server.
        n_push = 10 if quick else 100
        with Store.open(tmp / "offline.db") as local:
            _fill(local, "PUSH", n_push, 3000)
        t0 = time.perf_counter()
        with Store.open(tmp / "offline.db") as local, Store.open(server.url) as remote:
            done = push(local, remote)
        t_push = time.perf_counter() - t0
        t0 = time.perf_counter()
        with Store.open(tmp / "offline.db") as local, Store.open(server.url) as remote:
            again = push(local, remote)
        t_again = time.perf_counter() - t0
        assert len(done.uploaded) == n_push and len(again.already) == n_push
        report.add(
            f"push of {n_push} trials (30 s at 100 Hz x 8 ch each)",
            t_push,
            "s",
            None,
            "",
            "",
            f"{t_push / n_push * 1e3:.0f} ms per trial; pushing again (nothing to do): "
            f"{t_again:.2f} s",
        )
        # The progress view's query: every trial of a patient with 500 trials.
        n_prog = 50 if quick else 500
        with Store.open(server.url) as remote:
            _fill(remote, "PROG", n_prog, 300)
        with Store.open(tmp / "progress.db") as local:
            _fill(local, "PROG", n_prog, 300)
        timings = {}
        for name, target in (("pg", server.url), ("sqlite", str(tmp / "progress.db"))):
            with Store.open(target) as store:
                best = float("inf")
                for _ in range(5):
                    t0 = time.perf_counter()
                    trials = store.trials(patient="PROG")
                    best = min(best, time.perf_counter() - t0)
                assert len(trials) == n_prog
                timings[name] = best
        report.add(
            f"progress query: all {n_prog} trials of one patient",
            timings["pg"] * 1e3,
            "ms",
            timings["sqlite"] * 1e3,
            "SQLite file",
            "",
            "Store.trials(patient=...) with results, best of 5",
        )
    return report


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    rep = run(quick)
    print(rep.text())
    print(json.dumps(rep.headline))
