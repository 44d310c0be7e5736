"""Fixtures for the reports tests: a throwaway PostgreSQL cluster, and the
same store URL fixture on SQLite and on PostgreSQL.

The cluster is started once per test session from Debian's ``postgresql``
package (``/usr/lib/postgresql/*/bin``), in a temporary folder, listening on
127.0.0.1 only, with fsync off; it is stopped and removed at the end. Root
cannot run PostgreSQL, so as root it runs as the ``postgres`` user. When that
is impossible the PostgreSQL tests are skipped with the reason, unless
``HEADER_POLICY_REQUIRE_POSTGRES=1`` (CI sets it): then they fail.
"""

from __future__ import annotations

import collections.abc as cabc
import glob
import importlib.util
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t
import uuid
from pathlib import Path

import pytest

REQUIRE_ENV = "HEADER_POLICY_REQUIRE_POSTGRES"


def _version(path: str) -> tuple[int, ...]:
    name = Path(path).parent.parent.name
    return tuple(int(p) for p in name.split(".") if p.isdigit())


def find_postgres() -> Path | None:
    """The bin folder of the newest PostgreSQL installed, or ``None``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def unavailable() -> str | None:
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg is not importable (pip install -e '.[dev]')"
    if find_postgres() is None:
        return (
            "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb);"
            " 'make postgres' installs Debian's package"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root, and there is no 'postgres' user to run the server"
        if shutil.which("runuser") is None:
            return "running as root without runuser to switch to 'postgres'"
    return None


def _skip_or_fail(reason: str) -> t.NoReturn:
    message = f"PostgreSQL tests cannot run: {reason}"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {message}", pytrace=False)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(autouse=True)
def _dispose_engines(monkeypatch: pytest.MonkeyPatch) -> cabc.Iterator[None]:
    """Close every database connection a test's stores opened, before the
    test's database is dropped (a collected pool would warn)."""
    from flask_header_policy.reports.store import ReportStore

    engines: list[t.Any] = []
    make = ReportStore._make_engine

    def tracked(store: ReportStore) -> t.Any:
        engine = make(store)
        engines.append(engine)
        return engine

    monkeypatch.setattr(ReportStore, "_make_engine", tracked)
    yield
    for engine in engines:
        engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> cabc.Iterator[str]:
    """A running throwaway cluster; yields its base URL (no database)."""
    reason = unavailable()
    if reason is not None:
        _skip_or_fail(reason)
    bin_dir = t.cast(Path, find_postgres())
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="header-policy-pg-"))
    data, log = folder / "data", folder / "server.log"
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*as_postgres, *args], capture_output=True, text=True, timeout=120
        )

    try:
        done = run(
            str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if done.returncode != 0:
            _skip_or_fail(f"initdb failed: {done.stderr.strip()[-500:]}")
        options = (
            f"-h 127.0.0.1 -p {port} -k {folder} -F -c max_connections=60"
            " -c full_page_writes=off -c synchronous_commit=off"
        )
        done = run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
            "-t", "60", "-o", options, "start",
        )  # fmt: skip
        if done.returncode != 0:
            tail = log.read_text()[-800:] if log.exists() else done.stderr
            _skip_or_fail(f"pg_ctl start failed: {tail.strip()}")
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        if data.exists():
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> cabc.Iterator[str]:
    """A fresh, empty database on the cluster, dropped after the test."""
    import sqlalchemy as sa

    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(
        postgres_server + "/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{postgres_server}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )
        admin.dispose()


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite (a file) and on PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reports.sqlite3'}"
    return t.cast(str, request.getfixturevalue("postgres_url"))
