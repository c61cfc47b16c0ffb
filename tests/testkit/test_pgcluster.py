"""The throwaway PostgreSQL server of testkit/pgcluster.py works as the suite needs it.

These tests do not skip when PostgreSQL is missing: they fail with the
RuntimeError from ``PgCluster.start()``, which says what to install.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

try:  # tests/ as a package (tests/__init__.py) or /work/main on sys.path
    from testkit import pgcluster
except ModuleNotFoundError:  # rootdir-less import mode: pytest put tests/ itself on sys.path
    import pgcluster  # type: ignore[no-redef]

PgCluster = pgcluster.PgCluster

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cluster() -> Iterator[pgcluster.PgCluster]:
    with PgCluster() as pg:
        yield pg


@pytest.fixture(scope="module")
def engines(cluster: pgcluster.PgCluster) -> Iterator[tuple[Engine, Engine]]:
    first = sa.create_engine(cluster.create_database("pgcluster_first"))
    second = sa.create_engine(cluster.create_database("pgcluster_second"))
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_connects_with_sqlalchemy_psycopg(
    cluster: pgcluster.PgCluster, engines: tuple[Engine, Engine]
) -> None:
    first, _ = engines
    assert first.url.drivername == "postgresql+psycopg"
    assert first.url.database == "pgcluster_first"
    with first.connect() as conn:
        version = conn.execute(sa.text("SELECT version()")).scalar_one()
        version_num = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
        rows = conn.execute(
            sa.text(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('fsync', 'synchronous_commit', 'full_page_writes', 'max_connections',"
                " 'server_encoding', 'listen_addresses')"
            )
        )
        settings = {row[0]: row[1] for row in rows}
    assert version.startswith("PostgreSQL ")
    assert version_num >= 150000, version
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "server_encoding": "UTF8",
        "listen_addresses": "127.0.0.1",
    }
    # the default database is reachable too
    default = sa.create_engine(cluster.url)
    try:
        with default.connect() as conn:
            assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == "postgres"
    finally:
        default.dispose()


def test_databases_are_separate(engines: tuple[Engine, Engine]) -> None:
    first, second = engines
    with first.begin() as conn:
        conn.execute(sa.text("CREATE TABLE only_in_first (id int PRIMARY KEY, note text)"))
        conn.execute(sa.text("INSERT INTO only_in_first VALUES (1, 'grüße ✓')"))
    with first.connect() as conn:
        assert conn.execute(sa.text("SELECT note FROM only_in_first")).scalar_one() == "grüße ✓"
    with second.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('only_in_first')")).scalar() is None


def test_create_database_twice_fails(cluster: pgcluster.PgCluster) -> None:
    cluster.create_database("pgcluster_dup")
    with pytest.raises(psycopg.errors.DuplicateDatabase):
        cluster.create_database("pgcluster_dup")


def test_for_update_skip_locked_across_connections(engines: tuple[Engine, Engine]) -> None:
    _, engine = engines
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE jobs (id int PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO jobs VALUES (1), (2), (3)"))
    claim = sa.text("SELECT id FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED")
    with engine.connect() as a, engine.connect() as b:
        assert a.execute(claim).scalar_one() == 1  # a holds row 1 (transaction open)
        assert b.execute(claim).scalar_one() == 2  # b skips it instead of waiting
        with pytest.raises(sa.exc.OperationalError) as info:
            b.execute(sa.text("SELECT id FROM jobs WHERE id = 1 FOR UPDATE NOWAIT"))
        assert isinstance(info.value.orig, psycopg.errors.LockNotAvailable)
        b.rollback()
        a.rollback()
        assert b.execute(claim).scalar_one() == 1  # released by a's rollback
        b.rollback()


def test_advisory_lock_is_exclusive_across_connections(engines: tuple[Engine, Engine]) -> None:
    engine, _ = engines
    try_lock = sa.text("SELECT pg_try_advisory_lock(:key)")
    unlock = sa.text("SELECT pg_advisory_unlock(:key)")
    with engine.connect() as a, engine.connect() as b:
        assert a.execute(try_lock, {"key": 4242}).scalar_one() is True
        assert b.execute(try_lock, {"key": 4242}).scalar_one() is False
        assert b.execute(try_lock, {"key": 4243}).scalar_one() is True  # other keys are free
        assert a.execute(unlock, {"key": 4242}).scalar_one() is True
        assert b.execute(try_lock, {"key": 4242}).scalar_one() is True
        b.execute(sa.text("SELECT pg_advisory_unlock_all()"))
        a.rollback()
        b.rollback()


@pytest.mark.skipif(os.geteuid() != 0, reason="only meaningful when the tests run as root")
def test_server_does_not_run_as_root(cluster: pgcluster.PgCluster) -> None:
    assert cluster.data_dir.stat().st_uid != 0
    pid = int((cluster.data_dir / "postmaster.pid").read_text().splitlines()[0])
    uids = next(
        line.split()[1:]
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("Uid:")
    )
    assert "0" not in uids


def test_stop_closes_port_and_removes_directory() -> None:
    pg = PgCluster()
    pg.start()
    port, directory = pg.port, pg.directory
    assert pg.running and directory.is_dir() and _port_open(port)
    pg.stop()
    assert not pg.running
    assert not directory.exists()
    assert not _port_open(port)
    pg.stop()  # idempotent
    with pytest.raises(RuntimeError, match="not running"):
        _ = pg.url


def test_missing_binaries_raise_with_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(pgcluster, "_POSTGRES_LIB_DIR", tmp_path / "no-such-dir")
    assert not pgcluster.postgres_available()
    base = tmp_path / "base"
    with pytest.raises(RuntimeError, match=r"apt-get install postgresql-15"):
        PgCluster(base_dir=base).start()
    assert not base.exists()  # nothing was created before the check
