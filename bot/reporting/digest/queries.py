"""The digest's read model: channels and their settings, the figures of a set of brands over a
few windows, the overdue list, the digest runs, and the CSV export's rows (tables of 0002_digest).

The digest's figures are counted in SQL; percentiles are taken in Python over the window's rows
(a few hundred per brand and day), because SQLite has no percentile function. Every window query
is bounded by `brand_id IN (...) AND created_at/at/sent_at BETWEEN ...` so that it runs on an
index (ix_mention_brand_created_cover, ix_event_brand_kind_at, ix_reply_sent_at,
ix_event_mention_kind_at).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.domain import ReplyState, Sentiment
from bot.models import BrandAccountFollowers, ChannelSetting, DigestRun, OnCall, SpikeAlert
from bot.reporting.digest.model import Channel, ChannelPrefs, OverdueRow, ResponseRow, Window
from bot.reporting.sla.queries import OPEN, SlaQueries
from bot.reporting.sla.rule import (
    FALLBACK_TARGET_MINUTES,
    SlaTargets,
    breached_before,
    default_target_minutes,
)
from bot.reporting.tables import (
    authors,
    brands,
    events,
    fetch_all,
    mentions,
    replies,
    routes,
    table,
)
from bot.store import NotFound
from bot.triage import COMPLAINT_NEEDS_REPLY

log = logging.getLogger(__name__)

# Staff actions that count as the team's first response to a relayed card.
STAFF_ACTIONS = ("claimed", "assigned", "replied", "resolved", "ignored")


class DigestQueries(SlaQueries):
    """Read the figures of a set of brands over a few windows; write the feature's own rows.
    The SLA targets and open mentions (SlaQueries) are part of it: the digest reports them."""

    # --- channels and their settings -----------------------------------------------------------

    def channels(self) -> list[Channel]:
        """Every chat channel that some route points at, with its brands."""
        q = (sa.select(routes.c.platform, routes.c.channel, brands.c.id, brands.c.name)
             .join(brands, brands.c.id == routes.c.brand_id)
             .order_by(routes.c.platform, routes.c.channel, brands.c.name))
        found: dict[tuple[str, str], list[tuple[int, str]]] = {}
        with self._connect() as conn:
            for platform, channel, bid, name in fetch_all(conn, q):
                found.setdefault((platform, channel), []).append((int(bid), str(name)))
        return [Channel(p, c, tuple(b for b, _ in v), tuple(n for _, n in v))
                for (p, c), v in found.items()]

    def channel(self, platform: str, channel: str) -> Channel:
        """One channel with its brands (by name), read with a filter rather than all routes."""
        q = (sa.select(brands.c.id, brands.c.name).join(routes, brands.c.id == routes.c.brand_id)
             .where(routes.c.platform == platform, routes.c.channel == channel)
             .order_by(brands.c.name))
        with self._connect() as conn:
            rows = fetch_all(conn, q)
        if not rows:
            raise NotFound(f"no brand is routed to {platform}:{channel}")
        return Channel(platform, channel, tuple(int(r[0]) for r in rows),
                       tuple(str(r[1]) for r in rows))

    def channel_since(self, platform: str, channel: str) -> datetime | None:
        """When the channel got its first route (the store logs route_set with sorted JSON)."""
        detail = events.c.detail
        q = (sa.select(sa.func.min(events.c.at))
             .where(events.c.kind == "route_set",
                    detail.contains(f'"channel": {json.dumps(channel, ensure_ascii=False)}'),
                    detail.contains(f'"platform": {json.dumps(platform, ensure_ascii=False)}')))
        with self._connect() as conn:
            return conn.execute(q).scalar()

    def prefs(self, platform: str, channel: str, *, timezone: str, digest_hour: int,
              business_hours: str | None) -> ChannelPrefs:
        """The channel's settings, the given defaults where it has none."""
        t = table(ChannelSetting)
        with self._connect() as conn:
            row = conn.execute(sa.select(t).where(t.c.platform == platform,
                                                  t.c.channel == channel)).first()
        if row is None:
            return ChannelPrefs(timezone, digest_hour, business_hours or None, True)
        return ChannelPrefs(
            row.timezone or timezone,
            row.digest_hour if row.digest_hour is not None else digest_hour,
            row.business_hours if row.business_hours is not None else (business_hours or None),
            bool(row.digest_enabled),
        )

    def set_prefs(self, platform: str, channel: str, **values: object) -> None:
        """Change some of a channel's settings (timezone, digest_hour, business_hours,
        digest_enabled); "" for business_hours means calendar hours."""
        t = table(ChannelSetting)
        now = self.store.now()
        with self.engine.begin() as conn:
            done = conn.execute(t.update().where(t.c.platform == platform, t.c.channel == channel)
                                .values(updated_at=now, **values)).rowcount
            if not done:
                row: dict[str, object] = {"platform": platform, "channel": channel,
                                          "timezone": None, "digest_hour": None,
                                          "business_hours": None, "digest_enabled": True,
                                          "updated_at": now}
                row.update(values)
                conn.execute(t.insert(), row)

    # --- the digest's figures ------------------------------------------------------------------

    def serial_plans(self) -> None:
        """No parallel workers for the rest of this transaction on PostgreSQL. A digest runs
        about twenty small statements on the indexes; a few of them (the UNION ALLs over the
        windows) are costed just above parallel_setup_cost, and starting the workers takes
        longer than the scans (about 10 ms against 1 to 2). SET LOCAL ends with the digest's
        transaction, so the connection goes back to the pool as it came."""
        if self.store.is_postgres:
            with self._connect() as conn:
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")

    def window_mentions(self, brand_ids: Sequence[int],
                        windows: Sequence[Window]) -> list[ResponseRow]:
        """Each unmuted mention of the windows (bucket = the window's index) with its counts,
        its first sent reply, relay and staff action: one statement, a UNION ALL of one range
        scan per window on the covering ix_mention_brand_created_cover, each mention joined to
        its events in one lookup of ix_event_mention_kind_at (mention_timeline). Volume,
        hourly bars and response figures are all counted from these rows."""
        with self._connect() as conn:
            return [ResponseRow(*r) for r in conn.execute(
                _window_mentions_q(len(windows)), _params(brand_ids, windows))]

    def triage_counts(self, brand_ids: Sequence[int], windows: Sequence[Window], *,
                      platform: str, channel: str) -> tuple[list[int], list[int]]:
        """Per window: complaints (negative mentions that need a reply, bot.triage) and the
        mentions hidden from this channel as noise (relevance below its route's minimum), in
        one statement. Complaints are looked up among the negative rows only (the covering
        index has the sentiment); noise is counted only where a route of the channel sets a
        minimum (an uncorrelated EXISTS: both databases test it once, before any scan)."""
        complaints = [0] * len(windows)
        noise = [0] * len(windows)
        params = _params(brand_ids, windows, platform=platform, channel=channel,
                         needs=COMPLAINT_NEEDS_REPLY, negative=Sentiment.NEGATIVE.value)
        with self._connect() as conn:
            for i, what, n in conn.execute(_triage_q(len(windows)), params):
                (noise if what else complaints)[int(i)] = int(n or 0)
        return complaints, noise

    def ratings(self, brand_ids: Sequence[int], windows: Sequence[Window],
                ) -> list[tuple[int, str, str, int, float]]:
        """(window index, network, app, rated reviews, average stars) per app and window, over
        the mentions with a rating (app-store reviews; muted ones left out), read from the
        partial index of rated mentions alone (ix_mention_rated, 0015_rated): one statement,
        a UNION ALL of one range per window."""
        with self._connect() as conn:
            return [(int(i), str(net), str(name), int(n), float(avg)) for i, net, name, n, avg
                    in conn.execute(_ratings_q(len(windows)), _params(brand_ids, windows))]

    def arrivals(self, brand_ids: Sequence[int], windows: Sequence[Window]) -> list[datetime]:
        """created_at of the mentions in any of the windows (staffing forecast): one
        statement, a UNION ALL of one range scan per window (on PostgreSQL without parallel
        workers: serial_plans)."""
        with self._connect() as conn:
            return list(conn.execute(_arrivals_q(len(windows)),
                                     _params(brand_ids, windows)).scalars())

    def top_authors(self, brand_ids: Sequence[int], window: Window,
                    limit: int = 5) -> list[tuple[str, str, int | None, int]]:
        """The authors of the window with the most followers: (handle, network, followers, n)."""
        n = sa.func.count().label("n")
        q = (sa.select(authors.c.handle, authors.c.network, authors.c.followers, n)
             .select_from(mentions.join(authors, authors.c.id == mentions.c.author_id))
             .where(mentions.c.brand_id.in_(list(brand_ids)), mentions.c.created_at >= window.start,
                    mentions.c.created_at < window.end, mentions.c.muted.is_(False))
             .group_by(authors.c.id, authors.c.handle, authors.c.network, authors.c.followers)
             .order_by(sa.nulls_last(authors.c.followers.desc()), n.desc(), authors.c.handle)
             .limit(limit))
        with self._connect() as conn:
            return [(str(h), str(nw), f, int(c)) for h, nw, f, c in fetch_all(conn, q)]

    def staff_counts(self, brand_ids: Sequence[int],
                     windows: Sequence[Window]) -> list[tuple[int, str, str, int]]:
        """(bucket, kind, actor, count) of replies sent, claims, assignments and resolves.
        Replies are counted by the time the network took them: the store logs every sent reply
        as a `replied` event (brand, actor = the reply's author, at = sent time). One
        statement, a UNION ALL of one scan per window on the covering index
        ix_event_brand_kind_at, without a join."""
        with self._connect() as conn:
            return [(int(b), str(k), str(a), int(n)) for b, k, a, n in conn.execute(
                _staff_counts_q(len(windows)), _params(brand_ids, windows))]

    def approval_waits(self, brand_ids: Sequence[int],
                       windows: Sequence[Window]) -> list[tuple[int, float]]:
        """(bucket, seconds from draft to approval) of each reply approved in a window (the
        `draft_approved` events, bot/store/drafts.py; the range scan of ix_event_brand_kind_at,
        the detail read from the few rows it finds)."""
        out: list[tuple[int, float]] = []
        with self._connect() as conn:
            for b, detail in conn.execute(_approvals_q(len(windows)),
                                          _params(brand_ids, windows)):
                try:
                    waited = json.loads(detail).get("waited_seconds")
                except (ValueError, AttributeError):
                    continue
                if isinstance(waited, int | float):
                    out.append((int(b), float(waited)))
        return out

    def oncall(self, brand_ids: Sequence[int]) -> list[OnCall]:
        """The escalation rota of these brands (bot.store.oncall), on the digest's connection."""
        t = table(OnCall)
        q = (sa.select(t).where(t.c.brand_id.in_(list(brand_ids)))
             .order_by(t.c.brand_id, t.c.level, t.c.platform, t.c.person))
        with self._connect() as conn:
            return [OnCall(**dict(r._mapping)) for r in conn.execute(q)]

    def overdue(self, brand_ids: Sequence[int], targets: SlaTargets, *, since: datetime,
                now: datetime, limit: int) -> tuple[list[OverdueRow], int]:
        """The oldest `limit` open mentions posted since `since` that have no sent reply and
        whose SLA target passed before `now`, with their details, and how many there are in
        all. The target is applied in SQL (created_at before now minus the target of the
        brand and network), so only the shown rows travel; the sent reply is a correlated
        lookup on ix_reply_mention_id (an anti-join makes PostgreSQL hash the reply table)."""
        ids = list(brand_ids)
        overrides = tuple(sorted((k, m) for k, m in targets.overrides.items() if k[0] in ids))
        defaults = tuple(default_target_minutes().items())
        minutes = {m for _, m in overrides} | {m for _, m in defaults} | {
            FALLBACK_TARGET_MINUTES}
        params: dict[str, object] = {
            f"cut{m}": breached_before(now, timedelta(minutes=m)) for m in minutes}
        params.update(ids=ids, since=since, now=now, limit=limit)
        with self._connect() as conn:
            rows = conn.execute(_overdue_q(overrides, defaults), params).all()
        total = int(rows[0][7]) if rows else 0
        # A mention without its author row is counted but not listed (as before: the details
        # were an inner join).
        return [OverdueRow(int(r[0]), int(r[1]), str(r[2]), r[3], r[4], str(r[5]), str(r[6]))
                for r in rows if r[6] is not None], total

    def handling_times(self, brand_ids: Sequence[int], window: Window) -> list[float]:
        """Seconds from the first claim of a mention to its first reply or resolve after it,
        for the mentions first claimed in the window. The difference is taken in SQL, so that
        thousands of rows come back as plain numbers."""
        with self._connect() as conn:
            return [float(v) for v in conn.execute(_handling_q(self.store.is_postgres),
                                                   _params(brand_ids, [window])).scalars()
                    if v is not None]

    def spikes(self, brand_ids: Sequence[int], window: Window) -> list[Any]:
        """Spike alerts whose hour ended in the window, one per brand and hour."""
        t = table(SpikeAlert)
        q = (sa.select(t.c.brand_id, sa.func.min(t.c.kind), t.c.window_start, t.c.window_end,
                       sa.func.max(t.c.count), sa.func.max(t.c.negative),
                       sa.func.max(t.c.expected), sa.func.max(t.c.negative_share))
             .where(t.c.brand_id.in_(list(brand_ids)), t.c.window_end >= window.start,
                    t.c.window_end < window.end)
             .group_by(t.c.brand_id, t.c.window_start, t.c.window_end)
             .order_by(t.c.window_end))
        with self._connect() as conn:
            return fetch_all(conn, q)

    def followers(self, brand_ids: Sequence[int], first: date,
                  last: date) -> list[tuple[int, str, str, date, int]]:
        t = table(BrandAccountFollowers)
        q = (sa.select(t.c.brand_id, t.c.network, t.c.handle, t.c.day, t.c.followers)
             .where(t.c.brand_id.in_(list(brand_ids)), t.c.day >= first, t.c.day <= last)
             .order_by(t.c.day))
        with self._connect() as conn:
            return [(int(b), str(n), str(h), d, int(f)) for b, n, h, d, f in fetch_all(conn, q)]

    def brands_created(self, brand_ids: Sequence[int]) -> datetime | None:
        q = sa.select(sa.func.min(brands.c.created_at)).where(brands.c.id.in_(list(brand_ids)))
        with self._connect() as conn:
            return conn.execute(q).scalar()

    # --- digest runs: posted once per channel and day ----------------------------------------

    def claim_digest(self, platform: str, channel: str, day: date, *,
                     max_attempts: int = 3) -> int | None:
        """Take the right to post this channel's digest of `day`: insert the run row (state
        sending) BEFORE anything is sent. Returns its id, or None when another runner has it,
        has posted it, or it failed too often. A failed run (the chat refused it, so it was
        certainly not posted) is taken again with a conditional update."""
        t = table(DigestRun)
        now = self.store.now()
        try:
            with self.engine.begin() as conn:
                return int(conn.execute(t.insert().returning(t.c.id), {
                    "platform": platform, "channel": channel, "day": day, "state": "sending",
                    "attempts": 1, "started_at": now}).scalar_one())
        except sa.exc.IntegrityError:
            pass
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(t.c.id, t.c.state, t.c.attempts).where(
                t.c.platform == platform, t.c.channel == channel, t.c.day == day)).first()
            if row is None or row.state != "failed" or row.attempts >= max_attempts:
                return None
            taken = conn.execute(t.update().where(t.c.id == row.id, t.c.state == "failed",
                                                  t.c.attempts == row.attempts)
                                 .values(state="sending", attempts=row.attempts + 1,
                                         started_at=now, error=None)).rowcount
            return int(row.id) if taken else None

    def digest_sent(self, run_id: int, message_ref: str) -> None:
        t = table(DigestRun)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == run_id).values(
                state="sent", posted_at=self.store.now(), message_ref=message_ref[:300]))

    def digest_failed(self, run_id: int, error: str) -> None:
        t = table(DigestRun)
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == run_id).values(state="failed",
                                                                   error=error[:2000]))

    def digest_runs(self, platform: str | None = None) -> list[DigestRun]:
        t = table(DigestRun)
        q = sa.select(t).order_by(t.c.id)
        if platform is not None:
            q = q.where(t.c.platform == platform)
        with self._connect() as conn:
            return [DigestRun(**r._mapping) for r in fetch_all(conn, q)]

    # --- the export: mentions with their response times -------------------------------------

    def export_batch(self, start: datetime, end: datetime, *, after: int,
                     limit: int) -> list[Any]:
        """Up to `limit` mentions posted in [start, end) with an id above `after`, in id order:
        (id, brand, network, url, author handle, created_at, seen_at, sentiment, priority,
        status, assignee, first reply sent, relayed, first staff action). Keyset batches, so
        that an export of any size reads in flat memory."""
        q = (sa.select(mentions.c.id, brands.c.name, mentions.c.network, mentions.c.url,
                       authors.c.handle, mentions.c.created_at, mentions.c.seen_at,
                       mentions.c.sentiment, mentions.c.priority, mentions.c.status,
                       mentions.c.assignee, *mention_timeline())
             .select_from(with_timeline()
                          .join(brands, brands.c.id == mentions.c.brand_id)
                          .join(authors, authors.c.id == mentions.c.author_id))
             .where(mentions.c.created_at >= start, mentions.c.created_at < end,
                    mentions.c.id > after)
             .group_by(mentions.c.id, brands.c.name, authors.c.handle)
             .order_by(mentions.c.id).limit(limit))
        with self._connect() as conn:
            return fetch_all(conn, q)

    def count_posted(self, start: datetime, end: datetime) -> int:
        """How many mentions were posted in [start, end) (the export's progress bar)."""
        q = sa.select(sa.func.count()).where(mentions.c.created_at >= start,
                                             mentions.c.created_at < end)
        with self._connect() as conn:
            return int(conn.execute(q).scalar_one())


