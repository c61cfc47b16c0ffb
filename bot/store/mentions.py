"""Mentions: the ingest (dedupe lookups, one transaction per batch) and the reads."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col, select

from bot.domain import OPEN_STATUSES, DeliveryState, MentionStatus, is_urgent
from bot.errors import NotFound
from bot.models import Author, Delivery, Event, Mention, Route, table
from bot.quiet import route_quiet
from bot.store.base import handle_key
from bot.store.brands import is_noise, route_accepts
from bot.store.identities import IdentityStore
from bot.store.stories import StoryStore
from bot.store.views import MentionView, NewMention


class MentionStore(StoryStore, IdentityStore):
    """Writing mentions and their outbox rows; reading them back."""

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
        story_window: timedelta = timedelta(hours=24),
    ) -> list[int]:
        """Store mentions, their authors and their outbox rows in ONE transaction.

        `echoes` maps an existing mention id to how many reposts of its text were folded into it.
        Returns the new mention ids in input order. Mentions of muted authors are stored, marked
        muted and get no delivery. `card_budget` (brand id -> cards left) is set while a brand is
        flooding (bot.reporting.spikes): past the budget its deliveries are stored as "grouped",
        which the relay never sends; the spike alert counts them instead. A mention whose
        `story` hints match a mention of its brand seen within `story_window` (or one earlier
        in the batch) joins that mention's story (bot.store.stories); the stories' parent cards
        are marked for an edit. Authors that share a key are linked (bot.store.identities).
        """
        now = self.now()
        ids: list[int] = []
        budget = dict(card_budget or {})
        # Routes in their quiet hours now: until when (bot.quiet). Non-urgent cards to them
        # are stored held until then; the relay lists them in one catch-up notice.
        quiet: dict[int, datetime] = {}
        for rs in routes.values():
            for r in rs:
                hours = route_quiet(r.quiet_hours, r.quiet_timezone)
                until = hours.quiet_until(now) if hours is not None else None
                if until is not None:
                    quiet[id(r)] = until
        with self.engine.begin() as conn:
            authors = self._upsert_authors(conn, mentions, now)
            mt, dt, et = table(Mention), table(Delivery), table(Event)
            candidates = self._story_candidates(conn, mentions, since=now - story_window)
            touched: set[int] = set()
            for m in mentions:
                author_id, muted = authors[(m.network, handle_key(m.author_handle))]
                story_id = self._join_story(conn, candidates, m, now)
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
                        "needs_reply": m.needs_reply, "relevance": m.relevance,
                        "created_at": m.created_at, "seen_at": now,
                        "status": MentionStatus.NEW.value, "assignee": None, "muted": muted,
                        "story_id": story_id,
                    },
                ).scalar_one()
                ids.append(int(mention_id))
                self._remember_story_keys(conn, candidates, m, mention_id, story_id, now)
                if story_id is not None:
                    touched.add(story_id)
                state = DeliveryState.PENDING.value
                if m.brand_id in budget:
                    if budget[m.brand_id] > 0:
                        budget[m.brand_id] -= 1
                    else:
                        state = DeliveryState.GROUPED.value
                held = state == DeliveryState.PENDING.value and not is_urgent(m.priority)
                # A route's minimum relevance hides a probable false match from its channel:
                # stored, never carded, counted as noise in the digest (`list noise`).
                wanted = [] if muted else [
                    r for r in routes.get(m.brand_id, [])
                    if route_accepts(r, network=m.network, priority=m.priority)
                ]
                shown = [r for r in wanted if not is_noise(r, m.relevance)]
                deliveries = [
                    {
                        "mention_id": mention_id, "platform": r.platform, "channel": r.channel,
                        "state": DeliveryState.HELD.value if held and id(r) in quiet else state,
                        "attempts": 0,
                        "next_attempt_at": quiet[id(r)] if held and id(r) in quiet else now,
                        "lease_until": None, "last_error": None,
                        "message_ref": None, "needs_update": False, "created_at": now,
                        "sent_at": None,
                    }
                    for r in shown
                ]
                if deliveries:
                    conn.execute(dt.insert(), deliveries)
                conn.execute(
                    et.insert(),
                    {
                        "kind": "muted" if muted else "stored", "mention_id": mention_id,
                        "brand_id": m.brand_id, "actor": "pipeline", "at": now,
                        "detail": json.dumps({"channels": len(deliveries),
                                              "noise": len(wanted) - len(shown)}),
                    },
                )
            for mention_id, count in (echoes or {}).items():
                conn.execute(
                    mt.update().where(mt.c.id == mention_id).values(echoes=mt.c.echoes + count)
                )
            self._write_story_keys(conn, candidates)
            self._flag_story_parents(conn, touched)
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
        new: set[int] = set()
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
                new.add(int(new_id))
        self._link_author_keys(conn, {result[k][0]: m.author_keys for k, m in by_key.items()
                                      if m.author_keys}, new)
        return result

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

    def thread_context(self, *, network: str, external_id: str | None) -> list[str]:
        """The texts of the stored posts a post answers (`in_reply_to`, followed up to three
        steps), nearest first; the posts not stored are skipped."""
        texts: list[str] = []
        with self.session() as s:
            while external_id and len(texts) < 3:
                parent = s.exec(select(Mention).where(
                    Mention.network == network, Mention.external_id == external_id)).first()
                if parent is None:
                    break
                texts.append(parent.text)
                external_id = parent.in_reply_to
        return texts

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

    def list_noise(self, *, brand_id: int | None = None, limit: int = 20) -> list[MentionView]:
        """Mentions hidden as noise: below the minimum relevance of a route of their brand, so
        that route's channel got no card (`list noise`). Newest first, any status."""
        with self.session() as s:
            q = (select(Mention.id)
                 .join(Route, col(Route.brand_id) == col(Mention.brand_id))
                 .where(col(Mention.relevance).is_not(None),
                        col(Mention.relevance) < col(Route.min_relevance),
                        col(Mention.muted).is_(False))
                 .distinct())
            if brand_id is not None:
                q = q.where(Mention.brand_id == brand_id)
            ids = [i for i in s.exec(q.order_by(col(Mention.id).desc()).limit(limit)) if i]
            views = self._views(s, ids)
            return [views[i] for i in ids]

    def count_mentions(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(Mention)).scalar_one())
