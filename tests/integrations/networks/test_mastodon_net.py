"""Mastodon against a fake instance at the HTTP boundary (httpx.MockTransport) and a local
streaming WebSocket server, with the documented payload shapes from tests/fixtures/mastodon."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from bot.domain import ReplyState
from bot.networks import Batch
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import mastodon_net
from integrations.networks.http_common import html_to_text
from integrations.networks.terms import SearchTerm, fixed_terms, store_terms
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
)

BASE = "https://social.example"
TOKEN = "mastodon-user-token"


class FakeMastodon:
    """A Mastodon instance as its API documents it: bearer auth, min_id paging, Link-free
    search, rate-limit headers, 429/5xx when told to."""

    def __init__(self) -> None:
        self.statuses: dict[str, dict[str, Any]] = {
            s["id"]: s for s in fixture("mastodon", "statuses.json")
        }
        self.notifications: list[dict[str, Any]] = [
            fixture("mastodon", "notification_mention.json")]
        self.instance = fixture("mastodon", "instance.json")
        self.requests: list[httpx.Request] = []
        self.posted: list[dict[str, Any]] = []
        self.by_key: dict[str, dict[str, Any]] = {}
        self.fail: dict[str, list[httpx.Response]] = {}
        self.remaining = 300
        self.next_id = 113500000000000300

    def add(self, text: str, *, acct: str = "sam@other.example", tags: tuple[str, ...] = (),
            account_id: str = "109400000000000555") -> str:
        base = copy.deepcopy(self.statuses["113500000000000101"])
        self.next_id += 1
        sid = str(self.next_id)
        base.update(id=sid, content=f"<p>{text}</p>", url=f"https://other.example/@sam/{sid}",
                    tags=[{"name": t, "url": f"{BASE}/tags/{t}"} for t in tags])
        base["account"] = dict(base["account"], acct=acct, id=account_id)
        self.statuses[sid] = base
        return sid

    def _page(self, items: list[dict[str, Any]], params: httpx.QueryParams) -> list[Any]:
        limit = int(params.get("limit", "20"))
        items = sorted(items, key=lambda s: int(s["id"]))
        if "min_id" in params:
            items = [s for s in items if int(s["id"]) > int(params["min_id"])][:limit]
        else:
            items = items[-limit:]
        return list(reversed(items))

    def _json(self, body: Any, status: int = 200) -> httpx.Response:
        self.remaining -= 1
        reset = (datetime(2026, 11, 20, 9, 5, tzinfo=UTC)).isoformat().replace("+00:00", "Z")
        return httpx.Response(status, json=body, headers={
            "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": reset})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._json({"error": "The access token is invalid"}, 401)
        params = request.url.params
        if path == "/api/v2/instance":
            return self._json(self.instance)
        if path == "/api/v1/accounts/verify_credentials":
            return self._json(fixture("mastodon", "verify_credentials.json"))
        if path == "/api/v1/accounts/lookup":
            account = fixture("mastodon", "verify_credentials.json")
            if params["acct"] != "acme":
                return self._json({"error": "Record not found"}, 404)
            return self._json(account)
        if path == "/api/v2/search":
            q = params["q"].strip('"').lower()
            hits = [s for s in self.statuses.values() if q in html_to_text(s["content"]).lower()]
            return self._json({"accounts": [], "statuses": self._page(hits, params),
                               "hashtags": []})
        if path.startswith("/api/v1/timelines/tag/"):
            tag = path.rsplit("/", 1)[1]
            hits = [s for s in self.statuses.values()
                    if any(t["name"] == tag for t in s.get("tags", []))]
            return self._json(self._page(hits, params))
        if path == "/api/v1/notifications":
            return self._json(self._page(self.notifications, params))
        if path.startswith("/api/v1/statuses/") and request.method == "GET":
            sid = path.rsplit("/", 1)[1]
            if sid not in self.statuses and sid != "113500000000000150":
                return self._json({"error": "Record not found"}, 404)
            return self._json(self.statuses.get(sid) or self.notifications[0]["status"])
        if path == "/api/v1/statuses" and request.method == "POST":
            body = json.loads(request.content)
            key = request.headers.get("Idempotency-Key")
            self.posted.append({"body": body, "key": key})
            # Mastodon keeps the status of an Idempotency-Key for an hour and returns it again
            # (app/services/post_status_service.rb: idempotency_given?/idempotency_duplicate,
            # Redis, 3,600 s).
            if key is not None and key in self.by_key:
                return self._json(self.by_key[key])
            if body.get("in_reply_to_id") is None:  # a new status of the account
                limits = self.instance["configuration"]["statuses"]
                refused = service_rules.mastodon_status(body["status"],
                                                        limits["max_characters"],
                                                        limits["characters_reserved_per_url"])
                if refused:
                    return self._json(refused[1], refused[0])
                created = fixture("mastodon", "status_created.json")
                created["id"] = str(113600000000000000 + len(self.posted))
                created["url"] = f"https://social.example/@acme/{created['id']}"
                created["in_reply_to_id"] = None
                created["content"] = f"<p>{body['status']}</p>"
                if key is not None:
                    self.by_key[key] = created
                return self._json(created)
            if body["in_reply_to_id"] not in self.statuses:
                return self._json({"error": "Validation failed: reply to unknown status"}, 422)
            # The instance's limit (500 by default), in graphemes, links as 23, @user@domain as
            # @user: mastodon/mastodon app/validators/status_length_validator.rb; 422 as
            # Mastodon answers it (service_rules.py).
            limits = self.instance["configuration"]["statuses"]
            refused = service_rules.mastodon_status(body["status"], limits["max_characters"],
                                                    limits["characters_reserved_per_url"])
            if refused:
                return self._json(refused[1], refused[0])
            created = fixture("mastodon", "status_created.json")
            created["in_reply_to_id"] = body["in_reply_to_id"]
            return self._json(created)
        return self._json({"error": "Not found"}, 404)


@pytest.fixture
def fake() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
async def client(fake: FakeMastodon) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, terms: Any = None, streaming: bool = False,
          sleep: Any = None, clock: Any = None, hashtags: tuple[str, ...] = ()) -> Any:
    sources, responder = mastodon_net.components(
        client, base_url=BASE, token=TOKEN,
        terms=terms or fixed_terms("acme", SearchTerm("acme", "hashtag")),
        interval=60, streaming=streaming, sleep=sleep or NoSleep(),
        now=clock or (lambda: datetime(2026, 11, 20, 9, 0, tzinfo=UTC)), hashtags=hashtags)
    return sources, responder


async def test_first_poll_maps_search_hashtags_and_mentions(client: httpx.AsyncClient) -> None:
    (source,), _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    assert set(by_id) == {"113500000000000101", "113500000000000102", "113500000000000150"}
    kim = by_id["113500000000000101"]
    assert kim.author.handle == "kim@fosstodon.example"
    assert kim.author.name == "Kim 🌻" and kim.author.followers == 431
    assert (kim.likes, kim.reposts, kim.replies, kim.lang) == (7, 1, 2, "en")
    assert kim.text.endswith("Anyone else? https://status.acme.example/incidents/42")
    assert kim.url == "https://fosstodon.example/@kim/113500000000000101"
    assert kim.created_at == datetime(2026, 11, 20, 7, 58, 12, tzinfo=UTC)
    jonas = by_id["113500000000000102"]
    # A local account gets the instance's domain; the content warning stays visible.
    assert jonas.author.handle == "jonas@social.example" and jonas.author.name is None
    assert jonas.text.startswith("[CW: rant]\nAcme Kundendienst antwortet")
    assert by_id["113500000000000150"].author.handle == "lea@chaos.example"
    assert json.loads(batch.cursor or "") == {
        "search": {"acme": "113500000000000102"},
        "tags": {"acme": "113500000000000101"},
        "mentions": "34975861",
    }


async def test_next_poll_pages_through_everything_new_and_nothing_old(
    client: httpx.AsyncClient, fake: FakeMastodon
) -> None:
    (source,), _ = build(client)
    first = await source.poll_once(None)
    new_ids = [fake.add(f"acme update number {n}") for n in range(45)]
    second = await source.poll_once(first.cursor)
    assert sorted(p.external_id for p in second.posts) == sorted(new_ids)
    searches = [r for r in fake.requests if r.url.path == "/api/v2/search"]
    assert [r.url.params.get("min_id") for r in searches[1:]] == [
        "113500000000000102", new_ids[39]]  # the second page was short: done
    third = await source.poll_once(second.cursor)
    assert third.posts == []


async def test_rate_limit_waits_as_told_then_succeeds(
    client: httpx.AsyncClient, fake: FakeMastodon
) -> None:
    sleep = NoSleep()
    (source,), _ = build(client, sleep=sleep)
    fake.fail["/api/v2/search"] = [
        httpx.Response(429, json={"error": "Too many requests"}, headers={"Retry-After": "42"}),
        httpx.Response(503, text="<html>upstream down</html>"),
    ]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 3
    assert 42 <= sleep.calls[0] < 43  # Retry-After honoured (plus < 1 s jitter)
    assert len(sleep.calls) == 2  # and one jittered back-off after the 503


async def test_used_up_window_waits_until_reset(
    client: httpx.AsyncClient, fake: FakeMastodon
) -> None:
    sleep = NoSleep()
    (source,), _ = build(client, sleep=sleep)
    fake.remaining = 1  # the next answer says 0 left; reset at 09:05, it is 09:00
    await source.poll_once(None)
    assert sleep.calls[0] == pytest.approx(300)


async def test_malformed_and_own_statuses_are_skipped(
    client: httpx.AsyncClient, fake: FakeMastodon, caplog: pytest.LogCaptureFixture
) -> None:
    fake.statuses["113500000000000102"].pop("account")
    fake.add("acme: thanks for reaching out!", acct="acme", account_id="109300000000000001")
    (source,), _ = build(client)
    batch = await source.poll_once(None)
    assert {p.external_id for p in batch.posts} == {"113500000000000101", "113500000000000150"}
    assert "skipped a malformed status" in caplog.text


async def test_errors_do_not_stop_the_stream(client: httpx.AsyncClient, fake: FakeMastodon) -> None:
    sleep = NoSleep()
    (source,), _ = build(client, sleep=sleep)
    fake.fail["/api/v2/instance"] = [httpx.Response(500)] * 5
    batches = source.stream(None)
    batch = await anext(batches)
    assert len(batch.posts) == 3  # the round after the failed one
    await batches.aclose()


async def test_into_the_store_and_a_restart_repeats_nothing(
    client: httpx.AsyncClient, fake: FakeMastodon, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    (source,), _ = build(client, terms=store_terms(sqlite_store, "mastodon"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = stored(sqlite_store)
    assert sorted(v.mention.external_id for v in views) == [
        "113500000000000101", "113500000000000102", "113500000000000150"]
    assert {v.brand.name for v in views} == {"Acme"}
    saved = sqlite_store.cursor(source=source.name)
    assert saved is not None and json.loads(saved)["search"] == {"acme": "113500000000000102"}

    # A restart resumes from the saved cursor: one new post, nothing twice.
    fake.add("acme support was quick today")
    (again,), _ = build(client, terms=store_terms(sqlite_store, "mastodon"))
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    assert len(stored(sqlite_store)) == 4


async def test_a_changed_query_is_searched_at_the_next_poll(
    client: httpx.AsyncClient, fake: FakeMastodon, sqlite_store: Store, pipeline: Pipeline,
) -> None:
    (source,), _ = build(client, terms=store_terms(sqlite_store, "mastodon"))
    await source.poll_once(None)
    sqlite_store.set_brand_query(name="Acme", query="acme OR rocketco", actor="t")
    await source.poll_once(None)
    queries = {r.url.params["q"] for r in fake.requests if r.url.path == "/api/v2/search"}
    assert queries == {"acme", "rocketco"}


async def test_reply_from_the_console_reaches_the_right_status(
    client: httpx.AsyncClient, fake: FakeMastodon, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    (source,), responder = build(client, terms=store_terms(sqlite_store, "mastodon"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    kim = next(v for v in stored(sqlite_store)
               if v.mention.external_id == "113500000000000101")
    result = await console_reply(sqlite_store, {"mastodon": responder}, kim.mention.id,
                                 "Sorry! A fix is rolling out today.")
    assert result.ok, result.text
    assert "https://social.example/@acme/113500000000000200" in result.text
    (sent,) = fake.posted
    assert sent["body"] == {
        "status": "@kim@fosstodon.example Sorry! A fix is rolling out today.",
        "in_reply_to_id": "113500000000000101", "visibility": "public"}
    assert sent["key"].startswith(f"echtzeit-{kim.mention.id}-")
    (reply,) = sqlite_store.view(kim.mention.id).replies
    assert reply.state == ReplyState.SENT
    assert reply.network_reply_id == "113500000000000200"


async def test_refusals_and_unclear_outcomes(
    client: httpx.AsyncClient, fake: FakeMastodon, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    (source,), responder = build(client, terms=store_terms(sqlite_store, "mastodon"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    view = next(v for v in stored(sqlite_store)
                if v.mention.external_id == "113500000000000102")
    fake.fail["/api/v1/statuses"] = [
        httpx.Response(422, json={"error": "Validation failed: Text character limit exceeded"}),
        httpx.Response(502, text="Bad gateway"),
    ]
    refused = await console_reply(sqlite_store, {"mastodon": responder}, view.mention.id, "Hi")
    assert not refused.ok and "character limit" in refused.text
    unclear = await console_reply(sqlite_store, {"mastodon": responder}, view.mention.id, "Hi")
    assert not unclear.ok and "unclear" in unclear.text
    states = [r.state for r in sqlite_store.view(view.mention.id).replies]
    assert states == [ReplyState.FAILED, ReplyState.UNKNOWN]


async def test_length_follows_the_instance_configuration(
    client: httpx.AsyncClient, fake: FakeMastodon
) -> None:
    fake.instance["configuration"]["statuses"]["max_characters"] = 100
    (source,), responder = build(client)
    assert responder.check("x" * 101) is None  # not loaded yet: the documented default 500
    await source.poll_once(None)
    assert responder.check("x" * 101) == "mastodon allows 100 characters here, this reply has 101"
    # A link counts as 23 characters, a remote mention by its user name.
    link = "see https://example.com/" + "a" * 200
    assert mastodon_net.mastodon_length(link) == 4 + 23
    assert mastodon_net.mastodon_length("@kim@fosstodon.example hi") == len("@kim hi")
    assert responder.check("   ") == "the reply is empty"


async def test_follower_count_and_verify(client: httpx.AsyncClient) -> None:
    assert await mastodon_net.follower_count(client, BASE, TOKEN, "@acme") == 5120
    assert await mastodon_net.follower_count(client, BASE, TOKEN, "nobody") is None
    assert await mastodon_net.verify(client, BASE, TOKEN) == "@acme@social.example"
    with pytest.raises(Exception, match="401"):
        await mastodon_net.verify(client, BASE, "wrong-token")


# --- streaming ------------------------------------------------------------------------------


class FakeStreaming:
    """The instance's streaming WebSocket: checks the bearer token, records subscriptions,
    and sends what the test pushes, framed as Mastodon does."""

    def __init__(self) -> None:
        self.subscriptions: list[dict[str, Any]] = []
        self.subscribed = asyncio.Event()
        self.outbox: asyncio.Queue[str] = asyncio.Queue()
        self.connections = 0

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        if ws.request.headers.get("Authorization") != f"Bearer {TOKEN}":
            await ws.close(4001, "unauthorized")
            return
        self.connections += 1

        async def write() -> None:
            while True:
                await ws.send(await self.outbox.get())

        writer = asyncio.create_task(write())
        try:
            async for raw in ws:  # ends when the client closes
                self.subscriptions.append(json.loads(raw))
                if len(self.subscriptions) >= 3:
                    self.subscribed.set()
        finally:
            writer.cancel()

    def update(self, tag: str, status: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps({"stream": ["hashtag", tag], "event": "update",
                                           "payload": json.dumps(status)}))

    def notification(self, notification: dict[str, Any]) -> None:
        self.outbox.put_nowait(json.dumps({"stream": ["user:notification"],
                                           "event": "notification",
                                           "payload": json.dumps(notification)}))


async def test_stream_subscribes_catches_up_and_relays_live_posts(
    client: httpx.AsyncClient, fake: FakeMastodon
) -> None:
    streaming = FakeStreaming()
    async with serve(streaming.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        fake.instance["configuration"]["urls"]["streaming"] = f"ws://127.0.0.1:{port}"
        (poller, stream), _ = build(client, streaming=True, hashtags=("AcmeSupport",))
        batches = stream.stream(None)
        caught_up: Batch = await asyncio.wait_for(anext(batches), 10)
        # The REST catch-up after connecting: the hashtag timeline and the mentions.
        assert {p.external_id for p in caught_up.posts} == {
            "113500000000000101", "113500000000000150"}
        await asyncio.wait_for(streaming.subscribed.wait(), 10)
        assert {json.dumps(s, sort_keys=True) for s in streaming.subscriptions} >= {
            json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "acme"}, sort_keys=True),
            json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "acmesupport"},
                       sort_keys=True),
            json.dumps({"type": "subscribe", "stream": "user:notification"}, sort_keys=True),
        }
        live = copy.deepcopy(fake.statuses["113500000000000101"])
        live.update(id="113500000000000400", content="<p>#acme is back, thanks!</p>")
        streaming.outbox.put_nowait("not json at all")  # skipped, not fatal
        streaming.update("acme", live)
        got = await asyncio.wait_for(anext(batches), 10)
        assert [p.external_id for p in got.posts] == ["113500000000000400"]
        assert json.loads(got.cursor or "")["tags"]["acme"] == "113500000000000400"
        mention = fixture("mastodon", "notification_mention.json")
        mention["id"] = "34975900"
        mention["status"]["id"] = "113500000000000401"
        streaming.notification(mention)
        got = await asyncio.wait_for(anext(batches), 10)
        assert [p.external_id for p in got.posts] == ["113500000000000401"]
        assert json.loads(got.cursor or "")["mentions"] == "34975900"
        await batches.aclose()
    # With the stream on, the poller only searches.
    polled = await poller.poll_once(None)
    assert {p.external_id for p in polled.posts} == {"113500000000000101", "113500000000000102"}
    assert "tags" not in json.loads(polled.cursor or "")


def test_html_to_text_keeps_whole_links_and_breaks() -> None:
    text = html_to_text('<p>a &amp; b<br/>c</p><p>d <span class="invisible">https://</span>'
                        'x.example<script>alert(1)</script></p>')
    assert text == "a & b\nc\n\nd https://x.example"


def test_time_zone_of_created_at_is_kept() -> None:
    from integrations.networks.http_common import parse_time

    assert parse_time("2026-11-20T08:43:51+01:00") == datetime(2026, 11, 20, 7, 43, 51,
                                                                tzinfo=UTC)
    assert parse_time("2026-11-20T07:58:12.123456789Z").microsecond == 123456
    assert parse_time(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_time("2026-11-20T08:00:00+0000") - parse_time(
        "2026-11-20T08:00:00Z") == timedelta(0)
