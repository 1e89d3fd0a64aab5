"""Joint-position reproduction errors: analytic cases (docs/metrics.md, Schmidt & Lee)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dsp.proprioception import error_scores, signed_errors


def test_errors_along_the_criterion_direction_give_ae_ce_ve():
    criterion = np.array([[10.0, 0.0]] * 3)
    reproduced = np.array([[8.0, 0.0], [12.0, 0.0], [9.0, 0.0]])
    radial, distance = signed_errors(criterion, reproduced)
    assert radial == pytest.approx([-2.0, 2.0, -1.0])
    assert distance == pytest.approx([2.0, 2.0, 1.0])
    s = error_scores(radial, distance)
    ce = -1.0 / 3.0
    assert s["constant_error"] == pytest.approx(ce)
    assert s["absolute_error"] == pytest.approx(5.0 / 3.0)
    # population SD about the subject's own mean (Schmidt & Lee)
    assert s["variable_error"] == pytest.approx(
        math.sqrt(((-2 - ce) ** 2 + (2 - ce) ** 2 + (-1 - ce) ** 2) / 3)
    )
    assert s["distance_error"] == pytest.approx(5.0 / 3.0) and s["n"] == 3


def test_a_sideways_miss_is_no_radial_error_but_a_distance_error():
    # criterion 10 units forward-right; reproduced 3 units across that direction
    u = np.array([1.0, 1.0]) / math.sqrt(2)
    v = np.array([-1.0, 1.0]) / math.sqrt(2)
    radial, distance = signed_errors([10 * u], [10 * u + 3 * v])
    assert radial[0] == pytest.approx(0.0, abs=1e-12) and distance[0] == pytest.approx(3.0)


def test_every_error_is_the_same_so_ve_is_zero_and_ae_is_abs_ce():
    rng = np.random.default_rng(0)
    bearings = rng.uniform(0, 2 * np.pi, 10)
    c = np.column_stack([np.sin(bearings), np.cos(bearings)]) * 20.0
    r = c * 0.9  # a 10 % undershoot everywhere: 2 units
    s = error_scores(*signed_errors(c, r))
    assert s["constant_error"] == pytest.approx(-2.0)
    assert s["absolute_error"] == pytest.approx(2.0)
    assert s["variable_error"] == pytest.approx(0.0, abs=1e-12)


def test_unusable_reproductions_are_left_out_and_said():
    radial, distance = signed_errors(
        [[0.0, 0.0], [5.0, 0.0], [5.0, 0.0]], [[1, 1], [np.nan, 0], [6, 0]]
    )
    assert math.isnan(radial[0]) and math.isnan(radial[1])  # centre criterion; lost sample
    s = error_scores(radial, distance)
    assert s["n"] == 1 and s["absolute_error"] == pytest.approx(1.0)
    assert math.isnan(s["variable_error"])  # one reproduction has no spread
    empty = error_scores([])
    assert empty["n"] == 0 and math.isnan(empty["absolute_error"])
    with pytest.raises(ValueError, match="one row each"):
        signed_errors([[1.0, 0.0]], [[1.0, 0.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match="shape"):
        signed_errors([1.0, 0.0], [1.0, 0.0])
