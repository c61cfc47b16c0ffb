"""Cards go out and are edited through discord.py's real HTTP client, against the fake API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cards import card_for
from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.relay import Relay
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.render import card_message
from integrations.chat.discord.settings import DiscordSettings
from testkit.factories import new_mention
from tests.integrations.chat.discord.conftest import discord_settings
from tests.integrations.chat.discord.fake_discord import FakeDiscord

MESSAGES = r"/channels/\d+/messages$"


def mention(deps: Deps, text: str = "acme app is down") -> int:
    store = deps.store
    brand = store.brand(name="Acme")
    assert brand.id is not None
    [mid] = store.write_mentions([new_mention(brand.id, text)],
                                 routes={brand.id: store.routes(brand_id=brand.id)})
    return mid


async def test_send_and_update_a_card(chat: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    await chat.login()
    mid = mention(deps, "@everyone acme is down [refund](https://evil.example)")
    card = card_for(deps.store.view(mid))
    ref = await chat.send_card(fake.channel_id, card)
    [posted] = fake.sent("POST", MESSAGES)
    # Exactly the rendered payload went out, with every ping suppressed.
    assert posted.body == card_message(card)
    assert posted.body["allowed_mentions"] == {"parse": []}
    assert fake.channel_messages()[0]["id"] == ref
    deps.store.claim(mention_id=mid, actor="Ana")
    claimed = card_for(deps.store.view(mid))
    await chat.update_card(fake.channel_id, ref, claimed)
    [edit] = fake.sent("PATCH", rf"/messages/{ref}$")
    assert edit.body == card_message(claimed)
    [message] = fake.channel_messages()
    assert message["embeds"][0]["fields"][0]["value"] == "CLAIMED · Ana"
    assert message["edited_timestamp"] is not None
    assert fake.violations == []


async def test_short_429_is_waited_out_by_discord_py(chat: DiscordChat, fake: FakeDiscord,
                                                      deps: Deps) -> None:
    await chat.login()
    fake.fail("POST", MESSAGES, 429, retry_after=0.05)
    ref = await chat.send_card(fake.channel_id, card_for(deps.store.view(mention(deps))))
    assert [r.status for r in fake.sent("POST", MESSAGES)] == [429, 200]
    assert fake.channel_messages()[0]["id"] == ref


async def test_long_429_becomes_retry_after(chat: DiscordChat, fake: FakeDiscord,
                                            deps: Deps) -> None:
    await chat.login()
    fake.fail("POST", MESSAGES, 429, retry_after=64.57)
    with pytest.raises(ChatError) as caught:
        await chat.send_card(fake.channel_id, card_for(deps.store.view(mention(deps))))
    assert caught.value.retry_after == pytest.approx(64.57)
    assert not caught.value.permanent
    assert len(fake.sent("POST", MESSAGES)) == 1


@pytest.mark.parametrize("status", [403, 404])
async def test_forbidden_and_gone_are_permanent(chat: DiscordChat, fake: FakeDiscord,
                                                deps: Deps, status: int) -> None:
    await chat.login()
    card = card_for(deps.store.view(mention(deps)))
    fake.fail("POST", MESSAGES, status)
    with pytest.raises(ChatError) as caught:
        await chat.send_card(fake.channel_id, card)
    assert caught.value.permanent
    with pytest.raises(ChatError) as gone:
        await chat.update_card(fake.channel_id, "1310000000000099999", card)
    assert gone.value.permanent


async def test_a_channel_name_is_refused_before_any_request(chat: DiscordChat, fake: FakeDiscord,
                                                             deps: Deps) -> None:
    card = card_for(deps.store.view(mention(deps)))
    with pytest.raises(ChatError) as caught:
        await chat.send_card("general", card)
    assert caught.value.permanent
    assert fake.requests == []


async def test_thread_per_card(fake: FakeDiscord, deps: Deps, tmp_path: Path) -> None:
    settings = discord_settings(fake.api_url, threads=True)
    chat = DiscordChat(settings, deps)
    try:
        await chat.login()
        card = card_for(deps.store.view(mention(deps)))
        ref = await chat.send_card(fake.channel_id, card)
        assert fake.threads[ref]["name"] == f"#{card.mention_id} Acme · @kunde"
        assert fake.threads[ref]["thread_metadata"]["auto_archive_duration"] == 1440
        # A thread that cannot be made leaves the card delivered (no second copy).
        fake.fail("POST", r"/threads$", 403)
        second = await chat.send_card(fake.channel_id, card)
        assert second not in fake.threads
        assert len(fake.channel_messages()) == 2
    finally:
        await chat.close()


async def test_relay_delivers_and_redraws_through_discord(chat: DiscordChat, fake: FakeDiscord,
                                                          deps: Deps) -> None:
    await chat.login()
    store = deps.store
    mid = mention(deps)
    relay = Relay(store, {"discord": chat})
    assert await relay.run_once() == 1
    [delivery] = store.deliveries(mention_id=mid)
    assert delivery.state == DeliveryState.SENT.value
    assert delivery.message_ref == fake.channel_messages()[0]["id"]
    store.resolve(mention_id=mid, actor="Ana")
    assert await relay.run_once() == 1
    [edit] = fake.sent("PATCH", r"/messages/\d+$")
    assert edit.path.endswith(f"/messages/{delivery.message_ref}")
    assert fake.channel_messages()[0]["embeds"][0]["fields"][0]["value"] == "RESOLVED"
    assert fake.channel_messages()[0]["components"][0]["components"][0]["style"] == 5


async def test_relay_reschedules_on_discords_retry_after(chat: DiscordChat, fake: FakeDiscord,
                                                         deps: Deps) -> None:
    await chat.login()
    store = deps.store
    mid = mention(deps)
    fake.fail("POST", MESSAGES, 429, retry_after=120.0)
    relay = Relay(store, {"discord": chat}, now=store.now)
    await relay.run_once()
    [delivery] = store.deliveries(mention_id=mid)
    assert delivery.state == DeliveryState.PENDING.value
    assert delivery.next_attempt_at is not None
    waited = delivery.next_attempt_at.replace(tzinfo=store.now().tzinfo) - store.now()
    assert waited == timedelta(seconds=120)


async def test_cards_are_paced_per_channel(fake: FakeDiscord, deps: Deps,
                                           settings: DiscordSettings) -> None:
    # Two cards at once, then one every 0.1 s: the third and fourth wait their turn.
    chat = DiscordChat(settings, deps, channel_rate=(2, 0.2))
    try:
        await chat.login()
        card = card_for(deps.store.view(mention(deps)))
        arrived: list[float] = []

        async def one() -> None:
            await chat.send_card(fake.channel_id, card)
            arrived.append(time.monotonic())

        start = time.monotonic()
        await asyncio.gather(*(one() for _ in range(4)))
        arrived.sort()
        assert arrived[1] - start < 0.09
        assert arrived[3] - start >= 0.15
    finally:
        await chat.close()


async def test_cards_log_in_on_demand(chat: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    # The relay may run before the gateway is up: HTTP alone is enough for cards.
    await chat.send_card(fake.channel_id, card_for(deps.store.view(mention(deps))))
    assert [r.path for r in fake.requests][:2] == ["/api/v10/users/@me",
                                                   "/api/v10/oauth2/applications/@me"]
    assert fake.connected == 0


async def test_a_refused_token_keeps_the_card_for_later(fake: FakeDiscord, deps: Deps,
                                                        tmp_path: Path) -> None:
    chat = DiscordChat(discord_settings(fake.api_url, token="wrong"), deps)
    try:
        with pytest.raises(ChatError) as caught:
            await chat.send_card(fake.channel_id, card_for(deps.store.view(mention(deps))))
    finally:
        await chat.close()
    assert not caught.value.permanent
    assert "refused the token" in str(caught.value)
    assert fake.sent("POST", MESSAGES) == []


async def test_a_refused_token_ends_the_service_quietly(fake: FakeDiscord, deps: Deps,
                                                        tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    chat = DiscordChat(discord_settings(fake.api_url, token="wrong"), deps)
    await asyncio.wait_for(chat.serve(asyncio.Event()), 10)
    assert "the token was refused" in caplog.text
    assert "wrong" not in caplog.text
    assert fake.connected == 0


async def test_discord_unreachable_at_start_is_tried_again(fake: FakeDiscord, deps: Deps,
                                                           settings: DiscordSettings) -> None:
    chat = DiscordChat(settings, deps, guild_ready_timeout=0.05)
    fake.fail("GET", r"/users/@me$", 503)  # 503: discord.py does not retry it itself
    stop = asyncio.Event()
    task = asyncio.create_task(chat.serve(stop))
    try:
        await asyncio.wait_for(chat.ready.wait(), 20)
        assert [r.status for r in fake.sent("GET", r"/users/@me$")][:2] == [503, 200]
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
