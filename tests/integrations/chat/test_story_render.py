"""Story and person lines on the cards of every chat, with hostile network text: escaped, no
pings, no disguised links, within each platform's limits (pure renderers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot.store.views import PersonSummary, StoryPost, StorySummary
from integrations.chat.console.render import render_card
from integrations.chat.discord.render import card_message as discord_card
from integrations.chat.slack.render import card_message as slack_card
from testkit.blockkit import message_errors
from tests.integrations.chat.discord.discord_rules import message_problems
from tests.integrations.chat.discord.test_discord_render import card

WHEN = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
HOSTILE = "<!channel> @everyone [refund](https://evil.example) \u202eevil\u202c " + "x" * 4000


def post(mid: int, network: str, followers: int | None) -> StoryPost:
    return StoryPost(mention_id=mid, network=network, handle="<@U0ADMIN>@here", followers=followers,
                     text=HOSTILE, url="https://evil.example", status="new", created_at=WHEN,
                     answered=False)


STORY = StorySummary(story_id=7, posts=14, networks=(("bluesky", 9), ("reddit", 3),
                                                      ("hackernews", 2)),
                     newest=post(60, "bluesky", 10), most_reached=post(51, "reddit", 52_000),
                     answered=2, claimed=1, closed=0, reason="link")
PERSON = PersonSummary(identity_id=3, accounts=(("mastodon", "<!here>lena@m.example"),
                                                ("bluesky", "@everyone.example")),
                       mentions=5, answered=2, value=16.8)


def test_slack_story_parent_and_person() -> None:
    c = replace(card(), story=STORY, story_id=7, person=PERSON)
    message = slack_card(c, WHEN)
    assert message_errors(message["blocks"]) == []
    text = str(message["blocks"])
    assert "Story 7: 14 posts (bluesky 9, reddit 3, hackernews 2)" in text
    assert "community value 16.8" in text
    assert "<!channel>" not in text and "<!here>" not in text and "<@U0ADMIN>" not in text
    assert "\u202e" not in text
    member = slack_card(replace(card(), story_id=7), WHEN)
    assert "Part of story 7" in str(member["blocks"])


def test_discord_story_parent_and_person() -> None:
    c = replace(card(), story=STORY, story_id=7, person=PERSON)
    message = discord_card(c)
    assert message_problems(message) == []
    fields = message["embeds"][0]["fields"]
    assert fields[0]["name"] == "Story 7"
    assert "14 posts" in fields[0]["value"]
    assert any(f["name"] == "Person" and "community value 16.8" in f["value"] for f in fields)
    assert message["allowed_mentions"] == {"parse": []}
    assert "[refund](https://evil.example)" not in str(fields)


def test_console_story_parent_and_person() -> None:
    text = render_card(replace(card(), story=STORY, story_id=7, person=PERSON), WHEN)
    assert "Story 7: 14 posts (bluesky 9, reddit 3, hackernews 2)" in text
    assert "Most reached: #51 reddit" in text and "52k followers" in text
    assert "Same person as mastodon:@<!here>lena@m.example" in text
    assert "\u202e" not in text
