"""Recordings: write throughput and CPU cost of recording 1 kHz x 8 channels, replay speed,
database size per recorded minute.

``python -m benchmarks.bench_recordings [--quick]``
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._report import Report
from nmr_balance.frontend.stage import PassThrough
from nmr_balance.pipeline import Pipeline
from nmr_balance.source import Source
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo

N_CH, FS = 8, 1000.0


class EightChannels(Source):
    """1 kHz x 8 channels in packets of 10 samples, paced like a serial device (or unpaced)."""

    def __init__(self, realtime: bool = True, seconds: float | None = None):
        super().__init__("bench://eight")
        self.realtime, self.limit = realtime, None if seconds is None else int(seconds * FS)
        self._n = 0
        self._rng = np.random.default_rng(0)

    def _do_open(self) -> StreamInfo:
        return StreamInfo(
            self.url,
            tuple(Channel(f"c{i}", "N") for i in range(N_CH)),
            FS,
            SensorKind.LOAD_CELLS,
            device="benchmark",
        )

    def _do_start(self) -> None:
        self._t0 = time.monotonic() - self._n / FS

    def _do_read(self, timeout):
        due = 10
        if self.realtime:
            wait = self._t0 + (self._n + 10) / FS - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        if self.limit is not None and self._n >= self.limit:
            self._mark_ended()
            return SampleBlock.empty(N_CH)
        c = np.arange(self._n, self._n + due, dtype=np.int64)
        self._n += due
        return SampleBlock(
            np.full(due, time.monotonic_ns()), c / FS, c, self._rng.normal(100, 5, (due, N_CH))
        )


def _record(db: Path, seconds: float, with_recorder: bool, realtime: bool = True):
    """Run the pipeline for ``seconds`` (optionally recording); return (cpu s, wall s, trial)."""
    from recordings import Store
    from recordings.recorder import Recorder

    with Store.open(db) as store:
        store.ensure_patient("BENCH")
        session = store.start_session("BENCH")
        cpu0, t0 = time.process_time(), time.monotonic()
        with Pipeline(
            EightChannels(realtime, None if realtime else seconds), [PassThrough()]
        ) as pipeline:
            rec = Recorder(store, pipeline, session.id, from_start=True) if with_recorder else None
            trial = rec.start() if rec else None
            while pipeline.running and time.monotonic() - t0 < (seconds if realtime else 1e9):
                time.sleep(0.05)
            if rec:
                rec.stop()
        wall = time.monotonic() - t0
        return time.process_time() - cpu0, wall, trial, (rec.cpu_s / wall if rec else 0.0)


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


def _flat_file_baseline(folder: Path, blocks: list[SampleBlock], per_commit: int) -> float:
    """Same bytes appended to a flat file, fsync per commit: the least a durable write costs."""
    from recordings import chunks

    t0 = time.perf_counter()
    with open(folder / "flat.bin", "wb") as f:
        for i, b in enumerate(blocks):
            f.write(chunks.encode(b))
            if (i + 1) % per_commit == 0:
                f.flush()
                os.fsync(f.fileno())
    return time.perf_counter() - t0


def _replay_plate(tmp: Path, n: int) -> float:
    """Replay ``n`` samples of a 1 kHz 6-axis plate through the default front-end; x real time."""
    from nmr_balance.app import open_source
    from recordings import Store
    from recordings.chunks import split
    from recordings.store import RAW

    rng = np.random.default_rng(2)
    fz = 700 + rng.normal(0, 5, n)
    data = np.column_stack(
        [
            rng.normal(0, 2, n),
            rng.normal(0, 2, n),
            fz,
            0.003 * fz,
            -0.004 * fz,
            rng.normal(0, 0.3, n),
        ]
    )
    c = np.arange(n, dtype=np.int64)
    info = StreamInfo(
        "bench://plate",
        tuple(
            Channel(k, "N" if k[0] == "F" else "N m") for k in ("Fx", "Fy", "Fz", "Mx", "My", "Mz")
        ),
        FS,
        SensorKind.FORCE_PLATE,
        {"surface_offset_mm": 0.0},
    )
    with Store.open(tmp / "plate.db") as store:
        store.ensure_patient("BENCH")
        sid = store.start_session("BENCH").id
        with store.transaction():
            tid = store.begin_trial(sid, info, info, status="complete")
            block = SampleBlock(c * 1_000_000, c / FS, c, data)
            for seq, part in enumerate(split(block, 250)):
                store.append_chunk(tid, RAW, seq, part)
    with Pipeline(open_source(f"replay://{tmp / 'plate.db'}?trial={tid}&speed=max")) as pipeline:
        t0 = time.perf_counter()
        pipeline.wait_for_samples(n, timeout=120)
        return pipeline.processed.written / FS / (time.perf_counter() - t0)


def run(quick: bool = False) -> Report:
    from recordings import Store
    from recordings.store import RAW

    report = Report(
        "Recordings (SQLite store, recorder, replay)", "python -m benchmarks.bench_recordings"
    )
    seconds = 2.0 if quick else 20.0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. CPU cost of recording live 1 kHz x 8 channels (same pipeline without the recorder)
        cpu_base, wall_base, _, _ = _record(tmp / "base.db", seconds, with_recorder=False)
        db = tmp / "live.db"
        cpu_rec, wall_rec, trial, thread_share = _record(db, seconds, with_recorder=True)
        extra = thread_share * 100
        diff = (cpu_rec / wall_rec - cpu_base / wall_base) * 100
        report.add(
            "recorder CPU while recording 1 kHz x 8 ch",
            extra,
            "% of a core",
            None,
            "",
            "",
            f"recorder thread's own CPU time; process CPU with - without recorder: "
            f"{diff:+.2f} % (pipeline alone {cpu_base / wall_base * 100:.1f} %); commits "
            "every 0.25 s, synchronous=FULL",
        )
        size_per_min = _size(db) / wall_rec * 60 / 2**20
        with Store.open(db) as store:
            n = len(store.samples(trial, RAW))
        bytes_min = 8 * FS * 60 * ((3 + N_CH) + (3 + N_CH)) / 2**20  # raw + processed copies
        report.add(
            "database size per recorded minute, 1 kHz x 8 ch",
            size_per_min,
            "MiB/min",
            bytes_min,
            "bare sample bytes",
            "",
            f"raw + processed streams; {n} samples recorded in {wall_rec:.1f} s",
        )
        # 2. Write throughput: chunks of 250 samples, a commit every 4 chunks (1 s at 1 kHz)
        n_blocks = 80 if quick else 400
        rng = np.random.default_rng(1)
        blocks = [
            SampleBlock(
                np.arange(250, dtype=np.int64) + i * 250,
                np.zeros(250),
                np.arange(i * 250, (i + 1) * 250, dtype=np.int64),
                rng.normal(size=(250, N_CH)),
            )
            for i in range(n_blocks)
        ]
        with Store.open(tmp / "write.db") as store:
            store.ensure_patient("BENCH")
            sid = store.start_session("BENCH").id
            info = EightChannels()._do_open()
            with store.transaction():
                tid = store.begin_trial(sid, info, info, status="complete")
            t0 = time.perf_counter()
            for j in range(0, n_blocks, 4):
                with store.transaction():
                    for k in range(j, min(j + 4, n_blocks)):
                        store.append_chunk(tid, RAW, k, blocks[k])
            dt = time.perf_counter() - t0
        flat = _flat_file_baseline(tmp, blocks, 4)
        per_sample = dt / (n_blocks * 250) * 1e6
        report.add(
            "store write, 8 ch, chunks of 250, commit per 1000",
            per_sample,
            "us/sample",
            flat / (n_blocks * 250) * 1e6,
            "flat file + fsync",
            "",
            f"{n_blocks * 250 / dt / 1e6:.2f} M samples/s = {n_blocks * 250 / dt / FS:.0f}x "
            "a 1 kHz stream",
        )
        # 3. Replay through the pipeline as fast as possible (a long trial written above)
        from nmr_balance.app import open_source

        source = open_source(f"replay://{tmp / 'write.db'}?trial={tid}&speed=max")
        total = n_blocks * 250
        with Pipeline(source, [PassThrough()]) as pipeline:  # opening is not timed
            t0 = time.perf_counter()
            pipeline.wait_for_samples(total, timeout=120)
            dt = time.perf_counter() - t0
            got = pipeline.processed.written
        t1 = time.perf_counter()
        with Store.open(tmp / "write.db") as store:
            store.samples(tid, RAW)
        load = time.perf_counter() - t1
        speed = got / FS / dt
        report.add(
            "replay speed, 8 ch, pass-through stages (speed=max)",
            speed,
            "x real time",
            None,
            "",
            "",
            f"{got} samples in {dt:.2f} s; loading them all at once takes {load * 1e3:.0f} ms",
        )
        plate_speed = _replay_plate(tmp, n_blocks * 250)
        report.add(
            "replay speed, 1 kHz plate, default front-end (speed=max)",
            plate_speed,
            "x real time",
            None,
            "",
            "",
            "COP from forces and moments + causal 10 Hz low-pass: the live path",
        )
        report.headline.update(
            recorder_cpu_pct=round(extra, 3),
            db_mib_per_min_1khz_8ch=round(size_per_min, 2),
            write_us_per_sample=round(per_sample, 4),
            replay_x_realtime=round(speed, 1),
        )
    return report


if __name__ == "__main__":
    print(run("--quick" in sys.argv).text())
