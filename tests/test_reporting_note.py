"""The documentation note: built from what was recorded, honest about what was not."""

from __future__ import annotations

import csv
import dataclasses
import re

import pytest

from nmr_balance.errors import ConfigError, InvalidParameterError
from nmr_balance.record import Cue
from nmr_balance.reporting import documentation_note, load_report_config, write_summary_csv
from nmr_balance.reporting.compare import change, compare_sessions
from tests._report_util import edit, mctsib_session, report_of, training_session, trial


def flat_note(report) -> str:
    """The note with its line wrapping undone (assertions read phrases, not layout)."""
    return " ".join(documentation_note(report).split())


def test_note_names_what_good_documentation_needs():
    session = mctsib_session(2, 7, interrupted=False)
    note = flat_note(report_of(session))
    assert "CPT 97112" in note and "Patient: P017" in note
    assert "Body regions treated: bilateral lower extremities, trunk" in note
    assert "objective: assess sensory organisation" in note
    assert "eyes closed, foam (foam pad): 1 trial, 30 s" in note
    assert 'Verbal (2): "look at the dot" (x2)' in note
    assert 'Tactile (1): "hand on the hip"' in note
    assert "Visual: none logged" in note
    assert "Pain (0-10): 3/10 before, 2/10 after." in note
    assert "Perceived exertion (Borg 6-20): 9 before, 12 after." in note
    assert "first recorded session (baseline)" in note
    # 4 x 30 s of trials (the rests between them are not instruction): no unit billed.
    assert "Timed minutes: 2 (" in note and "CPT 97112 units: 0 (CMS 8-minute rule" in note
    assert "rests and countdowns between trials are not counted" in note
    assert "did not run to the end" not in note


def test_interrupted_trial_is_reported_honestly():
    session = mctsib_session(2, 7, interrupted=True)
    note = flat_note(report_of(session))
    assert (
        "trial 4 stopped after 12.4 s of 30 s planned (interrupted: device lost at 12.1 s)" in note
    )
    assert "Trials that did not run to the end (their partial data are not in the means)" in note
    # The minutes hold only what was recorded: 3 x 30 s + 12.4 s; the pauses are not
    # instruction unless the clinic counts them (then + 3 pauses of 60 s = 4 min 42 s).
    assert (
        "Timed minutes: 1 (recorded trial time 1 min 42 s + instruction 0 s, none entered" in note
    )
    counted = flat_note(report_of(session, count_pauses=True))
    assert "Timed minutes: 4 (recorded trial time 1 min 42 s + instruction 3 min 00 s" in counted


def test_missing_scores_are_not_invented_and_unlabelled_cues_are_kept():
    session = edit(mctsib_session(2, 7), pain_before=None, pain_after=None, borg_after=None)
    t = session.trials[0]
    session = edit(
        session,
        trials=(dataclasses.replace(t, cues=(Cue(1.0, "stand tall"),)),) + session.trials[1:],
    )
    note = flat_note(report_of(session))
    assert "Pain (0-10): not recorded." in note
    assert "Perceived exertion (Borg 6-20): 9 before, not recorded after." in note
    assert 'Type not recorded (1): "stand tall"' in note


def test_training_sets_repetitions_level_and_surface():
    note = flat_note(report_of(training_session(5, 3, 1, score=40)))
    assert "Weight shift: left/right, then front/back (training) - objective: improve " in note
    assert "targets hit 24 of 30; time in target 61 %; success 41 %; level 3" in note
    assert "Progression: next session at level 3 (stay at level 3: success % 41, 42)" in note
    assert "eyes open, foam (foam pad; level 3): 3 sets x 10 repetitions, 2 min 00 s each" in note
    assert 'Visual (3): "shift from the ankles" (x3)' in note


