"""Entry of the engine process (spawned by :class:`nmr_balance.engine.host.EngineHost`).

Wires the engine loop to the real source registry and the recordings store. Lives in the
composition root because it may import drivers and recordings; the UI only ever receives
:func:`run_engine` as a function to hand to the host.

The engine process opens the station database once, when it starts, and keeps that connection
until it ends: it is the database's only writer while the dashboard runs (recorders, protocol
runs and the console's record commands all write from here), and because this process never
closes its last connection while it runs, SQLite here never checkpoints and deletes the
write-ahead log under another process's open connection (see ``docs/recordings.md``, "Who opens
the database"). Opening it also closes trials left ``recording`` by a crashed engine
(``interrupted``, with everything they committed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nmr_balance.engine.loop import EngineLoop
from nmr_balance.engine.messages import Error


def recorder_factory(store):
    """``make_recorder`` for the engine: a ``recordings.Recorder`` on the station database
    (``store``, the engine's open ``recordings.Store``; the recorder adds its own connection in
    this process).

    A ``duration_s`` in the trial's parameters (the console sends it) ends the trial after
    exactly that much signal.
    """

    def make(pipeline, session_id: int, protocol: str, condition: str, parameters: dict[str, Any]):
        from recordings import Condition
        from recordings.recorder import Recorder

        duration = parameters.get("duration_s")
        return Recorder(
            store,
            pipeline,
            int(session_id),
            protocol=protocol,
            condition=Condition.parse(condition),
            parameters=parameters,
            duration_s=float(duration) if duration else None,
        )

    return make


def protocol_factory(store, data_dir: str | Path | None = None, height_m: float = 1.70):
    """``make_protocol_run`` for the engine: the protocol at the patient's level and LOS, each
    trial recorded in the station database (``store``, the engine's open ``recordings.Store``)
    as ``nmr-balance run`` records it. ``scaling`` (the console's patient preset) fits a training
    protocol's targets to the person; tests are never scaled (:class:`ProtocolRun`)."""

    def make(
        pipeline,
        session_id: int,
        patient: str,
        protocol: str,
        level: int | None,
        seed: int,
        scaling=None,
    ):
        from nmr_balance.app.protocol_recording import (
            ProtocolRecorder,
            RecordedRun,
            choose_level,
            patient_los,
        )
        from nmr_balance.protocols.library import find
        from nmr_balance.protocols.run import ProtocolRun

        folder = None if data_dir is None else Path(data_dir)
        chosen = find(protocol)
        chosen_level, why = choose_level(store, patient, chosen, level)
        los = patient_los(patient, pipeline.info.units[pipeline.info.index("x")], height_m, folder)
        run = ProtocolRun(
            chosen, pipeline.info, level=chosen_level, los=los, seed=seed, scaling=scaling
        )
        recorder = ProtocolRecorder(store, pipeline, int(session_id), chosen, chosen_level)
        recorded = RecordedRun(run, recorder, patient, folder)
        facts = {**run.describe(), "level_reason": why}
        return recorded, facts

    return make


def _own_resource_tracker() -> None:
    """Give this process its own shared-memory resource tracker.

    A spawned child shares its parent's tracker; the UI's attach would then unregister the
    engine's blocks there, and the engine's own unlink later fails with a KeyError traceback.
    With its own tracker the engine registers and unregisters in one place, and if the engine
    crashes, its tracker removes the names (the UI keeps its mapping, so the trace stays).
    """
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    if tracker is not None and hasattr(tracker, "_fd"):
        tracker._fd = None


def _shut_down_cleanly_on_signals() -> None:
    """Ctrl-C in a terminal (SIGINT) reaches the whole process group: the UI closes and tells
    the engine to shut down, so the engine ignores it. A TERM (``timeout``, a system shutdown,
    ``kill``) makes the engine shut down as on the UI's command: the trial is closed and the
    shared memory released, instead of the process dying mid-write."""
    import signal

    def stop(signum, frame) -> None:
        raise SystemExit(0)  # unwinds through EngineLoop.serve's ``finally: close()``

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, stop)


def run_engine(
    commands,
    replies,
    source_url: str | None = None,
    *,
    store_path: str | None = None,
    data_dir: str | None = None,
) -> None:
    """Run the engine until told to shut down (the process's main function)."""
    _own_resource_tracker()
    _shut_down_cleanly_on_signals()
    store = None
    try:
        from nmr_balance.app import open_source

        if store_path is not None:
            from recordings import Store

            store = Store.open(store_path)  # held until the engine ends (see the module's doc)
        loop = EngineLoop(
            replies,
            open_source,
            recorder_factory(store) if store is not None else None,
            protocol_factory(store, data_dir) if store is not None else None,
            records=store,
        )
    except Exception as e:  # a broken install, a damaged database: tell the UI, don't die silently
        replies.put(Error.of(e))
        if store is not None:
            store.close()
        return
    try:
        loop.serve(commands, source_url)
    finally:
        if store is not None:
            store.close()


__all__ = ["protocol_factory", "recorder_factory", "run_engine"]
