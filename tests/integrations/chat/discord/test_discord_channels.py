"""Channels the bot cannot use: unknown ids (404 Unknown Channel), channels it cannot see (403
Missing Access) and channels it may not post in (403 Missing Permissions), with the bot's
permissions computed from GUILD_CREATE's roles and overwrites (fake_guild.py). The adapter
turns each into a permanent ChatError that names the channel and what to fix, so the relay
gives that card up instead of trying again forever."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.cards import card_for
from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.relay import Relay
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from tests.integrations.chat.discord.conftest import discord_settings
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.fake_guild import (
    ADMINISTRATOR,
    CREATE_PUBLIC_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    VIEW_CHANNEL,
)
from tests.integrations.chat.discord.test_discord_cards import mention

MESSAGES = r"/channels/\d+/messages$"
NO_SUCH_CHANNEL = "1300000000000000299"  # in no guild of the fake


def test_the_fake_computes_the_bots_permissions_as_discord_documents(
        fake: FakeDiscord) -> None:
    server = fake.server
    care = server.permissions(fake.channel_id)
    hidden = server.permissions(fake.channel_named("care-team-only"))
    read_only = server.permissions(fake.channel_named("announcements"))
    assert care is not None and hidden is not None and read_only is not None
    # @everyone's and the bot's managed role's permissions, no overwrites.
    assert care & VIEW_CHANNEL and care & SEND_MESSAGES and care & CREATE_PUBLIC_THREADS
    # @everyone denied View Channel, only the Care Team allowed it: the bot is not in it.
    assert not hidden & VIEW_CHANNEL
    # @everyone denied Send Messages: the bot's role allows it at guild level, but the
    # channel's @everyone overwrite comes after the guild-level permissions.
    assert read_only & VIEW_CHANNEL and not read_only & SEND_MESSAGES
    assert server.permissions(NO_SUCH_CHANNEL) is None
    assert server.refusal(NO_SUCH_CHANNEL) == server.refusal(NO_SUCH_CHANNEL, SEND_MESSAGES)
    # A role overwrite allowing what @everyone's denies wins; a member overwrite comes last.
    server.overwrite(fake.channel_named("care-team-only"), server.bot_roles()[0],
                     allow=VIEW_CHANNEL)
    assert server.refusal(fake.channel_named("care-team-only"), SEND_MESSAGES) is None
    server.overwrite(fake.channel_id, server.bot_id, deny=SEND_MESSAGES, member=True)
    assert server.refusal(fake.channel_id, SEND_MESSAGES) is not None
    # Administrator bypasses every overwrite.
    [bot_role] = [r for r in fake.guild["roles"] if r["id"] == server.bot_roles()[0]]
    bot_role["permissions"] = str(int(bot_role["permissions"]) | ADMINISTRATOR)
    assert server.refusal(fake.channel_id, SEND_MESSAGES) is None
    assert server.refusal(fake.channel_named("announcements"), SEND_MESSAGES) is None


@pytest.mark.parametrize(("where", "status", "says"), [
    (NO_SUCH_CHANNEL, 404,
     "Discord knows no channel 1300000000000000299 (Unknown Channel): the route's channel id "
     "is wrong, or the channel was deleted"),
    ("care-team-only", 403,
     "the bot cannot see Discord channel {id} (Missing Access): give its role View Channel "
     "there, or route the brand to another channel"),
    ("announcements", 403,
     "the bot lacks a permission in Discord channel {id} (Missing Permissions): it needs View "
     "Channel, Send Messages and Embed Links there"),
])
async def test_a_channel_the_bot_cannot_use_is_a_permanent_error(
        chat: DiscordChat, fake: FakeDiscord, deps: Deps, where: str, status: int,
        says: str) -> None:
    channel = where if where.isdigit() else fake.channel_named(where)
    card = card_for(deps.store.view(mention(deps)))
    with pytest.raises(ChatError) as caught:
        await chat.send_card(channel, card)
    assert caught.value.permanent
    assert caught.value.retry_after is None
    assert str(caught.value).startswith(says.format(id=channel))
    [post] = fake.sent("POST", MESSAGES)
    assert post.status == status
    assert fake.channel_messages(channel) == []
    # A notice and an edit there are refused the same way.
    with pytest.raises(ChatError) as notice:
        await chat.notify(channel, "Spike: 30 mentions of Acme")
    assert notice.value.permanent and channel in str(notice.value)
    with pytest.raises(ChatError) as edit:
        await chat.update_card(channel, "1310000000000099999", card)
    assert edit.value.permanent and channel in str(edit.value)


async def test_the_relay_gives_up_on_a_channel_the_bot_cannot_see(
        chat: DiscordChat, fake: FakeDiscord, deps: Deps,
        caplog: pytest.LogCaptureFixture) -> None:
    """A brand also routed to a channel hidden from the bot: its card there is given up at
    once, the log says which channel and why, and the card in the good channel goes out."""
    hidden = fake.channel_named("care-team-only")
    deps.store.add_route(brand="Acme", platform="discord", channel=hidden, actor="setup")
    mid = mention(deps)
    relay = Relay(deps.store, {"discord": chat}, now=deps.store.now)
    with caplog.at_level(logging.WARNING):
        assert await relay.run_once() == 2
        assert await relay.run_once() == 0  # nothing left to try
    deliveries = {d.channel: d for d in deps.store.deliveries(mention_id=mid)}
    assert deliveries[fake.channel_id].state == DeliveryState.SENT.value
    failed = deliveries[hidden]
    assert failed.state == DeliveryState.FAILED.value
    assert failed.attempts == 1
    assert failed.last_error is not None
    assert failed.last_error.startswith(f"the bot cannot see Discord channel {hidden}")
    assert f"to discord:{hidden} failed (attempt 1) - giving up: the bot cannot see" in \
        caplog.text
    assert [p.status for p in fake.sent("POST", rf"/channels/{hidden}/messages$")] == [403]


async def test_losing_a_permission_after_the_card_went_out(chat: DiscordChat, fake: FakeDiscord,
                                                           deps: Deps) -> None:
    """Discord's implicit permissions: without Send Messages the bot still edits its own card
    (an edit needs only View Channel), but posts nothing new; without View Channel it can do
    nothing there."""
    card = card_for(deps.store.view(mention(deps)))
    ref = await chat.send_card(fake.channel_id, card)
    await fake.overwrite(fake.channel_id, deny=SEND_MESSAGES)
    await chat.update_card(fake.channel_id, ref, card)
    with pytest.raises(ChatError) as post:
        await chat.send_card(fake.channel_id, card)
    assert post.value.permanent and "(Missing Permissions)" in str(post.value)
    await fake.overwrite(fake.channel_id, deny=VIEW_CHANNEL)
    with pytest.raises(ChatError) as edit:
        await chat.update_card(fake.channel_id, ref, card)
    assert edit.value.permanent
    assert str(edit.value).startswith(f"the bot cannot see Discord channel {fake.channel_id}")
    assert len(fake.channel_messages()) == 1


async def test_a_thread_the_bot_may_not_start_leaves_the_card_delivered(
        fake: FakeDiscord, deps: Deps, caplog: pytest.LogCaptureFixture) -> None:
    chat = DiscordChat(discord_settings(fake.api_url, threads=True), deps)
    try:
        await fake.overwrite(fake.channel_id, deny=CREATE_PUBLIC_THREADS)
        card = card_for(deps.store.view(mention(deps)))
        with caplog.at_level(logging.WARNING):
            ref = await chat.send_card(fake.channel_id, card)
        assert fake.threads == {}
        assert [m["id"] for m in fake.channel_messages()] == [ref]
        assert f"no thread for card {ref} in {fake.channel_id}: the bot lacks a permission " \
               f"in Discord channel {fake.channel_id} (Missing Permissions)" in caplog.text
        # A notice's detail lines go into a thread under it: that needs Send Messages in
        # Threads. Refused, the notice stays (never sent twice) and the log says why.
        await fake.overwrite(fake.channel_id, deny=SEND_MESSAGES_IN_THREADS)
        with caplog.at_level(logging.WARNING):
            notice = await chat.notify(fake.channel_id, "Spike", thread=["#1 line"])
        assert fake.threads[notice]["parent_id"] == fake.channel_id
        assert fake.channel_messages(notice) == []
        assert f"thread under notice {notice} incomplete: the bot lacks a permission in " \
               f"Discord channel {notice} (Missing Permissions)" in caplog.text
    finally:
        await chat.close()


async def test_a_registered_channel_can_be_used(connected: DiscordChat, fake: FakeDiscord,
                                                deps: Deps) -> None:
    """A channel made after the bot connected reaches it as CHANNEL_CREATE, and takes cards."""
    created = asyncio.create_task(connected.client.wait_for("guild_channel_create", timeout=10))
    await asyncio.sleep(0)  # the waiter is in place
    channel = await fake.add_channel("acme-vip")
    assert str((await created).id) == channel
    ref = await connected.send_card(channel, card_for(deps.store.view(mention(deps))))
    assert [m["id"] for m in fake.channel_messages(channel)] == [ref]
