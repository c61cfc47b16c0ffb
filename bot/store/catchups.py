"""Catch-up notices: the held cards of a channel whose quiet hours ended, or a backlog, turned
into one notice row (bot.catchup) in the same transaction that marks them `caught_up`, before
anything is sent; then leases on due notices and the result of each attempt."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.catchup import HeldCard, notice
from bot.domain import DeliveryState
from bot.errors import NotFound
from bot.models import Author, Brand, CatchUp, Delivery, Mention, table
from bot.store.base import StoreBase


class CatchUpStore(StoreBase):
    """Catch-up notices (table catch_up, migration 0013_quiet)."""

    def held_channels(self, *, platforms: Sequence[str]) -> list[tuple[str, str]]:
        """(platform, channel) with held cards whose quiet period is over."""
        t = table(Delivery)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.platform, t.c.channel).distinct()
                .where(t.c.state == DeliveryState.HELD.value, t.c.next_attempt_at <= self.now(),
                       t.c.platform.in_(list(platforms))))
            return sorted((str(p), str(c)) for p, c in rows)

    def held_count(self, *, platform: str | None = None, channel: str | None = None) -> int:
        """Cards held now (quiet hours not over, or the notice not yet made)."""
        t = table(Delivery)
        q = sa.select(sa.func.count()).where(t.c.state == DeliveryState.HELD.value)
        if platform is not None:
            q = q.where(t.c.platform == platform)
        if channel is not None:
            q = q.where(t.c.channel == channel)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def make_catch_up(self, *, platform: str, channel: str, reason: str,
                      delivery_ids: Sequence[int] | None = None) -> int | None:
        """Turn cards of one channel into one catch-up notice, in one transaction: with
        `delivery_ids` None, its held cards whose quiet period is over (reason "quiet");
        otherwise those pending cards (a backlog the caller leased). Returns the notice's id,
        or None when there was nothing (another replica was first)."""
        now = self.now()
        with self.session() as s:
            q = select(Delivery).where(Delivery.platform == platform,
                                       Delivery.channel == channel)
            if delivery_ids is None:
                q = q.where(Delivery.state == DeliveryState.HELD.value,
                            col(Delivery.next_attempt_at) <= now)
            else:
                q = q.where(col(Delivery.id).in_(list(delivery_ids)),
                            Delivery.state == DeliveryState.PENDING.value)
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            rows = list(s.exec(q.order_by(col(Delivery.id))))
            if not rows:
                return None
            cards = self._held_cards(s, [d.mention_id for d in rows])
            text, lines = notice(reason, cards)
            row = CatchUp(platform=platform, channel=channel, reason=reason, count=len(rows),
                          text=text, lines=json.dumps(lines, ensure_ascii=False),
                          state="pending", attempts=0, created_at=now, next_attempt_at=now)
            s.add(row)
            s.flush()
            for d in rows:
                d.state = DeliveryState.CAUGHT_UP.value
                d.catch_up_id = row.id
                d.lease_until = None
                d.sending_at = None
            self._event(s, kind="catch_up", actor="relay", detail={
                "platform": platform, "channel": channel, "reason": reason,
                "count": len(rows), "catch_up": row.id})
            return row.id

    def _held_cards(self, s: Session, mention_ids: Sequence[int]) -> list[HeldCard]:
        m, a, b = table(Mention), table(Author), table(Brand)
        q = (sa.select(m.c.id, b.c.name, m.c.network, m.c.priority, m.c.url, a.c.handle,
                       m.c.text, a.c.followers, m.c.created_at)
             .select_from(m.join(a, a.c.id == m.c.author_id).join(b, b.c.id == m.c.brand_id))
             .where(m.c.id.in_(list(mention_ids))))
        return [HeldCard(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), str(r[5]),
                         str(r[6]), int(r[7] or 0), r[8]) for r in s.connection().execute(q)]

    def claim_catch_ups(self, *, platforms: Sequence[str], lease: timedelta,
                        limit: int = 20) -> list[CatchUp]:
        """Lease due notices (pending, due): their next attempt moves past the lease, so that
        no other relay sends them meanwhile."""
        now = self.now()
        with self.session() as s:
            q = (select(CatchUp)
                 .where(CatchUp.state == "pending", col(CatchUp.next_attempt_at) <= now,
                        col(CatchUp.platform).in_(list(platforms)))
                 .order_by(col(CatchUp.id)).limit(limit))
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            rows = list(s.exec(q))
            for r in rows:
                r.next_attempt_at = now + lease
                r.attempts += 1
            s.flush()
            for r in rows:
                s.expunge(r)
            return rows

    def catch_up_sent(self, *, catch_up_id: int, message_ref: str) -> None:
        with self.session() as s:
            row = s.get(CatchUp, catch_up_id)
            if row is None:
                raise NotFound(f"no catch-up {catch_up_id}")
            row.state, row.message_ref, row.sent_at, row.error = ("sent", message_ref,
                                                                   self.now(), None)

    def catch_up_failed(self, *, catch_up_id: int, error: str,
                        retry_at: datetime | None) -> None:
        """Record a failed attempt; `retry_at=None`: give up (state failed)."""
        with self.session() as s:
            row = s.get(CatchUp, catch_up_id)
            if row is None:
                raise NotFound(f"no catch-up {catch_up_id}")
            row.error = error[:2000]
            if retry_at is None:
                row.state = "failed"
            else:
                row.next_attempt_at = retry_at

    def catch_ups(self, *, platform: str | None = None) -> list[CatchUp]:
        with self.session() as s:
            q = select(CatchUp).order_by(col(CatchUp.id))
            if platform is not None:
                q = q.where(CatchUp.platform == platform)
            rows = list(s.exec(q))
            for r in rows:
                s.expunge(r)
            return rows
