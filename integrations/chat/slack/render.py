"""Pure renderers from cards, command results, notices and digests to Block Kit (the reply
modal is in modal.py, Slack's text back to plain text in parse.py).

Untrusted text (everything a network sends: post text, author names and handles, links) goes into
`plain_text` text objects only, after `bot.untrusted.clean` and after escaping `&`, `<` and `>`
as Slack documents. `plain_text` is never parsed for mrkdwn, so `*`, `_`, `~` and backticks
cannot change the layout, and with `<` and `>` escaped no `<!channel>`, `<@U…>`, `<#C…>`,
`<!subteam^…>` or disguised `<http://evil|bank.com>` link can be formed. The one field that is
parsed as mrkdwn, a message's top-level `text` (notification and fallback), additionally gets its
mrkdwn control characters replaced by look-alikes (`mrkdwn_safe`). Links to posts travel in
button `url` fields, which Slack shows and opens as they are.

Every size is measured in UTF-16 code units (what Slack's JavaScript clients count), which is
never less than the number of characters, so a limit held here is held in Slack too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from bot.cards import Card, compact_number, humanize_age, person_line, story_lines, triage_text
from bot.untrusted import clean, truncate
from commands.base import HistoryItem, Result
from integrations.chat.common import cut16, sound, u16len

if TYPE_CHECKING:
    from bot.reporting.queue import QueueView

Block = dict[str, Any]

# Block Kit limits (docs.slack.dev/reference/block-kit; slack_sdk/models/blocks).
MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
HEADER_TEXT = 150
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 2000
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
URL_MAX = 3000
CONFIRM_TITLE = 100
CONFIRM_TEXT = 300
CONFIRM_BUTTON = 30
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
INPUT_MAX = 3000
LABEL_TEXT = 2000
BLOCK_ID = 255
FALLBACK_TEXT = 3000  # Slack cuts `text` at 40,000; a notification needs far less

ACTION_PREFIX = "echtzeit_"
REPLY_VIEW = "echtzeit_reply"
REPLY_TEXT_ACTION = "reply_text"
TEMPLATE_ACTION = "echtzeit_template"
PREPARE_VIEW = "echtzeit_prepare"

PRIORITY_GLYPH = {"urgent": "🔴", "high": "🟠", "normal": "🔵", "low": "⚪"}
SENTIMENT_GLYPH = {"negative": "☹️", "neutral": "😐", "positive": "🙂"}
STATUS_LABEL = {
    "new": "New", "claimed": "Claimed", "replied": "Replied", "resolved": "Resolved",
    "ignored": "Ignored",
}
BUTTONS: dict[str, tuple[str, str | None]] = {
    # action -> (label, style)
    "claim": ("Claim", None),
    "reply": ("Reply…", "primary"),
    "resolve": ("Resolve", None),
    "ignore": ("Ignore", None),
    "mute": ("Mute author", "danger"),
    "approve": ("Approve", "primary"),
    "edit": ("Edit…", None),
    "reject": ("Reject…", "danger"),
    "draft": ("Draft with AI", None),
    "send": ("Send", "primary"),
    "hide": ("Hide comment", "danger"),
    "unhide": ("Unhide comment", None),
}
EDIT_VIEW = "echtzeit_edit"
REJECT_VIEW = "echtzeit_reject"
DRAFT_TEXT_ACTION = "draft_text"
# The team's feedback on a card (bot.cards.feedback_actions), in a row of their own.
FEEDBACK_BUTTONS: dict[str, str] = {
    "notus": "Not about us",
    "noreply": "No reply needed",
    "sentiment_negative": "☹️ Is negative",
    "sentiment_neutral": "😐 Is neutral",
    "sentiment_positive": "🙂 Is positive",
}

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_RE = re.compile("[&<>]")
# mrkdwn has no backslash escape: formatting characters are replaced by look-alikes.
_MRKDWN_LOOKALIKE = str.maketrans({"*": "∗", "_": "ˍ", "~": "∼", "`": "ˋ"})
_QUOTE_AT_LINE_START = re.compile(r"(?m)^(\s*)&gt;")


def escape(text: str) -> str:
    """Escape Slack's three control characters, and nothing else (Slack shows `&#39;` as is)."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()], text)


