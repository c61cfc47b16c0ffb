"""A credential the bot renews itself, in the store's `credential` row: X's rotating refresh
token (x_oauth.py), Threads' long-lived token (threads_token.py).

The configured value only seeds the row, once per process; every replica then reads the row,
and one at a time renews it under a lease (bot/store/credentials.py). `origin` marks the chain
with the configured value it started from, so that a new authorization in the settings
replaces the chain while the old, spent seed does not.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import socket
import uuid

from bot.models import Credential
from bot.store import Store


def origin_of(token: str) -> str:
    """The hash a chain is marked with: the configured token it started from."""
    return hashlib.sha256(token.encode()).hexdigest()


class StoredCredential:
    """The row of one renewed credential, as one process sees it (a base of the renewers)."""

    def __init__(self, store: Store, *, name: str, seed: str) -> None:
        self.store = store
        self.name = name
        self._seed = seed
        self.origin = origin_of(seed)
        # Who holds the renewal lease: this process, on this host.
        self.holder = f"{socket.gethostname()[:60]}/{os.getpid()}/{uuid.uuid4().hex[:12]}"
        self._seeded = False

    async def _row(self) -> Credential:
        if not self._seeded:
            # Once per process: a replica still running with an older configured token must
            # not put it back over a newer authorization.
            row = await asyncio.to_thread(self.store.seed_credential, name=self.name,
                                          secret=self._seed, origin=self.origin)
            self._seeded = True
            return row
        stored = await asyncio.to_thread(self.store.credential, name=self.name)
        if stored is None:  # removed by hand: start again from the configured token
            self._seeded = False
            return await self._row()
        return stored
