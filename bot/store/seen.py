"""Inbound events seen already (a chat platform may deliver one twice)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bot.models import SeenEvent, table
from bot.store.base import StoreBase


class SeenEventStore(StoreBase):
    """Redelivery checks shared by every process on the database."""

    def first_delivery(self, *, key: str, keep: timedelta = timedelta(days=1)) -> bool:
        """True the first time an inbound event `key` is seen by any process on this database,
        False for a redelivery. Keys older than `keep` are forgotten (Slack retries within
        minutes)."""
        t = table(SeenEvent)
        now = self.now()
        try:
            with self.engine.begin() as conn:
                conn.execute(t.delete().where(t.c.seen_at < now - keep))
                conn.execute(t.insert(), {"key": key[:200], "seen_at": now})
        except sa.exc.IntegrityError:
            return False
        return True
