"""Platform-neutral domain types that flow through the core.

A source turns a network's API objects into `Post`s; the pipeline turns a matching `Post` into a
stored mention. Nothing here knows a chat platform or a network by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class MentionStatus(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    REPLIED = "replied"
    RESOLVED = "resolved"
    IGNORED = "ignored"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the maximum number of attempts
    GROUPED = "grouped"  # part of a flood: counted in the spike alert, never sent on its own
    HELD = "held"  # quiet hours: waits (next_attempt_at = their end) for the catch-up notice
    CAUGHT_UP = "caught_up"  # listed in a catch-up notice (catch_up_id), never sent on its own


class ReplyState(StrEnum):
    PENDING = "pending"  # recorded, not yet handed to the network
    SENT = "sent"
    FAILED = "failed"  # the network refused it: certainly not posted
    UNKNOWN = "unknown"  # an error left it unclear whether the network accepted it


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


# A route's minimum priority compares by this order.
PRIORITY_ORDER = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
# Urgent enough to be posted during a route's quiet hours and on its own in a backlog
# (docs/routing.md): high and urgent (bot.enrich sets them from reach and negativity).
URGENT_PRIORITY = "high"


def is_urgent(priority: str) -> bool:
    return PRIORITY_ORDER.get(priority, 1) >= PRIORITY_ORDER[URGENT_PRIORITY]
# A mention is open (someone should act) while it is new or claimed.
OPEN_STATUSES = (MentionStatus.NEW.value, MentionStatus.CLAIMED.value)


@dataclass(frozen=True, slots=True)
class Author:
    """The author of a post as the network describes them."""

    handle: str
    name: str | None = None
    followers: int | None = None
    url: str | None = None
    # Links of the profile that the network verified the author controls (a Mastodon field
    # with `verified_at`, a GitHub profile's blog): bot.identities links accounts by them.
    proofs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Post:
    """One item from a network, before matching. `created_at` is aware, in UTC."""

    network: str
    external_id: str
    url: str
    author: Author
    text: str
    created_at: datetime
    lang: str | None = None
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    in_reply_to: str | None = None
    # The post on the same network this one quotes or reposts (its external id), if any.
    quotes: str | None = None
    # App-store reviews: the stars given (1..5) and the app reviewed (its package name or
    # App Store id); None elsewhere.
    rating: int | None = None
    app: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
