"""Pure renderers from cards and command results to Discord message payloads.

Everything here returns plain dicts in the shape of Discord's HTTP API (message create/edit
bodies, embeds, components), so the adapter can send exactly what `echtzeit render discord`
prints, and tests can assert on it without a network.

Text from the networks is untrusted. Where Discord renders markdown (message content, embed
title, description, field names and values) it goes through `escape`: control and bidi
characters removed (bot.untrusted.clean), markdown escaped (discord.utils.escape_markdown), every
`[`, `]` and `<` escaped as well (escape_markdown leaves all but the first of several masked links
on a line alive, and `<...>` opens mentions, channel links, timestamps and custom emoji), the
formatting characters also inside what escape_markdown leaves alone as a link, ordered-list
markers broken, and
@everyone/@here/user/role mentions broken (discord.utils.escape_mentions). Every payload also
carries allowed_mentions {"parse": []}, so even a mention that survived could not ping.

Lengths are counted in UTF-16 code units, which is never less than Discord's own count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord.utils

from bot.cards import Card, compact_number, person_line, story_lines, triage_text
from bot.untrusted import clean, truncate
from commands.base import Result
from integrations.chat.common import u16len, whole

if TYPE_CHECKING:
    from bot.reporting.queue import QueueView

# Discord's documented limits (developers/resources/message.mdx, components/reference.mdx,
# interactions/receiving-and-responding.mdx, interactions/application-commands.mdx).
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBEDS_TOTAL_MAX = 6000
BUTTON_LABEL_MAX = 80
CUSTOM_ID_MAX = 100
LINK_URL_MAX = 512
ACTION_ROWS_MAX = 5
ROW_BUTTONS_MAX = 5
MODAL_TITLE_MAX = 45
TEXT_INPUT_LABEL_MAX = 45
TEXT_INPUT_MAX = 4000
TEXT_INPUT_PLACEHOLDER_MAX = 100
THREAD_NAME_MAX = 100
CHOICE_NAME_MAX = 100
CHOICE_VALUE_MAX = 100
CHOICES_MAX = 25

# What a card shows of the post: long enough to read, short enough that the whole card stays
# well inside the 6,000 characters Discord allows across a message's embeds.
CARD_TEXT_MAX = 3000
LIST_TEXT_MAX = 90

ALLOWED_MENTIONS_NONE: dict[str, list[str]] = {"parse": []}
EPHEMERAL = 1 << 6

CUSTOM_ID_PREFIX = "ez"
REPLY_MODAL_PREFIX = "ez-reply"
CUSTOM_ID_PATTERN = (rf"{CUSTOM_ID_PREFIX}:(?P<action>claim|reply|resolve|ignore|mute|approve|edit"
                     r"|reject|draft|send|notus|noreply|sentiment_negative|sentiment_neutral"
                     r"|sentiment_positive|hide|unhide):(?P<id>[0-9]+)")
REPLY_MODAL_PATTERN = rf"{REPLY_MODAL_PREFIX}:(?P<id>[0-9]+)"
# The Edit and Reject buttons' forms: the draft's new text, the rejection's reason.
DRAFT_MODAL_PATTERN = r"ez-(?P<kind>edit|reject):(?P<id>[0-9]+)"
DRAFT_INPUT_ID = "draft"
REASON_MAX = 500
REPLY_INPUT_ID = "text"

# Button styles (components/reference.mdx): 1 primary, 2 secondary, 3 success, 4 danger, 5 link.
BUTTONS: dict[str, tuple[str, int]] = {
    "claim": ("Claim", 1),
    "reply": ("Reply", 3),
    "resolve": ("Resolve", 2),
    "ignore": ("Ignore", 2),
    "mute": ("Mute author", 4),
    "approve": ("Approve", 3),
    "edit": ("Edit", 2),
    "reject": ("Reject", 4),
    "draft": ("Draft with AI", 2),
    "send": ("Send", 3),
    # The team's feedback (bot.cards.feedback_actions), in a row of their own.
    "notus": ("Not about us", 2),
    "noreply": ("No reply needed", 2),
    "sentiment_negative": ("☹️ Is negative", 2),
    "sentiment_neutral": ("😐 Is neutral", 2),
    "sentiment_positive": ("🙂 Is positive", 2),
    "hide": ("Hide comment", 4),
    "unhide": ("Unhide comment", 2),
}
PRIORITY_COLOR = {"urgent": 0xED4245, "high": 0xE67E22, "normal": 0x5865F2, "low": 0x95A5A6}
STATUS_COLOR = {"resolved": 0x57F287, "ignored": 0x4F545C}
ERROR_COLOR = 0xED4245
OK_COLOR = 0x5865F2

_ORDERED_LIST = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
_PLUS_LIST = re.compile(r"^(\s*)\+(?=\s)", re.MULTILINE)
_ALWAYS_ESCAPED = frozenset("[]<`*~|")


def _escape_rest(text: str) -> str:
    # Reads backslash pairs the way Discord does: an escaped character stays as it is; any
    # bare `[`, `]`, `<` (and the formatting characters escape_markdown leaves alone inside
    # what it takes for a link) gets a backslash. A lone trailing backslash is doubled so that
    # it cannot escape whatever our own markup puts after this text.
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\":
            out.append(text[i:i + 2] if i + 1 < n else "\\\\")
            i += 2
            continue
        if ch in _ALWAYS_ESCAPED:
            out.append("\\")
        out.append(ch)
        i += 1
    return "".join(out)


def escape(text: str) -> str:
    """Untrusted text made inert for the places where Discord renders markdown."""
    text = discord.utils.escape_markdown(clean(whole(text)))
    text = _escape_rest(text)
    text = _ORDERED_LIST.sub(r"\1\\.", text)
    text = _PLUS_LIST.sub(r"\1\\+", text)
    return discord.utils.escape_mentions(text)


def fitted(text: str, limit: int, transform: Callable[[str], str] = escape) -> str:
    """`transform(text)` cut so that the result is at most `limit` long: the raw text is cut
    before it is escaped, so an escape is never split in half."""
    raw = clean(whole(text))
    n = min(len(raw), limit)
    while True:
        out = transform(truncate(raw, n))
        over = u16len(out) - limit
        if over <= 0:
            return out
        n = max(n - max(over, 1), 0)


def plain(text: str, limit: int) -> str:
    """Untrusted text for places that show no markdown (embed author and footer, thread names,
    autocomplete choices, placeholders): clean, mention-free, cut to the limit."""
    return fitted(text, limit, discord.utils.escape_mentions)


def _http_url(url: str) -> bool:
    return url.startswith(("https://", "http://")) and u16len(url) <= LINK_URL_MAX \
        and not any(ch.isspace() for ch in url)


def _unix(when: datetime) -> int:
    return int(when.timestamp())


# --- cards ------------------------------------------------------------------------------------


def card_title(card: Card) -> str:
    return fitted(f"#{card.mention_id} · {card.brand} · {card.network}", EMBED_TITLE_MAX)


def _status(card: Card) -> str:
    state = card.status.upper()
    if card.assignee and card.status != "new":
        state += f" · {card.assignee}"
    if card.marks:
        state += f" · ({card.marks.upper()} on {card.network})"
    if card.hidden_by:
        state += f" · hidden on {card.network} by {card.hidden_by}"
    return fitted(state, EMBED_FIELD_VALUE_MAX)


def _author_line(card: Card) -> str:
    history = f"wrote {card.author_mentions}x before" if card.author_mentions else "first time"
    if card.author_answered:
        history += f", answered {card.author_answered}x"
    return f"{compact_number(card.followers)} followers · {history}"


def _field(name: str, value: str, *, inline: bool = True) -> dict[str, Any]:
    return {"name": name, "value": value or "–", "inline": inline}


def card_embed(card: Card) -> dict[str, Any]:
    """The mention card as one embed: the post's text in the description, facts in fields."""
    who = f"@{card.author_handle}" + (f" ({card.author_name})" if card.author_name else "")
    fields = [
        _field("Status", _status(card)),
        _field("Priority", card.priority),
        _field("Sentiment", fitted(f"{card.sentiment} ({card.sentiment_score:+.2f})"
                                   + (f", set by {card.sentiment_by}" if card.sentiment_by
                                      else ""), EMBED_FIELD_VALUE_MAX)),
        _field("Language", fitted(card.language or "?", 16)),
        _field("Author", _author_line(card)),
    ]
    if triage := triage_text(card):
        fields.insert(3, _field("Triage", triage))
    if card.rating_line:  # an app-store review's stars; the app name escaped like the post
        fields.insert(0, _field("Rating", fitted(card.rating_line, EMBED_FIELD_VALUE_MAX)))
    counts = " · ".join(f"{label} {value}" for label, value in
                        (("likes", card.likes), ("reposts", card.reposts),
                         ("replies", card.replies)) if value)
    if counts:
        fields.append(_field("Engagement", counts))
    if card.echoes:
        fields.append(_field("Reposts folded", f"+{card.echoes} of this text"))
    due = getattr(card, "sla_due_at", None)
    if isinstance(due, datetime):
        # Discord shows <t:..:R> in each reader's own clock ("in 20 minutes", "2 hours ago").
        fields.append(_field("Reply due", f"<t:{_unix(due)}:R>"))
    if card.reply_state:
        reply = f"{card.reply_state} by {card.reply_by or '?'}"
        if card.reply_url:
            reply += f": {card.reply_url}"
        fields.append(_field("Reply", fitted(reply, EMBED_FIELD_VALUE_MAX), inline=False))
    if card.draft_line:
        # A person's or an AI endpoint's words: escaped like the post, pinging nobody.
        draft = fitted(card.draft_line, 300)
        if card.draft_text and card.draft_state in ("suggested", "awaiting"):
            draft += "\n" + fitted(card.draft_text, EMBED_FIELD_VALUE_MAX - len(draft) - 1)
        fields.append(_field("Draft", draft, inline=False))
    fields.append(_field("Post", fitted(card.url, EMBED_FIELD_VALUE_MAX), inline=False))
    if card.story is not None:
        # A story's parent card: its networks and counts, newest and most-reached posts.
        fields[:0] = [_field(f"Story {card.story.story_id}" if i == 0 else "\u200b",
                             fitted(line, EMBED_FIELD_VALUE_MAX), inline=False)
                      for i, line in enumerate(story_lines(card.story))]
    elif card.story_id is not None:
        fields.append(_field("Story", f"part of story {card.story_id}"))
    if card.person is not None:
        fields.append(_field("Person", fitted(person_line(card.person), EMBED_FIELD_VALUE_MAX),
                             inline=False))
    text = fitted(card.text, CARD_TEXT_MAX) or "*(no text)*"
    return {
        "title": card_title(card),
        "description": text,
        "color": STATUS_COLOR.get(card.status, PRIORITY_COLOR.get(card.priority, OK_COLOR)),
        "author": {"name": plain(who, EMBED_AUTHOR_MAX)},
        "fields": fields[:EMBED_FIELDS_MAX],
        "footer": {"text": f"Echtzeit · mention #{card.mention_id}"},
        "timestamp": card.created_at.isoformat(),
    }


