"""Device trouble during a protocol: trials are marked and redone, never silently scored."""

from __future__ import annotations

import math

import numpy as np
import pytest
from protocol_harness import drive, flaky_sim

from drivers.sim import StepOff, StepOn
from nmr_balance.pipeline import Pipeline
from nmr_balance.protocols import ProtocolRun, find, parse_protocol
from nmr_balance.protocols.runner import StatusLog, run_on_pipeline
from nmr_balance.stream import SampleBlock, sway_info

pytestmark = pytest.mark.timeout(60)


def kinds(events, *wanted):
    return [e.kind for e in events if e.kind in wanted]


def test_device_lost_mid_trial_marks_it_interrupted_pauses_and_redoes_it():
    source = flaky_sim(lose_at_s=20.0, gap_s=1.0)  # romberg: first trial runs 5-35 s
    run, events = drive(find("romberg"), source=source)
    assert kinds(events, "trial_interrupted", "paused", "resumed", "trial_done") == [
        "trial_interrupted",
        "paused",
        "resumed",
        "trial_done",
        "trial_done",
    ]
    bad, redone, closed = run.results
    assert bad.status == "interrupted" and bad.scores == {} and "unplugged" in bad.reason
    assert bad.t_end_s == pytest.approx(20.0, abs=0.1)
    assert (redone.status, redone.label, closed.label) == ("complete", "eyes open", "eyes closed")
    assert redone.t_start_s > 21.0 and redone.t_end_s - redone.t_start_s == pytest.approx(
        30.0, abs=0.02
    )
    # only the redone trial feeds the eyes-open figures
    block = run.block()
    assert [t.status for t in block.trials] == ["interrupted", "complete", "complete"]
    eo = block.conditions["eyes open, firm"]
    assert (eo.trials, eo.falls) == (1, 0) and eo.mean_velocity == redone.scores["mean_velocity"]
    assert block.trials[0].results.reason == bad.reason  # kept, with why, never scored


def test_silent_sample_loss_is_caught_from_the_counters():
    source = flaky_sim(lose_at_s=12.0, gap_s=0.8, outage_reads=0, report_status=False)
    run, _events = drive(find("romberg"), source=source)
    bad = run.results[0]
    assert bad.status == "interrupted" and "80 samples missing" in bad.reason
    assert [r.status for r in run.results[1:]] == ["complete", "complete"]


def test_short_gaps_are_tolerated():
    source = flaky_sim(lose_at_s=12.0, gap_s=0.1, outage_reads=0, report_status=False)
    run, _ = drive(find("romberg"), source=source)
    assert [r.status for r in run.results] == ["complete", "complete"]


def test_device_lost_during_rest_keeps_the_finished_trial():
    source = flaky_sim(lose_at_s=38.0)  # rest after trial 1: 35-45 s
    run, events = drive(find("romberg"), source=source)
    assert [r.status for r in run.results] == ["complete", "complete"]
    assert kinds(events, "trial_interrupted") == []
    assert kinds(events, "paused", "resumed") == ["paused", "resumed"]
    assert [t.status for t in run.block().trials] == ["complete", "complete"]


def test_source_ending_mid_trial_aborts_without_scoring():
    run, events = drive(find("romberg"), "sim://?realtime=0&duration=20")
    assert run.phase == "aborted"
    # nothing half done is scored: the block has the trial, and no condition, ratio or score
    block = run.block()
    assert [t.status for t in block.trials] == ["interrupted"]
    assert block.conditions == {} and block.sensory_ratios == {}
    assert [r.status for r in run.results] == ["interrupted"]
    assert kinds(events, "trial_interrupted", "protocol_aborted") == [
        "trial_interrupted",
        "protocol_aborted",
    ]


