"""The pure Discord renderers: cards, results, escaping and Discord's limits."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.cards import ACTIONS_BY_STATUS, Card
from bot.untrusted import clean
from commands.base import HistoryItem, Result
from integrations.chat.common import u16len
from integrations.chat.discord.render import (
    EMBEDS_TOTAL_MAX,
    card_components,
    card_embed,
    card_message,
    embeds_size,
    escape,
    fitted,
    list_line,
    notice_message,
    plain,
    reply_modal_title,
    result_embeds,
    result_message,
    thread_messages,
    thread_name,
)
from tests.integrations.chat.discord.discord_rules import (
    embed_problems,
    hazards,
    live_markdown,
    message_problems,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def _texts(path: Path) -> list[str]:
    # The shared corpus is a list of strings or of {"text", "why"} objects.
    entries = json.loads(path.read_text("utf-8"))
    return [e if isinstance(e, str) else e["text"] for e in entries]


# The corpus shared with the Slack adapter, and the Discord-specific one kept here.
HOSTILE = list(dict.fromkeys(_texts(FIXTURES / "hostile_texts.json")
                             + _texts(FIXTURES / "discord" / "hostile_texts_discord.json")))
WHEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def card(**overrides: Any) -> Card:
    values: dict[str, Any] = {
        "mention_id": 42, "brand": "Acme", "network": "mastodon", "author_handle": "kunde",
        "author_name": "Kunde K.", "followers": 1234, "author_mentions": 2,
        "author_answered": 1, "text": "acme app is down again",
        "url": "https://social.example/@kunde/1", "language": "en", "sentiment": "negative",
        "sentiment_score": -0.61, "priority": "high", "status": "new", "assignee": None,
        "created_at": WHEN, "echoes": 0, "likes": 3, "reposts": 1, "replies": None,
        "reply_url": None, "reply_by": None, "reply_state": None,
        "actions": ACTIONS_BY_STATUS["new"],
    }
    values.update(overrides)
    return Card(**values)


OUR_MARKUP = re.compile(r"(?m)^\*\*#\d+\*\* |^\*\(no text\)\*$")


def markdown_fields(body: dict[str, Any]) -> list[str]:
    """Every string of a message that Discord renders as markdown, without the renderer's own
    markup (bold mention ids at the start of list lines)."""
    out = [body.get("content") or ""]
    for e in body.get("embeds", []):
        out += [e.get("title", ""), e.get("description", "")]
        out += [f["name"] for f in e.get("fields", [])] + [f["value"] for f in e.get("fields", [])]
    return [OUR_MARKUP.sub("", v) for v in out]


def all_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in all_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in all_strings(v)]
    return []


def test_new_card_message_shape() -> None:
    body = card_message(card())
    assert body["allowed_mentions"] == {"parse": []}
    assert body["content"] == "New high mention #42 for Acme on mastodon"
    [embed] = body["embeds"]
    assert embed["title"] == "\\#42 · Acme · mastodon"  # a leading # would be a heading
    assert embed["description"] == "acme app is down again"
    assert embed["author"] == {"name": "@kunde (Kunde K.)"}
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Status"] == "NEW"
    assert fields["Priority"] == "high"
    assert fields["Sentiment"] == "negative (-0.61)"
    assert fields["Author"] == "1.2k followers · wrote 2x before, answered 1x"
    assert fields["Engagement"] == "likes 3 · reposts 1"
    assert fields["Post"] == "https://social.example/@kunde/1"
    assert embed["timestamp"] == "2026-11-20T08:00:00+00:00"
    assert embed["color"] == 0xE67E22
    actions, link = body["components"]
    assert [(b["label"], b["custom_id"], b["style"]) for b in actions["components"]] == [
        ("Claim", "ez:claim:42", 1), ("Reply", "ez:reply:42", 3), ("Resolve", "ez:resolve:42", 2),
        ("Ignore", "ez:ignore:42", 2), ("Mute author", "ez:mute:42", 4)]
    assert link["components"] == [{"type": 2, "style": 5, "label": "Open on mastodon",
                                   "url": "https://social.example/@kunde/1"}]
    assert message_problems(body) == []


def test_card_changes_with_its_state() -> None:
    claimed = card_message(card(status="claimed", assignee="Ana",
                                actions=ACTIONS_BY_STATUS["claimed"]))
    fields = {f["name"]: f["value"] for f in claimed["embeds"][0]["fields"]}
    assert fields["Status"] == "CLAIMED · Ana"
    assert claimed["content"] == "Mention #42 for Acme: claimed (Ana)"
    assert [b["custom_id"] for b in claimed["components"][0]["components"]] == [
        "ez:reply:42", "ez:resolve:42", "ez:ignore:42", "ez:mute:42"]
    replied = card_message(card(status="replied", assignee="Ana", reply_state="sent",
                                reply_by="Ana", reply_url="https://social.example/@acme/9",
                                actions=ACTIONS_BY_STATUS["replied"]))
    fields = {f["name"]: f["value"] for f in replied["embeds"][0]["fields"]}
    assert fields["Reply"] == "sent by Ana: https://social.example/@acme/9"
    resolved = card_message(card(status="resolved", actions=()))
    assert resolved["embeds"][0]["color"] == 0x57F287
    assert [row["components"][0]["style"] for row in resolved["components"]] == [5]


def test_no_link_button_for_what_is_not_a_web_link() -> None:
    for url in ("replay://mastodon/1", "javascript:alert(1)", "https://x.example/" + "a" * 600,
                "https://x.example/a b"):
        rows = card_components(card(url=url))
        assert all(b["style"] != 5 for row in rows for b in row["components"]), url


def test_reply_due_uses_discords_own_clock() -> None:
    due = WHEN + timedelta(hours=1)
    embed = card_embed(card(sla_due_at=due))
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["Reply due"] == f"<t:{int(due.timestamp())}:R>"


@pytest.mark.parametrize("text, shown", [
    ("@everyone look", "@\u200beveryone look"),
    ("<@123456789012345678> hi", "\\<@\u200b123456789012345678> hi"),
    ("<@&123456789012345678>", "\\<@\u200b&123456789012345678>"),
    ("<#123>", "\\<#123>"),
    ("[a](https://evil.example) [b](https://e2.example)",
     "\\[a\\](https://evil.example) \\[b\\](https://e2.example)"),
    ("**bold** `code`", "\\*\\*bold\\*\\* \\`code\\`"),
    ("# heading", "\\# heading"),
    ("1. first", "1\\. first"),
    ("> quote", "\\> quote"),
    ("ends with \\", "ends with \\\\"),
    ("https://x.example/a_b_c", "https://x.example/a_b_c"),
    ("zero\u200bwidth \u202eflip", "zerowidth flip"),
])
def test_escape(text: str, shown: str) -> None:
    assert escape(text) == shown
    assert hazards(escape(text)) == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=200)
       | st.lists(st.sampled_from(list("@everyone<>[]()`*_~|#->\\:/1. \nhttps://x.example")),
                  max_size=80).map("".join))
def test_escaped_text_is_inert_and_reads_the_same(text: str) -> None:
    escaped = escape(text)
    assert hazards(escaped) == [], (text, escaped)
    # What a reader sees is the cleaned text: escapes and the mention breakers are invisible.
    shown = "".join(ch for ch in _unescape(escaped) if ch != "\u200b")
    assert shown == clean(text).replace("\u200b", "")


def _unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and not text[i + 1].isalnum():
            out.append(text[i + 1])
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("limit", [1, 10, 100, 1024, 4096])
def test_fitted_stays_within_limit(limit: int) -> None:
    for text in ("*" * 10_000, "🚀" * 5_000, "@everyone " * 1_000, "[a](b)" * 2_000):
        out = fitted(text, limit)
        assert u16len(out) <= limit
        assert hazards(out) == []


def test_hostile_corpus_never_pings_nor_breaks_limits() -> None:
    assert len(HOSTILE) >= 100
    for text in HOSTILE:
        hostile = card(text=text, author_handle=text[:40] or "x", author_name=text,
                       brand="Acme", assignee=text[:50], status="claimed",
                       reply_state="sent", reply_by=text[:60], reply_url=text[:80],
                       url=text[:300], language=text[:10] or None,
                       actions=ACTIONS_BY_STATUS["claimed"])
        body = card_message(hostile)
        assert message_problems(body) == [], text[:60]
        for value in markdown_fields(body):
            assert hazards(value) == [], (text[:60], value[:120])
        for value in all_strings(body):
            assert "@everyone" not in value and "@here" not in value, value[:80]
        assert u16len(thread_name(hostile)) <= 100
        assert "@everyone" not in thread_name(hostile)
        listed = result_message(Result(text=text, cards=[hostile] * 20,
                                       lines=[text] * 3), actor=text)
        show = result_message(Result(text=text, cards=[hostile], lines=[text],
                                     history=[HistoryItem(1, WHEN, "new", text)] * 5))
        notice = notice_message(text, person=text[:30], lines=[text] * 40)
        for body in (listed, show, notice, *thread_messages([text] * 40)):
            assert message_problems(body, interaction=True) == [], text[:60]
            assert all(hazards(v) == [] for v in markdown_fields(body)), text[:60]


def test_plain_text_places_only_lose_mentions() -> None:
    assert plain("@everyone [x](y) **b**", 100) == "@\u200beveryone [x](y) **b**"
    assert u16len(plain("🚀" * 500, 100)) <= 100


def test_result_embeds() -> None:
    ok = result_embeds(Result(text="#42 is yours, Ana."), actor="Ana")
    assert ok == [{"description": "\\#42 is yours, Ana.", "color": 0x5865F2,
                   "footer": {"text": "by Ana"}}]
    error = result_embeds(Result.error("Sorry, Ben: only admins may use brand."))
    assert error[0]["color"] == 0xED4245
    help_ = result_embeds(Result(text="Commands:", lines=["reply <id> <text> - Answer"]))
    assert help_[0]["description"] == "Commands:\nreply \\<id> \\<text> - Answer"
    listing = result_embeds(Result(text="2 mention(s):", cards=[card(), card(mention_id=7)]))
    assert len(listing) == 2
    assert listing[1]["description"].splitlines() == [list_line(card()),
                                                      list_line(card(mention_id=7))]
    assert listing[1]["description"].startswith("**#42** new · high · Acme · mastodon · @kunde: ")
    shown = result_embeds(Result(text="Mention #42", cards=[card()], lines=["Author @kunde"],
                                 history=[HistoryItem(7, WHEN, "resolved", "earlier post")]))
    assert [e.get("title") for e in shown] == [None, "\\#42 · Acme · mastodon",
                                               "Earlier from this author"]
    assert result_message(Result(text="x"), ephemeral=True)["flags"] == 64


def test_long_results_fit_one_message() -> None:
    many = Result(text="x" * 5000, lines=["line " * 100] * 200,
                  cards=[card(text="t" * 3000)] * 400)
    embeds = result_embeds(many)
    assert embed_problems(embeds) == []
    assert embeds_size(embeds) <= EMBEDS_TOTAL_MAX
    assert "more" in live_markdown(embeds[-1]["description"])


def test_modal_title_limit() -> None:
    assert len(reply_modal_title(10**30)) <= 45
