"""Posting the digests: each channel's latest due day, exactly once (a DigestRun row is
claimed before anything is sent)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.chat import DigestSink
from bot.reporting.chart import digest_chart
from bot.reporting.digest.builder import DigestBuilder, due_day, local_window
from bot.reporting.digest.queries import DigestQueries
from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Posted:
    platform: str
    channel: str
    day: date
    message_ref: str


class DigestPoster:
    """Posts each channel's latest due digest exactly once."""

    def __init__(self, store: Store, builder: DigestBuilder,
                 sinks: Mapping[str, DigestSink]) -> None:
        self.store = store
        self.builder = builder
        self.q = DigestQueries(store)
        self.sinks = dict(sinks)

    async def run_due(self, now: datetime, *, only: tuple[str, str] | None = None,
                      ) -> list[Posted]:
        """Post the latest due day's digest of every channel (or `only` one) not posted yet.

        A channel's day is due from its digest hour on the next local day; a day that ended
        before the channel got its first route is never posted (no digests of the past)."""
        posted: list[Posted] = []
        for ch in await asyncio.to_thread(self.q.channels):
            key = (ch.platform, ch.channel)
            if ch.platform not in self.sinks or (only is not None and key != only):
                continue
            prefs = await asyncio.to_thread(self.builder.prefs, *key)
            if not prefs.digest_enabled:
                continue
            day = due_day(prefs, now)
            since = await asyncio.to_thread(self.q.channel_since, *key)
            if since is not None and local_window(day, ZoneInfo(prefs.timezone)).end <= since:
                continue
            run_id = await asyncio.to_thread(self.q.claim_digest, *key, day)
            if run_id is None:
                continue
            try:
                digest = await asyncio.to_thread(self.builder.build, *key, now=now, day=day)
                png = await asyncio.to_thread(digest_chart, digest)
                ref = await self.sinks[ch.platform].send_digest(ch.channel, digest, png)
            except Exception as exc:  # the chat refused it or it was never built: not posted
                log.warning("digest of %s:%s for %s failed: %s", *key, day, exc)
                await asyncio.to_thread(self.q.digest_failed, run_id, f"{type(exc).__name__}: "
                                                                      f"{exc}")
                continue
            await asyncio.to_thread(self.q.digest_sent, run_id, ref)
            posted.append(Posted(ch.platform, ch.channel, day, ref))
        return posted


__all__ = ["DigestPoster", "Posted"]
