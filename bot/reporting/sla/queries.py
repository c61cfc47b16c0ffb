"""The SLA clocks' read model: the targets in force, the open unanswered mentions, and the
reminders recorded (Event rows sla_warning / sla_breach, written before a notice is sent)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from bot.domain import DeliveryState, MentionStatus, ReplyState
from bot.models import Brand, SlaTarget
from bot.reporting.sla.rule import SlaTargets
from bot.reporting.tables import (
    ReadModel,
    authors,
    deliveries,
    events,
    fetch_all,
    mentions,
    replies,
    table,
)

OPEN = (MentionStatus.NEW.value, MentionStatus.CLAIMED.value)
REMINDER_KINDS = ("sla_warning", "sla_breach")


class SlaQueries(ReadModel):
    """Targets per brand and network, and what the reminders need to know."""

    def sla_targets(self, brand_ids: Sequence[int] | None = None) -> SlaTargets:
        t = table(SlaTarget)
        q = sa.select(t.c.brand_id, t.c.network, t.c.minutes)
        if brand_ids is not None:
            q = q.where(t.c.brand_id.in_(list(brand_ids)))
        with self._connect() as conn:
            return SlaTargets({(int(b), str(n)): int(m) for b, n, m in fetch_all(conn, q)})

    def set_sla(self, *, brand: str, network: str, minutes: int | None, actor: str) -> Brand:
        """Set (or with None remove) a brand's target on a network; logged as an event."""
        t = table(SlaTarget)
        b = self.store.brand(name=brand)
        now = self.store.now()
        with self.engine.begin() as conn:
            where = (t.c.brand_id == b.id, t.c.network == network)
            if minutes is None:
                conn.execute(t.delete().where(*where))
            elif not conn.execute(t.update().where(*where).values(
                    minutes=minutes, set_by=actor, updated_at=now)).rowcount:
                conn.execute(t.insert(), {"brand_id": b.id, "network": network,
                                          "minutes": minutes, "set_by": actor,
                                          "updated_at": now})
            conn.execute(events.insert(), {"kind": "sla_set", "mention_id": None,
                                           "brand_id": b.id, "actor": actor, "at": now,
                                           "detail": _json({"network": network,
                                                            "minutes": minutes})})
        return b

    def open_unanswered(self, brand_ids: Sequence[int], *, since: datetime,
                        ) -> list[tuple[int, int, str, datetime]]:
        """Open mentions without a sent reply, posted since `since`, oldest first:
        (id, brand id, network, created_at). The sent replies are looked up by mention id
        afterwards (an anti-join makes PostgreSQL hash the whole reply table)."""
        q = (sa.select(mentions.c.id, mentions.c.brand_id, mentions.c.network,
                       mentions.c.created_at)
             .where(mentions.c.brand_id.in_(list(brand_ids)), mentions.c.status.in_(OPEN),
                    mentions.c.created_at >= since, mentions.c.muted.is_(False),
                    mentions.c.deleted_at.is_(None))
             .order_by(mentions.c.created_at, mentions.c.id))
        with self._connect() as conn:
            rows = fetch_all(conn, q)
            ids = sorted(int(r[0]) for r in rows)
            answered: set[int] = set()
            for k in range(0, len(ids), 5000):
                sent = sa.select(replies.c.mention_id).where(
                    replies.c.mention_id.in_(ids[k:k + 5000]),
                    replies.c.state == ReplyState.SENT.value)
                answered.update(int(r[0]) for r in fetch_all(conn, sent))
        return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows
                if int(r[0]) not in answered]

    def mention_details(self, ids: Sequence[int]) -> dict[int, tuple[str | None, str, str]]:
        """(assignee, url, author handle) of a few mentions."""
        q = (sa.select(mentions.c.id, mentions.c.assignee, mentions.c.url, authors.c.handle)
             .select_from(mentions.join(authors, authors.c.id == mentions.c.author_id))
             .where(mentions.c.id.in_(list(ids))))
        with self._connect() as conn:
            return {int(r[0]): (r[1], str(r[2]), str(r[3])) for r in fetch_all(conn, q)}

    def recorded_reminders(self, mention_ids: Sequence[int]) -> set[tuple[int, str]]:
        """(mention id, kind) of the reminders already recorded for these mentions."""
        q = (sa.select(events.c.mention_id, events.c.kind)
             .where(events.c.mention_id.in_(list(mention_ids)), events.c.kind.in_(REMINDER_KINDS)))
        with self._connect() as conn:
            return {(int(m), str(k)) for m, k in fetch_all(conn, q)}

    def card_channels(self, mention_ids: Sequence[int],
                      platforms: Iterable[str]) -> dict[int, list[tuple[str, str]]]:
        """Where each of these mentions was shown as a card (sent deliveries on `platforms`)."""
        q = (sa.select(deliveries.c.mention_id, deliveries.c.platform, deliveries.c.channel)
             .where(deliveries.c.mention_id.in_(list(mention_ids)),
                    deliveries.c.state == DeliveryState.SENT.value,
                    deliveries.c.platform.in_(list(platforms))))
        where: dict[int, list[tuple[str, str]]] = {}
        with self._connect() as conn:
            for mid, platform, channel in fetch_all(conn, q):
                where.setdefault(int(mid), []).append((str(platform), str(channel)))
        return where

    def record_reminder(self, *, mention_id: int, kind: str, brand_id: int, at: datetime,
                        detail: dict[str, object]) -> bool:
        """Write the reminder's event unless it exists; False when another runner was first."""
        with self.engine.begin() as conn:
            lock = sa.select(mentions.c.id).where(mentions.c.id == mention_id)
            if self.store.is_postgres:
                lock = lock.with_for_update()
            conn.execute(lock)  # serialises runners on this mention (SQLite: BEGIN IMMEDIATE)
            exists = conn.execute(sa.select(events.c.id).where(
                events.c.mention_id == mention_id, events.c.kind == kind).limit(1)).first()
            if exists is not None:
                return False
            conn.execute(events.insert(), {
                "kind": kind, "mention_id": mention_id, "brand_id": brand_id,
                "actor": "scheduler", "at": at, "detail": json.dumps(detail, sort_keys=True)})
            return True


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
