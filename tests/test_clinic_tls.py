"""TLS to the clinic's server, the libpq way: ``sslmode`` in the URL or ``PGSSLMODE``, the CA
from ``sslrootcert`` or ``PGSSLROOTCERT``, the password from ``PGPASSFILE``; a plain-text
connection is refused by a server that requires TLS, with a message, not a traceback."""

from __future__ import annotations

import os

import psycopg
import pytest
from pg_server import ThrowawayServer

from nmr_balance.errors import StorageError
from recordings import Store

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    with ThrowawayServer(tls=True) as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE ROLE station1 LOGIN PASSWORD 'tls-pw'")
            conn.execute(f'GRANT ALL ON DATABASE "{server.db_name}" TO station1')
            conn.execute("GRANT ALL ON SCHEMA public TO station1")
        passfile = tmp_path_factory.mktemp("pgpass") / "pgpass"
        passfile.write_text("localhost:*:*:station1:tls-pw\n")
        os.chmod(passfile, 0o600)
        yield server, passfile


def _tls_in_use(store: Store) -> bool:
    return store._q("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0][0]


def test_verify_full_from_the_url(tls_server, monkeypatch):
    server, passfile = tls_server
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    with Store.open(server.tls_url("station1")) as store:
        assert _tls_in_use(store)
        store.add_patient("TLS1")
        assert [p.code for p in store.patients()] == ["TLS1"]


def test_sslmode_from_the_environment(tls_server, monkeypatch):
    server, passfile = tls_server
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(server.ca_file))
    with Store.open(f"postgresql://station1@localhost:{server.port}/{server.db_name}") as store:
        assert _tls_in_use(store)


def test_plain_text_and_unknown_certificates_are_refused(tls_server, monkeypatch, tmp_path):
    server, passfile = tls_server
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    plain = f"postgresql://station1@localhost:{server.port}/{server.db_name}?sslmode=disable"
    with pytest.raises(StorageError) as err:
        Store.open(plain)
    assert "no encryption" in str(err.value) or "reject" in str(err.value)
    other_ca = tmp_path / "other.crt"
    other_ca.write_text(server.ca_file.read_text().replace("MII", "MIJ", 1))
    with pytest.raises(StorageError):
        Store.open(server.tls_url("station1").replace(str(server.ca_file), str(other_ca)))
