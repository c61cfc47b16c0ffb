"""The queue view: what one person has on their plate and what waits for the team.

Built once here, platform-neutral, and rendered by each adapter: Slack's App Home (per user,
views.publish), Discord's `queue` answer and pinned status message, the console's `queue`.

- my claimed mentions, each with its SLA clock (bot.reporting.sla.rule.SlaClock: due, warned,
  breached, in calendar time as the customer counts);
- the open queue per brand and network: open (new or claimed) mentions, how many nobody took,
  and the oldest one;
- cards held by quiet hours (bot.quiet) until their catch-up;
- today's first-response median (posted to first reply the network took, the digest's figure:
  bot.reporting.digest.queries.window_mentions over today's local window);
- who is on call, from an `OnCallSource` when one is wired (the rota of issue 17); without one
  the view says that no rota is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.domain import DeliveryState, MentionStatus
from bot.reporting.digest.builder import local_window, percentile
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.sla.queries import OPEN
from bot.reporting.sla.rule import SlaStage, SlaTargets
from bot.reporting.tables import authors, brands, deliveries, fetch_all, mentions
from bot.store import Store

# How many of my claimed mentions the view lists (the rest are counted).
MINE_SHOWN = 15


@runtime_checkable
class OnCallSource(Protocol):
    """THE HOOK for "who is on call" (issue 17's rota): the people on call at `now`, as the
    chat should name them (display names or platform user ids). Wire one into
    `QueueBuilder(on_call=...)`; without one the view shows that no rota is configured."""

    def on_call(self, now: datetime) -> Sequence[str] | None: ...


class RotaOnCall:
    """The OnCallSource of the escalation rota in the store (bot.store.oncall, `oncall set`):
    per brand with a rota, who is on call at `now` by level; None when no brand has a rota."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on_call(self, now: datetime) -> Sequence[str] | None:
        from bot.reporting.sla.escalation import ladder

        rota = self.store.oncall_rota()
        if not rota:
            return None
        names = {b.id: b.name for b in self.store.brands()}
        out = []
        for bid in sorted({e.brand_id for e in rota}):
            rungs = ladder([e for e in rota if e.brand_id == bid], now)
            out.append(f"{names.get(bid, bid)}: " + ("; ".join(
                f"level {lv} " + ", ".join(e.person for e in es) for lv, es in rungs)
                if rungs else "nobody (outside everyone's hours)"))
        return out


@dataclass(frozen=True, slots=True)
class MyMention:
    mention_id: int
    brand: str
    network: str
    priority: str
    url: str  # untrusted: from the network
    handle: str  # untrusted
    created_at: datetime
    due_at: datetime
    stage: SlaStage | None  # None: within the target; sla_warning; sla_breach


@dataclass(frozen=True, slots=True)
class QueueBucket:
    brand: str
    network: str
    open: int
    unclaimed: int
    oldest_id: int
    oldest_at: datetime


@dataclass(frozen=True, slots=True)
class QueueView:
    generated_at: datetime
    timezone: str
    mine: tuple[MyMention, ...]
    mine_total: int
    buckets: tuple[QueueBucket, ...]
    held: int
    first_response_median: float | None  # seconds, today (local day in `timezone`)
    answered_today: int
    on_call: tuple[str, ...] | None  # None: no rota configured

    @property
    def open_total(self) -> int:
        return sum(b.open for b in self.buckets)


class QueueBuilder:
    """Builds the queue view of a person (or of nobody: the team's view for a channel)."""

    def __init__(self, store: Store, *, timezone: str = "Europe/Berlin",
                 on_call: OnCallSource | None = None) -> None:
        self.store = store
        self.q = DigestQueries(store)
        self.timezone = timezone
        self.on_call = on_call

    def build(self, *, people: Sequence[str] = (), now: datetime) -> QueueView:
        """`people`: the names a person's claims are stored under (assignee: their platform
        user id and display name); empty for a channel's view without "mine"."""
        with self.store.engine.connect() as conn:
            q = self.q.bound(conn)
            names = {int(i): str(n) for i, n in fetch_all(conn, sa.select(brands.c.id,
                                                                            brands.c.name))}
            targets = q.sla_targets()
            mine, mine_total = self._mine(conn, people, targets, names, now)
            buckets = self._buckets(conn, names)
            held = int(conn.execute(sa.select(sa.func.count()).where(
                deliveries.c.state == DeliveryState.HELD.value)).scalar_one())
            zone = ZoneInfo(self.timezone)
            window = local_window(now.astimezone(zone).date(), zone)
            rows = q.window_mentions(list(names), [window]) if names else []
        waits = [max((r.first_reply - r.created_at).total_seconds(), 0.0)
                 for r in rows if r.first_reply is not None]
        found = self.on_call.on_call(now) if self.on_call is not None else None
        rota = tuple(found) if found is not None else None
        return QueueView(generated_at=now, timezone=self.timezone, mine=mine,
                         mine_total=mine_total, buckets=buckets, held=held,
                         first_response_median=percentile(waits, 0.5),
                         answered_today=len(waits), on_call=rota)

    def _mine(self, conn: sa.Connection, people: Sequence[str], targets: SlaTargets,
              names: dict[int, str], now: datetime) -> tuple[tuple[MyMention, ...], int]:
        if not people:
            return (), 0
        where = (mentions.c.status == MentionStatus.CLAIMED.value,
                 mentions.c.assignee.in_(list(dict.fromkeys(people))))
        total = int(conn.execute(sa.select(sa.func.count()).where(*where)).scalar_one())
        rows = fetch_all(conn, sa.select(
            mentions.c.id, mentions.c.brand_id, mentions.c.network, mentions.c.priority,
            mentions.c.url, authors.c.handle, mentions.c.created_at)
            .select_from(mentions.join(authors, authors.c.id == mentions.c.author_id))
            .where(*where).order_by(mentions.c.created_at, mentions.c.id).limit(MINE_SHOWN))
        out = []
        for mid, bid, network, priority, url, handle, created in rows:
            clock = targets.clock(int(bid), str(network), created)
            out.append(MyMention(int(mid), names.get(int(bid), str(bid)), str(network),
                                 str(priority), str(url), str(handle), created, clock.due_at,
                                 clock.stage(now)))
        # Most urgent first: the one due soonest.
        return tuple(sorted(out, key=lambda m: (m.due_at, m.mention_id))), total

    def _buckets(self, conn: sa.Connection, names: dict[int, str]) -> tuple[QueueBucket, ...]:
        unclaimed = sa.func.sum(sa.case((mentions.c.status == MentionStatus.NEW.value, 1),
                                        else_=0))
        rows = fetch_all(conn, sa.select(
            mentions.c.brand_id, mentions.c.network, sa.func.count(), unclaimed,
            sa.func.min(mentions.c.created_at))
            .where(mentions.c.status.in_(OPEN), mentions.c.muted.is_(False))
            .group_by(mentions.c.brand_id, mentions.c.network))
        out = []
        for bid, network, n, new, oldest in rows:
            first = conn.execute(
                sa.select(mentions.c.id)
                .where(mentions.c.brand_id == bid, mentions.c.network == network,
                       mentions.c.status.in_(OPEN), mentions.c.muted.is_(False),
                       mentions.c.created_at == oldest)
                .order_by(mentions.c.id).limit(1)).scalar_one()
            out.append(QueueBucket(names.get(int(bid), str(bid)), str(network), int(n),
                                   int(new or 0), int(first), oldest))
        return tuple(sorted(out, key=lambda b: (b.brand.casefold(), -b.open, b.network)))


def ago(delta: timedelta) -> str:
    """"3 min", "2 h 05 min", "4 d 3 h" (rounded down)."""
    seconds = max(int(delta.total_seconds()), 0)
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if days:
        return f"{days} d {hours % 24} h"
    if hours:
        return f"{hours} h {minutes % 60:02d} min"
    return f"{minutes} min"


def clock_text(m: MyMention, now: datetime) -> str:
    """The SLA clock of a claimed mention in words."""
    if m.stage == "sla_breach":
        return f"overdue by {ago(now - m.due_at)}"
    left = f"due in {ago(m.due_at - now)}"
    return f"{left} (warning)" if m.stage == "sla_warning" else left


def median_text(view: QueueView) -> str:
    if view.first_response_median is None:
        return "no first replies yet today"
    return (f"{ago(timedelta(seconds=view.first_response_median))} "
            f"over {view.answered_today} first replies today")


def on_call_text(view: QueueView) -> str:
    if view.on_call is None:
        return "no rota configured"
    return ", ".join(view.on_call) if view.on_call else "nobody"


def queue_lines(view: QueueView, *, mine: bool = True) -> list[str]:
    """A plain-text outline (console, Discord, Slack's fallback); without `mine` the
    channel's view (a pinned status). Network text (handles) is reduced by the caller's
    renderer like any other text; links are plain URLs."""
    now = view.generated_at
    lines = [f"My claimed mentions: {view.mine_total}"] if mine else []
    lines += [f"  #{m.mention_id} {m.brand} · {m.network} · {m.priority} · "
              f"{clock_text(m, now)} · @{m.handle} {m.url}" for m in view.mine]
    if view.mine_total > len(view.mine):
        lines.append(f"  … and {view.mine_total - len(view.mine)} more (list mine)")
    lines.append(f"Open queue: {view.open_total}"
                 + (f" (+{view.held} held for quiet hours)" if view.held else ""))
    lines += [f"  {b.brand} · {b.network}: {b.open} open, {b.unclaimed} unclaimed, oldest "
              f"#{b.oldest_id} {ago(now - b.oldest_at)} ago" for b in view.buckets]
    lines.append(f"First-response median today: {median_text(view)}")
    lines.append(f"On call: {on_call_text(view)}")
    return lines


__all__ = ["MINE_SHOWN", "MyMention", "OnCallSource", "QueueBucket", "QueueBuilder",
           "QueueView", "ago", "clock_text", "median_text", "on_call_text", "queue_lines"]
