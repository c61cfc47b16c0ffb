"""Quiet hours per route: held cards, one catch-up notice at their end, and the same notice for
a backlog after an outage; through the real store (SQLite and PostgreSQL) and the real relay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from bot.cards import Card
from bot.catchup import notice
from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.quiet import QuietHours, QuietHoursError
from bot.relay import Relay, RelayPolicy
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock


class NoticeChat:
    """A ChatAdapter and Notifier that records what it was given."""

    platform = "console"

    def __init__(self) -> None:
        self.posted: list[tuple[str, int]] = []
        self.notices: list[tuple[str, str, list[str]]] = []
        self.fail: list[ChatError] = []

    async def send_card(self, channel: str, card: Card) -> str:
        self.posted.append((channel, card.mention_id))
        return f"{channel}/{len(self.posted)}"

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        return None

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        if self.fail:
            raise self.fail.pop(0)
        self.notices.append((channel, text, list(thread)))
        return f"{channel}/n{len(self.notices)}"


def test_quiet_hours_parse_and_end() -> None:
    q = QuietHours.parse("22:00-07:00", "Europe/Berlin")
    # 2026-11-20 is a Friday; Berlin is UTC+1 in November.
    assert q.quiet_until(datetime(2026, 11, 20, 22, 30, tzinfo=UTC)) == datetime(
        2026, 11, 21, 6, 0, tzinfo=UTC)
    assert q.quiet_until(datetime(2026, 11, 20, 5, 59, tzinfo=UTC)) == datetime(
        2026, 11, 20, 6, 0, tzinfo=UTC)
    assert not q.is_quiet(datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    # Weekend all day, nights from Sunday on: Friday night runs through the weekend into
    # Sunday night, until Monday 07:00 (adjacent ranges merge).
    w = QuietHours.parse("sun-fri 22:00-07:00; sat-sun 00:00-00:00", "Europe/Berlin")
    assert w.quiet_until(datetime(2026, 11, 20, 23, 0, tzinfo=UTC)) == datetime(
        2026, 11, 23, 6, 0, tzinfo=UTC)
    # Without Sunday night the weekend ends at Sunday midnight, Berlin time.
    w = QuietHours.parse("mon-fri 22:00-07:00; sat-sun 00:00-00:00", "Europe/Berlin")
    assert w.quiet_until(datetime(2026, 11, 20, 23, 0, tzinfo=UTC)) == datetime(
        2026, 11, 22, 23, 0, tzinfo=UTC)
    # Daylight saving: on 2026-03-29 Berlin moves to UTC+2; 07:00 local is 05:00 UTC.
    assert q.quiet_until(datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) == datetime(
        2026, 3, 29, 5, 0, tzinfo=UTC)
    for bad, zone in (("22-07", "UTC"), ("xyz 22:00-07:00", "UTC"), ("25:00-07:00", "UTC"),
                      ("22:00-07:00", "Mars/Olympus")):
        with pytest.raises(QuietHoursError):
            QuietHours.parse(bad, zone)


def _brand(store: Store, quiet: str | None, channel: str = "care") -> int:
    b = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel=channel, quiet_hours=quiet,
                    quiet_timezone="Europe/Berlin", actor="t")
    return b.id or 0


async def test_quiet_hours_hold_then_one_catch_up(store: Store, clock: Clock) -> None:
    bid = _brand(store, "08:00-12:00")  # 09:00 UTC is 10:00 in Berlin: quiet until 11:00 UTC
    routes = {bid: store.routes()}
    ids = store.write_mentions(
        [new_mention(bid, priority="normal", network="bluesky"),
         new_mention(bid, priority="low", network="mastodon"),
         new_mention(bid, priority="urgent", network="bluesky", text="acme exploded"),
         new_mention(bid, priority="normal", network="bluesky")], routes=routes)
    states = {d.mention_id: d.state for d in store.deliveries()}
    assert [states[i] for i in ids] == ["held", "held", "pending", "held"]
    chat = NoticeChat()
    relay = Relay(store, {"console": chat}, now=clock)
    await relay.run_once()
    assert chat.posted == [("care", ids[2])]  # the urgent one only
    assert chat.notices == []
    clock.advance(minutes=119)
    assert await relay.run_once() == 0
    clock.advance(minutes=1)  # 11:00 UTC, 12:00 in Berlin: the quiet hours end
    assert await relay.run_once() == 1
    assert len(chat.notices) == 1
    channel, text, thread = chat.notices[0]
    assert channel == "care"
    assert "3 mention(s) of Acme held during quiet hours (2 bluesky, 1 mastodon)" in text
    assert len(thread) == 3 and all("https://social.example/" in line for line in thread)
    assert thread[0].startswith(f"#{ids[0]} [normal] bluesky")  # normal before low
    assert thread[-1].startswith(f"#{ids[1]} [low] mastodon")
    # Recorded, once: the cards are caught up, never posted on their own, never listed again.
    assert await relay.run_once() == 0
    assert len(chat.notices) == 1 and chat.posted == [("care", ids[2])]
    held = [d for d in store.deliveries() if d.mention_id != ids[2]]
    assert {d.state for d in held} == {DeliveryState.CAUGHT_UP.value}
    [row] = store.catch_ups()
    assert row.state == "sent" and row.count == 3 and row.reason == "quiet"
    assert {d.catch_up_id for d in held} == {row.id}


async def test_held_cards_survive_a_restart_and_a_rate_limit(store: Store, clock: Clock,
                                                             database_url: str) -> None:
    bid = _brand(store, "08:00-12:00")
    store.write_mentions([new_mention(bid, priority="normal") for _ in range(3)],
                         routes={bid: store.routes()})
    clock.advance(hours=2)
    # A new process on the same database: the held state was in the store.
    again = Store.from_url(database_url, now=clock)
    try:
        chat = NoticeChat()
        chat.fail = [ChatError("ratelimited", retry_after=7)]
        relay = Relay(again, {"console": chat}, now=clock)
        await relay.run_once()
        assert chat.notices == []
        [row] = again.catch_ups()
        assert row.state == "pending" and row.attempts == 1
        await relay.run_once()
        assert chat.notices == []  # not before the platform's Retry-After
        clock.advance(seconds=61)  # past the lease and the Retry-After
        await relay.run_once()
        assert len(chat.notices) == 1
        assert again.catch_ups()[0].state == "sent"
    finally:
        again.close()


async def test_a_backlog_after_an_outage_becomes_one_catch_up(store: Store,
                                                              clock: Clock) -> None:
    bid = _brand(store, None)
    ids = store.write_mentions(
        [new_mention(bid, priority="normal") for _ in range(30)]
        + [new_mention(bid, priority="urgent")], routes={bid: store.routes()})
    chat = AskableChat()
    relay = Relay(store, {"console": chat}, now=clock, policy=RelayPolicy(backlog=20))
    # The chat is down for ten minutes: every card waits in the outbox (the claimed ones in
    # doubt: the relay asks the chat, which has none of them, before it lists them).
    down = FailingCards()
    outage = Relay(store, {"console": down}, now=clock, policy=RelayPolicy(backlog=20))
    await outage.run_once()
    assert down.tried == 1 and chat.posted == []
    clock.advance(minutes=10)
    assert await relay.run_once() == 32  # 31 cards claimed, one notice
    assert chat.posted == [("care", ids[-1])]
    [(_, text, thread)] = chat.notices
    assert "30 mention(s) of Acme arrived at once after a delay (30 mastodon)" in text
    assert len(thread) == 10
    # Below the threshold, cards are posted as usual; and so are many fresh ones (a busy
    # minute, a replayed sample), which are no outage.
    more = store.write_mentions([new_mention(bid, priority="normal") for _ in range(5)],
                                routes={bid: store.routes()})
    await relay.run_once()
    assert [m for _, m in chat.posted[1:]] == more
    fresh = store.write_mentions([new_mention(bid, priority="normal") for _ in range(30)],
                                 routes={bid: store.routes()})
    await relay.run_once()
    assert [m for _, m in chat.posted[6:]] == fresh and len(chat.notices) == 1


class AskableChat(NoticeChat):
    """A chat the relay can ask which cards it has (bot.chat.IdempotentChat)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, str] = {}

    async def send_card_with_token(self, channel: str, card: Card, *, token: str) -> str:
        ref = await self.send_card(channel, card)
        self.tokens[token] = ref
        return ref

    async def find_sent(self, channel: str, tokens: Sequence[str], *,
                        since: datetime, threads: Sequence[str] = ()) -> dict[str, str]:
        return {t: self.tokens[t] for t in tokens if t in self.tokens}


class FailingCards(NoticeChat):
    """The chat during an outage: every card gets a 503."""

    def __init__(self) -> None:
        super().__init__()
        self.tried = 0

    async def send_card(self, channel: str, card: Card) -> str:
        self.tried += 1
        raise ChatError("503 service unavailable")


def test_notice_text_keeps_network_text_harmless() -> None:
    from bot.catchup import HeldCard

    card = HeldCard(1, "Acme", "x", "high", "https://x.example/1", "evil\u202e",
                    "line\nbreak \x1b[31m <!channel>", 10,
                    datetime(2026, 11, 20, tzinfo=UTC))
    text, [line] = notice("quiet", [card])
    assert "\x1b" not in line and "\u202e" not in line and "\n" not in line
    assert "1 mention(s)" in text
