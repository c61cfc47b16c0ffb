"""The plain data classes that go in and out of the store.

No SQL here: the row types are imported for the annotations only, so that cards, commands and
chat ports can name these classes under TYPE_CHECKING without pulling in SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.models import Author, Brand, Delivery, Mention, Reply


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


@dataclass(frozen=True, slots=True)
class MentionView:
    """A mention with what a card or `show` needs around it."""

    mention: Mention
    author: Author
    brand: Brand
    replies: list[Reply]
    # The brand's own first-response target on this network; None: bot.reporting.sla's default.
    sla_target_minutes: int | None = None
    # Who hid the comment on its network, and when (the last "hidden" event; None: shown).
    hidden_by: str | None = None
    hidden_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    delivery: Delivery
    view: MentionView
    # An earlier attempt may have reached the chat (its worker died or timed out before the
    # answer was recorded): ask the chat before sending again (bot.chat.IdempotentChat).
    in_doubt: bool = False
