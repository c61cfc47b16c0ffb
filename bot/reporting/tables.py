"""The tables the reporting read models query (SQLAlchemy Core handles of bot.models), and the
base of their query classes.

Portable Core, the same on SQLite and PostgreSQL. Each feature's SQL lives in its own `queries`
module (digest, sla, spikes); they share these handles and `rows`, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.models import Author, Brand, Delivery, Event, Mention, Reply, Route
from bot.store import Store


def table(model: type[SQLModel]) -> sa.Table:
    """A model's Core table (typed: SQLModel does not declare `__table__`)."""
    t = model.__table__  # type: ignore[attr-defined]
    assert isinstance(t, sa.Table)
    return t


mentions = table(Mention)
authors = table(Author)
replies = table(Reply)
events = table(Event)
routes = table(Route)
brands = table(Brand)
deliveries = table(Delivery)


def fetch_all(conn: sa.Connection, q: sa.Executable) -> list[Any]:
    """The rows of a query, loosely typed (the columns' Python types are known per query)."""
    return list(conn.execute(q).all())


class ReadModel:
    """Queries over the store's engine, or over one open connection (`bound`)."""

    def __init__(self, store: Store, conn: sa.Connection | None = None) -> None:
        self.store = store
        self.engine = store.engine
        self._conn = conn

    def bound(self, conn: sa.Connection) -> Self:
        """These queries on one open connection: a digest reads all its figures through one
        checkout (on PostgreSQL each checkout costs a ping, a BEGIN and a ROLLBACK)."""
        return type(self)(self.store, conn)

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with self.engine.connect() as conn:
                yield conn
