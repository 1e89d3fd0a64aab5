"""The engine host: commands and replies in-process, then the real engine process with a UI
thread that freezes (nothing may be lost) and an engine that dies (the UI must say so)."""

from __future__ import annotations

import queue
import time

import numpy as np
import pytest

from nmr_balance.app import open_source
from nmr_balance.app.engine_process import run_engine
from nmr_balance.engine.loop import EngineLoop
from nmr_balance.ring import RingBuffer

pytestmark = pytest.mark.timeout(90)


class FakeRecorder:
    recording = True
    error = None

    def __init__(self, pipeline, session_id, protocol, condition, parameters):
        self.args = (session_id, protocol, condition, parameters)
        self.marks = []

    def start(self):
        return 41

    def mark(self, kind, **payload):
        self.marks.append((kind, payload))

    def cue(self, text, **payload):
        self.marks.append(("cue", {"text": text}))

    def stop(self, status="complete"):
        return {"status_given": status}


def drain(q):
    out = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out


def test_engine_loop_obeys_commands_and_reports_errors_without_dying():
    replies = queue.SimpleQueue()
    recorders = []
    loop = EngineLoop(
        replies, open_source, lambda *a: recorders.append(FakeRecorder(*a)) or recorders[-1]
    )
    try:
        assert loop.handle({"cmd": "start_trial", "session_id": 1})
        err = drain(replies)[-1]
        assert err["kind"] == "error" and "no source is connected" in err["message"] and err["hint"]
        assert loop.handle({"cmd": "switch_source", "url": "sim://?rate=bogus"})
        err = drain(replies)[-1]
        assert err["kind"] == "error" and err["error_type"] == "InvalidParameterError"
        loop.handle({"cmd": "switch_source", "url": "sim://?rate=200"})
        ready = drain(replies)[-1]
        assert ready["kind"] == "ready" and ready["info"]["fs"] == 200.0
        ring = RingBuffer.attach(ready["processed_ring"])  # another reader of the same memory
        assert loop.pipeline.wait_for_samples(20, 5.0)
        assert ring.written >= 20
        loop.handle(
            {
                "cmd": "start_trial",
                "session_id": 7,
                "protocol": "romberg",
                "condition": "eyes_closed",
            }
        )
        assert drain(replies)[-1] == {"kind": "trial_started", "trial_id": 41}
        assert recorders[0].args[:3] == (7, "romberg", "eyes_closed")
        loop.handle({"cmd": "cue", "text": "look ahead"})
        loop.handle({"cmd": "marker", "kind": "target_hit", "payload": {"target": 2}})
        assert recorders[0].marks == [
            ("cue", {"text": "look ahead"}),
            ("target_hit", {"target": 2}),
        ]
        loop.handle({"cmd": "tare"})  # a COP stream has no load cells to tare: say so
        assert "nothing to tare" in drain(replies)[-1]["message"]
        loop.handle({"cmd": "stop_trial", "status": "aborted"})
        got = drain(replies)
        assert {"kind": "trial_stopped", "trial_id": 41, "status": "aborted"} in got
        assert got[-1]["metrics"] == {"status_given": "aborted"}
        loop.handle({"cmd": "bogus"})
        assert "does not know the command" in drain(replies)[-1]["message"]
        loop._last_stats = 0
        loop.tick()
        kinds = [m["kind"] for m in drain(replies)]
        assert "stats" in kinds and "status" in kinds
        ring.close()
        # load cells can be tared and a wobble-board IMU levelled, on the acquisition thread
        for url, cmd, said in (
            ("sim://?rate=100&sensor=cells", "tare", "zeroed the load"),
            ("sim://?rate=100&sensor=imu", "level", "levelled the board"),
        ):
            loop.handle({"cmd": "switch_source", "url": url})
            assert drain(replies)[-1]["kind"] == "ready"
            loop.handle({"cmd": cmd})
            assert said in drain(replies)[-1]["message"]
        assert loop.handle({"cmd": "shutdown"}) is False
    finally:
        loop.close()
    assert loop.pipeline is None


