"""The digest builder: a pure function of the store's rows (read through DigestQueries) to a
`Digest` (bot.reporting.digest.model); docs/digest.md says how each figure is defined."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from bot.domain import MentionStatus, Sentiment
from bot.reporting.digest.model import (
    Channel,
    ChannelPrefs,
    Digest,
    FollowerGrowth,
    Kind,
    Overdue,
    Period,
    PersonCounts,
    RatingTrend,
    ResponseRow,
    SlaCompliance,
    SpikeNote,
    TopAuthor,
    Trio,
    Window,
)
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.sla.escalation import ladder
from bot.reporting.sla.hours import BusinessHours
from bot.reporting.sla.rule import SlaTargets, default_target
from bot.reporting.staffing import Staffing, forecast, plan
from bot.store import Store

SENTIMENTS = tuple(s.value for s in Sentiment)
OVERDUE_SHOWN = 10
# Unanswered mentions older than this are not listed as overdue (they are long lost, and the
# scan stays bounded); see docs/digest.md.
OVERDUE_HORIZON = timedelta(days=7)
# The handling time (claim -> reply/resolve) is the median over this many recent days.
HANDLING_WINDOW = timedelta(days=14)


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
            q = self.q.bound(conn)
            q.serial_plans()
            return self._build(q, platform, channel, now=now, kind=kind, day=day)

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
        waited: list[list[float]] = [[], [], []]
        for b, seconds in q.approval_waits(ch.brand_ids, windows):
            waited[b].append(seconds)
        complaints, noise = q.triage_counts(ch.brand_ids, windows, platform=platform,
                                            channel=channel)
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
            approvals=Trio(*(len(w) for w in waited)),
            approval_median=Trio(*(percentile(w, 0.5) for w in waited)),
            oncall=self._oncall(q, ch.brand_ids, brand_names, now),
            complaints=Trio(*complaints), noise=Trio(*noise),
            ratings=self._ratings(q, ch.brand_ids, windows),
        )

    def _ratings(self, q: DigestQueries, brand_ids: Sequence[int],
                 windows: Sequence[Window]) -> tuple[RatingTrend, ...]:
        """Rated reviews per app in each period: their count and average stars. Apps with a
        review in any period are listed, those of the current period first (most reviews)."""
        counts: dict[tuple[str, str], list[float | None]] = {}
        sums: dict[tuple[str, str], list[float | None]] = {}
        for i, network, app, n, average in q.ratings(brand_ids, windows):
            counts.setdefault((network, app), [0, 0, 0])[i] = n
            sums.setdefault((network, app), [None, None, None])[i] = round(average, 2)
        keys = sorted(counts, key=lambda k: (-(counts[k][0] or 0), k))
        return tuple(RatingTrend(network=k[0], app=k[1], count=Trio(*counts[k]),
                                 average=Trio(*sums[k])) for k in keys)

    def _oncall(self, q: DigestQueries, brand_ids: Sequence[int], names: dict[int, str],
                now: datetime) -> tuple[str, ...]:
        """Who is on call now, per brand of the channel with an escalation rota."""
        rota = q.oncall(brand_ids)
        out = []
        for bid in brand_ids:
            entries = [e for e in rota if e.brand_id == bid]
            if not entries:
                continue
            rungs = ladder(entries, now)
            out.append(f"{names.get(bid, bid)}: " + ("; ".join(
                f"level {lv} " + ", ".join(e.person for e in es) for lv, es in rungs)
                if rungs else "nobody (outside everyone's hours)"))
        return tuple(out)

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
            "minutes": tuple(sorted(w / 60 for w in waits[0])),  # ascending, on every database
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
