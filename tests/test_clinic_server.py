"""The clinic's PostgreSQL server as the store's engine: URLs, passwords, schema, locks.

Runs against a real server (``make test`` starts a throwaway one; see tests/pg_server.py).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.parse

import psycopg
import pytest
from pg_server import with_database

from nmr_balance.errors import CorruptDatabaseError, StorageError
from recordings import _pg, schema


def test_urls_are_told_apart_from_paths():
    assert _pg.is_url("postgresql://station@db/nmr")
    assert _pg.is_url("POSTGRES://station@db/nmr")
    assert not _pg.is_url("/tmp/postgresql/station.db")
    assert not _pg.is_url(None)


@pytest.mark.parametrize(
    "url",
    ["postgresql://station:s3cret@db/nmr", "postgresql://station@db/nmr?password=s3cret"],
)
def test_a_password_in_the_url_is_refused_and_never_echoed(url):
    with pytest.raises(StorageError) as err:
        _pg.check_url(url)
    text = str(err.value) + (err.value.hint or "")
    assert "s3cret" not in str(err.value)
    assert ".pgpass" in text and "PGPASSFILE" in text


def test_a_url_without_database_is_refused():
    with pytest.raises(StorageError, match="names no database"):
        _pg.check_url("postgresql://station@db")


def test_redact_hides_the_password():
    assert _pg.redact("postgresql://a:pw@h/db") == "postgresql://a:***@h/db"
    assert _pg.redact("postgresql://a@h/db") == "postgresql://a@h/db"


def test_unreachable_server_says_what_to_do(tmp_path):
    with pytest.raises(StorageError) as err:
        _pg.PgConnection(f"postgresql://station@/nmr?host={tmp_path}")
    assert "cannot reach the database server" in str(err.value)
    assert "push" in err.value.hint


def test_password_comes_from_pgpassfile(pg_url, tmp_path, monkeypatch):
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE ROLE station_t LOGIN PASSWORD 'pw-from-file'")
        dbname = urllib.parse.urlsplit(pg_url).path.strip("/")
        admin.execute(f'GRANT ALL ON DATABASE "{dbname}" TO station_t')
    station_url = pg_url.replace("postgresql://postgres@", "postgresql://station_t@", 1)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    # Without the password file libpq has no password: refused with a hint, no secret echoed.
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "missing"))
    with pytest.raises(StorageError) as err:
        _pg.PgConnection(station_url)
    assert ".pgpass" in err.value.hint
    passfile = tmp_path / "pgpass"
    passfile.write_text("*:*:*:station_t:pw-from-file\n")
    os.chmod(passfile, 0o600)  # libpq ignores a password file others can read
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    conn = _pg.PgConnection(station_url)
    try:
        assert conn.execute("SELECT current_user")[0][0] == "station_t"
    finally:
        conn.close()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("DROP OWNED BY station_t")
        admin.execute("DROP ROLE station_t")


def test_one_schema_migrates_once_even_when_stations_start_together(pg_url):
    errors: list[BaseException] = []
    versions: list[int] = []

    def station():
        try:
            conn = _pg.PgConnection(pg_url)
            versions.append(conn.migrate(schema.MIGRATIONS, schema.APPLICATION_ID))
            conn.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=station) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert versions == [schema.LATEST_VERSION] * 4
    conn = _pg.PgConnection(pg_url)
    tables = {
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }
    assert {"patients", "sessions", "trials", "events", "chunks", "nmr_schema"} <= tables
    # 64-bit where SQLite's INTEGER is 64-bit: nanosecond times and counters fit.
    kinds = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'chunks'"
        )
    )
    assert kinds["t_first_ns"] == "bigint" and kinds["payload"] == "bytea"
    assert conn.execute("SELECT count(*) FROM nmr_schema")[0][0] == 1
    conn.close()


def test_a_database_of_another_program_is_refused_untouched(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("CREATE TABLE invoices (id int)")
    conn = _pg.PgConnection(pg_url)
    with pytest.raises(CorruptDatabaseError, match="another program"):
        conn.migrate(schema.MIGRATIONS, schema.APPLICATION_ID)
    names = [
        r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")
    ]
    assert names == ["invoices"] or sorted(names) == ["invoices", "nmr_schema"]
    conn.close()


def test_a_recording_lock_dies_with_its_station(pg_url):
    recorder, other = _pg.PgConnection(pg_url), _pg.PgConnection(pg_url)
    try:
        assert not other.owner_alive(7)
        assert recorder.try_lock_trial(7)
        assert other.owner_alive(7) and recorder.owner_alive(7)
        assert not other.try_lock_trial(7)
        assert not other.owner_alive(8)
        recorder.close()  # the station dies: the server drops its locks when its backend ends
        deadline = time.monotonic() + 30
        while other.owner_alive(7) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not other.owner_alive(7)
    finally:
        other.close()


def test_server_url_helper_keeps_socket_and_role(pg_server_url):
    url = with_database(pg_server_url, "other")
    assert url.startswith("postgresql://postgres@/other?host=")


def test_rows_are_read_by_name_or_position_like_sqlite(pg_url):
    conn = _pg.PgConnection(pg_url)
    try:
        row = conn.execute("SELECT 1 AS a, 'x'::text AS b, '\\x0102'::bytea AS c")[0]
        assert row["a"] == row[0] == 1 and row["b"] == "x" and row.keys() == ["a", "b", "c"]
        assert row["c"] == b"\x01\x02" and isinstance(row["c"], bytes)
        assert tuple(row) == (1, "x", b"\x01\x02")
        with pytest.raises(IndexError):
            row["nope"]
    finally:
        conn.close()


def test_a_read_only_store_cannot_write_even_past_the_store(pg_url):
    from recordings import Store

    with Store.open(pg_url) as store:
        store.add_patient("P001")
    with Store.open(pg_url, read_only=True) as reader:
        assert [p.code for p in reader.patients()] == ["P001"]
        with pytest.raises(StorageError):
            reader.add_patient("P002")
        with pytest.raises(StorageError, match="read-only"):  # the server itself refuses
            reader._q("INSERT INTO meta (key, value) VALUES ('x', 'y')")
