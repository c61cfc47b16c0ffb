"""App Home through the real bolt app and slack_sdk against the fake Slack: app_home_opened
publishes the person's queue view, changes refresh it (debounced, within Tier 4), a 429 is
waited out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.relay import Relay
from bot.store import Store
from commands import Deps
from integrations.chat.slack.home import HomeTabs
from integrations.chat.slack.serve import HttpService, slack_from_settings
from integrations.networks.replay import RecordingResponder
from testkit.fake_slack import FakeSlack
from tests.integrations.chat.slack.conftest import (
    SlackDeskUnderTest,
    paced,
    seed,
    settled,
    slack_settings,
)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
async def home_desk(fake: FakeSlack, sqlite_store: Store,
                    responders: dict[str, RecordingResponder],
                    replies_file: Any) -> AsyncIterator[tuple[SlackDeskUnderTest, HomeTabs]]:
    mid = seed(sqlite_store)
    deps = Deps(store=sqlite_store, responders=responders)
    built = slack_from_settings(slack_settings(fake, home_refresh_seconds=30), deps,
                                **paced(fake))
    assert built is not None
    chat, services, _app = built
    service, home = services
    assert isinstance(service, HttpService) and isinstance(home, HomeTabs)
    home.clock = Ticks()
    service.port = 0
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(stop))
    await asyncio.wait_for(service.started.wait(), 10)
    relay = Relay(sqlite_store, {"slack": chat})
    await relay.run_once()
    async with aiohttp.ClientSession() as session:
        desk = SlackDeskUnderTest(fake=fake, store=sqlite_store, deps=deps, chat=chat,
                                  relay=relay, service=service, replies=replies_file,
                                  mention_id=mid, session=session, stop=stop)
        try:
            yield desk, home
        finally:
            stop.set()
            await task
            await settled()


def texts(view: dict[str, Any]) -> str:
    out = []
    for block in view["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", []) if "text" in e]
    return "\n".join(out)


async def test_opening_home_publishes_the_queue_and_changes_refresh_it(
        home_desk: tuple[SlackDeskUnderTest, HomeTabs], fake: FakeSlack) -> None:
    desk, home = home_desk
    assert (await desk.event(fake.home_opened("U0ANA")))[0] == 200
    await settled()
    [call] = fake.ok_calls("views.publish")
    assert call.args["user_id"] == "U0ANA"
    view = fake.homes["U0ANA"]
    assert view["type"] == "home"
    shown = texts(view)
    assert "Queue of Ana" in shown
    assert "My claimed mentions: 0" in shown
    assert "Open queue: 1" in shown and "Acme · mastodon: 1 open, 1 unclaimed" in shown
    assert "On call: no rota configured" in shown
    # Ana claims the card: the next round publishes again, but not before 30 s have passed.
    assert (await desk.command(f"claim {desk.mention_id}"))[0] == 200
    await settled()
    assert await home.refresh() == 0
    assert len(fake.ok_calls("views.publish")) == 1
    home.clock.value += 30  # type: ignore[attr-defined]
    assert await home.refresh() == 1
    shown = texts(fake.homes["U0ANA"])
    assert "My claimed mentions: 1" in shown
    assert f"#{desk.mention_id} · Acme · mastodon" in shown and "overdue by" in shown
    [block] = [b for b in fake.homes["U0ANA"]["blocks"] if b.get("accessory")]
    assert block["accessory"]["url"].startswith("https://social.example/")
    # Nothing changed: no publish, however much time passes.
    home.clock.value += 300  # type: ignore[attr-defined]
    assert await home.refresh() == 0
    # Opening Home again within the debounce after a publish does not publish twice.
    await desk.event(fake.home_opened("U0ANA"))
    await settled()
    assert len(fake.ok_calls("views.publish")) == 3  # opened after 330 s: published at once
    await desk.event(fake.home_opened("U0ANA"))
    await settled()
    assert len(fake.ok_calls("views.publish")) == 3
    # The Messages tab is not the Home tab.
    await desk.event(fake.home_opened("U0BEN", tab="messages"))
    await settled()
    assert "U0BEN" not in fake.homes
    # Not opened for longer than `recent`: no more refreshes for that person.
    home.clock.value += 3601  # type: ignore[attr-defined]
    await desk.command(f"resolve {desk.mention_id}")
    await settled()
    assert await home.refresh() == 0
    assert home.viewers == {}


async def test_a_rate_limit_pauses_the_workspace(
        home_desk: tuple[SlackDeskUnderTest, HomeTabs], fake: FakeSlack) -> None:
    desk, home = home_desk
    limited = {"on": True}
    fake.fault = lambda method, channel: ("429" if method == "views.publish" and limited["on"]
                                          else None)
    await desk.event(fake.home_opened("U0ANA"))
    await settled()
    assert fake.ok_calls("views.publish") == []
    limited["on"] = False
    home.clock.value += 5  # type: ignore[attr-defined]
    assert await home.refresh() == 0  # Retry-After is 7 s
    home.clock.value += 2  # type: ignore[attr-defined]
    assert await home.refresh() == 1
    assert "Queue of Ana" in texts(fake.homes["U0ANA"])


async def test_the_budget_per_workspace_keeps_below_tier_4(
        home_desk: tuple[SlackDeskUnderTest, HomeTabs], fake: FakeSlack) -> None:
    desk, home = home_desk
    home.per_minute = 2
    for user, name in (("U0C1", "c1"), ("U0C2", "c2"), ("U0C3", "c3")):
        fake.add_user(user, name, name.upper())
        await desk.event(fake.home_opened(user))
    await settled()
    assert len(fake.ok_calls("views.publish")) == 2  # the third waits for the next minute
    home.clock.value += 60  # type: ignore[attr-defined]
    assert await home.refresh() == 1
    assert set(fake.homes) == {"U0C1", "U0C2", "U0C3"}


async def test_the_fake_enforces_views_publish_rules(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=next(iter(fake.tokens)), base_url=fake.api_url)
    good = {"type": "home", "blocks": [{"type": "divider"}]}
    assert (await client.views_publish(user_id="U0ANA", view=good))["view"]["type"] == "home"
    with pytest.raises(SlackApiError) as unknown:
        await client.views_publish(user_id="U0NOBODY", view=good)
    assert unknown.value.response["error"] == "invalid_arguments"
    with pytest.raises(SlackApiError) as conflict:
        await client.views_publish(user_id="U0ANA", view=good, hash="1.0")
    assert conflict.value.response["error"] == "hash_conflict"
    big = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U0ANA", view=big)
    modal = {**good, "type": "modal"}
    with pytest.raises(SlackApiError):
        await client.views_publish(user_id="U0ANA", view=modal)
    fake.home_enabled = False
    with pytest.raises(SlackApiError) as off:
        await client.views_publish(user_id="U0ANA", view=good)
    assert off.value.response["error"] == "not_enabled"
    assert len(fake.violations) == 2  # the 101 blocks and the modal
    fake.violations.clear()


async def test_quiet_hours_catch_up_arrives_as_one_slack_notice(fake: FakeSlack,
                                                                 store: Store, clock: Any) -> None:
    """Quiet hours with the real Slack adapter: the urgent card is posted, the rest arrive as
    one notice with the list in its thread when the quiet hours end (clock injected)."""
    from bot.domain import DeliveryState
    from integrations.chat.slack.chat import SlackChat, StaticToken
    from testkit.blockkit import hostile_problems
    from testkit.factories import new_mention

    brand = store.add_brand(name="Acme", query="acme", actor="setup")
    bid = brand.id or 0
    # The clock says 09:00 UTC, 10:00 in Berlin: quiet until 11:00 UTC.
    store.add_route(brand="Acme", platform="slack", channel="C0CARDS",
                    quiet_hours="22:00-12:00", quiet_timezone="Europe/Berlin", actor="setup")
    ids = store.write_mentions(
        [new_mention(bid, "acme <!channel> is slow", priority="normal", network="bluesky"),
         new_mention(bid, "acme exploded", priority="urgent"),
         new_mention(bid, "acme meh", priority="low")], routes={bid: store.routes()})
    chat = SlackChat(StaticToken(next(iter(fake.tokens))), api_url=fake.api_url,
                     **paced(fake))
    relay = Relay(store, {"slack": chat}, now=clock)
    await relay.run_once()
    assert len(fake.posted) == 1  # the urgent card
    clock.advance(hours=2)
    await relay.run_once()
    notice, *details = fake.ok_calls("chat.postMessage")[1:]
    assert "Catch-up: 2 mention(s) of Acme held during quiet hours (1 bluesky, 1 mastodon)" \
        in json.dumps(notice.args["blocks"])
    shown = "\n".join(s["text"]["text"] for d in details for s in d.args["blocks"])
    assert f"#{ids[0]} [normal] bluesky https://social.example/" in shown
    assert "&lt;!channel&gt;" in shown  # escaped: never a ping
    assert hostile_problems([d.args for d in [notice, *details]]) == []
    await relay.run_once()
    assert len(fake.ok_calls("chat.postMessage")) == 1 + 1 + len(details)  # sent once
    assert {d.state for d in store.deliveries() if d.mention_id != ids[1]} == {
        DeliveryState.CAUGHT_UP.value}


def test_the_home_view_keeps_network_text_harmless_and_within_limits() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.reporting.queue import MyMention, QueueBucket, QueueView
    from integrations.chat.slack.render import home_view
    from testkit.blockkit import home_view_errors, hostile_problems

    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    mine = tuple(MyMention(i, "Acme", "x", "high", "javascript:alert(1)" if i == 1 else
                           f"https://x.example/{i}", "<!channel> *bold* \u202eevil", now,
                           now + timedelta(minutes=i - 3), "sla_breach" if i < 3 else None)
                 for i in range(1, 16))
    buckets = tuple(QueueBucket(f"Brand {b}", f"net{n}", 5, 2, b * 100 + n, now)
                    for b in range(30) for n in range(10))
    view = home_view(QueueView(now, "Europe/Berlin", mine, 40, buckets, 3, 300.0, 4, None),
                     person="Ana <@U0BEN>")
    assert home_view_errors(view) == []
    assert hostile_problems(view["blocks"]) == []
    text = json.dumps(view, ensure_ascii=False)
    assert "<!channel>" not in text and "<@U0BEN>" not in text and "\u202e" not in text
    assert "javascript:" not in json.dumps([b.get("accessory") for b in view["blocks"]])
    assert "… and 25 more: /echtzeit list mine" in text
    assert "Open queue: 1500 (+3 held for quiet hours)" in text


async def test_the_slash_command_queue_answers_privately(
        home_desk: tuple[SlackDeskUnderTest, HomeTabs], fake: FakeSlack) -> None:
    desk, _home = home_desk
    await desk.command(f"claim {desk.mention_id}")
    await desk.command("queue")
    await settled()
    hooks = await fake.wait_webhooks(2)
    answer = hooks[-1][1]
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "Queue for Ana:" in shown and "My claimed mentions: 1" in shown
    assert "Open queue: 1" in shown and "On call: no rota configured" in shown
