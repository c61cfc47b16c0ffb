"""The relay's Slack adapter against the fake Slack: posting, editing, pacing and Slack's errors."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import ChatError
from bot.domain import DeliveryState
from bot.relay import Relay
from bot.store import Store
from integrations.chat.slack.chat import SlackChat, StaticToken, split_channel
from testkit.clock import Monotonic
from testkit.fake_slack import POST_BURST, FakeSlack
from tests.conftest import Clock
from tests.integrations.chat.slack.conftest import paced, seed


def chat_for(fake: FakeSlack, **kwargs: object) -> SlackChat:
    """The shipped adapter, pacing on the fake's clock: its waits advance that clock."""
    return SlackChat(StaticToken(next(iter(fake.tokens))), api_url=fake.api_url,
                     **paced(fake), **kwargs)


async def test_cards_are_posted_with_safe_flags_and_edited_in_place(
        fake: FakeSlack, sqlite_store: Store) -> None:
    mid = seed(sqlite_store)
    relay = Relay(sqlite_store, {"slack": chat_for(fake)})
    assert await relay.run_once() == 1
    [post] = fake.ok_calls("chat.postMessage")
    assert post.token == next(iter(fake.tokens))
    assert post.args["channel"] == "C0CARDS"
    for flag, value in {"unfurl_links": False, "unfurl_media": False, "link_names": False,
                        "parse": "none", "mrkdwn": False}.items():
        assert post.args[flag] == value
    [delivery] = sqlite_store.deliveries(mention_id=mid)
    assert delivery.message_ref == f"C0CARDS:{post.answer['ts']}"
    assert sqlite_store.mention_for_message(platform="slack",
                                            message_ref=delivery.message_ref) == mid

    sqlite_store.claim(mention_id=mid, actor="Ana")
    assert await relay.run_once() == 1
    [update] = fake.ok_calls("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C0CARDS", post.answer["ts"])
    assert update.args["link_names"] is False and update.args["parse"] == "none"
    assert "Claimed by Ana" in str(update.args["blocks"])
    assert len(fake.ok_calls("chat.postMessage")) == 1


async def test_a_429_becomes_retry_after_and_the_relay_reschedules(
        fake: FakeSlack, sqlite_store: Store, clock: Clock) -> None:
    mid = seed(sqlite_store)
    # Another replica's adapter has used the channel's whole burst this very second.
    other = chat_for(fake, burst=POST_BURST)
    for _ in range(POST_BURST):
        await other.send_card("C0CARDS", _card(sqlite_store, mid))
    chat = chat_for(fake)
    with pytest.raises(ChatError) as caught:
        await chat.send_card("C0CARDS", _card(sqlite_store, mid))
    assert caught.value.retry_after == 1.0 and not caught.value.permanent

    relay = Relay(sqlite_store, {"slack": chat}, now=clock)
    await relay.run_once()
    [delivery] = sqlite_store.deliveries(mention_id=mid)
    assert delivery.state == DeliveryState.PENDING.value
    assert delivery.next_attempt_at == clock() + timedelta(seconds=1)
    assert "rate limited" in (delivery.last_error or "")
    # Two attempts, two 429s: the client itself did not retry behind the relay's back.
    limited = [c for c in fake.calls if c.method == "chat.postMessage" and c.status == 429]
    assert [(c.status, c.answer) for c in limited] == [
        (429, {"ok": False, "error": "ratelimited"})] * 2
    assert [c.headers.get("Retry-After") for c in limited] == ["1", "1"]


