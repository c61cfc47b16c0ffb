"""Spike alerts, and the flood gate that keeps a flood from becoming thousands of cards.

A brand spikes when, in the trailing hour, its mentions (or its share of negative ones) pass a
rolling baseline: the mean plus k standard deviations of the same hour of the day over the last
seven days, and at least a minimum count. Times are `created_at` on the network, so a source
that catches up a backlog does not look like a spike. While a brand floods (a volume spike with
at least three days of baseline, so a new brand is never throttled on a guess), the pipeline gives
it a budget of cards per hour; past it, deliveries are stored "grouped" and the alert counts them.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.chat import ChatError, Notifier
from bot.domain import DeliveryState, Sentiment
from bot.models import Delivery
from bot.reporting.digest.queries import A, B, DigestQueries, M, _rows, table
from bot.store import Store
from bot.untrusted import clean, truncate

log = logging.getLogger(__name__)
D = table(Delivery)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class HourStats:
    brand_id: int
    start: datetime
    end: datetime
    count: int
    negative: int
    baseline_days: int
    mean: float
    sd: float
    threshold: float
    negative_share: float
    negative_threshold: float
    min_count: int

    @property
    def volume_spike(self) -> bool:
        return self.count >= self.min_count and self.count > self.threshold

    @property
    def negative_spike(self) -> bool:
        return self.count >= self.min_count and self.negative_share > self.negative_threshold

    @property
    def kind(self) -> str | None:
        if self.volume_spike and self.negative_spike:
            return "both"
        if self.volume_spike:
            return "volume"
        return "negative" if self.negative_spike else None


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and population standard deviation (0, 0 for no values)."""
    if not values:
        return 0.0, 0.0
    mean = sum(values) / len(values)
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))


class SpikeDetector:
    """Compares a brand's trailing hour with the same hour of the previous days."""

    def __init__(self, store: Store, *, k: float = 3.0, min_count: int = 10,
                 cold_start_count: int = 30, baseline_days: int = 7,
                 min_baseline_days: int = 3, cards_per_hour: int = 20) -> None:
        self.store = store
        self.k = k
        self.min_count = min_count
        # Without any history a brand spikes only past this many mentions an hour.
        self.cold_start_count = cold_start_count
        self.baseline_days = baseline_days
        self.min_baseline_days = min_baseline_days
        self.cards_per_hour = cards_per_hour

    def stats(self, brand_id: int, now: datetime, *, extra: int = 0,
              extra_negative: int = 0) -> HourStats:
        """The trailing hour against its baseline; `extra` counts mentions not stored yet."""
        created = self._created(brand_id)
        windows = [(now - timedelta(days=d) - HOUR, now - timedelta(days=d))
                   for d in range(self.baseline_days + 1)]
        windows = [w for i, w in enumerate(windows) if i == 0 or created is None
                   or w[0] >= created]
        bucket = sa.case(*((sa.and_(M.c.created_at >= a, M.c.created_at < b), i)
                           for i, (a, b) in enumerate(windows)), else_=sa.null()).label("bucket")
        neg = sa.case((M.c.sentiment == Sentiment.NEGATIVE.value, 1), else_=0)
        inner = (sa.select(bucket, neg.label("neg"))
                 .where(M.c.brand_id == brand_id, M.c.muted.is_(False),
                        M.c.created_at >= min(a for a, _ in windows), M.c.created_at < now)
                 .subquery())
        q = (sa.select(inner.c.bucket, sa.func.count(), sa.func.sum(inner.c.neg))
             .where(inner.c.bucket.is_not(None)).group_by(inner.c.bucket))
        counts = dict.fromkeys(range(len(windows)), (0, 0))
        with self.store.engine.connect() as conn:
            for b, n, ng in _rows(conn, q):
                counts[int(b)] = (int(n), int(ng or 0))
        count, negative = counts[0][0] + extra, counts[0][1] + extra_negative
        past = [counts[i] for i in range(1, len(windows))]
        mean, sd = mean_sd([float(n) for n, _ in past])
        shares = [ng / n for n, ng in past if n]
        share_mean, share_sd = mean_sd(shares)
        if len(past) == 0:
            threshold, share_threshold = float(self.cold_start_count), 1.0
        else:
            threshold = mean + self.k * sd
            share_threshold = min(share_mean + self.k * share_sd, 1.0) if shares else 1.0
            if share_threshold >= 1.0 and shares:
                share_threshold = 0.999  # an all-negative hour still counts after calm ones
        return HourStats(brand_id, windows[0][0], now, count, negative, len(past), mean, sd,
                         threshold, negative / count if count else 0.0, share_threshold,
                         self.min_count)

    def is_flooding(self, brand_id: int, now: datetime, *, extra: int = 0) -> bool:
        """A volume spike on at least `min_baseline_days` of history: the relay groups it."""
        s = self.stats(brand_id, now, extra=extra)
        return s.volume_spike and s.baseline_days >= self.min_baseline_days

    def card_budget(self, brand_id: int, now: datetime,
                    incoming: Sequence[datetime]) -> int | None:
        """While the brand floods: how many of the incoming mentions may still become cards
        this hour (the pipeline stores the rest as grouped). None: not flooding, no limit."""
        recent = sum(1 for at in incoming if now - HOUR <= at < now + timedelta(minutes=5))
        if not self.is_flooding(brand_id, now, extra=recent):
            return None
        carded = (sa.select(sa.func.count(sa.distinct(M.c.id)))
                  .select_from(M.join(D, D.c.mention_id == M.c.id))
                  .where(M.c.brand_id == brand_id, M.c.seen_at >= now - HOUR,
                         D.c.state != DeliveryState.GROUPED.value))
        with self.store.engine.connect() as conn:
            given = int(conn.execute(carded).scalar_one())
        return max(self.cards_per_hour - given, 0)

    def _created(self, brand_id: int) -> datetime | None:
        with self.store.engine.connect() as conn:
            return conn.execute(sa.select(B.c.created_at).where(B.c.id == brand_id)).scalar()