def fit(text: str, limit: int) -> tuple[str, bool]:
    """`text` cleaned and escaped in at most `limit` UTF-16 units; True if it had to be cut.

    The cut falls on the raw text (never inside an `&amp;`), at a word boundary when one is near,
    and ends in an ellipsis."""
    # Lone surrogates cannot be encoded (and Slack would refuse the message): replaced.
    cleaned = sound(clean(text))
    escaped = escape(cleaned)
    if u16len(escaped) <= limit:
        return escaped, False
    budget = max(limit - 1, 0)
    used = 0
    cut = 0
    for index, ch in enumerate(cleaned):
        width = u16len(_ESCAPES.get(ch, ch))
        if used + width > budget:
            break
        used += width
        cut = index + 1
    raw = cleaned[:cut]
    space = raw.rfind(" ")
    if space > cut * 0.8:
        raw = raw[:space]
    return escape(raw.rstrip()) + "…", True


def mrkdwn_safe(text: str, limit: int = FALLBACK_TEXT) -> str:
    """For the few fields Slack parses as mrkdwn: escaped, and with `*`, `_`, `~`, backticks
    and line-leading `>` replaced by look-alikes so that nothing can format or break out."""
    cleaned = clean(text).translate(_MRKDWN_LOOKALIKE)
    escaped, _ = fit(cleaned, limit)
    return _QUOTE_AT_LINE_START.sub(r"\1›", escaped)


