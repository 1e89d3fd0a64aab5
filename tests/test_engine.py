"""The engine host: commands and replies in-process, then the real engine process with a UI
thread that freezes (nothing may be lost) and an engine that dies (the UI must say so)."""

from __future__ import annotations

import contextlib
import queue
import time

import numpy as np
import pytest

from nmr_balance.app import open_source
from nmr_balance.app.engine_process import run_engine
from nmr_balance.engine import messages as m
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
        self.marks.append(("cue", {"text": text, **payload}))

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
        assert loop.handle(m.StartTrial(session_id=1))
        err = drain(replies)[-1]
        assert isinstance(err, m.Error) and "no source is connected" in err.message and err.hint
        assert err.error_type == "EngineStateError"
        assert loop.handle(m.SwitchSource("sim://?rate=bogus"))
        err = drain(replies)[-1]
        assert isinstance(err, m.Error) and err.error_type == "InvalidParameterError"
        loop.handle(m.SwitchSource("sim://?rate=200"))
        ready = drain(replies)[-1]
        assert isinstance(ready, m.Ready) and ready.info["fs"] == 200.0
        ring = RingBuffer.attach(ready.processed_ring)  # another reader of the same memory
        assert loop.pipeline.wait_for_samples(20, 5.0)
        assert ring.written >= 20
        loop.handle(m.StartTrial(session_id=7, protocol="romberg", condition="eyes_closed"))
        assert drain(replies)[-1] == m.TrialStarted(41)
        assert recorders[0].args[:3] == (7, "romberg", "eyes_closed")
        loop.handle(m.StartTrial(session_id=7))  # one trial at a time: a state mistake
        err = drain(replies)[-1]
        assert err.error_type == "EngineStateError" and "already running" in err.message
        loop.handle(m.Cue("look ahead", "tactile"))
        loop.handle(m.Marker("target_hit", {"target": 2}))
        assert recorders[0].marks == [
            ("cue", {"text": "look ahead", "type": "tactile"}),
            ("target_hit", {"target": 2}),
        ]
        loop.handle(m.Tare())  # a COP stream has no load cells to tare: say so
        assert "nothing to tare" in drain(replies)[-1].message
        loop.handle(m.StopTrial("aborted"))
        got = drain(replies)
        assert m.TrialStopped(41, "aborted") in got
        assert got[-1] == m.TrialMetrics(41, {"status_given": "aborted"})
        # messages outside the protocol are refused with a clear error, the engine goes on
        for bogus in (
            {"cmd": "start_trial", "session_id": 1},
            "shutdown",
            m.Command(),
            m.Notice("x"),
        ):
            assert loop.handle(bogus) is True
            err = drain(replies)[-1]
            assert (
                err.error_type == "EngineStateError" and "does not know the message" in err.message
            )
        # record commands need the station database: without one, say so
        loop.handle(m.AddPatient("P001"))
        assert "no station database" in drain(replies)[-1].message
        loop._last_stats = 0
        loop.tick()
        kinds = {type(r) for r in drain(replies)}
        assert m.Stats in kinds and m.StatusChanged in kinds
        ring.close()
        # load cells can be tared and a wobble-board IMU levelled, on the acquisition thread
        for url, cmd, said in (
            ("sim://?rate=100&sensor=cells", m.Tare(), "zeroed the load"),
            ("sim://?rate=100&sensor=imu", m.Level(), "levelled the board"),
        ):
            loop.handle(m.SwitchSource(url))
            assert isinstance(drain(replies)[-1], m.Ready)
            loop.handle(cmd)
            assert said in drain(replies)[-1].message
        assert loop.handle(m.Shutdown()) is False
    finally:
        loop.close()
    assert loop.pipeline is None


def test_record_commands_are_written_by_the_engine(tmp_path):
    """The console's patients, sessions and notes go through the engine (the one writer)."""
    from recordings import Store

    replies = queue.SimpleQueue()
    with Store.open(tmp_path / "station.db") as store:
        loop = EngineLoop(replies, open_source, records=store)
        loop.handle(m.AddPatient("P001"))
        loop.handle(m.AddPatient("P001"))  # taken: refused, said why
        loop.handle(
            m.StartSession("P001", therapist="AB", station="S2", pain_before=3, borg_before=9)
        )
        loop.handle(m.StartSession("P001", pain_before=11))  # out of range: refused
        got = drain(replies)
        assert got[0] == m.PatientAdded("P001")
        assert isinstance(got[1], m.Error) and "P001" in got[1].message
        assert isinstance(got[2], m.SessionStarted) and got[2].patient == "P001"
        assert isinstance(got[3], m.Error) and "pain_before" in got[3].message
        session_id = got[2].session_id
        loop.handle(
            m.EndSession(session_id, pain_after=1, borg_after=11, response="tolerated well")
        )
        assert drain(replies) == [m.SessionEnded(session_id)]
        loop.handle(m.SaveTrialNotes(999, "no such trial"))
        assert isinstance(drain(replies)[-1], m.Error)
        s = store.session(session_id)
        assert (s.therapist, s.station, s.pain_before, s.borg_before) == ("AB", "S2", 3, 9)
        assert (s.pain_after, s.borg_after, s.response) == (1, 11, "tolerated well")
        assert s.ended
        assert len(store.sessions()) == 1


