"""SLA reminders: the assignee (or the channel) hears before a mention breaches its SLA and at
the breach, once each, by the one rule (bot.reporting.sla.rule.SlaClock)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.chat import Notifier
from bot.reporting.sla.queries import SlaQueries
from bot.reporting.sla.rule import WARNING_SHARE, SlaTargets
from bot.store import Store

log = logging.getLogger(__name__)


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
        self.q = SlaQueries(store)
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
        done = self.q.recorded_reminders(ids)
        where = self.q.card_channels(ids, self.notifiers)
        out = []
        assignees = {m: d[0] for m, d in self.q.mention_details(
            [r[0] for r in rows if r[0] in where]).items()} if where else {}
        for mid, bid, network, created in rows:
            assignee = assignees.get(mid)
            if mid not in where:
                continue  # never shown as a card (grouped in a flood): the alert covers it
            clock = targets.clock(bid, network, created, self.warn_share)
            kind = clock.stage(now)
            if kind is None:
                continue
            if (mid, kind) in done or (kind == "sla_warning" and (mid, "sla_breach") in done):
                continue
            out.append(Reminder(mid, kind, bid, network, clock.due_at, assignee,
                                tuple(where[mid])))
        return out

    def record(self, r: Reminder, now: datetime) -> bool:
        """Write the reminder's event unless it exists; False when another runner was first."""
        return self.q.record_reminder(
            mention_id=r.mention_id, kind=r.kind, brand_id=r.brand_id, at=now,
            detail={"due": r.due.isoformat(), "assignee": r.assignee,
                    "channels": [f"{p}:{c}" for p, c in r.channels]})

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


__all__ = ["Reminder", "SlaMonitor", "reminder_text"]
