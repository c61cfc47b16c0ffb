"""The outbox: leases on due cards, and what became of each attempt."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain import DeliveryState
from bot.errors import NotFound
from bot.models import Delivery, Mention, table
from bot.store.stories import StoryStore
from bot.store.views import ClaimedDelivery, MentionView


class OutboxStore(StoryStore):
    """Deliveries (one relayed card per mention and channel)."""

    def claim_deliveries(
        self, *, worker: str, limit: int, lease: timedelta, platforms: Sequence[str]
    ) -> list[ClaimedDelivery]:
        """Lease due outbox rows to this worker, oldest first per channel.

        On PostgreSQL several processes claim concurrently with FOR UPDATE SKIP LOCKED; on SQLite
        the write transaction (BEGIN IMMEDIATE) serialises claimers. A claimed new card is marked
        `sending_at` in the same transaction (no extra write per card): should the worker die
        before it records the chat's answer, the next claimer sees the card as `in_doubt`.
        """
        now = self.now()
        with self.session() as s:
            q = (
                select(Delivery)
                .where(
                    col(Delivery.platform).in_(platforms),
                    sa.or_(
                        sa.and_(
                            col(Delivery.state) == DeliveryState.PENDING.value,
                            col(Delivery.next_attempt_at) <= now,
                        ),
                        sa.and_(
                            col(Delivery.state) == DeliveryState.SENT.value,
                            col(Delivery.needs_update).is_(True),
                        ),
                    ),
                    sa.or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
                )
                .order_by(col(Delivery.id))
                .limit(limit)
            )
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            rows = list(s.exec(q))
            # Keep each channel in order: nothing overtakes an older card that waits for a
            # retry or is being sent by another worker.
            t = table(Delivery)
            blocked: dict[tuple[str, str], int] = {
                (str(r[0]), str(r[1])): int(r[2])
                for r in s.execute(
                    sa.select(t.c.platform, t.c.channel, sa.func.min(t.c.id))
                    .where(
                        t.c.state == DeliveryState.PENDING.value,
                        sa.or_(t.c.next_attempt_at > now, t.c.lease_until >= now),
                    )
                    .group_by(t.c.platform, t.c.channel)
                )
            }
            rows = [
                d for d in rows
                if d.state != DeliveryState.PENDING.value
                or (d.id or 0) < blocked.get((d.platform, d.channel), 1 << 62)
            ]
            doubt: set[int] = set()
            for d in rows:
                d.lease_until = now + lease
                if d.state == DeliveryState.SENT.value:
                    d.needs_update = False
                elif d.sending_at is not None:
                    doubt.add(d.id or 0)
                else:
                    d.sending_at = now
            s.flush()
            views = self._views(s, [d.mention_id for d in rows])
            return self._with_stories(s.connection(), rows, views, doubt)

    def _with_stories(self, conn: sa.Connection, rows: Sequence[Delivery],
                      views: dict[int, MentionView], doubt: set[int]) -> list[ClaimedDelivery]:
        """The claimed cards, each with its place in its story: the parent card of its
        channel (with the story's summary) or a member that goes in the parent's thread."""
        story_of = {d.id or 0: views[d.mention_id].mention.story_id for d in rows}
        story_ids = sorted({s for s in story_of.values() if s is not None})
        parents = self._parents(conn, story_ids) if story_ids else {}
        summaries = self._summaries(conn, story_ids) if story_ids else {}
        t = table(Delivery)
        parent_rows = {int(r.id): r for r in conn.execute(
            sa.select(t.c.id, t.c.mention_id, t.c.message_ref, t.c.state)
            .where(t.c.id.in_(list(parents.values()))))} if parents else {}
        out: list[ClaimedDelivery] = []
        for d in rows:
            story_id = story_of[d.id or 0]
            parent = parents.get((story_id, d.platform, d.channel)) if story_id else None
            item = ClaimedDelivery(delivery=d, view=views[d.mention_id],
                                   in_doubt=(d.id or 0) in doubt)
            if parent is not None and story_id in summaries:
                if parent == d.id:
                    item = replace(item, story=summaries[story_id])
                else:
                    p = parent_rows[parent]
                    item = replace(item, parent_mention_id=int(p.mention_id),
                                   thread_ref=p.message_ref
                                   if p.state == DeliveryState.SENT.value else None)
            out.append(item)
        return out

    def delivery_sent(self, *, delivery_id: int, message_ref: str) -> None:
        now = self.now()
        with self.session() as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                raise NotFound(f"no delivery {delivery_id}")
            first = d.state != DeliveryState.SENT.value
            d.state = DeliveryState.SENT.value
            d.message_ref = message_ref
            d.lease_until = None
            d.sending_at = None
            d.attempts += 1 if first else 0
            d.last_error = None
            if first:
                d.sent_at = now
                m = s.get(Mention, d.mention_id)
                self._event(s, kind="relayed", actor="relay", mention=m,
                            detail={"platform": d.platform, "channel": d.channel})

    def delivery_failed(
        self, *, delivery_id: int, error: str, retry_at: datetime | None, update: bool = False,
        maybe_sent: bool = False,
    ) -> None:
        """Record a failed attempt; `retry_at=None` means give up (state failed). `maybe_sent`:
        the chat may have taken the card (a timeout, a 5xx), so the card stays in doubt."""
        with self.session() as s:
            d = s.get(Delivery, delivery_id)
            if d is None:
                raise NotFound(f"no delivery {delivery_id}")
            d.lease_until = None
            d.last_error = error[:2000]
            if update:
                # A failed in-place edit of a card that was sent: try again after the back-off
                # (the lease keeps other claims off it until then), or drop the edit.
                d.needs_update = retry_at is not None
                d.lease_until = retry_at
                return
            d.attempts += 1
            if not maybe_sent:
                d.sending_at = None
            if retry_at is None:
                d.state = DeliveryState.FAILED.value
            else:
                d.next_attempt_at = retry_at

    def release(self, *, delivery_ids: Sequence[int], fresh: Sequence[int] = ()) -> None:
        """Give leased rows back (a worker stops, runs short of its lease, or an older card
        failed first). A sent card claimed for an update is marked to be updated again.

        A card's `sending_at` stays, so the next claimer checks with the chat before sending it
        (one lookup, never wrong), except for the `fresh` ones: marked by this very claim and
        never attempted."""
        if not delivery_ids:
            return
        t = table(Delivery)
        ids = list(delivery_ids)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id.in_(ids)).values(lease_until=None))
            conn.execute(t.update().where(t.c.id.in_(ids),
                                          t.c.state == DeliveryState.SENT.value)
                         .values(needs_update=True))
            untouched = [i for i in fresh if i in set(ids)]
            if untouched:
                conn.execute(t.update().where(t.c.id.in_(untouched),
                                              t.c.state == DeliveryState.PENDING.value)
                             .values(sending_at=None))

    def outbox_depth(self) -> int:
        t = table(Delivery)
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(t.c.state == DeliveryState.PENDING.value)
                ).scalar_one()
            )

    def deliveries(self, *, mention_id: int | None = None) -> list[Delivery]:
        with self.session() as s:
            q = select(Delivery).order_by(col(Delivery.id))
            if mention_id is not None:
                q = q.where(Delivery.mention_id == mention_id)
            return list(s.exec(q))

    def mention_for_message(self, *, platform: str, message_ref: str) -> int | None:
        """The mention whose card is the chat message `message_ref` on `platform`, if any."""
        t = table(Delivery)
        with self.engine.connect() as conn:
            found = conn.execute(
                sa.select(t.c.mention_id)
                .where(t.c.platform == platform, t.c.message_ref == message_ref)
                .limit(1)
            ).scalar()
        return int(found) if found is not None else None
