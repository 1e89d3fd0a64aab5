"""A stalled or lost device never makes a trial `complete`: `record`, the dashboard's engine and
`run`, each over a real pty with the emulator in a subprocess (DESIGN.md §10)."""

from __future__ import annotations

import queue
import time

import pytest
from _driver_helpers import emulator

from nmr_balance.app import open_source
from nmr_balance.app.cli import main
from nmr_balance.engine import messages as m
from nmr_balance.engine.loop import EngineLoop
from recordings import Store

pytestmark = pytest.mark.timeout(120)

#: The board sends for ~1.5 s, then stops with the port open (mute) or is unplugged for good.
FAULTS = {
    "stalled": ["--faults", "mute", "--fault-every", "1.5", "--down", "600"],
    "unplugged": ["--faults", "disconnect", "--fault-every", "1.5", "--down", "600"],
}


def _incomplete_event(store: Store, trial_id: int, planned_s: float = 10.0):
    [event] = [e for e in store.load_trial(trial_id).events if e.kind == "trial_incomplete"]
    assert event.t < planned_s  # ended by the stall, not after the planned time and a grace
    return event.payload


@pytest.mark.parametrize("fault", ["stalled", "unplugged"])
def test_record_ends_a_stalled_or_lost_trial_as_interrupted_and_exits_1(tmp_path, capsys, fault):
    db = tmp_path / "s.db"
    with emulator(tmp_path, "csv", "--rate", "100", *FAULTS[fault]) as port:
        code = main(
            [
                "record",
                "--source",
                f"serial://{port}?protocol=csv&rate=100",
                "--patient",
                "P1",
                "--duration",
                "10",
                "--db",
                str(db),
            ]
        )
    err = capsys.readouterr().err
    assert code == 1 and "trial 1 is incomplete" in err and "record the trial again" in err
    with Store.open(db) as store:
        [trial] = store.trials()
        assert trial.status == "interrupted"
        payload = _incomplete_event(store, trial.id)
    how = "device stopped sending" if fault == "stalled" else "device was lost"
    assert how in payload["reason"] and payload["planned_s"] == 10
    assert 0.5 < payload["kept_s"] < 5 and f"{payload['kept_s']:.1f} s of signal kept" in err


def test_the_engine_reports_a_stalled_timed_trial_as_interrupted(tmp_path):
    from nmr_balance.app.engine_process import recorder_factory

    db = tmp_path / "station.db"
    with Store.open(db) as store:
        store.add_patient("P001")
        session_id = store.start_session("P001").id
    replies: queue.SimpleQueue = queue.SimpleQueue()
    engine_store = Store.open(db)
    loop = EngineLoop(replies, open_source, recorder_factory(engine_store))
    got: list = []
    with emulator(tmp_path, "csv", "--rate", "100", *FAULTS["stalled"]) as port:
        try:
            loop.handle(m.SwitchSource(f"serial://{port}?protocol=csv&rate=100"))
            loop.handle(m.StartTrial(session_id, "free", parameters={"duration_s": 10}))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not any(
                isinstance(r, m.TrialMetrics) for r in got
            ):
                loop.tick()
                time.sleep(0.02)
                while not replies.empty():
                    got.append(replies.get_nowait())
        finally:
            loop.close()
            engine_store.close()
    trial_id = next(r.trial_id for r in got if isinstance(r, m.TrialStarted))
    assert m.TrialStopped(trial_id, "interrupted") in got
    assert any(
        isinstance(r, m.Notice) and "incomplete" in r.message and "kept" in r.message for r in got
    )
    with Store.open(db) as store:
        assert store.trial(trial_id).status == "interrupted"
        assert "device stopped sending" in _incomplete_event(store, trial_id)["reason"]


def test_run_interrupts_the_trial_of_a_silent_device_then_gives_up_instead_of_hanging(
    tmp_path, capsys
):
    db = tmp_path / "s.db"
    # romberg counts down 5 s from the first sample, then records 30 s: the board goes silent
    # 25 s after the port was opened, inside the trial however long start-up takes on a busy
    # machine, up to 20 s (with 14 s, a slow start put the silence into the countdown)
    stall = ["--faults", "mute", "--fault-every", "25", "--down", "600"]
    with emulator(tmp_path, "csv", "--rate", "100", *stall) as port:
        code = main(
            [
                "run",
                "romberg",
                "--source",
                f"serial://{port}?protocol=csv&rate=100",
                "--patient",
                "P1",
                "--db",
                str(db),
                "--stall-timeout",
                "1",
                "--give-up",
                "4",
            ]
        )
    out = capsys.readouterr().out
    assert code == 1  # it used to wait forever (the test's timeout catches a hang)
    assert "trial interrupted" in out and "device stalled" in out
    assert "the run ended early" in out and "the run ends" in out
    with Store.open(db) as store:
        [trial] = store.trials()
        assert trial.status == "interrupted"  # recorded, never scored
