"""The escalation ladder (issue 17, item 4): an unclaimed mention pings its brand's on-call
people at the SLA rule's warning share (bot.reporting.sla.rule.SlaClock: 75 %), the next level
at the breach, and the level after that each further target's length, until someone claims it
(a claimed, answered, closed or deleted mention is not pinged again).

Who is on call: the rota's levels (bot.store.oncall), each person during their business hours
in their time zone. The first level with someone on duty is the ladder's first rung. A ping is
recorded (EscalationPing under a unique (mention, step), and an `escalation_ping` event)
before it goes out, so a restart or another leader never pings twice. It goes as a direct
message where the adapter can (bot.chat.DirectMessenger), else as a notice addressed to the
person in the channel of the mention's card.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.chat import DirectMessenger, Notifier
from bot.models import OnCall
from bot.reporting.sla.hours import BusinessHours, BusinessHoursError
from bot.reporting.sla.queries import SlaQueries
from bot.reporting.sla.rule import WARNING_SHARE, SlaClock
from bot.store import Store

log = logging.getLogger(__name__)


def on_duty(entry: OnCall, at: datetime) -> bool:
    """Whether one rota entry is on duty at `at` (no hours: always; bad hours: never, logged)."""
    if not entry.hours:
        return True
    try:
        return BusinessHours.parse(entry.hours, ZoneInfo(entry.timezone)).is_open(at)
    except (BusinessHoursError, ZoneInfoNotFoundError, ValueError) as exc:
        log.warning("on-call %s: hours %r unusable: %s", entry.person, entry.hours, exc)
        return False


def ladder(rota: Sequence[OnCall], at: datetime) -> list[tuple[int, list[OnCall]]]:
    """The levels with someone on duty at `at`, lowest first: [(level, entries)]."""
    levels: dict[int, list[OnCall]] = {}
    for e in rota:
        if on_duty(e, at):
            levels.setdefault(e.level, []).append(e)
    return sorted(levels.items())


def step_at(clock: SlaClock, now: datetime) -> int | None:
    """The ladder's step due at `now`: None before the warning, 0 from the warning, 1 from the
    breach, then one more for every further target's length."""
    if now < clock.warn_at:
        return None
    if now < clock.due_at:
        return 0
    target = clock.target if clock.target > timedelta(0) else timedelta(minutes=1)
    return 1 + int((now - clock.due_at) / target)


@dataclass(frozen=True, slots=True)
class Ping:
    mention_id: int
    brand: str
    network: str
    url: str
    step: int
    level: int
    due: datetime
    people: tuple[tuple[str, str], ...]  # (platform, person)
    channels: tuple[tuple[str, str], ...]  # where the card is


class EscalationMonitor:
    """Pings the on-call about unclaimed mentions, rung by rung (see the module's text)."""

    def __init__(self, store: Store, notifiers: Mapping[str, Notifier],
                 messengers: Mapping[str, DirectMessenger] | None = None, *,
                 warn_share: float = WARNING_SHARE,
                 horizon: timedelta = timedelta(days=2)) -> None:
        self.store = store
        self.q = SlaQueries(store)
        self.notifiers = dict(notifiers)
        self.messengers = dict(messengers or {})
        self.warn_share = warn_share
        self.horizon = horizon

    def due(self, now: datetime) -> list[Ping]:
        """Pings due and not recorded yet (reads only)."""
        rota = self.store.oncall_rota()
        if not rota:
            return []
        by_brand: dict[int, list[OnCall]] = {}
        for e in rota:
            by_brand.setdefault(e.brand_id, []).append(e)
        names = {b.id or 0: b.name for b in self.store.brands()}
        ids = [b for b in by_brand if b in names]
        rows = self.q.open_unanswered(ids, since=now - self.horizon)
        if not rows:
            return []
        mids = [r[0] for r in rows]
        details = self.q.mention_details(mids)
        done = self.store.escalation_steps(mids)
        where = self.q.card_channels(mids, self.notifiers)
        targets = self.q.sla_targets(ids)
        out = []
        for mid, bid, network, created in rows:
            assignee, url, _ = details.get(mid, (None, "", ""))
            if assignee is not None:
                continue  # claimed: the ladder stops
            clock = targets.clock(bid, network, created, self.warn_share)
            step = step_at(clock, now)
            if step is None or step <= done.get(mid, -1):
                continue
            rungs = ladder(by_brand[bid], now)
            if not rungs:
                continue
            level, people = rungs[min(step, len(rungs) - 1)]
            out.append(Ping(mid, names[bid], network, url, step, level, clock.due_at,
                            tuple((p.platform, p.person) for p in people),
                            tuple(where.get(mid, []))))
        return out

    async def run_due(self, now: datetime) -> int:
        """Record the due pings, then send each person one message with theirs; returns how
        many pings were recorded."""
        recorded: list[tuple[int, Ping]] = []
        for p in await asyncio.to_thread(self.due, now):
            ping_id = await asyncio.to_thread(
                self.store.record_ping, mention_id=p.mention_id, step=p.step, level=p.level,
                people=[f"{pl}:{who}" for pl, who in p.people], at=now)
            if ping_id is not None:  # None: another runner, or before a restart: never twice
                recorded.append((ping_id, p))
        by_person: dict[tuple[str, str], list[Ping]] = {}
        for _, p in recorded:
            for who in p.people:
                by_person.setdefault(who, []).append(p)
        failed: dict[int, list[str]] = {}
        for (platform, person), pings in by_person.items():
            try:
                await self._send(platform, person, pings, now)
            except Exception as exc:  # recorded already: logged, never sent twice
                log.warning("escalation ping to %s:%s failed: %s", platform, person, exc)
                for p in pings:
                    failed.setdefault(p.mention_id, []).append(f"{platform}:{person}: {exc}")
        for ping_id, p in recorded:
            await asyncio.to_thread(self.store.ping_done, ping_id=ping_id,
                                    error="; ".join(failed.get(p.mention_id, [])) or None)
        return len(recorded)

    async def _send(self, platform: str, person: str, pings: list[Ping],
                    now: datetime) -> None:
        text = ping_text(pings, now)
        messenger = self.messengers.get(platform)
        if messenger is not None:
            await messenger.direct(person, text)
            return
        notifier = self.notifiers.get(platform)
        channels = [c for p in pings for pl, c in p.channels if pl == platform]
        if notifier is None or not channels:
            raise RuntimeError(f"no way to reach {person} on {platform}")
        await notifier.notify(channels[0], text, person=person)


SHOWN = 10  # mentions named in one ping; the rest are counted


def ping_text(pings: Sequence[Ping], now: datetime) -> str:
    """One message for one person: the unclaimed mentions of this run, most urgent first."""
    parts = []
    for p in sorted(pings, key=lambda p: (p.due, p.mention_id))[:SHOWN]:
        left = int((p.due - now).total_seconds() // 60)
        when = (f"is {-left} min past its SLA" if left < 0 else "breaches its SLA now"
                if left == 0 else f"is due in {left} min")
        parts.append(f"#{p.mention_id} for {p.brand} on {p.network} {when} {p.url}")
    more = len(pings) - SHOWN
    level = min(p.level for p in pings)
    head = (f"Escalation (level {level}): nobody has claimed "
            + ("this mention" if len(pings) == 1 else f"{len(pings)} mentions") + ": ")
    tail = f"; and {more} more" if more > 0 else ""
    first = pings[0].mention_id if len(pings) == 1 else "<id>"
    return head + "; ".join(parts) + tail + f". Claim with `claim {first}`."


__all__ = ["EscalationMonitor", "Ping", "ladder", "on_duty", "ping_text", "step_at"]
