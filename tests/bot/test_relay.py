"""The relay against a chat that fails the way chat APIs fail."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.cards import Card
from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.relay import Relay, RelayPolicy, backoff_delay
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock


class FlakyChat:
    """A ChatAdapter whose channels can be made to fail a number of times."""

    platform = "console"

    def __init__(self) -> None:
        self.failures: dict[str, list[ChatError]] = {}
        self.posted: list[tuple[str, int]] = []
        self.edited: list[tuple[str, str, str]] = []

    async def send_card(self, channel: str, card: Card) -> str:
        queue = self.failures.get(channel)
        if queue:
            raise queue.pop(0)
        self.posted.append((channel, card.mention_id))
        return f"{channel}/{len(self.posted)}"

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        self.edited.append((channel, message_ref, card.status))


def _setup(store: Store, n: int, channels: tuple[str, ...] = ("a", "b")) -> list[int]:
    store.add_brand(name="Acme", query="acme", actor="t")
    for ch in channels:
        store.add_route(brand="Acme", platform="console", channel=ch, actor="t")
    routes = {1: store.routes()}
    bid = store.brand(name="Acme").id or 0
    routes = {bid: store.routes()}
    return store.write_mentions([new_mention(bid) for _ in range(n)], routes=routes)


async def test_everything_is_relayed_once_in_order(store: Store, clock: Clock) -> None:
    ids = _setup(store, 5)
    chat = FlakyChat()
    relay = Relay(store, {"console": chat}, now=clock)
    assert await relay.run_once() == 10
    assert await relay.run_once() == 0
    assert [m for ch, m in chat.posted if ch == "a"] == ids
    assert [m for ch, m in chat.posted if ch == "b"] == ids
    assert all(d.state == DeliveryState.SENT.value for d in store.deliveries())
    assert len(store.events(kind="relayed")) == 10


async def test_an_outage_in_one_channel_delays_only_that_channel(
    store: Store, clock: Clock
) -> None:
    ids = _setup(store, 3)
    chat = FlakyChat()
    chat.failures["a"] = [ChatError("ratelimited", retry_after=30),
                          ChatError("500 internal_error")]
    relay = Relay(store, {"console": chat}, now=clock, rng=random.Random(1),
                  policy=RelayPolicy(backoff_base=2, backoff_cap=60))
    await relay.run_once()
    assert [m for ch, m in chat.posted if ch == "b"] == ids
    assert [m for ch, m in chat.posted if ch == "a"] == []
    # Retry-After is obeyed: nothing moves before 30 s have passed.
    clock.advance(seconds=29)
    assert await relay.run_once() == 0
    clock.advance(seconds=2)
    await relay.run_once()  # second failure, back-off of 1-2 s (attempt 2: base*2)
    clock.advance(seconds=5)
    while await relay.run_once():
        pass
    assert [m for ch, m in chat.posted if ch == "a"] == ids
    [first_a] = [d for d in store.deliveries() if d.channel == "a" and d.mention_id == ids[0]]
    assert first_a.attempts == 3


async def test_permanent_errors_give_up_and_do_not_block_forever(
    store: Store, clock: Clock
) -> None:
    _setup(store, 2, channels=("gone",))
    chat = FlakyChat()
    chat.failures["gone"] = [ChatError("channel_not_found", permanent=True)]
    relay = Relay(store, {"console": chat}, now=clock)
    await relay.run_once()
    await relay.run_once()
    states = [d.state for d in store.deliveries()]
    assert states == [DeliveryState.FAILED.value, DeliveryState.SENT.value]


async def test_cards_are_updated_in_place(store: Store, clock: Clock) -> None:
    [mid] = _setup(store, 1, channels=("a",))
    chat = FlakyChat()
    relay = Relay(store, {"console": chat}, now=clock)
    await relay.run_once()
    store.claim(mention_id=mid, actor="ana")
    store.resolve(mention_id=mid, actor="ana")
    await relay.run_once()
    assert chat.edited == [("a", "a/1", "resolved")]
    assert await relay.run_once() == 0


def test_backoff_grows_is_capped_and_jittered() -> None:
    policy = RelayPolicy(backoff_base=2, backoff_cap=60, lease=timedelta(seconds=5))
    rng = random.Random(7)
    delays = [backoff_delay(n, policy, rng) for n in range(1, 10)]
    assert 1 <= delays[0] <= 2
    assert all(30 <= d <= 60 for d in delays[5:])
    assert len({round(d, 6) for d in delays[5:]}) > 1


async def test_a_stopping_relay_finishes_the_card_it_sends_and_gives_the_rest_back(
        store: Store, clock: Clock) -> None:
    import asyncio

    _setup(store, 5, channels=("a",))
    stop = asyncio.Event()

    class SlowChat(FlakyChat):
        async def send_card(self, channel: str, card: Card) -> str:
            if len(self.posted) == 1:
                stop.set()  # SIGTERM arrives while the second card is being sent
                await asyncio.sleep(0.05)
            return await super().send_card(channel, card)

    chat = SlowChat()
    relay = Relay(store, {"console": chat}, now=clock)
    await asyncio.wait_for(relay.run(stop, poll=0.01), 5)
    assert len(chat.posted) == 2  # the one in flight was finished
    deliveries = store.deliveries()
    assert [d.state for d in deliveries].count(DeliveryState.SENT.value) == 2
    rest = [d for d in deliveries if d.state == DeliveryState.PENDING.value]
    assert len(rest) == 3 and all(d.lease_until is None for d in rest)  # handed back
    other = Relay(store, {"console": chat}, worker="replica-2", now=clock)
    assert await other.run_once() == 3  # at once, not after the lease
    assert len(chat.posted) == 5


async def test_a_card_is_only_sent_while_its_lease_holds(store: Store, clock: Clock) -> None:
    """Paced at a chat's one message a second, a channel's share of a batch outlasts the lease:
    the relay starts no card past half the lease and gives the rest back, so another replica
    that claims them meanwhile never sends what this one is still working through."""
    ids = _setup(store, 30, channels=("a",))
    policy = RelayPolicy(lease=timedelta(seconds=10))

    class PacedChat(FlakyChat):
        async def send_card(self, channel: str, card: Card) -> str:
            clock.advance(seconds=1)  # the pacer's wait: one message a second
            [row] = [d for d in store.deliveries(mention_id=card.mention_id)
                     if d.channel == channel]
            assert row.lease_until is not None and clock() < row.lease_until, \
                f"card {card.mention_id} sent after its lease ran out"
            return await super().send_card(channel, card)

    chat = PacedChat()
    first = Relay(store, {"console": chat}, worker="replica-1", now=clock, policy=policy)
    other = Relay(store, {"console": chat}, worker="replica-2", now=clock, policy=policy)
    assert await first.run_once() == 30
    assert len(chat.posted) == 5  # 5 s of the 10 s lease, then the rest went back
    rest = [d for d in store.deliveries() if d.state == DeliveryState.PENDING.value]
    assert len(rest) == 25 and all(d.lease_until is None for d in rest)
    while await other.run_once() or await first.run_once():
        pass
    assert [m for _, m in chat.posted] == ids  # each once, in order


async def test_a_card_edit_given_back_is_done_later_and_a_fresh_card_is_not_in_doubt(
        store: Store, clock: Clock) -> None:
    """What a worker gives back untried keeps its work: the edit of a sent card is still to
    be done, and a card this claim marked but never sent is not taken for one in doubt."""
    [mid] = _setup(store, 1, channels=("a",))
    chat = FlakyChat()
    relay = Relay(store, {"console": chat}, now=clock)
    assert await relay.run_once() == 1
    more = store.write_mentions(
        [new_mention(store.brand(name="Acme").id or 0)],
        routes={store.brand(name="Acme").id or 0: store.routes()})
    store.claim(mention_id=mid, actor="Ana")  # the sent card needs an edit
    claimed = store.claim_deliveries(worker="w", limit=10, lease=timedelta(seconds=60),
                                     platforms=["console"])
    assert len(claimed) == 2
    store.release(delivery_ids=[c.delivery.id or 0 for c in claimed],
                  fresh=[c.delivery.id or 0 for c in claimed
                         if c.delivery.state == DeliveryState.PENDING.value])
    again = store.claim_deliveries(worker="w2", limit=10, lease=timedelta(seconds=60),
                                   platforms=["console"])
    assert {c.delivery.mention_id for c in again} == {mid, *more}
    assert not any(c.in_doubt for c in again)
