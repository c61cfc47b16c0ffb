"""The catch-up notice: one message that lists a channel's cards instead of posting each.

Two things make one: the end of a route's quiet hours (the cards held during them, bot.quiet)
and a backlog (more than `RelayPolicy.backlog` non-urgent new cards of one channel due at once,
as after a chat outage or when a source catches up). The notice counts the cards per network
and lists the top ones by priority, then reach, each with its mention id and link, in its thread
(the Notifier's detail lines). Network text is reduced (bot.untrusted) and cut; the adapter
escapes all of it like any notice.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain import PRIORITY_ORDER
from bot.untrusted import clean, truncate

# How many cards the thread lists (the rest are counted).
TOP_SHOWN = 10


@dataclass(frozen=True, slots=True)
class HeldCard:
    mention_id: int
    brand: str
    network: str
    priority: str
    url: str
    handle: str
    text: str  # untrusted
    reach: int  # followers, for the order among equal priorities
    created_at: datetime


def ranked(cards: Sequence[HeldCard]) -> list[HeldCard]:
    """Highest priority first, then most reach, then oldest."""
    return sorted(cards, key=lambda c: (-PRIORITY_ORDER.get(c.priority, 1), -c.reach,
                                        c.created_at, c.mention_id))


def notice(reason: str, cards: Sequence[HeldCard], *, top: int = TOP_SHOWN,
           ) -> tuple[str, list[str]]:
    """(text, thread lines) of a catch-up notice over `cards` (reason: quiet | backlog)."""
    per_network = Counter(c.network for c in cards)
    brands = sorted({c.brand for c in cards})
    counts = ", ".join(f"{n} {k}" for k, n in sorted(per_network.items(),
                                                      key=lambda kv: (-kv[1], kv[0])))
    what = ("held during quiet hours" if reason == "quiet"
            else "arrived at once after a delay")
    shown = ranked(cards)[:top]
    text = (f"Catch-up: {len(cards)} mention(s) of {', '.join(brands)} {what} "
            f"({counts}). ")
    text += ("The top one by priority follows" if len(shown) == 1 else
             f"The top {len(shown)} by priority follow")
    text += "; show <id> opens any of them."
    # The link comes before the text: a renderer that cuts long lines cuts the text, never
    # the link.
    lines = [f"#{c.mention_id} [{c.priority}] {c.network} {clean(c.url)} "
             f"@{truncate(clean(c.handle), 60)}: "
             f"{truncate(clean(c.text).replace(chr(10), ' '), 120)}" for c in shown]
    return text, lines


__all__ = ["TOP_SHOWN", "HeldCard", "notice", "ranked"]
