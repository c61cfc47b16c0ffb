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
from bot.store.brands import is_noise, noise_everywhere, route_accepts
from bot.store.identities import IdentityStore
from bot.store.stories import StoryStore
from bot.store.views import MentionView, NewMention


class MentionStore(StoryStore, IdentityStore):
    """Writing mentions and their outbox rows; reading them back."""

    def known_mentions(
        self, keys: Iterable[tuple[int, str, str]]
    ) -> set[tuple[int, str, str]]:
        """The (brand id, network, external id) keys among `keys` stored already.

        One query for a whole batch, on the unique key's index: brand, network and id each
        narrowed by IN (both databases walk the index for each combination); the rows that
        combine the lists differently are dropped here."""
        keys = set(keys)
        if not keys:
            return set()
        t = table(Mention)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.brand_id, t.c.network, t.c.external_id).where(
                    t.c.brand_id.in_({k[0] for k in keys}),
                    t.c.network.in_({k[1] for k in keys}),
                    t.c.external_id.in_({k[2] for k in keys}),
                )
            )
            return {key for r in rows if (key := (int(r[0]), str(r[1]), str(r[2]))) in keys}

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
        with self.engine.connect() as conn:
            # brand_id IN (...) lets both databases use the (brand_id, text_hash) index; with
            # text_hash alone they read the whole table.
            rows = conn.execute(
                sa.select(t.c.brand_id, t.c.text_hash, sa.func.min(t.c.id))
                .where(t.c.brand_id.in_({b for b, _ in pairs}),
                       t.c.text_hash.in_({h for _, h in pairs}), t.c.seen_at >= since)
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
        which the relay never sends; the spike alert counts them instead. A route in its quiet
        hours (bot.quiet) gets a non-urgent mention's delivery held until the quiet period ends;
        a route whose minimum relevance the mention is below gets no delivery (noise, counted in
        the stored event); hidden so from every route that takes it, it is stored closed
        ("ignored", bot.store.brands.noise_everywhere). A mention whose `story` hints match a
        mention of its brand seen within `story_window` (or one earlier in the batch) joins
        that mention's story (bot.store.stories); the stories' parent cards are marked for an
        edit. Authors that share a key are linked (bot.store.identities).

        Each table gets one statement per batch, not one per mention: a multi-row INSERT ...
        RETURNING for the mentions (ids matched back by their unique key) and one executemany
        each for the deliveries, the events, the folded reposts, the story keys and the
        mentions that joined a story (SQLAlchemy's "insertmanyvalues"). Joining a story is
        decided after the insert, in the batch's order, because a mention may join one earlier
        in the same batch; only a story made or extended, and stored mentions pulled into one,
        cost statements of their own.
        """
        if not mentions and not echoes:
            return []
        now = self.now()
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
        mt, dt, et = table(Mention), table(Delivery), table(Event)
        with self.engine.begin() as conn:
            authors = self._upsert_authors(conn, mentions, now)
            # Looked up before the batch is inserted: the batch's own posts are found through
            # the candidates' memory (_remember_story_keys), in order, never through the table.
            candidates = self._story_candidates(conn, mentions, since=now - story_window)
            rows: list[dict[str, object]] = []
            muted_flags: list[bool] = []
            for m in mentions:
                author_id, muted = authors[(m.network, handle_key(m.author_handle))]
                muted_flags.append(muted)
                # Hidden as noise from every channel that would take it: closed at once.
                closed = not muted and noise_everywhere(
                    routes.get(m.brand_id, ()), network=m.network, priority=m.priority,
                    relevance=m.relevance)
                rows.append({
                    "brand_id": m.brand_id, "network": m.network,
                    "external_id": m.external_id, "url": m.url,
                    "canonical_url": m.canonical_url, "author_id": author_id,
                    "text": m.text, "text_hash": m.text_hash, "language": m.language,
                    "sentiment": m.sentiment, "sentiment_score": m.sentiment_score,
                    "priority": m.priority, "likes": m.likes, "reposts": m.reposts,
                    "replies": m.replies, "in_reply_to": m.in_reply_to, "echoes": m.echoes,
                    "needs_reply": m.needs_reply, "relevance": m.relevance,
                    "rating": m.rating, "app": m.app,
                    "created_at": m.created_at, "seen_at": now,
                    "status": (MentionStatus.IGNORED if closed else MentionStatus.NEW).value,
                    "assignee": None, "muted": muted,
                    "story_id": None,  # set below, once the batch's ids are known
                })
            ids: list[int] = []
            if rows:
                # Each row's id by its unique key (brand, network, external id), not by the
                # order RETURNING gives: SQLAlchemy sends a sorted RETURNING to SQLite one row
                # at a time (sort_by_parameter_order), an unsorted one as a single statement.
                result = conn.execute(
                    mt.insert().returning(mt.c.id, mt.c.brand_id, mt.c.network,
                                          mt.c.external_id), rows
                )
                by_key = {(int(r[1]), str(r[2]), str(r[3])): int(r[0]) for r in result}
                ids = [by_key[(m.brand_id, m.network, m.external_id)] for m in mentions]
            touched: set[int] = set()
            joined: list[dict[str, object]] = []
            for m, mention_id in zip(mentions, ids, strict=True):
                story_id = self._join_story(conn, candidates, m, now)
                self._remember_story_keys(conn, candidates, m, mention_id, story_id, now)
                if story_id is not None:
                    touched.add(story_id)
                    joined.append({"joined_id": mention_id, "joined_story": story_id})
            if joined:
                conn.execute(
                    mt.update().where(mt.c.id == sa.bindparam("joined_id"))
                    .values(story_id=sa.bindparam("joined_story")),
                    joined,
                )
            deliveries: list[dict[str, object]] = []
            events: list[dict[str, object]] = []
            pending, grouped = DeliveryState.PENDING.value, DeliveryState.GROUPED.value
            for m, mention_id, muted in zip(mentions, ids, muted_flags, strict=True):
                state = pending
                if m.brand_id in budget:
                    if budget[m.brand_id] > 0:
                        budget[m.brand_id] -= 1
                    else:
                        state = grouped
                held = state == pending and not is_urgent(m.priority)
                channels = noise = 0
                if not muted:
                    for r in routes.get(m.brand_id, ()):
                        if not route_accepts(r, network=m.network, priority=m.priority):
                            continue
                        # A route's minimum relevance hides a probable false match from its
                        # channel: stored, never carded, counted as noise in the digest.
                        if is_noise(r, m.relevance):
                            noise += 1
                            continue
                        channels += 1
                        until = quiet.get(id(r)) if held else None
                        deliveries.append({
                            "mention_id": mention_id, "platform": r.platform,
                            "channel": r.channel,
                            "state": DeliveryState.HELD.value if until is not None else state,
                            "attempts": 0,
                            "next_attempt_at": until if until is not None else now,
                            "lease_until": None, "last_error": None,
                            "message_ref": None, "needs_update": False, "created_at": now,
                            "sent_at": None,
                        })
                events.append({
                    "kind": "muted" if muted else "stored", "mention_id": mention_id,
                    "brand_id": m.brand_id, "actor": "pipeline", "at": now,
                    "detail": json.dumps({"channels": channels, "noise": noise}),
                })
            if deliveries:
                conn.execute(dt.insert(), deliveries)
            if events:
                conn.execute(et.insert(), events)
            if echoes:
                conn.execute(
                    mt.update().where(mt.c.id == sa.bindparam("echo_id"))
                    .values(echoes=mt.c.echoes + sa.bindparam("echo_count")),
                    [{"echo_id": i, "echo_count": n} for i, n in sorted(echoes.items())],
                )
            self._write_story_keys(conn, candidates)
            self._flag_story_parents(conn, touched)
        return ids

    def _upsert_authors(
        self, conn: sa.Connection, mentions: Sequence[NewMention], now: datetime
    ) -> dict[tuple[str, str], tuple[int, bool]]:
        """The (id, muted) of each mention's author, by (network, handle key): known authors
        read in one query and updated in one executemany, new ones inserted in one statement;
        then the authors' keys are stored and authors that share one linked
        (bot.store.identities)."""
        t = table(Author)
        by_key: dict[tuple[str, str], NewMention] = {}
        counts: dict[tuple[str, str], int] = {}
        for m in mentions:
            key = (m.network, handle_key(m.author_handle))
            by_key[key] = m  # the newest post's name and follower count win
            counts[key] = counts.get(key, 0) + 1
        result: dict[tuple[str, str], tuple[int, bool]] = {}
        if not by_key:
            return result
        rows = conn.execute(
            sa.select(t.c.id, t.c.network, t.c.handle_key, t.c.muted).where(
                t.c.network.in_({k[0] for k in by_key}),
                t.c.handle_key.in_({k[1] for k in by_key}),
            )
        )
        for row in rows:
            key = (row.network, row.handle_key)
            if key in by_key:
                result[key] = (int(row.id), bool(row.muted))
        updates = [
            {"author_id": result[key][0], "add": counts[key], "new_name": m.author_name or None,
             "new_followers": m.author_followers}
            for key, m in by_key.items() if key in result
        ]
        if updates:
            conn.execute(
                t.update().where(t.c.id == sa.bindparam("author_id")).values(
                    mentions_count=t.c.mentions_count + sa.bindparam("add"),
                    name=sa.func.coalesce(sa.bindparam("new_name", type_=t.c.name.type), t.c.name),
                    followers=sa.func.coalesce(
                        sa.bindparam("new_followers", type_=t.c.followers.type), t.c.followers),
                ),
                updates,
            )
        new: set[int] = set()
        fresh = [key for key in by_key if key not in result]
        if fresh:
            inserted = conn.execute(  # ids by (network, handle key): see write_mentions
                t.insert().returning(t.c.id, t.c.network, t.c.handle_key),
                [
                    {
                        "network": key[0], "handle": by_key[key].author_handle.lstrip("@"),
                        "handle_key": key[1], "name": by_key[key].author_name,
                        "followers": by_key[key].author_followers, "first_seen": now,
                        "mentions_count": counts[key], "answered_count": 0, "muted": False,
                    }
                    for key in fresh
                ],
            )
            made = {(str(r[1]), str(r[2])): int(r[0]) for r in inserted}
            for key in fresh:
                result[key] = (made[key], False)
                new.add(made[key])
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
