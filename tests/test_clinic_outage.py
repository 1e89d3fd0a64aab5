"""The clinic's server restarts in the middle of a trial: the station keeps recording into its
own file and says so, nothing is lost, and `push` completes the server's copy afterwards."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _recordings_util import same_bits
from pg_server import ThrowawayServer

from nmr_balance.app import open_source
from nmr_balance.pipeline import Pipeline
from recordings import Store
from recordings.push import push
from recordings.recorder import Recorder
from recordings.store import PROCESSED, RAW

pytestmark = pytest.mark.timeout(180)


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_server_restart_mid_trial_loses_nothing(tmp_path):
    station = tmp_path / "station.db"
    with ThrowawayServer() as server:
        with Store.open(server.url) as store:
            store.add_patient("P001")
            session = store.start_session("P001", therapist="AB", station="room 2")
            with Pipeline(open_source("sim://?sensor=plate&rate=1000&seed=4")) as pipeline:
                rec = Recorder(
                    store,
                    pipeline,
                    session.id,
                    protocol="romberg",
                    from_start=True,
                    duration_s=4.0,
                    local_copy=station,
                )
                server_trial = rec.start()
                _wait(lambda: rec.n_raw >= 1000, 60, "a second of committed samples")
                server.stop()  # the server goes away mid-trial...
                _wait(lambda: not rec.online, 60, "the recorder to notice")
                server.start()  # ... and comes back before the trial ends
                _wait(lambda: not rec.recording, 120, "the trial's own end")
                metrics = rec.stop()
        assert not rec.online
        assert "went away" in rec.notices[0] and str(station) in rec.notices[0]
        assert "push" in rec.notices[0]
        # The station's copy is whole: exactly 4 s of signal, no sample missing.
        with Store.open(station) as local:
            (trial,) = local.trials()
            assert trial.status == "complete" and trial.protocol == "romberg"
            raw = local.samples(trial.id, RAW)
            assert len(raw) == 4000 and np.array_equal(np.diff(raw.counter), np.ones(3999))
            assert [e.kind for e in local.events(trial.id)].count("server_lost") == 1
            assert trial.metrics == metrics
            local_session = local.session(trial.session_id)
            assert (local_session.therapist, local_session.station) == ("AB", "room 2")
        # The server kept what it had committed; its copy reads as interrupted.
        with Store.open(server.url) as remote:
            cut = remote.trial(server_trial)
            assert cut.status == "interrupted"
            assert 1000 <= len(remote.samples(server_trial, RAW)) < 4000
        # push completes it: same samples as the station's, bit for bit; twice changes nothing.
        with Store.open(station) as local, Store.open(server.url) as remote:
            first = push(local, remote)
            assert first.completed and not first.conflicts and not first.uploaded
            again = push(local, remote)
            assert again.already == first.completed and not again.completed
            whole = remote.load_trial(server_trial)
            mine = local.load_trial(local.trials()[0].id)
            assert whole.trial.status == "complete" and len(remote.trials()) == 1
            assert same_bits(whole.raw, mine.raw) and same_bits(whole.processed, mine.processed)
            assert [e.kind for e in whole.events] == [e.kind for e in mine.events]
            assert whole.metrics == mine.metrics
            assert remote.chunk_index(server_trial, PROCESSED)[:, 0].tolist() == list(
                range(len(remote.chunk_index(server_trial, PROCESSED)))
            )


def test_a_trial_that_finishes_on_the_server_leaves_no_local_copy(tmp_path, pg_url):
    station = tmp_path / "station.db"
    with Store.open(pg_url) as store:
        store.add_patient("P002")
        session = store.start_session("P002")
        with Pipeline(open_source("sim://?sensor=plate&rate=500&seed=1")) as pipeline:
            rec = Recorder(
                store, pipeline, session.id, from_start=True, duration_s=1.0, local_copy=station
            )
            tid = rec.start()
            _wait(lambda: not rec.recording, 60, "the trial's own end")
            rec.stop()
        assert rec.online and rec.notices == []
        assert store.trial(tid).status == "complete" and len(store.samples(tid, RAW)) == 500
    with Store.open(station) as local:
        assert local.trials() == [] and local.sessions() == []


def test_the_dashboard_engine_passes_the_recorders_notice_on():
    """In the dashboard the engine records; what its recorder says reaches the console."""
    import queue

    from nmr_balance.engine import messages as m
    from nmr_balance.engine.loop import EngineLoop

    class OfflineRecorder:
        recording, error, status = True, None, "recording"

        def __init__(self, *args):
            self.notices = ["the database server went away 2.0 s into trial 5; recording goes on"]

        def start(self):
            return 5

        def stop(self, status="complete"):
            self.status = status
            return {}

    replies = queue.SimpleQueue()
    loop = EngineLoop(replies, open_source, OfflineRecorder)
    try:
        loop.handle(m.SwitchSource("sim://?rate=100"))
        loop.handle(m.StartTrial(session_id=1))
        loop.handle(m.StopTrial("complete"))
        said = []
        while not replies.empty():
            said.append(replies.get_nowait())
        notices = [r.message for r in said if isinstance(r, m.Notice)]
        assert any("server went away" in n for n in notices), said
    finally:
        loop.close()
