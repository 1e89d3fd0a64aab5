"""The UI's live figures against analytic cases: ellipse outline, whole-trial and sliding-window
figures (via dsp), lever rule, and the live feed's fixed-size history. Targets are scored by
the protocol engine only: tests/test_protocol_targets.py."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nmr_balance.ring import RingBuffer
from nmr_balance.stream import SampleBlock, sway_info
from ui.live_feed import LiveFeed
from ui.live_metrics import CHI2_95_2DOF, ellipse_outline, whole_trial_figures
from ui.load_bars import half_spans, weight_bearing


def ellipse_points(a, b, n=4000, centre=(3.0, -2.0)):
    th = np.linspace(0, 2 * math.pi, n, endpoint=False)
    return np.column_stack([centre[0] + a * np.cos(th), centre[1] + b * np.sin(th)])


def test_ellipse_outline_has_the_semi_axes_and_angle_it_is_given():
    figures = {
        "mean_x": 3.0,
        "mean_y": -2.0,
        "ellipse_major_95": 6.0,
        "ellipse_minor_95": 2.0,
        "ellipse_angle_deg": 90.0,
    }
    outline = ellipse_outline(figures, n_points=361)
    np.testing.assert_allclose(outline.mean(axis=0), [3.0, -2.0], atol=0.05)
    # major axis along +y (90 deg): 6 up and down, 2 left and right
    assert np.ptp(outline[:, 1]) == pytest.approx(12.0, rel=1e-4)
    assert np.ptp(outline[:, 0]) == pytest.approx(4.0, rel=1e-4)
    assert np.isnan(ellipse_outline({**figures, "ellipse_minor_95": math.nan})).all()


def test_whole_trial_figures_of_a_circle_and_of_an_ellipse():
    fs, r = 100.0, 10.0
    xy = ellipse_points(r, r, n=1000)
    xy = np.vstack([xy, xy[:1]])  # once round: 1000 steps in 10 s
    f = whole_trial_figures(xy, fs, "mm")
    # dsp's definition: path length / T with T = n / fs (docs/metrics.md); the path is a
    # 1000-gon of perimeter 1000 * 2 r sin(pi / 1000) (= 2 pi r to 2e-6)
    assert f["mean_velocity"] == pytest.approx(
        1000 * 2 * r * math.sin(math.pi / 1000) / (1001 / fs), rel=1e-9
    )
    n = 4000
    f = whole_trial_figures(ellipse_points(6.0, 2.0, n), fs, "mm")
    var_x, var_y = 36 / 2 * n / (n - 1), 4 / 2 * n / (n - 1)  # sample variances of a cos, b sin
    assert f["ellipse_area_95_chi2"] == pytest.approx(
        math.pi * CHI2_95_2DOF * math.sqrt(var_x * var_y), rel=1e-6
    )
    outline = ellipse_outline(f, suffix="_chi2")
    assert np.abs(outline[:, 0] - 3.0).max() == pytest.approx(
        math.sqrt(CHI2_95_2DOF * var_x), rel=1e-3
    )
    assert whole_trial_figures(xy[:5], fs, "mm") == {}  # too short to score: nothing, no error


def test_live_view_window_follows_the_feed_and_restarts_after_a_seek(qtbot):
    from ui.dashboard import application
    from ui.live_view import LiveView

    application()
    info = sway_info("test", 100.0)
    feed = LiveFeed(None, info, history_s=30.0)
    view = LiveView()
    qtbot.addWidget(view)
    view.set_stream(info)
    xy = ellipse_points(5.0, 5.0, n=1500)  # 15 s, 1.5 turns
    for start in range(0, 1500, 17):
        stop = min(start + 17, 1500)
        c = np.arange(start, stop)
        feed.push(
            SampleBlock(
                np.zeros(len(c), np.int64),
                c / 100.0,
                c,
                np.column_stack([xy[start:stop], np.full(len(c), 700.0)]),
            )
        )
        view.render(feed)
    view.render(feed, figures=True)
    expected = whole_trial_figures(xy[-1000:], 100.0, "mm")  # the last 10 s
    # the sliding window divides its path by its span, (n - 1) / fs
    assert view.figures["mean_velocity"] == pytest.approx(expected["path_length"] / 9.99, rel=1e-6)
    assert view.figures["ellipse_area_95"] == pytest.approx(
        expected["ellipse_area_95_chi2"], rel=1e-6
    )
    feed.clear()  # a replay seek: the window starts over with what the feed now holds
    c = np.arange(300)
    feed.push(
        SampleBlock(
            np.zeros(300, np.int64), c / 100.0, c, np.column_stack([xy[:300], np.full(300, 700.0)])
        )
    )
    view.render(feed, figures=True)
    assert view.window.values()["n_valid"] == 300
    assert view.figures["mean_velocity"] == pytest.approx(
        whole_trial_figures(xy[:300], 100.0, "mm")["path_length"] / 2.99
    )


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
        ring.push(
            SampleBlock(
                np.zeros(n, np.int64), c / 100.0, c, np.column_stack([c, -c, c * 0 + 700.0])
            )
        )

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
