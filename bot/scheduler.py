"""The scheduler: each channel's digest at its local hour, SLA reminders, spike alerts.

Every job is a `run_due(now)` that is idempotent and can be called any time, by any number of
processes: what it posts is recorded in the store BEFORE it is sent, under a unique key (a digest
per channel and day; a reminder per mention and kind; an alert per brand, channel and hour plus a
cool-down), so a second run, a restart or a second process finds the record and sends nothing.
APScheduler 3.x only decides *when* to call them: a CronTrigger per channel at its digest hour in
its time zone, and interval triggers for the SLA clocks and the spike check. On start, the
digests run once at once, which catches up the latest day missed while the bot was down.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.chat import DigestSink, Notifier
from bot.domain import DeliveryState
from bot.models import Delivery
from bot.reporting.chart import digest_chart
from bot.reporting.digest.builder import DigestBuilder, due_day, local_window
from bot.reporting.digest.queries import DigestQueries, E, M, _rows, table
from bot.reporting.sla.rule import WARNING_SHARE, SlaTargets
from bot.reporting.spikes.detector import SpikeMonitor
from bot.store import Store, utcnow

log = logging.getLogger(__name__)
D = table(Delivery)


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


@dataclass(frozen=True, slots=True)
class Reminder:
    mention_id: int
    kind: str  # sla_warning | sla_breach
    brand_id: int
    network: str
    due: datetime
    assignee: str | None
    channels: tuple[tuple[str, str], ...]


class SlaMonitor:
    """Reminds the assignee (or the channel) before a mention breaches its SLA and at the
    breach, once each: the reminder is an Event (sla_warning / sla_breach) written before the
    notice is sent."""

    def __init__(self, store: Store, notifiers: Mapping[str, Notifier], *,
                 warn_share: float = WARNING_SHARE,
                 horizon: timedelta = timedelta(days=2)) -> None:
        self.store = store
        self.q = DigestQueries(store)
        self.notifiers = dict(notifiers)
        self.warn_share = warn_share
        self.horizon = horizon  # older unanswered mentions are not reminded about any more

    def due(self, now: datetime) -> list[Reminder]:
        """Reminders that are due and were not recorded yet (reads only)."""
        brand_ids = [b.id or 0 for b in self.store.brands()]
        if not brand_ids or not self.notifiers:
            return []
        targets: SlaTargets = self.q.sla_targets(brand_ids)
        rows = self.q.open_unanswered(brand_ids, since=now - self.horizon)
        if not rows:
            return []
        ids = [r[0] for r in rows]
        with self.store.engine.connect() as conn:
            done = {(int(m), str(k)) for m, k in _rows(conn, sa.select(E.c.mention_id, E.c.kind)
                    .where(E.c.mention_id.in_(ids),
                           E.c.kind.in_(("sla_warning", "sla_breach"))))}
            where: dict[int, list[tuple[str, str]]] = {}
            for mid, platform, channel in _rows(conn, sa.select(
                    D.c.mention_id, D.c.platform, D.c.channel)
                    .where(D.c.mention_id.in_(ids), D.c.state == DeliveryState.SENT.value,
                           D.c.platform.in_(list(self.notifiers)))):
                where.setdefault(int(mid), []).append((str(platform), str(channel)))
        out = []
        assignees = {m: d[0] for m, d in self.q.mention_details(
            [r[0] for r in rows if r[0] in where]).items()} if where else {}
        for mid, bid, network, created in rows:
            assignee = assignees.get(mid)
            if mid not in where:
                continue  # never shown as a card (grouped in a flood): the alert covers it
            target = targets.target(bid, network)
            due = created + target
            if now >= due:
                kind = "sla_breach"
            elif now >= created + target * self.warn_share:
                kind = "sla_warning"
            else:
                continue
            if (mid, kind) in done or (kind == "sla_warning" and (mid, "sla_breach") in done):
                continue
            out.append(Reminder(mid, kind, bid, network, due, assignee, tuple(where[mid])))
        return out

    def record(self, r: Reminder, now: datetime) -> bool:
        """Write the reminder's event unless it exists; False when another runner was first."""
        with self.store.engine.begin() as conn:
            lock = sa.select(M.c.id).where(M.c.id == r.mention_id)
            if self.store.is_postgres:
                lock = lock.with_for_update()
            conn.execute(lock)  # serialises runners on this mention (SQLite: BEGIN IMMEDIATE)
            exists = conn.execute(sa.select(E.c.id).where(
                E.c.mention_id == r.mention_id, E.c.kind == r.kind).limit(1)).first()
            if exists is not None:
                return False
            conn.execute(E.insert(), {
                "kind": r.kind, "mention_id": r.mention_id, "brand_id": r.brand_id,
                "actor": "scheduler", "at": now,
                "detail": json.dumps({"due": r.due.isoformat(), "assignee": r.assignee,
                                      "channels": [f"{p}:{c}" for p, c in r.channels]},
                                     sort_keys=True)})
            return True

    async def run_due(self, now: datetime) -> int:
        """Record and send the due reminders, one notice per channel and person."""
        batches: dict[tuple[str, str, str | None], list[Reminder]] = {}
        for r in await asyncio.to_thread(self.due, now):
            if await asyncio.to_thread(self.record, r, now):
                for platform, channel in r.channels:
                    batches.setdefault((platform, channel, r.assignee), []).append(r)
        for (platform, channel, person), items in batches.items():
            text = reminder_text(items, now)
            try:
                await self.notifiers[platform].notify(channel, text, person=person)
            except Exception as exc:  # recorded already: never sent twice, logged instead
                log.warning("SLA reminder to %s:%s failed: %s", platform, channel, exc)
        return sum(len(v) for v in batches.values())


