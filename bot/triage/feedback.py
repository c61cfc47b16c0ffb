"""What the team's actions say about a mention: the labels each one gives.

Explicit feedback is what a person says with a button or command: "not about us" (`notus`),
"no reply needed" (`noreply`) and a sentiment correction (`sentiment`). Implicit feedback is
what staff do anyway, already in the event log: a reply that was sent says the post was about
us and needed an answer; ignoring it says it needed none; resolving it says it was about us. An
explicit label replaces an implicit one for the same mention and target, never the reverse
(bot/store/feedback.py).
"""

from __future__ import annotations

from collections.abc import Mapping

NOT_ABOUT_US = "notus"
NO_REPLY = "noreply"
SENTIMENT = "sentiment"
EXPLICIT = frozenset({NOT_ABOUT_US, NO_REPLY, SENTIMENT})

# action -> {target: label}
LABELS: Mapping[str, Mapping[str, bool]] = {
    NOT_ABOUT_US: {"relevance": False, "needs_reply": False},
    NO_REPLY: {"needs_reply": False},
    "replied": {"relevance": True, "needs_reply": True},
    "ignored": {"needs_reply": False},
    "resolved": {"relevance": True},
}

# What closes an open mention when someone says it (the reason in its "ignored" event).
CLOSING_REASON = {NOT_ABOUT_US: "not about us", NO_REPLY: "no reply needed"}

SENTIMENTS = ("negative", "neutral", "positive")  # bot.domain.Sentiment, in scale order
# A person's sentiment is certain: the score the card and the reports see.
SENTIMENT_SCORE = {"negative": -1.0, "neutral": 0.0, "positive": 1.0}


def label_text(value: bool) -> str:
    return "1" if value else "0"


def parse_sentiment(word: str) -> str | None:
    """negative|neutral|positive, or a prefix of one (neg, pos, neu); None: not one."""
    w = word.strip().casefold()
    if not w:
        return None
    found = [s for s in SENTIMENTS if s.startswith(w)]
    return found[0] if len(found) == 1 and len(w) >= 3 else None
