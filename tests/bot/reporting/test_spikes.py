"""Spike detection against a rolling baseline, alerts with a cool-down, the flood gate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.relay import Relay
from bot.reporting.spikes.detector import SpikeDetector, mean_sd
from bot.reporting.spikes.monitor import SpikeMonitor
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock


class Notices:
    """A chat that records notices (bot.chat.Notifier) and can fail on demand."""

    platform = "console"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None, list[str]]] = []
        self.fail: list[ChatError] = []

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        if self.fail:
            raise self.fail.pop(0)
        self.sent.append((channel, text, person, list(thread)))
        return f"{channel}/{len(self.sent)}"


def _brand(store: Store, clock: Clock, *, age_days: int = 10) -> int:
    clock.advance(days=-age_days)
    b = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    clock.advance(days=age_days)
    return b.id or 0


def _history(store: Store, bid: int, now: datetime, per_day: Sequence[int]) -> None:
    """per_day[d-1] mentions in the hour before now - d days."""
    rows = []
    for d, n in enumerate(per_day, 1):
        at = now - timedelta(days=d, minutes=30)
        rows += [new_mention(bid, created_at=at, sentiment="neutral") for _ in range(n)]
    store.write_mentions(rows, routes={})


def _now_mentions(bid: int, now: datetime, n: int, negative: int = 0) -> list:  # type: ignore[type-arg]
    return [new_mention(bid, created_at=now - timedelta(minutes=1 + i % 50),
                        sentiment="negative" if i < negative else "positive") for i in range(n)]


def test_mean_sd() -> None:
    assert mean_sd([]) == (0.0, 0.0)
    assert mean_sd([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]) == (5.0, 2.0)


def test_a_volume_spike_against_the_same_hour_of_the_last_week(store: Store,
                                                                  clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [4, 6, 5, 5, 4, 6, 5])
    store.write_mentions(_now_mentions(bid, now, 12), routes={})
    det = SpikeDetector(store)
    s = det.stats(bid, now)
    assert (s.count, s.baseline_days, s.mean) == (12, 7, 5.0)
    assert s.threshold < 12 and s.kind == "volume" and det.is_flooding(bid, now)
    # Below the minimum count nothing is a spike, whatever the baseline says.
    assert SpikeDetector(store, min_count=20).stats(bid, now).kind is None


def test_a_negative_share_spike(store: Store, clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [10, 10, 10])
    store.write_mentions(_now_mentions(bid, now, 10, negative=8), routes={})
    s = SpikeDetector(store).stats(bid, now)
    assert s.kind == "negative" and s.negative_share == 0.8


def test_negativity_counts_what_is_about_the_brand_and_names_the_complaints(
        store: Store, clock: Clock) -> None:
    from bot.reporting.spikes.alerts import alert_text

    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [10, 10, 10])
    at = now - timedelta(minutes=5)
    rows = [
        # About the brand and needing a reply: complaints.
        *(new_mention(bid, created_at=at, sentiment="negative", relevance=0.9,
                      needs_reply=0.8) for _ in range(4)),
        # About the brand, negative in passing.
        *(new_mention(bid, created_at=at, sentiment="negative", relevance=0.8,
                      needs_reply=0.2) for _ in range(2)),
        # Another sense of the word: negative, but not the brand's shitstorm.
        *(new_mention(bid, created_at=at, sentiment="negative", relevance=0.1,
                      needs_reply=0.9) for _ in range(4)),
    ]
    store.write_mentions(rows, routes={})
    s = SpikeDetector(store).stats(bid, now)
    assert (s.count, s.negative, s.complaints) == (10, 6, 4)
    assert s.kind == "negative" and s.negative_share == 0.6
    assert "60% negative, 4 complaint(s) needing a reply." in alert_text(s, "Acme", 0)


def test_a_new_brand_is_judged_by_the_cold_start_count_and_never_throttled(
        store: Store, clock: Clock) -> None:
    bid = _brand(store, clock, age_days=0)
    now = clock()
    store.write_mentions(_now_mentions(bid, now, 31), routes={})
    det = SpikeDetector(store, cold_start_count=30)
    s = det.stats(bid, now)
    assert s.baseline_days == 0 and s.kind == "volume"
    assert not det.is_flooding(bid, now)
    assert det.card_budget(bid, now, [now] * 50) is None


def test_a_flood_beyond_the_card_budget_is_grouped_not_relayed(store: Store,
                                                               clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [2, 3, 2, 3, 2, 3, 2])
    det = SpikeDetector(store, cards_per_hour=5)
    batch = _now_mentions(bid, now, 30)
    budget = det.card_budget(bid, now, [m.created_at for m in batch])
    assert budget == 5
    store.write_mentions(batch, routes={bid: store.routes()}, card_budget={bid: budget})
    states = [d.state for d in store.deliveries()]
    assert states.count(DeliveryState.PENDING.value) == 5
    assert states.count(DeliveryState.GROUPED.value) == 25
    assert det.card_budget(bid, now, [now]) == 0  # the hour's budget is spent

    class Chat:
        platform = "console"
        posted = 0

        async def send_card(self, channel: str, card: object) -> str:
            Chat.posted += 1
            return str(Chat.posted)

        async def update_card(self, channel: str, ref: str, card: object) -> None:
            return None

    import asyncio
    assert asyncio.run(Relay(store, {"console": Chat()}, now=clock).run_once()) == 5


async def test_one_alert_per_spike_with_a_cool_down(store: Store, clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [1, 1, 1, 1, 1, 1, 1])
    store.write_mentions(_now_mentions(bid, now, 15, negative=9),
                         routes={bid: store.routes()}, card_budget={bid: 3})
    chat = Notices()
    monitor = SpikeMonitor(SpikeDetector(store), {"console": chat})
    assert await monitor.run_due(now) == 1
    [(channel, text, person, thread)] = chat.sent
    assert channel == "care" and person is None and "15 in the last hour" in text
    assert "12 of them are grouped" in text and len(thread) == 5
    assert await monitor.run_due(now + timedelta(minutes=30)) == 0  # cool-down
    store.write_mentions(_now_mentions(bid, now + timedelta(hours=3), 20), routes={})
    assert await monitor.run_due(now + timedelta(hours=3)) == 1
    [first, second] = monitor.q.alerts()
    assert first.state == second.state == "sent"


async def test_a_failed_alert_is_recorded_and_not_repeated(store: Store, clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    store.write_mentions(_now_mentions(bid, now, 40), routes={})
    chat = Notices()
    chat.fail.append(ChatError("channel_not_found", permanent=True))
    monitor = SpikeMonitor(SpikeDetector(store), {"console": chat})
    assert await monitor.run_due(now) == 0
    assert await monitor.run_due(now + timedelta(minutes=5)) == 0
    [alert] = monitor.q.alerts()
    assert alert.state == "failed" and "channel_not_found" in (alert.error or "")


async def test_an_alert_refused_for_now_goes_out_at_the_next_check(store: Store,
                                                                    clock: Clock) -> None:
    """A 429 (or an outage) must not lose the alert: the next check sends it, once."""
    bid = _brand(store, clock)
    now = clock()
    store.write_mentions(_now_mentions(bid, now, 40), routes={})
    chat = Notices()
    chat.fail += [ChatError("rate limited by Slack", retry_after=1.0),
                  ChatError("500 from Slack")]
    monitor = SpikeMonitor(SpikeDetector(store), {"console": chat})
    assert await monitor.run_due(now) == 0
    [alert] = monitor.q.alerts()
    assert alert.state == "retry"
    assert await monitor.run_due(now + timedelta(minutes=1)) == 0  # the outage goes on
    store.write_mentions(_now_mentions(bid, now + timedelta(minutes=2), 5), routes={})
    assert await monitor.run_due(now + timedelta(minutes=2)) == 1
    assert await monitor.run_due(now + timedelta(minutes=3)) == 0  # cool-down: not again
    [alert] = monitor.q.alerts()  # the same row, taken again with the new figures
    assert alert.state == "sent" and alert.error is None and alert.count == 45
    [(_, text, _, _)] = chat.sent
    assert "45 in the last hour" in text


async def test_the_spike_alert_points_at_its_stories(store: Store, clock: Clock) -> None:
    from bot.stories import hints

    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [1, 1, 1, 1, 1, 1, 1])
    link = "https://status.acme.example/incidents/7"
    story = [new_mention(bid, f"acme is down {link}", network=net, created_at=now - timedelta(
        minutes=5 + i), story=hints(f"acme is down {link}", own_url="", refs=()))
        for i, net in enumerate(["hackernews", "bluesky", "bluesky", "reddit"] * 3)]
    ids = store.write_mentions(_now_mentions(bid, now, 6) + story, routes={bid: store.routes()})
    sid = store.view(ids[-1]).mention.story_id
    assert sid is not None
    chat = Notices()
    assert await SpikeMonitor(SpikeDetector(store), {"console": chat}).run_due(now) == 1
    [(_, text, _, _)] = chat.sent
    assert (f"Stories: story {sid} (12 posts: bluesky 6, hackernews 3, reddit 3; "
            f"`story {sid}`).") in text


async def test_the_alert_offers_the_brands_prepared_holding_statement(
        store: Store, clock: Clock) -> None:
    bid = _brand(store, clock)
    now = clock()
    _history(store, bid, now, [1, 1, 1, 1, 1, 1, 1])
    store.write_mentions(_now_mentions(bid, now, 15, negative=9),
                         routes={bid: store.routes()}, card_budget={bid: 3})
    other = store.add_brand(name="Other", query="other", actor="t")
    store.prepare_post(brand_id=bid, event="outage", outcome="holding", network="mastodon",
                       text="We know, we are on it.", actor="ana")
    store.prepare_post(brand_id=bid, event="outage", outcome="fixed", network="mastodon",
                       text="Fixed.", actor="ana")
    store.prepare_post(brand_id=other.id or 0, event="recall", outcome="holding",
                       network="x", text="Other's statement", actor="ana")
    chat = Notices()
    assert await SpikeMonitor(SpikeDetector(store), {"console": chat}).run_due(now) == 1
    [(_, text, _, _)] = chat.sent
    assert text.endswith("A holding statement is prepared: `publish outage holding` posts it.")
    assert "recall" not in text
