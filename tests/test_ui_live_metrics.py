"""The UI's live figures against analytic cases: ellipse, velocity, target scoring, lever rule,
and the live feed's fixed-size history."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nmr_balance.ring import RingBuffer
from nmr_balance.stream import SampleBlock, sway_info
from ui.live_feed import LiveFeed
from ui.live_metrics import (
    CHI2_95_2DOF,
    Target,
    TargetScorer,
    ellipse_95,
    mean_velocity,
    ring_of_targets,
)
from ui.load_bars import half_spans, weight_bearing


def ellipse_points(a, b, n=4000, centre=(3.0, -2.0)):
    th = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.column_stack([centre[0] + a * np.cos(th), centre[1] + b * np.sin(th)])


def test_ellipse_area_matches_the_covariance_formula():
    n = 4000
    xy = ellipse_points(6.0, 2.0, n)
    var_x, var_y = 36 / 2 * n / (n - 1), 4 / 2 * n / (n - 1)  # sample variances of a cos, b sin
    area, outline = ellipse_95(xy)
    assert area == pytest.approx(math.pi * CHI2_95_2DOF * math.sqrt(var_x * var_y), rel=1e-9)
    assert CHI2_95_2DOF == pytest.approx(5.991, abs=1e-3)
    # the outline is centred on the mean and reaches sqrt(5.991 var) along the major axis
    np.testing.assert_allclose(outline.mean(axis=0)[:1], [3.0], atol=0.2)
    assert np.abs(outline[:, 0] - 3.0).max() == pytest.approx(math.sqrt(CHI2_95_2DOF * var_x), rel=1e-3)
    assert math.isnan(ellipse_95(xy[:2])[0])
    with_nan = np.vstack([xy, [[np.nan, np.nan]]])  # nobody on the board for a moment
    assert ellipse_95(with_nan)[0] == pytest.approx(area)


def test_mean_velocity_of_a_circle_is_its_perimeter_over_the_time():
    fs, r = 100.0, 10.0
    xy = ellipse_points(r, r, n=1001)[:1001]
    xy = np.vstack([xy, xy[:1]])  # close the loop: 1001 steps
    assert mean_velocity(xy, fs) == pytest.approx(2 * math.pi * r / (1001 / fs), rel=1e-4)
    assert math.isnan(mean_velocity(xy[:1], fs))


def test_target_scorer_counts_dwell_across_chunks_and_resets_on_leaving():
    fs = 100.0
    targets = [Target(10, 0, 2), Target(-10, 0, 2)]
    scorer = TargetScorer(targets, dwell_s=1.0, fs=fs)
    inside = np.tile([10.0, 0.0], (60, 1))
    outside = np.tile([0.0, 0.0], (20, 1))
    assert scorer.update(inside) == []             # 0.6 s inside
    assert scorer.dwell == pytest.approx(0.6)
    assert scorer.update(outside) == [] and scorer.dwell == 0  # left: the dwell restarts
    assert scorer.update(inside) == [] and scorer.update(inside) == [0]  # 1.2 s: hit at 1.0 s
    assert scorer.hit_samples == [39]  # the 100th sample inside: 60 + 40
    assert scorer.hits == 1 and scorer.active == 1
    # the 20 samples after the hit were scored against the next target (outside it)
    assert scorer.samples == 200 and scorer.samples_in_target == 60 + 100
    assert scorer.time_in_target == pytest.approx(160 / 200)
    both = np.vstack([np.tile([-10.0, 0.0], (100, 1)), np.tile([10.0, 0.0], (100, 1))])
    assert scorer.update(both) == [1, 0] and scorer.hits == 3  # two hits in one chunk, cycling
    assert scorer.hit_samples == [99, 199]


def test_ring_of_targets_starts_straight_ahead():
    t = ring_of_targets(4, 30.0, 5.0)
    assert (t[0].x, t[0].y) == pytest.approx((0, 30)) and (t[1].x, t[1].y) == pytest.approx((30, 0))


def test_weight_bearing_by_the_lever_rule():
    assert weight_bearing(0.0, 216.5) == 0.5
    assert weight_bearing(216.5, 216.5) == 1.0 and weight_bearing(-300, 216.5) == 0.0
    assert weight_bearing(54.125, 216.5) == pytest.approx(0.625)
    assert math.isnan(weight_bearing(float("nan"), 216.5))
    cells = {"cells_xy_mm": [[216.5, 119], [216.5, -119], [-216.5, 119], [-216.5, -119]]}
    assert half_spans(cells) == (216.5, 119.0)


def test_live_feed_keeps_a_fixed_window_and_counts_what_it_missed():
    info = sway_info("test", 100.0)
    ring = RingBuffer(3, 1024)
    feed = LiveFeed(ring, info, history_s=5.0)
    assert feed.capacity == 500 and feed.filled == 0

    def push(start, n):
        c = np.arange(start, start + n)
        ring.push(SampleBlock(np.zeros(n, np.int64), c / 100.0, c, np.column_stack([c, -c, c * 0 + 700.0])))

    push(0, 120)
    assert len(feed.pull()) == 120 and feed.filled == 120
    np.testing.assert_array_equal(feed.counter[-120:], np.arange(120))
    assert np.isnan(feed.t[0]) and feed.t[-1] == pytest.approx(1.19)
    push(120, 600)  # more than the history: only the newest 500 are kept
    feed.pull()
    np.testing.assert_array_equal(feed.counter, np.arange(220, 720))
    np.testing.assert_array_equal(feed.xy[:, 1], -np.arange(220, 720))
    assert feed.missed == 0
    push(720, 2000)  # the ring (1024) wraps before the feed reads: the loss is counted
    feed.pull()
    assert feed.missed == 2000 - 1024 and feed.counter[-1] == 2719
    assert feed.xy[feed.recent(0.5)].shape == (50, 2)
