"""Issue 14, point 4: crash recovery under Slack's history limits for distributed apps.

A card whose answer was lost is "in doubt"; before posting it again the relay asks Slack's
history for its token (integrations/chat/slack/chat.py: find_sent). Apps distributed outside the
Slack Marketplace may read conversations.history once a minute, 15 messages a page, since
2025-05-29 (existing installations since 2026-03-03). In a channel where people went on talking,
the card lies several pages deep: each call reads one page, is refused for the next, and the
relay comes back after Retry-After; the walk resumes at the refused page instead of starting
over. The fake Slack counts limits on the test's clock, so minutes pass without waiting.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from bot.domain import DeliveryState
from bot.relay import Relay, RelayPolicy
from bot.store import Store
from integrations.chat.slack.chat import SlackChat, StaticToken
from testkit.factories import new_mention
from testkit.fake_slack import BOT_TOKEN, FakeSlack, Fault
from tests.conftest import Clock

CHANNEL = "C0BUSY"


@pytest.fixture
async def slack(clock: Clock) -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack(channels=(CHANNEL,), apps="distributed", hang_seconds=2,
                           clock=clock.seconds,
                           wall=lambda: clock().timestamp()).start()
    yield fake
    await fake.stop()
    assert fake.violations == []


async def _drain(relay: Relay, clock: Clock, until: object, minutes: int = 30) -> float:
    """Run the relay a simulated second at a time until `until()` holds; minutes it took."""
    start = clock()
    while not until():  # type: ignore[operator]
        assert clock() < start + timedelta(minutes=minutes), "never settled"
        clock.advance(seconds=1)
        while await relay.run_once():
            pass
    return (clock() - start).total_seconds() / 60


async def test_cards_in_doubt_are_found_pages_deep_one_page_a_minute(
    store: Store, clock: Clock, slack: FakeSlack,
) -> None:
    store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="slack", channel=CHANNEL, actor="t")
    bid = store.brand(name="Acme").id or 0
    store.write_mentions([new_mention(bid) for _ in range(5)], routes={bid: store.routes()})
    faults: list[Fault] = ["accept_then_timeout", "timeout"]  # the first two postMessage calls

    def fault(method: str, channel: str) -> Fault:
        return faults.pop(0) if method == "chat.postMessage" and faults else None

    slack.fault = fault
    chat = SlackChat(StaticToken(BOT_TOKEN), api_url=slack.api_url, timeout=1, now=clock,
                     clock=clock.seconds, sleep=clock.sleep)
    relay = Relay(store, {"slack": chat}, now=clock, rng=random.Random(3), policy=RelayPolicy())

    # Card 1 reaches Slack but its answer is lost; the channel's other cards wait behind it.
    while await relay.run_once():
        pass
    assert len(slack.posted) == 1
    assert all(d.state == DeliveryState.PENDING.value for d in store.deliveries())
    # Meanwhile people talk in the channel: the card is now 41 messages deep, three pages.
    for i in range(40):
        clock.advance(seconds=2)
        slack.human_says(CHANNEL, f"anyone seen the parcel? ({i})")

    def history() -> Counter[int]:
        return Counter(c.status for c in slack.calls if c.method == "conversations.history")

    def sent() -> int:
        return sum(d.state == DeliveryState.SENT.value for d in store.deliveries())

    first = await _drain(relay, clock, lambda: sent() >= 1)
    assert len(slack.posted) == 1  # found in the history, recorded, not posted again
    assert history()[200] == 3  # three pages, each read once: the walk resumed
    assert history()[429] >= 2 and 2 <= first <= 4  # about a minute a page

    # Card 2 never reached Slack (no answer, nothing stored): the walk must read the whole
    # window before it may post it; the people keep talking meanwhile.
    for i in range(20):
        clock.advance(seconds=1)
        slack.human_says(CHANNEL, f"still waiting ({i})")
    await _drain(relay, clock, lambda: sent() == 5)
    tokens = Counter(slack.delivery_tokens())
    assert len(slack.posted) == 5 and len(tokens) == 5 and max(tokens.values()) == 1
    refs = [d.message_ref for d in sorted(store.deliveries(), key=lambda d: d.id or 0)]
    assert refs == [f"{CHANNEL}:{m.ts}" for m in slack.posted]  # in order, each once


async def test_an_internal_app_reads_the_same_history_in_one_call(
    store: Store, clock: Clock,
) -> None:
    fake = await FakeSlack(channels=(CHANNEL,), hang_seconds=2,
                           clock=clock.seconds,
                           wall=lambda: clock().timestamp()).start()
    try:
        store.add_brand(name="Acme", query="acme", actor="t")
        store.add_route(brand="Acme", platform="slack", channel=CHANNEL, actor="t")
        bid = store.brand(name="Acme").id or 0
        store.write_mentions([new_mention(bid)], routes={bid: store.routes()})
        faults: list[Fault] = ["accept_then_timeout"]
        fake.fault = lambda method, channel: (faults.pop(0) if method == "chat.postMessage"
                                              and faults else None)
        chat = SlackChat(StaticToken(BOT_TOKEN), api_url=fake.api_url, timeout=1, now=clock,
                         clock=clock.seconds, sleep=clock.sleep)
        relay = Relay(store, {"slack": chat}, now=clock, rng=random.Random(3),
                      policy=RelayPolicy())
        while await relay.run_once():
            pass
        for i in range(40):
            clock.advance(seconds=2)
            fake.human_says(CHANNEL, f"chatter {i}")
        await _drain(relay, clock, lambda: store.deliveries()[0].state
                     == DeliveryState.SENT.value)
        calls = [c for c in fake.calls if c.method == "conversations.history"]
        assert [c.status for c in calls] == [200] and len(fake.posted) == 1
    finally:
        await fake.stop()
    assert fake.violations == []
