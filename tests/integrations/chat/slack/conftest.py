"""Fixtures for the Slack tests: a fake Slack, a desk with one card, and the real bolt app served
over HTTP on 127.0.0.1, reached with signed requests as Slack sends them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
import slack_bolt

from bot.relay import Relay
from bot.store import Store
from commands import Deps
from integrations.chat.slack.chat import SlackChat
from integrations.chat.slack.serve import HttpService, SocketModeService, slack_from_settings
from integrations.chat.slack.settings import SlackSettings
from integrations.networks.replay import RecordingResponder, recording_responders
from testkit.clock import Monotonic
from testkit.factories import new_mention
from testkit.fake_slack import SIGNING_SECRET, FakeSlack, fixture, sign


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """The fake Slack, with all its limits, on a clock the adapter shares (`paced`): the
    adapter's waits for Slack's pace advance it instead of taking real seconds."""
    slack = await FakeSlack(clock=Monotonic()).start()
    try:
        yield slack
    finally:
        await slack.stop()
    assert slack.violations == [], slack.violations


def paced(fake: FakeSlack) -> dict[str, Any]:
    """clock= and sleep= for the Slack adapter (SlackChat, slack_from_settings): pace on the
    fake's clock, waiting by advancing it."""
    clock = fake.clock
    assert isinstance(clock, Monotonic)
    return {"clock": clock, "sleep": clock.sleep}


def slack_settings(fake: FakeSlack, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = {
        "bot_token": next(iter(fake.tokens)),
        "signing_secret": SIGNING_SECRET,
        "api_url": fake.api_url,
        "http_host": "127.0.0.1",
        **overrides,
    }
    return SlackSettings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class SlackDeskUnderTest:
    """A desk wired as `echtzeit run` wires it, with Slack in HTTP mode."""

    fake: FakeSlack
    store: Store
    deps: Deps
    chat: SlackChat
    relay: Relay
    service: HttpService | SocketModeService
    replies: Path
    mention_id: int
    session: aiohttp.ClientSession
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        assert isinstance(self.service, HttpService)
        return f"http://127.0.0.1:{self.service.port}"

    async def post(self, body: str, *, content_type: str, headers: dict[str, str] | None = None,
                   signed: bool = True) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}),
                       **(headers or {})}
        started = time.monotonic()
        async with self.session.post(f"{self.url}/slack/events", data=body.encode(),
                                     headers=all_headers) as response:
            answer = response.status, await response.text()
        self.fake.late_ack("HTTP request", time.monotonic() - started)
        return answer

    async def command(self, text: str, *, user: str = "U0ANA", channel: str = "C0CARDS",
                      hook: str = "cmd", **extra: str) -> tuple[int, str]:
        payload = fixture("slash_command.json")
        payload.update(text=text, user_id=user, channel_id=channel,
                       response_url=self.fake.response_url(hook),
                       trigger_id=self.fake.trigger(), **extra)
        return await self.post(urlencode(payload),
                               content_type="application/x-www-form-urlencoded")

    async def interact(self, payload: dict[str, Any], **headers: str) -> tuple[int, str]:
        body = f"payload={quote(json.dumps(payload))}"
        return await self.post(body, content_type="application/x-www-form-urlencoded",
                               headers=headers)

    async def event(self, payload: dict[str, Any], **headers: str) -> tuple[int, str]:
        return await self.post(json.dumps(payload), content_type="application/json",
                               headers=headers)

    def click(self, action: str, *, value: str | None = None, user: str = "U0ANA",
              hook: str = "click", message_ts: str | None = None) -> dict[str, Any]:
        payload = fixture("block_actions.json")
        payload["user"].update(id=user)
        payload["response_url"] = self.fake.response_url(hook)
        payload["trigger_id"] = self.fake.trigger()
        payload["actions"][0].update(action_id=action, value=value or str(self.mention_id))
        if message_ts:
            payload["container"]["message_ts"] = message_ts
            payload["message"]["ts"] = message_ts
        return payload

    def card_ref(self) -> tuple[str, str]:
        refs = [d.message_ref for d in self.store.deliveries(mention_id=self.mention_id)
                if d.message_ref]
        assert refs, "the card was not relayed"
        channel, _, ts = refs[0].partition(":")
        return channel, ts


def seed(store: Store, *, channel: str = "C0CARDS", text: str = "acme app is down again",
         network: str = "mastodon") -> int:
    brand = store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="slack", channel=channel, actor="setup")
    routes = {brand.id or 0: store.routes(brand_id=brand.id)}
    [mid] = store.write_mentions([new_mention(brand.id or 0, text, network=network)],
                                 routes=routes)
    store.add_template(name="sorry", text="Sorry, {name}! We are on it. - Team {brand}",
                       actor="setup")
    return mid


@pytest.fixture
def replies_file(tmp_path: Path) -> Path:
    return tmp_path / "replies.jsonl"


@pytest.fixture
def responders(replies_file: Path) -> dict[str, RecordingResponder]:
    return recording_responders(replies_file)


@pytest.fixture
async def http_desk(fake: FakeSlack, sqlite_store: Store, responders: dict[str, RecordingResponder],
                    replies_file: Path, request: pytest.FixtureRequest,
                    ) -> AsyncIterator[SlackDeskUnderTest]:
    overrides = getattr(request, "param", {})
    mid = seed(sqlite_store)
    deps = Deps(store=sqlite_store, responders=responders)
    built = slack_from_settings(slack_settings(fake, **overrides), deps, **paced(fake))
    assert built is not None
    chat, services, _app = built
    service = services[0]
    assert isinstance(service, HttpService)
    service.port = 0  # an ephemeral port (settings require a real one)
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(stop))
    await asyncio.wait_for(service.started.wait(), 10)
    relay = Relay(sqlite_store, {"slack": chat})
    async with aiohttp.ClientSession() as session:
        desk = SlackDeskUnderTest(fake=fake, store=sqlite_store, deps=deps, chat=chat,
                                  relay=relay, service=service, replies=replies_file,
                                  mention_id=mid, session=session, stop=stop)
        try:
            yield desk
        finally:
            stop.set()
            await task
            await settled()


_BOLT = str(Path(slack_bolt.__file__).parent)


def _bolts(task: asyncio.Task[Any]) -> bool:
    """A task running code of slack_bolt (a listener it started after the ack)."""
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    return code is not None and code.co_filename.startswith(_BOLT)


async def settled() -> None:
    """Wait until every listener bolt started after an ack has finished: bolt runs them in
    tasks of their own, and a request's HTTP answer or Socket Mode ack comes before they are
    done. Found by where their code lives (the slack_bolt package), not by a private name."""
    me = asyncio.current_task()
    while True:
        running = [t for t in asyncio.all_tasks() if t is not me and not t.done() and _bolts(t)]
        if not running:
            return
        await asyncio.wait(running, timeout=10)
