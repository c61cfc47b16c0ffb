"""The team's feedback buttons on a Discord card: a row of their own within Discord's component
rules, clicked through discord.py against the fake Discord, and what they change."""

from __future__ import annotations

import json

from bot.cards import ACTIONS_BY_STATUS, feedback_actions
from bot.domain import MentionStatus
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.render import card_message
from tests.integrations.chat.discord.conftest import ANA
from tests.integrations.chat.discord.discord_rules import message_problems
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.test_discord_interactions import (
    description,
    done,
    relayed_card,
)
from tests.integrations.chat.discord.test_discord_render import card


def test_feedback_buttons_have_a_row_of_their_own() -> None:
    body = card_message(card(feedback=feedback_actions("new", "negative")))
    assert message_problems(body) == []
    actions, teach, link = body["components"]
    assert len(actions["components"]) == 5
    assert [(b["label"], b["custom_id"], b["style"]) for b in teach["components"]] == [
        ("Not about us", "ez:notus:42", 2), ("No reply needed", "ez:noreply:42", 2),
        ("😐 Is neutral", "ez:sentiment_neutral:42", 2),
        ("🙂 Is positive", "ez:sentiment_positive:42", 2)]
    assert link["components"][0]["style"] == 5
    replied = card_message(card(status="replied", actions=ACTIONS_BY_STATUS["replied"],
                                feedback=feedback_actions("replied", "neutral")))
    assert [b["custom_id"] for b in replied["components"][1]["components"]] == [
        "ez:sentiment_negative:42", "ez:sentiment_positive:42"]
    corrected = card_message(card(sentiment_by="Ana **Boss**"))
    fields = {f["name"]: f["value"] for f in corrected["embeds"][0]["fields"]}
    assert fields["Sentiment"] == "negative (-0.61), set by Ana \\*\\*Boss\\*\\*"


async def test_clicking_feedback_buttons(connected: DiscordChat, fake: FakeDiscord,
                                         deps: Deps) -> None:
    mid, message = await relayed_card(deps, connected, fake)
    assert f"ez:notus:{mid}" in json.dumps(message["components"])
    corrected = await fake.interact(fake.click(message, f"ez:sentiment_positive:{mid}", ANA))
    await done(fake, corrected, followups=1)
    assert corrected.callback == {"type": 6}
    assert description(corrected.followups[0]) == f"\\#{mid} is positive now (set by Ana (Care))."
    [shown] = fake.channel_messages()
    fields = {f["name"]: f["value"] for f in shown["embeds"][0]["fields"]}
    assert fields["Sentiment"] == "positive (+1.00), set by Ana (Care)"
    assert f"ez:sentiment_positive:{mid}" not in json.dumps(shown["components"])

    noreply = await fake.interact(fake.click(shown, f"ez:noreply:{mid}", ANA))
    await done(fake, noreply, followups=1)
    assert description(noreply.followups[0]) == f"\\#{mid}: noted as needing no reply (ignored)."
    assert deps.store.view(mid).mention.status == MentionStatus.IGNORED.value
    assert {(f.target, f.label) for f in deps.store.feedback(mention_id=mid)} == {
        ("needs_reply", "0"), ("sentiment", "positive")}
    [closed] = fake.channel_messages()
    assert [b["style"] for row in closed["components"] for b in row["components"]] == [5]
