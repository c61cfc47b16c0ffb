"""SLA reminders, spike alerts and the daily digest, posted through the Slack adapter."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta

from bot.chat import DigestSink, Notifier
from bot.reporting.chart import digest_chart
from bot.reporting.digest.builder import DigestBuilder
from bot.store import Store
from integrations.chat.slack.chat import SlackChat, StaticToken
from testkit.blockkit import hostile_problems
from testkit.clock import Monotonic
from testkit.factories import new_mention
from testkit.fake_slack import FakeSlack
from tests.integrations.chat.slack.conftest import paced, seed


def chat_for(fake: FakeSlack) -> SlackChat:
    return SlackChat(StaticToken(next(iter(fake.tokens))), api_url=fake.api_url, **paced(fake))


async def test_a_notice_addresses_its_person_and_threads_its_details(fake: FakeSlack) -> None:
    chat = chat_for(fake)
    assert isinstance(chat, Notifier)
    ref = await chat.notify("C0CARDS", "SLA: #12 is due in 15m <!channel>", person="U0ANA",
                            thread=[f"#{n} <@U0BEN> line" for n in range(400)])
    notice, *details = fake.ok_calls("chat.postMessage")
    assert ref == f"C0CARDS:{notice.answer['ts']}"
    assert notice.args["blocks"][0]["text"] == {"type": "mrkdwn", "text": "<@U0ANA>"}
    assert hostile_problems(notice.args["blocks"][1:]) == []
    assert details and {d.args["thread_ts"] for d in details} == {
        notice.answer["ts"]}
    shown = "\n".join(s["text"]["text"] for d in details for s in d.args["blocks"])
    assert shown.splitlines() == [f"#{n} &lt;@U0BEN&gt; line" for n in range(400)]
    assert hostile_problems([d.args for d in details]) == []
    named = await chat.notify("C0CARDS", "Spike", person="Ana (Care)")
    last = fake.ok_calls("chat.postMessage")[-1]
    assert named.endswith(last.answer["ts"])
    assert last.args["blocks"][0]["elements"][0]["text"] == "For Ana (Care)"


async def test_a_rate_limited_thread_line_is_sent_after_retry_after(fake: FakeSlack) -> None:
    """Slack's 429 means "not posted": the notice's details are sent again after the wait it
    asked for, once, instead of being dropped."""
    posts = itertools.count()
    # Slack refuses the first thread line for now (429, Retry-After 7: busy workspace).
    fake.fault = lambda method, channel: "429" if (
        method == "chat.postMessage" and next(posts) == 1) else None
    chat = chat_for(fake)
    clock = fake.clock
    assert isinstance(clock, Monotonic)
    slept = clock.slept
    await chat.notify("C0CARDS", "Spike: Acme", thread=["#1 first", "#2 second"])
    notice, *details = fake.ok_calls("chat.postMessage")
    assert [c.status for c in fake.calls if c.method == "chat.postMessage"].count(429) >= 1
    shown = "\n".join(s["text"]["text"] for d in details for s in d.args["blocks"])
    assert shown.splitlines() == ["#1 first", "#2 second"]
    assert {d.args["thread_ts"] for d in details} == {notice.answer["ts"]}
    assert clock.slept - slept >= 7.0  # waited the Retry-After Slack asked for


async def test_the_daily_digest_with_its_chart(fake: FakeSlack, sqlite_store: Store) -> None:
    seed(sqlite_store)
    brand = sqlite_store.brand(name="Acme")
    assert brand.id is not None
    sqlite_store.write_mentions(
        [new_mention(brand.id, "acme app is down", author_handle="<!here>",
                     url="https://evil.example|bank.com",
                     created_at=sqlite_store.now() - timedelta(hours=3))],
        routes={brand.id: sqlite_store.routes(brand_id=brand.id)})
    digest = DigestBuilder(sqlite_store).build("slack", "C0CARDS", now=sqlite_store.now(),
                                               kind="today")
    chat = chat_for(fake)
    assert isinstance(chat, DigestSink)
    ref = await chat.send_digest("C0CARDS", digest, digest_chart(digest))
    [message] = fake.ok_calls("chat.postMessage")
    assert ref == f"C0CARDS:{message.answer['ts']}"
    assert message.args["blocks"][0]["text"]["text"].startswith("📊 Digest so far for Acme")
    assert hostile_problems(message.args) == []
    [complete] = fake.ok_calls("files.completeUploadExternal")
    assert complete.args["channel_id"] == "C0CARDS"
    assert complete.args["thread_ts"] == message.answer["ts"]
    [(file_id, stored)] = fake.files.items()
    assert stored["data"].startswith(b"\x89PNG") and stored["shares"] == [
        ("C0CARDS", message.answer["ts"])]
    assert json.loads(complete.args["files"])[0]["id"] == file_id


async def test_a_chart_that_fails_does_not_fail_the_digest(fake: FakeSlack,
                                                          sqlite_store: Store) -> None:
    seed(sqlite_store)
    digest = DigestBuilder(sqlite_store).build("slack", "C0CARDS", now=sqlite_store.now(),
                                               kind="today")
    chat = chat_for(fake)
    # The upload is refused (empty file): the digest message itself is out and counts.
    ref = await chat.send_digest("C0CARDS", digest, b"")
    assert ref == f"C0CARDS:{fake.ok_calls('chat.postMessage')[0].answer['ts']}"
    assert not fake.ok_calls("files.completeUploadExternal")
