"""Follower counts of the brands' own accounts, one reading per day."""

from __future__ import annotations

from datetime import date

from bot.models import BrandAccountFollowers, table
from bot.store.base import StoreBase


class FollowerStore(StoreBase):
    """Daily follower readings."""

    def record_followers(
        self, *, brand_id: int, network: str, handle: str, day: date, followers: int
    ) -> None:
        """Record how many followers one of the brand's own accounts had on `day` (the local day
        of the reading); a second reading of the same day replaces the first. The networks call
        this; the digest reports the growth."""
        t = table(BrandAccountFollowers)
        key = handle.strip().lstrip("@")
        with self.engine.begin() as conn:
            updated = conn.execute(
                t.update()
                .where(t.c.brand_id == brand_id, t.c.network == network, t.c.handle == key,
                       t.c.day == day)
                .values(followers=followers, recorded_at=self.now())
            ).rowcount
            if not updated:
                conn.execute(t.insert(), {"brand_id": brand_id, "network": network, "handle": key,
                                          "day": day, "followers": followers,
                                          "recorded_at": self.now()})
