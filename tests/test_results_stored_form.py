"""The stored (JSON) form of the typed results: what is not a finite number is written as null and
read back as NaN, a missing count as 0 (or None where "not counted" is a fact), older key names
are still read, and every type reads back what it wrote."""

from __future__ import annotations

import json
import math

from nmr_balance.results import (
    LosResult,
    LosScores,
    RecordingFacts,
    RepositionResult,
    RepositionScores,
    StandResult,
    TrainingScores,
    TrialResults,
)


def _json(d: dict) -> dict:
    return json.loads(json.dumps(d, allow_nan=False))  # what the database holds


def test_nan_is_written_as_null_and_read_back_as_nan():
    facts = RecordingFacts(3000, 100.0, 30.0, 2, math.nan, "mm")
    stored = _json(facts.to_dict())
    assert stored == {
        "n_samples": 3000,
        "fs_hz": 100.0,
        "duration_s": 30.0,
        "gaps": 2,
        "valid_fraction": None,
        "unit": "mm",
    }
    back = RecordingFacts.from_dict(stored)
    assert math.isnan(back.valid_fraction)
    assert back.to_dict() == facts.to_dict()


def test_what_is_missing_or_not_a_number_reads_as_not_measured():
    assert RecordingFacts.from_dict({"n_samples": "many", "gaps": math.inf}).n_samples == 0
    training = TrainingScores.from_dict({"hits": 3, "success_pct": "high"})
    assert training.hits == 3 and training.targets is None  # not counted, not 0
    assert math.isnan(training.success_pct)
    stand = StandResult.from_dict({})  # nothing said: held, for an unknown time
    assert stand.completed and math.isnan(stand.time_standing_s) and stand.loss_reason == ""
    assert RepositionScores.from_dict({"n": 2.0, "absolute_error": True}).n == 2
    assert math.isnan(RepositionScores.from_dict({"absolute_error": True}).absolute_error)


def test_older_names_and_optional_flags():
    assert TrainingScores.from_dict({"tracking_rms": 4.5}).tracking_error == 4.5
    assert "movement_detected" not in LosScores().to_dict()  # not recorded: not written
    assert LosScores.from_dict({"movement_detected": False}).movement_detected is False
    assert LosScores.from_dict({"movement_detected": "no"}).movement_detected is None


def test_every_type_reads_back_what_it_wrote():
    los = LosScores(0.61, 30.2, 71.0, 92.5, 80.0, True)
    reposition = RepositionScores(2.1, -1.4, 0.8, 2.5, 3)
    results = TrialResults(
        recording=RecordingFacts(3000, 100.0, 30.0, 0, 1.0, "deg"),
        sway={"mean_velocity": 9.1},
        stand=StandResult(False, 12.5, "stepped"),
        los=LosResult({"R": los, "F": los}, los),
        training=TrainingScores(7, 8, 41.2, 87.5, 1.9, math.nan),
        reposition=RepositionResult({"F": reposition}, reposition, "deg"),
        level=2,
        outcome="lost_balance",
    )
    stored = _json(results.to_dict())
    assert list(stored["los"]["per_direction"]) == ["F", "R"]  # clockwise from forward
    assert TrialResults.from_dict(stored).to_dict() == results.to_dict()
