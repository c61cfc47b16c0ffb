"""Mastodon's length rule on both sides (issue 14). The fake instance refuses what Mastodon's
StatusLengthValidator refuses, counted from Mastodon's source (service_rules.py); the responder
counts the same way (integrations/networks/mastodon_length.py), refuses over-long replies before
sending, and what gets past it anyway comes back from the instance as a clear refusal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.store import Store
from integrations.networks.mastodon_length import links, mastodon_length
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import console_reply, stored_mention
from tests.integrations.networks.test_mastodon_net import FakeMastodon, build

KIM = "113500000000000101"  # kim@fosstodon.example's status in fixtures/mastodon/statuses.json
TOO_LONG = "mastodon allows 500 characters here, this reply has 501"


@pytest.fixture
def fake() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
async def client(fake: FakeMastodon) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


async def test_the_instance_refuses_an_over_long_status_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store,
) -> None:
    _, responder = build(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "mastodon", KIM)).mention
    # send() skips our checks: only the instance's validation stands in the way.
    with pytest.raises(ReplyRejected, match=r"^HTTP 422: Validation failed: Text character "
                                            r"limit of 500 exceeded$"):
        await responder.send(mention=mention, status="x" * 501)
    assert len(fake.posted) == 1  # it reached the instance, which said no
    posted = await responder.send(mention=mention, status="x" * 500)
    assert posted.id == "113500000000000200"


async def test_the_check_refuses_before_anything_is_sent(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store,
) -> None:
    _, responder = build(client)
    mid = stored_mention(sqlite_store, "mastodon", KIM)
    result = await console_reply(sqlite_store, {"mastodon": responder}, mid, "x" * 501)
    assert not result.ok and f"not sent: {TOO_LONG}" in result.text
    # With the author's @handle that reply() puts in front, 496 characters become 501: refused
    # by the responder once it knows the handle, still before posting.
    result = await console_reply(sqlite_store, {"mastodon": responder}, mid, "x" * 496)
    assert not result.ok and "with the author's @handle the reply has 501 characters" in (
        result.text)
    assert fake.posted == []
    assert [r.state for r in sqlite_store.view(mid).replies] == [ReplyState.FAILED]


async def test_a_limit_lowered_after_it_was_read_comes_back_as_the_instances_refusal(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store,
) -> None:
    """The responder reads max_characters once; if the admin lowers it later, the instance's
    422 is what tells, and the command says so."""
    (source,), responder = build(client)
    await source.poll_once(None)  # reads /api/v2/instance: 500
    fake.instance["configuration"]["statuses"]["max_characters"] = 400
    mid = stored_mention(sqlite_store, "mastodon", KIM)
    result = await console_reply(sqlite_store, {"mastodon": responder}, mid, "y" * 450)
    assert not result.ok and "Text character limit of 400 exceeded" in result.text
    assert len(fake.posted) == 1
    assert [r.state for r in sqlite_store.view(mid).replies] == [ReplyState.FAILED]


async def test_a_link_ending_in_punctuation_counts_as_on_mastodon(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store,
) -> None:
    """Counting `https?://\\S+` as 23 took "https://acme.com/status." whole: 500 characters.
    Mastodon ends the link before the "." and counts the "." as well: 501, refused. The client
    counted a reply as fitting that the instance refuses; now it counts the same."""
    text = "x" * 476 + " https://acme.com/status."
    assert links(text) == [(477, 500)]
    _, responder = build(client)
    assert responder.check(text) == TOO_LONG
    mention = sqlite_store.view(stored_mention(sqlite_store, "mastodon", KIM)).mention
    with pytest.raises(ReplyRejected, match="Text character limit of 500 exceeded"):
        await responder.send(mention=mention, status=text)
    assert responder.check(text[:-1]) is None
    await responder.send(mention=mention, status=text[:-1])
    # A ")" closing a "(" outside the link is not part of it either.
    assert mastodon_length("(see https://acme.com/faq)") == len("(see ") + 23 + 1


async def test_graphemes_and_dotted_user_names_count_as_on_mastodon(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store,
) -> None:
    """Counting code points refused replies the instance takes: an emoji with a skin tone is
    two code points and one character; "@jo.ann@fosstodon.example" counts as "@jo.ann"."""
    _, responder = build(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "mastodon", KIM)).mention
    thumbs = "👍🏽" * 500
    assert responder.check(thumbs) is None
    assert responder.check(thumbs + "!") == TOO_LONG
    dotted = "@jo.ann@fosstodon.example " + "x" * 492
    assert responder.check(dotted) is None and responder.check(dotted + "x") == TOO_LONG
    for text in (thumbs, dotted):
        await responder.send(mention=mention, status=text)  # the instance takes both
    assert len(fake.posted) == 2


PIECES = ["https://", "http://", "gemini://", "acme.com", "a.b", ":8080", "/", "?", "q=1", "&",
          "(", ")", ".", ",", "!", "'", "=", ":", "-", "_", "~", "[", "]", "|", "@", "#", "$",
          "%", "*", ";", "<", ">", " ", "\n", "\u00a0", "kim", "@kim@host.example", "jo.ann",
          "x", "0", "é", "e\u0301", "ö", "Ḁ", "日本", "👍🏽", "👨\u200d👩\u200d👧", "://",
          "HTTPS://", "ACME.COM"]


@settings(max_examples=3000, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=2), max_size=30).map("".join))
def test_the_responder_counts_what_the_instance_counts(text: str) -> None:
    assert mastodon_length(text) == service_rules.mastodon_counted(text)