def custom_id(action: str, mention_id: int) -> str:
    return f"{CUSTOM_ID_PREFIX}:{action}:{mention_id}"


def card_components(card: Card) -> list[dict[str, Any]]:
    """The card's buttons: one per action its state allows (their custom ids carry the mention
    id, so they keep working after a restart), the team's feedback in a row of its own, and a
    link to the post."""
    buttons = [
        {"type": 2, "style": BUTTONS[a][1], "label": BUTTONS[a][0],
         "custom_id": custom_id(a, card.mention_id)}
        for a in card.actions if a in BUTTONS
    ]
    teach = [
        {"type": 2, "style": BUTTONS[a][1], "label": BUTTONS[a][0],
         "custom_id": custom_id(a, card.mention_id)}
        for a in card.feedback if a in BUTTONS
    ]
    rows: list[dict[str, Any]] = [
        {"type": 1, "components": row[start:start + ROW_BUTTONS_MAX]}
        for row in (buttons, teach) for start in range(0, len(row), ROW_BUTTONS_MAX)
    ]
    if _http_url(card.url):
        verb = "Answer" if card.answer_on_site else "Open"
        label = plain(f"{verb} on {card.network}", BUTTON_LABEL_MAX)
        rows.append({"type": 1, "components": [
            {"type": 2, "style": 5, "label": label, "url": card.url}]})
    return rows[:ACTION_ROWS_MAX]


