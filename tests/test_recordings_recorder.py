"""Recorder details: device lost/back and gap events, loud overruns, replaying files, chunks."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _recordings_util import plate_info, plate_samples, processed_of, same_bits, store_trial
from hypothesis import given, settings
from hypothesis import strategies as st

from nmr_balance.app import open_source
from nmr_balance.errors import InvalidParameterError, StorageError
from nmr_balance.pipeline import Pipeline
from nmr_balance.source import Source, Status
from nmr_balance.stream import Channel, SampleBlock, SensorKind, StreamInfo
from recordings import Store, chunks
from recordings.exchange import export_trial
from recordings.recorder import Recorder

pytestmark = pytest.mark.timeout(60)


class Flaky(Source):
    """100 Hz COP that drops out after 0.3 s (30 samples lost) and comes back, then ends."""

    def __init__(self):
        super().__init__("flaky://")
        self.n = 0

    def _do_open(self) -> StreamInfo:
        return StreamInfo(
            self.url,
            (Channel("x", "mm"), Channel("y", "mm"), Channel("fz", "N")),
            100.0,
            SensorKind.COP,
        )

    def _do_start(self) -> None:
        pass

    def _do_read(self, timeout):
        time.sleep(0.02)
        if self.n == 30:
            self._set_status(Status.LOST, "unplugged")
            time.sleep(0.1)
            self._set_status(Status.RECONNECTING, "trying")
            self._set_status(Status.STREAMING, "back")
            self.n += 30  # the samples sent while away never arrive
        if self.n >= 100:
            self._mark_ended()
            return SampleBlock.empty(3)
        c = np.arange(self.n, self.n + 2, dtype=np.int64)
        self.n += 2
        return SampleBlock(np.full(2, time.monotonic_ns()), c / 100, c, np.ones((2, 3)))


def new_session(store):
    store.ensure_patient("P001")
    return store.start_session("P001").id


def test_device_lost_back_and_gaps_become_events(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        with Pipeline(Flaky()) as pipeline:
            rec = Recorder(
                store, pipeline, new_session(store), from_start=True, commit_interval_s=0.1
            )
            tid = rec.start()
            while pipeline.running:
                time.sleep(0.02)
            rec.stop()
        data = store.load_trial(tid)
    kinds = [e.kind for e in data.events]
    assert (
        kinds.index("device_lost") < kinds.index("device_reconnecting") < kinds.index("device_back")
    )
    gap = next(e for e in data.events if e.kind == "signal_gap")
    assert gap.payload["missing"] == 30
    assert "source_ended" in kinds
    assert len(data.raw) == 70 and data.trial.status == "complete"


def test_a_recorder_that_falls_a_ring_behind_says_so(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        # 2 kHz into rings of 1024 samples, read once a second: half of each second is lost.
        with Pipeline(open_source("sim://?rate=2000"), ring_seconds=0.1) as pipeline:
            rec = Recorder(store, pipeline, new_session(store), commit_interval_s=1.0)
            tid = rec.start()
            time.sleep(2.3)
            rec.stop()
        data = store.load_trial(tid)
    overruns = [e for e in data.events if e.kind == "overrun"]
    assert overruns and sum(e.payload["samples"] for e in overruns) > 1000
    assert data.metrics["gaps"] > 0  # the stored stream shows the holes too


def test_recorder_argument_checks(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        pipeline = Pipeline(open_source("sim://"))
        with pytest.raises(StorageError, match="not started"):
            Recorder(store, pipeline, 1)
        with pipeline:
            with pytest.raises(InvalidParameterError, match="commit_interval_s"):
                Recorder(store, pipeline, 1, commit_interval_s=2.0)
            rec = Recorder(store, pipeline, new_session(store))
            rec.start()
            with pytest.raises(InvalidParameterError, match="complete or aborted"):
                rec.stop("interrupted")
            rec.stop("aborted")
            assert store.trials()[0].status == "aborted"


@pytest.mark.parametrize("sensor", ["cop", "cells"])  # cells: uneven, resampled on a grid
def test_a_timed_trial_holds_exactly_its_duration_and_ends_by_itself(tmp_path, sensor):
    with Store.open(tmp_path / "s.db") as store:
        with Pipeline(open_source(f"sim://?rate=200&sensor={sensor}")) as pipeline:
            rec = Recorder(
                store, pipeline, new_session(store), commit_interval_s=0.1, duration_s=1.5
            )
            tid = rec.start()
            deadline = time.monotonic() + 20
            while rec.recording and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not rec.recording and pipeline.running  # it ended, the stream did not
            metrics = rec.stop()
        data = store.load_trial(tid)
    for block in (data.raw, data.processed):
        assert len(block) == 300 and np.all(np.diff(block.counter) == 1)
    assert data.trial.status == "complete" and metrics["n_samples"] == 300
    with pytest.raises(InvalidParameterError, match="duration_s"):
        Recorder(store, pipeline, 1, duration_s=0)


@pytest.mark.parametrize("fmt", ["csv", "c3d"])
def test_replay_of_an_exported_file_through_the_pipeline(tmp_path, fmt):
    raw = plate_samples(700)
    with Store.open(tmp_path / "s.db") as store:
        tid = store_trial(store, raw, processed_of(raw), plate_info())
        path = export_trial(store, tid, tmp_path / f"t.{fmt}")
    with Pipeline(open_source(f"replay://{path}?speed=max")) as pipeline:
        reader = pipeline.raw.reader(from_start=True)
        while pipeline.running:
            time.sleep(0.01)
        got = reader.read()
    assert np.array_equal(got.counter, raw.counter)
    if fmt == "csv":
        assert np.array_equal(got.data, raw.data)
    else:
        assert np.allclose(got.data, raw.data, rtol=1e-6, atol=1e-6)
    with pytest.raises(InvalidParameterError, match="no trial= for a file"):
        open_source(f"replay://{path}?trial=1").open()


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    n_channels=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
    specials=st.lists(st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1e308]), max_size=5),
)
def test_chunk_encoding_is_exact(n, n_channels, seed, specials):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, n_channels)) * 10.0 ** rng.integers(-300, 300, (n, n_channels))
    flat = data.reshape(-1)
    flat[: len(specials)] = specials[: len(flat)]
    block = SampleBlock(
        rng.integers(-(2**62), 2**62, n),
        rng.standard_normal(n),
        rng.integers(-(2**62), 2**62, n),
        data,
    )
    payload = chunks.encode(block)
    assert len(payload) == 8 * n * (3 + n_channels)
    assert same_bits(chunks.decode(payload, n, n_channels), block)
    if n:
        with pytest.raises(ValueError, match="expected"):
            chunks.decode(payload[:-1], n, n_channels)


class Stalls(Source):
    """100 Hz COP that stops after 0.5 s: with the port open (``lose=False``: no status
    change, just silence) or lost for good (``lose=True``)."""

    def __init__(self, lose: bool):
        super().__init__("stalls://")
        self.n, self.lose = 0, lose

    def _do_open(self) -> StreamInfo:
        return Flaky._do_open(self)

    def _do_start(self) -> None:
        self.t0 = time.monotonic()

    def _do_read(self, timeout):
        time.sleep(0.02)
        due = min(50, int((time.monotonic() - self.t0) * 100))
        if due == 50 and self.n == 50 and self.lose and self.status is not Status.RECONNECTING:
            self._set_status(Status.LOST, "unplugged")
            self._set_status(Status.RECONNECTING, "trying, forever")
        if due <= self.n:
            return SampleBlock.empty(3)
        c = np.arange(self.n, due, dtype=np.int64)
        self.n = due
        return SampleBlock(np.full(len(c), time.monotonic_ns()), c / 100, c, np.ones((len(c), 3)))


@pytest.mark.parametrize("lose", [False, True])
def test_a_stalled_or_lost_device_ends_a_timed_trial_as_interrupted(tmp_path, lose):
    with Store.open(tmp_path / "s.db") as store, Pipeline(Stalls(lose)) as pipeline:
        rec = Recorder(
            store,
            pipeline,
            new_session(store),
            from_start=True,
            commit_interval_s=0.1,
            duration_s=10.0,
            stall_timeout_s=1.0,
        )
        tid = rec.start()
        deadline = time.monotonic() + 30
        while rec.recording and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not rec.recording and pipeline.running  # it ended itself, long before 10 s
        rec.stop("complete")  # what a caller asks after the fact does not make it complete
        data = store.load_trial(tid)
    assert data.trial.status == "interrupted" and rec.status == "interrupted"
    [event] = [e for e in data.events if e.kind == "trial_incomplete"]
    how = "device was lost" if lose else "device stopped sending"
    assert how in event.payload["reason"] and "no signal from stalls://" in event.payload["reason"]
    assert event.payload["kept_s"] == pytest.approx(0.5) and event.payload["planned_s"] == 10.0
    assert event.payload["n_samples"] == len(data.processed) == 50
    assert "0.5 s of signal kept of 10 s planned" in rec.end_reason


def test_a_timed_trial_whose_source_ends_first_is_interrupted_one_that_fits_is_complete(tmp_path):
    with Store.open(tmp_path / "s.db") as store:
        session = new_session(store)
        for duration, status in ((2.0, "interrupted"), (1.0, "complete")):
            url = "sim://?rate=100&realtime=0&duration=1"  # exactly 100 samples, then ends
            with Pipeline(open_source(url)) as pipeline:
                rec = Recorder(store, pipeline, session, from_start=True, duration_s=duration)
                tid = rec.start()
                deadline = time.monotonic() + 20
                while rec.recording and pipeline.running and time.monotonic() < deadline:
                    time.sleep(0.02)
                rec.stop()
            data = store.load_trial(tid)
            assert data.trial.status == status and len(data.raw) == 100
            incomplete = [e for e in data.events if e.kind == "trial_incomplete"]
            assert len(incomplete) == (status == "interrupted")
            if incomplete:
                assert incomplete[0].payload["reason"] == "the source ended"
