"""What every part of the store shares: the engine, sessions, the clock and the event log.

Each aggregate's methods live in a mixin of `StoreBase` (bot/store/brands.py, ...); `Store`
(bot/store/store.py) is their composition, one object on one engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Self

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.clock import utcnow
from bot.db import make_engine
from bot.domain import DeliveryState
from bot.errors import NotFound
from bot.models import Author, Brand, Delivery, Draft, Event, Mention, Reply, SlaTarget, table
from bot.store.people import persons
from bot.store.views import MentionView

# A story's parent card in a channel: the card of its oldest member sent or waiting there.
_CARDED = (DeliveryState.SENT.value, DeliveryState.PENDING.value)


def handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").casefold()


class StoreBase:
    """The engine and clock of a store, its transactions and its event log."""

    def __init__(self, engine: sa.Engine, *, now: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.now = now

    @classmethod
    def from_url(cls, url: str, *, now: Callable[[], datetime] = utcnow) -> Self:
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

    def last_event_id(self) -> int:
        """The newest event's id: it moves with every change of a mention or its cards, so a
        view of the queue (App Home, a pinned status) is stale when it moved."""
        t = Event.__table__  # type: ignore[attr-defined]
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(t.c.id))).scalar() or 0)

    def _event(
        self,
        s: Session,
        *,
        kind: str,
        actor: str,
        mention: Mention | None = None,
        brand_id: int | None = None,
        detail: dict[str, object] | None = None,
        at: datetime | None = None,
    ) -> None:
        s.add(
            Event(
                kind=kind,
                mention_id=mention.id if mention else None,
                brand_id=mention.brand_id if mention else brand_id,
                actor=actor,
                at=at or self.now(),
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            )
        )

    def _change(
        self,
        s: Session,
        mention_id: int,
        *,
        kind: str,
        actor: str,
        detail: dict[str, object] | None = None,
        at: datetime | None = None,
    ) -> Mention:
        m = s.get(Mention, mention_id)
        if m is None:
            raise NotFound(f"no mention #{mention_id}")
        self._event(s, kind=kind, actor=actor, mention=m, detail=detail, at=at)
        s.execute(
            sa.update(Delivery)
            .where(col(Delivery.mention_id) == mention_id)
            .values(needs_update=True)
        )
        if m.story_id is not None:
            # The story's parent cards show what became of their members.
            self._flag_story_parents(s.connection(), [m.story_id])
        return m

    # --- parents: the card that heads a story in a channel ------------------------------------

    def _flag_story_parents(self, conn: sa.Connection, story_ids: Iterable[int]) -> None:
        """Mark the sent parent cards of these stories for an edit (new member, a member
        answered, claimed, closed)."""
        ids = list(set(story_ids))
        if not ids:
            return
        parents = self._parents(conn, ids)
        dt = table(Delivery)
        refs = list(parents.values())
        if refs:
            conn.execute(dt.update().where(dt.c.id.in_(refs),
                                           dt.c.state == DeliveryState.SENT.value)
                         .values(needs_update=True))

    def _parents(self, conn: sa.Connection, story_ids: Sequence[int],
                 ) -> dict[tuple[int, str, str], int]:
        """(story, platform, channel) -> the delivery id of the story's parent card there: the
        card of its oldest member that has one (sent or waiting) in that channel."""
        dt, mt = table(Delivery), table(Mention)
        rows = conn.execute(
            sa.select(mt.c.story_id, dt.c.platform, dt.c.channel, dt.c.mention_id, dt.c.id)
            .select_from(dt.join(mt, mt.c.id == dt.c.mention_id))
            .where(mt.c.story_id.in_(list(story_ids)), dt.c.state.in_(_CARDED))
            .order_by(dt.c.mention_id))
        out: dict[tuple[int, str, str], int] = {}
        for story_id, platform, channel, _mid, did in rows:
            out.setdefault((int(story_id), str(platform), str(channel)), int(did))
        return out


    # --- mentions with what a card needs around them (views, outbox claims) -----------------

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
        drafts: dict[int, Draft] = {}
        for d in s.exec(
            select(Draft).where(col(Draft.mention_id).in_(set(ids))).order_by(col(Draft.id))
        ):
            drafts[d.mention_id] = d
        # The last hide or unhide of each mention (the event log is the record).
        hidden: dict[int, Event] = {}
        for e in s.exec(select(Event).where(col(Event.mention_id).in_(set(ids)),
                                            col(Event.kind).in_(("hidden", "unhidden")))
                        .order_by(col(Event.id))):
            hidden[e.mention_id or 0] = e
        hid = {mid: e for mid, e in hidden.items() if e.kind == "hidden"}
        sla = {(t.brand_id, t.network): t.minutes for t in s.exec(
            select(SlaTarget).where(col(SlaTarget.brand_id).in_({m.brand_id for m, _, _ in rows})))}
        people = persons(s.connection(), [a.id or 0 for _, a, _ in rows])
        return {
            m.id or 0: MentionView(mention=m, author=a, brand=b, replies=replies.get(m.id or 0, []),
                                   sla_target_minutes=sla.get((m.brand_id, m.network)),
                                   draft=drafts.get(m.id or 0),
                                   person=people.get(a.id or 0),
                                   hidden_by=hid[m.id or 0].actor if m.id in hid else None,
                                   hidden_at=hid[m.id or 0].at if m.id in hid else None)
            for m, a, b in rows
        }
