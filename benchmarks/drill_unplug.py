"""Unplug/replug drill: the serial board's pty closed and reopened, the BLE board dropping its link.

    python -m benchmarks.drill_unplug                       # 20 min, an unplug every 5 min
    python -m benchmarks.drill_unplug --seconds 40 --every 8   # a quick check

Serial: ``nmr-balance emulate --faults disconnect --fault-every EVERY --down DOWN`` (a
subprocess) closes its pty every EVERY s and reopens it DOWN s later at the same link path (like
udev's /dev/serial/by-id). BLE: the fake bleak backend (``tests/_fake_bleak.py``) streaming a
real WitMotion WT901BLE67 capture drops the link every EVERY s for DOWN s. Both sources run
through their own pipeline with a recorder on, at the same time.

Per unplug: reconnect time (from the device being back to samples streaming again), the outage
the pipeline saw (lost -> streaming), and whether the gap is in the database (``device_lost``
and ``device_back`` events, plus a ``signal_gap`` with the missing count for the serial board,
whose counter says how many samples it sent meanwhile). Recording continues: samples recorded
after the last replug, trial ``complete``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks._drills import add_length_options, header, length_s, recording, save
from benchmarks._emulated import emulated_pipeline
from nmr_balance.pipeline import Pipeline
from nmr_balance.source import Status
from recordings import Store
from recordings.store import RAW

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "tests/data/devices/witmotion_wt901ble67_ble/wt901-100hz.jsonl"
BLE_ADDR = "C1:D2:E3:F4:A5:B6"


class StatusLog:
    """(monotonic time, status) of every status change of a source, from any thread."""

    def __init__(self, source) -> None:
        self.events: list[tuple[float, Status]] = []
        source.add_status_listener(lambda e: self.events.append((e.t_monotonic, e.status)))

    def recoveries(self, back_times: list[float]) -> list[dict]:
        """Per replug time: lost -> streaming (outage) and replug -> streaming (reconnect)."""
        out = []
        for back in back_times:
            lost = [t for t, s in self.events if s is Status.LOST and t <= back]
            up = [t for t, s in self.events if s is Status.STREAMING and t >= back]
            out.append(
                {
                    "outage_s": round(up[0] - lost[-1], 3) if lost and up else None,
                    "reconnect_s": round(up[0] - back, 3) if up else None,
                }
            )
        return out


def _announcements(proc, times: list[float]) -> threading.Thread:
    """The emulator prints its link each time the pty reopens (spawn() read the first): note when."""

    def read() -> None:
        for _line in proc.stdout:
            times.append(time.monotonic())

    thread = threading.Thread(target=read, daemon=True, name="emulator announcements")
    thread.start()
    return thread


def serial_drill(tmp: Path, seconds: float, every_s: float, down_s: float, results: dict) -> None:
    args = [
        "--faults",
        "disconnect",
        "--fault-every",
        f"{every_s:g}",
        "--down",
        f"{down_s:g}",
        "--duration",
        f"{seconds:g}",
        "--channels",
        "8",
    ]
    replugs: list[float] = []
    with emulated_pipeline(tmp / "tty", 1000.0, *args) as run:
        log = StatusLog(run.pipeline.source)
        _announcements(run.emulator, replugs)
        with recording(tmp / "serial.db", run.pipeline, "unplug drill, serial") as rec:
            run.emulator.wait(seconds + 60)
            time.sleep(0.5)
        stats = run.pipeline.stats()
    results["serial"] = _summary("serial", tmp / "serial.db", rec.trial_id, log, replugs, stats)


def ble_drill(tmp: Path, seconds: float, every_s: float, down_s: float, results: dict) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from _fake_bleak import FakeAir, FakePeripheral, make_backends

    from drivers.device_source import DeviceSource
    from drivers.protocols.witmotion import WitmotionBleDecoder
    from drivers.transports.ble import PROFILES, BleTransport

    payloads = [
        bytes.fromhex(json.loads(line)["hex"]) for line in CAPTURE.read_text().splitlines()[1:]
    ]
    profile = PROFILES["witmotion"]
    board = FakePeripheral(
        "WT901BLE67",
        BLE_ADDR,
        profile.service,
        profile.notify,
        profile.write,
        payloads,
        interval_s=0.04,
        down_s=down_s,
    )  # 4 samples a notification
    client, scanner = make_backends(FakeAir(board))
    transport = BleTransport(
        BLE_ADDR, profile, scan_timeout_s=5.0, client_backend=client, scanner_backend=scanner
    )
    source = DeviceSource(
        "ble://fake-wt901", transport, WitmotionBleDecoder(100.0), open_timeout_s=5.0
    )
    log = StatusLog(source)
    back: list[float] = []
    with Pipeline(source) as pipe, recording(tmp / "ble.db", pipe, "unplug drill, BLE") as rec:
        t_end = time.monotonic() + seconds
        next_drop = time.monotonic() + every_s
        while time.monotonic() < t_end:
            # like the emulator, no unplug in the run's last seconds: the board could not be back
            ends_soon = time.monotonic() + down_s + 2.0 > t_end
            if time.monotonic() >= next_drop and board.drop_after is None and not ends_soon:
                board.drop_after = (
                    board.sent + 1
                )  # the fake drops the link at its next notification
                next_drop += every_s
                while board.available and time.monotonic() < t_end:
                    time.sleep(0.002)
                while not board.available and time.monotonic() < t_end:
                    time.sleep(0.002)
                # the board's own time of coming back: on a busy machine this thread may notice
                # it only after the source streams again (which then looked like no recovery)
                back.append(board.back_t if board.available else time.monotonic())
            time.sleep(0.01)
        _wait_streaming_again(source, pipe)
        stats = pipe.stats()
    results["ble"] = _summary("ble", tmp / "ble.db", rec.trial_id, log, back, stats)


def _wait_streaming_again(source, pipe: Pipeline, hang_s: float = 30.0) -> None:
    """At the end of a run, give the last replug its recovery: wait (bounded) until the source
    streams and the pipeline has processed a few samples more, so a busy machine's slow
    reconnection shows in ``reconnect_s`` rather than as a failure to recover."""
    deadline = time.monotonic() + hang_s
    while source.status is not Status.STREAMING and time.monotonic() < deadline:
        time.sleep(0.02)
    n0 = pipe.processed.written
    while pipe.processed.written < n0 + 10 and time.monotonic() < deadline:
        time.sleep(0.02)


def _summary(
    name: str, db: Path, trial_id: int, log: StatusLog, back_times: list[float], stats
) -> dict:
    rec = log.recoveries(back_times)
    with Store.open(db) as store:
        events = store.events(trial_id)
        raw = store.samples(trial_id, RAW)
        trial = store.trial(trial_id)
        integrity = store.check() or "ok"
    kinds = [e.kind for e in events]
    after_last = (
        int(np.sum(raw.t_host_ns > back_times[-1] * 1e9)) if back_times and len(raw) else None
    )
    reconnect = [r["reconnect_s"] for r in rec if r["reconnect_s"] is not None]
    return {
        "unplugs": len(back_times),
        "recovered": len(reconnect),
        "reconnect_s_max": max(reconnect, default=None),
        "reconnect_s_median": float(np.median(reconnect)) if reconnect else None,
        "per_unplug": rec,
        "db_device_lost_events": kinds.count("device_lost"),
        "db_device_back_events": kinds.count("device_back"),
        "db_signal_gaps": [e.payload.get("missing") for e in events if e.kind == "signal_gap"],
        "samples_recorded": len(raw),
        "samples_after_last_replug": after_last,
        "pipeline_dropped": stats.dropped,
        "trial_status": trial.status,
        "db_integrity": integrity,
        "ok": (
            len(reconnect) == len(back_times)
            and kinds.count("device_back") >= len(back_times)
            and bool(after_last)
            and trial.status == "complete"
            and integrity == "ok"
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_length_options(parser, default_minutes=20)
    parser.add_argument(
        "--every", type=float, default=300.0, help="seconds between unplugs (default 300)"
    )
    parser.add_argument(
        "--down", type=float, default=1.0, help="seconds each unplug lasts (default 1)"
    )
    args = parser.parse_args(argv)
    seconds = length_s(args)
    result = {
        **header("drill_unplug"),
        "seconds": seconds,
        "every_s": args.every,
        "down_s": args.down,
    }
    with tempfile.TemporaryDirectory() as tmp:
        threads = [
            threading.Thread(target=fn, args=(Path(tmp), seconds, args.every, args.down, result))
            for fn in (serial_drill, ble_drill)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    result["ok"] = all(result.get(k, {}).get("ok") for k in ("serial", "ble"))
    path = save(result, args.json)
    for k in ("serial", "ble"):
        r = result.get(k)
        if r is None:
            print(f"{k}: did not finish (see the error above)")
            continue
        print(
            f"{k}: {r['recovered']}/{r['unplugs']} unplugs recovered, reconnect median "
            f"{r['reconnect_s_median']} s max {r['reconnect_s_max']} s; db events lost/back "
            f"{r['db_device_lost_events']}/{r['db_device_back_events']}, gaps {r['db_signal_gaps']}; "
            f"{r['samples_after_last_replug']} samples after the last replug; trial "
            f"{r['trial_status']}, integrity {r['db_integrity']}"
        )
    print(f"{'OK' if result['ok'] else 'FAILED'}; figures: {path}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