def card_content(card: Card) -> str:
    """One line of our own words above the card: what push notifications show."""
    if card.status == "new":
        line = f"New {card.priority} mention #{card.mention_id} for {card.brand} on {card.network}"
    else:
        line = f"Mention #{card.mention_id} for {card.brand}: {card.status}"
        if card.assignee:
            line += f" ({card.assignee})"
    return fitted(line, 200)


def card_message(card: Card) -> dict[str, Any]:
    """The body of the message (create or edit) that shows a mention card."""
    return {
        "content": card_content(card),
        "embeds": [card_embed(card)],
        "components": card_components(card),
        "allowed_mentions": dict(ALLOWED_MENTIONS_NONE),
    }


def thread_name(card: Card) -> str:
    return plain(f"#{card.mention_id} {card.brand} · @{card.author_handle}", THREAD_NAME_MAX)


# --- the reply modal --------------------------------------------------------------------------


def reply_modal_title(mention_id: int) -> str:
    return truncate(f"Reply to mention #{mention_id}", MODAL_TITLE_MAX)


def draft_modal_title(kind: str, mention_id: int) -> str:
    verb = "Edit" if kind == "edit" else "Reject"
    return truncate(f"{verb} the reply to #{mention_id}", MODAL_TITLE_MAX)


def reply_modal_placeholder(card: Card | None) -> str:
    if card is None:
        return "Your answer, or :template-name"
    return plain(f"Answer @{card.author_handle} on {card.network}, or :template-name",
                 TEXT_INPUT_PLACEHOLDER_MAX)


