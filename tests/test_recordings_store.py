"""The SQLite store: schema, permissions, round trips, migrations, bad files, crash recovery."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from _recordings_util import plate_info, plate_samples, processed_of, same_bits, store_trial

from nmr_balance.errors import CorruptDatabaseError, InvalidParameterError, StorageError
from recordings import Store, schema
from recordings.store import PROCESSED, RAW


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "station.db"


def test_new_database_is_private_wal_and_ours(db):
    old = os.umask(0o022)  # a permissive umask must not widen the file
    try:
        with Store.open(db) as store:
            store.add_patient("P001")
            for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
                assert path.exists(), path
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
            conn = sqlite3.connect(db)
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
            assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
            conn.close()
    finally:
        os.umask(old)


def test_patients_sessions_and_validation(store_target):
    db = store_target  # an SQLite file or a PostgreSQL database: the same behaviour
    with Store.open(db) as store:
        p = store.add_patient(
            "P001",
            name="Ann Example",
            birth_year=1950,
            sex="F",
            height_cm=160,
            weight_kg=60.5,
            foot_length_cm=24,
            notes="left ankle sprain",
        )
        assert store.patient("P001") == p and store.patient(p.id) == p
        assert "name" not in p.pseudonymised() and "birth_year" not in p.pseudonymised()
        with pytest.raises(InvalidParameterError, match="no other patient"):
            store.add_patient("P001")
        with pytest.raises(InvalidParameterError, match="known patient"):
            store.start_session("NOPE")
        with pytest.raises(InvalidParameterError, match="pain_before"):
            store.start_session("P001", pain_before=11)
        s = store.start_session(
            "P001", therapist="AB", station="room 2", pain_before=3, borg_before=9
        )
        s2 = store.end_session(s.id, pain_after=1, borg_after=13, notes="tolerated well")
        assert (s2.pain_after, s2.borg_after, s2.notes) == (1, 13, "tolerated well")
        assert s2.ended is not None and store.sessions("P001") == [s2]
    with Store.open(db) as store:  # persisted
        assert [x.code for x in store.patients()] == ["P001"]


def test_samples_round_trip_bit_exact(store_target):
    db = store_target
    raw = plate_samples(1234)
    proc = processed_of(raw)
    # Values that a lossy encoding would alter: NaN payloads, -0.0, subnormals, extremes.
    raw.data[5] = [np.nan, -0.0, 5e-324, 1.7976931348623157e308, -1e-300, np.pi]
    raw.t_device[:] = np.arange(1234) * 0.01 + 1e-17
    with Store.open(db) as store:
        tid = store_trial(store, raw, proc, plate_info(), chunk=97)
    with Store.open(db) as store:
        data = store.load_trial(tid)
        assert same_bits(data.raw, raw) and same_bits(data.processed, proc)
        assert data.trial.status == "complete" and data.trial.cues == ["look ahead"]
        assert data.trial.condition.label() == "eyes closed, foam, feet together"
        assert [e.kind for e in data.events] == ["cue", "marker"]
        assert data.raw_info == plate_info() and data.info.channel_names == ("x", "y", "fz")
        assert len(store.chunk_index(tid, RAW)) == 13
        assert store.trials(patient="P001", status="complete")[0].id == tid


def test_migrations_from_every_earlier_version(db):
    # Build the database as the first release did (schema v1, chunks without CRC).
    conn = sqlite3.connect(db, isolation_level=None)
    assert schema.migrate(conn, 1) == 1
    raw = plate_samples(50)
    from recordings import chunks

    conn.execute("INSERT INTO patients (code, created) VALUES ('P9', '2020-01-01')")
    conn.execute("INSERT INTO sessions (patient_id, started) VALUES (1, '2020-01-01')")
    info = '{"source": "x", "channels": [["Fx", "N"]], "fs": 100, "kind": "plate"}'
    conn.execute(
        "INSERT INTO trials (session_id, raw_info, info, started, status) VALUES "
        "(1, ?, ?, '2020-01-01T00:00:00+00:00', 'complete')",
        (info, info),
    )
    one = raw.with_data(raw.data[:, :1].copy())
    conn.execute("INSERT INTO chunks VALUES (1, 0, 0, 0, 50, 0, 1, 1, ?)", (chunks.encode(one),))
    conn.close()
    with Store.open(db) as store:
        assert store._q("PRAGMA user_version")[0][0] == schema.LATEST_VERSION
        assert same_bits(store.samples(1, RAW), one)  # old chunk (no CRC) still reads
        assert store.patient("P9").code == "P9"
    # Every version upgrades in steps to the latest.
    for start in range(schema.LATEST_VERSION + 1):
        path = db.with_name(f"v{start}.db")
        c = sqlite3.connect(path, isolation_level=None)
        schema.migrate(c, start)
        c.close()
        Store.open(path).close()
        c = sqlite3.connect(path)
        assert c.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST_VERSION
        assert "crc32" in [r[1] for r in c.execute("PRAGMA table_info(chunks)")]
        c.close()


def test_newer_schema_is_refused_untouched(db):
    Store.open(db).close()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {schema.LATEST_VERSION + 5}")
    conn.commit()
    conn.close()
    before = digest(db)
    with pytest.raises(StorageError, match="newer nmr-balance"):
        Store.open(db)
    assert digest(db) == before


@pytest.mark.parametrize(
    "content", [b"\x89PNG\r\n\x1a\n" + bytes(200), b"Time,x,y\n1,2,3\n", os.urandom(5000)]
)
def test_wrong_file_type_is_never_overwritten(tmp_path, content):
    path = tmp_path / "notes.db"
    path.write_bytes(content)
    with pytest.raises(CorruptDatabaseError, match="not an SQLite database") as err:
        Store.open(path)
    assert "left untouched" in str(err.value)
    assert path.read_bytes() == content
    assert not path.with_name("notes.db-wal").exists()


def test_other_programs_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "firefox.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (id INTEGER, url TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(CorruptDatabaseError, match="another program"):
        Store.open(path)
    assert digest(path) == before
    with pytest.raises(CorruptDatabaseError, match="folder"):
        Store.open(tmp_path)


def test_corrupt_database_gives_clear_error_and_is_not_written(db):
    with Store.open(db) as store:
        tid = store_trial(
            store, plate_samples(3000), processed_of(plate_samples(3000)), plate_info()
        )
        store._q("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    page = 4096
    for p in range(2, len(data) // page - 1):  # trash every page but the header page
        data[p * page + 100 : p * page + 900] = os.urandom(800)
    db.write_bytes(bytes(data))
    before = digest(db)
    with pytest.raises(CorruptDatabaseError), Store.open(db) as store:
        store.load_trial(tid)
    assert digest(db) == before


def test_bit_rot_in_a_chunk_is_detected_by_its_checksum(db):
    raw = plate_samples(300)
    with Store.open(db) as store:
        tid = store_trial(store, raw, processed_of(raw), plate_info())
        payload = bytearray(
            store._q("SELECT payload FROM chunks WHERE trial_id=? AND seq=1", (tid,))[0][0]
        )
        payload[-3] ^= 0x40
        with store.transaction():
            store._q(
                "UPDATE chunks SET payload=? WHERE trial_id=? AND stream=0 AND seq=1",
                (bytes(payload), tid),
            )
        with pytest.raises(CorruptDatabaseError, match="chunk 1 fails its checksum"):
            store.load_trial(tid)
        assert len(store.read_chunks(tid, PROCESSED)) == 3  # the other stream is intact


def test_dead_recorders_trial_is_interrupted_live_one_is_not(store_target):
    db = store_target
    raw = plate_samples(500)
    # The recorder's own store stays open while it records (on PostgreSQL its lock lives
    # with its connection, as on a real station).
    recorder_store = Store.open(db)
    dead = store_trial(recorder_store, raw, processed_of(raw), plate_info(), status="recording")
    alive = store_trial(recorder_store, raw, processed_of(raw), plate_info(), status="recording")
    lock = recorder_store.claim_trial(alive)
    try:
        with Store.open(db) as store:
            assert store.trial(dead).status == "interrupted"
            assert store.trial(dead).ended is not None
            assert store.trial(alive).status == "recording"
            assert same_bits(store.samples(dead, RAW), raw)
    finally:
        lock.release()
        recorder_store.close()
    with Store.open(db) as store:
        assert store.trial(alive).status == "interrupted"


def test_a_file_another_process_is_initialising_is_not_taken_for_a_strangers(tmp_path):
    """Two stations opening a new file at once: one checks whose file it is while the other
    creates the schema. Its check reads one snapshot (empty: ours to initialise; or ours),
    never an empty application id with a schema version (taken for another program's file,
    the failure seen under load in test_two_processes_writing_the_same_database_are_safe)."""
    from recordings import _db

    path = tmp_path / "new.db"
    path.touch(mode=0o600)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA journal_mode = WAL")

    class Interleaved:  # the other process migrates right after this one's first statement
        def __init__(self, conn):
            self.conn, self.first = conn, True

        def execute(self, sql, *args):
            cursor = self.conn.execute(sql, *args)
            rows = cursor.fetchall()
            if self.first:
                self.first = False
                schema.migrate(other)

            class Done:
                def fetchone(self):
                    return rows[0] if rows else None

            return Done()

    mine = sqlite3.connect(path, isolation_level=None)
    try:
        _db._check_ours(Interleaved(mine), path)  # raised CorruptDatabaseError before
    finally:
        mine.close()
        other.close()
    with Store.open(path) as store:  # and the file is a sound station database
        assert store.check() == []


_WRITER = textwrap.dedent("""
    import sys
    sys.path[:0] = {paths!r}
    from _recordings_util import plate_info, plate_samples, processed_of, store_trial
    from recordings import Store
    with Store.open(sys.argv[1]) as store:
        for i in range(15):
            raw = plate_samples(200, seed=i)
            store_trial(store, raw, processed_of(raw), plate_info(), patient=sys.argv[2], chunk=10)
""")


@pytest.mark.timeout(60)
def test_two_processes_writing_the_same_database_are_safe(store_target, tmp_path):
    db = store_target
    # Both also race to create and initialise the file.
    script = tmp_path / "writer.py"
    script.write_text(_WRITER.format(paths=sys.path))
    procs = [
        subprocess.Popen([sys.executable, str(script), str(db), code], stderr=subprocess.PIPE)
        for code in ("A", "B")
    ]
    for p in procs:
        _, err = p.communicate(timeout=50)
        assert p.returncode == 0, err.decode()
    with Store.open(db) as store:
        trials = store.trials()
        assert len(trials) == 30 and {t.patient_code for t in trials} == {"A", "B"}
        for t in trials:
            assert len(store.samples(t.id, RAW)) == 200
        assert store.check() == []
