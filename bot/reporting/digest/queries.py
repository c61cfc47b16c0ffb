"""Data access for the digest, the SLA clocks and the spike alerts (tables of 0002_digest).

Portable SQLAlchemy Core, the same on SQLite and PostgreSQL. The digest's figures are counted in
SQL; percentiles are taken in Python over the window's rows (a few hundred per brand and day),
because SQLite has no percentile function. Every window query is bounded by
`brand_id IN (...) AND created_at/at/sent_at BETWEEN ...` so that it runs on an index
(ix_mention_brand_created, ix_event_brand_at, ix_reply_sent_at, ix_event_mention_kind_at).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from bot.domain import MentionStatus, ReplyState
from bot.models import (
    Author,
    Brand,
    BrandAccountFollowers,
    ChannelSetting,
    DigestRun,
    Event,
    Mention,
    Reply,
    Route,
    SlaTarget,
    SpikeAlert,
)
from bot.reporting.sla.rule import DEFAULT_TARGET_MINUTES, FALLBACK_TARGET_MINUTES, SlaTargets
from bot.store import NotFound, Store

log = logging.getLogger(__name__)


def table(model: type[SQLModel]) -> sa.Table:
    """A model's Core table (typed: SQLModel does not declare `__table__`)."""
    t = model.__table__  # type: ignore[attr-defined]
    assert isinstance(t, sa.Table)
    return t


M = table(Mention)
A = table(Author)
R = table(Reply)
E = table(Event)
RT = table(Route)
B = table(Brand)

