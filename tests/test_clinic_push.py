"""Offline stations: `push` uploads finished trials to the clinic's server, once, never
overwriting; and stations recording into one server at once lose nothing."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from _helpers import CLI, run_cli
from _recordings_util import plate_info, plate_samples, processed_of, same_bits, store_trial

from recordings import Store
from recordings.push import push
from recordings.store import PROCESSED, RAW


def _station_with_trials(path) -> list[int]:
    with Store.open(path) as store:
        store.add_patient("P001", name="Ann Example", birth_year=1950, notes="private")
        ids = []
        for seed in range(2):
            raw = plate_samples(700, seed=seed)
            ids.append(store_trial(store, raw, processed_of(raw), plate_info(), chunk=100))
        raw = plate_samples(300, seed=9)  # still being recorded (its recorder holds no lock
        # here, but push looks at the status only and never touches it)
        ids.append(store_trial(store, raw, processed_of(raw), plate_info(), status="recording"))
    return ids


def test_push_twice_uploads_once_bit_exact_and_pseudonymous(tmp_path, pg_url):
    station = tmp_path / "station.db"
    ids = _station_with_trials(station)
    with Store.open(station, recover=False) as local, Store.open(pg_url, recover=False) as server:
        first = push(local, server)
        assert len(first.uploaded) == 2 and first.already == [] and first.conflicts == []
        assert first.still_recording == 1
        second = push(local, server)
        assert second.uploaded == [] and sorted(second.already) == sorted(first.uploaded)
        assert len(server.trials()) == 2
        # Same samples, bit for bit; same events and results; a stable id on both sides.
        for local_id in ids[:2]:
            uid = local._q("SELECT uid FROM trials WHERE id = ?", (local_id,))[0][0]
            server_id = server._q("SELECT id FROM trials WHERE uid = ?", (uid,))[0][0]
            a, b = local.load_trial(local_id), server.load_trial(server_id)
            assert same_bits(a.raw, b.raw) and same_bits(a.processed, b.processed)
            assert a.events == b.events and a.metrics == b.metrics
            assert b.trial.patient_code == "P001" and b.trial.condition == a.trial.condition
        # Each session of a pushed trial once (matched by its stable id), however often pushed;
        # the third holds only the trial still recording.
        assert (len(server.sessions()), len(local.sessions())) == (2, 3)
        patient = server.patient("P001")
        assert patient.name is None and patient.birth_year is None and patient.notes == ""


def test_a_conflict_is_reported_and_nothing_is_overwritten(tmp_path, pg_url):
    station = tmp_path / "station.db"
    _station_with_trials(station)

    def push_station():
        return run_cli("push", "--db", str(station), "--to", pg_url, env={"NMR_BALANCE_DB": ""})

    done = push_station()
    assert done.returncode == 0, done.stderr
    # Opening the station marked the trial whose recorder is gone interrupted: it goes too.
    assert "3 trial(s) uploaded" in done.stdout, done.stdout
    with Store.open(pg_url) as server:
        assert [t.status for t in server.trials()] == ["complete", "complete", "interrupted"]
        server_id = server.trials()[0].id
        server.set_trial_notes(server_id, "edited on the server")
    again = push_station()
    assert again.returncode == 1, again.stdout + again.stderr
    assert "2 already on the server" in again.stdout and "1 conflict(s)" in again.stdout
    assert "differs in notes" in again.stdout and "nothing was changed" in again.stdout
    with Store.open(pg_url) as server:
        assert server.trial(server_id).notes == "edited on the server"
        assert len(server.trials()) == 3
    with Store.open(station) as local:
        assert all(t.notes == "" for t in local.trials())


def test_push_needs_a_server_url_and_never_a_password(tmp_path):
    station = tmp_path / "station.db"
    _station_with_trials(station)
    for to, expected in (
        (str(tmp_path / "other.db"), "postgresql://ROLE@HOST/DBNAME"),
        ("postgresql://st:secret@localhost/nmr", ".pgpass"),
    ):
        done = run_cli("push", "--db", str(station), "--to", to, timeout=60)
        assert done.returncode == 2 and expected in done.stderr, done.stderr
        assert "secret" not in done.stderr and "Traceback" not in done.stderr


def test_db_url_is_a_server_not_a_folder(tmp_path, pg_url):
    # Before: `--db postgresql://...` created a folder named 'postgresql:' with an SQLite file.
    done = run_cli("trials", "--db", pg_url, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "postgresql:").exists()
    # ... and $NMR_BALANCE_DB names the clinic's default.
    with Store.open(pg_url) as server:
        server.add_patient("ENV1")
    listed = run_cli("patients", "--format", "json", env={"NMR_BALANCE_DB": pg_url}, timeout=60)
    assert listed.returncode == 0 and "ENV1" in listed.stdout, listed.stderr


@pytest.mark.timeout(240)
def test_three_stations_record_into_one_server_at_once(pg_url):
    """Three stations at 1 kHz record 4 s each into the server at the same time: every
    sample arrives, in order, in its own trial."""
    procs = [
        subprocess.Popen(
            [
                *CLI,
                "record",
                "--source",
                f"sim://?sensor=plate&rate=1000&seed={i}",
                "--db",
                pg_url,
                "--patient",
                f"ST{i}",
                "--duration",
                "4",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for p in procs:
        out, err = p.communicate(timeout=200)
        assert p.returncode == 0, out + err
    with Store.open(pg_url) as server:
        trials = server.trials()
        assert sorted(t.patient_code for t in trials) == ["ST0", "ST1", "ST2"]
        for t in trials:
            assert t.status == "complete"
            for stream in (RAW, PROCESSED):
                index = server.chunk_index(t.id, stream)
                assert np.array_equal(index[:, 0], np.arange(len(index)))  # chunk order kept
                block = server.samples(t.id, stream)
                assert len(block) == 4000  # exactly the trial's duration of signal
                assert np.array_equal(np.diff(block.counter), np.ones(3999))  # no sample lost
        assert server.check() == []
