"""The spike alerts' read model: a brand's mentions per trailing hour, the cards a flood was
given, the top posts of an hour, and the alerts recorded (SpikeAlert rows, written before an
alert is sent)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.domain import DeliveryState, Sentiment
from bot.models import SpikeAlert
from bot.reporting.tables import ReadModel, authors, brands, deliveries, fetch_all, mentions, table
from bot.triage import COMPLAINT_NEEDS_REPLY, LOW_RELEVANCE


class SpikeQueries(ReadModel):
    """Counts per hour and the alerts' own rows."""

    def hour_counts(self, brand_id: int, windows: Sequence[tuple[datetime, datetime]],
                    now: datetime) -> dict[int, tuple[int, int, int]]:
        """(mentions, negative ones, complaints) of the brand per window (by index), posted
        before `now`, unmuted; one statement over the whole range.

        Negative: the triage model's label, leaving out posts probably not about the brand
        (relevance under bot.triage.LOW_RELEVANCE: another sense of the word does not make a
        shitstorm); a complaint is a negative one that also needs a reply (needs_reply >= 0.5).
        Mentions stored before 0008_triage have no relevance and count by their label."""
        bucket = sa.case(*((sa.and_(mentions.c.created_at >= a, mentions.c.created_at < b), i)
                           for i, (a, b) in enumerate(windows)), else_=sa.null()).label("bucket")
        negative = sa.and_(mentions.c.sentiment == Sentiment.NEGATIVE.value,
                           sa.or_(mentions.c.relevance.is_(None),
                                  mentions.c.relevance >= LOW_RELEVANCE))
        neg = sa.case((negative, 1), else_=0)
        complaint = sa.case((sa.and_(negative, mentions.c.needs_reply >= COMPLAINT_NEEDS_REPLY),
                             1), else_=0)
        inner = (sa.select(bucket, neg.label("neg"), complaint.label("complaint"))
                 .where(mentions.c.brand_id == brand_id, mentions.c.muted.is_(False),
                        mentions.c.created_at >= min(a for a, _ in windows),
                        mentions.c.created_at < now)
                 .subquery())
        q = (sa.select(inner.c.bucket, sa.func.count(), sa.func.sum(inner.c.neg),
                       sa.func.sum(inner.c.complaint))
             .where(inner.c.bucket.is_not(None)).group_by(inner.c.bucket))
        with self._connect() as conn:
            return {int(b): (int(n), int(ng or 0), int(c or 0))
                    for b, n, ng, c in fetch_all(conn, q)}

    def cards_given(self, brand_id: int, *, seen_since: datetime) -> int:
        """Mentions of the brand seen since then that got a card (a delivery not grouped)."""
        carded = (sa.select(sa.func.count(sa.distinct(mentions.c.id)))
                  .select_from(mentions.join(deliveries, deliveries.c.mention_id == mentions.c.id))
                  .where(mentions.c.brand_id == brand_id, mentions.c.seen_at >= seen_since,
                         deliveries.c.state != DeliveryState.GROUPED.value))
        with self._connect() as conn:
            return int(conn.execute(carded).scalar_one())

    def brand_created(self, brand_id: int) -> datetime | None:
        with self._connect() as conn:
            return conn.execute(sa.select(brands.c.created_at)
                                .where(brands.c.id == brand_id)).scalar()

    def grouped(self, brand_id: int, start: datetime, end: datetime, *, platform: str,
                channel: str) -> int:
        """Mentions of the hour stored as grouped in this channel instead of posted."""
        q = (sa.select(sa.func.count())
             .select_from(mentions.join(deliveries, deliveries.c.mention_id == mentions.c.id))
             .where(mentions.c.brand_id == brand_id, mentions.c.created_at >= start,
                    mentions.c.created_at < end, deliveries.c.platform == platform,
                    deliveries.c.channel == channel,
                    deliveries.c.state == DeliveryState.GROUPED.value))
        with self._connect() as conn:
            return int(conn.execute(q).scalar_one())

    def top_posts(self, brand_id: int, start: datetime, end: datetime, *,
                  limit: int) -> list[tuple[int, str, str, str, str]]:
        """(id, network, author handle, text, url) of the hour's posts with the most reach."""
        q = (sa.select(mentions.c.id, mentions.c.network, authors.c.handle, mentions.c.text,
                       mentions.c.url)
             .select_from(mentions.join(authors, authors.c.id == mentions.c.author_id))
             .where(mentions.c.brand_id == brand_id, mentions.c.created_at >= start,
                    mentions.c.created_at < end, mentions.c.muted.is_(False))
             .order_by(sa.nulls_last(authors.c.followers.desc()), mentions.c.id)
             .limit(limit))
        with self._connect() as conn:
            return [(int(i), str(n), str(h), str(t), str(u)) for i, n, h, t, u in
                    fetch_all(conn, q)]

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