def test_a_timed_trial_ends_by_itself_after_exactly_its_duration(tmp_path):
    """The console sends duration_s: the engine ends the trial at that sample, not at a tick."""
    from nmr_balance.app.engine_process import recorder_factory
    from recordings import PROCESSED, RAW, Store

    with Store.open(tmp_path / "station.db") as store:
        store.add_patient("P001")
        session_id = store.start_session("P001").id
    replies = queue.SimpleQueue()
    loop = EngineLoop(replies, open_source, recorder_factory(str(tmp_path / "station.db")))
    try:
        loop.handle({"cmd": "switch_source", "url": "sim://?rate=100"})
        loop.handle(
            {
                "cmd": "start_trial",
                "session_id": session_id,
                "protocol": "free",
                "parameters": {"duration_s": 1.5},
            }
        )
        got = drain(replies)
        trial_id = next(m["trial_id"] for m in got if m["kind"] == "trial_started")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(m["kind"] == "trial_metrics" for m in got):
            loop.tick()
            time.sleep(0.02)
            got += drain(replies)
        assert {"kind": "trial_stopped", "trial_id": trial_id, "status": "complete"} in got
        assert loop.recorder is None and loop.pipeline.running  # the stream goes on
        loop.handle({"cmd": "stop_trial"})  # the UI's stop crossed the trial's own end: no error
        assert not [m for m in drain(replies) if m["kind"] == "error"]
    finally:
        loop.close()
    with Store.open(tmp_path / "station.db") as store:
        for stream in (RAW, PROCESSED):
            counters = store.samples(trial_id, stream).counter
            assert len(counters) == 150 and np.all(np.diff(counters) == 1)
        assert store.trials()[0].status == "complete"


@pytest.fixture
def station(tmp_path):
    """A station database with one patient and an open session."""
    from recordings import Store

    store = Store.open(tmp_path / "station.db")
    store.add_patient("P001")
    session = store.start_session("P001")
    yield store, session.id
    store.close()


def test_frozen_ui_loses_no_sample_and_the_recording_has_no_gap(qtbot, station):
    from recordings import PROCESSED
    from ui.engine_client import EngineClient

    store, session_id = station
    client = EngineClient(run_engine, store_path=str(store.path))
    try:
        with qtbot.waitSignal(client.ready, timeout=30000):
            client.start("sim://?rate=500")
        feed = client.feed
        with qtbot.waitSignal(client.trial_started, timeout=10000):
            client.send(
                "start_trial", session_id=session_id, protocol="free", condition="eyes_open"
            )
        counters = []
        t_end = time.monotonic() + 0.7
        while time.monotonic() < t_end:
            counters.append(feed.pull().counter)
            qtbot.wait(16)
        time.sleep(2.0)  # the GUI thread is frozen: no event loop, no reads
        counters.append(feed.pull().counter)  # one catch-up read after the freeze
        qtbot.wait(300)
        counters.append(feed.pull().counter)
        with qtbot.waitSignal(client.trial_stopped, timeout=15000) as stopped:
            client.send("stop_trial", status="complete")
        trial_id = stopped.args[0]
    finally:
        client.close()
    seen = np.concatenate(counters)
    assert len(seen) > 500 * 2.5 and feed.missed == 0
    assert np.all(np.diff(seen) == 1), "the UI's reader skipped samples"
    stored = store.samples(trial_id, PROCESSED)
    assert len(stored) > 500 * 2.5
    assert stored.gaps() == 0 and np.all(np.diff(stored.counter) == 1)
    trial = store.trial(trial_id)
    assert trial.status == "complete"
    assert not [e for e in store.events(trial_id) if e.kind in ("signal_gap", "overrun")]


def test_the_engine_stops_by_itself_when_the_ui_process_is_killed(tmp_path):
    """SIGKILL of the UI (a crash): the engine notices its parent is gone, closes and exits
    instead of streaming on with nobody listening."""
    import os
    import pathlib
    import signal
    import subprocess
    import sys

    from _helpers import REPO

    code = (
        "import time\n"
        "from nmr_balance.app.engine_process import run_engine\n"
        "from nmr_balance.engine.host import EngineHost\n"
        f"host = EngineHost(run_engine, store_path={str(tmp_path / 's.db')!r})\n"
        "host.start('sim://?rate=100')\n"
        "assert host.wait_for('ready', 60)[0] is not None\n"
        "print(host.process.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    ui = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        engine_pid = int(ui.stdout.readline())
        os.kill(ui.pid, signal.SIGKILL)
        ui.wait(10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(engine_pid, 0)
            except ProcessLookupError:
                break  # gone
            if pathlib.Path(f"/proc/{engine_pid}/stat").read_text().split()[2] == "Z":
                break  # exited, waiting to be reaped by init
            time.sleep(0.1)
        else:
            os.kill(engine_pid, signal.SIGKILL)
            pytest.fail("the engine kept running after its UI was killed")
    finally:
        if ui.poll() is None:
            ui.kill()