# --- the window statements, built once per number of windows ----------------------------------
# Bound by name: `ids` (the brands, an expanding IN), `s0`, `e0`, `s1`, ... (the windows);
# _params gives them. Building a statement costs about as much as running it on the indexes,
# and a digest runs each of them once: they are built on first use and kept.


def _params(brand_ids: Sequence[int], windows: Sequence[Window],
            **more: object) -> dict[str, object]:
    params: dict[str, object] = {"ids": list(brand_ids), **more}
    for i, w in enumerate(windows):
        params[f"s{i}"], params[f"e{i}"] = w.start, w.end
    return params


def _brands_in(column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    return column.in_(sa.bindparam("ids", expanding=True))


def _within(column: sa.ColumnElement[datetime], i: int) -> sa.ColumnElement[bool]:
    """The column in window i: start <= column < end."""
    return sa.and_(column >= sa.bindparam(f"s{i}"), column < sa.bindparam(f"e{i}"))


def _posted(i: int) -> sa.ColumnElement[bool]:
    """An unmuted mention of the brands posted in window i (a range of the covering indexes
    that lead with brand_id, created_at)."""
    return sa.and_(_brands_in(mentions.c.brand_id), _within(mentions.c.created_at, i),
                   mentions.c.muted.is_(False))


@functools.cache
def _window_mentions_q(n: int) -> sa.Executable:
    return _union([
        sa.select(mentions.c.id, _bucket(i), mentions.c.brand_id, mentions.c.network,
                  mentions.c.created_at, mentions.c.status, mentions.c.sentiment,
                  mentions.c.likes, mentions.c.reposts, *mention_timeline())
        .select_from(with_timeline()).where(_posted(i)).group_by(mentions.c.id)
        for i in range(n)])


@functools.cache
def _triage_q(n: int) -> sa.Executable:
    needs = sa.func.sum(sa.case((mentions.c.needs_reply >= sa.bindparam("needs"), 1), else_=0))
    ours = sa.and_(routes.c.platform == sa.bindparam("platform"),
                   routes.c.channel == sa.bindparam("channel"))
    strict = sa.exists().where(ours, routes.c.min_relevance > 0)
    complaints: list[Any] = [
        sa.select(_bucket(i), _bucket(0, "what"), needs)
        .where(_posted(i), mentions.c.sentiment == sa.bindparam("negative"))
        for i in range(n)]
    noise: list[Any] = [
        sa.select(_bucket(i), _bucket(1, "what"), sa.func.count())
        .select_from(mentions.join(routes, routes.c.brand_id == mentions.c.brand_id))
        .where(strict, ours, _posted(i), mentions.c.relevance < routes.c.min_relevance)
        for i in range(n)]
    return _union(complaints + noise)


@functools.cache
def _ratings_q(n: int) -> sa.Executable:
    app = sa.func.coalesce(mentions.c.app, "")
    return _union([
        sa.select(_bucket(i), mentions.c.network, app, sa.func.count(),
                  sa.func.avg(mentions.c.rating))
        .where(_posted(i), mentions.c.rating.is_not(None))
        .group_by(mentions.c.network, app)
        for i in range(n)])


@functools.cache
def _arrivals_q(n: int) -> sa.Executable:
    return _union([sa.select(mentions.c.created_at).where(_posted(i)) for i in range(n)])


@functools.cache
def _staff_counts_q(n: int) -> sa.Executable:
    return _union([
        sa.select(_bucket(i), events.c.kind, events.c.actor, sa.func.count())
        .where(_brands_in(events.c.brand_id),
               events.c.kind.in_(("replied", "claimed", "assigned", "resolved")),
               _within(events.c.at, i))
        .group_by(events.c.kind, events.c.actor)
        for i in range(n)])


@functools.cache
def _approvals_q(n: int) -> sa.Executable:
    return _union([
        sa.select(_bucket(i), events.c.detail)
        .where(_brands_in(events.c.brand_id), events.c.kind == "draft_approved",
               _within(events.c.at, i))
        for i in range(n)])


@functools.cache
def _overdue_q(overrides: tuple[tuple[tuple[int, str], int], ...],
               defaults: tuple[tuple[str, int], ...]) -> sa.Executable:
    """DigestQueries.overdue's statement for these targets; the instants are bound by the
    target's minutes (`cut60` = now - 60 minutes: the SLA rule turned around for SQL)."""
    def cut(minutes: int) -> sa.BindParameter[Any]:
        return sa.bindparam(f"cut{minutes}", type_=mentions.c.created_at.type)

    whens: list[tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]] = [
        ((mentions.c.brand_id == b) & (mentions.c.network == n), cut(m))
        for (b, n), m in overrides]
    whens += [(mentions.c.network == n, cut(m)) for n, m in defaults]
    cutoff = sa.case(*whens, else_=cut(FALLBACK_TARGET_MINUTES))
    sent = (sa.select(sa.func.min(replies.c.id))
            .where(replies.c.mention_id == mentions.c.id,
                   replies.c.state == ReplyState.SENT.value)
            .scalar_subquery())
    # created_at < now is implied by the cutoff (targets are not negative) and bounds the
    # index range: mentions posted after `now` are never read. The inner query reads only
    # columns of ix_mention_brand_status_created_cover, so the late mentions are found and
    # counted in the index; the table row (and the author) is read for the shown rows only.
    late = (sa.select(mentions.c.id, mentions.c.created_at,
                      sa.func.count().over().label("total"))
            .where(_brands_in(mentions.c.brand_id), mentions.c.status.in_(OPEN),
                   mentions.c.created_at >= sa.bindparam("since"),
                   mentions.c.created_at < sa.bindparam("now"),
                   mentions.c.muted.is_(False), mentions.c.created_at < cutoff,
                   mentions.c.deleted_at.is_(None), sent.is_(None))
            .order_by(mentions.c.created_at, mentions.c.id)
            .limit(sa.bindparam("limit", type_=sa.Integer)).subquery())
    m = mentions.alias("m")
    return (sa.select(m.c.id, m.c.brand_id, m.c.network, m.c.created_at, m.c.assignee,
                      m.c.url, authors.c.handle, late.c.total)
            .select_from(late.join(m, m.c.id == late.c.id)
                         .outerjoin(authors, authors.c.id == m.c.author_id))
            .order_by(late.c.created_at, late.c.id))


