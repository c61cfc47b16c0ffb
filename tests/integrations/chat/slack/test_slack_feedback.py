"""The team's feedback buttons on a Slack card: rendered as Block Kit allows, clicked through the
real bolt app, and what they change in the store and on the card."""

from __future__ import annotations

from dataclasses import replace

from bot.cards import ACTIONS_BY_STATUS, feedback_actions
from integrations.chat.slack.render import card_blocks
from testkit.blockkit import message_errors
from tests.integrations.chat.slack.conftest import SlackDeskUnderTest
from tests.integrations.chat.slack.test_slack_hostile import NOW, base_card
from tests.integrations.chat.slack.test_slack_http import texts


def _teach(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" and b["block_id"].endswith("-teach")
            for e in b["elements"]]


def test_a_card_has_a_row_of_feedback_buttons() -> None:
    card = replace(base_card(), feedback=feedback_actions("new", "negative"))
    blocks = card_blocks(card, NOW)
    assert message_errors(blocks) == []
    assert [(b["action_id"], b["text"]["text"], b["value"]) for b in _teach(blocks)] == [
        ("echtzeit_notus", "Not about us", "42"),
        ("echtzeit_noreply", "No reply needed", "42"),
        ("echtzeit_sentiment_neutral", "😐 Is neutral", "42"),
        ("echtzeit_sentiment_positive", "🙂 Is positive", "42")]
    assert _teach(blocks)[0]["confirm"]["title"]["text"] == "Not about Acme?"
    closed = replace(base_card(), status="resolved", actions=(),
                     feedback=feedback_actions("resolved", "negative"))
    assert _teach(card_blocks(closed, NOW)) == []
    replied = replace(base_card(), status="replied", actions=ACTIONS_BY_STATUS["replied"],
                      feedback=feedback_actions("replied", "negative"))
    assert [b["action_id"] for b in _teach(card_blocks(replied, NOW))] == [
        "echtzeit_sentiment_neutral", "echtzeit_sentiment_positive"]
    corrected = replace(base_card(), sentiment_by="Ana")
    assert "negative (-0.60), set by Ana" in str(card_blocks(corrected, NOW))


async def test_clicking_feedback_buttons(http_desk: SlackDeskUnderTest) -> None:
    fake, store, mid = http_desk.fake, http_desk.store, http_desk.mention_id
    assert await http_desk.relay.run_once() == 1
    [posted] = await fake.wait_for("chat.postMessage")
    assert [e["action_id"] for e in _teach(posted.args["blocks"])] == [
        "echtzeit_notus", "echtzeit_noreply", "echtzeit_sentiment_neutral",
        "echtzeit_sentiment_positive"]
    _, ts = http_desk.card_ref()

    status, _ = await http_desk.interact(
        http_desk.click("echtzeit_sentiment_neutral", message_ts=ts, hook="sent"))
    assert status == 200
    [(_, answer)] = await fake.wait_webhooks(1)
    assert f"#{mid} is neutral now (set by Ana)." in texts(answer["blocks"])
    assert (store.view(mid).mention.sentiment, store.view(mid).mention.sentiment_by) == (
        "neutral", "Ana")
    assert await http_desk.relay.run_once() == 1
    [update] = await fake.wait_for("chat.update")
    assert "neutral (+0.00), set by Ana" in str(update.args["blocks"])

    await http_desk.interact(http_desk.click("echtzeit_notus", message_ts=ts, hook="notus"))
    [(_, done)] = [w for w in await fake.wait_webhooks(2) if w[0] == "notus"]
    assert f"#{mid}: noted as not about us (ignored)." in texts(done["blocks"])
    assert {(f.target, f.label, f.actor) for f in store.feedback(mention_id=mid)} == {
        ("relevance", "0", "Ana"), ("needs_reply", "0", "Ana"), ("sentiment", "neutral", "Ana")}
    await http_desk.relay.run_once()
    final = fake.ok_calls("chat.update")[-1]
    assert "Ignored" in texts(final.args["blocks"])
    assert _teach(final.args["blocks"]) == []
