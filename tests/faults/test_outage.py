"""Issue 8, point 2: the chat API answers 500s, timeouts and 429s for ten minutes, then recovers.

The real Slack adapter (slack_sdk over HTTP) talks to a fake Slack Web API that fails two of
three channels for ten minutes of simulated time (the relay takes `now`; the test moves a
Clock); the third channel is healthy. Afterwards: nothing lost, each channel in order, the two
failing channels retried with growing, jittered back-off (they drift apart although they failed
at the same moments), and the healthy channel never waited for them.
"""

from __future__ import annotations

import itertools
import random
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

CHANNELS = ("C0OUTAGE1", "C0OUTAGE2", "C0HEALTHY")


@pytest.fixture
async def chat(clock: Clock) -> AsyncIterator[FakeSlack]:
    # Slack's limits (one message a second per channel) on the test's clock.
    fake = await FakeSlack(channels=CHANNELS, hang_seconds=5, clock=clock.seconds).start()
    yield fake
    await fake.stop()


def _mentions(store: Store, n: int) -> list[int]:
    store.add_brand(name="Acme", query="acme", actor="t")
    for ch in CHANNELS:
        store.add_route(brand="Acme", platform="slack", channel=ch, actor="t")
    bid = store.brand(name="Acme").id or 0
    return store.write_mentions([new_mention(bid) for _ in range(n)],
                                routes={bid: store.routes()})


async def test_ten_minutes_of_errors_lose_nothing_and_keep_order(
    store: Store, clock: Clock, chat: FakeSlack,
) -> None:
    _mentions(store, 20)
    start = clock()
    outage_end = start + timedelta(minutes=10)
    kinds = itertools.cycle(["500", "429", "500", "500"])
    timeouts = {"C0OUTAGE1": 1, "C0OUTAGE2": 1}  # each costs a real second: one per channel
    attempts: dict[str, list[float]] = {ch: [] for ch in CHANNELS}

    def fault(method: str, channel: str) -> Fault:
        if method != "chat.postMessage":
            return None
        attempts[channel].append((clock() - start).total_seconds())
        if channel == "C0HEALTHY" or clock() >= outage_end:
            return None
        if timeouts.get(channel):
            timeouts[channel] -= 1
            return "timeout"
        return next(kinds)

    chat.fault = fault
    slack = SlackChat(StaticToken(BOT_TOKEN), api_url=chat.api_url, timeout=1, now=clock,
                      clock=clock.seconds, sleep=clock.sleep)  # paced at Slack's pace
    relay = Relay(store, {"slack": slack}, now=clock, rng=random.Random(8),
                  policy=RelayPolicy())

    def sent(channel: str) -> int:
        return sum(1 for d in store.deliveries()
                   if d.channel == channel and d.state == DeliveryState.SENT.value)

    while await relay.run_once():
        pass
    # The healthy channel did not wait for the others.
    assert sent("C0HEALTHY") == 20
    assert sent("C0OUTAGE1") == sent("C0OUTAGE2") == 0

    while any(sent(ch) < 20 for ch in CHANNELS):
        assert clock() < start + timedelta(minutes=30), "not recovered 20 minutes after"
        clock.advance(seconds=1)
        while await relay.run_once():
            pass

    deliveries = store.deliveries()
    assert all(d.state == DeliveryState.SENT.value for d in deliveries)  # 0 lost
    for ch in CHANNELS:
        posted = chat.in_channel(ch)
        assert len(posted) == 20  # none twice: a 500/429/timeout here never reached the chat
        refs = [d.message_ref for d in sorted(deliveries, key=lambda d: d.id or 0)
                if d.channel == ch]
        assert refs == [f"{ch}:{m.ts}" for m in posted]  # the order they were stored in
    # Back-off: the gaps between attempts grow, and jitter pulls the two channels apart.
    for ch in ("C0OUTAGE1", "C0OUTAGE2"):
        during = [t for t in attempts[ch] if t < 600]
        gaps = [b - a for a, b in itertools.pairwise(during)]
        assert 5 <= len(during) <= 14, during
        # The first gap also holds the healthy channel's 20 cards at Slack's pace (~19 s on
        # the clock): the relay claims its next batch once this one is through.
        assert max(gaps) >= 60 and gaps[-1] > gaps[1], gaps
    assert attempts["C0OUTAGE1"][:8] != attempts["C0OUTAGE2"][:8]
    assert chat.violations == []
