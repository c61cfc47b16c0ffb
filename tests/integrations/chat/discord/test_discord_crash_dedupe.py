"""Issue 8: a Discord card in doubt is sent again and still appears once.

DiscordChat sends each card with its delivery token as the message nonce and
`enforce_nonce: true`; Discord answers a repeat within its window with the message it already
made. `find_sent` finds nothing (Discord's history has no nonces), so after a crash the relay
simply sends the card again. Here a relay worker's POST reaches the fake Discord (the message
is made) and the worker dies before the answer arrives; a new process's relay resends through
the real DiscordChat and discord.py, and the fake's nonce rule is what keeps the channel at one
message. The same crash without the nonce (a plain ChatAdapter around the same DiscordChat)
makes two, and so does a restart after the nonce window: at-least-once there, as
docs/operations.md says.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.cards import Card, card_for
from bot.chat import ChatError, IdempotentChat
from bot.domain import DeliveryState
from bot.relay import Relay, delivery_token
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.settings import DiscordSettings
from tests.conftest import Clock
from tests.integrations.chat.discord.discord_rules import nonce_problems
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.test_discord_cards import mention

MESSAGES = r"/channels/\d+/messages$"


class SteppedTime:
    """The fake Discord's clock for its nonce window, moved on by hand."""

    def __init__(self) -> None:
        self.value = 1_000.0

    def __call__(self) -> float:
        return self.value


class PlainChat:
    """The same DiscordChat seen as a plain ChatAdapter: no tokens, so no nonce."""

    platform = "discord"

    def __init__(self, chat: DiscordChat) -> None:
        self.chat = chat

    async def send_card(self, channel: str, card: Card) -> str:
        return await self.chat.send_card(channel, card)

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        await self.chat.update_card(channel, message_ref, card)


async def crash_mid_send(fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock,
                         *, plain: bool = False) -> int:
    """A relay worker posts the mention's card; Discord makes the message, and the worker
    dies before the answer reaches it. Returns the mention id; its delivery is left in doubt
    (pending, sending_at set, leased to the dead worker)."""
    mid = mention(deps)
    held = fake.hold("POST", MESSAGES)
    chat = DiscordChat(settings, deps)
    adapter: Any = PlainChat(chat) if plain else chat
    worker = Relay(deps.store, {"discord": adapter}, worker="relay-1", now=clock)
    try:
        running = asyncio.create_task(worker.run_once())
        await asyncio.wait_for(held.reached.wait(), 10)
        assert len(fake.channel_messages()) == 1  # Discord has the card ...
        running.cancel()  # ... and the worker is gone before it hears so
        with pytest.raises(asyncio.CancelledError):
            await running
    finally:
        await chat.close()
        held.release.set()
    [delivery] = deps.store.deliveries(mention_id=mid)
    assert delivery.state == DeliveryState.PENDING.value
    assert delivery.sending_at is not None and delivery.message_ref is None
    return mid


async def restart(fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock,
                  *, plain: bool = False) -> tuple[DiscordChat, Relay]:
    """The next process: a new DiscordChat and relay, once the dead worker's lease ran out."""
    clock.advance(seconds=61)  # the relay's lease is 60 s
    chat = DiscordChat(settings, deps)
    adapter: Any = PlainChat(chat) if plain else chat
    return chat, Relay(deps.store, {"discord": adapter}, worker="relay-2", now=clock)


async def test_a_card_in_doubt_is_resent_and_stays_one_message(
    fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock
) -> None:
    fake.clock = discord_time = SteppedTime()
    mid = await crash_mid_send(fake, deps, settings, clock)
    [first] = fake.channel_messages()
    discord_time.value += 61  # the restart comes within Discord's nonce window
    chat, relay = await restart(fake, deps, settings, clock)
    try:
        assert isinstance(chat, IdempotentChat)
        assert await chat.find_sent(fake.channel_id, ["x"], since=clock()) == {}
        assert await relay.run_once() == 1
    finally:
        await chat.close()
    [delivery] = deps.store.deliveries(mention_id=mid)
    token = delivery_token(delivery)
    # Both attempts carried the same token as an enforced nonce; Discord answered the second
    # with the first message.
    posts = fake.sent("POST", MESSAGES)
    assert [(p.body["nonce"], p.body["enforce_nonce"], p.status) for p in posts] == [
        (token, True, 200), (token, True, 200)]
    assert fake.nonce_hits == [token]
    assert fake.channel_messages() == [first]
    assert delivery.state == DeliveryState.SENT.value
    assert delivery.message_ref == first["id"]
    assert delivery.sending_at is None
    assert len(deps.store.events(kind="relayed")) == 1


