"""Stories: mentions of one brand that share a link target, answer or quote each other, or are
near-duplicates (bot.stories), joined in the ingest's transaction; and their read side (the
parent card's summary, `story <id>`, the spike alert's stories)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from bot.domain import DeliveryState, MentionStatus, ReplyState
from bot.errors import NotFound
from bot.models import Author, Delivery, Mention, Reply, Story, StoryKey, table
from bot.store.base import StoreBase
from bot.store.views import NewMention, StoryPost, StorySummary
from bot.stories import NEAR_DUPLICATE_JACCARD, jaccard, shingles

_CARDED = (DeliveryState.SENT.value, DeliveryState.PENDING.value)


@dataclass
class _Candidates:
    """What the batch's posts may join, looked up once per batch."""

    by_key: dict[tuple[int, str], list[int]] = field(default_factory=dict)
    by_ref: dict[tuple[int, str, str], int] = field(default_factory=dict)
    story_of: dict[int, int | None] = field(default_factory=dict)
    text_of: dict[int, str] = field(default_factory=dict)
    new_keys: list[dict[str, object]] = field(default_factory=list)  # written once per batch


class StoryStore(StoreBase):
    """Clustering in the ingest, and the stories' reads."""

    # --- ingest (inside write_mentions' transaction) -------------------------------------------

    def _story_candidates(self, conn: sa.Connection, mentions: Sequence[NewMention], *,
                          since: datetime) -> _Candidates:
        c = _Candidates()
        keys: dict[int, set[str]] = {}
        refs: dict[tuple[int, str], set[str]] = {}
        for m in mentions:
            if m.story is None:
                continue
            keys.setdefault(m.brand_id, set()).update(m.story.keys())
            if m.story.refs:
                refs.setdefault((m.brand_id, m.network), set()).update(m.story.refs)
        kt, mt = table(StoryKey), table(Mention)
        found: set[int] = set()
        for brand_id, wanted in keys.items():
            if not wanted:
                continue
            for key, mid in conn.execute(
                    sa.select(kt.c.key, kt.c.mention_id)
                    .where(kt.c.brand_id == brand_id, kt.c.key.in_(list(wanted)),
                           kt.c.at >= since)):
                c.by_key.setdefault((brand_id, str(key)), []).append(int(mid))
                found.add(int(mid))
        for (brand_id, network), ids in refs.items():
            for ext, mid in conn.execute(
                    sa.select(mt.c.external_id, mt.c.id)
                    .where(mt.c.brand_id == brand_id, mt.c.network == network,
                           mt.c.external_id.in_(list(ids)))):
                c.by_ref[(brand_id, network, str(ext))] = int(mid)
                found.add(int(mid))
        if found:
            for mid, story_id, text in conn.execute(
                    sa.select(mt.c.id, mt.c.story_id, mt.c.text).where(mt.c.id.in_(found))):
                c.story_of[int(mid)] = int(story_id) if story_id is not None else None
                c.text_of[int(mid)] = str(text)
        return c

    def _join_story(self, conn: sa.Connection, c: _Candidates, m: NewMention,
                    now: datetime) -> int | None:
        """The story the new mention `m` joins (made here when its match had none), or None.
        Called before `m` is inserted."""
        if m.story is None:
            return None
        matches: dict[int, str] = {}  # candidate mention id -> why
        for ref in m.story.refs:
            mid = c.by_ref.get((m.brand_id, m.network, ref))
            if mid is not None:
                matches[mid] = "reference"
        for url in m.story.links:
            for mid in c.by_key.get((m.brand_id, f"u:{url}"[:400]), []):
                matches.setdefault(mid, "link")
        mine = None
        for band in m.story.bands:
            for mid in c.by_key.get((m.brand_id, band), []):
                if mid in matches:
                    continue
                mine = mine if mine is not None else shingles(m.text)
                if jaccard(mine, shingles(c.text_of.get(mid, ""))) >= NEAR_DUPLICATE_JACCARD:
                    matches[mid] = "text"
        if not matches:
            return None
        stories = sorted({s for mid in matches if (s := c.story_of.get(mid)) is not None})
        st, mt = table(Story), table(Mention)
        if stories:
            story_id = stories[0]  # the oldest; stories are never merged (docs/stories.md)
            conn.execute(st.update().where(st.c.id == story_id).values(last_at=now))
        else:
            first = min(matches)
            story_id = int(conn.execute(st.insert().returning(st.c.id), {
                "brand_id": m.brand_id, "created_at": now, "last_at": now,
                "reason": matches[first]}).scalar_one())
        alone = [mid for mid in matches if c.story_of.get(mid) is None]
        if alone:
            conn.execute(mt.update().where(mt.c.id.in_(alone)).values(story_id=story_id))
            # Their cards, already in the channels, now name the story (or head it).
            dt = table(Delivery)
            conn.execute(dt.update().where(dt.c.mention_id.in_(alone),
                                           dt.c.state == DeliveryState.SENT.value)
                         .values(needs_update=True))
            for mid in alone:
                c.story_of[mid] = story_id
        return story_id

    def _remember_story_keys(self, conn: sa.Connection, c: _Candidates, m: NewMention,
                             mention_id: int, story_id: int | None, now: datetime) -> None:
        """Make the new mention findable by the rest of the batch and by later batches."""
        c.story_of[mention_id] = story_id
        c.text_of[mention_id] = m.text
        c.by_ref[(m.brand_id, m.network, m.external_id)] = mention_id
        if m.story is None:
            return
        for key in m.story.keys():
            c.by_key.setdefault((m.brand_id, key), []).append(mention_id)
            c.new_keys.append({"brand_id": m.brand_id, "key": key, "mention_id": mention_id,
                               "at": now})

    def _write_story_keys(self, conn: sa.Connection, c: _Candidates) -> None:
        if c.new_keys:
            conn.execute(table(StoryKey).insert(), c.new_keys)

    # --- reads -------------------------------------------------------------------------------

    def _story_posts(self, conn: sa.Connection, story_ids: Sequence[int],
                     ) -> dict[int, list[StoryPost]]:
        mt, at, rt = table(Mention), table(Author), table(Reply)
        answered = (sa.select(rt.c.mention_id).where(rt.c.state == ReplyState.SENT.value)
                    .scalar_subquery())
        rows = conn.execute(
            sa.select(mt.c.story_id, mt.c.id, mt.c.network, at.c.handle, at.c.followers,
                      mt.c.text, mt.c.url, mt.c.status, mt.c.created_at,
                      mt.c.id.in_(answered).label("answered"))
            .select_from(mt.join(at, at.c.id == mt.c.author_id))
            .where(mt.c.story_id.in_(list(story_ids)), mt.c.muted.is_(False))
            .order_by(mt.c.created_at, mt.c.id))
        out: dict[int, list[StoryPost]] = {}
        for r in rows:
            out.setdefault(int(r.story_id), []).append(StoryPost(
                mention_id=int(r.id), network=str(r.network), handle=str(r.handle),
                followers=r.followers, text=str(r.text), url=str(r.url), status=str(r.status),
                created_at=r.created_at, answered=bool(r.answered)))
        return out

    def _summaries(self, conn: sa.Connection, story_ids: Sequence[int],
                   ) -> dict[int, StorySummary]:
        ids = list(set(story_ids))
        if not ids:
            return {}
        st = table(Story)
        reasons = {int(i): str(r) for i, r in conn.execute(
            sa.select(st.c.id, st.c.reason).where(st.c.id.in_(ids)))}
        return {sid: summarize(sid, posts, reasons.get(sid, ""))
                for sid, posts in self._story_posts(conn, ids).items() if len(posts) > 1}

    def story(self, *, story_id: int) -> tuple[StorySummary, list[StoryPost]]:
        """A story's summary and its posts, oldest first."""
        with self.engine.connect() as conn:
            posts = self._story_posts(conn, [story_id]).get(story_id, [])
            reason = conn.execute(sa.select(table(Story).c.reason)
                                  .where(table(Story).c.id == story_id)).scalar()
        if reason is None or not posts:
            raise NotFound(f"no story {story_id}")
        return summarize(story_id, posts, str(reason)), posts

    def story_counts(self) -> tuple[int, int]:
        """(stories, stories whose posts span more than one network)."""
        mt = table(Mention)
        q = (sa.select(mt.c.story_id, sa.func.count(sa.distinct(mt.c.network)))
             .where(mt.c.story_id.is_not(None)).group_by(mt.c.story_id))
        with self.engine.connect() as conn:
            spans = [int(n) for _, n in conn.execute(q)]
        return len(spans), sum(n > 1 for n in spans)

    def stories_between(self, brand_id: int, start: datetime, end: datetime, *,
                        limit: int = 3) -> list[StorySummary]:
        """The brand's stories with posts in [start, end), the biggest first (spike alerts)."""
        mt = table(Mention)
        with self.engine.connect() as conn:
            ids = [int(r[0]) for r in conn.execute(
                sa.select(mt.c.story_id).where(
                    mt.c.brand_id == brand_id, mt.c.story_id.is_not(None),
                    mt.c.created_at >= start, mt.c.created_at < end)
                .group_by(mt.c.story_id).order_by(sa.func.count().desc(), mt.c.story_id)
                .limit(limit))]
            found = self._summaries(conn, ids)
        return [found[i] for i in ids if i in found]


def summarize(story_id: int, posts: Sequence[StoryPost], reason: str) -> StorySummary:
    networks: dict[str, int] = {}
    for p in posts:
        networks[p.network] = networks.get(p.network, 0) + 1
    closed = (MentionStatus.RESOLVED.value, MentionStatus.IGNORED.value)
    return StorySummary(
        story_id=story_id, posts=len(posts),
        networks=tuple(sorted(networks.items(), key=lambda kv: (-kv[1], kv[0]))),
        newest=max(posts, key=lambda p: (p.created_at, p.mention_id)),
        most_reached=max(posts, key=lambda p: (p.followers or 0, -p.mention_id)),
        answered=sum(p.answered for p in posts),
        claimed=sum(p.status == MentionStatus.CLAIMED.value for p in posts),
        closed=sum(p.status in closed for p in posts),
        reason=reason,
    )


__all__ = ["StoryStore", "summarize"]