# --- command results --------------------------------------------------------------------------


def list_line(card: Card) -> str:
    text = fitted(card.text.replace("\n", " "), LIST_TEXT_MAX)
    who = fitted(f"@{card.author_handle}", 60)
    marks = f" ({card.marks})" if card.marks else ""
    return (f"**#{card.mention_id}** {card.status}{marks} · {card.priority} · "
            f"{fitted(card.brand, 60)} · {fitted(card.network, 30)} · {who}: {text}")


def _lines_embeds(lines: Sequence[str], *, color: int, title: str | None = None,
                  budget: int) -> list[dict[str, Any]]:
    """Lines (already escaped) packed into as few embeds as the limits allow; what does not
    fit in `budget` characters is counted in a last line instead."""
    embeds: list[dict[str, Any]] = []
    current: list[str] = []
    size = 0
    used = u16len(title or "")
    for index, line in enumerate(lines):
        cost = u16len(line) + 1
        if used + cost > budget - 40 or len(embeds) >= EMBEDS_MAX - 1:
            current.append(f"… and {len(lines) - index} more")
            break
        if size + cost > EMBED_DESCRIPTION_MAX:
            embeds.append({"description": "\n".join(current), "color": color})
            current, size = [], 0
        current.append(line)
        size += cost
        used += cost
    if current:
        embeds.append({"description": "\n".join(current), "color": color})
    if embeds and title:
        embeds[0]["title"] = title
    return embeds


