"""Platform-neutral mention cards: what every chat adapter renders in its own way."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain import OPEN_STATUSES, MentionStatus, ReplyState
from bot.networks import NetworksNotInstalled, network_specs
from bot.reporting.sla.rule import due_at as sla_due_at
from bot.untrusted import clean, truncate

if TYPE_CHECKING:  # the store (SQLAlchemy) only for the annotation: commands import cards
    from bot.networks import Moderator
    from bot.store.views import MentionView, PersonSummary, StorySummary

ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    MentionStatus.NEW.value: ("claim", "reply", "resolve", "ignore", "mute"),
    MentionStatus.CLAIMED.value: ("reply", "resolve", "ignore", "mute"),
    MentionStatus.REPLIED.value: ("reply", "resolve"),
    MentionStatus.RESOLVED.value: (),
    MentionStatus.IGNORED.value: (),
}

OPEN = OPEN_STATUSES

# Feedback the team gives on a card (bot/triage/feedback.py): "not about us" and "no reply
# needed" while the mention is open; a sentiment correction (one action per other sentiment)
# wherever the card has buttons at all.
FEEDBACK_ACTIONS_BY_STATUS: dict[str, tuple[str, ...]] = {
    MentionStatus.NEW.value: ("notus", "noreply"),
    MentionStatus.CLAIMED.value: ("notus", "noreply"),
}
SENTIMENT_ACTION = "sentiment_"
SENTIMENT_LABELS = ("negative", "neutral", "positive")


def button_command(action: str, mention_id: int) -> tuple[str, str]:
    """The command (name, arguments) behind a card's button: `sentiment_negative` on #42 is
    `sentiment 42 negative`; the others take the mention id alone (Mute: see each adapter)."""
    if action.startswith(SENTIMENT_ACTION):
        return "sentiment", f"{mention_id} {action.removeprefix(SENTIMENT_ACTION)}"
    return action, str(mention_id)


def feedback_actions(status: str, sentiment: str) -> tuple[str, ...]:
    """The feedback buttons of a card in this state: see FEEDBACK_ACTIONS_BY_STATUS."""
    if not ACTIONS_BY_STATUS.get(status):
        return ()
    return FEEDBACK_ACTIONS_BY_STATUS.get(status, ()) + tuple(
        SENTIMENT_ACTION + s for s in SENTIMENT_LABELS if s != sentiment)


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
    # The reply draft (bot.approvals): its text (a person's or an AI endpoint's: untrusted,
    # escaped by each renderer like the post), its state (suggested | awaiting | approved |
    # rejected), who wrote and last edited it, who decided and why (a rejection's reason).
    draft_id: int | None = None
    draft_text: str | None = None
    draft_state: str | None = None
    draft_origin: str | None = None
    draft_by: str | None = None
    draft_edited_by: str | None = None
    draft_decided_by: str | None = None
    draft_reason: str | None = None

    # The card heads a story in its channel: the story's networks, counts, newest and
    # most-reached posts (their text untrusted). None: a mention on its own, or a member.
    story: StorySummary | None = None
    # The story this mention belongs to (a member's card names it).
    story_id: int | None = None
    # The person behind the author across networks (bot.identities); None: not linked.
    person: PersonSummary | None = None
    # The network reported the post deleted (no reply possible, no SLA) or edited (`text` is
    # the edited one); renderers say so.
    deleted: bool = False
    edited: bool = False
    # bot.triage: how much the post calls for an answer and how surely it is about the brand
    # (0..1; None for mentions stored before these were scored).
    needs_reply: float | None = None
    relevance: float | None = None
    # The team's feedback buttons (feedback_actions): rendered apart from `actions`.
    feedback: tuple[str, ...] = ()
    # Who corrected the sentiment shown (None: the model's label).
    sentiment_by: str | None = None
    # Who hid the comment on its network ("hidden by Ana"); None: not hidden.
    hidden_by: str | None = None
    # An open mention on a network that takes replies, but not through Echtzeit here (no
    # responder: Stack Exchange without write access, ...): the link says "answer on the site".
    answer_on_site: bool = False
    # App-store reviews: the stars given (1..5) and the app reviewed; None elsewhere.
    rating: int | None = None
    app: str | None = None

    @property
    def rating_line(self) -> str | None:
        """"★★☆☆☆ 2/5 · com.acme.app" for a rated review (the app is the network's text:
        renderers escape it), None for a post without stars."""
        stars = stars_text(self.rating)
        if stars is None:
            return None
        return f"{stars} · {clean(self.app)}" if self.app else stars

    @property
    def marks(self) -> str:
        """"deleted" / "edited" / "" for the renderers' status line."""
        return "deleted" if self.deleted else "edited" if self.edited else ""

    @property
    def draft_line(self) -> str | None:
        """The draft's state in words (plain text; names are staff's, escape them anyway)."""
        if self.draft_state is None:
            return None
        origin = "AI draft" if self.draft_origin == "ai" else "Draft"
        edited = f", edited by {self.draft_edited_by}" if self.draft_edited_by else ""
        if self.draft_state == "suggested":
            return f"{origin} asked for by {self.draft_by}{edited}: not sent; Send or Edit it"
        if self.draft_state == "awaiting":
            return f"{origin} by {self.draft_by}{edited}: awaiting approval"
        if self.draft_state == "rejected":
            return (f"{origin} by {self.draft_by} rejected by {self.draft_decided_by}: "
                    f"{self.draft_reason or ''}")
        if self.draft_state == "approved":
            return f"{origin} by {self.draft_by}{edited}: approved by {self.draft_decided_by}"
        return None


