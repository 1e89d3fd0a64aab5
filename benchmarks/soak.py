"""Soak: an hour at 1 kHz from the emulator over a pty, recorder on, a live view running.

    python -m benchmarks.soak                      # 60 minutes, 1 kHz x 8 channels
    python -m benchmarks.soak --seconds 30         # a short check of the drill itself
    python -m benchmarks.soak --seconds 5 --fifo block   # check the counting only (tests)
    nohup python -m benchmarks.soak --json /work/drills-logs/soak.json > /work/drills-logs/soak.log 2>&1 &

The emulator (``nmr-balance emulate --protocol nmr --host-clock --channels 8 --duration T``, a
subprocess) ends by itself after T and reports how many samples it sent. The soak checks, end
to end:

- zero samples lost: the pipeline saw no counter gap; the database holds every counter from the
  first received to the emulator's last one (``sent - 1``), each exactly once, with the ``aux1``
  channel (= counter mod 2**24, sent by the emulator) intact; raw and processed counts agree.
  (The first received counter is a few tens: a source delivers from ``start()``, and what the
  board sent between ``open()`` (which waits for the first sample) and ``start()`` is dropped
  by design. It is reported as ``db_first_counter``.)
- memory flat: resident size sampled every 10 s; slope over the second half (after the rings
  have filled) in MB/h;
- latency stable: emulator write -> processed p50/p99/max per minute (and from the reader
  thread's receive, i.e. without the transport: ``from_receive``).

``--fifo block`` makes the emulated board wait for a slow reader instead of losing bytes like
a UART FIFO: then the run checks that every sample is counted and stored end to end, whatever
the machine's load, but no longer that the host keeps up in real time (the drill's claim; the
test suite's smoke test uses it so, the drill itself runs with the dropping FIFO).

The live view is the dashboard's live view (``ui.live_view``, Qt offscreen, 60 Hz) in its own
process on the pipeline's shared-memory ring, as the app runs it (``--view ui``, the default when
``ui`` is present), or the headless console view (``nmr_balance.terminal_view.run_console``, 4 Hz,
``--view headless``).
Figures go to the JSON file (rewritten every minute while running, ``"state": "done"`` at the
end) and to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from benchmarks._emulated import emulated_pipeline, figures
from drivers.emulator import sent_samples
from recordings import Store
from recordings.recorder import Recorder
from recordings.store import PROCESSED, RAW

RESULTS = Path(__file__).resolve().parent / "results"
RSS_EVERY_S = 10.0
AUX_MOD = 1 << 24


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def slope_mb_per_h(t_s: np.ndarray, rss: np.ndarray) -> float:
    """Least-squares slope of resident size over time, MB/h (NaN with fewer than 3 points)."""
    if len(t_s) < 3:
        return float("nan")
    return float(np.polyfit(t_s / 3600.0, rss, 1)[0])


class Monitor(threading.Thread):
    """Samples resident size and, per bucket (a minute), the latency figures; saves JSON."""

    def __init__(self, run, bucket_s: float, save) -> None:
        super().__init__(name="soak monitor", daemon=True)
        self.run_, self.bucket_s, self.save = run, bucket_s, save
        self.t0 = time.monotonic()
        self.rss: list[tuple[float, float]] = [(0.0, rss_mb())]
        self.buckets: list[dict] = []
        self.all_lat: list[np.ndarray] = []  # per-bucket p99s only; raw latencies are dropped
        self.done = threading.Event()

    def run(self) -> None:
        next_bucket = self.bucket_s
        while not self.done.wait(min(RSS_EVERY_S, self.bucket_s)):
            t = time.monotonic() - self.t0
            self.rss.append((t, rss_mb()))
            if t >= next_bucket:
                self.close_bucket(t)
                next_bucket += self.bucket_s

    def close_bucket(self, t: float) -> None:
        lat, from_receive = self.run_.probe.take()
        s = self.run_.pipeline.stats()
        row = {
            "t_s": round(t, 1),
            **_rounded(figures(lat)),
            "from_receive": _rounded(figures(from_receive)),
            "samples": s.samples,
            "dropped": s.dropped,
            "rss_mb": round(self.rss[-1][1], 1),
        }
        self.buckets.append(row)
        print(
            f"[{time.strftime('%H:%M:%S')}] t={t:6.0f} s  latency p50 {row['p50']:.2f} p99 "
            f"{row['p99']:.2f} max {row['max']:.2f} ms  samples {s.samples}  dropped "
            f"{s.dropped}  RSS {row['rss_mb']:.1f} MB",
            flush=True,
        )
        self.save(self.summary("running"))

    def summary(self, state: str) -> dict:
        t, rss = (np.array(v) for v in zip(*self.rss))
        half = t >= t[-1] / 2
        p99 = [b["p99"] for b in self.buckets if b["n"]]
        p99_receive = [b["from_receive"]["p99"] for b in self.buckets if b["n"]]
        return {
            "state": state,
            "rss_start_mb": round(float(rss[0]), 1),
            "rss_end_mb": round(float(rss[-1]), 1),
            "rss_max_mb": round(float(rss.max()), 1),
            "rss_slope_mb_per_h_second_half": round(slope_mb_per_h(t[half], rss[half]), 2),
            "latency_p99_per_bucket_median_ms": round(float(np.median(p99)), 3) if p99 else None,
            "latency_p99_per_bucket_max_ms": round(float(np.max(p99)), 3) if p99 else None,
            "latency_max_ms": max((b["max"] for b in self.buckets if b["n"]), default=None),
            "receive_p99_per_bucket_median_ms": round(float(np.median(p99_receive)), 3)
            if p99_receive
            else None,
            "per_bucket": self.buckets,
        }


def _rounded(fig: dict) -> dict:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in fig.items()}


def check_database(path: Path, trial_id: int, sent: int | None) -> dict:
    """Walk the recorded raw stream chunk by chunk: counters contiguous, aux1 intact, ends at sent-1."""
    with Store.open(path) as store:
        index = store.chunk_index(trial_id, RAW)
        first = last = None
        bad_aux = gaps = repeats = 0
        n = 0
        for seq0 in range(0, len(index), 2000):
            for block in store.read_chunks(trial_id, RAW, first_seq=seq0, max_chunks=2000):
                c = block.counter
                prev = last if last is not None else c[0] - 1
                steps = np.diff(np.concatenate([[prev], c]))
                gaps += int(np.sum(steps[steps > 1] - 1))
                repeats += int(np.sum(steps < 1))
                bad_aux += int(np.sum(block.data[:, 4] != c % AUX_MOD))
                first = int(c[0]) if first is None else first
                last = int(c[-1])
                n += len(c)
        n_processed = int(store.chunk_index(trial_id, PROCESSED)[:, 1].sum())
        trial = store.trial(trial_id)
        return {
            "db_raw_samples": n,
            "db_processed_samples": n_processed,
            "db_first_counter": first,
            "db_last_counter": last,
            "db_counter_gaps": gaps,
            "db_counter_repeats": repeats,
            "db_aux_mismatches": bad_aux,
            "emulator_sent": sent,
            "db_tail_missing": None if sent is None or last is None else sent - 1 - last,
            "db_integrity": store.check() or "ok",
            "trial_status": trial.status,
            "db_events": [e.kind for e in store.events(trial_id)],
        }


def run_view(pipeline, seconds: float, view: str, out) -> str:
    """Keep a live view drawing for ``seconds``; returns which view ran."""
    if view == "ui":
        from benchmarks._ui_view import run_ui_view

        figures = run_ui_view(pipeline, seconds)
        return (
            f"ui live view (ui.live_view.LiveView, Qt offscreen, 60 Hz timer) in its own "
            f"process on the shared processed ring: {figures['frames']} frames drawn, "
            f"{figures['samples_drawn']} samples pulled, {figures['feed_missed']} skipped, "
            f"frame cost median/max {figures['frame_cost_ms'][0]:.1f}/"
            f"{figures['frame_cost_ms'][1]:.1f} ms"
        )
    from nmr_balance.terminal_view import run_console

    run_console(pipeline, seconds, out=out)
    return "headless console view (nmr_balance.terminal_view.run_console, 4 Hz)"


def soak(
    seconds: float,
    rate: float,
    view: str,
    json_path: Path,
    db_dir: Path | None,
    keep_db: bool,
    fifo: str = "drop",
) -> dict:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "drill": "soak",
        "command": " ".join(["python -m benchmarks.soak", *sys.argv[1:]]),
        "started_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "planned_seconds": seconds,
        "rate_hz": rate,
        "channels": 8,
        "emulator_fifo": fifo,
        "machine": f"{platform.node()}, {os.cpu_count()} cores",
        "load_average_start": os.getloadavg()[0],
    }

    def save(body: dict) -> None:
        tmp = json_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**header, **body}, indent=1))
        tmp.replace(json_path)

    tmp_dir = tempfile.mkdtemp(prefix="soak-", dir=db_dir)
    db = Path(tmp_dir) / "soak.db"
    bucket_s = 60.0 if seconds >= 600 else max(2.0, seconds / 10)
    with Store.open(db) as store:
        store.ensure_patient("SOAK")
        session = store.start_session("SOAK", station="soak drill")
        args = ["--channels", "8", "--duration", f"{seconds:g}", "--fifo", fifo]
        with emulated_pipeline(Path(tmp_dir) / "tty", rate, *args, shared=view == "ui") as run:
            recorder = Recorder(store, run.pipeline, session.id, protocol="soak", from_start=True)
            trial_id = recorder.start()
            monitor = Monitor(run, bucket_s, save)
            monitor.start()
            # the console prints a line a second: to stdout on a short run, else only its summary
            with (
                open(os.devnull, "w")
                if seconds >= 120
                else contextlib.nullcontext(sys.stdout) as out
            ):
                view_name = run_view(run.pipeline, seconds + 1.0, view, out)
            run.emulator.wait(120 if fifo == "block" else 30)  # a waiting board ends later
            _wait_until_idle(run.pipeline)
            monitor.done.set()
            monitor.join()
            monitor.close_bucket(time.monotonic() - monitor.t0)
            stats = run.pipeline.stats()
            raw_written = run.pipeline.raw.written
            recorder.stop()
            sent = sent_samples(run.emulator.stderr.read().decode(errors="replace"))
    result = {
        **monitor.summary("done"),
        "view": view_name,
        "trial_id": trial_id,
        "pipeline_samples": stats.samples,
        "pipeline_raw_samples": raw_written,
        "pipeline_dropped": stats.dropped,
        "recorder_raw": recorder.n_raw,
        "recorder_processed": recorder.n_processed,
        **check_database(db, trial_id, sent),
        "load_average_end": os.getloadavg()[0],
        "ended_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }
    result["samples_lost"] = samples_lost(result)
    result["zero_lost"] = (
        result["samples_lost"] == 0
        and result["db_aux_mismatches"] == 0
        and result["db_counter_repeats"] == 0
        and sent is not None
        and result["db_processed_samples"] == result["db_raw_samples"]
    )
    if keep_db:
        result["db_path"] = str(db)
    else:
        for f in Path(tmp_dir).iterdir():
            f.unlink()
        os.rmdir(tmp_dir)
    save(result)
    return {**header, **result}


def samples_lost(r: dict) -> int:
    """Samples lost end to end, counted on the database's counters (also for older files).

    Holes between the first and the last recorded counter, the tail the database misses, and
    what reached the pipeline but not the database. The pipeline's own dropped count is the
    cross-check (before 2026-11-21 15:20 it counted a serial source's gaps twice).
    """
    return (
        r["db_counter_gaps"]
        + (r["db_tail_missing"] or 0)
        + (r["pipeline_raw_samples"] - r["db_raw_samples"])
    )


def _wait_until_idle(pipeline, quiet_s: float = 1.0, timeout_s: float = 15.0) -> None:
    """Until the processed count stops growing (the last bytes are through)."""
    end = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = pipeline.processed.written
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=60.0, help="length (default 60)")
    parser.add_argument("--seconds", type=float, default=None, help="length in seconds instead")
    parser.add_argument("--rate", type=float, default=1000.0, help="Hz (default 1000)")
    parser.add_argument(
        "--view",
        choices=("auto", "headless", "ui"),
        default="auto",
        help="live view: the Qt one offscreen if ui is present (auto), or the "
        "headless console view",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS / "soak.json",
        help="where the figures go (default benchmarks/results/soak.json)",
    )
    parser.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="directory for the temporary database (default: the system's temp)",
    )
    parser.add_argument("--keep-db", action="store_true", help="keep the recorded database")
    parser.add_argument(
        "--fifo",
        choices=("drop", "block"),
        default="drop",
        help="the emulated board's FIFO when the host is slow: drop bytes like a UART (default, "
        "the real-time claim) or block (the board waits: checks the counting only)",
    )
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None else args.minutes * 60.0
    view = args.view
    if view == "auto":
        from importlib.util import find_spec

        view = (
            "ui" if find_spec("ui.live_view") and find_spec("benchmarks._ui_view") else "headless"
        )
    result = soak(seconds, args.rate, view, args.json, args.db_dir, args.keep_db, args.fifo)
    keys = (
        "view",
        "zero_lost",
        "samples_lost",
        "emulator_sent",
        "db_raw_samples",
        "db_first_counter",
        "db_last_counter",
        "db_integrity",
        "trial_status",
        "rss_start_mb",
        "rss_end_mb",
        "rss_slope_mb_per_h_second_half",
        "latency_p99_per_bucket_median_ms",
        "latency_p99_per_bucket_max_ms",
        "latency_max_ms",
        "receive_p99_per_bucket_median_ms",
    )
    print(json.dumps({k: result[k] for k in keys}, indent=1))
    print(f"figures: {args.json}")
    return 0 if result["zero_lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