def test_progress_states_better_and_worse_plainly():
    assert change(8.0, 10.0, "lower").verdict == "better"
    assert change(12.0, 10.0, "lower").verdict == "worse"
    assert change(12.0, 10.0, "higher").verdict == "better"
    assert change(10.2, 10.0, "lower").verdict == "about the same"
    assert change(10.0, 0.0, "lower").verdict == "worse"
    assert change(float("nan"), 1.0, "lower") is None
    assert change(8.0, 10.0, "lower").text() == "-20 % (better)"
    before = mctsib_session(1, 0, scale=2.0)
    now = mctsib_session(2, 7, scale=1.0, first_trial_id=11)  # same paths, half the size
    changes = compare_sessions(now, before)
    assert len(changes) == 4
    for by_metric in changes.values():
        assert by_metric["mean_velocity"].pct == pytest.approx(-50.0)
        assert by_metric["ellipse_area_95_chi2"].pct == pytest.approx(-75.0)
        assert by_metric["mean_velocity"].verdict == "better"
    history = (before, mctsib_session(3, 3, scale=1.5, first_trial_id=21), now)
    note = flat_note(report_of(now, history))
    assert "Since the previous session (2026-11-05):" in note
    assert "Since the baseline (2026-11-02):" in note
    assert re.search(r"mean sway velocity [\d.]+ -> [\d.]+ mm/s -50 % \(better\)", note)


def test_sensory_ratios_leave_out_interrupted_trials():
    session = mctsib_session(1, 0)
    velocity = {t.condition: t.metrics["mean_velocity"] for t in session.trials}
    (block,) = session.blocks
    ratios = block.sensory_ratios
    assert ratios["somatosensory"] == pytest.approx(
        velocity["eyes closed, firm"] / velocity["eyes open, firm"]
    )
    assert ratios["vestibular"] == pytest.approx(
        velocity["eyes closed, foam"] / velocity["eyes open, firm"]
    )
    assert set(ratios) == {"somatosensory", "visual", "vestibular", "foam_eyes_closed_vs_open"}
    # Eyes closed on foam did not finish: only the Romberg quotient of the firm conditions.
    (partial,) = mctsib_session(1, 0, interrupted=True).blocks
    assert partial.sensory_ratios == {"somatosensory": ratios["somatosensory"]}


def test_sensory_ratios_come_from_the_protocols_own_trials_only():
    """A free recording eyes open on a firm surface never joins the mCTSIB baseline."""
    session = mctsib_session(1, 0)
    (alone,) = session.blocks
    free = trial(99, session.trials[0].started, "eyes open, firm", scale_mm=30.0, protocol="free")
    mixed = edit(session, trials=(*session.trials, free))
    by_name = {b.name: b for b in mixed.blocks}
    assert by_name["mctsib"].sensory_ratios == alone.sensory_ratios
    assert by_name["free"].sensory_ratios == {}  # a free recording has no ratios
    note = flat_note(report_of(mixed))
    for value in alone.sensory_ratios.values():
        assert f"{value:.2f}" in note


def test_summary_csv_has_every_metric_of_every_trial(tmp_path):
    s1 = mctsib_session(1, 0, interrupted=True)
    s2 = training_session(2, 3, 11, score=40)
    path = tmp_path / "summary.csv"
    assert write_summary_csv([s1, s2], path) == 7
    assert path.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(path.open()))
    assert [r["trial_id"] for r in rows] == ["1", "2", "3", "4", "11", "12", "13"]
    assert rows[3]["status"] == "interrupted" and rows[3]["problems"] == "device lost at 12.1 s"
    assert float(rows[0]["mean_velocity"]) == pytest.approx(s1.trials[0].metrics["mean_velocity"])
    assert rows[0]["success_pct"] == "" and float(rows[4]["success_pct"]) == 40


def test_station_config(tmp_path):
    assert load_report_config(tmp_path / "none.toml" if False else None).units_rule  # defaults
    path = tmp_path / "station.toml"
    path.write_text(
        '[clinic]\nname = "Riverside PT"\nlogo = "logo.png"\n'
        '[billing]\nunits_rule = "ama_midpoint"\nmax_pause_as_instruction_min = 2\n'
        '[ui]\ntheme = "dark"\n'
    )
    config = load_report_config(path)
    assert config.clinic.name == "Riverside PT"
    assert config.clinic.logo_path == str(tmp_path / "logo.png")
    assert (config.units_rule, config.max_gap_instruction_s) == ("ama_midpoint", 120.0)
    path.write_text('[billing]\nunits_rule = "seven_minute"\n')
    with pytest.raises(InvalidParameterError, match="ama_midpoint"):
        load_report_config(path)
    path.write_text('[clinic\nname = "x"\n')
    with pytest.raises(ConfigError, match="TOML"):
        load_report_config(path)
    with pytest.raises(ConfigError, match="no station config"):
        load_report_config(tmp_path / "missing.toml")
