"""Teaching the triage: "not about us", "no reply needed", a sentiment correction.

Each becomes a labelled example of the mention's brand and, for relevance and needs-reply, one
update of the brand's learnt correction (bot/triage/learn.py), in the same transaction.
"""

from __future__ import annotations

from bot.triage.feedback import NO_REPLY, NOT_ABOUT_US, SENTIMENTS, parse_sentiment
from commands.base import Deps, Invocation, Result, UsageError, first_token, mention_id, quoted


def notus(inv: Invocation, deps: Deps) -> Result:
    """The post is not about this brand: `notus <id>`. Closes it if open; the brand's
    relevance learns from it."""
    token, _ = first_token(inv.args)
    if not token:
        raise UsageError("usage: notus <id>")
    m = deps.store.give_feedback(mention_id=mention_id(token), action=NOT_ABOUT_US,
                                 actor=inv.actor)
    return Result(text=f"#{m.id}: noted as not about us ({m.status}).")


def noreply(inv: Invocation, deps: Deps) -> Result:
    """The post needs no answer: `noreply <id>`. Closes it if open; the brand's needs-reply
    score learns from it."""
    token, _ = first_token(inv.args)
    if not token:
        raise UsageError("usage: noreply <id>")
    m = deps.store.give_feedback(mention_id=mention_id(token), action=NO_REPLY, actor=inv.actor)
    return Result(text=f"#{m.id}: noted as needing no reply ({m.status}).")


def sentiment(inv: Invocation, deps: Deps) -> Result:
    """Correct a mention's sentiment: `sentiment <id> negative|neutral|positive`. The card and
    the reports show yours from now on."""
    token, rest = first_token(inv.args)
    word, extra = first_token(rest)
    if not token or not word or extra:
        raise UsageError("usage: sentiment <id> negative|neutral|positive")
    mid = mention_id(token)
    value = parse_sentiment(word)
    if value is None:
        raise UsageError(f"expected {', '.join(SENTIMENTS)}, not {quoted(word)}")
    m = deps.store.correct_sentiment(mention_id=mid, sentiment=value, actor=inv.actor,
                                     high_reach=deps.high_reach)
    return Result(text=f"#{m.id} is {m.sentiment} now (set by {inv.actor}).")