def stars_text(rating: int | None) -> str | None:
    """"★★☆☆☆ 2/5" for 1..5 stars; None for no rating (or one out of range)."""
    if rating is None or not 1 <= rating <= 5:
        return None
    return f"{'★' * rating}{'☆' * (5 - rating)} {rating}/5"


def triage_text(card: Card) -> str:
    """"needs reply 82% · relevance 91%", the parts that are known ("" when neither is)."""
    parts = []
    if card.needs_reply is not None:
        parts.append(f"needs reply {round(card.needs_reply * 100)}%")
    if card.relevance is not None:
        parts.append(f"relevance {round(card.relevance * 100)}%")
    return " · ".join(parts)


def _actions(view: MentionView, reply_networks: Container[str] | None,
             ai_drafts: bool) -> tuple[str, ...]:
    m, d = view.mention, view.draft
    replies = m.deleted_at is None and (reply_networks is None or m.network in reply_networks)
    base = tuple(a for a in ACTIONS_BY_STATUS.get(m.status, ()) if a != "reply" or replies)
    if d is not None and d.state == "awaiting":
        # Nobody replies past a reply that waits for its approval.
        return ("approve", "edit", "reject", *(a for a in base if a != "reply"))
    if d is not None and d.state == "suggested" and "reply" in base:
        return ("send", "edit", *base)
    if ai_drafts and "reply" in base:
        i = base.index("reply") + 1
        return (*base[:i], "draft", *base[i:])
    return base


def card_for(view: MentionView, *, reply_networks: Container[str] | None = None,
             ai_drafts: bool = False, story: StorySummary | None = None,
             moderators: Mapping[str, Moderator] | None = None) -> Card:
    """The card of a mention. `reply_networks`: the networks Echtzeit can post replies on (the
    configured responders); a card from any other network (Hacker News, RSS, ...) offers no
    Reply button. None: every network is assumed to take replies. `ai_drafts`: an AI endpoint
    is configured (a Draft button). `story`: the summary of the story this card heads in its
    channel (bot.store's claim gives it). `moderators`: the networks that can hide comments; a
    comment one of them can hide gets a Hide (or Unhide) button."""
    m, a, b = view.mention, view.author, view.brand
    d = view.draft
    if d is not None and d.state == "dropped":
        d = None
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
        actions=_actions(view, reply_networks, ai_drafts) + _moderation(view, moderators),
        sla_due_at=(
            sla_due_at(m.created_at, m.network, view.sla_target_minutes)
            if m.status in OPEN and not sent and m.deleted_at is None else None
        ),
        draft_id=d.id if d else None,
        draft_text=d.text if d else None,
        draft_state=d.state if d else None,
        draft_origin=d.origin if d else None,
        draft_by=d.by if d else None,
        draft_edited_by=d.edited_by if d else None,
        draft_decided_by=d.decided_by if d else None,
        draft_reason=d.reason if d else None,
        story=story,
        story_id=m.story_id,
        person=view.person,
        deleted=m.deleted_at is not None,
        edited=m.edited_at is not None,
        needs_reply=m.needs_reply,
        relevance=m.relevance,
        feedback=feedback_actions(m.status, m.sentiment),
        sentiment_by=m.sentiment_by,
        hidden_by=view.hidden_by,
        rating=m.rating,
        app=m.app,
        answer_on_site=(reply_networks is not None and m.network not in reply_networks
                        and m.status in OPEN and _takes_replies(m.network)),
    )


def story_lines(s: StorySummary) -> list[str]:
    """A story's summary in plain lines (network text cleaned and cut; each renderer escapes
    them as it does any other untrusted text)."""
    nets = ", ".join(f"{n} {c}" for n, c in s.networks)
    state = [f"{s.answered} answered"] + ([f"{s.claimed} claimed"] if s.claimed else []) + (
        [f"{s.closed} closed"] if s.closed else [])
    return [
        f"Story {s.story_id}: {s.posts} posts ({nets}) · {', '.join(state)} · "
        f"joined by {REASONS.get(s.reason, s.reason)}",
        f"Newest: #{s.newest.mention_id} {s.newest.network} @{clean(s.newest.handle)}: "
        f"{truncate(clean(s.newest.text).replace(chr(10), ' '), 120)}",
        f"Most reached: #{s.most_reached.mention_id} {s.most_reached.network} "
        f"@{clean(s.most_reached.handle)} ({compact_number(s.most_reached.followers)} "
        f"followers): {truncate(clean(s.most_reached.text).replace(chr(10), ' '), 120)}",
    ]


REASONS = {"link": "a shared link", "reference": "quotes and answers",
           "text": "nearly the same text"}


def person_line(p: PersonSummary) -> str:
    """The person behind a card's author across networks, in one plain line."""
    accounts = ", ".join(f"{n}:@{clean(h)}" for n, h in p.accounts)
    return (f"Same person as {accounts} · {p.mentions} mentions, {p.answered} answered · "
            f"community value {p.value:.1f}")


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