@functools.cache
def _handling_q(postgres: bool) -> sa.Executable:
    claims = (sa.select(events.c.mention_id, sa.func.min(events.c.at).label("claimed"))
              .where(_brands_in(events.c.brand_id), events.c.kind.in_(("claimed", "assigned")),
                     _within(events.c.at, 0))
              .group_by(events.c.mention_id).subquery())
    e2 = events.alias("e2")
    done = (sa.select(sa.func.min(e2.c.at))
            .where(e2.c.mention_id == claims.c.mention_id,
                   e2.c.kind.in_(("replied", "resolved")), e2.c.at >= claims.c.claimed)
            .scalar_subquery())
    if postgres:
        seconds: sa.ColumnElement[Any] = sa.extract("epoch", done - claims.c.claimed)
    else:  # SQLite keeps UTC text that julianday() reads
        seconds = (sa.func.julianday(done) - sa.func.julianday(claims.c.claimed)) * 86400.0
    return sa.select(seconds)


def _bucket(i: int, name: str = "bucket") -> sa.ColumnElement[int]:
    """The window's index (or another small number) as a constant column (inlined: no
    parameter per part)."""
    return sa.literal_column(str(int(i)), sa.Integer).label(name)


# The events a mention's timeline is read from: relayed, the staff actions, replied.
TIMELINE_KINDS = ("relayed", *STAFF_ACTIONS)


def with_timeline() -> sa.Join:
    """`mentions` joined to its timeline events (one range of ix_event_mention_kind_at per
    mention); the query groups by mention.id and selects mention_timeline()."""
    return mentions.outerjoin(events, (events.c.mention_id == mentions.c.id)
                              & events.c.kind.in_(TIMELINE_KINDS))


def mention_timeline() -> tuple[sa.ColumnElement[Any], sa.ColumnElement[Any],
                                sa.ColumnElement[Any]]:
    """Per mention (grouped, over with_timeline's events): when its first reply was sent (the
    `replied` event, logged at the reply's sent_at), when it was relayed and when staff first
    acted on it. The digest and the CSV export both read these three times."""
    at, kind = events.c.at, events.c.kind
    return (sa.func.min(sa.case((kind == "replied", at))),
            sa.func.min(sa.case((kind == "relayed", at))),
            sa.func.min(sa.case((kind.in_(STAFF_ACTIONS), at))))


def _union(parts: Sequence[sa.Select[Any]]) -> sa.Executable:
    """One statement for several windows: UNION ALL of per-window range queries, so that each
    part keeps its own index range scan (an OR of ranges would not on SQLite)."""
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)

