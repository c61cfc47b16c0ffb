"""The schedule: each channel's digest at its local hour, SLA reminders, spike alerts, the
on-call escalation ladder, and scheduled publishing of prepared posts.

Every job is a `run_due(now)` that is idempotent and can be called any time, by any number of
processes: what it posts is recorded in the store BEFORE it is sent, under a unique key (a digest
per channel and day; a reminder per mention and kind; an alert per brand, channel and hour plus a
cool-down), so a second run, a restart or a second process finds the record and sends nothing.
The jobs live in bot.reporting (DigestPoster, SlaMonitor, EscalationMonitor: a ping per
mention and step; SpikeMonitor) and bot.publishing (PublishMonitor: a job taken by
compare-and-set, each network's post recorded before it is sent);
APScheduler 3.x only decides *when* to call them: a CronTrigger per channel at its digest hour in
its time zone, and interval triggers for the SLA clocks and the spike check. On start, the
digests run once at once, which catches up the latest day missed while the bot was down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.chat import DigestSink, DirectMessenger, Notifier
from bot.clock import utcnow
from bot.networks import Publisher
from bot.publishing import PublishMonitor
from bot.reporting.digest.builder import DigestBuilder
from bot.reporting.digest.poster import DigestPoster
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.sla.escalation import EscalationMonitor
from bot.reporting.sla.monitor import SlaMonitor
from bot.reporting.spikes.monitor import SpikeMonitor
from bot.store import Store

log = logging.getLogger(__name__)


class Scheduler:
    """bot.chat.Service running the jobs on APScheduler's AsyncIOScheduler."""

    name = "scheduler"

    def __init__(self, store: Store, builder: DigestBuilder, *,
                 sinks: Mapping[str, DigestSink], notifiers: Mapping[str, Notifier],
                 spikes: SpikeMonitor | None = None, check_seconds: float = 60.0,
                 refresh_seconds: float = 300.0,
                 publishers: Mapping[str, Publisher] | None = None,
                 messengers: Mapping[str, DirectMessenger] | None = None,
                 publish_seconds: float = 15.0,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.builder = builder
        self.digests = DigestPoster(store, builder, sinks)
        self.sla = SlaMonitor(store, notifiers)
        self.spikes = spikes
        # Scheduled `publish ... at HH:MM` jobs, and the on-call escalation ladder.
        self.publish = PublishMonitor(store, publishers or {}, notifiers)
        self.escalation = EscalationMonitor(store, notifiers, messengers)
        self.publish_seconds = publish_seconds
        self.check_seconds = check_seconds
        self.refresh_seconds = refresh_seconds
        self.now = now
        self.aps = AsyncIOScheduler(timezone=ZoneInfo("UTC"))
        self.q = DigestQueries(store)

    def digest_trigger(self, platform: str, channel: str) -> CronTrigger:
        prefs = self.builder.prefs(platform, channel)
        return CronTrigger(hour=prefs.digest_hour, minute=0, timezone=ZoneInfo(prefs.timezone))

    def configure(self) -> None:
        """(Re)build the jobs: one digest job per channel with a digest sink, the SLA and spike
        checks, and a refresh that picks up new channels and changed digest hours."""
        for ch in self.q.channels():
            if ch.platform not in self.digests.sinks:
                continue
            self.aps.add_job(self._digest, self.digest_trigger(ch.platform, ch.channel),
                             args=(ch.platform, ch.channel),
                             id=f"digest:{ch.platform}:{ch.channel}", replace_existing=True,
                             coalesce=True, max_instances=1, misfire_grace_time=3600)
        every = IntervalTrigger(seconds=self.check_seconds)
        self.aps.add_job(self._sla, every, id="sla", replace_existing=True, coalesce=True,
                         max_instances=1)
        self.aps.add_job(self._escalation, IntervalTrigger(seconds=self.check_seconds),
                         id="escalation", replace_existing=True, coalesce=True,
                         max_instances=1)
        self.aps.add_job(self._publish, IntervalTrigger(seconds=self.publish_seconds),
                         id="publish", replace_existing=True, coalesce=True, max_instances=1)
        if self.spikes is not None:
            self.aps.add_job(self._spikes, IntervalTrigger(seconds=self.check_seconds),
                             id="spikes", replace_existing=True, coalesce=True, max_instances=1)
        self.aps.add_job(self._refresh, IntervalTrigger(seconds=self.refresh_seconds),
                         id="refresh", replace_existing=True, coalesce=True, max_instances=1)

    async def _digest(self, platform: str, channel: str) -> None:
        await self._guard("digest", self.digests.run_due(self.now(), only=(platform, channel)))

    async def _sla(self) -> None:
        await self._guard("sla", self.sla.run_due(self.now()))

    async def _escalation(self) -> None:
        await self._guard("escalation", self.escalation.run_due(self.now()))

    async def _publish(self) -> None:
        await self._guard("publish", self.publish.run_due(self.now()))

    async def _spikes(self) -> None:
        if self.spikes is not None:
            await self._guard("spikes", self.spikes.run_due(self.now()))

    async def _refresh(self) -> None:
        await asyncio.to_thread(self.configure)

    async def _guard(self, name: str, job: object) -> None:
        try:
            await job  # type: ignore[misc]
        except Exception:  # one failing run must not stop the schedule
            log.exception("scheduled %s job failed; it runs again at its next time", name)

    async def serve(self, stop: asyncio.Event) -> None:
        """Catch up missed digests, then run the schedule until `stop` is set."""
        await self._guard("digest", self.digests.run_due(self.now()))
        # Publish jobs that fell due while no leader ran go out at once.
        await self._guard("publish", self.publish.run_due(self.now()))
        await asyncio.to_thread(self.configure)
        self.aps.start()
        try:
            await stop.wait()
        finally:
            self.aps.shutdown(wait=False)


__all__ = ["Scheduler"]