def reminder_text(items: list[Reminder], now: datetime) -> str:
    parts = []
    for r in sorted(items, key=lambda r: r.due):
        left = int((r.due - now).total_seconds() // 60)
        parts.append(f"#{r.mention_id} ({r.network}) "
                     + (f"is {-left} min past its SLA" if left < 0 else
                        "breaches its SLA now" if left == 0 else f"is due in {left} min"))
    return "SLA: " + "; ".join(parts) + ". Reply, or resolve/ignore it if no answer is needed."


class Scheduler:
    """bot.chat.Service running the jobs on APScheduler's AsyncIOScheduler."""

    name = "scheduler"

    def __init__(self, store: Store, builder: DigestBuilder, *,
                 sinks: Mapping[str, DigestSink], notifiers: Mapping[str, Notifier],
                 spikes: SpikeMonitor | None = None, check_seconds: float = 60.0,
                 refresh_seconds: float = 300.0,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.builder = builder
        self.digests = DigestPoster(store, builder, sinks)
        self.sla = SlaMonitor(store, notifiers)
        self.spikes = spikes
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
        if self.spikes is not None:
            self.aps.add_job(self._spikes, IntervalTrigger(seconds=self.check_seconds),
                             id="spikes", replace_existing=True, coalesce=True, max_instances=1)
        self.aps.add_job(self._refresh, IntervalTrigger(seconds=self.refresh_seconds),
                         id="refresh", replace_existing=True, coalesce=True, max_instances=1)

    async def _digest(self, platform: str, channel: str) -> None:
        await self._guard("digest", self.digests.run_due(self.now(), only=(platform, channel)))

    async def _sla(self) -> None:
        await self._guard("sla", self.sla.run_due(self.now()))

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
        await asyncio.to_thread(self.configure)
        self.aps.start()
        try:
            await stop.wait()
        finally:
            self.aps.shutdown(wait=False)


__all__ = ["DigestPoster", "Posted", "Reminder", "Scheduler", "SlaMonitor",
           "reminder_text"]
