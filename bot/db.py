"""Engine creation and migrations: SQLite (WAL) by default, PostgreSQL the same way."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic (about 10 MB and a tenth of a second) is imported by the functions that migrate, not
# with the store.

log = logging.getLogger(__name__)

MIGRATIONS = str(Path(__file__).with_name("migrations"))


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """An engine with the settings each backend needs; SQLite gets WAL and a busy timeout."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin, so that BEGIN
            # IMMEDIATE below really takes the write lock at the start of a write transaction.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql"):
        # The session's TimeZone is UTC, as the store keeps time: psycopg then returns
        # timestamptz values in `timezone.utc` (no conversion per value), and any date
        # arithmetic in SQL counts days as SQLite does.
        args = dict(kwargs.pop("connect_args", {}))
        given = sa.engine.make_url(url).query.get("options")  # ?options=... in the URL
        args["options"] = " ".join(o for o in (given if isinstance(given, str) else "",
                                               args.get("options", ""), "-c timezone=UTC") if o)
        kwargs["connect_args"] = args
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema of the database at `url` to `revision` (Alembic)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def current_revision(engine: sa.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
