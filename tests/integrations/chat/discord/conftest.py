"""Fixtures for the Discord adapter: the fake Discord, a desk with one routed brand, and the
real discord.py client pointed at the fake."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import discord.http
import pytest
from discord.gateway import DiscordWebSocket

from bot.store import Store
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.settings import DiscordSettings
from integrations.networks.replay import recording_responders
from tests.integrations.chat.discord.fake_discord import TOKEN, FakeDiscord, Member

T = TypeVar("T")

CARE_ROLE = "1300000000000000111"  # "Care Team" in tests/fixtures/discord/guild_create.json
ADMIN_ROLE = "1300000000000000112"  # "Desk Admin"
# Permissions as Discord computes them for a member in the channel.
BASIC = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True,
                            use_application_commands=True).value

ANA = Member(user_id="1300000000000000301", username="ana.care", global_name="Ana",
             nick="Ana (Care)", roles=(CARE_ROLE,), permissions=BASIC)
BEN = Member(user_id="1300000000000000302", username="ben", global_name="Ben",
             roles=(), permissions=BASIC)
OWNER = Member(user_id="1300000000000000900", username="desk.owner", global_name="Owner",
               roles=(), permissions=discord.Permissions.all().value)


@pytest.fixture(autouse=True)
def _route_base() -> Iterator[None]:
    # DiscordChat points discord.py's Route.BASE and DEFAULT_GATEWAY (class attributes) at
    # the fake; put them back.
    saved = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.close()
    # Whatever a test did, nothing the bot sent may break Discord's rules.
    assert server.violations == []
    assert server.errors == []


def discord_settings(api_url: str, **overrides: object) -> DiscordSettings:
    values: dict[str, object] = {
        "token": TOKEN, "api_url": api_url,
        "application_id": "1300000000000000001",
        "guild_ids": ["1300000000000000100"],
        "responder_role": "Care Team", "admin_role": ADMIN_ROLE,
    }
    values.update(overrides)
    return DiscordSettings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


class ThreadedFake:
    """The fake Discord on its own event loop in a thread, for code that runs its own loop
    (the CLI's asyncio.run, a child process)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="fake-discord", daemon=True)
        self.fake: FakeDiscord | None = None

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.fake = FakeDiscord()
        self.loop.run_until_complete(self.fake.start())
        self._started.set()
        self.loop.run_forever()

    def start(self) -> FakeDiscord:
        self._thread.start()
        assert self._started.wait(10) and self.fake is not None
        return self.fake

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        assert self.fake is not None
        self.call(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def threaded() -> Iterator[ThreadedFake]:
    server = ThreadedFake()
    server.start()
    try:
        yield server
    finally:
        server.stop()
    assert server.fake is not None
    assert server.fake.violations == []
    assert server.fake.errors == []


@pytest.fixture
def threaded_fake(threaded: ThreadedFake) -> FakeDiscord:
    assert threaded.fake is not None
    return threaded.fake


@pytest.fixture
def settings(fake: FakeDiscord) -> DiscordSettings:
    return discord_settings(fake.api_url)


@pytest.fixture
def deps(sqlite_store: Store, tmp_path: Path, fake: FakeDiscord) -> Deps:
    store = sqlite_store
    store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="discord", channel=fake.channel_id, actor="setup")
    store.add_template(name="thanks", text="Thank you, {name}! - Team {brand}", actor="setup")
    store.add_template(name="dm", text="Please send us a DM, {name}.", actor="setup")
    return Deps(store=store, responders=recording_responders(tmp_path / "replies.jsonl"),
                now=store.now)


@pytest.fixture
async def chat(settings: DiscordSettings, deps: Deps) -> AsyncIterator[DiscordChat]:
    adapter = DiscordChat(settings, deps, guild_ready_timeout=0.05)
    try:
        yield adapter
    finally:
        await adapter.close()


@pytest.fixture
async def connected(chat: DiscordChat, fake: FakeDiscord) -> AsyncIterator[DiscordChat]:
    """The adapter's service running: logged in, gateway open, READY and GUILD_CREATE seen."""
    stop = asyncio.Event()
    task = asyncio.create_task(chat.serve(stop))
    await asyncio.wait_for(chat.ready.wait(), 10)
    await fake.wait_for(lambda: fake.connected == 1)
    try:
        yield chat
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
