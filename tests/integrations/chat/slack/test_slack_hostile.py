"""The shared corpus of hostile texts (tests/fixtures/hostile_texts.json) rendered for Slack:
no ping, no disguised link, no broken message, whatever field the text lands in."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.cards import ACTIONS_BY_STATUS, Card
from commands.base import HistoryItem, Result
from integrations.chat.slack.chat import SlackChat, StaticToken
from integrations.chat.slack.modal import ReplyTarget, reply_modal
from integrations.chat.slack.render import card_message, card_update, result_message
from testkit.blockkit import hostile_problems, message_errors, view_errors
from testkit.fake_slack import FakeSlack
from tests.integrations.chat.slack.conftest import paced

CORPUS = Path(__file__).resolve().parents[3] / "fixtures" / "hostile_texts.json"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
HOSTILE: list[str] = json.loads(CORPUS.read_text(encoding="utf-8"))


def base_card(**changes: Any) -> Card:
    card = Card(
        mention_id=42, brand="Acme", network="mastodon", author_handle="kunde",
        author_name="Kunde", followers=1200, author_mentions=2, author_answered=1,
        text="acme is down", url="https://social.example/@kunde/1", language="de",
        sentiment="negative", sentiment_score=-0.6, priority="urgent", status="new",
        assignee=None, created_at=NOW - timedelta(minutes=30), echoes=0, likes=3, reposts=1,
        replies=0, reply_url=None, reply_by=None, reply_state=None,
        actions=ACTIONS_BY_STATUS["new"],
    )
    return replace(card, **changes)


def payloads(text: str) -> list[tuple[str, Any]]:
    """Every place untrusted (or staff-typed) text can land in what Slack is sent."""
    in_text = base_card(text=text)
    in_author = base_card(author_handle=text, author_name=text)
    in_everything = base_card(
        brand=text, network=text[:32] or "x", author_handle=text, author_name=text, text=text,
        url=text, language=text[:8], status="replied", assignee=text, reply_by=text,
        reply_url=text, reply_state="sent", actions=ACTIONS_BY_STATUS["replied"])
    result = Result(text=text, ok=False, lines=[text, text], cards=[in_text, in_author],
                    history=[HistoryItem(mention_id=1, created_at=NOW, status="new", text=text)])
    shown = Result(text=text, lines=[text], cards=[in_everything],
                   history=[HistoryItem(mention_id=1, created_at=NOW, status="new", text=text)])
    target = ReplyTarget(mention_id=42, channel="C0CARDS", message_ts="1764000000.000001")
    return [
        ("card text", card_message(in_text, NOW)),
        ("card author", card_message(in_author, NOW)),
        ("card everything", card_update(in_everything, NOW)),
        ("result list", result_message(result, NOW)),
        ("result show", result_message(shown, NOW)),
        ("modal", reply_modal(in_everything, target=target, limit=500,
                              templates=[(text[:100] or "t", text), ("ok", "fine")],
                              initial_text=text, selected_template=text[:100] or "t")),
    ]


def test_the_corpus_is_big_and_varied() -> None:
    assert len(HOSTILE) >= 100
    assert any("<!channel>" in t for t in HOSTILE) and any("|bank.com>" in t for t in HOSTILE)
    assert max(len(t) for t in HOSTILE) > 10_000


@pytest.mark.parametrize("index", range(len(HOSTILE)))
def test_hostile_text_renders_without_ping_link_or_broken_block(index: int) -> None:
    text = HOSTILE[index]
    for where, payload in payloads(text):
        if where == "modal":
            errors = view_errors(payload)
        else:
            errors = message_errors(payload["blocks"])
            assert payload["text"], where
        assert errors == [], (where, errors)
        assert hostile_problems(payload) == [], (where, hostile_problems(payload)[:3])
        for url in _urls(payload):
            assert url.startswith(("https://", "http://")) and " " not in url


def test_the_checker_itself_catches_what_it_looks_for() -> None:
    raw = {"text": "hi", "blocks": [
        {"type": "section", "text": {"type": "plain_text", "text": "<!channel> AT&T"}}]}
    problems = hostile_problems(raw)
    assert any("raw <" in p for p in problems) and any("bare &" in p for p in problems)
    assert hostile_problems({"text": "*bold*"})  # top-level text is mrkdwn
    assert message_errors([{"type": "header", "text": {"type": "plain_text",
                                                       "text": "x" * 151}}])


async def test_every_hostile_card_is_accepted_by_slack(fake: FakeSlack) -> None:
    """Through the adapter to the fake Slack, which checks schema, limits and flags."""
    chat = SlackChat(StaticToken(next(iter(fake.tokens))), api_url=fake.api_url, **paced(fake))
    for text in HOSTILE:
        await chat.send_card("C0CARDS", base_card(text=text, author_handle=text[:300] or "x",
                                                  author_name=text[:300]))
    assert len(fake.ok_calls("chat.postMessage")) == len(HOSTILE)


def _urls(payload: Any) -> list[str]:
    found: list[str] = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "url" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_urls(value))
    elif isinstance(payload, list):
        for value in payload:
            found.extend(_urls(value))
    return found