async def test_without_the_nonce_the_same_crash_posts_the_card_twice(
    fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock
) -> None:
    mid = await crash_mid_send(fake, deps, settings, clock, plain=True)
    chat, relay = await restart(fake, deps, settings, clock, plain=True)
    try:
        assert await relay.run_once() == 1
    finally:
        await chat.close()
    posts = fake.sent("POST", MESSAGES)
    assert [p.body.get("nonce") for p in posts] == [None, None]
    first, second = fake.channel_messages()
    assert first["embeds"] == second["embeds"]  # the same card, twice
    [delivery] = deps.store.deliveries(mention_id=mid)
    assert delivery.message_ref == second["id"]
    assert fake.nonce_hits == []


async def test_a_restart_after_the_nonce_window_posts_the_card_again(
    fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock
) -> None:
    # The limit docs/operations.md states: Discord forgets the nonce after a few minutes.
    fake.clock = discord_time = SteppedTime()
    mid = await crash_mid_send(fake, deps, settings, clock)
    discord_time.value += fake.nonce_window + 1
    chat, relay = await restart(fake, deps, settings, clock)
    try:
        assert await relay.run_once() == 1
    finally:
        await chat.close()
    first, second = fake.channel_messages()
    [delivery] = deps.store.deliveries(mention_id=mid)
    assert delivery.message_ref == second["id"] != first["id"]
    assert fake.nonce_hits == []


async def test_a_card_changed_while_in_doubt_is_redrawn_after_the_resend(
    fake: FakeDiscord, deps: Deps, settings: DiscordSettings, clock: Clock
) -> None:
    # Discord answers the resend with the FIRST message, which shows the card as it was; the
    # claim made meanwhile must still reach it.
    mid = await crash_mid_send(fake, deps, settings, clock)
    deps.store.claim(mention_id=mid, actor="Ana")
    chat, relay = await restart(fake, deps, settings, clock)
    try:
        assert await relay.run_once() == 1  # the resend, answered with the old message
        [message] = fake.channel_messages()
        assert message["embeds"][0]["fields"][0]["value"] != "CLAIMED · Ana"
        assert await relay.run_once() == 1  # the edit
        assert await relay.run_once() == 0
    finally:
        await chat.close()
    [message] = fake.channel_messages()
    assert message["embeds"][0]["fields"][0]["value"] == "CLAIMED · Ana"
    [delivery] = deps.store.deliveries(mention_id=mid)
    assert delivery.message_ref == message["id"]
    assert [r.path.rsplit("/", 1)[-1] for r in fake.sent("PATCH", r"/messages/\d+$")] == [
        message["id"]]


async def test_the_fake_enforces_nonces_as_discord_documents(
    fake: FakeDiscord, deps: Deps, settings: DiscordSettings
) -> None:
    card = card_for(deps.store.view(mention(deps)))
    other_channel = fake.channel_named("acme-escalations")
    fake.clock = discord_time = SteppedTime()
    chat = DiscordChat(settings, deps, channel_rate=(100, 1.0))  # no pacing waits here
    try:
        plain = [await chat.send_card(fake.channel_id, card) for _ in range(2)]
        once = [await chat.send_card_with_token(fake.channel_id, card, token="ez1.1795165200")
                for _ in range(3)]
        elsewhere = await chat.send_card_with_token(other_channel, card, token="ez1.1795165200")
        another = await chat.send_card_with_token(fake.channel_id, card, token="ez2.1795165200")
        # A message made with a nonce and deleted within the window is not made again.
        del fake.messages[fake.channel_id][another]
        with pytest.raises(ChatError) as gone:
            await chat.send_card_with_token(fake.channel_id, card, token="ez2.1795165200")
        discord_time.value += fake.nonce_window + 1
        later = await chat.send_card_with_token(fake.channel_id, card, token="ez1.1795165200")
    finally:
        await chat.close()
    assert plain[0] != plain[1]  # no nonce: two messages
    assert once[0] == once[1] == once[2]  # same nonce, same author and channel: one
    assert len({plain[0], plain[1], once[0], elsewhere, another, later}) == 6
    assert len(fake.channel_messages()) == 4 and len(fake.channel_messages(other_channel)) == 1
    assert fake.nonce_hits == ["ez1.1795165200", "ez1.1795165200", "ez2.1795165200"]
    assert gone.value.permanent and "Unknown Message" in str(gone.value)
    # What Discord checks on the nonce: at most 25 characters, and a boolean enforce_nonce.
    assert nonce_problems({"nonce": delivery_token_like(25)}) == []
    assert nonce_problems({"nonce": delivery_token_like(26)}) != []
    assert nonce_problems({"nonce": 1, "enforce_nonce": "yes"}) != []


def delivery_token_like(length: int) -> str:
    return ("ez" + "9" * length)[:length]