async def test_the_shipped_pacer_keeps_every_channel_under_slacks_pace(
        fake: FakeSlack, sqlite_store: Store) -> None:
    """60 cards into one channel and 10 into another at Slack's real pace (one a second, a
    short burst): not one 429, the first two at once, then one a second."""
    mid = seed(sqlite_store)
    card = _card(sqlite_store, mid)
    chat = chat_for(fake)
    clock = fake.clock
    assert isinstance(clock, Monotonic)
    start = clock()
    for _ in range(60):
        await chat.send_card("C0CARDS", card)
    assert [c.status for c in fake.calls if c.method == "chat.postMessage"] == [200] * 60
    times = [c.at - start for c in fake.ok_calls("chat.postMessage")]
    assert times[:2] == [0.0, 0.0]
    assert all(abs(b - a - 1.0) < 1e-6 for a, b in itertools.pairwise(times[1:])), times
    assert clock() - start == 58.0  # 2 at once, then 58 a second apart; none waited for
    for _ in range(10):
        await chat.send_card("C0OTHER", card)
    assert all(c.status == 200 for c in fake.calls)


async def test_the_fake_refuses_a_message_over_the_pace_with_retry_after(
        fake: FakeSlack) -> None:
    """Straight at the Web API: the burst, then 429 `ratelimited` with Retry-After until the
    bucket has room again, one message a second."""
    clock = fake.clock
    assert isinstance(clock, Monotonic)
    client = AsyncWebClient(token=next(iter(fake.tokens)), base_url=fake.api_url)
    post = functools.partial(client.chat_postMessage, channel="C0CARDS", text="x",
                             unfurl_links=False, unfurl_media=False)
    for _ in range(POST_BURST):
        await post()
    with pytest.raises(SlackApiError) as caught:
        await post()
    assert caught.value.response.status_code == 429
    assert caught.value.response["error"] == "ratelimited"
    assert caught.value.response.headers["Retry-After"] == "1"
    clock.advance(0.5)
    with pytest.raises(SlackApiError):
        await post()
    clock.advance(0.5)
    await post()  # one a second again
    with pytest.raises(SlackApiError):
        await post()
    await post(channel="C0OTHER")  # each channel on its own


async def test_permanent_errors_give_up_and_others_retry(fake: FakeSlack,
                                                         sqlite_store: Store) -> None:
    mid = seed(sqlite_store, channel="C0GONE")
    relay = Relay(sqlite_store, {"slack": chat_for(fake)})
    await relay.run_once()
    [delivery] = sqlite_store.deliveries(mention_id=mid)
    assert delivery.state == DeliveryState.FAILED.value
    assert "channel_not_found" in (delivery.last_error or "")

    revoked = SlackChat(StaticToken("xoxb-revoked"), api_url=fake.api_url)
    with pytest.raises(ChatError) as caught:
        await revoked.send_card("C0CARDS", _card(sqlite_store, mid))
    assert "invalid_auth" in str(caught.value) and not caught.value.permanent

    with pytest.raises(ChatError) as caught:
        await chat_for(fake).update_card("C0CARDS", "C0CARDS:1.000001", _card(sqlite_store, mid))
    assert "message_not_found" in str(caught.value) and caught.value.permanent


async def test_each_channel_is_paced_on_its_own(fake: FakeSlack, sqlite_store: Store) -> None:
    mid = seed(sqlite_store)
    card = _card(sqlite_store, mid)
    chat = chat_for(fake, per_second=0.5, burst=1)  # one message each 2 s per channel
    for _ in range(4):
        await chat.send_card("C0CARDS", card)
    await chat.send_card("C0OTHER", card)
    times = [c.at for c in fake.ok_calls("chat.postMessage")]
    gaps = [b - a for a, b in itertools.pairwise(times[:4])]
    assert all(abs(gap - 2.0) < 1e-6 for gap in gaps), gaps
    assert times[4] == times[3]  # the other channel did not wait its turn


def test_route_channels_name_their_workspace_when_installed_through_oauth() -> None:
    assert split_channel("C0CARDS") == (None, None, "C0CARDS")
    assert split_channel("T0SECOND/C0OTHER") == ("T0SECOND", None, "C0OTHER")
    assert split_channel("E0ORG/C0OTHER") == (None, "E0ORG", "C0OTHER")


def _card(store: Store, mid: int):  # type: ignore[no-untyped-def]
    from bot.cards import card_for

    return card_for(store.view(mid))