def plain(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object holding (possibly untrusted) text, cleaned, escaped and cut to fit.
    `emoji: false` keeps ":name:" sequences as written."""
    shown, _ = fit(text, limit)
    return {"type": "plain_text", "text": shown or " ", "emoji": False}


def safe_url(url: str | None) -> str | None:
    """The URL if a button may open it: http(s), no spaces or controls, within Slack's limit."""
    if not url:
        return None
    url = url.strip()
    if len(url) > URL_MAX or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def url_host(url: str) -> str:
    """The host a URL points to. Punycode ("xn--…") stays as it is: decoded, a look-alike
    host (Cyrillic "а" for Latin "a") would pass for the real one."""
    host = (urlsplit(url).hostname or "").lower()
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return "an unreadable host"


def _button(
    text: str, action_id: str, *, value: str | None = None, url: str | None = None,
    style: str | None = None, confirm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": cut16(action_id, BLOCK_ID),
                              "text": plain(text, BUTTON_TEXT)}
    if value is not None:
        button["value"] = cut16(value, BUTTON_VALUE)
    if url is not None:
        button["url"] = url
    if style is not None:
        button["style"] = style
    if confirm is not None:
        button["confirm"] = confirm
    return button


def _confirm(title: str, text: str, yes: str) -> dict[str, Any]:
    return {
        "title": plain(title, CONFIRM_TITLE),
        "text": plain(text, CONFIRM_TEXT),
        "confirm": plain(yes, CONFIRM_BUTTON),
        "deny": plain("Cancel", CONFIRM_BUTTON),
    }


def context_block(texts: Iterable[str], block_id: str) -> Block:
    elements = [plain(t, CONTEXT_TEXT) for t in texts if t][:CONTEXT_ELEMENTS]
    return {"type": "context", "block_id": cut16(block_id, BLOCK_ID), "elements": elements}


def sla_due(card: Card) -> datetime | None:
    """When the card's first reply is due, if the card carries an SLA clock (bot.reporting.sla)."""
    value = getattr(card, "sla_due_at", None)
    return value if isinstance(value, datetime) else None


def _sla_text(card: Card, now: datetime) -> str | None:
    due = sla_due(card)
    if due is None or card.status not in ("new", "claimed"):
        return None
    if due >= now:
        return f"⏱ SLA {humanize_age(now, due)} left"
    return f"⏱ SLA overdue by {humanize_age(due, now)}"


def _author_line(card: Card) -> str:
    who = f"@{card.author_handle}"
    if card.author_name:
        who = f"{card.author_name} ({who})"
    parts = [who, f"{compact_number(card.followers)} followers"]
    if card.author_mentions:
        parts.append(f"wrote to us {card.author_mentions}× before")
    else:
        parts.append("first time writing to us")
    if card.author_answered:
        parts.append(f"answered {card.author_answered}×")
    return " · ".join(parts)


def _meta_line(card: Card, now: datetime) -> str:
    parts = [
        f"🌐 {card.language or '?'}",
        f"{SENTIMENT_GLYPH.get(card.sentiment, '')} {card.sentiment} "
        f"({card.sentiment_score:+.2f})".strip()
        + (f", set by {card.sentiment_by}" if card.sentiment_by else ""),
        f"🕑 {humanize_age(card.created_at, now)} ago",
    ]
    if triage := triage_text(card):
        parts.insert(2, triage)
    counts = " ".join(
        f"{glyph} {value}" for glyph, value in
        (("♥", card.likes), ("↻", card.reposts), ("💬", card.replies)) if value
    )
    if counts:
        parts.append(counts)
    if card.echoes:
        parts.append(f"+{card.echoes} repost(s) of this text")
    sla = _sla_text(card, now)
    if sla:
        parts.append(sla)
    return " · ".join(parts)


def status_line(card: Card) -> str | None:
    """Who did what to the mention, for cards that are no longer new."""
    lines: list[str] = []
    if card.deleted:
        lines.append(f"🗑️ Deleted on {card.network}: no reply possible, no SLA")
    elif card.edited:
        lines.append(f"✏️ Edited on {card.network}: the text is the edited one")
    if card.status == "claimed":
        lines.append(f"🙋 Claimed by {card.assignee or 'someone'}")
    elif card.status == "replied":
        lines.append(f"↩️ Replied by {card.reply_by or card.assignee or 'someone'}")
    elif card.status == "resolved":
        lines.append("✅ Resolved" + (f" · handled by {card.assignee}" if card.assignee else ""))
    elif card.status == "ignored":
        lines.append("🚫 Ignored")
    if card.reply_state == "unknown":
        lines.append(f"⚠️ A reply by {card.reply_by} may or may not be on {card.network}: "
                     "look there before answering again")
    elif card.reply_state == "failed":
        lines.append(f"❌ {card.network} refused the reply by {card.reply_by}")
    elif card.reply_state == "pending":
        lines.append(f"⏳ Reply by {card.reply_by} is being sent")
    if card.hidden_by:
        lines.append(f"🙈 Hidden on {card.network} by {card.hidden_by}")
    return " · ".join(lines) or None


def card_blocks(card: Card, now: datetime) -> list[Block]:
    """A mention card: header, author, the post's text, facts, state and buttons."""
    mid = card.mention_id
    glyph = PRIORITY_GLYPH.get(card.priority, "")
    header = f"{glyph} {card.brand} · {card.network} · #{mid}".strip()
    blocks: list[Block] = [
        {"type": "header", "block_id": f"m{mid}-head", "text": plain(header, HEADER_TEXT)},
        context_block([_author_line(card)], f"m{mid}-author"),
    ]
    if card.story is not None:
        # A story's parent card: its networks and counts, newest and most-reached posts.
        blocks += _sections(story_lines(card.story), f"m{mid}-story")
    body, shortened = fit(card.text or "(no text)", SECTION_TEXT)
    blocks.append({"type": "section", "block_id": f"m{mid}-text",
                   "text": {"type": "plain_text", "text": body or " ", "emoji": False}})
    facts = [_meta_line(card, now),
             f"{STATUS_LABEL.get(card.status, card.status)} · priority {card.priority}"]
    if card.rating_line:  # an app-store review's stars (plain text, like every fact)
        facts.insert(0, card.rating_line)
    if shortened:
        facts.append(f"Shortened from {len(clean(card.text)):,} characters: "
                     "“Open post” shows all of it")
    blocks.append(context_block(facts, f"m{mid}-facts"))
    state = status_line(card)
    if state:
        blocks.append(context_block([state], f"m{mid}-state"))
    if card.person is not None:
        blocks.append(context_block([person_line(card.person)], f"m{mid}-person"))
    if card.story is None and card.story_id is not None:
        blocks.append(context_block([f"Part of story {card.story_id}"], f"m{mid}-story"))
    blocks += draft_blocks(card)
    elements: list[dict[str, Any]] = []
    for action in card.actions:
        label, style = BUTTONS[action]
        confirm = None
        if action == "ignore":
            confirm = _confirm(f"Ignore #{mid}?", "It is closed without an answer.", "Ignore")
        elif action == "hide":
            confirm = _confirm(f"Hide this comment on {card.network}?",
                               "Only its author (and their friends) will still see it. "
                               "Unhide brings it back.", "Hide")
        elif action == "mute":
            confirm = _confirm(
                f"Mute @{card.author_handle}?",
                f"New posts by @{card.author_handle} on {card.network} are stored but no "
                "longer shown here.",
                "Mute",
            )
        elements.append(_button(label, f"{ACTION_PREFIX}{action}", value=str(mid),
                                style=style, confirm=confirm))
    # A link button names the host it opens, so that a post cannot pass off its own URL as
    # something else.
    post_url = safe_url(card.url)
    if post_url:
        opens = "Answer on the site" if card.answer_on_site else "Open post"
        elements.append(_button(f"{opens} · {url_host(post_url)}", f"{ACTION_PREFIX}open",
                                value=str(mid), url=post_url))
    reply_url = safe_url(card.reply_url) if card.reply_state == "sent" else None
    if reply_url:
        elements.append(_button(f"View reply · {url_host(reply_url)}",
                                f"{ACTION_PREFIX}view_reply", value=str(mid), url=reply_url))
    if not post_url:
        blocks.append(context_block([f"Link: {card.url}"], f"m{mid}-link"))
    if elements:
        blocks.append({"type": "actions", "block_id": f"m{mid}-actions",
                       "elements": elements[:ACTIONS_ELEMENTS]})
    teach = [_button(FEEDBACK_BUTTONS[a], f"{ACTION_PREFIX}{a}", value=str(mid),
                     confirm=_confirm(f"Not about {card.brand}?",
                                      f"#{mid} is closed, and {card.brand}'s relevance "
                                      "learns from it.", "Not about us")
                     if a == "notus" else None)
             for a in card.feedback if a in FEEDBACK_BUTTONS]
    if teach:
        blocks.append({"type": "actions", "block_id": f"m{mid}-teach",
                       "elements": teach[:ACTIONS_ELEMENTS]})
    return blocks


DRAFT_GLYPH = {"suggested": "🤖", "awaiting": "⏳", "approved": "✅", "rejected": "↩️"}


def draft_blocks(card: Card) -> list[Block]:
    """The reply draft under the card: its state, and its text while it is open (plain_text:
    a person's or an AI endpoint's words are never mrkdwn, never a ping or a link label)."""
    line = card.draft_line
    if line is None:
        return []
    mid = card.mention_id
    out = [context_block([f"{DRAFT_GLYPH.get(card.draft_state or '', '')} {line}".strip()],
                         f"m{mid}-draft")]
    if card.draft_text and card.draft_state in ("suggested", "awaiting"):
        body, _ = fit(card.draft_text, SECTION_TEXT)
        out.append({"type": "section", "block_id": f"m{mid}-draft-text",
                    "text": {"type": "plain_text", "text": body or " ", "emoji": False}})
    return out


def card_fallback(card: Card) -> str:
    """The notification line of a card (mrkdwn-parsed by Slack: made safe)."""
    glyph = PRIORITY_GLYPH.get(card.priority, "")
    first_line = truncate(clean(card.text).replace("\n", " "), 160)
    text = (f"{glyph} #{card.mention_id} {card.brand} · {card.network} · "
            f"{STATUS_LABEL.get(card.status, card.status)} · @{card.author_handle}: {first_line}")
    return mrkdwn_safe(text.strip(), 400)


# The flags every relayed card is sent with: no pings from names, no link previews of
# third-party URLs, and the fallback text is not formatted.
CARD_POST_FLAGS: dict[str, Any] = {
    "unfurl_links": False, "unfurl_media": False, "link_names": False, "parse": "none",
    "mrkdwn": False,
}
CARD_UPDATE_FLAGS: dict[str, Any] = {"link_names": False, "parse": "none"}


def card_message(card: Card, now: datetime) -> dict[str, Any]:
    """The chat.postMessage arguments (without `channel`) of a new card."""
    return {"text": card_fallback(card), "blocks": card_blocks(card, now), **CARD_POST_FLAGS}


def card_update(card: Card, now: datetime) -> dict[str, Any]:
    """The chat.update arguments (without `channel` and `ts`) of a changed card."""
    return {"text": card_fallback(card), "blocks": card_blocks(card, now), **CARD_UPDATE_FLAGS}


# --- command results ---------------------------------------------------------------------------

def _sections(lines: Sequence[str], block_prefix: str) -> list[Block]:
    """Lines packed into as few plain_text sections as the 3,000-character limit allows."""
    blocks: list[Block] = []
    chunk: list[str] = []
    size = 0
    for line in lines:
        shown, _ = fit(line, SECTION_TEXT)
        width = u16len(shown) + 1
        if chunk and size + width > SECTION_TEXT:
            blocks.append(text_section("\n".join(chunk), f"{block_prefix}{len(blocks)}"))
            chunk, size = [], 0
        chunk.append(shown)
        size += width
    if chunk:
        blocks.append(text_section("\n".join(chunk), f"{block_prefix}{len(blocks)}"))
    return blocks


def text_section(escaped: str, block_id: str) -> Block:
    # `escaped` is already cleaned, escaped and within the limit.
    return {"type": "section", "block_id": cut16(block_id, BLOCK_ID),
            "text": {"type": "plain_text", "text": escaped or " ", "emoji": False}}


def _card_line(card: Card) -> str:
    text = truncate(clean(card.text).replace("\n", " "), 140)
    who = f" · {card.assignee}" if card.assignee else ""
    who += f" · ({card.marks})" if card.marks else ""
    return (f"#{card.mention_id} · {card.status}{who} · {card.priority} · {card.brand} · "
            f"{card.network} · @{card.author_handle}: {text}")


def _history_lines(items: Sequence[HistoryItem]) -> list[str]:
    return [f"#{h.mention_id} {h.created_at:%Y-%m-%d %H:%M} {h.status}: "
            f"{truncate(clean(h.text).replace(chr(10), ' '), 140)}" for h in items]


def result_blocks(result: Result, now: datetime) -> list[Block]:
    """A command's answer: its text, lines, cards and history, within 50 blocks."""
    head = result.text if result.ok else f"⚠️ {result.text}"
    blocks: list[Block] = [text_section(fit(head, SECTION_TEXT)[0], "r-text")]
    blocks += _sections(result.lines, "r-lines")
    if len(result.cards) == 1 and (result.history or result.lines or result.cards[0].draft_text):
        blocks += card_blocks(result.cards[0], now)
    elif result.cards:
        blocks += _sections([_card_line(c) for c in result.cards], "r-cards")
    if result.history:
        blocks += _sections([f"{result.history_title}:", *_history_lines(result.history)],
                            "r-history")
    if len(blocks) > MESSAGE_BLOCKS:
        dropped = len(blocks) - (MESSAGE_BLOCKS - 1)
        blocks = blocks[: MESSAGE_BLOCKS - 1]
        blocks.append(context_block([f"…and {dropped} more block(s) not shown"], "r-more"))
    return blocks


def result_message(result: Result, now: datetime) -> dict[str, Any]:
    """Arguments for `respond()` / chat.postMessage / chat.postEphemeral of a result."""
    head = result.text if result.ok else f"⚠️ {result.text}"
    return {"text": mrkdwn_safe(head, 400) or "Echtzeit", "blocks": result_blocks(result, now)}


# --- notices and digests -----------------------------------------------------------------------

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
NOTICE_LINE = 500


def notice_message(text: str, *, person: str | None = None) -> dict[str, Any]:
    """A notice (SLA reminder, spike alert). `person` is addressed with a real mention when it
    is a Slack user id (the one `<@…>` Echtzeit writes itself), else named in plain text."""
    blocks: list[Block] = []
    if person and _SLACK_USER_ID.fullmatch(person):
        blocks.append({"type": "section", "block_id": "n-for",
                       "text": {"type": "mrkdwn", "text": f"<@{person}>"}})
    elif person:
        blocks.append(context_block([f"For {person}"], "n-for"))
    blocks.append(text_section(fit(text or "(no text)", SECTION_TEXT)[0], "n-text"))
    return {"text": mrkdwn_safe(text, 400) or "Echtzeit", "blocks": blocks}


def lines_messages(lines: Sequence[str]) -> list[dict[str, Any]]:
    """Lines as few messages as Slack's limits allow (a notice's thread)."""
    shown = [line for line in lines if line.strip()]
    sections = _sections([truncate(clean(line), NOTICE_LINE) for line in shown], "l")
    return [{"text": mrkdwn_safe(truncate(clean(shown[0]) if shown else "", 200)) or "…",
             "blocks": sections[i:i + MESSAGE_BLOCKS]}
            for i in range(0, len(sections), MESSAGE_BLOCKS)]


def digest_message(title: str, lines: Sequence[str], overdue: Sequence[Any],
                   now: datetime) -> dict[str, Any]:
    """A digest: title, its outline (bot.reporting.digest.text.digest_lines), and the mentions
    past their reply target with a link button each. The chart follows as an uploaded image."""
    blocks: list[Block] = [{"type": "header", "block_id": "d-head",
                            "text": plain(f"📊 {title}", HEADER_TEXT)}]
    blocks += _sections([line for line in lines if line.strip()], "d-lines")
    if overdue:
        late = [f"#{o.mention_id} · {o.brand} · {o.network} · @{o.author_handle} · "
                f"due {humanize_age(o.due_at, now)} ago"
                + (f" · {o.assignee}" if o.assignee else "") for o in overdue]
        blocks += _sections(["Past their reply target:", *late], "d-late")
        links = [_button(f"Open #{o.mention_id} · {url_host(url)}", f"{ACTION_PREFIX}open_{i}",
                         value=str(o.mention_id), url=url)
                 for i, o in enumerate(overdue) if (url := safe_url(o.url))]
        if links:
            blocks.append({"type": "actions", "block_id": "d-links",
                           "elements": links[:ACTIONS_ELEMENTS]})
    if len(blocks) > MESSAGE_BLOCKS:
        blocks = [*blocks[: MESSAGE_BLOCKS - 1],
                  context_block(["…more in /echtzeit digest"], "d-more")]
    return {"text": mrkdwn_safe(title, 400) or "Digest", "blocks": blocks}


HOME_BLOCKS = 100  # a Home tab view holds at most 100 blocks, as a modal
HOME_CALLBACK = "echtzeit_home"
_STAGE_GLYPH = {"sla_breach": "⏰", "sla_warning": "⌛"}


def home_view(view: QueueView, *, person: str) -> dict[str, Any]:
    """The App Home tab of one person: a bot.reporting.queue.QueueView as a `home` view.
    Plain-text sections only (handles and URLs are network text); each claimed mention gets a
    link button naming the host it opens."""
    from bot.reporting.queue import clock_text, median_text, on_call_text

    now = view.generated_at
    blocks: list[Block] = [
        {"type": "header", "block_id": "h-head", "text": plain(f"Queue of {person}", HEADER_TEXT)},
        {"type": "header", "block_id": "h-mine-head",
         "text": plain(f"My claimed mentions: {view.mine_total}", HEADER_TEXT)},
    ]
    for i, m in enumerate(view.mine):
        line = (f"{_STAGE_GLYPH.get(m.stage or '', '🕒')} #{m.mention_id} · {m.brand} · "
                f"{m.network} · {PRIORITY_GLYPH.get(m.priority, '')} {m.priority} · "
                f"{clock_text(m, now)} · @{m.handle}")
        block = text_section(fit(line, SECTION_TEXT)[0], f"h-mine{i}")
        if (url := safe_url(m.url)) is not None:
            block["accessory"] = _button(f"Open · {url_host(url)}", f"{ACTION_PREFIX}open_{i}",
                                         value=str(m.mention_id), url=url)
        blocks.append(block)
    if view.mine_total > len(view.mine):
        blocks.append(context_block([f"… and {view.mine_total - len(view.mine)} more: "
                                     "/echtzeit list mine"], "h-mine-more"))
    if not view.mine:
        blocks.append(context_block(["Nothing claimed. /echtzeit claim takes the oldest."],
                                    "h-mine-none"))
    blocks.append({"type": "divider", "block_id": "h-div1"})
    held = f" (+{view.held} held for quiet hours)" if view.held else ""
    blocks.append({"type": "header", "block_id": "h-open-head",
                   "text": plain(f"Open queue: {view.open_total}{held}", HEADER_TEXT)})
    lines = [f"{b.brand} · {b.network}: {b.open} open, {b.unclaimed} unclaimed, oldest "
             f"#{b.oldest_id} {humanize_age(b.oldest_at, now)} ago" for b in view.buckets]
    blocks += _sections(lines or ["Nothing open."], "h-open")
    blocks.append({"type": "divider", "block_id": "h-div2"})
    blocks.append(context_block([f"First-response median today: {median_text(view)}",
                                 f"On call: {on_call_text(view)}",
                                 f"Updated {now.astimezone(ZoneInfo(view.timezone)):%H:%M} "
                                 f"({view.timezone})"], "h-foot"))
    if len(blocks) > HOME_BLOCKS:
        blocks = [*blocks[: HOME_BLOCKS - 2],
                  context_block(["…more: /echtzeit queue"], "h-more"), blocks[-1]]
    return {"type": "home", "callback_id": HOME_CALLBACK, "blocks": blocks}