# Staff actions that count as the team's first response to a relayed card.
STAFF_ACTIONS = ("claimed", "assigned", "replied", "resolved", "ignored")
OPEN = (MentionStatus.NEW.value, MentionStatus.CLAIMED.value)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Channel:
    platform: str
    channel: str
    brand_ids: tuple[int, ...]
    brand_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One mention of a window with its counts and the times its first answers came."""

    mention_id: int
    bucket: int
    brand_id: int
    network: str
    created_at: datetime
    status: str
    sentiment: str
    likes: int | None
    reposts: int | None
    first_reply: datetime | None
    relayed_at: datetime | None
    first_action: datetime | None


@dataclass(frozen=True, slots=True)
class OverdueRow:
    """An open, unanswered mention past its SLA target, with what the digest shows of it."""

    mention_id: int
    brand_id: int
    network: str
    created_at: datetime
    assignee: str | None
    url: str
    author_handle: str


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    timezone: str
    digest_hour: int
    business_hours: str | None
    digest_enabled: bool


class DigestQueries:
    """Read the figures of a set of brands over a few windows; write the feature's own rows."""

    def __init__(self, store: Store, conn: sa.Connection | None = None) -> None:
        self.store = store
        self.engine = store.engine
        self._conn = conn

    def bound(self, conn: sa.Connection) -> DigestQueries:
        """These queries on one open connection: a digest reads all its figures through one
        checkout (on PostgreSQL each checkout costs a ping, a BEGIN and a ROLLBACK)."""
        return DigestQueries(self.store, conn)

    @contextmanager
    def _connect(self) -> Iterator[sa.Connection]:
        if self._conn is not None:
            yield self._conn
        else:
            with self.engine.connect() as conn:
                yield conn

    # --- channels and their settings -----------------------------------------------------------

    def channels(self) -> list[Channel]:
        """Every chat channel that some route points at, with its brands."""
        q = (sa.select(RT.c.platform, RT.c.channel, B.c.id, B.c.name)
             .join(B, B.c.id == RT.c.brand_id).order_by(RT.c.platform, RT.c.channel, B.c.name))
        found: dict[tuple[str, str], list[tuple[int, str]]] = {}
        with self._connect() as conn:
            for platform, channel, bid, name in _rows(conn, q):
                found.setdefault((platform, channel), []).append((int(bid), str(name)))
        return [Channel(p, c, tuple(b for b, _ in v), tuple(n for _, n in v))
                for (p, c), v in found.items()]

    def channel(self, platform: str, channel: str) -> Channel:
        """One channel with its brands (by name), read with a filter rather than all routes."""
        q = (sa.select(B.c.id, B.c.name).join(RT, B.c.id == RT.c.brand_id)
             .where(RT.c.platform == platform, RT.c.channel == channel).order_by(B.c.name))
        with self._connect() as conn:
            rows = _rows(conn, q)
        if not rows:
            raise NotFound(f"no brand is routed to {platform}:{channel}")
        return Channel(platform, channel, tuple(int(r[0]) for r in rows),
                       tuple(str(r[1]) for r in rows))

    def channel_since(self, platform: str, channel: str) -> datetime | None:
        """When the channel got its first route (the store logs route_set with sorted JSON)."""
        q = (sa.select(sa.func.min(E.c.at))
             .where(E.c.kind == "route_set",
                    E.c.detail.contains(f'"channel": {json.dumps(channel, ensure_ascii=False)}'),
                    E.c.detail.contains(f'"platform": {json.dumps(platform, ensure_ascii=False)}')))
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

    # --- SLA targets ---------------------------------------------------------------------------

    def sla_targets(self, brand_ids: Sequence[int] | None = None) -> SlaTargets:
        t = table(SlaTarget)
        q = sa.select(t.c.brand_id, t.c.network, t.c.minutes)
        if brand_ids is not None:
            q = q.where(t.c.brand_id.in_(list(brand_ids)))
        with self._connect() as conn:
            return SlaTargets({(int(b), str(n)): int(m) for b, n, m in _rows(conn, q)})

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
            conn.execute(E.insert(), {"kind": "sla_set", "mention_id": None, "brand_id": b.id,
                                      "actor": actor, "at": now,
                                      "detail": _json({"network": network,
                                                       "minutes": minutes})})
        return b

    # --- the digest's figures ------------------------------------------------------------------

    def window_mentions(self, brand_ids: Sequence[int],
                        windows: Sequence[Window]) -> list[ResponseRow]:
        """Each unmuted mention of the windows (bucket = the window's index) with its counts,
        its first sent reply, relay and staff action: one statement, a UNION ALL of one range
        scan per window on ix_mention_brand_created. Volume, hourly bars and response figures
        are all counted from these rows."""
        first_reply, relayed, acted = mention_timeline()
        q = _union([
            sa.select(M.c.id, _bucket(i), M.c.brand_id, M.c.network, M.c.created_at,
                      M.c.status, M.c.sentiment, M.c.likes, M.c.reposts,
                      first_reply, relayed, acted)
            .where(M.c.brand_id.in_(list(brand_ids)), M.c.created_at >= w.start,
                   M.c.created_at < w.end, M.c.muted.is_(False))
            for i, w in enumerate(windows)])
        with self._connect() as conn:
            return [ResponseRow(int(r[0]), int(r[1]), int(r[2]), str(r[3]), r[4], str(r[5]),
                                str(r[6]), r[7], r[8], r[9], r[10], r[11])
                    for r in _rows(conn, q)]

    def arrivals(self, brand_ids: Sequence[int], windows: Sequence[Window]) -> list[datetime]:
        """created_at of the mentions in any of the windows (staffing forecast). One small
        statement per window on the shared connection, not a UNION ALL: the four together are
        costed above parallel_setup_cost and PostgreSQL starts parallel workers for them, which
        takes longer than the scans (about 10 ms against 1 ms)."""
        out: list[datetime] = []
        with self._connect() as conn:
            for w in windows:
                q = (sa.select(M.c.created_at)
                     .where(M.c.brand_id.in_(list(brand_ids)), M.c.created_at >= w.start,
                            M.c.created_at < w.end, M.c.muted.is_(False)))
                out += [r[0] for r in _rows(conn, q)]
        return out

    def top_authors(self, brand_ids: Sequence[int], window: Window,
                    limit: int = 5) -> list[tuple[str, str, int | None, int]]:
        """The authors of the window with the most followers: (handle, network, followers, n)."""
        n = sa.func.count().label("n")
        q = (sa.select(A.c.handle, A.c.network, A.c.followers, n)
             .select_from(M.join(A, A.c.id == M.c.author_id))
             .where(M.c.brand_id.in_(list(brand_ids)), M.c.created_at >= window.start,
                    M.c.created_at < window.end, M.c.muted.is_(False))
             .group_by(A.c.id, A.c.handle, A.c.network, A.c.followers)
             .order_by(sa.nulls_last(A.c.followers.desc()), n.desc(), A.c.handle)
             .limit(limit))
        with self._connect() as conn:
            return [(str(h), str(nw), f, int(c)) for h, nw, f, c in _rows(conn, q)]

    def staff_counts(self, brand_ids: Sequence[int],
                     windows: Sequence[Window]) -> list[tuple[int, str, str, int]]:
        """(bucket, kind, actor, count) of replies sent, claims, assignments and resolves.
        Replies are counted by the time the network took them: the store logs every sent reply
        as a `replied` event (brand, actor = the reply's author, at = sent time). One
        statement, a UNION ALL of one scan per window on the covering index
        ix_event_brand_kind_at, without a join."""
        q = _union([
            sa.select(_bucket(i), E.c.kind, E.c.actor, sa.func.count())
            .where(E.c.brand_id.in_(list(brand_ids)),
                   E.c.kind.in_(("replied", "claimed", "assigned", "resolved")),
                   E.c.at >= w.start, E.c.at < w.end)
            .group_by(E.c.kind, E.c.actor)
            for i, w in enumerate(windows)])
        with self._connect() as conn:
            return [(int(b), str(k), str(a), int(n)) for b, k, a, n in _rows(conn, q)]

    def overdue(self, brand_ids: Sequence[int], targets: SlaTargets, *, since: datetime,
                now: datetime, limit: int) -> tuple[list[OverdueRow], int]:
        """The oldest `limit` open mentions posted since `since` that have no sent reply and
        whose SLA target passed before `now`, with their details, and how many there are in
        all. The target is applied in SQL (created_at before now minus the target of the
        brand and network), so only the shown rows travel; the sent reply is a correlated
        lookup on ix_reply_mention_id (an anti-join makes PostgreSQL hash the reply table)."""
        ids = list(brand_ids)

        def cut(minutes: int) -> sa.ColumnElement[Any]:
            return sa.literal(now - timedelta(minutes=minutes), M.c.created_at.type)

        whens: list[tuple[sa.ColumnElement[bool], sa.ColumnElement[Any]]] = [
            ((M.c.brand_id == b) & (M.c.network == n), cut(m))
            for (b, n), m in sorted(targets.overrides.items()) if b in ids]
        whens += [(M.c.network == n, cut(m)) for n, m in DEFAULT_TARGET_MINUTES.items()]
        cutoff = sa.case(*whens, else_=cut(FALLBACK_TARGET_MINUTES))
        sent = (sa.select(sa.func.min(R.c.id))
                .where(R.c.mention_id == M.c.id, R.c.state == ReplyState.SENT.value)
                .scalar_subquery())
        # created_at < now is implied by the cutoff (targets are not negative) and bounds the
        # index range: mentions posted after `now` are never read.
        late = (sa.select(M.c.id, M.c.brand_id, M.c.network, M.c.created_at, M.c.assignee,
                          M.c.url, M.c.author_id, sa.func.count().over().label("total"))
                .where(M.c.brand_id.in_(ids), M.c.status.in_(OPEN), M.c.created_at >= since,
                       M.c.created_at < now, M.c.muted.is_(False), M.c.created_at < cutoff,
                       sent.is_(None))
                .order_by(M.c.created_at, M.c.id)
                .limit(limit).subquery())
        # The authors are joined to the shown rows only.
        q = (sa.select(late.c.id, late.c.brand_id, late.c.network, late.c.created_at,
                       late.c.assignee, late.c.url, A.c.handle, late.c.total)
             .select_from(late.outerjoin(A, A.c.id == late.c.author_id))
             .order_by(late.c.created_at, late.c.id))
        with self._connect() as conn:
            rows = _rows(conn, q)
        total = int(rows[0][7]) if rows else 0
        # A mention without its author row is counted but not listed (as before: the details
        # were an inner join).
        return [OverdueRow(int(r[0]), int(r[1]), str(r[2]), r[3], r[4], str(r[5]), str(r[6]))
                for r in rows if r[6] is not None], total

    def open_unanswered(self, brand_ids: Sequence[int], *, since: datetime,
                        ) -> list[tuple[int, int, str, datetime]]:
        """Open mentions without a sent reply, posted since `since`, oldest first:
        (id, brand id, network, created_at). The sent replies are looked up by mention id
        afterwards (an anti-join makes PostgreSQL hash the whole reply table)."""
        q = (sa.select(M.c.id, M.c.brand_id, M.c.network, M.c.created_at)
             .where(M.c.brand_id.in_(list(brand_ids)), M.c.status.in_(OPEN),
                    M.c.created_at >= since, M.c.muted.is_(False))
             .order_by(M.c.created_at, M.c.id))
        with self._connect() as conn:
            rows = _rows(conn, q)
            ids = sorted(int(r[0]) for r in rows)
            answered: set[int] = set()
            for k in range(0, len(ids), 5000):
                answered.update(int(r[0]) for r in _rows(conn, sa.select(R.c.mention_id).where(
                    R.c.mention_id.in_(ids[k:k + 5000]), R.c.state == ReplyState.SENT.value)))
        return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in rows
                if int(r[0]) not in answered]

    def mention_details(self, ids: Sequence[int]) -> dict[int, tuple[str | None, str, str]]:
        """(assignee, url, author handle) of a few mentions."""
        q = (sa.select(M.c.id, M.c.assignee, M.c.url, A.c.handle)
             .select_from(M.join(A, A.c.id == M.c.author_id)).where(M.c.id.in_(list(ids))))
        with self._connect() as conn:
            return {int(r[0]): (r[1], str(r[2]), str(r[3])) for r in _rows(conn, q)}

    def handling_times(self, brand_ids: Sequence[int], window: Window) -> list[float]:
        """Seconds from the first claim of a mention to its first reply or resolve after it,
        for the mentions first claimed in the window. The difference is taken in SQL, so that
        thousands of rows come back as plain numbers."""
        claims = (sa.select(E.c.mention_id, sa.func.min(E.c.at).label("claimed"))
                  .where(E.c.brand_id.in_(list(brand_ids)),
                         E.c.kind.in_(("claimed", "assigned")),
                         E.c.at >= window.start, E.c.at < window.end)
                  .group_by(E.c.mention_id).subquery())
        e2 = E.alias("e2")
        done = (sa.select(sa.func.min(e2.c.at))
                .where(e2.c.mention_id == claims.c.mention_id,
                       e2.c.kind.in_(("replied", "resolved")), e2.c.at >= claims.c.claimed)
                .scalar_subquery())
        if self.store.is_postgres:
            seconds: sa.ColumnElement[Any] = sa.extract("epoch", done - claims.c.claimed)
        else:  # SQLite keeps UTC text that julianday() reads
            seconds = (sa.func.julianday(done) - sa.func.julianday(claims.c.claimed)) * 86400.0
        with self._connect() as conn:
            return [float(v) for (v,) in _rows(conn, sa.select(seconds)) if v is not None]

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
            return _rows(conn, q)

    def followers(self, brand_ids: Sequence[int], first: date,
                  last: date) -> list[tuple[int, str, str, date, int]]:
        t = table(BrandAccountFollowers)
        q = (sa.select(t.c.brand_id, t.c.network, t.c.handle, t.c.day, t.c.followers)
             .where(t.c.brand_id.in_(list(brand_ids)), t.c.day >= first, t.c.day <= last)
             .order_by(t.c.day))
        with self._connect() as conn:
            return [(int(b), str(n), str(h), d, int(f)) for b, n, h, d, f in _rows(conn, q)]

    def brands_created(self, brand_ids: Sequence[int]) -> datetime | None:
        q = sa.select(sa.func.min(B.c.created_at)).where(B.c.id.in_(list(brand_ids)))
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
            return [DigestRun(**r._mapping) for r in _rows(conn, q)]

    # --- spike alerts --------------------------------------------------------------------------

    def last_alert(self, brand_id: int, platform: str, channel: str) -> datetime | None:
        t = table(SpikeAlert)
        q = sa.select(sa.func.max(t.c.detected_at)).where(
            t.c.brand_id == brand_id, t.c.platform == platform, t.c.channel == channel)
        with self._connect() as conn:
            return conn.execute(q).scalar()

    def claim_alert(self, values: dict[str, object], *, cooldown: timedelta) -> int | None:
        """Record a spike alert before it is sent. None when the channel had an alert for the
        brand within the cool-down, or another runner recorded this one first. An alert the
        chat refused for now (state `retry`: rate limit, outage) is taken again, with the new
        figures, while the spike lasts."""
        t = table(SpikeAlert)
        detected = values["detected_at"]
        assert isinstance(detected, datetime)
        try:
            with self.engine.begin() as conn:
                recent = conn.execute(sa.select(t.c.id, t.c.state).where(
                    t.c.brand_id == values["brand_id"], t.c.platform == values["platform"],
                    t.c.channel == values["channel"],
                    t.c.detected_at > detected - cooldown)
                    .order_by(t.c.detected_at.desc()).limit(1)).first()
                if recent is not None and recent.state == "retry":
                    taken = conn.execute(t.update().where(t.c.id == recent.id,
                                                          t.c.state == "retry")
                                         .values(**values, state="sending", error=None)).rowcount
                    return int(recent.id) if taken else None
                if recent is not None:
                    return None
                return int(conn.execute(t.insert().returning(t.c.id),
                                        {"state": "sending", **values}).scalar_one())
        except sa.exc.IntegrityError:
            return None

    def alert_done(self, alert_id: int, *, message_ref: str | None, error: str | None,
                   retry: bool = False) -> None:
        """Sent (`message_ref`), failed for good, or (`retry`) refused for now."""
        t = table(SpikeAlert)
        state = "sent" if not error else "retry" if retry else "failed"
        with self.engine.begin() as conn:
            conn.execute(t.update().where(t.c.id == alert_id).values(
                state=state, message_ref=message_ref, error=error))

    def alerts(self) -> list[SpikeAlert]:
        t = table(SpikeAlert)
        with self._connect() as conn:
            return [SpikeAlert(**r._mapping) for r in conn.execute(sa.select(t).order_by(t.c.id))]


