"""A station database with real (simulated) trials for the review views and replay tests."""

from __future__ import annotations

import datetime

import numpy as np

from drivers.sim.board import SimulatedBoard
from drivers.sim.model import Condition as SimCondition
from nmr_balance.stream import SampleBlock
from recordings import PROCESSED, RAW, Condition, Store
from recordings.metrics import trial_metrics

CONDITIONS = (("open", "firm"), ("closed", "foam"))


def sim_block(vision: str, surface: str, seconds: float, fs: float = 100.0, seed: int = 0):
    """A simulated COP trial: (info, block) with consecutive counters from 0."""
    board = SimulatedBoard(
        kind="cop", fs=fs, seed=seed, condition=SimCondition(vision=vision, surface=surface)
    )
    n = int(seconds * fs)
    data = board.generate(n)
    counter = np.arange(n, dtype=np.int64)
    t_host = 10**12 + (counter * (1e9 / fs)).astype(np.int64)
    return board.info, SampleBlock(t_host, counter / fs, counter, data)


def add_trial(
    store: Store,
    session_id: int,
    vision: str,
    surface: str,
    *,
    seconds: float = 6.0,
    seed: int = 0,
    started: str | None = None,
    events=(),
    sway_scale: float = 1.0,
) -> int:
    """Store one complete trial (both streams, events, metrics) as a recorder would."""
    info, block = sim_block(vision, surface, seconds, seed=seed)
    block = block.with_data(block.data * np.array([sway_scale, sway_scale, 1.0]))
    with store.transaction():
        trial_id = store.begin_trial(
            session_id,
            info,
            info,
            protocol="mctsib",
            condition=Condition(vision, surface, "feet_together"),
            started=started,
        )
        for seq, start in enumerate(range(0, len(block), 100)):
            part = block.slice(start, start + 100)
            store.append_chunk(trial_id, RAW, seq, part)
            store.append_chunk(trial_id, PROCESSED, seq, part)
        for t, kind, payload in events:
            store.add_event(trial_id, t, kind, payload)
    store.finish_trial(trial_id, "complete", trial_metrics(block, info))
    return trial_id


def fill_store(path, patient: str = "P001", n_sessions: int = 4) -> dict:
    """``n_sessions`` weekly sessions of ``patient``, one trial per condition each; sway shrinks
    over the weeks (training works). Returns the trial ids by (session index, vision)."""
    store = Store.open(path)
    store.add_patient(patient)
    ids = {}
    day0 = datetime.datetime(2026, 10, 1, 9, 0, tzinfo=datetime.UTC)
    for k in range(n_sessions):
        when = (day0 + datetime.timedelta(days=7 * k)).isoformat()
        session = store.start_session(patient, started=when)
        for j, (vision, surface) in enumerate(CONDITIONS):
            ids[(k, vision)] = add_trial(
                store,
                session.id,
                vision,
                surface,
                seed=10 * k + j,
                started=when,
                sway_scale=1.0 - 0.15 * k,
                events=[(2.0, "marker", {}), (3.0, "cue", {"text": "look ahead"})],
            )
    store.close()
    return ids
