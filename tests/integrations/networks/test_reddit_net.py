"""Reddit against a fake www.reddit.com (token endpoint) and oauth.reddit.com (listings,
comments) at the HTTP boundary, with listing shapes from tests/fixtures/reddit."""

from __future__ import annotations

import base64
import copy
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
from bot.store import Store
from integrations.networks import reddit_net
from integrations.networks.terms import SearchTerm, fixed_terms, store_terms
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

API = "https://oauth.reddit.com"
AUTH = "https://www.reddit.com"
UA = "python:acme-care:0.1 (by /u/AcmeSupport)"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeReddit:
    def __init__(self) -> None:
        self.search = fixture("reddit", "search_new.json")
        self.comments = fixture("reddit", "subreddit_comments.json")
        self.requests: list[httpx.Request] = []
        self.comment_posts: list[dict[str, list[str]]] = []
        self.comment_answer: Any = fixture("reddit", "comment_created.json")
        self.fail: dict[str, list[httpx.Response]] = {}
        self.tokens_issued = 0
        self.remaining = 600.0
        # Things deleted by their author or removed by the moderators: fullname -> which.
        self.gone: dict[str, str] = {}

    def add_post(self, n: int, title: str) -> str:
        child = copy.deepcopy(self.search["data"]["children"][0])
        child["data"].update(name=f"t3_new{n:04d}", id=f"new{n:04d}", title=title,
                             created_utc=1763626000.0 + n,
                             permalink=f"/r/smarthome/comments/new{n:04d}/x/")
        self.search["data"]["children"].insert(0, child)
        return str(child["data"]["name"])

    def _listing(self, listing: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
        children = listing["data"]["children"]
        start = 0
        if "after" in params:
            start = next(i for i, c in enumerate(children)
                         if c["data"]["name"] == params["after"]) + 1
        page = children[start:start + int(params["limit"])]
        after = page[-1]["data"]["name"] if start + len(page) < len(children) else None
        return {"kind": "Listing", "data": dict(listing["data"], children=page, after=after,
                                                dist=len(page))}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not request.headers.get("User-Agent", "").startswith("python:"):
            return httpx.Response(429, text="Too Many Requests")  # Reddit's answer to bots
        path = request.url.path
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if request.url.host == "www.reddit.com" and path == "/api/v1/access_token":
            expected = "Basic " + base64.b64encode(b"client-id:client-secret").decode()
            if request.headers.get("Authorization") != expected:
                return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
            form = parse_qs(request.content.decode())
            if form["grant_type"] == ["password"] and form.get("password") != ["hunter2"]:
                return httpx.Response(200, json={"error": "invalid_grant"})
            self.tokens_issued += 1
            return httpx.Response(200, json=fixture("reddit", "access_token.json"))
        token = fixture("reddit", "access_token.json")["access_token"]
        if request.headers.get("Authorization") != f"bearer {token}":
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        self.remaining -= 1
        headers = {"x-ratelimit-used": str(int(600 - self.remaining)),
                   "x-ratelimit-remaining": f"{self.remaining:.1f}",
                   "x-ratelimit-reset": "240"}
        params = request.url.params
        if path == "/search":
            return httpx.Response(200, json=self._listing(self.search, params), headers=headers)
        if path == "/r/smarthome/comments":
            return httpx.Response(200, json=self._listing(self.comments, params),
                                  headers=headers)
        if path == "/api/info":
            # GET /api/info?id=<fullnames>: a Listing of the things that exist; a deleted one
            # keeps its place with author and text "[deleted]", a removed one "[removed]".
            wanted = params["id"].split(",")
            found = [copy.deepcopy(c) for c in (self.search["data"]["children"]
                                                + self.comments["data"]["children"])
                     if c["data"]["name"] in wanted]
            for child in found:
                which = self.gone.get(child["data"]["name"])
                field = "body" if child["kind"] == "t1" else "selftext"
                if which == "deleted":
                    child["data"].update(author="[deleted]", **{field: "[deleted]"})
                    if child["kind"] == "t3":
                        child["data"]["removed_by_category"] = "deleted"
                elif which == "removed":
                    child["data"][field] = "[removed]"
                    if child["kind"] == "t3":
                        child["data"]["removed_by_category"] = "moderator"
            return httpx.Response(200, json={"kind": "Listing", "data": {
                "after": None, "before": None, "dist": len(found), "children": found}},
                headers=headers)
        if path == "/api/comment":
            form = parse_qs(request.content.decode())
            self.comment_posts.append(form)
            # 10,000 characters: reddit-archive/reddit r2/r2/controllers/api.py POST_comment
            # (VMarkdownLength); refused with 200 and json.errors TOO_LONG (service_rules.py).
            errors = service_rules.reddit_comment_errors((form.get("text") or [""])[0])
            if errors:
                return httpx.Response(200, json={"json": {"errors": errors}}, headers=headers)
            return httpx.Response(200, json=self.comment_answer, headers=headers)
        if path == "/api/v1/me":
            return httpx.Response(200, json=fixture("reddit", "me.json"), headers=headers)
        if path == "/user/AcmeSupport/about":
            return httpx.Response(200, json=fixture("reddit", "user_about.json"),
                                  headers=headers)
        return httpx.Response(404, json={"message": "Not Found", "error": 404})


@pytest.fixture
def fake() -> FakeReddit:
    return FakeReddit()


@pytest.fixture
async def client(fake: FakeReddit) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, terms: Any = None, sleep: Any = None,
          password: str | None = "hunter2", username: str | None = "AcmeSupport") -> Any:
    return reddit_net.components(
        client, api_url=API, auth_url=AUTH, client_id="client-id",
        client_secret="client-secret", user_agent=UA, username=username, password=password,
        terms=terms or fixed_terms("acme", SearchTerm("acme hub", "phrase")), interval=60,
        subreddits=["r/smarthome"], sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_search_and_subreddit_comments_become_posts(
    client: httpx.AsyncClient, fake: FakeReddit
) -> None:
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    # The deleted post is left out quietly; comments come from the watched subreddit.
    assert list(by_id) == ["t3_1gvk9qa", "t3_1gvk4mf", "t1_lz9a3xq", "t1_lz9a0k2"]
    hub = by_id["t3_1gvk9qa"]
    assert hub.text.startswith("Acme Hub keeps losing devices after update\n\nSince the 4.2")
    assert hub.url == ("https://www.reddit.com/r/smarthome/comments/1gvk9qa/"
                       "acme_hub_keeps_losing_devices_after_update/")
    assert (hub.likes, hub.replies, hub.reposts) == (57, 23, 1)
    assert hub.author.handle == "wired_wendy"
    assert hub.created_at == datetime.fromtimestamp(1763625540, tz=UTC)
    link = by_id["t3_1gvk4mf"]
    assert link.text == "Acme schließt Werk in Leipzig – 300 Stellen betroffen"
    comment = by_id["t1_lz9a3xq"]
    assert comment.in_reply_to == "t3_1gvj7aa" and comment.likes == 14
    assert json.loads(batch.cursor or "") == {
        "search": {'acme OR "acme hub"': 1763625540.0},
        "comments": {"smarthome": 1763625800.0}}
    search = next(r for r in fake.requests if r.url.path == "/search")
    assert search.url.params["sort"] == "new" and search.url.params["limit"] == "100"
    assert search.headers["User-Agent"] == UA


async def test_next_poll_pages_back_to_the_cursor(
    client: httpx.AsyncClient, fake: FakeReddit
) -> None:
    source, _, _, _ = build(client)
    first = await source.poll_once(None)
    new = [fake.add_post(n, f"acme thing {n}") for n in range(150)]
    second = await source.poll_once(first.cursor)
    got = [p.external_id for p in second.posts if p.external_id.startswith("t3_")]
    # Everything new, plus the boundary post (same second; the pipeline drops it).
    assert set(new) <= set(got) and set(got) - set(new) == {"t3_1gvk9qa"}
    afters = [r.url.params.get("after") for r in fake.requests if r.url.path == "/search"]
    assert afters[1:] == [None, "t3_new0050"]
    third = await source.poll_once(second.cursor)
    assert {p.external_id for p in third.posts} <= {"t3_new0149", "t1_lz9a3xq"}


async def test_used_up_window_and_429_wait_for_the_reset(
    client: httpx.AsyncClient, fake: FakeReddit
) -> None:
    sleep = NoSleep()
    source, _, _, _ = build(client, sleep=sleep)
    fake.fail["/r/smarthome/comments"] = [httpx.Response(
        429, text="Too Many Requests", headers={"x-ratelimit-remaining": "0",
                                                "x-ratelimit-reset": "75"})]
    fake.remaining = 1.0  # the first answer says 0.0 remaining, reset in 240 s
    batch = await source.poll_once(None)
    assert len(batch.posts) == 4
    assert sleep.calls[0] == 240  # waited for the window before the next request
    assert 75 <= sleep.calls[1] < 76  # the 429: its reset, plus jitter


async def test_wrong_password_is_reported(client: httpx.AsyncClient) -> None:
    source, _, api, token = build(client, password="wrong")
    with pytest.raises(Exception, match="invalid_grant"):
        await source.poll_once(None)
    with pytest.raises(Exception, match="invalid_grant"):
        await reddit_net.verify(api, token)


async def test_app_only_reads_without_an_account(client: httpx.AsyncClient,
                                                 fake: FakeReddit) -> None:
    source, responder, api, token = build(client, password=None, username=None)
    assert responder is None
    batch = await source.poll_once(None)
    assert len(batch.posts) == 4
    grant = parse_qs(fake.requests[0].content.decode())
    assert grant == {"grant_type": ["client_credentials"]}
    assert await reddit_net.verify(api, token) == "app-only (client credentials; read-only)"


async def test_into_the_store_and_a_comment_reply_from_the_console(
    client: httpx.AsyncClient, fake: FakeReddit, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, responder, _, _ = build(client, terms=store_terms(sqlite_store, "reddit"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    # "neat_freak" never says acme: the pipeline drops that comment.
    assert set(views) == {"t3_1gvk9qa", "t3_1gvk4mf", "t1_lz9a3xq"}
    hub = views["t3_1gvk9qa"].mention
    result = await console_reply(sqlite_store, {"reddit": responder}, hub.id,
                                 "Sorry about that! Please DM us your ticket number.")
    assert result.ok, result.text
    assert result.text.endswith("/r/smarthome/comments/1gvk9qa/"
                                "acme_hub_keeps_losing_devices_after_update/lz9c7vb/")
    assert fake.comment_posts == [{"thing_id": ["t3_1gvk9qa"], "api_type": ["json"],
                                   "text": ["Sorry about that! Please DM us your ticket number."]}]
    (reply,) = sqlite_store.view(hub.id).replies
    assert (reply.state, reply.network_reply_id) == (ReplyState.SENT, "t1_lz9c7vb")

    # Replying to the comment addresses the comment's fullname.
    comment = views["t1_lz9a3xq"].mention
    result = await console_reply(sqlite_store, {"reddit": responder}, comment.id, "Hi!")
    assert result.ok and fake.comment_posts[1]["thing_id"] == ["t1_lz9a3xq"]

    # Reddit's own refusals come back as 200 with json.errors.
    fake.comment_answer = fixture("reddit", "comment_ratelimit.json")
    result = await console_reply(sqlite_store, {"reddit": responder}, hub.id, "Again")
    assert not result.ok and "RATELIMIT" in result.text
    assert sqlite_store.view(hub.id).replies[-1].state == ReplyState.FAILED


async def test_length_limit_and_follower_count(client: httpx.AsyncClient) -> None:
    _, responder, api, token = build(client)
    assert responder.check("x" * 10_000) is None
    assert responder.check("x" * 10_001) == "reddit allows 10000 characters, this reply has 10001"
    assert await reddit_net.follower_count(api, "AcmeSupport") == 1834
    assert await reddit_net.follower_count(api, "nobody") is None
    assert await reddit_net.verify(api, token) == "u/AcmeSupport"


async def test_reddit_refuses_an_over_long_comment_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeReddit, sqlite_store: Store,
) -> None:
    """reply() sends what it is given (the length check is responder.check, run by /reply);
    Reddit's TOO_LONG, a 200 with json.errors, comes back as ReplyRejected."""
    _, responder, _, _ = build(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "reddit", "t3_1gvk9qa")).mention
    with pytest.raises(ReplyRejected, match=r"^TOO_LONG: this is too long \(max: 10000\)$"):
        await responder.reply(mention=mention, text="x" * 10_001)
    assert len(fake.comment_posts) == 1  # it reached Reddit, which said no
    posted = await responder.reply(mention=mention, text="ü" * 10_000)  # characters, not bytes
    assert posted.id == "t1_lz9c7vb"


async def test_the_check_refuses_an_over_long_comment_before_sending(
    client: httpx.AsyncClient, fake: FakeReddit, sqlite_store: Store,
) -> None:
    _, responder, _, _ = build(client)
    mid = stored_mention(sqlite_store, "reddit", "t3_1gvk9qa")
    result = await console_reply(sqlite_store, {"reddit": responder}, mid, "x" * 10_001)
    assert not result.ok
    assert "not sent: reddit allows 10000 characters, this reply has 10001" in result.text
    assert fake.comment_posts == [] and sqlite_store.view(mid).replies == []
