"""What `nmr-balance run` and the dashboard's engine share (app.protocol_recording): the level
chosen, the LOS targets are placed in, and storing a measured LOS for the patient's next runs."""

from __future__ import annotations

import dataclasses
import pathlib
import stat
import types

import pytest

from nmr_balance.app.protocol_recording import RecordedRun, choose_level, patient_los
from nmr_balance.errors import InvalidParameterError
from nmr_balance.protocols import find, load_protocol
from nmr_balance.results import LosResult, LosScores

QUICK = pathlib.Path(__file__).parent / "data" / "protocols" / "quick_check.toml"


@dataclasses.dataclass
class FinishedRun:  # what RecordedRun reads of a ProtocolRun once it has finished
    los: LosResult | None
    phase: str = "done"
    unit: str = "mm"

    def block(self):
        return types.SimpleNamespace(los=self.los)


def test_a_measured_los_is_stored_and_used_by_later_runs(tmp_path):
    measured = LosResult({}, LosScores(), measured_reach=(90.0,) * 8)
    assert patient_los("P1", "mm", 1.70, tmp_path).origin == "theoretical"  # nothing measured yet
    done = RecordedRun(FinishedRun(measured), None, "P1", tmp_path).finish()
    path = pathlib.Path(done["los_path"])
    assert done["trial_ids"] == [] and path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # health data
    later = patient_los("P1", "mm", 1.70, tmp_path)
    assert later.reach == (90.0,) * 8 and later.origin == "measured"
    # a tilt board's stream is in degrees: the mm profile does not fit, the theoretical one is used
    assert patient_los("P1", "deg", 1.70, tmp_path).unit == "deg"
    # a run without a LOS test, one whose LOS was not kept, or an aborted one stores nothing
    not_kept = LosResult({}, LosScores(), measured_note="not kept: some direction ...")
    for run in (FinishedRun(None), FinishedRun(not_kept), FinishedRun(measured, "aborted")):
        assert RecordedRun(run, None, "P2", tmp_path).finish()["los_path"] is None


def test_level_is_the_therapists_choice_or_level_one(tmp_path):
    protocol = load_protocol(QUICK)
    assert choose_level(None, "P1", protocol, 2) == (2, "")
    assert choose_level(None, "P1", protocol, None) == (1, "")
    with pytest.raises(InvalidParameterError, match=r"a level from 1 \(easiest\) to \d"):
        choose_level(None, "P1", protocol, 5)
    assert choose_level(None, "P1", find("mctsib"), None) == (None, "")  # tests have no level


def test_live_protocol_trials_hold_exactly_their_signal(tmp_path):
    """Paced like a sensor (a live pipeline, not pull mode): each stored trial is the samples
    from its start to its end in sample time: a timed 2 s trial at 100 Hz is 200 samples, a
    trial that ends early (both targets reached) as many as its span."""
    import json

    from _helpers import run_cli

    db = tmp_path / "s.db"
    out = run_cli(
        *("run", str(QUICK), "--source", "sim://", "--patient", "P1", "--db", str(db)),
        *("--data-dir", str(tmp_path), "--json"),
        timeout=80,
    )
    assert out.returncode == 0, out.stderr
    run = json.loads(out.stdout)
    listed = run_cli("trials", "--db", str(db), "--format", "json", timeout=60)
    assert listed.returncode == 0, listed.stderr
    stored = {t["id"]: t for t in json.loads(listed.stdout)}
    assert len(run["trials"]) == len(run["recorded_trial_ids"]) == 2
    for trial, tid in zip(run["trials"], run["recorded_trial_ids"]):
        span = round((trial["t_end_s"] - trial["t_start_s"]) * 100)
        assert stored[tid]["metrics"]["n_samples"] == span, (trial, stored[tid]["metrics"])
    assert stored[run["recorded_trial_ids"][0]]["metrics"]["n_samples"] == 200