def test_stepping_off_is_not_device_loss():
    """In training, a patient stepping off just leaves the targets unreached; nothing pauses."""
    protocol = parse_protocol(
        {
            "summary": "training",
            "steps": [
                {
                    "task": "targets",
                    "layout": "left_right",
                    "count": 2,
                    "timeout_s": 5,
                    "countdown_s": 1,
                }
            ],
        }
    )

    def script(e, board, run):
        if e.kind == "trial_started":
            board.set_intent(StepOff())
            board.schedule(e.t_s + 20, StepOn())

    run, events = drive(protocol, "sim://?realtime=0", script)
    assert kinds(events, "paused", "trial_interrupted") == []
    assert run.results[0].status == "complete"
    assert run.results[0].scores["hits"] == 0 and run.results[0].scores["misses"] == 2


def test_live_pipeline_run_pauses_on_device_loss_and_finishes():
    """The headless runner: a real acquisition thread, status events via the pipeline."""
    protocol = parse_protocol(
        {
            "summary": "romberg",
            "steps": [
                {"task": "stand", "duration_s": 10, "countdown_s": 1, "condition": {"vision": v}}
                for v in ("open", "closed")
            ],
        }
    )
    source = flaky_sim(lose_at_s=6.0)
    seen = []
    pipeline = Pipeline(source, ring_seconds=600)
    status = StatusLog(pipeline)
    with pipeline:
        run = ProtocolRun(protocol, pipeline.info)
        events = run_on_pipeline(run, pipeline, seen.append, progress=False, status=status)
    assert run.phase == "done" and seen == events
    assert [r.status for r in run.results] == ["interrupted", "complete", "complete"]
    assert math.isfinite(run.block().sensory_ratios["somatosensory"])


def test_a_gap_inside_one_big_block_interrupts_at_its_own_sample():
    """A consumer that fell behind reads many seconds at once: the gap still counts where it is."""
    fs = 100.0
    counter = np.r_[np.arange(0, 1200), np.arange(1300, 6000)]  # 1 s missing at 12 s
    rng = np.random.default_rng(0)
    data = np.column_stack([rng.normal(0, 2, (len(counter), 2)), np.full(len(counter), 700.0)])
    block = SampleBlock(np.zeros(len(counter), np.int64), counter / fs, counter, data)
    run = ProtocolRun(find("romberg"), sway_info("test", fs))
    events = run.feed(block)
    assert kinds(events, "trial_started", "trial_interrupted", "paused", "resumed")[:4] == [
        "trial_started",
        "trial_interrupted",
        "paused",
        "resumed",
    ]
    bad = run.results[0]
    assert (
        bad.status == "interrupted" and bad.t_end_s == 13.0 and "100 samples missing" in bad.reason
    )
    redo = next(e for e in events if e.kind == "trial_started" and e.t_s > 13)
    assert redo.t_s == pytest.approx(13.0 + 5.0)  # countdown again, then the trial


def test_the_therapist_can_stop_a_run_and_nothing_half_done_is_scored():
    fs = 100.0
    k = np.arange(2000)
    data = np.column_stack([np.zeros((len(k), 2)), np.full(len(k), 700.0)])
    run = ProtocolRun(find("romberg"), sway_info("test", fs))
    run.feed(SampleBlock(k, k / fs, k, data))  # 20 s: inside the first trial
    events = run.abort()
    assert kinds(events, "trial_interrupted", "protocol_aborted") == [
        "trial_interrupted",
        "protocol_aborted",
    ]
    assert [(r.status, r.scores) for r in run.results] == [("aborted", {})]
    assert run.results[0].reason == "stopped by the therapist" and run.finished
    assert run.block().conditions == {}
    assert (
        run.feed(SampleBlock(k + 2000, (k + 2000) / fs, k + 2000, data)) == [] and run.abort() == []
    )


def test_a_raw_stream_is_refused_with_what_to_do():
    from drivers.sim import SimulatedBoard
    from nmr_balance.errors import DataFormatError

    raw = SimulatedBoard("cells", 100).info
    with pytest.raises(DataFormatError, match=r"tr \(kg\).*not a sway stream.*pipeline.info"):
        ProtocolRun(find("romberg"), raw)
