"""The Hide button of a Facebook comment's card, through the real bolt app (HTTP mode) and the
fake Slack Web API, to the fake Graph API; the card then says who hid it and offers Unhide."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
import pytest

from bot.relay import Relay
from bot.store import Store
from commands import Deps
from integrations.chat.slack.serve import HttpService, slack_from_settings
from integrations.networks import facebook_net
from testkit.factories import new_mention
from testkit.fake_slack import FakeSlack
from tests.integrations.chat.slack.conftest import (
    SlackDeskUnderTest,
    paced,
    settled,
    slack_settings,
)
from tests.integrations.chat.slack.test_slack_http import texts
from tests.integrations.networks.test_facebook_net import FakeGraph
from tests.integrations.networks.test_facebook_net import build as build_facebook

MARA = "911874523980045_1203301122334455"


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
async def desk(fake: FakeSlack, sqlite_store: Store, tmp_path: Any,
               ) -> AsyncIterator[tuple[SlackDeskUnderTest, FakeGraph]]:
    graph = FakeGraph()
    brand = sqlite_store.add_brand(name="Acme", query="acme", actor="setup")
    sqlite_store.add_route(brand="Acme", platform="slack", channel="C0CARDS", actor="setup")
    [mid] = sqlite_store.write_mentions(
        [new_mention(brand.id or 0, "acme broke my kettle, you scammers!!!", network="facebook",
                     external_id=MARA, in_reply_to="911874523980045")],
        routes={brand.id or 0: sqlite_store.routes(brand_id=brand.id)})
    async with httpx.AsyncClient(transport=httpx.MockTransport(graph)) as client:
        _, _, _, api = build_facebook(client)
        moderators = {"facebook": facebook_net.FacebookModerator(api)}
        deps = Deps(store=sqlite_store, moderators=moderators)
        built = slack_from_settings(slack_settings(fake), deps, **paced(fake))
        assert built is not None
        chat, services, _app = built
        service = services[0]
        assert isinstance(service, HttpService)
        service.port = 0
        stop = asyncio.Event()
        task = asyncio.create_task(service.serve(stop))
        await asyncio.wait_for(service.started.wait(), 10)
        relay = Relay(sqlite_store, {"slack": chat}, moderators=moderators)
        async with aiohttp.ClientSession() as session:
            under_test = SlackDeskUnderTest(
                fake=fake, store=sqlite_store, deps=deps, chat=chat, relay=relay,
                service=service, replies=tmp_path / "replies.jsonl", mention_id=mid,
                session=session, stop=stop)
            try:
                yield under_test, graph
            finally:
                stop.set()
                await task
                await settled()


async def test_the_hide_button_hides_the_comment_and_the_card_says_by_whom(
    desk: tuple[SlackDeskUnderTest, FakeGraph],
) -> None:
    slack, graph = desk
    mid = slack.mention_id
    assert await slack.relay.run_once() == 1
    [posted] = await slack.fake.wait_for("chat.postMessage")
    assert "echtzeit_hide" in buttons(posted.args["blocks"])
    hide = next(e for b in posted.args["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "echtzeit_hide")
    assert hide["style"] == "danger" and "Only its author" in hide["confirm"]["text"]["text"]
    _, ts = slack.card_ref()

    status, _ = await slack.interact(slack.click("echtzeit_hide", message_ts=ts))
    assert status == 200
    [(_, answer)] = await slack.fake.wait_webhooks(1)
    assert answer["response_type"] == "ephemeral"
    assert f"#{mid} hidden on facebook by Ana." in texts(answer["blocks"])
    assert graph.hidden == {MARA: True}
    assert [e.actor for e in slack.store.events(mention_id=mid, kind="hidden")] == ["Ana"]

    assert await slack.relay.run_once() == 1
    [update] = await slack.fake.wait_for("chat.update")
    assert "Hidden on facebook by Ana" in texts(update.args["blocks"])
    assert "echtzeit_unhide" in buttons(update.args["blocks"])
    assert "echtzeit_hide" not in buttons(update.args["blocks"])

    # The permission goes missing: the click answers with the line that names it.
    graph.permissions.discard("pages_manage_engagement")
    await slack.interact(slack.click("echtzeit_unhide", message_ts=ts, hook="again"))
    answers = await slack.fake.wait_webhooks(2)
    assert "lacks the pages_manage_engagement permission" in texts(answers[-1][1]["blocks"])
    assert graph.hidden == {MARA: True}
