"""Run a part in exactly one process among several replicas: PostgreSQL advisory locks.

A network source must poll once per interval however many replicas run (X bills each post
read; Reddit allows 100 requests a minute per client id), and a stream must be open once.
`Exclusive` wraps such a part (a `bot.chat.Service`): each replica tries to take the part's
advisory lock every `poll` seconds; the one that holds it runs the part. All the locks of one
process live on one database session of their own (`LeaseSession`, outside the store's pool),
so a process holds one extra connection however many parts it runs.

The lock belongs to that session: when its process dies (even SIGKILL), the server closes the
session and drops every lock of it, and another replica takes the parts over at its next try,
within `poll` seconds. Server-side TCP keepalives (about 30 s) also end the session of a host
that vanished without closing its socket. A holder that finds its session gone stops its parts
at once (another replica may hold them by then). What a source has done is in the store (its
cursor is saved after its posts are stored), so the next holder resumes where the last one
stopped: nothing skipped, and a repeated last batch is dropped by the pipeline's dedupe.

On SQLite there is one process by design: it runs every part.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.chat import Service
from bot.store import Store

log = logging.getLogger(__name__)

# How the server notices a holder whose host vanished (seconds; PostgreSQL session settings).
_KEEPALIVE = ("SET tcp_keepalives_idle = 10", "SET tcp_keepalives_interval = 5",
              "SET tcp_keepalives_count = 3", "SET tcp_user_timeout = 30000")


def lock_key(name: str) -> int:
    """The advisory lock key of a part's name: a stable signed 64-bit integer."""
    digest = hashlib.blake2b(f"echtzeit:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class LeaseSession:
    """One process's database session for advisory locks. Thread-safe: the calls run in worker
    threads, one at a time."""

    def __init__(self, store: Store) -> None:
        self._engine = sa.create_engine(store.engine.url, poolclass=NullPool)
        self._conn: sa.Connection | None = None
        self._lock = threading.Lock()
        # Bumped whenever the session is lost: locks taken under an older generation are gone.
        self.generation = 0

    def _connection(self) -> sa.Connection:
        if self._conn is None:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            for statement in _KEEPALIVE:
                with contextlib.suppress(sa.exc.DBAPIError):
                    conn.execute(sa.text(statement))
            self._conn = conn
        return self._conn

    def _lost(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.invalidate()
                self._conn.close()
        self._conn = None
        self.generation += 1

    def take(self, key: int) -> int | None:
        """The generation under which `key` is now held, or None if another process holds it.
        Raises when the database is unreachable."""
        with self._lock:
            try:
                got = self._connection().execute(
                    sa.select(sa.func.pg_try_advisory_lock(key))).scalar_one()
            except Exception:
                self._lost()
                raise
            return self.generation if got else None

    def holds(self, generation: int) -> bool:
        """Whether locks taken under `generation` are still held (the session answers)."""
        with self._lock:
            if generation != self.generation or self._conn is None:
                return False
            try:
                self._conn.execute(sa.text("SELECT 1"))
            except Exception:
                log.warning("lease session lost: this process no longer holds its parts")
                self._lost()
                return False
            return True

    def give_back(self, key: int, generation: int) -> None:
        with self._lock:
            if generation != self.generation or self._conn is None:
                return
            try:
                self._conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            except Exception:
                self._lost()

    def close(self) -> None:
        with self._lock:
            self._lost()
        self._engine.dispose()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Exclusive:
    """bot.chat.Service: runs `inner` only while this process holds its lease (always, on
    SQLite). `state` says which: "holding", "standby" or "stopped"."""

    def __init__(self, store: Store, inner: Service, *, session: LeaseSession | None,
                 poll: float = 5.0, key: int | None = None) -> None:
        self.inner = inner
        self.session = session if store.is_postgres else None
        self.poll = poll
        self.key = lock_key(inner.name) if key is None else key
        self.name = inner.name
        self.state = "standby"

    async def serve(self, stop: asyncio.Event) -> None:
        try:
            if self.session is None:
                await self._hold(stop, None)
                return
            while not stop.is_set():
                try:
                    generation = await asyncio.to_thread(self.session.take, self.key)
                except Exception as exc:
                    log.warning("%s: database unreachable for its lease (%s); trying again",
                                self.name, type(exc).__name__)
                    generation = None
                if generation is None:
                    await _wait(stop, self.poll)
                    continue
                try:
                    ended = await self._hold(stop, generation)
                finally:
                    await asyncio.to_thread(self.session.give_back, self.key, generation)
                if ended:
                    return  # a finite part (a replay) is done: nobody needs to run it again
        finally:
            self.state = "stopped"

    async def _hold(self, stop: asyncio.Event, generation: int | None) -> bool:
        """Run the inner part until `stop`, the end of the lease, or its own end (then True)."""
        log.info("%s runs here", self.name)
        self.state = "holding"
        inner_stop = asyncio.Event()
        task = asyncio.create_task(self.inner.serve(inner_stop), name=self.name)
        try:
            while not stop.is_set() and not task.done():
                waiter = asyncio.ensure_future(_wait(stop, self.poll))
                await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                if (generation is not None and self.session is not None and not task.done()
                        and not await asyncio.to_thread(self.session.holds, generation)):
                    log.warning("%s: lease lost; stopping it here", self.name)
                    break
        finally:
            ended = task.done() and not inner_stop.is_set()
            inner_stop.set()
            self.state = "standby"
            await task  # the inner part's own error reaches the supervisor
        return ended
