"""A throwaway PostgreSQL server for the test suite and for developers.

``python -m tests.pg_server`` starts one (``initdb`` into a temporary folder, listening on a Unix
socket in that folder only: no TCP port), prints its URL on the last line and keeps it running
until Ctrl-C or SIGTERM. ``python -m tests.pg_server --exec -- CMD ...`` starts one, runs CMD
with ``NMR_TEST_PG_URL`` set to its URL, stops it and exits with CMD's exit code: this is how
``make test`` (and so ``.ci/run``) gives the suite a real server. Everything is removed at exit.

The server binaries come from ``pg_config --bindir`` or ``/usr/lib/postgresql/*/bin`` (Debian's
``postgresql`` package). PostgreSQL refuses to run as root; run as root, the server runs as the
``postgres`` user (the folder is handed to it), and clients connect as root through the socket.

Roles: the superuser ``postgres`` connects over the socket without a password (trust, only on
this private socket); every other role needs its password (``scram-sha-256``), which clients take
from ``PGPASSFILE`` like any libpq program. The tests use that to prove passwords never have to
be on a command line or in a URL.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

#: Database created for the suite.
DB_NAME = "nmr"
#: Environment variable that hands the URL to the tests.
URL_ENV = "NMR_TEST_PG_URL"


def with_database(url: str, name: str) -> str:
    """``url`` pointing at database ``name`` instead (same server, role and options)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def bindir() -> Path:
    """The folder with ``initdb``/``pg_ctl``/``postgres``; raises ``FileNotFoundError``."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    raise FileNotFoundError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install them with "
        "'apt-get install postgresql' (make test does that when run as root)"
    )


def _as_server_user() -> list[str]:
    """Command prefix that runs the server as a non-root user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError as e:
        raise RuntimeError(
            "running as root needs a 'postgres' user for the server (apt-get install postgresql "
            "creates it)"
        ) from e
    return ["runuser", "-u", "postgres", "--"]


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


class ThrowawayServer:
    """A private PostgreSQL server in a temporary folder; :meth:`stop`/:meth:`start` simulate
    an outage or a restart. Use as a context manager (everything is removed at exit)."""

    def __init__(self, db_name: str = DB_NAME, tls: bool = False):
        self.db_name = db_name
        #: With ``tls``: also listen on 127.0.0.1:``port``, TLS only (a self-signed certificate
        #: for ``localhost`` in :attr:`ca_file`), to test ``sslmode`` as a clinic would use it.
        self.tls, self.port, self.ca_file = tls, 0, None
        self._bins = bindir()
        self._prefix = _as_server_user()
        self.root = Path(tempfile.mkdtemp(prefix="nmr-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        if self._prefix:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.sock, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        os.chmod(self.sock, 0o700)
        self.running = False

    @property
    def url(self) -> str:
        """The superuser's URL over the private socket."""
        port = f"&port={self.port}" if self.port else ""
        return f"postgresql://postgres@/{self.db_name}?host={self.sock}{port}"

    def tls_url(self, role: str) -> str:
        """``role``'s URL over TCP on loopback (with ``tls``), certificate checked."""
        return (
            f"postgresql://{role}@localhost:{self.port}/{self.db_name}"
            f"?sslmode=verify-full&sslrootcert={self.ca_file}"
        )

    def __enter__(self) -> ThrowawayServer:
        try:
            self._init()
            self.start()
            self._psql(f'CREATE DATABASE "{self.db_name}"')
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.running:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _init(self) -> None:
        _run(
            [
                *self._prefix,
                str(self._bins / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth-local=scram-sha-256",
                "--auth-host=reject",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ]
        )
        # The superuser may connect over the private socket without a password; every other
        # role must present its password (from PGPASSFILE).
        hba = "local all postgres trust\nlocal all all scram-sha-256\n"
        if self.tls:
            hba += (
                "hostssl all all 127.0.0.1/32 scram-sha-256\nhostnossl all all 0.0.0.0/0 reject\n"
            )
            self._make_certificate()
        (self.data / "pg_hba.conf").write_text(hba)

    def _make_certificate(self) -> None:
        crt, key = self.data / "server.crt", self.data / "server.key"
        _run(
            [
                "openssl",
                "req",
                "-new",
                "-x509",
                "-days",
                "2",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
                "-keyout",
                str(key),
                "-out",
                str(crt),
            ]
        )
        os.chmod(key, 0o600)
        if self._prefix:
            shutil.chown(key, "postgres", "postgres")
            shutil.chown(crt, "postgres", "postgres")
        self.ca_file = self.root / "ca.crt"  # clients trust exactly this certificate
        shutil.copy(crt, self.ca_file)
        with socket.socket() as s:  # a free loopback port
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def start(self) -> None:
        opts = f"-k {self.sock} -c listen_addresses='' -c fsync=off -c max_connections=100"
        if self.tls:
            opts = (
                f"-k {self.sock} -c listen_addresses=127.0.0.1 -p {self.port} -c ssl=on "
                "-c fsync=off -c max_connections=100"
            )
        _run(
            [
                *self._prefix,
                str(self._bins / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                opts,
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        self.running = True

    def stop(self) -> None:
        """Stop the server now (``-m fast``: clients are disconnected, as in a restart)."""
        subprocess.run(
            [
                *self._prefix,
                str(self._bins / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
        )
        self.running = False

    def _psql(self, sql: str) -> None:
        psql = self._bins / "psql"
        _run(
            [
                str(psql) if psql.exists() else "psql",
                "-h",
                str(self.sock),
                *(["-p", str(self.port)] if self.port else []),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qc",
                sql,
            ]
        )


@contextlib.contextmanager
def throwaway_server(db_name: str = DB_NAME) -> Iterator[str]:
    """Run a private PostgreSQL server for the ``with`` block; yields its URL."""
    with ThrowawayServer(db_name) as server:
        yield server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.pg_server",
        description="Start a throwaway PostgreSQL server on a private Unix socket (no TCP port). "
        "Without --exec it prints the URL on its last line and runs until Ctrl-C.",
    )
    parser.add_argument(
        "--exec",
        metavar="CMD",
        help=f"run CMD and its arguments (all that follows) with {URL_ENV} set, then stop",
    )
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--exec" in argv:
        i = argv.index("--exec")
        argv, command = argv[:i], argv[i + 1 :]
        if command[:1] == ["--"]:
            command = command[1:]
    parser.parse_args(argv)
    with throwaway_server() as url:
        if command:
            env = dict(os.environ, **{URL_ENV: url})
            proc = subprocess.Popen(command, env=env)
            # Ctrl-C reaches the child through the terminal; TERM (CI, timeout) is passed on.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
            return proc.wait()
        print(f"PostgreSQL is running (Ctrl-C stops it and deletes its data). {URL_ENV}=")
        print(url, flush=True)
        stop = []
        signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
        try:
            while not stop:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
