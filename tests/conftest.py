"""Test-wide settings: offscreen Qt, a writable Numba cache, shared fixtures.

Shared helper functions live in ``_helpers.py`` (and the other ``_*`` helper modules): test
files import those, never this file or each other.
"""

from __future__ import annotations

import os
import pathlib
import tempfile

# Qt must know before any QApplication exists, or pytest-qt aborts without a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault(
    "NUMBA_CACHE_DIR", str(pathlib.Path(__file__).resolve().parents[1] / ".numba_cache")
)
# The suite never touches the tester's own station database, config or LOS files: the user data
# and config folders (platformdirs, here and in every subprocess) point into a throwaway folder,
# and no $NMR_BALANCE_DB from the tester's shell leaks in.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="nmr-balance-test-data-")
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="nmr-balance-test-config-")
os.environ["NMR_BALANCE_DB"] = ""

import pytest
from _helpers import REPO
from hypothesis import HealthCheck, settings

# Hypothesis judges examples by wall time (a 200 ms deadline, a "too slow" health check): on a
# busy machine that says nothing about the code, so the suite turns both off. The suite's
# examples are the same on every run (derandomize): a red run is reproducible, not a draw.
# To search further: HYPOTHESIS_PROFILE=explore .venv/bin/python -m pytest tests/test_x.py
_no_wall_clock = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("suite", derandomize=True, **_no_wall_clock)
settings.register_profile("explore", max_examples=1000, **_no_wall_clock)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture
def artifacts_dir() -> pathlib.Path:
    """Folder for files a person may want to look at after the run (screenshots, plots)."""
    path = REPO / "artifacts"
    path.mkdir(exist_ok=True)
    return path


# --- PostgreSQL: the clinic server (store tests run on both engines) -------------------------
@pytest.fixture(scope="session")
def pg_server_url():
    """URL of a PostgreSQL server for the suite: ``NMR_TEST_PG_URL`` (set by ``make test``),
    else a throwaway server started here (tests/pg_server.py)."""
    from pg_server import URL_ENV, throwaway_server

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(
            "psycopg is not installed in this venv: run `make setup` (pyproject's [pg] extra)"
        )
    url = os.environ.get(URL_ENV)
    if url:
        yield url
        return
    with throwaway_server() as url:
        yield url


@pytest.fixture
def pg_url(pg_server_url):
    """A fresh, empty database on the test server for one test (dropped afterwards)."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    from pg_server import with_database

    yield with_database(pg_server_url, name)
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path):
    """Where a store test's station database lives: an SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "station.db"
    return request.getfixturevalue("pg_url")
