"""Data access behind keyword-only, intention-revealing methods.

The store is synchronous (SQLAlchemy Core and ORM sessions); async callers run it in a worker
thread where a call could block for long. Every state change of a mention writes its `Event` in the
same transaction, and marks the mention's relayed cards for an in-place update.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

# utcnow, the refusals and the two constants live in light modules (bot.clock, bot.errors,
# bot.domain) that need no SQLAlchemy; they stay importable from here.
from bot.clock import utcnow as utcnow
from bot.db import make_engine
from bot.domain import OPEN_STATUSES as OPEN_STATUSES
from bot.domain import PRIORITY_ORDER as PRIORITY_ORDER
from bot.domain import DeliveryState, MentionStatus, ReplyState
from bot.errors import Conflict as Conflict
from bot.errors import NotFound as NotFound
from bot.models import (
    Author,
    Brand,
    BrandAccountFollowers,
    Credential,
    Delivery,
    Event,
    Mention,
    Reply,
    Revision,
    Route,
    SeenEvent,
    SlaTarget,
    SourceCursor,
    Template,
    table,
)

BRANDS_REVISION = "brands"


@dataclass(frozen=True, slots=True)
class NewMention:
    """One mention as the pipeline hands it to the store (already matched and enriched)."""

    brand_id: int
    network: str
    external_id: str
    url: str
    canonical_url: str
    author_handle: str
    author_name: str | None
    author_followers: int | None
    text: str
    text_hash: str
    language: str | None
    sentiment: str
    sentiment_score: float
    priority: str
    created_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    in_reply_to: str | None = None
    echoes: int = 0


@dataclass(frozen=True, slots=True)
class MentionView:
    """A mention with what a card or `show` needs around it."""

    mention: Mention
    author: Author
    brand: Brand
    replies: list[Reply]
    # The brand's own first-response target on this network; None: bot.sla's default.
    sla_target_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    delivery: Delivery
    view: MentionView
    # An earlier attempt may have reached the chat (its worker died or timed out before the
    # answer was recorded): ask the chat before sending again (bot.chat.IdempotentChat).
    in_doubt: bool = False


def handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


class Store:
    """All reads and writes of Echtzeit's state."""

    def __init__(self, engine: sa.Engine, *, now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.now = now

    @classmethod
    def from_url(cls, url: str, *, now: Callable[[], datetime] = utcnow) -> Store:
        return cls(make_engine(url), now=now)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    def close(self) -> None:
        self.engine.dispose()

    # --- events -------------------------------------------------------------------------------

    def _event(
        self,
        s: Session,
        *,
        kind: str,
        actor: str,
        mention: Mention | None = None,
        brand_id: int | None = None,
        detail: dict[str, object] | None = None,
    ) -> None:
        s.add(
            Event(
                kind=kind,
                mention_id=mention.id if mention else None,
                brand_id=mention.brand_id if mention else brand_id,
                actor=actor,
                at=self.now(),
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            )
        )

    def events(self, *, mention_id: int | None = None, kind: str | None = None) -> list[Event]:
        with self.session() as s:
            q = select(Event).order_by(col(Event.id))
            if mention_id is not None:
                q = q.where(Event.mention_id == mention_id)
            if kind is not None:
                q = q.where(Event.kind == kind)
            return list(s.exec(q))

    # --- brands, routes, revisions ------------------------------------------------------------

    def _bump(self, s: Session, name: str) -> None:
        row = s.get(Revision, name)
        if row is None:
            s.add(Revision(name=name, value=1))
        else:
            row.value += 1

    def revision(self, name: str = BRANDS_REVISION) -> int:
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(table(Revision).c.value).where(table(Revision).c.name == name)
            ).scalar()
        return int(value or 0)

    def add_brand(self, *, name: str, query: str, actor: str) -> Brand:
        with self.session() as s:
            if s.exec(select(Brand).where(Brand.name == name)).first():
                raise Conflict(f"a brand named {name!r} exists already")
            now = self.now()
            brand = Brand(name=name, query=query, created_at=now, updated_at=now)
            s.add(brand)
            s.flush()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="brand_added", actor=actor, brand_id=brand.id,
                        detail={"name": name, "query": query})
            return brand

    def set_brand_query(self, *, name: str, query: str, actor: str) -> Brand:
        with self.session() as s:
            brand = self._brand_by_name(s, name)
            old = brand.query
            brand.query = query
            brand.updated_at = self.now()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="query_changed", actor=actor, brand_id=brand.id,
                        detail={"old": old, "new": query})
            return brand

    def _brand_by_name(self, s: Session, name: str) -> Brand:
        brand = s.exec(select(Brand).where(sa.func.lower(Brand.name) == name.lower())).first()
        if brand is None:
            raise NotFound(f"no brand named {name!r}")
        return brand

    def brand(self, *, name: str) -> Brand:
        with self.session() as s:
            return self._brand_by_name(s, name)

    def brands(self) -> list[Brand]:
        with self.session() as s:
            return list(s.exec(select(Brand).order_by(col(Brand.name))))

    def brand_queries(self) -> dict[int, str]:
        with self.engine.connect() as conn:
            t = table(Brand)
            return {int(r.id): str(r.query) for r in conn.execute(sa.select(t.c.id, t.c.query))}

    def add_route(
        self,
        *,
        brand: str,
        platform: str,
        channel: str,
        networks: Sequence[str] = (),
        min_priority: str = "low",
        actor: str,
    ) -> Route:
        if min_priority not in PRIORITY_ORDER:
            raise ValueError(f"priority must be one of {', '.join(PRIORITY_ORDER)}")
        with self.session() as s:
            b = self._brand_by_name(s, brand)
            existing = s.exec(
                select(Route).where(
                    Route.brand_id == b.id, Route.platform == platform, Route.channel == channel
                )
            ).first()
            route = existing or Route(brand_id=b.id or 0, platform=platform, channel=channel)
            route.networks = ",".join(networks)
            route.min_priority = min_priority
            s.add(route)
            s.flush()
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="route_set", actor=actor, brand_id=b.id,
                        detail={"platform": platform, "channel": channel,
                                "networks": list(networks), "min_priority": min_priority})
            return route

    def remove_route(self, *, brand: str, platform: str, channel: str, actor: str) -> None:
        with self.session() as s:
            b = self._brand_by_name(s, brand)
            route = s.exec(
                select(Route).where(
                    Route.brand_id == b.id, Route.platform == platform, Route.channel == channel
                )
            ).first()
            if route is None:
                raise NotFound(f"{brand} has no route to {platform}:{channel}")
            s.delete(route)
            self._bump(s, BRANDS_REVISION)
            self._event(s, kind="route_removed", actor=actor, brand_id=b.id,
                        detail={"platform": platform, "channel": channel})

    def routes(self, *, brand_id: int | None = None) -> list[Route]:
        with self.session() as s:
            q = select(Route).order_by(col(Route.id))
            if brand_id is not None:
                q = q.where(Route.brand_id == brand_id)
            return list(s.exec(q))

    # --- ingest -------------------------------------------------------------------------------

    def known_external_ids(self, network: str, ids: Iterable[str]) -> set[str]:
        ids = list(set(ids))
        if not ids:
            return set()
        t = table(Mention)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.external_id).where(t.c.network == network, t.c.external_id.in_(ids))
            )
            return {r[0] for r in rows}

    def known_canonical_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(set(urls))
        if not urls:
            return set()
        t = table(Mention)
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.canonical_url).where(t.c.canonical_url.in_(urls)))
            return {r[0] for r in rows}

    def recent_text_hashes(
        self, pairs: Iterable[tuple[int, str]], *, since: datetime
    ) -> dict[tuple[int, str], int]:
        """For (brand id, text hash) pairs: a mention with that text seen since `since`."""
        pairs = list(set(pairs))
        if not pairs:
            return {}
        t = table(Mention)
        hashes = list({h for _, h in pairs})
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.brand_id, t.c.text_hash, sa.func.min(t.c.id))
                .where(t.c.text_hash.in_(hashes), t.c.seen_at >= since)
                .group_by(t.c.brand_id, t.c.text_hash)
            )
            found = {(int(r[0]), str(r[1])): int(r[2]) for r in rows}
        return {p: found[p] for p in pairs if p in found}

    def write_mentions(
        self,
        mentions: Sequence[NewMention],
        *,
        echoes: dict[int, int] | None = None,
        routes: dict[int, list[Route]],
        card_budget: Mapping[int, int] | None = None,
    ) -> list[int]:
        """Store mentions, their authors and their outbox rows in ONE transaction.

        `echoes` maps an existing mention id to how many reposts of its text were folded into it.
        Returns the new mention ids in input order. Mentions of muted authors are stored, marked
        muted and get no delivery. `card_budget` (brand id -> cards left) is set while a brand is
        flooding (bot.spikes): past the budget its deliveries are stored as "grouped", which the
        relay never sends; the spike alert counts them instead.
        """
        now = self.now()
        ids: list[int] = []
        budget = dict(card_budget or {})
        with self.engine.begin() as conn:
            authors = self._upsert_authors(conn, mentions, now)
            mt, dt, et = table(Mention), table(Delivery), table(Event)
            for m in mentions:
                author_id, muted = authors[(m.network, handle_key(m.author_handle))]
                mention_id: int = conn.execute(
                    mt.insert().returning(mt.c.id),
                    {
                        "brand_id": m.brand_id, "network": m.network,
                        "external_id": m.external_id, "url": m.url,
                        "canonical_url": m.canonical_url, "author_id": author_id,
                        "text": m.text, "text_hash": m.text_hash, "language": m.language,
                        "sentiment": m.sentiment, "sentiment_score": m.sentiment_score,
                        "priority": m.priority, "likes": m.likes, "reposts": m.reposts,
                        "replies": m.replies, "in_reply_to": m.in_reply_to, "echoes": m.echoes,
                        "created_at": m.created_at, "seen_at": now,
                        "status": MentionStatus.NEW.value, "assignee": None, "muted": muted,
                    },
                ).scalar_one()
                ids.append(int(mention_id))
                state = DeliveryState.PENDING.value
                if m.brand_id in budget:
                    if budget[m.brand_id] > 0:
                        budget[m.brand_id] -= 1
                    else:
                        state = DeliveryState.GROUPED.value
                deliveries = [] if muted else [
                    {
                        "mention_id": mention_id, "platform": r.platform, "channel": r.channel,
                        "state": state, "attempts": 0,
                        "next_attempt_at": now, "lease_until": None, "last_error": None,
                        "message_ref": None, "needs_update": False, "created_at": now,
                        "sent_at": None,
                    }
                    for r in routes.get(m.brand_id, [])
                    if route_accepts(r, network=m.network, priority=m.priority)
                ]
                if deliveries:
                    conn.execute(dt.insert(), deliveries)
                conn.execute(
                    et.insert(),
                    {
                        "kind": "muted" if muted else "stored", "mention_id": mention_id,
                        "brand_id": m.brand_id, "actor": "pipeline", "at": now,
                        "detail": json.dumps({"channels": len(deliveries)}),
                    },
                )
            for mention_id, count in (echoes or {}).items():
                conn.execute(
                    mt.update().where(mt.c.id == mention_id).values(echoes=mt.c.echoes + count)
                )
        return ids

    def _upsert_authors(
        self, conn: sa.Connection, mentions: Sequence[NewMention], now: datetime
    ) -> dict[tuple[str, str], tuple[int, bool]]:
        t = table(Author)
        by_key: dict[tuple[str, str], NewMention] = {}
        counts: dict[tuple[str, str], int] = {}
        for m in mentions:
            key = (m.network, handle_key(m.author_handle))
            by_key[key] = m  # the newest post's name and follower count win
            counts[key] = counts.get(key, 0) + 1
        result: dict[tuple[str, str], tuple[int, bool]] = {}
        for network in {k[0] for k in by_key}:
            keys = [k[1] for k in by_key if k[0] == network]
            rows = conn.execute(
                sa.select(t.c.id, t.c.handle_key, t.c.muted).where(
                    t.c.network == network, t.c.handle_key.in_(keys)
                )
            )
            for row in rows:
                result[(network, row.handle_key)] = (int(row.id), bool(row.muted))
        for key, m in by_key.items():
            if key in result:
                values: dict[str, object] = {"mentions_count": t.c.mentions_count + counts[key]}
                if m.author_name:
                    values["name"] = m.author_name
                if m.author_followers is not None:
                    values["followers"] = m.author_followers
                conn.execute(t.update().where(t.c.id == result[key][0]).values(**values))
            else:
                new_id: int = conn.execute(
                    t.insert().returning(t.c.id),
                    {
                        "network": key[0], "handle": m.author_handle.lstrip("@"),
                        "handle_key": key[1], "name": m.author_name,
                        "followers": m.author_followers, "first_seen": now,
                        "mentions_count": counts[key], "answered_count": 0, "muted": False,
                    },
                ).scalar_one()
                result[key] = (int(new_id), False)
        return result

    # --- outbox -------------------------------------------------------------------------------

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
            return [ClaimedDelivery(delivery=d, view=views[d.mention_id],
                                    in_doubt=(d.id or 0) in doubt) for d in rows]

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

    def release(self, *, delivery_ids: Sequence[int]) -> None:
        """Give leased rows back untouched (a worker stops, or an older card failed first).

        Their `sending_at` stays: the next claimer checks with the chat before sending them,
        which costs one lookup and is never wrong."""
        if not delivery_ids:
            return
        t = table(Delivery)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id.in_(list(delivery_ids))).values(lease_until=None))

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

    # --- mentions -----------------------------------------------------------------------------

    def _views(self, s: Session, ids: Sequence[int]) -> dict[int, MentionView]:
        if not ids:
            return {}
        rows = s.exec(
            select(Mention, Author, Brand)
            .join(Author, col(Author.id) == Mention.author_id)
            .join(Brand, col(Brand.id) == Mention.brand_id)
            .where(col(Mention.id).in_(set(ids)))
        ).all()
        replies: dict[int, list[Reply]] = {}
        for r in s.exec(
            select(Reply).where(col(Reply.mention_id).in_(set(ids))).order_by(col(Reply.id))
        ):
            replies.setdefault(r.mention_id, []).append(r)
        sla = {(t.brand_id, t.network): t.minutes for t in s.exec(
            select(SlaTarget).where(col(SlaTarget.brand_id).in_({m.brand_id for m, _, _ in rows})))}
        return {
            m.id or 0: MentionView(mention=m, author=a, brand=b, replies=replies.get(m.id or 0, []),
                                   sla_target_minutes=sla.get((m.brand_id, m.network)))
            for m, a, b in rows
        }

    def view(self, mention_id: int) -> MentionView:
        with self.session() as s:
            views = self._views(s, [mention_id])
            if mention_id not in views:
                raise NotFound(f"no mention #{mention_id}")
            return views[mention_id]

    def author_history(self, *, author_id: int, limit: int = 5) -> list[Mention]:
        with self.session() as s:
            q = (
                select(Mention)
                .where(Mention.author_id == author_id)
                .order_by(col(Mention.created_at).desc())
                .limit(limit)
            )
            return list(s.exec(q))

    def list_mentions(
        self,
        *,
        statuses: Sequence[str] = OPEN_STATUSES,
        assignee: str | None = None,
        brand_id: int | None = None,
        limit: int = 20,
    ) -> list[MentionView]:
        with self.session() as s:
            q = select(Mention.id).where(col(Mention.status).in_(statuses),
                                          col(Mention.muted).is_(False))
            if assignee is not None:
                q = q.where(Mention.assignee == assignee)
            if brand_id is not None:
                q = q.where(Mention.brand_id == brand_id)
            ids = [i for i in s.exec(q.order_by(col(Mention.id).desc()).limit(limit)) if i]
            views = self._views(s, ids)
            return [views[i] for i in ids]

    def count_mentions(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(Mention)).scalar_one())

    def _change(
        self,
        s: Session,
        mention_id: int,
        *,
        kind: str,
        actor: str,
        detail: dict[str, object] | None = None,
    ) -> Mention:
        m = s.get(Mention, mention_id)
        if m is None:
            raise NotFound(f"no mention #{mention_id}")
        self._event(s, kind=kind, actor=actor, mention=m, detail=detail)
        s.execute(
            sa.update(Delivery)
            .where(col(Delivery.mention_id) == mention_id)
            .values(needs_update=True)
        )
        return m

    def claim(self, *, mention_id: int, actor: str, assignee: str | None = None) -> Mention:
        """Claim a mention for `assignee` (default: the actor). Refuses a taken or closed one."""
        who = assignee or actor
        with self.session() as s:
            m = self._change(s, mention_id, kind="assigned" if assignee else "claimed",
                             actor=actor, detail={"assignee": who})
            if m.status in (MentionStatus.RESOLVED.value, MentionStatus.IGNORED.value):
                raise Conflict(f"#{mention_id} is {m.status}")
            if assignee is None and m.assignee and m.assignee != actor:
                raise Conflict(f"#{mention_id} is already claimed by {m.assignee}")
            m.assignee = who
            if m.status == MentionStatus.NEW.value:
                m.status = MentionStatus.CLAIMED.value
            return m

    def resolve(self, *, mention_id: int, actor: str) -> Mention:
        with self.session() as s:
            m = self._change(s, mention_id, kind="resolved", actor=actor)
            if m.status == MentionStatus.RESOLVED.value:
                raise Conflict(f"#{mention_id} is resolved already")
            m.status = MentionStatus.RESOLVED.value
            return m

    def ignore(self, *, mention_id: int, actor: str, reason: str) -> Mention:
        with self.session() as s:
            m = self._change(s, mention_id, kind="ignored", actor=actor, detail={"reason": reason})
            if m.status in (MentionStatus.RESOLVED.value, MentionStatus.IGNORED.value):
                raise Conflict(f"#{mention_id} is {m.status} already")
            m.status = MentionStatus.IGNORED.value
            return m

    def mute_author(self, *, network: str, handle: str, actor: str) -> Author:
        with self.session() as s:
            a = s.exec(
                select(Author).where(
                    Author.network == network, Author.handle_key == handle_key(handle)
                )
            ).first()
            if a is None:
                raise NotFound(f"no author @{handle.lstrip('@')} on {network}")
            a.muted = True
            self._event(s, kind="author_muted", actor=actor,
                        detail={"network": network, "handle": a.handle})
            return a

    def add_note(self, *, mention_id: int, actor: str, text: str, ref: str | None = None) -> bool:
        """Record an internal note on a mention's history (kind "note"); it is never sent to
        the network. `ref` names the note's chat message: a note already recorded under the same
        ref is not recorded twice (a chat platform may deliver a message again). Returns whether
        the note was new."""
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            if ref is not None:
                for e in s.exec(select(Event).where(Event.mention_id == mention_id,
                                                    Event.kind == "note")):
                    if json.loads(e.detail or "{}").get("ref") == ref:
                        return False
            self._event(s, kind="note", actor=actor, mention=m,
                        detail={"text": text[:4000], "ref": ref})
            return True

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

    # --- replies ------------------------------------------------------------------------------

    def record_reply(self, *, mention_id: int, text: str, by: str) -> Reply:
        """Record a reply as pending, before anything is sent.

        Refuses while another reply to the same mention is pending or unknown, so that a double
        click or a retry cannot post twice.
        """
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            open_reply = s.exec(
                select(Reply).where(
                    Reply.mention_id == mention_id,
                    col(Reply.state).in_([ReplyState.PENDING.value, ReplyState.UNKNOWN.value]),
                )
            ).first()
            if open_reply is not None:
                raise Conflict(
                    f"reply {open_reply.id} to #{mention_id} is still {open_reply.state}; "
                    "check the network before answering again"
                )
            r = Reply(mention_id=mention_id, text=text, by=by, state=ReplyState.PENDING.value,
                      created_at=self.now())
            s.add(r)
            s.flush()
            self._event(s, kind="reply_recorded", actor=by, mention=m, detail={"reply": r.id})
            return r

    def reply_sent(self, *, reply_id: int, network_reply_id: str, url: str | None) -> Reply:
        with self.session() as s:
            r = s.get(Reply, reply_id)
            if r is None:
                raise NotFound(f"no reply {reply_id}")
            r.state = ReplyState.SENT.value
            r.network_reply_id = network_reply_id
            r.url = url
            r.sent_at = self.now()
            m = self._change(s, r.mention_id, kind="replied", actor=r.by,
                             detail={"reply": r.id, "url": url})
            if m.status in (MentionStatus.NEW.value, MentionStatus.CLAIMED.value):
                m.status = MentionStatus.REPLIED.value
            if m.assignee is None:
                m.assignee = r.by
            author = s.get(Author, m.author_id)
            if author is not None:
                author.answered_count += 1
            return r

    def reply_failed(self, *, reply_id: int, error: str, unknown: bool) -> Reply:
        """The network refused (failed) or may or may not have taken it (unknown)."""
        with self.session() as s:
            r = s.get(Reply, reply_id)
            if r is None:
                raise NotFound(f"no reply {reply_id}")
            r.state = ReplyState.UNKNOWN.value if unknown else ReplyState.FAILED.value
            r.error = error[:2000]
            self._change(s, r.mention_id, kind="reply_unknown" if unknown else "reply_failed",
                         actor=r.by, detail={"reply": r.id, "error": error[:500]})
            return r

    # --- templates ----------------------------------------------------------------------------

    def add_template(self, *, name: str, text: str, actor: str) -> Template:
        with self.session() as s:
            t = s.exec(select(Template).where(Template.name == name)).first()
            if t is None:
                t = Template(name=name, text=text, created_by=actor, created_at=self.now())
            else:
                t.text = text
            s.add(t)
            return t

    def template(self, *, name: str) -> Template:
        with self.session() as s:
            t = s.exec(select(Template).where(Template.name == name)).first()
            if t is None:
                raise NotFound(f"no template named {name!r}")
            return t

    def templates(self) -> list[Template]:
        with self.session() as s:
            return list(s.exec(select(Template).order_by(col(Template.name))))

    # --- source cursors -----------------------------------------------------------------------

    def cursor(self, *, source: str) -> str | None:
        with self.session() as s:
            row = s.get(SourceCursor, source)
            return row.cursor if row else None

    def save_cursor(self, *, source: str, cursor: str) -> None:
        with self.session() as s:
            row = s.get(SourceCursor, source)
            if row is None:
                s.add(SourceCursor(source=source, cursor=cursor, updated_at=self.now()))
            else:
                row.cursor = cursor
                row.updated_at = self.now()

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

    # --- credentials the bot renews itself ----------------------------------------------------

    def credential(self, *, name: str) -> Credential | None:
        """The stored credential `name` (a rotating refresh token and its access token)."""
        with self.session() as s:
            return s.get(Credential, name)

    def seed_credential(self, *, name: str, secret: str, origin: str) -> Credential:
        """The stored credential `name`, started from the configured `secret` when there is
        none, or when the stored one descends from another configured token (`origin`, a hash
        of it, differs: the operator authorized again). A stored chain that started from this
        very `secret` is kept: its refresh token is newer, and the configured one is spent."""
        t = table(Credential)
        now = self.now()
        values = {"secret": secret, "access": None, "expires_at": None, "origin": origin,
                  "lease_holder": None, "lease_until": None, "updated_at": now}
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.name == name, t.c.origin != origin)
                         .values(**values))
        try:
            with self.engine.begin() as conn:
                conn.execute(t.insert(), {"name": name, **values})
        except sa.exc.IntegrityError:
            pass  # there already (or another replica seeded it a moment ago)
        row = self.credential(name=name)
        if row is None:
            raise NotFound(f"no credential {name}")
        return row

    def lease_credential(
        self, *, name: str, secret: str, holder: str, until: datetime
    ) -> bool:
        """Take the right to renew credential `name` until `until`: True when the stored
        refresh token is still `secret` and no other holder's lease runs. One replica renews
        at a time; the others wait and then take the token it stored."""
        t = table(Credential)
        with self.engine.begin() as conn:
            taken = conn.execute(
                t.update()
                .where(t.c.name == name, t.c.secret == secret,
                       sa.or_(t.c.lease_until.is_(None), t.c.lease_until <= self.now(),
                              t.c.lease_holder == holder))
                .values(lease_holder=holder, lease_until=until)
            ).rowcount
        return bool(taken)

    def save_credential(
        self, *, name: str, secret: str, access: str | None, expires_at: datetime | None,
        expected: str,
    ) -> bool:
        """Store the renewed credential `name` in place of refresh token `expected` (compare
        and swap) and end the lease. False when the stored token is no longer `expected`."""
        t = table(Credential)
        with self.engine.begin() as conn:
            saved = conn.execute(
                t.update()
                .where(t.c.name == name, t.c.secret == expected)
                .values(secret=secret, access=access, expires_at=expires_at,
                        lease_holder=None, lease_until=None, updated_at=self.now())
            ).rowcount
        return bool(saved)

    def release_credential(self, *, name: str, holder: str) -> None:
        """End `holder`'s lease on credential `name` without a change (the renewal failed)."""
        t = table(Credential)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.name == name, t.c.lease_holder == holder)
                         .values(lease_holder=None, lease_until=None))

    # --- brand accounts -----------------------------------------------------------------------

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


def route_accepts(route: Route, *, network: str, priority: str) -> bool:
    if route.networks and network not in route.networks.split(","):
        return False
    return PRIORITY_ORDER.get(priority, 1) >= PRIORITY_ORDER.get(route.min_priority, 0)
