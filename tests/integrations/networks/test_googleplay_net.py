"""Google Play reviews against the fake Google Play Developer API (fake_googleplay.py): the
service account's signed JWT traded for a token, the reviews list with its pages and its
seven-day window, edits of a review, quota answers, and the developer reply with its
350-character rule and its one-reply-per-review rule; end to end from the fake through the
runner and pipeline to a card, and from `/reply` back to the fake."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bot.cards import card_for, stars_text
from bot.clock import utcnow
from bot.domain import ReplyState
from bot.networks import PostGone, ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.chat.console.render import render_card
from integrations.chat.discord.render import card_embed
from integrations.chat.slack.render import card_blocks
from integrations.networks import googleplay_net, registry
from integrations.networks.http_common import ApiError, RateLimited
from integrations.networks.settings import load_network_config
from tests.conftest import Clock
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    pump_rounds,
    stored,
    stored_mention,
)
from tests.integrations.networks.fake_googleplay import (
    EMAIL,
    PACKAGE,
    SCOPE,
    TOKEN_URL,
    FakeGooglePlay,
    service_account_json,
)

NETWORK = "googleplay"
CRASH = "gp:AOqpTOFmAVORqfWGcaqfF39ftwFjGkjRmx1WIeoYyPEEkk6Vw3bwc4UvDjSbbEKEYF-Z0K5TPAXfXDPQoLJzHw"
SLOW = "gp:AOqpTOGRq1_L2xq7a9z6W6qVR-ZFvgVf1Jm2BfB9pJQ0bq4a0qY0ZtZ0n0eVw4r5n8GSVt5cQ1wW0tqPzq3RxA"
FINE = "gp:AOqpTOEp1ZfEj2s4zmc9FQ7GvK0Vx5b1u3wQe6lW0bYtZpY4p5J5l1mXwJ3n8m7Qr9Vw6Kk2gHs0JbN1cP4xQ"


@pytest.fixture
def fake(clock: Clock) -> FakeGooglePlay:
    return FakeGooglePlay(clock)


@pytest.fixture
async def client(fake: FakeGooglePlay) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, clock: Clock, *, sleep: Any = None,
          key: str | None = None, translation: str | None = None) -> Any:
    account = googleplay_net.load_service_account(key or service_account_json())
    return googleplay_net.components(
        client, account=account, packages=[PACKAGE], interval=900,
        translation=translation, sleep=sleep or NoSleep(), now=clock, clock=clock.seconds)


def _id(rid: str) -> str:
    return f"{PACKAGE}/{rid}"


async def test_reviews_become_posts_through_every_page(client: httpx.AsyncClient,
                                                       fake: FakeGooglePlay,
                                                       clock: Clock) -> None:
    source, _, _, creds = build(client, clock)
    assert source.name == "googleplay:com.acme.app"
    batch = await source.poll_once(None)
    # Oldest first; the fake answers two reviews a page, so the third is on page two.
    assert [p.external_id for p in batch.posts] == [_id(FINE), _id(SLOW), _id(CRASH)]
    lists = [r for r in fake.requests if r.url.path.endswith("/reviews")]
    assert [dict(r.url.params) for r in lists] == [
        {"maxResults": "100"}, {"maxResults": "100", "token": "page-2"}]
    by_id = {p.external_id: p for p in batch.posts}
    crash = by_id[_id(CRASH)]
    assert crash.text == ("The Acme app crashes every time I open the camera scanner since "
                          "4.10.2. Please fix, I need it for work!\n\n(on: com.acme.app)")
    assert (crash.rating, crash.app, crash.likes, crash.lang) == (1, PACKAGE, 7, "en")
    assert crash.url == f"https://play.google.com/store/apps/details?id={PACKAGE}&reviewId={CRASH}"
    assert (crash.author.handle, crash.author.name, crash.author.followers) == (
        "Jana Kowalski", "Jana Kowalski", None)
    assert crash.created_at == datetime(2026, 11, 20, 8, 41, 7, 412000, tzinfo=UTC)
    assert crash.extra == {"device": "a52sxq", "androidOsVersion": "34",
                           "appVersionName": "4.10.2", "reviewerLanguage": "en"}
    slow = by_id[_id(SLOW)]
    # "<title>\t<body>": the title on its own line; the existing developer reply is kept.
    assert slow.text.startswith("Gute App\nSeit dem Update lädt die Startseite ewig.")
    assert slow.extra["developer_reply"] == "Danke, Klaus! Wir sehen uns das an."
    assert (slow.rating, slow.replies) == (3, 1)
    fine = by_id[_id(FINE)]
    assert fine.author.handle == "A Google user" and fine.author.name is None
    assert json.loads(batch.cursor or "") == {
        PACKAGE: {"at": "1795164067.412000000", "ids": [_id(CRASH)]}}
    # One token for all of it, from an assertion the fake verified with the public key.
    assert creds.fetches == 1 and len(fake.tokens) == 1
    [sent] = fake.assertions
    assert sent["header"] == {"alg": "RS256", "typ": "JWT",
                              "kid": "5d2f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c"}
    assert {k: sent["claims"][k] for k in ("iss", "aud", "scope")} == {
        "iss": EMAIL, "aud": TOKEN_URL, "scope": SCOPE}
    assert sent["claims"]["exp"] - sent["claims"]["iat"] == 3600

    # Nothing new: nothing handed on, the cursor stays.
    again = await source.poll_once(batch.cursor)
    assert again.posts == [] and again.cursor == batch.cursor


async def test_only_the_last_week_is_listed_and_the_cursor_keeps_ties(
        client: httpx.AsyncClient, fake: FakeGooglePlay, clock: Clock) -> None:
    source, _, _, _ = build(client, clock)
    first = await source.poll_once(None)
    # Two new reviews in the same instant as the newest one stored, and one too old for the
    # list (eight days): the API never shows it.
    same = datetime(2026, 11, 20, 8, 41, 7, 412000, tzinfo=UTC)
    fake.add_review("gp:tie-1", "acme app ok", 4, same)
    fake.add_review("gp:old", "acme from last month", 2, clock() - timedelta(days=8))
    second = await source.poll_once(first.cursor)
    assert [p.external_id for p in second.posts] == [_id("gp:tie-1")]
    assert json.loads(second.cursor or "")[PACKAGE]["ids"] == [_id(CRASH), _id("gp:tie-1")]
    assert (await source.poll_once(second.cursor)).posts == []


async def test_translation_language_and_malformed_reviews(
        client: httpx.AsyncClient, fake: FakeGooglePlay, clock: Clock) -> None:
    fake.reviews[PACKAGE][:0] = [
        {"reviewId": "gp:no-comments", "authorName": "x"},
        {"reviewId": "bad id with spaces", "comments": [{"userComment": {
            "text": "acme", "lastModified": {"seconds": "1795160000"}, "starRating": 2}}]},
        {"reviewId": "gp:no-time", "comments": [{"userComment": {"text": "acme",
                                                                 "starRating": 9}}]},
        {"reviewId": "gp:weird", "authorName": ["@everyone"], "comments": [
            {"userComment": {"text": "acme <@U123> &amp;", "starRating": True,
                             "lastModified": {"seconds": "1795160000", "nanos": -4},
                             "thumbsUpCount": "lots", "device": {"x": 1}}}]},
        "not even a dict"]
    source, _, _, _ = build(client, clock, translation="en")
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    assert set(by_id) == {_id("gp:weird"), _id(FINE), _id(SLOW), _id(CRASH)}
    weird = by_id[_id("gp:weird")]
    # Not HTML: kept as typed (the renderers escape it); no stars from a boolean.
    assert weird.text.startswith("[en] acme <@U123> &amp;\n")
    assert weird.extra == {"original": "acme <@U123> &amp;"}
    assert (weird.rating, weird.likes, weird.author.handle) == (None, None, "A Google user")
    slow = by_id[_id(SLOW)]
    assert slow.text.startswith("[en] Gute App") and slow.lang == "en"
    assert slow.extra["original"].startswith("Gute App\nSeit dem Update")
    assert all(r.url.params.get("translationLanguage") == "en"
               for r in fake.requests if r.url.path.endswith("/reviews"))


async def test_quota_answers_are_waited_out_then_the_poll_fails(
        client: httpx.AsyncClient, fake: FakeGooglePlay, clock: Clock) -> None:
    sleep = NoSleep()
    source, _, _, _ = build(client, clock, sleep=sleep)
    fake.gets_per_hour = 1
    with pytest.raises(RateLimited, match="HTTP 429: Quota exceeded"):
        await source.poll_once(None)
    # Google names no wait: each retry waited QUOTA_WAIT (plus jitter).
    assert len(sleep.calls) == 4
    assert all(googleplay_net.QUOTA_WAIT <= s < googleplay_net.QUOTA_WAIT + 1
               for s in sleep.calls)
    # The 403 shape (reason rateLimitExceeded) is a quota answer too.
    fake.quota_style = 403
    sleep.calls.clear()
    with pytest.raises(RateLimited, match="HTTP 403"):
        await source.poll_once(None)
    assert len(sleep.calls) == 4
    # An hour later the quota is back.
    clock.advance(hours=1)
    fake.gets_per_hour = 200
    assert len((await source.poll_once(None)).posts) == 3


async def test_an_expired_token_is_fetched_again_once(
        client: httpx.AsyncClient, fake: FakeGooglePlay, clock: Clock) -> None:
    source, _, _, creds = build(client, clock)
    batch = await source.poll_once(None)
    fake.expire_tokens()
    fake.add_review("gp:new", "acme again", 2, clock())
    assert [p.external_id for p in (await source.poll_once(batch.cursor)).posts] == [
        _id("gp:new")]
    assert creds.fetches == 2
    # An hour on, the cached token is renewed before it runs out (no 401 needed).
    clock.advance(minutes=59)
    await source.poll_once(batch.cursor)
    assert creds.fetches == 3 and fake.assertions[-1]["claims"]["iat"] == int(clock.seconds())



def ec_pem() -> str:
    """A private key that is not RSA (an App Store key's kind), in PEM."""
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()

async def test_keys_that_do_not_work(client: httpx.AsyncClient, fake: FakeGooglePlay,
                                     clock: Clock) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    source, _, api, creds = build(client, clock, key=service_account_json(key=other))
    with pytest.raises(ApiError, match="Google refused the service account's token: "
                                       "Invalid JWT Signature"):
        await googleplay_net.verify(api, creds, PACKAGE)
    with pytest.raises(ApiError, match=r"invalid_grant|Invalid JWT"):
        await source.poll_once(None)
    for bad, why in [("{", "not JSON"), ('{"type": "authorized_user"}', "not a service-account"),
                     ('{"type": "service_account", "client_email": "a@b"}', "no private_key"),
                     ('{"type": "service_account", "client_email": "a@b", "private_key": '
                      '"-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----\\n"}',
                      "not a private key in PEM"),
                     (json.dumps({"type": "service_account", "client_email": "a@b",
                                  "private_key": ec_pem()}), "not an RSA key")]:
        with pytest.raises(ValueError, match=why) as err:
            googleplay_net.load_service_account(bad)
        assert "AAAA" not in str(err.value)
    account = googleplay_net.load_service_account(service_account_json())
    assert "PRIVATE" not in repr(account) and EMAIL in repr(account)


async def test_the_reply_rules(client: httpx.AsyncClient, fake: FakeGooglePlay,
                               clock: Clock, sqlite_store: Store) -> None:
    _, responder, _, _ = build(client, clock)
    assert responder.check("x" * 350) is None
    assert responder.check("x" * 351) == (
        "googleplay allows 350 characters, this reply has 351: Google Play rejects replies "
        "longer than about 350 characters; shorten it")
    mention = sqlite_store.view(stored_mention(sqlite_store, NETWORK, _id(CRASH))).mention
    with pytest.raises(ReplyRejected, match="allows 350 characters"):
        await responder.reply(mention=mention, text="x" * 351)
    assert fake.replies == [] and fake.refused == []  # refused before anything was sent
    posted = await responder.reply(mention=mention, text="Sorry! 4.10.3 fixes the scanner.")
    assert posted.note is None
    again = await responder.reply(mention=mention, text="Update: 4.10.3 is out now.")
    assert again.note is not None and "replaced the earlier developer reply" in again.note
    assert [c for c in fake.review(CRASH)["comments"] if "developerComment" in c] == [
        {"developerComment": {"text": "Update: 4.10.3 is out now.",
                              "lastModified": {"seconds": "1795165200", "nanos": 0}}}]
    gone = sqlite_store.view(stored_mention(sqlite_store, NETWORK, _id("gp:gone"))).mention
    with pytest.raises(PostGone):
        await responder.reply(mention=gone, text="Hi")
    # A review the read does not find but the reply does (older than the API shows?) is not
    # taken for deleted on a guess: the reply goes out, and says what could not be checked.
    fake.unseen_by_get.add(CRASH)
    unseen = await responder.reply(mention=mention, text="Still here for you.")
    assert unseen.note is not None and "did not show the review" in unseen.note
    assert fake.replies[-1] == (PACKAGE, CRASH, "Still here for you.")
    other = sqlite_store.view(stored_mention(sqlite_store, NETWORK, "no-slash")).mention
    with pytest.raises(ReplyRejected, match="not a Google Play review"):
        await responder.reply(mention=other, text="Hi")


async def test_into_the_store_a_card_an_edit_a_restart_and_replies(
    client: httpx.AsyncClient, fake: FakeGooglePlay, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate, clock: Clock,
) -> None:
    source, responder, _, _ = build(client, clock)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    # "works fine" never names acme, but its "(on: com.acme.app)" line does: every review of
    # the app matches a query that names the brand.
    assert set(views) == {_id(CRASH), _id(SLOW), _id(FINE)}
    crash = views[_id(CRASH)]
    assert (crash.mention.rating, crash.mention.app) == (1, PACKAGE)
    card = card_for(crash, reply_networks={NETWORK})
    assert card.rating_line == "★☆☆☆☆ 1/5 · com.acme.app" and "reply" in card.actions
    assert card.sla_due_at == crash.mention.created_at + timedelta(hours=24)
    # Every chat shows the stars.
    slack = json.dumps(card_blocks(card, clock()), ensure_ascii=False)
    assert "★☆☆☆☆ 1/5 · com.acme.app" in slack
    embed = card_embed(card)
    assert embed["fields"][0] == {"name": "Rating", "value": "★☆☆☆☆ 1/5 · com.acme.app",
                                  "inline": True}
    assert "★☆☆☆☆ 1/5 · com.acme.app" in render_card(card, clock())
    assert stars_text(3) == "★★★☆☆ 3/5" and stars_text(None) is None

    # The user edits the review: new text and stars, the same mention (no duplicate).
    clock.advance(minutes=30)
    fake.edit(CRASH, "Acme fixed the scanner in 4.10.3, thanks!", 4, clock())
    await pump_rounds(source, pipeline, gate)
    assert len(stored(sqlite_store)) == 3
    edited = sqlite_store.view(crash.mention.id or 0)
    assert edited.mention.text == ("Acme fixed the scanner in 4.10.3, thanks!\n\n"
                                   "(on: com.acme.app)")
    assert edited.mention.rating == 4 and edited.mention.edited_at is not None
    [event] = [e for e in sqlite_store.events(mention_id=crash.mention.id)
               if e.kind == "post_edited"]
    assert json.loads(event.detail)["rating_before"] == 1
    assert card_for(edited).rating_line == "★★★★☆ 4/5 · com.acme.app"

    # A restart resumes from the stored cursor: the one new review, nothing twice.
    saved = sqlite_store.cursor(source=source.name)
    assert saved is not None and json.loads(saved)[PACKAGE]["ids"] == [_id(CRASH)]
    fake.add_review("gp:late", "acme login loops", 2, clock())
    restarted, responder, _, _ = build(client, clock)
    restarted.sleep = gate
    await pump_rounds(restarted, pipeline, gate)
    assert len(stored(sqlite_store)) == 4

    # /reply: recorded, then sent once; the second one replaces the first and says so.
    mid = crash.mention.id or 0
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid,
                                 "Glad it works again, Jana!")
    assert result.ok, result.text
    assert fake.replies == [(PACKAGE, CRASH, "Glad it works again, Jana!")]
    (reply,) = sqlite_store.view(mid).replies
    assert (reply.state, reply.network_reply_id) == (ReplyState.SENT, _id(CRASH) + "#reply")
    slow = views[_id(SLOW)].mention.id or 0
    result = await console_reply(sqlite_store, {NETWORK: responder}, slow,
                                 "Klaus, 4.10.3 makes the start page fast again.")
    assert result.ok and "replaced the earlier developer reply" in result.text
    assert "Danke, Klaus!" in result.text

    # Too long: refused before anything is recorded or sent.
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid, "x" * 351)
    assert not result.ok and "googleplay allows 350 characters" in result.text
    assert len(sqlite_store.view(mid).replies) == 1 and len(fake.replies) == 2

    # Google's 5xx after sending: the outcome is unclear, nothing is retried.
    fake.fail_reply_with = httpx.Response(503, json={"error": {
        "code": 503, "message": "The service is currently unavailable.",
        "status": "UNAVAILABLE"}})
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid, "One more thing")
    assert not result.ok and "settle" in result.text
    assert sqlite_store.view(mid).replies[-1].state == ReplyState.UNKNOWN
    assert len(fake.replies) == 2
    assert [r.method for r in fake.requests if r.url.path.endswith(":reply")] == [
        "POST"] * 3


