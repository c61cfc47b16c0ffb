"""Pure Block Kit renderers: plain asserts on what Slack would be sent."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.cards import ACTIONS_BY_STATUS, Card
from commands.base import Result
from commands.mentions import fill_template
from integrations.chat.common import u16len as slack_len
from integrations.chat.slack.desk import reply_limit
from integrations.chat.slack.modal import ReplyTarget, reply_form, reply_modal
from integrations.chat.slack.parse import command_args, from_slack
from integrations.chat.slack.render import (
    SECTION_TEXT,
    card_blocks,
    card_message,
    fit,
    mrkdwn_safe,
    result_message,
)
from integrations.networks.replay import RecordingResponder
from testkit.blockkit import message_errors, view_errors
from tests.integrations.chat.slack.test_slack_hostile import NOW, base_card


@dataclass(frozen=True, slots=True)
class SlaCard(Card):
    """A card with the SLA clock (bot.reporting.sla) set, whether or not Card has the field."""

    sla_due_at: datetime | None = None


def everything(blocks: list[dict]) -> str:
    return str(blocks)


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_a_new_card_shows_who_what_and_offers_every_action() -> None:
    blocks = card_blocks(base_card(), NOW)
    assert message_errors(blocks) == []
    assert blocks[0] == {"type": "header", "block_id": "m42-head",
                         "text": {"type": "plain_text", "text": "🔴 Acme · mastodon · #42",
                                  "emoji": False}}
    author = blocks[1]["elements"][0]["text"]
    assert author == ("Kunde (@kunde) · 1.2k followers · wrote to us 2× before · answered 1×")
    assert blocks[2]["text"] == {"type": "plain_text", "text": "acme is down", "emoji": False}
    facts = everything(blocks[3]["elements"])
    for part in ("🌐 de", "negative (-0.60)", "30m ago", "♥ 3", "↻ 1", "New · priority urgent"):
        assert part in facts
    assert [(b["action_id"], b["text"]["text"]) for b in buttons(blocks)] == [
        ("echtzeit_claim", "Claim"), ("echtzeit_reply", "Reply…"),
        ("echtzeit_resolve", "Resolve"), ("echtzeit_ignore", "Ignore"),
        ("echtzeit_mute", "Mute author"), ("echtzeit_open", "Open post · social.example")]
    assert {b["value"] for b in buttons(blocks)} == {"42"}
    ignore, mute = buttons(blocks)[3], buttons(blocks)[4]
    assert ignore["confirm"]["title"]["text"] == "Ignore #42?"
    assert mute["style"] == "danger" and "@kunde" in mute["confirm"]["text"]["text"]
    assert buttons(blocks)[5]["url"] == "https://social.example/@kunde/1"


def test_card_states_show_who_acted_and_drop_spent_buttons() -> None:
    claimed = card_blocks(base_card(status="claimed", assignee="Ana",
                                    actions=ACTIONS_BY_STATUS["claimed"]), NOW)
    assert "🙋 Claimed by Ana" in everything(claimed)
    assert "echtzeit_claim" not in everything(claimed)
    replied = card_blocks(base_card(
        status="replied", assignee="Ana", reply_by="Ana", reply_state="sent",
        reply_url="https://social.example/@acme/99", actions=ACTIONS_BY_STATUS["replied"]), NOW)
    assert "↩️ Replied by Ana" in everything(replied)
    [view_reply] = [b for b in buttons(replied) if b["action_id"] == "echtzeit_view_reply"]
    assert view_reply["url"] == "https://social.example/@acme/99"
    resolved = card_blocks(base_card(status="resolved", assignee="Ana", actions=()), NOW)
    assert "✅ Resolved · handled by Ana" in everything(resolved)
    assert [b["action_id"] for b in buttons(resolved)] == ["echtzeit_open"]
    unknown = card_blocks(base_card(status="claimed", reply_by="Ben", reply_state="unknown",
                                    actions=ACTIONS_BY_STATUS["claimed"]), NOW)
    assert "may or may not be on mastodon" in everything(unknown)


def test_sla_time_left_is_shown_only_when_the_card_has_a_clock() -> None:
    assert "SLA" not in everything(card_blocks(base_card(), NOW))
    fields = {f: getattr(base_card(), f) for f in Card.__dataclass_fields__}
    due = SlaCard(**{**fields, "sla_due_at": NOW + timedelta(minutes=42)})
    assert "⏱ SLA 42m left" in everything(card_blocks(due, NOW))
    late = SlaCard(**{**fields, "sla_due_at": NOW - timedelta(minutes=5)})
    assert "⏱ SLA overdue by 5m" in everything(card_blocks(late, NOW))
    done = SlaCard(**{**fields, "status": "resolved", "actions": (),
                      "sla_due_at": NOW - timedelta(minutes=5)})
    assert "SLA" not in everything(card_blocks(done, NOW))


def test_long_text_is_cut_to_slacks_limit_with_a_pointer_to_the_rest() -> None:
    long = "Ärger &" * 1000  # escaping makes it longer still
    blocks = card_blocks(base_card(text=long), NOW)
    body = blocks[2]["text"]["text"]
    assert slack_len(body) <= SECTION_TEXT and body.endswith("…")
    assert "&amp;" in body and not body.endswith("&…") and "&am…" not in body
    assert "Shortened from 7,000 characters" in everything(blocks)
    assert message_errors(blocks) == []
    text, cut = fit("x" * 10, 5)
    assert (text, cut) == ("xxxx…", True)


def test_a_url_that_is_not_http_gets_no_button_and_is_shown_as_text() -> None:
    blocks = card_blocks(base_card(url="javascript:alert(1)"), NOW)
    assert "echtzeit_open" not in everything(blocks)
    assert "Link: javascript:alert(1)" in everything(blocks)
    punycode = card_blocks(base_card(url="https://bаnk.example/login"), NOW)  # Cyrillic а
    [open_button] = [b for b in buttons(punycode) if b["action_id"] == "echtzeit_open"]
    assert open_button["text"]["text"] == "Open post · xn--bnk-6cd.example"
    assert "bаnk.example".encode("idna") == b"xn--bnk-6cd.example"


def test_card_message_flags_and_a_safe_notification_line() -> None:
    message = card_message(base_card(text="*Acme* is _down_ <!here>"), NOW)
    assert message["unfurl_links"] is False and message["unfurl_media"] is False
    assert message["link_names"] is False and message["parse"] == "none"
    assert message["text"].startswith("🔴 #42 Acme · mastodon · New · @kunde: ")
    assert "*" not in message["text"] and "<" not in message["text"]
    assert mrkdwn_safe("> quote\n  > more") == "› quote\n  › more"


def test_results_are_held_to_fifty_blocks() -> None:
    cards = [replace(base_card(), mention_id=i) for i in range(200)]
    long_lines = ["a line " * 100] * 300
    message = result_message(Result(text="many", lines=long_lines, cards=cards), NOW)
    assert len(message["blocks"]) <= 50
    assert message_errors(message["blocks"]) == []
    assert "more block(s) not shown" in everything(message["blocks"])
    error = result_message(Result.error("no mention #9"), NOW)
    assert error["blocks"][0]["text"]["text"] == "⚠️ no mention #9"


def test_the_reply_modal_holds_the_network_limit_and_slacks() -> None:
    target = ReplyTarget(mention_id=42, channel="C0CARDS", message_ts="1764000000.000001")
    view = reply_modal(base_card(), target=target, limit=500,
                       templates=[("thanks", "Thank you {name}!")])
    assert view_errors(view) == []
    assert view["title"]["text"] == "Reply to #42"
    assert ReplyTarget.load(view["private_metadata"]) == target
    [field] = [b for b in view["blocks"] if b["block_id"].startswith("reply-")]
    assert field["element"]["max_length"] == 500
    assert field["hint"]["text"] == "mastodon allows 500 characters"
    reddit = reply_modal(replace(base_card(), network="reddit"), target=target, limit=10_000)
    [field] = [b for b in reddit["blocks"] if b["block_id"].startswith("reply-")]
    assert field["element"]["max_length"] == 3000
    assert "Slack takes 3,000 here" in field["hint"]["text"]
    assert not [b for b in reddit["blocks"] if b["block_id"] == "template"]
    submitted = {"state": {"values": {
        "template": {"echtzeit_template": {"type": "static_select",
                                           "selected_option": {"value": "thanks"}}},
        "reply-": {"reply_text": {"type": "plain_text_input", "value": "Hi"}}}}}
    assert reply_form(submitted) == ("thanks", "Hi", "reply-")


def test_slack_text_back_to_what_the_person_meant() -> None:
    raw = ("Thanks &lt;3 AT&amp;T <https://acme.example/help|our help page> "
           "<mailto:care@acme.example|care@acme.example> <@U0ANA> <#C0CARDS|care> <!here>")
    assert from_slack(raw, {"U0ANA": "Ana"}) == (
        "Thanks <3 AT&T https://acme.example/help care@acme.example @Ana #care @here")
    line = command_args("brand route Acme slack:here min=high", here="T0SECOND/C0CARDS",
                        names={})
    assert line == "brand route Acme slack:T0SECOND/C0CARDS min=high"
    line = command_args("brand route Acme slack:<#C0OTHER|other>", here="C0CARDS", names={})
    assert line == "brand route Acme slack:C0OTHER"
    line = command_args("assign 42 <@U0BEN|ben>", here="C0CARDS", names={"U0BEN": "Ben Schulz"})
    assert line == 'assign 42 "Ben Schulz"'


def test_reply_limits_come_from_the_networks_responders(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    assert reply_limit(RecordingResponder(network="mastodon", path=path)) == 500
    assert reply_limit(RecordingResponder(network="x", path=path)) == 280

    class Unlimited:
        network = "github"

        def check(self, text: str) -> str | None:
            return None

    assert reply_limit(Unlimited()) is None  # type: ignore[arg-type]


def test_templates_fill_like_the_reply_command(sqlite_store) -> None:  # type: ignore[no-untyped-def]
    from tests.integrations.chat.slack.conftest import seed

    mid = seed(sqlite_store)
    view = sqlite_store.view(mid)
    assert fill_template("Hi {name} ({author}) from {brand} {unknown}", view) == (
        "Hi Kunde (@kunde) from Acme {unknown}")
    assert fill_template("broken {", view) == "broken {"
