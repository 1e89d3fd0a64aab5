"""Recorder and replay: live pipeline -> store -> replay:// through the same front-end."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _helpers import FakeClock
from _recordings_util import same_bits, same_metrics
from scipy import signal

from dsp.cop import plate_cop
from nmr_balance.app import open_source
from nmr_balance.errors import InvalidParameterError
from nmr_balance.pipeline import Pipeline
from nmr_balance.stream import SampleBlock, StreamInfo, sway_info
from recordings import Condition, Store
from recordings import replay as replay_module
from recordings.recorder import Recorder as Recorder_
from recordings.replay import ReplaySource

pytestmark = pytest.mark.timeout(60)


class PlateSway:
    """Test front-end: COP from the plate, then a stateful 4th-order 10 Hz low-pass."""

    def configure(self, info: StreamInfo) -> StreamInfo:
        self.dz = info.geometry.get("surface_offset_mm", 0.0)
        self.sos = signal.butter(4, 10, fs=info.fs, output="sos")
        self.reset()
        return sway_info(info.source, info.fs)

    def process(self, block: SampleBlock) -> SampleBlock:
        cop = plate_cop(block.data, self.dz)
        out, self.zi = signal.sosfilt(self.sos, cop, axis=0, zi=self.zi)
        return block.with_data(out)

    def reset(self) -> None:
        self.zi = np.zeros((self.sos.shape[0], 2, 3))


def record(db, url, stages_factory, seconds=None, **kw):
    """Record ``url`` through a pipeline until the source ends; return (trial id, live output)."""
    with Store.open(db) as store:
        store.ensure_patient("P001")
        session = store.start_session("P001")
        with Pipeline(open_source(url), stages_factory()) as pipeline:
            live = pipeline.processed.reader(from_start=True)
            rec = Recorder_(store, pipeline, session.id, from_start=True, **kw)
            tid = rec.start()
            rec.mark("marker", label="start")
            rec.cue("look ahead")
            deadline = time.monotonic() + (seconds or 30)
            while pipeline.running and time.monotonic() < deadline:
                time.sleep(0.02)
            metrics = rec.stop()
            live_out = live.read()
    return tid, live_out, metrics


def replay_through(url, stages_factory):
    with Pipeline(open_source(url), stages_factory()) as pipeline:
        out = pipeline.processed.reader(from_start=True)
        while pipeline.running:
            time.sleep(0.01)
        return out.read(), pipeline


@pytest.mark.parametrize(
    "stages", [lambda: [PlateSway()], None], ids=["plate-cop-lowpass", "default-front-end"]
)
def test_replay_equals_live(tmp_path, stages):
    db = tmp_path / "s.db"
    factory = stages or (lambda: None)
    url = "sim://?sensor=plate&rate=200&realtime=0&duration=4&seed=3"
    tid, live, metrics = record(db, url, factory, condition=Condition.parse("eyes_closed,foam"))
    assert len(live) == 800
    with Store.open(db) as store:
        data = store.load_trial(tid)
        assert data.trial.status == "complete"
        assert same_bits(data.processed, live)  # stored = what the pipeline produced
        assert len(data.raw) == 800 and np.all(np.diff(data.raw.counter) == 1)
        kinds = [e.kind for e in data.events]
        assert "marker" in kinds and "cue" in kinds and data.trial.cues == ["look ahead"]
        assert same_metrics(data.metrics, metrics) and metrics["n_samples"] == 800
    replayed, _ = replay_through(f"replay://{db}?trial={tid}&speed=max", factory)
    assert np.array_equal(replayed.data.view(np.int64), live.data.view(np.int64))
    assert np.array_equal(replayed.counter, live.counter)
    # and scoring the replay gives the live metrics
    from recordings.metrics import trial_metrics

    with Store.open(db) as store:
        assert same_metrics(trial_metrics(replayed, store.trial(tid).info), metrics)


def _due(src) -> SampleBlock:
    """Every sample due now (reads that do not wait, until one returns nothing)."""
    parts = [src.read(0)]
    while len(parts[-1]):
        parts.append(src.read(0))
    return SampleBlock.concat(parts, 3)


def test_replay_paces_in_real_time_times_speed_and_seeks(tmp_path, monkeypatch):
    db = tmp_path / "s.db"
    tid, live, _ = record(db, "sim://?rate=100&realtime=0&duration=3", lambda: None)
    clock = FakeClock()
    monkeypatch.setattr(replay_module, "time", clock)
    src = open_source(f"replay://{db}?trial={tid}&speed=2")
    with src:
        src.start()
        assert _due(src).counter.tolist() == [0]  # trial time 0 is due at once
        clock.t += 0.5  # 0.5 s at 2x real time = 1 s of signal
        assert _due(src).counter.tolist() == list(range(1, 101))
        # a read that may wait sleeps until the next sample is due (0.01 s of signal at 2x)
        t = clock.t
        assert len(src.read(1.0)) == 0 and clock.t - t == pytest.approx(0.005)
        clock.t += 1e-6  # (past the float rounding of "exactly due")
        assert _due(src).counter.tolist() == [101]
        src.seek(2.5)
        at_seek = _due(src)  # the seek applies at the next read: trial time 2.5 is due at once
        assert at_seek.counter.tolist() == [250]
        clock.t += 0.25  # 0.5 s of signal at 2x: the rest of the trial
        after = SampleBlock.concat([at_seek, _due(src)], 3)
        assert after.counter[0] == 250 and after.counter[-1] == 299
        assert np.all(np.diff(after.counter) == 1)
        src.read(0)
        assert src.ended
        # host times keep their recorded spacing
        assert np.array_equal(np.diff(after.t_host_ns), np.diff(live.t_host_ns[250:300]))


def test_replay_url_errors(tmp_path):
    db = tmp_path / "s.db"
    tid, _, _ = record(db, "sim://?rate=100&realtime=0&duration=1", lambda: None)
    with pytest.raises(InvalidParameterError, match="trials 1-1"):
        open_source(f"replay://{db}").open()
    with pytest.raises(InvalidParameterError, match="speed"):
        open_source(f"replay://{db}?trial=1&speed=fast")
    with pytest.raises(InvalidParameterError, match="existing database"):
        open_source("replay:///nonexistent/x.db?trial=1")
    with pytest.raises(InvalidParameterError, match="known trial"):
        open_source(f"replay://{db}?trial=99").open()
    assert isinstance(open_source(f"replay://{db}?trial={tid}"), ReplaySource)


def test_replay_source_life_cycle(tmp_path):
    from nmr_balance.errors import SourceStateError

    db = tmp_path / "s.db"
    tid, _, _ = record(db, "sim://?rate=100&realtime=0&duration=2", lambda: None)
    src = open_source(f"replay://{db}?trial={tid}&speed=max&start=0.5")
    info = src.open()
    assert info.source.startswith("replay://") and info.n_channels == 3
    with pytest.raises(SourceStateError):
        src.read()
    src.start()
    first = src.read()
    assert first.counter[0] == 50 and src.position_s == pytest.approx((50 + len(first)) / 100)
    src.stop()
    src.start()  # resumes where it stopped
    rest = []
    while not src.ended:
        rest.append(src.read())
    got = SampleBlock.concat([first, *rest], 3)
    assert np.array_equal(got.counter, np.arange(50, 200))
    with Store.open(db) as store:
        assert np.array_equal(got.data, store.samples(tid, 0).data[50:200])  # the raw stream
    assert src.duration_s == pytest.approx(2.0)
    src.close()
    with pytest.raises(SourceStateError):
        src.read()


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.db", b""), ("notes.json", b'{"a": 1}\n'), ("trial.h5", b"\x89HDF\r\n\x1a\n" * 8)],
)
def test_replay_refuses_a_file_that_is_not_a_station_database_and_leaves_it(
    tmp_path, name, content
):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidParameterError, match="station database") as err:
        open_source(f"replay://{path}?trial=1").open()
    assert str(path) in str(err.value)
    assert path.read_bytes() == content  # an empty file used to become a new database
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no -wal, no -shm
    with pytest.raises(InvalidParameterError, match="existing database"):
        open_source(f"replay://{tmp_path / 'missing.db'}?trial=1")
