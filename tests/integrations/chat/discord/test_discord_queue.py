"""`queue` on Discord (ephemeral, the same view as everywhere) and the pinned queue status per
channel, through the real discord.py client against the fake Discord (pins need Pin Messages)."""

from __future__ import annotations

from dataclasses import replace

from bot.relay import Relay
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.status import StatusBoards
from tests.integrations.chat.discord.conftest import ANA, OWNER
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.fake_guild import MANAGE_MESSAGES, PIN_MESSAGES
from tests.integrations.chat.discord.test_discord_interactions import (
    EPHEMERAL,
    description,
    done,
    mention,
)


class Ticks:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


async def test_queue_answers_privately_with_the_view(connected: DiscordChat, fake: FakeDiscord,
                                                     deps: Deps) -> None:
    mid = mention(deps, "where is my order")
    claim = await fake.interact(fake.command("claim", {"id": str(mid)}, ANA))
    await done(fake, claim)
    state = await fake.interact(fake.command("queue", {}, ANA))
    await done(fake, state)
    assert state.original is not None and state.original["flags"] == EPHEMERAL
    text = description(state.original)
    assert "My claimed mentions: 1" in text
    assert f"#{mid} Acme · mastodon · high" in text
    assert "Open queue: 1" in text and "On call: no rota configured" in text


async def test_pinned_status_is_posted_pinned_and_edited_in_place(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    connected.deps = replace(deps, status_boards=frozenset({"discord"}))
    boards = StatusBoards(connected, every=60, clock=Ticks())
    # Only admins; and the bot's role has Manage Messages but not Pin Messages.
    refused = await fake.interact(fake.command("queue", {"action": "pin"}, ANA))
    await done(fake, refused)
    assert "only admins may use queue pin" in description(refused.original)
    state = await fake.interact(fake.command("queue", {"action": "pin"}, OWNER))
    await done(fake, state)
    assert "will be posted and pinned here" in description(state.original)
    assert await boards.round() == 1
    [status] = [m for m in fake.channel_messages() if m["embeds"]
                and m["embeds"][0].get("title") == "Echtzeit queue status"]
    assert not status["pinned"]
    [board] = deps.store.boards(platform="discord")
    assert board.error is not None and "Pin Messages" in board.error
    assert fake.sent("PUT", r"/messages/pins/")[0].status == 403
    # The admin grants Pin Messages (Manage Messages alone no longer pins) and asks again.
    await fake.overwrite(fake.channel_id, allow=PIN_MESSAGES | MANAGE_MESSAGES)
    again = await fake.interact(fake.command("queue", {"action": "pin"}, OWNER))
    await done(fake, again)
    assert await boards.round() == 1
    status = fake.messages[fake.channel_id][status["id"]]
    assert status["pinned"]
    assert [m["type"] for m in fake.channel_messages()].count(6) == 1  # "pinned a message"
    assert "Open queue: 0" in status["embeds"][0]["description"]
    # A new mention changes the queue: edited in place, but not before a minute passed.
    mention(deps, "acme broke again")
    assert await boards.round() == 0
    boards.clock.value += 60  # type: ignore[attr-defined]
    assert await boards.round() == 1
    status = fake.messages[fake.channel_id][status["id"]]
    assert "Open queue: 1" in status["embeds"][0]["description"]
    assert status["pinned"] and status["edited_timestamp"] is not None
    posts = fake.sent("POST", rf"/channels/{fake.channel_id}/messages$")
    assert len([p for p in posts if p.body.get("embeds", [{}])[0].get("title")
                == "Echtzeit queue status"]) == 1  # one message, edited, never re-posted
    # The relay's cards and the status share the channel's pacer: both go out.
    assert await Relay(deps.store, {"discord": connected}).run_once() == 1
    # Unpinned on request, and no longer edited.
    off = await fake.interact(fake.command("queue", {"action": "unpin"}, OWNER))
    await done(fake, off)
    assert await boards.round() == 1
    assert not fake.messages[fake.channel_id][status["id"]]["pinned"]
    assert deps.store.boards(platform="discord") == []
    boards.clock.value += 600  # type: ignore[attr-defined]
    mention(deps, "acme once more")
    assert await boards.round() == 0


async def test_queue_pin_is_refused_where_no_board_is_kept(connected: DiscordChat,
                                                          fake: FakeDiscord) -> None:
    state = await fake.interact(fake.command("queue", {"action": "pin"}, OWNER))
    await done(fake, state)
    assert "a pinned queue status is kept on no configured chat" in description(state.original)


async def test_quiet_hours_catch_up_arrives_as_one_discord_notice(chat: DiscordChat,
                                                                  fake: FakeDiscord,
                                                                  deps: Deps) -> None:
    """Quiet hours with the real Discord adapter and an injected clock (the store's)."""
    from testkit.factories import new_mention

    store = deps.store
    store.add_route(brand="Acme", platform="discord", channel=fake.channel_id,
                    quiet_hours="22:00-12:00", quiet_timezone="Europe/Berlin", actor="setup")
    brand = store.brand(name="Acme")
    bid = brand.id or 0
    ids = store.write_mentions(
        [new_mention(bid, "acme @everyone is slow", priority="normal", network="bluesky"),
         new_mention(bid, "acme exploded", priority="urgent")],
        routes={bid: store.routes(brand_id=bid)})
    relay = Relay(store, {"discord": chat}, now=store.now)
    await relay.run_once()
    assert len(fake.channel_messages()) == 1  # the urgent card
    store.now.advance(hours=2)  # type: ignore[attr-defined]
    await relay.run_once()
    notice = fake.channel_messages()[1]
    text = notice["content"] + "".join(e.get("description", "") for e in notice["embeds"])
    assert "Catch-up: 1 mention(s) of Acme held during quiet hours (1 bluesky)" in text
    # Without threads the list is below the notice's text; the network's @everyone is
    # escaped and allowed_mentions is empty (the fake checks both).
    # (markdown escaped: `\#1 \[normal\]`; the link whole; @everyone broken by a zero-width
    # space)
    assert f"\\#{ids[0]} \\[normal\\] bluesky https://social.example/@kunde/" in text
    assert "@\u200beveryone" in text and "@everyone" not in text
    assert all(m.get("mention_everyone") is False for m in fake.channel_messages())
    await relay.run_once()
    assert len(store.catch_ups()) == 1 and store.catch_ups()[0].state == "sent"
