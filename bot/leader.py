"""One scheduler among several replicas: leader election with a PostgreSQL advisory lock.

Every replica runs a `Leader` around its scheduler. On PostgreSQL each one tries
`pg_try_advisory_lock(key)` on a connection of its own, every `poll` seconds; the one that gets
it runs the scheduler, and checks its connection on the same beat. The lock belongs to the
database session, so when the leader dies (even SIGKILL) its connection closes, the server
drops the lock, and another replica takes over at its next try: within `poll` seconds. A leader
that loses its connection stops the scheduler at once. The jobs stay idempotent (bot.scheduler)
so that the short overlap a network partition could cause posts nothing twice.

On SQLite there is one process by design: it is always the leader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket

import sqlalchemy as sa

from bot import metrics
from bot.chat import Service
from bot.store import Store

log = logging.getLogger(__name__)

# "echtzeit" as eight bytes: the advisory lock key of the scheduler.
SCHEDULER_LOCK = int.from_bytes(b"echtzeit", "big") & 0x7FFF_FFFF_FFFF_FFFF


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Leader:
    """bot.chat.Service running `inner` only while this process holds the leader lock."""

    def __init__(self, store: Store, inner: Service, *, key: int = SCHEDULER_LOCK,
                 poll: float = 5.0, me: str | None = None) -> None:
        self.store = store
        self.inner = inner
        self.key = key
        self.poll = poll
        self.me = me or identity()
        self.name = f"leader({inner.name})"
        self.leading = False

    def _acquire(self) -> sa.Connection | None:
        conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got: bool = conn.execute(sa.select(sa.func.pg_try_advisory_lock(self.key))).scalar_one()
        except Exception:
            conn.close()
            raise
        if got:
            return conn
        conn.close()
        return None

    @staticmethod
    def _alive(conn: sa.Connection) -> bool:
        try:
            conn.execute(sa.text("SELECT 1"))
        except Exception:
            return False
        return True

    def _release(self, conn: sa.Connection) -> None:
        with contextlib.suppress(Exception):
            conn.execute(sa.select(sa.func.pg_advisory_unlock(self.key)))
        with contextlib.suppress(Exception):
            conn.invalidate()  # never hand this session back to the pool
            conn.close()

    async def serve(self, stop: asyncio.Event) -> None:
        if not self.store.is_postgres:
            await self._lead(stop, None)
            return
        while not stop.is_set():
            try:
                conn = await asyncio.to_thread(self._acquire)
            except Exception as exc:
                log.warning("leader election: database unreachable (%s); trying again",
                            type(exc).__name__)
                conn = None
            if conn is None:
                await _wait(stop, self.poll)
                continue
            try:
                await self._lead(stop, conn)
            finally:
                await asyncio.to_thread(self._release, conn)
            if not stop.is_set():
                await _wait(stop, self.poll)

    async def _lead(self, stop: asyncio.Event, conn: sa.Connection | None) -> None:
        log.info("%s is the leader: it runs the %s", self.me, self.inner.name)
        self.leading = True
        metrics.LEADER.set(1)
        inner_stop = asyncio.Event()
        task = asyncio.create_task(self.inner.serve(inner_stop))
        try:
            while not stop.is_set() and not task.done():
                waiter = asyncio.ensure_future(_wait(stop, self.poll))
                await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if conn is not None and not task.done() and not await asyncio.to_thread(
                        self._alive, conn):
                    log.warning("%s lost its database session: no longer the leader", self.me)
                    break
        finally:
            inner_stop.set()
            self.leading = False
            metrics.LEADER.set(0)
            try:
                await task
            except Exception:
                log.exception("%s stopped with an error", self.inner.name)
