"""The daily digest: a pure builder from the store's rows to a `Digest`, and its text outline.

One digest covers one chat channel and the brands routed to it, for one local day (or today so
far, or the last seven days), each figure beside the day before and the same weekday a week
earlier. docs/digest.md says how each figure is defined. Chat adapters render a `Digest` in their
own way (bot.chat.DigestSink); `digest_lines` is the plain-text outline the console and command
results use. Text in `top_authors`, `overdue` holds network text: renderers escape it.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Literal
from zoneinfo import ZoneInfo

from bot.domain import MentionStatus, Sentiment
from bot.reporting.digest.queries import Channel, ChannelPrefs, DigestQueries, ResponseRow, Window
from bot.reporting.sla.rule import BusinessHours, SlaTargets, default_target
from bot.reporting.staffing import Staffing, forecast, plan
from bot.store import Store

Kind = Literal["day", "today", "week"]
SENTIMENTS = tuple(s.value for s in Sentiment)
OVERDUE_SHOWN = 10
# Unanswered mentions older than this are not listed as overdue (they are long lost, and the
# scan stays bounded); see docs/digest.md.
OVERDUE_HORIZON = timedelta(days=7)
# The handling time (claim -> reply/resolve) is the median over this many recent days.
HANDLING_WINDOW = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Trio:
    """A figure for the period, the period before, and the period a week (or four) earlier."""

    now: float | None
    prev: float | None
    earlier: float | None


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime  # UTC
    end: datetime


@dataclass(frozen=True, slots=True)
class TopAuthor:
    handle: str  # network text
    network: str
    followers: int | None
    mentions: int


@dataclass(frozen=True, slots=True)
class PersonCounts:
    person: str
    replies: int
    claims: int
    resolves: int


@dataclass(frozen=True, slots=True)
class SlaCompliance:
    network: str
    target_minutes: int  # the default target (brands may override it)
    met: int
    breached: int
    pending: int  # still inside their target

    @property
    def rate(self) -> float | None:
        judged = self.met + self.breached
        return self.met / judged if judged else None


@dataclass(frozen=True, slots=True)
class Overdue:
    mention_id: int
    brand: str
    network: str
    url: str  # network text
    author_handle: str  # network text
    created_at: datetime
    due_at: datetime
    assignee: str | None


@dataclass(frozen=True, slots=True)
class SpikeNote:
    brand: str
    kind: str
    window_start: datetime
    window_end: datetime
    count: int
    expected: float
    negative_share: float


@dataclass(frozen=True, slots=True)
class FollowerGrowth:
    brand: str
    network: str
    handle: str
    followers: int
    change_prev: int | None
    change_earlier: int | None


@dataclass(frozen=True)
class Digest:
    platform: str
    channel: str
    brands: tuple[str, ...]
    kind: Kind
    timezone: str
    business_hours: str | None
    periods: tuple[Period, Period, Period]
    compare_labels: tuple[str, str]
    generated_at: datetime
    mentions: Trio
    by_network: dict[str, Trio]
    by_sentiment: dict[str, Trio]
    top_authors: tuple[TopAuthor, ...]
    replies: Trio
    claims: Trio
    resolves: Trio
    likes: Trio  # None where no mention of the period came with counts
    reposts: Trio
    response_median: Trio  # seconds: posted on the network -> our first reply sent
    response_p90: Trio
    team_median: Trio  # seconds: card relayed -> first staff action (business time if set)
    team_p90: Trio
    response_rate: Trio  # 0..1
    sla_rate: Trio  # 0..1, all networks
    sla: tuple[SlaCompliance, ...]
    people: tuple[PersonCounts, ...]
    overdue: tuple[Overdue, ...]
    overdue_total: int
    spikes: tuple[SpikeNote, ...]
    followers: tuple[FollowerGrowth, ...]
    staffing: Staffing | None
    hourly: dict[str, tuple[int, ...]] = field(default_factory=dict)  # per sentiment
    hour_labels: tuple[str, ...] = ()
    response_minutes: tuple[float, ...] = ()  # the period's customer response times

    @property
    def title(self) -> str:
        what = {"day": "Digest", "today": "Digest so far", "week": "Weekly digest"}[self.kind]
        return f"{what} for {', '.join(self.brands)} · {self.periods[0].label}"


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def local_window(day: date, zone: ZoneInfo, days: int = 1) -> Window:
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=days), time(0), zone)
    return Window(start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC")))


def due_day(prefs: ChannelPrefs, now: datetime) -> date:
    """The latest local day whose digest is due at `now` (it is posted at the digest hour of
    the day after)."""
    local = now.astimezone(ZoneInfo(prefs.timezone))
    today = local.date()
    return today - timedelta(days=1 if local.hour >= prefs.digest_hour else 2)


class DigestBuilder:
    """Computes digests from the store. Pure apart from reading: nothing is written."""

    def __init__(self, store: Store, *, timezone: str = "Europe/Berlin", digest_hour: int = 8,
                 business_hours: str | None = None, target_share: float = 0.8) -> None:
        self.store = store
        self.q = DigestQueries(store)
        self.timezone = timezone
        self.digest_hour = digest_hour
        self.business_hours = business_hours
        self.target_share = target_share

    def prefs(self, platform: str, channel: str) -> ChannelPrefs:
        return self.q.prefs(platform, channel, timezone=self.timezone,
                            digest_hour=self.digest_hour, business_hours=self.business_hours)

    def periods(self, kind: Kind, day: date, zone: ZoneInfo,
                now: datetime) -> tuple[tuple[Period, Period, Period], tuple[str, str]]:
        if kind == "week":
            weeks = [local_window(day - timedelta(days=6 + 7 * k), zone, 7) for k in (0, 1, 4)]
            labels = [f"{(day - timedelta(days=6 + 7 * k)).isoformat()} to "
                      f"{(day - timedelta(days=7 * k)).isoformat()}" for k in (0, 1, 4)]
            return (tuple(Period(lbl, w.start, w.end) for lbl, w in zip(labels, weeks,
                                                                          strict=True)),  # type: ignore[return-value]
                    ("week before", "4 weeks earlier"))
        out = []
        for back in (0, 1, 7):
            d = day - timedelta(days=back)
            w = local_window(d, zone)
            if kind == "today":
                cut = datetime.combine(d, now.astimezone(zone).time(), zone)
                w = Window(w.start, min(w.end, cut.astimezone(ZoneInfo("UTC"))))
            label = d.isoformat() + (f" until {now.astimezone(zone):%H:%M}"
                                     if kind == "today" else "")
            out.append(Period(label, w.start, w.end))
        return (out[0], out[1], out[2]), ("day before", "a week earlier")

    def build(self, platform: str, channel: str, *, now: datetime, kind: Kind = "day",
              day: date | None = None) -> Digest:
        """The digest of `channel` for `day` (default: the latest due day; with kind "today",
        today so far; with "week", the seven days ending with `day`)."""
        with self.store.engine.connect() as conn:
            # One checkout for the whole digest: every query below shares it.
            return self._build(self.q.bound(conn), platform, channel, now=now, kind=kind,
                               day=day)

    def _build(self, q: DigestQueries, platform: str, channel: str, *, now: datetime,
               kind: Kind, day: date | None) -> Digest:
        ch = q.channel(platform, channel)
        prefs = q.prefs(platform, channel, timezone=self.timezone,
                        digest_hour=self.digest_hour, business_hours=self.business_hours)
        zone = ZoneInfo(prefs.timezone)
        if day is None:
            day = now.astimezone(zone).date() if kind == "today" else due_day(prefs, now)
        periods, labels = self.periods(kind, day, zone, now)
        windows = [Window(p.start, p.end) for p in periods]
        hours = (BusinessHours.parse(prefs.business_hours, zone)
                 if prefs.business_hours else None)
        targets = q.sla_targets(ch.brand_ids)
        brand_names = dict(zip(ch.brand_ids, ch.brand_names, strict=True))
        rows = q.window_mentions(ch.brand_ids, windows)
        vol = self._volume(rows)
        resp = self._responses(rows, targets, hours, now)
        acts = self._actions(q.staff_counts(ch.brand_ids, windows))
        overdue, overdue_total = self._overdue(q, ch, targets, brand_names, now)
        hourly, hour_labels = self._hourly(rows, windows[0], zone)
        return Digest(
            platform=platform, channel=channel, brands=ch.brand_names, kind=kind,
            timezone=prefs.timezone, business_hours=prefs.business_hours, periods=periods,
            compare_labels=labels, generated_at=now,
            mentions=vol["total"], by_network=vol["network"], by_sentiment=vol["sentiment"],
            top_authors=tuple(TopAuthor(h, n, f, c) for h, n, f, c in
                              q.top_authors(ch.brand_ids, windows[0])),
            replies=acts["replies"], claims=acts["claims"], resolves=acts["resolves"],
            likes=vol["likes"], reposts=vol["reposts"],
            response_median=resp["median"], response_p90=resp["p90"],
            team_median=resp["team_median"], team_p90=resp["team_p90"],
            response_rate=resp["rate"], sla_rate=resp["sla_rate"], sla=resp["sla"],
            people=acts["people"], overdue=overdue, overdue_total=overdue_total,
            spikes=tuple(SpikeNote(brand_names.get(b, str(b)), k, s, e, c, x, share)
                         for b, k, s, e, c, _neg, x, share in
                         q.spikes(ch.brand_ids, windows[0])),
            followers=self._followers(q, ch, brand_names, day),
            staffing=self._staffing(q, ch, targets, zone, now, vol["networks_seen"]),
            hourly=hourly, hour_labels=hour_labels, response_minutes=resp["minutes"],
        )

    # --- sections ------------------------------------------------------------------------------

    def _volume(self, rows: Sequence[ResponseRow]) -> dict:  # type: ignore[type-arg]
        total = [0, 0, 0]
        likes: list[int | None] = [None, None, None]
        reposts: list[int | None] = [None, None, None]
        by_network: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0])
        by_sentiment: dict[str, list[float]] = {s: [0, 0, 0] for s in SENTIMENTS}
        for r in rows:
            b = r.bucket
            total[b] += 1
            by_network[r.network][b] += 1
            by_sentiment.setdefault(r.sentiment, [0, 0, 0])[b] += 1
            if r.likes is not None:
                likes[b] = (likes[b] or 0) + r.likes
            if r.reposts is not None:
                reposts[b] = (reposts[b] or 0) + r.reposts
        seen = [n for n, v in by_network.items() if v[0]]
        return {
            "total": Trio(*total),
            "network": {k: Trio(*v) for k, v in sorted(by_network.items(),
                                                       key=lambda kv: (-kv[1][0], kv[0]))},
            "sentiment": {k: Trio(*v) for k, v in by_sentiment.items()},
            "likes": Trio(*likes), "reposts": Trio(*reposts), "networks_seen": seen,
        }

    def _responses(self, rows: Sequence[ResponseRow], targets: SlaTargets,
                   hours: BusinessHours | None, now: datetime) -> dict:  # type: ignore[type-arg]
        waits: list[list[float]] = [[], [], []]
        team: list[list[float]] = [[], [], []]
        answered = [0, 0, 0]
        eligible = [0, 0, 0]
        met = [0, 0, 0]
        breached = [0, 0, 0]
        per_network: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for r in rows:
            b = r.bucket
            if r.relayed_at is not None and r.first_action is not None:
                start, end = r.relayed_at, max(r.first_action, r.relayed_at)
                spent = hours.elapsed(start, end) if hours else end - start
                team[b].append(spent.total_seconds())
            closed_unanswered = r.first_reply is None and r.status in (
                MentionStatus.IGNORED.value, MentionStatus.RESOLVED.value)
            if closed_unanswered:
                continue  # needed no answer (spam, answered elsewhere): outside rate and SLA
            eligible[b] += 1
            due = targets.due_at(r.brand_id, r.network, r.created_at)
            if r.first_reply is not None:
                answered[b] += 1
                waits[b].append(max((r.first_reply - r.created_at).total_seconds(), 0.0))
                ok = r.first_reply <= due
            elif now > due:
                ok = False
            else:
                if b == 0:
                    per_network[r.network][2] += 1
                continue
            met[b] += ok
            breached[b] += not ok
            if b == 0:
                per_network[r.network][0 if ok else 1] += 1

        def trio(values: Sequence[float | None]) -> Trio:
            return Trio(*values)

        def share(num: Sequence[int], den: Sequence[int]) -> Trio:
            return trio([n / d if d else None for n, d in zip(num, den, strict=True)])

        return {
            "median": trio([percentile(w, 0.5) for w in waits]),
            "p90": trio([percentile(w, 0.9) for w in waits]),
            "team_median": trio([percentile(t, 0.5) for t in team]),
            "team_p90": trio([percentile(t, 0.9) for t in team]),
            "rate": share(answered, eligible),
            "sla_rate": share(met, [m + x for m, x in zip(met, breached, strict=True)]),
            "sla": tuple(SlaCompliance(n, int(default_target(n).total_seconds() // 60), *v)
                         for n, v in sorted(per_network.items())),
            "minutes": tuple(w / 60 for w in waits[0]),
        }

    def _actions(self, counts: Iterable[tuple[int, str, str, int]],
                 ) -> dict:  # type: ignore[type-arg]
        replies = [0, 0, 0]
        claims = [0, 0, 0]
        resolves = [0, 0, 0]
        people: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for bucket, kind, actor, n in counts:
            slot = 0 if kind == "replied" else 2 if kind == "resolved" else 1
            (replies, claims, resolves)[slot][bucket] += n
            if bucket == 0:
                people[actor][slot] += n
        ranked = sorted(people.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
        return {
            "replies": Trio(*replies), "claims": Trio(*claims), "resolves": Trio(*resolves),
            "people": tuple(PersonCounts(p, *v) for p, v in ranked),
        }

    def _overdue(self, q: DigestQueries, ch: Channel, targets: SlaTargets,
                 names: dict[int, str], now: datetime) -> tuple[tuple[Overdue, ...], int]:
        shown, total = q.overdue(ch.brand_ids, targets, since=now - OVERDUE_HORIZON, now=now,
                                 limit=OVERDUE_SHOWN)
        return tuple(Overdue(o.mention_id, names.get(o.brand_id, str(o.brand_id)), o.network,
                             o.url, o.author_handle, o.created_at,
                             targets.due_at(o.brand_id, o.network, o.created_at), o.assignee)
                     for o in shown), total

    def _hourly(self, rows: Sequence[ResponseRow], window: Window,
                zone: ZoneInfo) -> tuple[dict[str, tuple[int, ...]], tuple[str, ...]]:
        n = max(math.ceil((window.end - window.start).total_seconds() / 3600), 1)
        counts = {s: [0] * n for s in SENTIMENTS}
        for r in rows:
            if r.bucket != 0:
                continue
            i = int((r.created_at - window.start).total_seconds() // 3600)
            if 0 <= i < n:
                counts.setdefault(r.sentiment, [0] * n)[i] += 1
        labels = tuple(f"{(window.start + timedelta(hours=i)).astimezone(zone):%H}"
                       for i in range(n))
        return {k: tuple(v) for k, v in counts.items()}, labels

    def _followers(self, q: DigestQueries, ch: Channel, names: dict[int, str], day: date,
                   ) -> tuple[FollowerGrowth, ...]:
        readings: dict[tuple[int, str, str], dict[date, int]] = defaultdict(dict)
        for bid, network, handle, d, followers in q.followers(
                ch.brand_ids, day - timedelta(days=21), day):
            readings[(bid, network, handle)][d] = followers

        def on_or_before(values: dict[date, int], limit: date) -> int | None:
            days = [d for d in values if d <= limit]
            return values[max(days)] if days else None

        out = []
        for (bid, network, handle), values in sorted(readings.items()):
            latest = on_or_before(values, day)
            if latest is None:
                continue
            prev = on_or_before(values, day - timedelta(days=1))
            earlier = on_or_before(values, day - timedelta(days=7))
            out.append(FollowerGrowth(
                names.get(bid, str(bid)), network, handle, latest,
                latest - prev if prev is not None else None,
                latest - earlier if earlier is not None else None))
        return tuple(out)

    def _staffing(self, q: DigestQueries, ch: Channel, targets: SlaTargets, zone: ZoneInfo,
                  now: datetime, networks: Sequence[str]) -> Staffing | None:
        tomorrow = now.astimezone(zone).date() + timedelta(days=1)
        created = q.brands_created(ch.brand_ids)
        earliest = created.astimezone(zone).date() if created else tomorrow
        dates = [tomorrow - timedelta(days=7 * k) for k in range(1, 5)]
        dates = [d for d in dates if d >= earliest]
        if not dates:
            return None
        arrivals = q.arrivals(ch.brand_ids, [local_window(d, zone) for d in dates])
        expected = forecast(arrivals, zone=zone, weekday_dates=dates)
        handled = q.handling_times(ch.brand_ids, Window(now - HANDLING_WINDOW, now))
        aht = median(handled) / 60 if handled else None
        sla_minutes = min((targets.target(b, n).total_seconds() / 60
                           for b in ch.brand_ids for n in networks), default=60.0)
        return plan(day=tomorrow, expected_by_hour=expected, weeks=len(dates),
                    handling_minutes=aht, sla_minutes=sla_minutes,
                    target_share=self.target_share)


# --- the plain-text outline ---------------------------------------------------------------------

_SAFE_HANDLE = re.compile(r"[^\w.\-@]")


def safe_handle(handle: str) -> str:
    """A handle reduced to letters, digits and '_.-@', never starting with '@' (so it cannot
    read as a ping such as @here); user@instance stays readable."""
    return _SAFE_HANDLE.sub("", handle).lstrip("@")[:60] or "?"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m"
    if whole < 86_400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86_400}d{whole % 86_400 // 3600}h"


def _num(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:.0f}%"
    if kind == "dur":
        return duration(value)
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else f"{value:.0f}"


def trio_text(t: Trio, kind: str = "n") -> str:
    return f"{_num(t.now, kind)} ({_num(t.prev, kind)} / {_num(t.earlier, kind)})"


def digest_lines(d: Digest, *, now: datetime | None = None) -> list[str]:
    """The digest as plain-text lines. Network text appears only reduced (handles) or as the
    mention number; links to overdue mentions travel in `Digest.overdue` for the renderer."""
    zone = ZoneInfo(d.timezone)
    lines = [f"Figures: {d.periods[0].label} ({d.compare_labels[0]} / {d.compare_labels[1]}); "
             f"times in {d.timezone}"
             + (f"; team times in business hours ({d.business_hours})"
                if d.business_hours else "")]
    lines.append(f"Mentions: {trio_text(d.mentions)}")
    if d.by_network:
        lines.append("  by network: " + ", ".join(f"{n} {trio_text(t)}"
                                                  for n, t in d.by_network.items()))
    lines.append("  by sentiment: " + ", ".join(f"{s} {trio_text(t)}"
                                                for s, t in d.by_sentiment.items()))
    if d.top_authors:
        lines.append("  most reach: " + ", ".join(
            f"{safe_handle(a.handle)} on {a.network} ({_followers(a.followers)}, "
            f"{a.mentions}x)" for a in d.top_authors))
    lines.append(f"Interactions: replies {trio_text(d.replies)}, claims {trio_text(d.claims)}, "
                 f"resolves {trio_text(d.resolves)}")
    lines.append(f"  on the mentions: likes {trio_text(d.likes)}, "
                 f"reposts {trio_text(d.reposts)}")
    lines.append(f"First response (customer): median {trio_text(d.response_median, 'dur')}, "
                 f"p90 {trio_text(d.response_p90, 'dur')}")
    lines.append(f"First response (team): median {trio_text(d.team_median, 'dur')}, "
                 f"p90 {trio_text(d.team_p90, 'dur')}")
    lines.append(f"Response rate: {trio_text(d.response_rate, 'pct')}; "
                 f"within SLA: {trio_text(d.sla_rate, 'pct')}")
    lines.extend(f"  SLA {s.network} ({duration(s.target_minutes * 60)}): "
                 f"{_num(s.rate, 'pct')} met ({s.met} met, {s.breached} breached, "
                 f"{s.pending} pending)" for s in d.sla)
    if d.people:
        lines.append("People: " + "; ".join(
            f"{p.person}: {p.replies} replies, {p.claims} claims, {p.resolves} resolves"
            for p in d.people))
    if d.overdue_total:
        lines.append(f"Unanswered past their SLA: {d.overdue_total}")
        for o in d.overdue:
            late = duration(((now or d.generated_at) - o.due_at).total_seconds())
            lines.append(f"  #{o.mention_id} {o.brand} · {o.network} · {late} over"
                         + (f" · {o.assignee}" if o.assignee else ""))
    else:
        lines.append("Unanswered past their SLA: none")
    if d.spikes:
        lines.extend(f"Spike: {sp.brand} {sp.window_start.astimezone(zone):%H:%M}-"
                     f"{sp.window_end.astimezone(zone):%H:%M}: {sp.count} mentions "
                     f"(usual {sp.expected:.1f}), {sp.negative_share * 100:.0f}% negative"
                     for sp in d.spikes)
    else:
        lines.append("Spikes: none")
    if d.followers:
        lines.append("Followers: " + "; ".join(
            f"{f.brand} {f.network} {safe_handle(f.handle)} {f.followers}"
            f" ({_signed(f.change_prev)} / {_signed(f.change_earlier)})" for f in d.followers))
    else:
        lines.append("Followers: no data")
    if d.staffing is None:
        lines.append("Staffing: no history yet for a forecast")
    else:
        st = d.staffing
        lines.append(
            f"Staffing {st.day.isoformat()}: {sum(st.expected_by_hour):.0f} mentions expected "
            f"(mean of {st.weeks} earlier {st.day:%A}s); to answer "
            f"{st.target_share * 100:.0f}% within {duration(st.answer_within_minutes * 60)} "
            f"with {st.handling_minutes:.1f} min handling"
            f"{'' if st.handling_measured else ' (assumed, none measured yet)'}: "
            + ", ".join(f"{n.name} {n.start_hour:02d}-{n.end_hour:02d} {n.people} "
                        f"({n.peak_per_hour:.1f}/h at peak)" for n in st.shifts)
            + ("" if st.reachable else " - handling alone takes longer than the SLA"))
        busy = [(h, v) for h, v in enumerate(st.expected_by_hour) if v]
        if busy:
            lines.append("  expected by hour: " + " ".join(f"{h:02d}h:{v:.1f}"
                                                           for h, v in busy))
    return lines


def _followers(n: int | None) -> str:
    return "? followers" if n is None else f"{n} followers"


def _signed(n: int | None) -> str:
    return "-" if n is None else f"{n:+d}"


def overdue_ids(d: Digest) -> Iterable[int]:
    return (o.mention_id for o in d.overdue)
