"""The spike monitor: checks every routed brand and posts one alert per spike and channel.

The alert is recorded (SpikeAlert, under a unique key plus a cool-down) before it is sent, so a
second run, a restart or a second process sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.chat import ChatError, Notifier
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.spikes.alerts import HOLDING, alert_text, thread_lines
from bot.reporting.spikes.detector import HourStats, SpikeDetector

log = logging.getLogger(__name__)


class SpikeMonitor:
    """Checks every routed brand and posts one alert per spike and channel, with a cool-down."""

    def __init__(self, detector: SpikeDetector, notifiers: Mapping[str, Notifier], *,
                 cooldown: timedelta = timedelta(hours=2), top_posts: int = 5) -> None:
        self.detector = detector
        self.store = detector.store
        self.q = detector.q  # counts, top posts and the alerts' own rows
        self.routes = DigestQueries(self.store)  # the routed channels
        self.notifiers = dict(notifiers)
        self.cooldown = cooldown
        self.top_posts = top_posts

    async def run_due(self, now: datetime) -> int:
        """Alert where a brand spikes now; returns how many alerts were sent."""
        sent = 0
        channels = await asyncio.to_thread(self.routes.channels)
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
        # The spike points at its stories: the biggest of the hour (bot.store.stories).
        stories = await asyncio.to_thread(self.store.stories_between, s.brand_id, s.start, s.end)
        holding = await asyncio.to_thread(self.store.events_with, brand_id=s.brand_id,
                                          outcome=HOLDING)
        text = alert_text(s, brand, grouped, stories, holding=holding)
        thread = thread_lines(top)
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
        grouped = self.q.grouped(s.brand_id, s.start, s.end, platform=platform, channel=channel)
        return grouped, self.q.top_posts(s.brand_id, s.start, s.end, limit=self.top_posts)


__all__ = ["SpikeMonitor"]