async def test_networks_report_lists_google_play(tmp_path: Any) -> None:
    def config(**values: Any) -> Any:
        return load_network_config(values, env_file=None)

    # `echtzeit networks` signs with the wall clock: so does this fake.
    fake = FakeGooglePlay(utcnow)
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake))

    off = {s.network: s for s in await registry.report(config(), client)}[NETWORK]
    assert (off.on, off.detail) == (False, "set ECHTZEIT_GOOGLEPLAY_PACKAGES and "
                                           "ECHTZEIT_GOOGLEPLAY_SERVICE_ACCOUNT_KEY (or "
                                           "_KEY_FILE)")
    key_file = tmp_path / "play.json"
    key_file.write_text(service_account_json())
    on = {s.network: s for s in await registry.report(config(
        googleplay_packages=PACKAGE, googleplay_service_account_key_file=str(key_file)),
        client)}[NETWORK]
    assert on.ok is True, on.detail
    assert on.detail == ("reviews of com.acme.app (the last 7 days); replies; signed in as "
                         f"{EMAIL} (reviews of com.acme.app readable)")
    denied = {s.network: s for s in await registry.report(config(
        googleplay_packages="com.other.app", googleplay_service_account_key=
        service_account_json()), client)}[NETWORK]
    assert denied.ok is False and "The caller does not have permission" in denied.detail
    # A key that cannot be read leaves the network off with the reason in the log.
    broken = {s.network: s for s in await registry.report(config(
        googleplay_packages=PACKAGE, googleplay_service_account_key_file=str(
            tmp_path / "missing.json")), client)}[NETWORK]
    assert broken.on is False
    await client.aclose()


def test_a_query_may_name_googleplay() -> None:
    from bot.query import describe, parse

    assert describe(parse("acme network:googleplay")) == "(acme AND network:googleplay)"