@contextlib.contextmanager
def _recording_engine(tmp_path):
    """An engine loop with the real recorder on a station database (one patient, an open
    session) and the simulator at 100 Hz: yields (loop, replies, session_id)."""
    from nmr_balance.app.engine_process import recorder_factory
    from recordings import Store

    with Store.open(tmp_path / "station.db") as store:
        store.add_patient("P001")
        session_id = store.start_session("P001").id
    replies = queue.SimpleQueue()
    engine_store = Store.open(tmp_path / "station.db")
    loop = EngineLoop(replies, open_source, recorder_factory(engine_store))
    try:
        loop.handle(m.SwitchSource("sim://?rate=100"))
        yield loop, replies, session_id
    finally:
        loop.close()
        engine_store.close()


def _until_trial_metrics(loop, replies, got: list) -> list:
    """``got`` plus the replies of the engine's ticks until the trial's metrics (20 s at most)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(isinstance(r, m.TrialMetrics) for r in got):
        loop.tick()
        time.sleep(0.02)
        got += drain(replies)
    return got


def test_a_timed_trial_ends_by_itself_after_exactly_its_duration(tmp_path):
    """The console sends duration_s: the engine ends the trial at that sample, not at a tick."""
    from recordings import PROCESSED, RAW, Store

    with _recording_engine(tmp_path) as (loop, replies, session_id):
        loop.handle(m.StartTrial(session_id, "free", parameters={"duration_s": 1.5}))
        got = drain(replies)
        trial_id = next(r.trial_id for r in got if isinstance(r, m.TrialStarted))
        got = _until_trial_metrics(loop, replies, got)
        assert m.TrialStopped(trial_id, "complete") in got
        assert loop.recorder is None and loop.pipeline.running  # the stream goes on
        loop.handle(m.StopTrial())  # the UI's stop crossed the trial's own end: no error
        assert not [r for r in drain(replies) if isinstance(r, m.Error)]
    with Store.open(tmp_path / "station.db") as store:
        for stream in (RAW, PROCESSED):
            counters = store.samples(trial_id, stream).counter
            assert len(counters) == 150 and np.all(np.diff(counters) == 1)
        assert store.trials()[0].status == "complete"


def test_a_cue_carries_its_core_type_and_an_unknown_type_is_refused_before_it_is_stored(tmp_path):
    """The message holds a CueType: an unknown type fails where the message is made (naming the
    valid types); a "cue" smuggled in as a marker is refused by the engine; the stored cue has
    its type."""
    from nmr_balance.errors import InvalidParameterError
    from nmr_balance.record import CueType
    from recordings import Store
    from recordings.report_data import load_session_summary

    assert m.Cue("hand on the hip", "Tactile").cue_type is CueType.TACTILE
    assert m.Cue("stand tall").cue_type is CueType.UNSPECIFIED
    with pytest.raises(InvalidParameterError) as refused:
        m.Cue("sniff", "olfactory")
    assert "olfactory" in str(refused.value)
    assert all(t in str(refused.value) for t in ("verbal", "tactile", "visual"))

    with _recording_engine(tmp_path) as (loop, replies, session_id):
        loop.handle(m.StartTrial(session_id, "free", parameters={"duration_s": 1.0}))
        loop.handle(m.Cue("look at the dot", CueType.VISUAL))
        loop.handle(m.Marker("cue", {"text": "sniff", "type": "olfactory"}))
        got = drain(replies)
        refusal = [r for r in got if isinstance(r, m.Error)]
        assert len(refusal) == 1 and refusal[0].error_type == "InvalidParameterError"
        assert "send a Cue" in refusal[0].message
        assert any(isinstance(r, m.TrialMetrics) for r in _until_trial_metrics(loop, replies, got))
    with Store.open(tmp_path / "station.db") as store:
        summary = load_session_summary(store, store.session(session_id))
        cues = [c for t in summary.trials for c in t.cues]
    assert [(c.text, c.type) for c in cues] == [("look at the dot", CueType.VISUAL)]


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
            client.send(m.StartTrial(session_id, "free", "eyes_open"))
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
            client.send(m.StopTrial("complete"))
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
        "from nmr_balance.engine.messages import Ready\n"
        "assert host.wait_for(Ready, 60)[0] is not None\n"
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


def test_the_ui_side_refuses_what_is_not_in_the_protocol(qapp):
    """Both ends check: the host sends only commands, the client reports an unknown reply."""
    from nmr_balance.engine.host import EngineHost
    from nmr_balance.errors import EngineStateError
    from ui.engine_client import EngineClient

    with pytest.raises(EngineStateError, match="does not know the message"):
        EngineHost(run_engine).send({"cmd": "start_trial"})

    class Host:  # an engine that answers with something outside the protocol
        alive, source_url, process = True, None, None

        def poll(self):
            return [{"kind": "ready"}, m.Notice("still here")]

    client = EngineClient(run_engine, host=Host())
    failed, notices = [], []
    client.failed.connect(failed.append)
    client.notice.connect(notices.append)
    client.poll()
    assert len(failed) == 1 and failed[0].error_type == "EngineStateError"
    assert "does not know" in failed[0].message and "{'kind': 'ready'}" in failed[0].message
    assert notices == ["still here"]  # the next reply is still handled


def test_the_dashboards_engine_writes_the_database_its_console_reads(tmp_path, monkeypatch):
    """With no --db, the engine process (the writer) and the console (the reader) both open the
    database $NMR_BALANCE_DB names (the engine used to open the default file instead)."""
    from nmr_balance.app.commands.live import start_engine
    from recordings import Store, station_db

    clinic = tmp_path / "clinic.db"
    monkeypatch.setenv("NMR_BALANCE_DB", str(clinic))
    assert station_db() == str(clinic) and station_db(tmp_path / "x.db") == tmp_path / "x.db"
    engine = start_engine("sim://?rate=100")
    try:
        engine.send(m.AddPatient("P042"))
        got, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and not any(isinstance(r, m.PatientAdded) for r in got):
            got += engine.poll()
            time.sleep(0.05)
        assert m.PatientAdded("P042") in got, got
    finally:
        engine.stop()
    with Store.open(read_only=True) as store:  # what the console opens without --db
        assert store.path == clinic
        assert [p.code for p in store.patients()] == ["P042"]


def test_cues_and_markers_go_with_a_protocols_trial_while_it_records(tmp_path):
    """The free 4 targets run as a protocol (a free trial under its name is refused). During the
    run a cue or marker is stored with the trial being recorded; in the countdown before it, or
    after the run, a cue is refused saying when to give it (never stored with no trial, never
    with the wrong one)."""
    from nmr_balance.app.engine_process import protocol_factory, recorder_factory
    from recordings import Store

    with Store.open(tmp_path / "station.db") as store:
        store.add_patient("P001")
        session_id = store.start_session("P001").id
    replies = queue.SimpleQueue()
    engine_store = Store.open(tmp_path / "station.db")
    loop = EngineLoop(
        replies,
        open_source,
        recorder_factory(engine_store),
        protocol_factory(engine_store, tmp_path / "data"),
        records=engine_store,
    )
    got: list = []

    def until(done, what: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not done():
            loop.tick()
            time.sleep(0.01)
            got.extend(drain(replies))
        assert done(), f"no {what} within 60 s"

    def event(kind: str) -> bool:
        return any(isinstance(r, m.ProtocolEvent) and r.event["kind"] == kind for r in got)

    try:
        loop.handle(m.SwitchSource("sim://?rate=100&speed=4&seed=2"))
        until(lambda: any(isinstance(r, m.Ready) for r in got), "source")
        # a free trial under a target exercise's name would be stored with nothing scored
        loop.handle(m.StartTrial(session_id, "free_targets"))
        got.extend(drain(replies))
        (refused,) = [r for r in got if isinstance(r, m.Error)]
        assert "targets steps" in refused.message and "Start protocol" in refused.message
        assert loop.recorder is None
        got.clear()
        loop.handle(m.StartProtocol(session_id, "P001", "free_targets"))
        loop.handle(m.Cue("too early", "verbal"))  # the countdown: no trial records yet
        got.extend(drain(replies))
        early = [r for r in got if isinstance(r, m.Error)]
        assert len(early) == 1 and "cues are logged with a trial" in early[0].message
        assert "countdown" in early[0].hint
        until(lambda: event("trial_started"), "trial")
        loop.handle(m.Cue("shift your weight forward", "tactile"))
        loop.handle(m.Marker())
        until(lambda: any(isinstance(r, m.ProtocolDone) for r in got), "end of the run")
        (done,) = [r for r in got if isinstance(r, m.ProtocolDone)]
        loop.handle(m.Cue("too late"))
        assert isinstance(drain(replies)[-1], m.Error)
    finally:
        loop.close()
        engine_store.close()
    with Store.open(tmp_path / "station.db") as store:
        (trial_id,) = done.trial_ids
        trial = store.trial(trial_id)
        assert trial.protocol == "free_targets" and trial.cues == ["shift your weight forward"]
        kinds = [e.kind for e in store.events(trial_id)]
        assert kinds.count("cue") == 1 and kinds.count("marker") == 1
        cue = next(e for e in store.events(trial_id) if e.kind == "cue")
        assert cue.payload["type"] == "tactile"