def _bucket(i: int) -> sa.ColumnElement[int]:
    """The window's index as a constant column (inlined: no parameter per part)."""
    return sa.literal_column(str(int(i)), sa.Integer).label("bucket")


def mention_timeline() -> tuple[sa.ScalarSelect[Any], sa.ScalarSelect[Any],
                                sa.ScalarSelect[Any]]:
    """Per mention row of `M`: when its first reply was sent, when it was relayed and when
    staff first acted on it (correlated subqueries, each one index lookup). The digest and the
    CSV export both read these three times."""
    r2, e2, e3 = R.alias("r2"), E.alias("e2"), E.alias("e3")
    first_reply = (sa.select(sa.func.min(r2.c.sent_at))
                   .where(r2.c.mention_id == M.c.id, r2.c.state == ReplyState.SENT.value)
                   .scalar_subquery())
    relayed = (sa.select(sa.func.min(e2.c.at))
               .where(e2.c.mention_id == M.c.id, e2.c.kind == "relayed").scalar_subquery())
    acted = (sa.select(sa.func.min(e3.c.at))
             .where(e3.c.mention_id == M.c.id, e3.c.kind.in_(STAFF_ACTIONS)).scalar_subquery())
    return first_reply, relayed, acted


def _union(parts: Sequence[sa.Select[Any]]) -> sa.Executable:
    """One statement for several windows: UNION ALL of per-window range queries, so that each
    part keeps its own index range scan (an OR of ranges would not on SQLite)."""
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)


def _rows(conn: sa.Connection, q: sa.Executable) -> list[Any]:
    """The rows of a query, loosely typed (the columns' Python types are known per query)."""
    return list(conn.execute(q))


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
