"""The digest's model: plain data from the builder to the renderers, and the rows and windows
its queries read.

One digest covers one chat channel and the brands routed to it, for one local day (or today so
far, or the last seven days), each figure beside the day before and the same weekday a week
earlier. docs/digest.md says how each figure is defined. Chat adapters render a `Digest` in their
own way (bot.chat.DigestSink). Text in `top_authors`, `overdue` holds network text: renderers
escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.reporting.staffing import Staffing

Kind = Literal["day", "today", "week"]


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


@dataclass(frozen=True, slots=True)
class RatingTrend:
    """An app's reviews with stars (app-store networks): how many came in each period and
    their average stars (None where none came)."""

    network: str
    app: str  # network text (a package name, an App Store id): renderers reduce it
    count: Trio
    average: Trio


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
    response_minutes: tuple[float, ...] = ()  # the period's customer response times, ascending
    # Replies that needed a second person (bot.approvals): how many were approved, and the
    # median seconds from the draft (its submission) to its approval.
    approvals: Trio = field(default_factory=lambda: Trio(0, 0, 0))
    approval_median: Trio = field(default_factory=lambda: Trio(None, None, None))
    # Who is on call now per brand with a rota: "Acme: level 1 ana; level 2 ben".
    oncall: tuple[str, ...] = ()
    # bot.triage: negative mentions that need a reply, and mentions hidden from this channel
    # as noise (below its route's minimum relevance: stored, not carded; `list noise`).
    complaints: Trio = field(default_factory=lambda: Trio(0, 0, 0))
    noise: Trio = field(default_factory=lambda: Trio(0, 0, 0))
    # Rated reviews per app (mentions with `rating`); empty when the channel has none.
    ratings: tuple[RatingTrend, ...] = ()

    @property
    def title(self) -> str:
        what = {"day": "Digest", "today": "Digest so far", "week": "Weekly digest"}[self.kind]
        return f"{what} for {', '.join(self.brands)} · {self.periods[0].label}"


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open UTC interval [start, end)."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Channel:
    platform: str
    channel: str
    brand_ids: tuple[int, ...]
    brand_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """One mention of a window with its counts and the times its first answers came."""

    mention_id: int
    bucket: int
    brand_id: int
    network: str
    created_at: datetime
    status: str
    sentiment: str
    likes: int | None
    reposts: int | None
    first_reply: datetime | None
    relayed_at: datetime | None
    first_action: datetime | None


@dataclass(frozen=True, slots=True)
class OverdueRow:
    """An open, unanswered mention past its SLA target, with what the digest shows of it."""

    mention_id: int
    brand_id: int
    network: str
    created_at: datetime
    assignee: str | None
    url: str
    author_handle: str


@dataclass(frozen=True, slots=True)
class ChannelPrefs:
    timezone: str
    digest_hour: int
    business_hours: str | None
    digest_enabled: bool