def result_embeds(result: Result, *, actor: str | None = None) -> list[dict[str, Any]]:
    """A command's result as embeds: its text and lines, then its cards (one full card when
    the result is about one mention, otherwise one line per mention) and author history."""
    color = OK_COLOR if result.ok else ERROR_COLOR
    head = fitted(result.text, 1000) or "(no text)"
    lines = [shown for shown in (fitted(line, 1000) for line in result.lines) if shown]
    embeds = _lines_embeds([head, *lines], color=color, budget=EMBEDS_TOTAL_MAX // 2)
    if actor and embeds:
        embeds[0]["footer"] = {"text": plain(f"by {actor}", EMBED_FOOTER_MAX)}
    if len(result.cards) == 1 and (result.history or result.lines
                                   or result.cards[0].draft_text):
        embeds.append(card_embed(result.cards[0]))
    elif result.cards:
        embeds += _lines_embeds([list_line(c) for c in result.cards], color=color,
                                budget=EMBEDS_TOTAL_MAX - embeds_size(embeds))
    if result.history:
        history = [f"**#{h.mention_id}** {h.created_at:%Y-%m-%d %H:%M} {h.status}: "
                   f"{fitted(h.text.replace(chr(10), ' '), LIST_TEXT_MAX)}"
                   for h in result.history]
        embeds += _lines_embeds(history, color=color, title=result.history_title,
                                budget=EMBEDS_TOTAL_MAX - embeds_size(embeds))
    images = [a for a in result.attachments if a.mime.startswith("image/")]
    if images and embeds:
        # Shown inside the first embed; the file itself travels with the message.
        embeds[0]["image"] = {"url": f"attachment://{images[0].filename}"}
    return shrink_to_total(embeds[:EMBEDS_MAX])


def result_message(result: Result, *, actor: str | None = None,
                   ephemeral: bool = False) -> dict[str, Any]:
    """A whole message body for a result (what an interaction response or follow-up sends)."""
    body: dict[str, Any] = {"embeds": result_embeds(result, actor=actor),
                            "allowed_mentions": dict(ALLOWED_MENTIONS_NONE)}
    if ephemeral:
        body["flags"] = EPHEMERAL
    return body


# --- notices and digests ----------------------------------------------------------------------

NOTICE_COLOR = 0xFEE75C
DIGEST_COLOR = 0x5865F2
_USER_ID = re.compile(r"^[0-9]{17,20}$")


def _for(person: str | None) -> str | None:
    if not person:
        return None
    if _USER_ID.match(person):
        # Shown as the member's name; allowed_mentions keeps it from pinging.
        return f"For <@{person}>"
    return "For " + fitted(person, 100)


def notice_message(text: str, *, person: str | None = None,
                   lines: Sequence[str] = ()) -> dict[str, Any]:
    """A notice (SLA reminder, spike alert): the text, then `lines` below it (when they do not
    go into a thread)."""
    shown = [fitted(text, 2000) or "(no text)"]
    shown += [fitted(line, 500) for line in lines if line.strip()]
    body: dict[str, Any] = {
        "embeds": _lines_embeds(shown, color=NOTICE_COLOR, budget=EMBEDS_TOTAL_MAX),
        "allowed_mentions": dict(ALLOWED_MENTIONS_NONE),
    }
    who = _for(person)
    if who:
        body["content"] = who
    return body


def thread_messages(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines as plain messages (for a notice's thread), each within the content limit."""
    messages: list[str] = []
    current = ""
    for line in (fitted(x, 500) for x in lines if x.strip()):
        if current and u16len(current) + 1 + u16len(line) > CONTENT_MAX:
            messages.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current:
        messages.append(current)
    return [{"content": m, "allowed_mentions": dict(ALLOWED_MENTIONS_NONE)} for m in messages]


def digest_message(title: str, lines: Sequence[str], overdue: Sequence[Any], *,
                   chart_name: str, chart_alt: str) -> dict[str, Any]:
    """A digest: its outline, the mentions past their reply target, and the chart (uploaded as
    `chart_name` next to this body)."""
    embeds = _lines_embeds([fitted(line, 500) for line in lines if line.strip()],
                           color=DIGEST_COLOR, title=fitted(title, EMBED_TITLE_MAX),
                           budget=EMBEDS_TOTAL_MAX * 2 // 3)
    if overdue:
        late = [f"**#{o.mention_id}** {fitted(o.brand, 60)} · {fitted(o.network, 30)} · "
                f"{fitted('@' + o.author_handle, 60)} · due <t:{_unix(o.due_at)}:R>"
                + (f" · {fitted(o.assignee, 60)}" if o.assignee else "")
                + (f" · {fitted(o.url, 300)}" if o.url else "") for o in overdue]
        embeds += _lines_embeds(late, color=ERROR_COLOR, title="Past their reply target",
                                budget=EMBEDS_TOTAL_MAX - embeds_size(embeds))
    if embeds:
        embeds[0]["image"] = {"url": f"attachment://{chart_name}"}
    return {
        "embeds": shrink_to_total(embeds[:EMBEDS_MAX]),
        "attachments": [{"id": 0, "filename": chart_name,
                         "description": truncate(chart_alt, 1024)}],
        "allowed_mentions": dict(ALLOWED_MENTIONS_NONE),
    }


# --- limits -----------------------------------------------------------------------------------


def embed_size(embed: dict[str, Any]) -> int:
    """The characters Discord counts against the 6,000 of a message."""
    total = u16len(embed.get("title", "")) + u16len(embed.get("description", ""))
    total += sum(u16len(f.get("name", "")) + u16len(f.get("value", ""))
                 for f in embed.get("fields", []))
    total += u16len(embed.get("footer", {}).get("text", ""))
    total += u16len(embed.get("author", {}).get("name", ""))
    return total


def embeds_size(embeds: Iterable[dict[str, Any]]) -> int:
    return sum(embed_size(e) for e in embeds)


def shrink_to_total(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop trailing embeds until the message fits in Discord's total (a safety net: the
    builders above already stay inside it)."""
    while embeds and embeds_size(embeds) > EMBEDS_TOTAL_MAX:
        embeds = embeds[:-1]
    return embeds


STATUS_COLOR_QUEUE = 0x5865F2


def status_message(view: QueueView) -> dict[str, Any]:
    """A channel's pinned queue status (bot.reporting.queue, the channel's view without
    "mine"): its outline in one embed, with the time it was last brought up to date."""
    from bot.reporting.queue import queue_lines

    lines = [fitted(line, 500) for line in queue_lines(view, mine=False)]
    lines.append(f"Updated <t:{_unix(view.generated_at)}:R>")
    embeds = _lines_embeds(lines, color=STATUS_COLOR_QUEUE, title="Echtzeit queue status",
                           budget=EMBEDS_TOTAL_MAX)
    return {"content": "", "embeds": shrink_to_total(embeds[:EMBEDS_MAX]),
            "allowed_mentions": dict(ALLOWED_MENTIONS_NONE)}
