"""Discord's global rate limit (50 requests a second per bot, over all routes; interaction
endpoints exempt), as the fake enforces it (fake_ratelimits.py) and as discord.py lives with it.

The limit's second counts on the fake's `rate_clock`. These tests freeze it, so that however
slow the machine, the requests fall into one window, and move it on once Discord has said 429:
discord.py really sleeps through the Retry-After it was given.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bot.cards import card_for
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.settings import DiscordSettings
from tests.integrations.chat.discord.conftest import ANA
from tests.integrations.chat.discord.fake_discord import TOKEN, FakeDiscord
from tests.integrations.chat.discord.fake_ratelimits import GLOBAL_LIMIT
from tests.integrations.chat.discord.test_discord_cards import mention

AUTH = {"Authorization": f"Bot {TOKEN}"}


class FrozenTime:
    """The fake's rate-limit clock, standing still until a test moves it."""

    def __init__(self, *, later: float = 0.0) -> None:
        self.value = time.monotonic() + later

    def __call__(self) -> float:
        return self.value


async def fill_the_global_window(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    """GLOBAL_LIMIT requests over two routes: each route's own bucket stays below its limit,
    the bot's global one is full."""
    for n in range(GLOBAL_LIMIT):
        path = "/users/@me" if n % 2 else "/oauth2/applications/@me"
        async with http.get(fake.api_url + path, headers=AUTH) as response:
            assert response.status == 200
            assert int(response.headers["X-RateLimit-Remaining"]) > 0


async def test_the_global_limit_answers_as_discord_documents(fake: FakeDiscord) -> None:
    fake.rate_clock = frozen = FrozenTime()
    async with aiohttp.ClientSession() as http:
        await fill_the_global_window(fake, http)
        # A route not used yet: its own bucket is untouched, the bot's second is used up.
        async with http.get(fake.api_url + "/gateway/bot", headers=AUTH) as response:
            body: dict[str, Any] = await response.json()
            assert response.status == 429
            assert body == {"message": "You are being rate limited.", "retry_after": 1.0,
                            "global": True}
            assert response.headers["Retry-After"] == "1"
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
            assert response.headers["Via"] == "1.1 google"  # else discord.py sees a ban
            assert "X-RateLimit-Bucket" not in response.headers
        frozen.value += 0.75
        async with http.get(fake.api_url + "/gateway/bot", headers=AUTH) as response:
            assert response.status == 429
            assert (await response.json())["retry_after"] == 0.25
        frozen.value += 0.25  # a second after the window's first request: room again
        async with http.get(fake.api_url + "/gateway/bot", headers=AUTH) as response:
            assert response.status == 200
    assert len(fake.globally_limited) == 2
    assert fake.violations == []  # a global 429 is Discord's answer, not the bot's fault


async def test_discord_py_waits_out_the_global_limit(fake: FakeDiscord, deps: Deps,
                                                     settings: DiscordSettings) -> None:
    """Sixty cards into two channels at once: thirty per channel stay within each channel's
    bucket, sixty are more than the bot may send in a second. discord.py holds every request
    while Discord's Retry-After runs, and all cards arrive once."""
    chat = DiscordChat(settings, deps, channel_rate=(100, 1.0))  # no pacing of our own here
    other = fake.channel_named("acme-escalations")
    card = card_for(deps.store.view(mention(deps)))

    async def time_passes_after_the_first_429() -> None:
        await fake.wait_for(lambda: bool(fake.globally_limited))
        frozen.value += 1.0

    try:
        await chat.login()
        fake.rate_clock = frozen = FrozenTime()
        mover = asyncio.create_task(time_passes_after_the_first_429())
        refs = await asyncio.wait_for(asyncio.gather(
            *(chat.send_card(channel, card) for channel in (fake.channel_id, other) * 30)), 30)
        await mover
    finally:
        await chat.close()
    assert len(set(refs)) == 60
    assert len(fake.channel_messages()) == len(fake.channel_messages(other)) == 30
    posts = fake.sent("POST", r"/channels/\d+/messages$")
    refused = [p for p in posts if p.status == 429]
    assert refused and refused == fake.globally_limited
    assert len(posts) == 60 + len(refused)  # each refused card was sent once more


async def test_interaction_endpoints_are_not_bound_to_the_global_limit(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    """rate-limits.mdx: "Interaction endpoints are not bound to the bot's Global Rate Limit"
    (the callback, and the follow-ups and edits that go with the interaction token)."""
    mid = mention(deps, "where is my order")
    fake.rate_clock = FrozenTime(later=1.0)  # past the second of the bot's login requests
    async with aiohttp.ClientSession() as http:
        await fill_the_global_window(fake, http)
        state = await fake.interact(fake.command("list", {}, ANA))
        await fake.answered(state, lambda: state.callback is not None and not state.loading)
        async with http.get(fake.api_url + "/gateway/bot", headers=AUTH) as response:
            assert response.status == 429  # still used up for everything else
    token = state.payload["token"]
    answered = [(r.method, r.path.split(token)[-1], r.status) for r in fake.requests
                if token in r.path]
    assert answered == [("POST", "/callback", 200), ("PATCH", "/messages/@original", 200)]
    assert state.original is not None
    assert f"**#{mid}** new" in "\n".join(e["description"] for e in state.original["embeds"])
