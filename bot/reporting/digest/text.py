"""The digest's plain-text outline, which the console and command results use, and the small
formatters the chat renderers share (durations, safe handles)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.reporting.digest.model import Digest, Trio

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
    share = (f", {d.complaints.now / d.mentions.now:.0%} of mentions"
             if d.mentions.now and d.complaints.now is not None else "")
    lines.append(f"  complaints (negative, needing a reply): {trio_text(d.complaints)}{share}")
    if d.noise.now or d.noise.prev or d.noise.earlier:
        lines.append(f"  hidden as noise: {trio_text(d.noise)} (below the route's minimum "
                     "relevance; list noise)")
    if d.top_authors:
        lines.append("  most reach: " + ", ".join(
            f"{safe_handle(a.handle)} on {a.network} ({_followers(a.followers)}, "
            f"{a.mentions}x)" for a in d.top_authors))
    if d.ratings:
        lines.append("Ratings: " + "; ".join(
            f"{safe_handle(r.app) if r.app else '?'} on {r.network} "
            f"{_stars(r.average.now)} from {_num(r.count.now, 'n')} "
            f"({_stars(r.average.prev)} from {_num(r.count.prev, 'n')} / "
            f"{_stars(r.average.earlier)} from {_num(r.count.earlier, 'n')})"
            + _trend(r.average) for r in d.ratings))
    lines.append(f"Interactions: replies {trio_text(d.replies)}, claims {trio_text(d.claims)}, "
                 f"resolves {trio_text(d.resolves)}")
    lines.append(f"  on the mentions: likes {trio_text(d.likes)}, "
                 f"reposts {trio_text(d.reposts)}")
    lines.append(f"First response (customer): median {trio_text(d.response_median, 'dur')}, "
                 f"p90 {trio_text(d.response_p90, 'dur')}")
    lines.append(f"First response (team): median {trio_text(d.team_median, 'dur')}, "
                 f"p90 {trio_text(d.team_p90, 'dur')}")
    if d.approvals.now or d.approvals.prev or d.approvals.earlier:
        lines.append(f"Approvals: {trio_text(d.approvals)}; time to approval: median "
                     f"{trio_text(d.approval_median, 'dur')}")
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
    if d.oncall:
        lines.append("On call now: " + " | ".join(d.oncall))
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


def _stars(average: float | None) -> str:
    return "-" if average is None else f"{average:.1f}★"


def _trend(average: Trio) -> str:
    """", up 0.4★" / ", down 1.0★" against the period before (nothing without both)."""
    if average.now is None or average.prev is None:
        return ""
    change = round(average.now - average.prev, 1)
    if change == 0:
        return ", steady"
    return f", {'up' if change > 0 else 'down'} {abs(change):.1f}★"
