"""The soak and fault drills (benchmarks/) run correctly for a few seconds each.

The real runs are long (an hour, a million frames); these only check that each drill works and
that its own checks pass on a short run. Figures go to tmp_path, not benchmarks/results/.

What only holds in real time on a quiet machine (no sample lost at 1 kHz, at most 1 s lost to a
SIGKILL) stays the drills' own verdict: here the soak's board waits for a slow reader
(``--fifo block``) and the SIGKILL round is checked for what a busy machine cannot change.
"""

import json

import pytest

from benchmarks import drill_fuzz, drill_sigkill, drill_unplug, soak

# One worker runs the drills one after another (make test uses xdist's loadgroup), so two drills
# never compete with each other for the two cores.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180), pytest.mark.xdist_group("drills")]


def test_fuzz_drill_finds_no_crash(tmp_path):
    out = tmp_path / "fuzz.json"
    assert drill_fuzz.main(["--frames", "20000", "--files", "12", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert set(result["decoders"]) == {"nmr", "csv", "witmotion serial", "witmotion BLE", "wii"}
    assert all(
        r["frames"] >= 20000 and r["crashes"] == 0 and r["samples_out"] > 0
        for r in result["decoders"].values()
    )
    files = result["files"]
    assert set(files["kinds"]) == {"csv", "table", "c3d", "toml", "export"}
    assert files["crashes"] == 0 and files["temporary_files_left"] == []
    for kind, c in files["kinds"].items():
        assert c["files"] >= 2 and c["crashes"] == 0 and c["db_changed"] == 0, kind
        assert c["refused"] >= 1, kind  # the drill really sends bad files
    assert files["kinds"]["export"]["partial_files"] == 0


def test_fuzz_damage_changes_the_stream_every_pass():
    import numpy as np

    clean = np.arange(10_000, dtype=np.uint8)
    rng = np.random.default_rng(0)
    a, b = drill_fuzz.damage(clean, 1000, rng), drill_fuzz.damage(clean, 1000, rng)
    assert not np.array_equal(a, clean) and not np.array_equal(a, b)


def test_sigkill_drill_one_kill(tmp_path):
    out = tmp_path / "sigkill.json"
    drill_sigkill.main(["--kills", "1", "--json", str(out)])  # its exit status includes lost <= 1 s
    result = json.loads(out.read_text())
    r = result["rounds"][0]
    assert r["opens"] and r["status"] == "interrupted" and r["integrity"] == "ok"
    if r["samples"]:  # what was committed before the kill is whole, and its loss is measured
        assert r["contiguous"] and r["lost_s"] >= 0 and result["lost_s_max"] == r["lost_s"]


def test_unplug_drill_recovers_serial_and_ble(tmp_path):
    out = tmp_path / "unplug.json"
    assert drill_unplug.main(["--seconds", "6", "--every", "2", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    for k in ("serial", "ble"):
        assert result[k]["unplugs"] >= 1 and result[k]["recovered"] == result[k]["unplugs"]
        assert result[k]["db_device_back_events"] >= result[k]["unplugs"]
    assert all(gap > 0 for gap in result["serial"]["db_signal_gaps"])


def test_soak_counts_every_sample_end_to_end(tmp_path):
    out = tmp_path / "soak.json"
    args = ["--seconds", "5", "--view", "headless", "--fifo", "block", "--json", str(out)]
    assert soak.main(args) == 0
    result = json.loads(out.read_text())
    assert result["state"] == "done" and result["zero_lost"]
    assert result["db_last_counter"] == result["emulator_sent"] - 1
    assert result["db_raw_samples"] == result["db_last_counter"] - result["db_first_counter"] + 1
