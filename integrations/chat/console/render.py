"""Pure renderers from cards and command results to terminal text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.cards import (
    SENTIMENT_ACTION,
    Card,
    button_command,
    compact_number,
    humanize_age,
    person_line,
    story_lines,
    triage_text,
)
from bot.reporting.digest.model import Digest
from bot.reporting.digest.text import digest_lines
from bot.untrusted import clean, truncate
from commands.base import Result

SENTIMENT_MARK = {"negative": "-", "neutral": "~", "positive": "+"}
STYLE = {"urgent": "bold red", "high": "red", "normal": "cyan", "low": "dim"}


def card_header(card: Card) -> str:
    state = card.status.upper()
    if card.assignee and card.status != "new":
        state += f" ({card.assignee})"
    if card.marks:
        state += f" · ({card.marks.upper()} on {card.network})"
    return (f"#{card.mention_id} · {card.brand} · {card.network} · {state} · "
            f"priority {card.priority}")


def render_card(card: Card, now: datetime, *, text_limit: int = 600) -> str:
    """A mention card as plain terminal text; the network's text is cleaned of controls."""
    who = f"@{clean(card.author_handle)}"
    if card.author_name:
        who += f" ({clean(card.author_name)})"
    history = f"wrote {card.author_mentions}x before" if card.author_mentions else "first time"
    if card.author_answered:
        history += f", answered {card.author_answered}x"
    counts = " ".join(
        f"{label} {value}" for label, value in
        (("likes", card.likes), ("reposts", card.reposts), ("replies", card.replies))
        if value
    )
    meta = [
        card.language or "lang ?",
        f"{card.sentiment} ({card.sentiment_score:+.2f})"
        + (f", set by {clean(card.sentiment_by)}" if card.sentiment_by else ""),
        f"{humanize_age(card.created_at, now)} ago",
    ]
    if triage := triage_text(card):
        meta.insert(2, triage)
    if counts:
        meta.append(counts)
    if card.echoes:
        meta.append(f"+{card.echoes} repost(s) of this text")
    lines = [
        card_header(card),
        f"{who} · {compact_number(card.followers)} followers · {history}",
        *([card.rating_line] if card.rating_line else []),
        *("  " + line for line in truncate(clean(card.text), text_limit).splitlines()),
        " · ".join(meta),
        ("answer on the site: " if card.answer_on_site else "") + clean(card.url),
    ]
    if card.reply_state:
        lines.append(f"reply {card.reply_state} by {card.reply_by}"
                     + (f": {card.reply_url}" if card.reply_url else ""))
    lines += draft_lines(card)
    if card.hidden_by:
        lines.append(f"hidden on {card.network} by {card.hidden_by}")
    if card.sla_due_at is not None:
        left = card.sla_due_at - now
        lines.append(f"SLA: reply within {humanize_age(now, card.sla_due_at)}"
                     if left.total_seconds() > 0 else
                     f"SLA: overdue by {humanize_age(card.sla_due_at, now)}")
    if card.person is not None:
        lines.append(person_line(card.person))
    if card.story is not None:
        lines[1:1] = story_lines(card.story)
    elif card.story_id is not None:
        lines.append(f"part of story {card.story_id}")
    if card.actions:
        lines.append("  ".join(f"[{a}]" for a in card.actions))
    if card.feedback:
        lines.append("teach: " + feedback_hint(card))
    return "\n".join(lines)


def draft_lines(card: Card, *, limit: int = 600) -> list[str]:
    """The card's reply draft: its state, then its text (a person's or an AI endpoint's:
    cleaned like the post) while it is open."""
    line = card.draft_line
    if line is None:
        return []
    out = [clean(line)]
    if card.draft_text and card.draft_state in ("suggested", "awaiting"):
        out += ["  > " + part for part in truncate(clean(card.draft_text), limit).splitlines()]
    return out


def feedback_hint(card: Card) -> str:
    """The card's feedback buttons as the commands a console user types."""
    commands = [button_command(a, card.mention_id) for a in card.feedback
                if not a.startswith(SENTIMENT_ACTION)]
    others = [a.removeprefix(SENTIMENT_ACTION) for a in card.feedback
              if a.startswith(SENTIMENT_ACTION)]
    parts = [f"{name} {args}" for name, args in commands]
    if others:
        parts.append(f"sentiment {card.mention_id} {'|'.join(others)}")
    return " · ".join(parts)


def render_update(card: Card) -> str:
    line = f"updated {card_header(card)}"
    if card.story is not None:
        line += " · " + story_lines(card.story)[0]
    if card.reply_url and card.reply_state == "sent":
        line += f" · reply {card.reply_url}"
    if card.draft_line and card.draft_state != "approved":
        line += f" · {clean(card.draft_line)}"
    if card.actions:
        line += " · " + " ".join(f"[{a}]" for a in card.actions)
    return line


def render_result(result: Result, now: datetime) -> str:
    out = [("" if result.ok else "! ") + clean(result.text)]
    out += [clean(line) for line in result.lines]
    if result.cards and len(result.cards) == 1 and (result.history or result.lines
                                                    or result.cards[0].draft_text):
        out.append(render_card(result.cards[0], now))
    else:
        out += [
            f"  #{c.mention_id:<5} {c.status:<8} {c.priority:<6} {c.brand} · {c.network} · "
            f"@{clean(c.author_handle)}: {truncate(clean(c.text).replace(chr(10), ' '), 70)}"
            for c in result.cards
        ]
    if result.history:
        out.append(f"{result.history_title}:")
        out += [f"  #{h.mention_id} {h.created_at:%Y-%m-%d %H:%M} {h.status}: "
                f"{truncate(clean(h.text).replace(chr(10), ' '), 70)}" for h in result.history]
    return "\n".join(out)


def render_digest(digest: Digest, now: datetime) -> str:
    """A digest as terminal text; links of overdue mentions are cleaned network text."""
    out = [digest.title, *(clean(line) for line in digest_lines(digest, now=now))]
    if digest.overdue:
        out.append("Overdue mentions:")
        out += [f"  #{o.mention_id} @{clean(o.author_handle)}: {clean(o.url)}"
                for o in digest.overdue]
    return "\n".join(out)


def render_notice(text: str, *, person: str | None, thread: Sequence[str]) -> str:
    head = (f"@{clean(person)} " if person else "") + clean(text)
    return "\n".join([head, *(f"  | {truncate(clean(line), 200)}" for line in thread)])
