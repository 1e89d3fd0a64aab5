"""Least privilege on the clinic's server: the roles SQL of docs/clinic-server.md, run as
written, lets a station record but not delete, and a reviewer only read."""

from __future__ import annotations

import os
import pathlib
import re
import urllib.parse

import psycopg
import pytest
from _recordings_util import plate_info, plate_samples, processed_of, store_trial

from nmr_balance.errors import StorageError
from recordings import Store

REPO = pathlib.Path(__file__).resolve().parents[1]


def _roles_sql() -> str:
    doc = (REPO / "docs" / "clinic-server.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", doc, flags=re.S)
    return next(b for b in blocks if "nmr-balance roles" in b)


def _as(url: str, role: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname or ''}"))


@pytest.fixture
def clinic(pg_url, tmp_path, monkeypatch):
    """The server set up as the doc says: schema by the owner, roles, one login of each kind."""
    with Store.open(pg_url) as admin:  # step 2: the owner creates the schema
        raw = plate_samples(300)
        store_trial(admin, raw, processed_of(raw), plate_info(), patient="OLD1")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(_roles_sql())
        for role in ("station1", "reviewer1"):
            conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute("CREATE ROLE station1 LOGIN PASSWORD 'st-pw' IN ROLE nmr_station")
        conn.execute("CREATE ROLE reviewer1 LOGIN PASSWORD 'rv-pw' IN ROLE nmr_reviewer")
    passfile = tmp_path / "pgpass"
    passfile.write_text("*:*:*:station1:st-pw\n*:*:*:reviewer1:rv-pw\n")
    os.chmod(passfile, 0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    yield pg_url
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for role in ("station1", "reviewer1", "nmr_station", "nmr_reviewer"):
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_a_station_records_but_cannot_delete(clinic):
    with Store.open(_as(clinic, "station1")) as store:
        raw = plate_samples(500, seed=3)
        tid = store_trial(store, raw, processed_of(raw), plate_info(), patient="NEW1")
        store.set_trial_notes(tid, "tolerated well")
        assert store.trial(tid).status == "complete"
        assert {t.patient_code for t in store.trials()} == {"OLD1", "NEW1"}
        for sql in ("DELETE FROM trials", "DELETE FROM chunks", "DROP TABLE trials"):
            with pytest.raises(StorageError):
                store._q(sql)
    with Store.open(clinic) as owner:
        assert len(owner.trials()) == 2 and len(owner.samples(tid, 0)) == 500


def test_a_reviewer_only_reads(clinic):
    with Store.open(_as(clinic, "reviewer1")) as store:
        (trial,) = store.trials()
        assert len(store.load_trial(trial.id).raw) == 300
        with pytest.raises(StorageError, match="no right"):
            store.add_patient("P9")
        with pytest.raises(StorageError, match="no right"):
            store.set_trial_notes(trial.id, "changed")
    with Store.open(clinic) as owner:
        assert owner.trial(trial.id).notes == "" and [p.code for p in owner.patients()] == ["OLD1"]


def test_a_station_asks_for_the_owner_when_the_schema_is_older(clinic):
    with psycopg.connect(clinic, autocommit=True) as conn:
        conn.execute("UPDATE nmr_schema SET version = version - 1")
    with pytest.raises(StorageError) as err:
        Store.open(_as(clinic, "station1"))
    assert "needs" in str(err.value) and "owner" in err.value.hint
    with psycopg.connect(clinic, autocommit=True) as conn:  # as if the owner had upgraded it
        conn.execute("UPDATE nmr_schema SET version = version + 1")
    with Store.open(_as(clinic, "station1")) as store:
        assert len(store.trials()) == 1


def test_a_station_signs_and_adds_addenda_but_cannot_remove_them(clinic):
    from recordings import signing

    with Store.open(_as(clinic, "station1")) as store:
        raw = plate_samples(300, seed=4)
        tid = store_trial(store, raw, processed_of(raw), plate_info(), patient="NEW2")
        sid = store.trial(tid).session_id
        store.end_session(sid)
        sig = signing.sign_session(store, sid, "A. Smith")
        signing.add_addendum(store, sid, "A. Smith", "Pt called back")
        for sql in ("DELETE FROM addenda", "UPDATE addenda SET text = 'changed'"):
            with pytest.raises(StorageError):
                store._q(sql)
    with Store.open(_as(clinic, "reviewer1")) as reviewer:
        assert signing.signature(reviewer, sid) == sig
        (old,) = [s for s in reviewer.sessions() if s.id != sid]
        with pytest.raises(StorageError, match="no right"):
            signing.sign_session(reviewer, old.id, "R. Eviewer")
        with pytest.raises(StorageError, match="no right"):
            signing.add_addendum(reviewer, sid, "R. Eviewer", "not mine to add")
    with Store.open(clinic) as owner:
        assert [a.text for a in signing.addenda(owner, sid)] == ["Pt called back"]
