"""Stories in Slack: one parent card per story and channel, members as replies in its thread
(thread_ts), the parent edited when a member changes, and a member in doubt after a crash found
in the thread (conversations.replies), never posted twice. Real slack_sdk against the fake."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain import DeliveryState
from bot.relay import Relay, RelayPolicy
from bot.store import Store
from bot.stories import hints
from integrations.chat.slack.chat import SlackChat, StaticToken
from testkit.factories import new_mention
from testkit.fake_slack import BOT_TOKEN, FakeSlack, Fault
from tests.conftest import Clock

CHANNEL = "C0CARDS"
LINK = "https://status.acme.example/incidents/7"


@pytest.fixture
async def slack(clock: Clock) -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack(channels=(CHANNEL,), hang_seconds=2,
                           clock=lambda: clock().timestamp(),
                           wall=lambda: clock().timestamp()).start()
    yield fake
    await fake.stop()
    assert fake.violations == []


def _story(store: Store, n: int) -> list[int]:
    brand = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="slack", channel=CHANNEL, actor="t")
    bid = brand.id or 0
    mentions = [new_mention(bid, f"acme <!channel> is down {LINK}", network=net,
                            author_handle=f"user{i}", author_followers=10 * (i + 1),
                            story=hints(f"acme is down {LINK}", own_url="", refs=()))
                for i, net in enumerate(["hackernews", "bluesky", "reddit", "mastodon"][:n])]
    return store.write_mentions(mentions, routes={bid: store.routes()})


def _chat(slack: FakeSlack, clock: Clock) -> SlackChat:
    # The shipped pacer, on the test's clock: its waits for Slack's pace advance that clock.
    return SlackChat(StaticToken(BOT_TOKEN), api_url=slack.api_url, timeout=1, now=clock,
                     clock=clock.seconds, sleep=clock.sleep)


async def test_members_go_in_the_parent_cards_thread(store: Store, clock: Clock,
                                                     slack: FakeSlack) -> None:
    ids = _story(store, 3)
    relay = Relay(store, {"slack": _chat(slack, clock)}, now=clock)
    while await relay.run_once():
        pass
    parent, *members = slack.posted
    assert len(members) == 2
    sent = {d.mention_id: d for d in store.deliveries()}
    parent_ts = sent[ids[0]].message_ref.split(":")[1]  # type: ignore[union-attr]
    assert parent.ts == parent_ts
    for m in members:
        assert slack.messages[(CHANNEL, m.ts)]["thread_ts"] == parent_ts
    # The parent card shows the story; the text of its posts stays escaped.
    blocks = str(slack.messages[(CHANNEL, parent_ts)]["blocks"])
    assert "Story " in blocks and "3 posts" in blocks
    assert "<!channel>" not in blocks
    # A member claimed: its own card and the parent card are edited, nothing is posted.
    store.claim(mention_id=ids[2], actor="Ana")
    while await relay.run_once():
        pass
    edited = {c.args["ts"] for c in slack.ok_calls("chat.update")}
    assert edited == {parent_ts, sent[ids[2]].message_ref.split(":")[1]}  # type: ignore[union-attr]
    assert "1 claimed" in str(slack.messages[(CHANNEL, parent_ts)]["blocks"])
    assert len(slack.posted) == 3


async def test_a_member_in_doubt_is_found_in_the_thread_not_posted_twice(
        store: Store, clock: Clock, slack: FakeSlack) -> None:
    ids = _story(store, 2)
    faults: list[Fault] = [None, "accept_then_timeout"]  # the member's answer is lost

    def fault(method: str, channel: str) -> Fault:
        return faults.pop(0) if method == "chat.postMessage" and faults else None

    slack.fault = fault
    relay = Relay(store, {"slack": _chat(slack, clock)}, now=clock, rng=random.Random(1),
                  policy=RelayPolicy())
    while await relay.run_once():
        pass
    assert len(slack.posted) == 2
    member = next(d for d in store.deliveries() if d.mention_id == ids[1])
    assert member.state == DeliveryState.PENDING.value and member.sending_at is not None
    for _ in range(120):
        clock.advance(seconds=1)
        while await relay.run_once():
            pass
        member = next(d for d in store.deliveries() if d.mention_id == ids[1])
        if member.state == DeliveryState.SENT.value:
            break
    assert member.state == DeliveryState.SENT.value
    assert len(slack.posted) == 2  # found in the thread, not posted again
    assert [c.method for c in slack.calls if c.method.startswith("conversations.")] == [
        "conversations.history", "conversations.replies"]
    assert member.message_ref == f"{CHANNEL}:{slack.posted[1].ts}"
    assert clock() - timedelta(minutes=2) < member.sent_at  # type: ignore[operator]