class SpikeMonitor:
    """Checks every routed brand and posts one alert per spike and channel, with a cool-down."""

    def __init__(self, detector: SpikeDetector, notifiers: Mapping[str, Notifier], *,
                 cooldown: timedelta = timedelta(hours=2), top_posts: int = 5) -> None:
        self.detector = detector
        self.store = detector.store
        self.q = DigestQueries(self.store)
        self.notifiers = dict(notifiers)
        self.cooldown = cooldown
        self.top_posts = top_posts

    async def run_due(self, now: datetime) -> int:
        """Alert where a brand spikes now; returns how many alerts were sent."""
        sent = 0
        channels = await asyncio.to_thread(self.q.channels)
        brands: dict[int, list[tuple[str, str]]] = {}
        names: dict[int, str] = {}
        for ch in channels:
            if ch.platform not in self.notifiers:
                continue
            for bid, name in zip(ch.brand_ids, ch.brand_names, strict=True):
                brands.setdefault(bid, []).append((ch.platform, ch.channel))
                names[bid] = name
        for bid, targets in brands.items():
            stats = await asyncio.to_thread(self.detector.stats, bid, now)
            if stats.kind is None:
                continue
            for platform, channel in targets:
                sent += await self._alert(stats, names[bid], platform, channel, now)
        return sent

    async def _alert(self, s: HourStats, brand: str, platform: str, channel: str,
                     now: datetime) -> int:
        alert_id = await asyncio.to_thread(self.q.claim_alert, {
            "brand_id": s.brand_id, "platform": platform, "channel": channel, "kind": s.kind,
            "window_start": s.start, "window_end": s.end, "count": s.count,
            "negative": s.negative, "expected": s.mean, "threshold": s.threshold,
            "negative_share": s.negative_share, "negative_threshold": s.negative_threshold,
            "detected_at": now}, cooldown=self.cooldown)
        if alert_id is None:
            return 0
        grouped, top = await asyncio.to_thread(self._details, s, platform, channel)
        text = alert_text(s, brand, grouped)
        thread = [f"#{mid} {network} @{handle}: {truncate(clean(body).replace(chr(10), ' '), 200)}"
                  f" {url}" for mid, network, handle, body, url in top]
        try:
            ref = await self.notifiers[platform].notify(channel, text, thread=thread)
        except Exception as exc:
            # A rate limit or an outage: the next check sends it (a lost alert is worse than a
            # rare second one after a timeout). Anything else: recorded, never sent again.
            retry = isinstance(exc, ChatError) and not exc.permanent
            log.warning("spike alert %s to %s:%s failed%s: %s", alert_id, platform, channel,
                        " (sent again at the next check)" if retry else "", exc)
            await asyncio.to_thread(self.q.alert_done, alert_id, message_ref=None,
                                    error=str(exc)[:2000], retry=retry)
            return 0
        await asyncio.to_thread(self.q.alert_done, alert_id, message_ref=ref, error=None)
        return 1

    def _details(self, s: HourStats, platform: str, channel: str,
                 ) -> tuple[int, list[tuple[int, str, str, str, str]]]:
        grouped_q = (sa.select(sa.func.count()).select_from(M.join(D, D.c.mention_id == M.c.id))
                     .where(M.c.brand_id == s.brand_id, M.c.created_at >= s.start,
                            M.c.created_at < s.end, D.c.platform == platform,
                            D.c.channel == channel, D.c.state == DeliveryState.GROUPED.value))
        top_q = (sa.select(M.c.id, M.c.network, A.c.handle, M.c.text, M.c.url)
                 .select_from(M.join(A, A.c.id == M.c.author_id))
                 .where(M.c.brand_id == s.brand_id, M.c.created_at >= s.start,
                        M.c.created_at < s.end, M.c.muted.is_(False))
                 .order_by(sa.nulls_last(A.c.followers.desc()), M.c.id)
                 .limit(self.top_posts))
        with self.store.engine.connect() as conn:
            grouped = int(conn.execute(grouped_q).scalar_one())
            top = [(int(i), str(n), str(h), str(t), str(u)) for i, n, h, t, u in
                   _rows(conn, top_q)]
        return grouped, top


def alert_text(s: HourStats, brand: str, grouped: int) -> str:
    what = {"volume": "more mentions than usual",
            "negative": "more negative mentions than usual",
            "both": "more mentions, and more negative ones, than usual"}[s.kind or "volume"]
    usual = (f"usually {s.mean:.1f} ± {s.sd:.1f} in this hour over {s.baseline_days} days"
             if s.baseline_days else "no history yet")
    line = (f"Spike: {brand} has {what}: {s.count} in the last hour ({usual}); "
            f"{s.negative_share * 100:.0f}% negative.")
    if grouped:
        line += f" {grouped} of them are grouped here instead of posted one by one."
    return line + " Top posts in the thread."


__all__ = ["HourStats", "SpikeDetector", "SpikeMonitor", "alert_text", "mean_sd"]
