"""Publishing prepared posts on the brand's own accounts (issue 17, item 3) through the real
network modules against the fakes of each network's API (create-post endpoints with their
payload shapes and text limits, tests/integrations/networks/service_rules.py): Mastodon
(POST /api/v1/statuses), Bluesky (createRecord of app.bsky.feed.post), X (POST /2/tweets) and
a Facebook Page (POST /{page-id}/feed). The commands run as typed at the console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest

from bot.domain import ReplyState
from bot.networks import Publisher, ReplyRejected
from bot.store import Store
from commands import Deps, Invocation, Result, Role, dispatch
from integrations.networks import bluesky_net, facebook_net
from tests.integrations.networks import (
    test_bluesky_net,
    test_facebook_net,
    test_mastodon_net,
    test_x_net,
)
from tests.integrations.networks.conftest import NoSleep

ANA = Invocation(user="ana", platform="console", channel="care",
                 roles=frozenset({Role.RESPONDER}))


async def say(store: Store, publishers: Mapping[str, Publisher], line: str) -> Result:
    return await dispatch(line, ANA, Deps(store=store, publishers=publishers))


def brand(store: Store) -> None:
    store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")


@pytest.fixture
async def mastodon() -> AsyncIterator[tuple[test_mastodon_net.FakeMastodon, Publisher]]:
    fake = test_mastodon_net.FakeMastodon()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, responder = test_mastodon_net.build(client)
        yield fake, responder


async def test_mastodon_posts_a_new_status_once(
        sqlite_store: Store, mastodon: tuple[test_mastodon_net.FakeMastodon, Publisher]) -> None:
    fake, publisher = mastodon
    brand(sqlite_store)
    pubs = {"mastodon": publisher}
    # The instance's limit (500) is checked when the post is prepared, as Mastodon counts.
    result = await say(sqlite_store, pubs, "/prepare final win mastodon " + "x" * 501)
    assert not result.ok and "mastodon allows 500" in result.text
    result = await say(sqlite_store, pubs,
                       "/prepare final win mastodon We won! https://acme.example/" + "a" * 600)
    assert result.ok, result.text  # the link counts 23, as on the instance
    assert fake.posted == []
    result = await say(sqlite_store, pubs, "/publish final win")
    assert result.ok, result.text
    [sent] = fake.posted
    assert set(sent["body"]) == {"status", "visibility"}  # a new status, not a reply
    assert sent["body"]["status"].startswith("We won!")
    assert sent["key"] == "echtzeit-publication-1"
    assert "mastodon: posted https://social.example/@acme/" in result.lines[0]
    # Never twice: a second publish (a double click, a scheduled run) sends nothing.
    again = await say(sqlite_store, pubs, "/publish final win")
    assert not again.ok and "sent already" in again.lines[0]
    assert len(fake.posted) == 1
    [view] = sqlite_store.prepared_posts()
    assert view.publication is not None and view.publication.state == ReplyState.SENT.value
    kinds = [e.kind for e in sqlite_store.events()]
    assert kinds.count("publish_recorded") == 1 and kinds.count("published") == 1
    listed = await say(sqlite_store, pubs, "/prepared final")
    assert "Acme/final win mastodon (sent https://social.example/" in listed.lines[0]


async def test_mastodon_refusal_and_unclear_outcome(
        sqlite_store: Store, mastodon: tuple[test_mastodon_net.FakeMastodon, Publisher]) -> None:
    fake, publisher = mastodon
    # The instance's own check, when ours is bypassed: 422 comes back as a refusal.
    with pytest.raises(ReplyRejected, match="character limit"):
        await publisher.publish(text="y" * 501, key="k1")
    brand(sqlite_store)
    pubs = {"mastodon": publisher}
    await say(sqlite_store, pubs, "/prepare final lose mastodon Next time.")
    fake.fail["/api/v1/statuses"] = [httpx.Response(502)] * 5
    result = await say(sqlite_store, pubs, "/publish final lose")
    assert not result.ok and "unclear whether it was posted" in result.lines[0]
    # Unknown blocks a second try until a person settles it.
    blocked = await say(sqlite_store, pubs, "/publish final lose")
    assert "unknown already" in blocked.lines[0]
    settled = await say(sqlite_store, pubs, "/settle-post 1 failed")
    assert settled.ok
    fake.fail.clear()
    result = await say(sqlite_store, pubs, "/publish final lose")
    assert result.ok, result.lines
    assert fake.posted[-1]["key"] == "echtzeit-publication-2"


async def test_bluesky_creates_a_post_record_without_reply(sqlite_store: Store) -> None:
    fake = test_bluesky_net.FakePDS()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, _, responder = test_bluesky_net.parts(client)
        brand(sqlite_store)
        pubs = {"bluesky": responder}
        # 300 graphemes: "👍🏽" is one grapheme of 8 bytes.
        result = await say(sqlite_store, pubs, "/prepare final win bluesky " + "👍🏽" * 301)
        assert not result.ok and "bluesky allows 300 characters" in result.text
        result = await say(sqlite_store, pubs,
                           "/prepare final win bluesky We won! #acme " + "👍🏽" * 280)
        assert result.ok
        result = await say(sqlite_store, pubs, "/publish final win")
        assert result.ok, result.lines
        [body] = fake.records
        record = body["record"]
        assert record["$type"] == "app.bsky.feed.post" and "reply" not in record
        assert record["text"].startswith("We won! #acme")
        assert record["facets"][0]["features"][0]["tag"] == "acme"
        assert body["collection"] == "app.bsky.feed.post"
        assert (await say(sqlite_store, pubs, "/publish final win")).ok is False
        assert len(fake.records) == 1
        # The PDS's own lexicon check when ours is bypassed: 300 graphemes.
        with pytest.raises(ReplyRejected):
            await bluesky_net.BlueskyResponder.send(responder, mention=_no_mention(),
                                                    text="z" * 301)


def _no_mention() -> Any:
    from bot.models import Mention

    return Mention(external_id="at://did:plc:none/app.bsky.feed.post/x")


async def test_x_posts_a_tweet_with_only_text(sqlite_store: Store) -> None:
    fake = test_x_net.FakeX()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, responder, _, _ = test_x_net.build(client)
        brand(sqlite_store)
        pubs = {"x": responder}
        # X's weighted count: CJK weighs 2, so 141 characters are 282.
        result = await say(sqlite_store, pubs, "/prepare final win x " + "日" * 141)
        assert not result.ok and "x allows 280" in result.text
        assert (await say(sqlite_store, pubs, "/prepare final win x " + "日" * 140)).ok
        result = await say(sqlite_store, pubs, "/publish final win")
        assert result.ok, result.lines
        [body] = fake.created
        assert body == {"text": "日" * 140}
        assert "x: posted https://x.com/" in result.lines[0]
        # X's own limit when ours is bypassed: 400 too long.
        with pytest.raises(ReplyRejected):
            await responder.publish(text="a" * 281, key="k")


async def test_facebook_posts_on_the_page_feed(sqlite_store: Store) -> None:
    fake = test_facebook_net.FakeGraph()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, _, _, api = test_facebook_net.build(client)
        publisher = facebook_net.FacebookPublisher(api, test_facebook_net.PAGE)
        brand(sqlite_store)
        pubs = {"facebook": publisher}
        result = await say(sqlite_store, pubs, "/prepare final win facebook " + "f" * 63_207)
        assert not result.ok and "63206" in result.text.replace(",", "")
        long = "Long statement. " * 900  # 14,400 characters: more than a comment may have
        assert (await say(sqlite_store, pubs, f"/prepare final win facebook {long}")).ok
        result = await say(sqlite_store, pubs, "/publish final win")
        assert result.ok, result.lines
        [(target, form)] = fake.written
        assert target == test_facebook_net.PAGE and form["message"] == [long.strip()]
        with pytest.raises(ReplyRejected, match="63206"):
            await publisher.publish(text="f" * 63_207, key="k")


async def test_every_network_of_an_outcome_and_one_not_configured(
        sqlite_store: Store, mastodon: tuple[test_mastodon_net.FakeMastodon, Publisher]) -> None:
    fake, publisher = mastodon
    brand(sqlite_store)
    x_fake = test_x_net.FakeX()
    async with httpx.AsyncClient(transport=httpx.MockTransport(x_fake)) as client:
        _, x_responder, _, _ = test_x_net.build(client, sleep=NoSleep())
        pubs: dict[str, Publisher] = {"mastodon": publisher, "x": x_responder}
        await say(sqlite_store, pubs, "/prepare gala winner-a mastodon Congratulations A!")
        await say(sqlite_store, pubs, "/prepare gala winner-a x Congratulations A!")
        await say(sqlite_store, pubs, "/prepare gala winner-b x Congratulations B!")
        # Bluesky not configured: refused when preparing, with the reason.
        result = await say(sqlite_store, pubs, "/prepare gala winner-a bluesky Hi")
        assert not result.ok and "cannot post on bluesky" in result.text
        del pubs["x"]  # the account went away between preparing and publishing
        result = await say(sqlite_store, pubs, "/publish gala winner-a")
        assert not result.ok
        assert sorted(result.lines) == [
            "mastodon: posted https://social.example/@acme/113600000000000001",
            "x: not posted: no account of the brand is configured for posting there"]
        assert x_fake.created == [] and len(fake.posted) == 1
        assert fake.posted[0]["body"]["status"] == "Congratulations A!"
