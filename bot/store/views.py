"""The plain data classes that go in and out of the store.

No SQL here: the row types are imported for the annotations only, so that cards, commands and
chat ports can name these classes under TYPE_CHECKING without pulling in SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.models import Author, Brand, Delivery, Draft, Mention, Reply
    from bot.stories import StoryHints


@dataclass(frozen=True, slots=True)
class NewMention:
    """One mention as the pipeline hands it to the store (already matched and enriched)."""

    brand_id: int
    network: str
    external_id: str
    url: str
    canonical_url: str
    author_handle: str
    author_name: str | None
    author_followers: int | None
    text: str
    text_hash: str
    language: str | None
    sentiment: str
    sentiment_score: float
    priority: str
    created_at: datetime
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    in_reply_to: str | None = None
    echoes: int = 0
    # What clusters it into a story (bot.stories); None: not clustered.
    story: StoryHints | None = None
    # Keys the author is known by or proved (bot.identities): ("own"|"proof", key) pairs.
    author_keys: tuple[tuple[str, str], ...] = ()
    needs_reply: float | None = None
    relevance: float | None = None
    # App-store reviews: the stars (1..5) and the app (Post.rating, Post.app).
    rating: int | None = None
    app: str | None = None


@dataclass(frozen=True, slots=True)
class StoryPost:
    """One member of a story as its card and `story` list it (text untrusted)."""

    mention_id: int
    network: str
    handle: str
    followers: int | None
    text: str
    url: str
    status: str
    created_at: datetime
    answered: bool


@dataclass(frozen=True, slots=True)
class StorySummary:
    """A story as its parent card shows it: the networks and counts, the newest and the
    most-reached posts, and how many of its posts are answered, claimed, closed."""

    story_id: int
    posts: int
    networks: tuple[tuple[str, int], ...]  # (network, posts), most first
    newest: StoryPost
    most_reached: StoryPost
    answered: int
    claimed: int
    closed: int  # resolved or ignored
    reason: str  # link | reference | text


@dataclass(frozen=True, slots=True)
class PersonSummary:
    """The person behind an author across networks (bot.identities): what a card shows."""

    identity_id: int
    accounts: tuple[tuple[str, str], ...]  # (network, handle)
    mentions: int
    answered: int
    value: float  # community value (docs/stories.md)


@dataclass(frozen=True, slots=True)
class MentionView:
    """A mention with what a card or `show` needs around it."""

    mention: Mention
    author: Author
    brand: Brand
    replies: list[Reply]
    # The brand's own first-response target on this network; None: bot.reporting.sla's default.
    sla_target_minutes: int | None = None
    # The latest draft of a reply (awaiting approval, AI-suggested, or just decided); None:
    # there never was one.
    draft: Draft | None = None
    person: PersonSummary | None = None
    # Who hid the comment on its network, and when (the last "hidden" event; None: shown).
    hidden_by: str | None = None
    hidden_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    delivery: Delivery
    view: MentionView
    # The card heads a story in its channel (bot.stories): the summary it shows.
    story: StorySummary | None = None
    # The card is a member of a story whose parent card is this message in the same channel
    # (None while the parent is not sent yet: `parent_mention_id` names it).
    thread_ref: str | None = None
    parent_mention_id: int | None = None
    # An earlier attempt may have reached the chat (its worker died or timed out before the
    # answer was recorded): ask the chat before sending again (bot.chat.IdempotentChat).
    in_doubt: bool = False
