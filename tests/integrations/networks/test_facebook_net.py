"""Facebook Pages against a fake Graph API (httpx.MockTransport), and Meta's webhook against a
real aiohttp server on 127.0.0.1 with signed deliveries."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.runner import pump
from bot.store import Store
from integrations.networks import facebook_net
from integrations.networks.meta_common import MetaWebhook
from integrations.networks.push import PushSource, WebhookServer
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
    stored_mention,
)

GRAPH = "https://graph.example/v21.0"
PAGE = "104882255478301"
TOKEN = "EAAGpage-token"
APP_SECRET = "meta-app-secret"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeGraph:
    def __init__(self) -> None:
        self.feed = fixture("facebook", "page_feed.json")
        self.comments = fixture("facebook", "post_comments.json")
        self.tagged = fixture("facebook", "tagged.json")
        self.requests: list[httpx.Request] = []
        self.written: list[tuple[str, dict[str, list[str]]]] = []
        self.fail: dict[str, list[httpx.Response]] = {}
        self.permissions = {"pages_read_engagement", "pages_manage_engagement"}
        self.hidden: dict[str, bool] = {}

    def _hide(self, target: str, form: dict[str, list[str]]) -> httpx.Response:
        """POST /{comment-id}?is_hidden=...: the Page's comments only, with the permission."""
        if "pages_manage_engagement" not in self.permissions:
            status, body = service_rules.graph_permission_error("pages_manage_engagement")
            return httpx.Response(status, json=body)
        refused = service_rules.graph_hide_param(form, "is_hidden")
        if refused:
            return httpx.Response(refused[0], json=refused[1])
        comments = {c["id"]: c for c in self.comments["data"]}
        if target not in comments:
            return httpx.Response(400, json={"error": {
                "message": f"(#100) Unsupported post request. Object with ID '{target}' "
                           "does not exist or cannot be hidden", "type": "GraphMethodException",
                "code": 100, "fbtrace_id": "z"}})
        self.hidden[target] = form["is_hidden"][0] == "true"
        return httpx.Response(200, json={"success": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/v21.0")
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(400, json={"error": {
                "message": "Invalid OAuth access token - Cannot parse access token",
                "type": "OAuthException", "code": 190, "fbtrace_id": "x"}})
        params = request.url.params
        if request.method == "POST" and path.count("/") == 1:
            form = parse_qs(request.content.decode())
            self.written.append((path.strip("/"), form))
            return self._hide(path.strip("/"), form)
        if request.method == "POST" and path.endswith("/comments"):
            target = path.removesuffix("/comments").strip("/")
            form = parse_qs(request.content.decode())
            self.written.append((target, form))
            # 8,000 characters (no number in Meta's reference); 400 code 100 (service_rules.py).
            refused = service_rules.graph_message((form.get("message") or [""])[0],
                                                  service_rules.FACEBOOK_MAX_COMMENT)
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            known = {i["id"] for i in self.feed["data"] + self.comments["data"]}
            if target not in known:
                return httpx.Response(400, json={"error": {
                    "message": "(#100) Unsupported post request. Object with ID "
                               f"'{target}' does not exist", "type": "GraphMethodException",
                    "code": 100, "fbtrace_id": "y"}})
            return httpx.Response(200, json={"id": f"{target.split('_')[-1]}_777000111"})
        if request.method == "POST" and path == f"/{PAGE}/feed":
            # A Page post with the page token: POST /{page-id}/feed, message as form data;
            # answers {"id": "{page-id}_{post-id}"} (Graph API reference, Page Feed).
            form = parse_qs(request.content.decode())
            self.written.append((PAGE, form))
            refused = service_rules.graph_message((form.get("message") or [""])[0],
                                                  service_rules.FACEBOOK_MAX_POST)
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            post_id = 1099900011122300 + len(self.written)
            return httpx.Response(200, json={"id": f"{PAGE}_{post_id}"})
        if path == f"/{PAGE}/feed":
            return httpx.Response(200, json=self.feed)
        if path == f"/{PAGE}/tagged":
            data = self.tagged["data"]
            if "since" in params:
                data = [d for d in data
                        if (facebook_net._stamp(d) or 0) >= int(params["since"])]
            return httpx.Response(200, json=dict(self.tagged, data=data))
        if path == f"/{PAGE}_911874523980045/comments":
            return httpx.Response(200, json=self.comments)
        if path.endswith("/comments"):
            return httpx.Response(200, json={"data": []})
        if path == f"/{PAGE}":
            return httpx.Response(200, json=fixture("facebook", "page.json"))
        if path == "/100077766655544_1099900011122233":
            return httpx.Response(200, json=fixture("facebook", "mentioning_post.json"))
        return httpx.Response(404, json={"error": {"message": "Unknown path", "code": 803}})


@pytest.fixture
def fake() -> FakeGraph:
    return FakeGraph()


@pytest.fixture
async def client(fake: FakeGraph) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, sleep: Any = None) -> Any:
    return facebook_net.components(client, graph_url=GRAPH, page_id=PAGE, token=TOKEN, interval=60,
                              sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_feed_comments_and_tags_become_posts(client: httpx.AsyncClient,
                                                   fake: FakeGraph) -> None:
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    # The page's own posts are not mentions; comments on them and visitor posts are.
    assert list(by_id) == ["104882255478301_912003417301122",
                           "911874523980045_1203348811224455",
                           "911874523980045_1203301122334455",
                           "100042339865512_1098822334455667"]
    sabine = by_id["104882255478301_912003417301122"]
    assert (sabine.author.handle, sabine.author.name) == ("7301122558812345", "Sabine Krüger")
    assert (sabine.likes, sabine.replies) == (2, 0)
    assert sabine.created_at == datetime(2026, 11, 20, 8, 12, 40, tzinfo=UTC)
    jonas = by_id["911874523980045_1203348811224455"]
    assert jonas.in_reply_to == "104882255478301_911874523980045" and jonas.likes == 4
    assert jonas.url.endswith("?comment_id=1203348811224455")
    def unix(hour: int, minute: int, second: int) -> int:
        return int(datetime(2026, 11, 20, hour, minute, second, tzinfo=UTC).timestamp())

    assert json.loads(batch.cursor or "") == {
        "feed": unix(8, 12, 40), "comments": unix(8, 31, 9), "tagged": unix(6, 40, 0)}


async def test_next_poll_reads_only_new_activity(client: httpx.AsyncClient,
                                                 fake: FakeGraph) -> None:
    source, _, _, _ = build(client)
    first = await source.poll_once(None)
    second = await source.poll_once(first.cursor)
    assert second.posts == []
    # Only the post with activity since the cursor has its comments read again; none has.
    comment_reads = [r for r in fake.requests if r.url.path.endswith("/comments")]
    assert len(comment_reads) == 3  # first poll: all three posts, second: none
    new = copy.deepcopy(fake.comments["data"][0])
    new.update(id="911874523980045_1203399999999999", message="Acme, is there a discount?",
               created_time="2026-11-20T08:50:00+0000")
    fake.comments["data"].insert(0, new)
    fake.feed["data"][1]["updated_time"] = "2026-11-20T08:50:00+0000"
    third = await source.poll_once(second.cursor)
    assert [p.external_id for p in third.posts] == ["911874523980045_1203399999999999"]


async def test_graph_throttling_waits_for_the_regain_time(client: httpx.AsyncClient,
                                                          fake: FakeGraph) -> None:
    sleep = NoSleep()
    source, _, _, _ = build(client, sleep=sleep)
    usage = {PAGE: [{"type": "pages", "call_count": 100, "total_cputime": 30, "total_time": 40,
                     "estimated_time_to_regain_access": 7}]}
    fake.fail[f"/{PAGE}/feed"] = [httpx.Response(
        400, json=fixture("facebook", "throttled.json"),
        headers={"X-Business-Use-Case-Usage": json.dumps(usage)})]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 4
    assert 420 <= sleep.calls[0] < 421


async def test_an_invalid_token_fails_without_retrying(client: httpx.AsyncClient) -> None:
    sleep = NoSleep()
    _, _, _, api = facebook_net.components(client, graph_url=GRAPH, page_id=PAGE, token="expired",
                                      interval=60, sleep=sleep)
    with pytest.raises(Exception, match="Invalid OAuth access token"):
        await facebook_net.verify(api, PAGE)
    assert sleep.calls == []


async def test_into_the_store_and_a_comment_reply(
    client: httpx.AsyncClient, fake: FakeGraph, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, responder, _, _ = build(client)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v.mention for v in stored(sqlite_store)}
    # Jonas never names Acme; the others do.
    assert set(views) == {"104882255478301_912003417301122", "911874523980045_1203301122334455",
                          "100042339865512_1098822334455667"}
    mara = views["911874523980045_1203301122334455"]
    result = await console_reply(sqlite_store, {"facebook": responder}, mara.id,
                                 "So sorry, Mara! Please send us a message, we'll replace it.")
    assert result.ok, result.text
    assert fake.written == [("911874523980045_1203301122334455",
                             {"message": ["So sorry, Mara! Please send us a message, "
                                          "we'll replace it."]})]
    assert result.text.endswith("https://www.facebook.com/1203301122334455_777000111")
    leon = views["100042339865512_1098822334455667"]
    result = await console_reply(sqlite_store, {"facebook": responder}, leon.id, "Thanks!")
    assert not result.ok and "does not exist" in result.text
    assert sqlite_store.view(leon.id).replies[0].state == ReplyState.FAILED


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


async def test_meta_webhook_handshake_signature_and_delivery(
    client: httpx.AsyncClient, pipeline: Pipeline, sqlite_store: Store
) -> None:
    _, _, page_hook, _ = build(client)
    push = PushSource("facebook-webhook")
    meta = MetaWebhook(app_secret=APP_SECRET, verify_token="my-verify-token", max_bytes=65536)
    meta.on("page", page_hook, push)
    server = WebhookServer(host="127.0.0.1", port=0, routes=meta.routes(), max_bytes=65536)
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(stop))
    feeding = asyncio.create_task(pump(push, pipeline))
    try:
        await asyncio.wait_for(server.ready.wait(), 5)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            ok = await http.get("/meta", params={"hub.mode": "subscribe",
                                                 "hub.verify_token": "my-verify-token",
                                                 "hub.challenge": "1158201444"})
            assert (ok.status_code, ok.text) == (200, "1158201444")
            wrong = await http.get("/meta", params={"hub.mode": "subscribe",
                                                    "hub.verify_token": "guess",
                                                    "hub.challenge": "1"})
            assert wrong.status_code == 403

            body = json.dumps(fixture("facebook", "webhook_feed_comment.json")).encode()
            forged = await http.post("/meta", content=body, headers=signed(body, "not-it"))
            assert forged.status_code == 401
            delivered = await http.post("/meta", content=body, headers=signed(body))
            assert delivered.status_code == 200 and delivered.json() == {"stored": 1}

            body = json.dumps(fixture("facebook", "webhook_mention.json")).encode()
            delivered = await http.post("/meta", content=body, headers=signed(body))
            assert delivered.json() == {"stored": 1}
            other = json.dumps({"object": "user", "entry": []}).encode()
            assert (await http.post("/meta", content=other, headers=signed(other))).json() == {
                "ignored": "user"}
    finally:
        stop.set()
        feeding.cancel()
        await asyncio.gather(serving, feeding, return_exceptions=True)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    petra = views["911874523980045_1203399900011122"]
    assert petra.author.name == "Petra Hahn"
    assert petra.mention.in_reply_to == "104882255478301_911874523980045"
    assert petra.mention.url == "https://www.facebook.com/104882255478301/posts/911874523980045"
    ute = views["100077766655544_1099900011122233"]
    assert ute.mention.text == "Thanks Acme for the quick repair service!"


async def test_followers(client: httpx.AsyncClient) -> None:
    _, responder, _, api = build(client)
    assert await facebook_net.follower_count(api, PAGE) == 20411
    assert await facebook_net.verify(api, PAGE) == f"page Acme ({PAGE})"
    assert responder.check("x" * 8001) == "facebook allows 8000 characters, this reply has 8001"


async def test_the_graph_api_refuses_an_over_long_comment_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeGraph, sqlite_store: Store,
) -> None:
    """reply() sends what it is given (the length check is responder.check, run by /reply);
    Graph's 400 (code 100, OAuthException) comes back as ReplyRejected with its message."""
    _, responder, _, _ = build(client)
    mention = sqlite_store.view(stored_mention(
        sqlite_store, "facebook", "911874523980045_1203301122334455")).mention
    with pytest.raises(ReplyRejected, match=r"^HTTP 400: \(#100\) Param message must be at "
                                            r"most 8000 characters long$"):
        await responder.reply(mention=mention, text="x" * 8_001)
    assert len(fake.written) == 1  # it reached the Graph API, which said no
    await responder.reply(mention=mention, text="x" * 8_000)
    assert len(fake.written) == 2


async def test_the_check_refuses_an_over_long_comment_before_sending(
    client: httpx.AsyncClient, fake: FakeGraph, sqlite_store: Store,
) -> None:
    _, responder, _, _ = build(client)
    mid = stored_mention(sqlite_store, "facebook", "911874523980045_1203301122334455")
    result = await console_reply(sqlite_store, {"facebook": responder}, mid, "x" * 8_001)
    assert not result.ok
    assert "not sent: facebook allows 8000 characters, this reply has 8001" in result.text
    assert fake.written == [] and not sqlite_store.view(mid).replies
