"""One desk, two chats: with Slack and Discord both configured, the composition root builds both
adapters and `echtzeit run` serves both services at once (Slack in HTTP mode here, Discord
against the fake)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from commands import Deps
from echtzeit.wiring import chat_adapters
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.slack.settings import SlackSettings
from testkit.fake_slack import FakeSlack
from tests.configs import config_of
from tests.integrations.chat.discord.conftest import ANA, discord_settings
from tests.integrations.chat.discord.fake_discord import FakeDiscord

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _signed(body: str) -> dict[str, str]:
    # Slack's request signing: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}").
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), f"v0:{ts}:{body}".encode(),
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


async def test_slack_and_discord_served_at_once(fake: FakeDiscord, deps: Deps,
                                                tmp_path: Path) -> None:
    slack = await FakeSlack().start()
    port = _free_port()
    config = config_of(discord=discord_settings(fake.api_url), slack=SlackSettings(
        _env_file=None, bot_token=next(iter(slack.tokens)),  # type: ignore[call-arg]
        signing_secret=SIGNING_SECRET, http_host="127.0.0.1",
        http_port=port, api_url=slack.api_url))
    adapters, services = chat_adapters(config, deps)
    assert sorted(a.platform for a in adapters) == ["discord", "slack"]
    [discord_chat] = [a for a in adapters if isinstance(a, DiscordChat)]
    [slack_http] = [s for s in services if s.name == "slack-http"]
    stop = asyncio.Event()
    running = [asyncio.create_task(s.serve(stop)) for s in services]
    try:
        await asyncio.wait_for(discord_chat.ready.wait(), 10)
        await asyncio.wait_for(slack_http.started.wait(), 10)  # type: ignore[attr-defined]
        # Discord answers a slash command...
        state = await fake.interact(fake.command("help", {}, ANA))
        await fake.answered(state, lambda: state.callback is not None and not state.loading)
        assert state.original is not None
        assert "Commands:" in state.original["embeds"][0]["description"]
        # ...and so does Slack, over HTTP, in the same process.
        body = urlencode({"command": "/echtzeit", "text": "help", "user_id": "U0ANA",
                          "user_name": "ana", "channel_id": "C0CARDS",
                          "team_id": slack.team_id, "trigger_id": "1.2.3",
                          "response_url": slack.response_url("help")})
        async with aiohttp.ClientSession() as http, http.post(
                f"http://127.0.0.1:{port}/slack/events", data=body,
                headers=_signed(body)) as response:
            assert response.status == 200
        [(_, answer)] = await slack.wait_webhooks(1)
        assert answer["text"] == "Commands:"
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running, return_exceptions=True), 10)
        await slack.stop()
    assert slack.violations == []
