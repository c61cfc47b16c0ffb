"""Platform-neutral mention cards: what every chat adapter renders in its own way."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain import OPEN_STATUSES, MentionStatus, ReplyState
from bot.networks import NetworksNotInstalled, network_specs
from bot.reporting.sla.rule import due_at as sla_due_at

if TYPE_CHECKING:  # the store (SQLAlchemy) only for the annotation: commands import cards
    from bot.networks import Moderator
    from bot.store.views import MentionView

ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    MentionStatus.NEW.value: ("claim", "reply", "resolve", "ignore", "mute"),
    MentionStatus.CLAIMED.value: ("reply", "resolve", "ignore", "mute"),
    MentionStatus.REPLIED.value: ("reply", "resolve"),
    MentionStatus.RESOLVED.value: (),
    MentionStatus.IGNORED.value: (),
}

OPEN = OPEN_STATUSES


@dataclass(frozen=True, slots=True)
class Card:
    """Everything a mention card shows. Text fields hold the network's raw, untrusted text:
    each renderer escapes them for its platform."""

    mention_id: int
    brand: str
    network: str
    author_handle: str
    author_name: str | None
    followers: int | None
    author_mentions: int
    author_answered: int
    text: str
    url: str
    language: str | None
    sentiment: str
    sentiment_score: float
    priority: str
    status: str
    assignee: str | None
    created_at: datetime
    echoes: int
    likes: int | None
    reposts: int | None
    replies: int | None
    reply_url: str | None
    reply_by: str | None
    reply_state: str | None
    actions: tuple[str, ...]
    # When the first reply is due (bot.reporting.sla.rule); None once answered or closed.
    # Renderers show the time left against their own clock.
    sla_due_at: datetime | None = None
    # Who hid the comment on its network ("hidden by Ana"); None: not hidden.
    hidden_by: str | None = None
    # An open mention on a network that takes replies, but not through Echtzeit here (no
    # responder: Stack Exchange without write access, ...): the link says "answer on the site".
    answer_on_site: bool = False


def card_for(view: MentionView, *, reply_networks: Container[str] | None = None,
             moderators: Mapping[str, Moderator] | None = None) -> Card:
    """The card of a mention. `reply_networks`: the networks Echtzeit can post replies on (the
    configured responders); a card from any other network (Hacker News, RSS, ...) offers no
    Reply button. None: every network is assumed to take replies. `moderators`: the networks
    that can hide comments; a comment one of them can hide gets a Hide (or Unhide) button."""
    m, a, b = view.mention, view.author, view.brand
    last = view.replies[-1] if view.replies else None
    sent = [r for r in view.replies if r.state == ReplyState.SENT.value]
    shown = sent[-1] if sent else last
    return Card(
        mention_id=m.id or 0,
        brand=b.name,
        network=m.network,
        author_handle=a.handle,
        author_name=a.name,
        followers=a.followers,
        # How often they wrote about us before this one, and how often we answered them.
        author_mentions=max(a.mentions_count - 1, 0),
        author_answered=a.answered_count,
        text=m.text,
        url=m.url,
        language=m.language,
        sentiment=m.sentiment,
        sentiment_score=m.sentiment_score,
        priority=m.priority,
        status=m.status,
        assignee=m.assignee,
        created_at=m.created_at,
        echoes=m.echoes,
        likes=m.likes,
        reposts=m.reposts,
        replies=m.replies,
        reply_url=shown.url if shown else None,
        reply_by=shown.by if shown else None,
        reply_state=shown.state if shown else None,
        actions=tuple(
            a for a in ACTIONS_BY_STATUS.get(m.status, ())
            if a != "reply" or reply_networks is None or m.network in reply_networks
        ) + _moderation(view, moderators),
        sla_due_at=(
            sla_due_at(m.created_at, m.network, view.sla_target_minutes)
            if m.status in OPEN and not sent else None
        ),
        hidden_by=view.hidden_by,
        answer_on_site=(reply_networks is not None and m.network not in reply_networks
                        and m.status in OPEN and _takes_replies(m.network)),
    )


def _takes_replies(network: str) -> bool:
    """Whether the network has replies at all (its spec names a reply limit)."""
    try:
        return any(s.name == network and s.reply_limit is not None for s in network_specs())
    except NetworksNotInstalled:
        return False


def _moderation(view: MentionView, moderators: Mapping[str, Moderator] | None,
                ) -> tuple[str, ...]:
    moderator = (moderators or {}).get(view.mention.network)
    if moderator is None or moderator.can_hide(view.mention) is not None:
        return ()
    return ("unhide",) if view.hidden_by else ("hide",)


def humanize_age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86_400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86_400}d"


def compact_number(n: int | None) -> str:
    if n is None:
        return "?"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1_000:
        return f"{n / 1000:.1f}k"
    return str(n)
