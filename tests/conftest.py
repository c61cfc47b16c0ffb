"""Shared fixtures: real SQLite and real PostgreSQL (started here), an injectable clock."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import db
from bot.networks import install_networks
from bot.store import Store
from integrations.networks.specs import SPECS
from testkit.pgcluster import PgCluster

# The list of networks the core reads, as the `echtzeit` command installs it at start-up.
install_networks(SPECS)

_names = itertools.count(1)


class Clock:
    """A settable clock for code that takes `now: Callable[[], datetime]`."""

    def __init__(self, start: datetime) -> None:
        self.value = start

    def __call__(self) -> datetime:
        return self.value

    def advance(self, **kwargs: float) -> datetime:
        self.value += timedelta(**kwargs)
        return self.value

    def seconds(self) -> float:
        """The clock in seconds, for code that counts on `Callable[[], float]` (the fake
        Slack's limits, the Slack adapter's pacer)."""
        return self.value.timestamp()

    async def sleep(self, seconds: float) -> None:
        """A wait that advances this clock instead of taking real time."""
        if seconds > 0:
            self.value += timedelta(seconds=seconds)
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _root_logging() -> Iterator[None]:
    """Each test gets the root logger back as it found it: a test that runs a command with
    `setup_logging` on a captured stream would otherwise leave a handler writing to a closed
    file, and every later test's log line would print "--- Logging error ---"."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _url(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'echtzeit.db'}"
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database(f"t{next(_names)}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: each test runs once on SQLite and once on PostgreSQL."""
    url = _url(request.param, request, tmp_path)
    db.upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'echtzeit.db'}"
    db.upgrade(url)
    return url


@pytest.fixture
def store(database_url: str, clock: Clock) -> Iterator[Store]:
    s = Store.from_url(database_url, now=clock)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str, clock: Clock) -> Iterator[Store]:
    s = Store.from_url(sqlite_url, now=clock)
    yield s
    s.close()
