"""Instagram against a fake Graph API: polled comments and tags, webhook mentions read back
through mentioned_comment / mentioned_media, and the three kinds of replies."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.runner import pump
from bot.store import Store
from integrations.networks import instagram_net
from integrations.networks.push import PushSource
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
IG = "17841405309211844"
TOKEN = "EAAGinstagram-token"


class FakeInstagramGraph:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.written: list[tuple[str, dict[str, list[str]]]] = []
        self.permissions = {"instagram_basic", "instagram_manage_comments"}
        self.hidden: dict[str, bool] = {}

    def _hide(self, target: str, form: dict[str, list[str]]) -> httpx.Response:
        """POST /{ig-comment-id}?hide=...: comments on the account's media, with the
        permission."""
        if "instagram_manage_comments" not in self.permissions:
            status, body = service_rules.graph_permission_error("instagram_manage_comments",
                                                                code=10)
            return httpx.Response(status, json=body)
        refused = service_rules.graph_hide_param(form, "hide")
        if refused:
            return httpx.Response(refused[0], json=refused[1])
        ids = {c["id"] for c in fixture("instagram", "comments.json")["data"]}
        if target not in ids:
            return httpx.Response(400, json={"error": {
                "message": "(#100) The comment cannot be hidden", "type": "OAuthException",
                "code": 100}})
        self.hidden[target] = form["hide"][0] == "true"
        return httpx.Response(200, json={"success": True})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(400, json={"error": {"message": "Invalid OAuth access token",
                                                       "type": "OAuthException", "code": 190}})
        path = request.url.path.removeprefix("/v21.0")
        fields = request.url.params.get("fields", "")
        if request.method == "POST":
            form = parse_qs(request.content.decode())
            self.written.append((path, form))
            if path.count("/") == 1 and "message" not in form:
                return self._hide(path.strip("/"), form)
            # 2,200 characters (no number in Meta's reference); 400 code 100
            # (service_rules.py).
            refused = service_rules.graph_message((form.get("message") or [""])[0],
                                                  service_rules.INSTAGRAM_MAX_COMMENT)
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            if path == "/17858893269000099/replies":
                return httpx.Response(400, json={"error": {
                    "message": "(#100) The comment was deleted", "code": 100}})
            return httpx.Response(200, json={"id": "17999000111222333"})
        if path == f"/{IG}":
            if fields.startswith("mentioned_comment.comment_id(17887498072083521)"):
                return httpx.Response(200, json=fixture("instagram", "mentioned_comment.json"))
            if fields.startswith("mentioned_media.media_id(17995511223344001)"):
                return httpx.Response(200, json=fixture("instagram", "mentioned_media.json"))
            match = re.fullmatch(r"business_discovery\.username\((\w[\w.]*)\)\{followers_count\}",
                                 fields)
            if match:
                if match.group(1) != "clean.carla":
                    return httpx.Response(400, json={"error": {
                        "message": "Invalid user id", "code": 110}})
                return httpx.Response(200, json={"business_discovery": {
                    "followers_count": 5120, "id": "17841400000000001"}, "id": IG})
            return httpx.Response(200, json=fixture("instagram", "me.json"))
        if path == "/17920112008063024":
            return httpx.Response(200, json=fixture("instagram", "media.json")["data"][0])
        if path == f"/{IG}/media":
            return httpx.Response(200, json=fixture("instagram", "media.json"))
        if path == f"/{IG}/tags":
            return httpx.Response(200, json=fixture("instagram", "tags.json"))
        if path == "/17920112008063024/comments":
            assert "replies{" in fields
            return httpx.Response(200, json=fixture("instagram", "comments.json"))
        if path.endswith("/comments"):
            return httpx.Response(200, json={"data": []})
        return httpx.Response(404, json={"error": {"message": "Unknown path", "code": 803}})


@pytest.fixture
def fake() -> FakeInstagramGraph:
    return FakeInstagramGraph()


@pytest.fixture
async def client(fake: FakeInstagramGraph) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient) -> Any:
    return instagram_net.components(client, graph_url=GRAPH, user_id=IG, token=TOKEN, interval=60,
                               sleep=NoSleep())


async def test_comments_on_own_media_and_tags(client: httpx.AsyncClient,
                                              fake: FakeInstagramGraph) -> None:
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    # The account's own answer is left out; media without comments are not read.
    assert list(by_id) == ["17858893269000001", "17858893269000002", "tag:18011223344556677"]
    klara = by_id["17858893269000001"]
    assert klara.text == ("Is the lid still plastic? Mine cracked on the K1 😕\n\n"
                          "(on: Meet the Acme K2 ☕ Boils in 90 seconds. #acme #kettle)")
    assert (klara.author.handle, klara.likes) == ("kaffee.klara", 6)
    assert klara.url == "https://www.instagram.com/p/DCk2AcmeK2a/"
    assert by_id["17858893269000002"].in_reply_to == "17858893269000001"
    assert by_id["tag:18011223344556677"].url == "https://www.instagram.com/p/DCbeaBrkfst/"
    assert not any(r.url.path.endswith("17920112008060000/comments") for r in fake.requests)
    again = await source.poll_once(batch.cursor)
    assert again.posts == []


async def test_webhook_mentions_are_read_back(client: httpx.AsyncClient,
                                              pipeline: Pipeline, sqlite_store: Store) -> None:
    sqlite_store.set_brand_query(name="Acme", query="acme OR @acme_official", actor="t")
    _, _, hook, _ = build(client)
    push = PushSource("instagram-webhook")
    posts = await hook(fixture("instagram", "webhook_mentions.json")["entry"])
    assert [p.external_id for p in posts] == [
        "mention-comment:17887498072083520:17887498072083521",
        "mention-media:17995511223344001"]
    assert posts[0].url == "https://www.instagram.com/p/DCninaUnbx/"
    assert posts[1].text == "Best descaler tip ever, thanks @acme_official!"

    # A comment webhook on the account's media: the media's caption and link are read once.
    comment = {"field": "comments", "value": {
        "from": {"id": "17841400000000009", "username": "acme.fan"},
        "media": {"id": "17920112008063024", "media_product_type": "FEED"},
        "id": "17858893269000050", "text": "Where can I buy the K2?",
        "timestamp": "2026-11-20T09:03:00+0000"}}
    (fan,) = await hook([{"id": IG, "time": 1795164100, "changes": [comment]}])
    assert fan.text.endswith("(on: Meet the Acme K2 ☕ Boils in 90 seconds. #acme #kettle)")

    feeding = asyncio.create_task(pump(push, pipeline))
    try:
        assert await push.push([*posts, fan], within=10)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
    assert len(stored(sqlite_store)) == 3


async def test_into_the_store_and_each_kind_of_reply(
    client: httpx.AsyncClient, fake: FakeInstagramGraph, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate,
) -> None:
    sqlite_store.set_brand_query(name="Acme", query="acme OR @acme_official", actor="t")
    source, responder, hook, _ = build(client)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    push = PushSource("instagram-webhook")
    posts = await hook(fixture("instagram", "webhook_mentions.json")["entry"])
    feeding = asyncio.create_task(pump(push, pipeline))
    try:
        assert await push.push(posts, within=10)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
    views = {v.mention.external_id: v.mention for v in stored(sqlite_store)}
    assert set(views) == {"17858893269000001", "17858893269000002", "tag:18011223344556677",
                          "mention-comment:17887498072083520:17887498072083521",
                          "mention-media:17995511223344001"}
    responders = {"instagram": responder}

    ulf = views["17858893269000002"]
    result = await console_reply(sqlite_store, responders, ulf.id, "Stainless steel now!")
    assert result.ok, result.text
    nina = views["mention-comment:17887498072083520:17887498072083521"]
    result = await console_reply(sqlite_store, responders, nina.id, "Sorry Nina, DM us!")
    assert result.ok, result.text
    carla = views["mention-media:17995511223344001"]
    result = await console_reply(sqlite_store, responders, carla.id, "Thanks Carla!")
    assert result.ok, result.text
    assert fake.written == [
        # One level of threads: the reply to Ulf's reply goes under Klara's comment.
        ("/17858893269000001/replies", {"message": ["Stainless steel now!"]}),
        (f"/{IG}/mentions", {"media_id": ["17887498072083520"],
                             "comment_id": ["17887498072083521"],
                             "message": ["Sorry Nina, DM us!"]}),
        (f"/{IG}/mentions", {"media_id": ["17995511223344001"], "message": ["Thanks Carla!"]}),
    ]
    bea = views["tag:18011223344556677"]
    result = await console_reply(sqlite_store, responders, bea.id, "Enjoy!")
    assert not result.ok and "does not allow comments on media you are tagged in" in result.text
    assert len(fake.written) == 3
    assert [r.state for r in sqlite_store.view(bea.id).replies] == [ReplyState.FAILED]


async def test_followers_verify_and_limits(client: httpx.AsyncClient) -> None:
    _, responder, _, api = build(client)
    assert await instagram_net.follower_count(api, IG) == 88120
    assert await instagram_net.follower_count(api, IG, "clean.carla") == 5120
    assert await instagram_net.follower_count(api, IG, "private.person") is None
    assert await instagram_net.verify(api, IG) == f"@acme_official ({IG})"
    assert responder.check("x" * 2201) == "instagram allows 2200 characters, this reply has 2201"
    assert responder.check("#a " * 31) == "instagram allows 30 hashtags in a comment"
    assert json.dumps(responder.check("ok")) == "null"


@pytest.mark.parametrize(("external_id", "path"), [
    ("17858893269000001", "/17858893269000001/replies"),
    ("mention-comment:17887498072083520:17887498072083521", f"/{IG}/mentions"),
    ("mention-media:17995511223344001", f"/{IG}/mentions"),
])
async def test_the_graph_api_refuses_an_over_long_reply_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeInstagramGraph, sqlite_store: Store,
    external_id: str, path: str,
) -> None:
    """reply() sends what it is given (the length check is responder.check, run by /reply);
    on every kind of reply Graph's 400 (code 100) comes back as ReplyRejected."""
    _, responder, _, _ = build(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "instagram", external_id)).mention
    with pytest.raises(ReplyRejected, match=r"^HTTP 400: \(#100\) Param message must be at "
                                            r"most 2200 characters long$"):
        await responder.reply(mention=mention, text="x" * 2_201)
    await responder.reply(mention=mention, text="x" * 2_200)
    assert [p for p, _ in fake.written] == [path, path]  # both reached Instagram


async def test_the_check_refuses_an_over_long_reply_before_sending(
    client: httpx.AsyncClient, fake: FakeInstagramGraph, sqlite_store: Store,
) -> None:
    _, responder, _, _ = build(client)
    mid = stored_mention(sqlite_store, "instagram", "17858893269000001")
    result = await console_reply(sqlite_store, {"instagram": responder}, mid, "x" * 2_201)
    assert not result.ok
    assert "not sent: instagram allows 2200 characters, this reply has 2201" in result.text
    assert fake.written == [] and not sqlite_store.view(mid).replies
