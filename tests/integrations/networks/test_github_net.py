"""GitHub against a fake REST + GraphQL API at the HTTP boundary."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import github_net
from integrations.networks.terms import fixed_terms, store_terms
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

API = "https://api.github.example"
TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeGitHub:
    def __init__(self) -> None:
        self.issues: list[dict[str, Any]] = fixture("github", "search_issues.json")["items"]
        self.discussions: list[dict[str, Any]] = fixture(
            "github", "discussions.json")["data"]["search"]["nodes"]
        self.requests: list[httpx.Request] = []
        self.comments: list[tuple[str, dict[str, Any]]] = []
        self.graphql: list[dict[str, Any]] = []
        self.fail: dict[str, list[httpx.Response]] = {}
        self.locked: set[str] = set()

    def add_issue(self, n: int, title: str) -> str:
        item = copy.deepcopy(self.issues[0])
        item.update(number=1000 + n, title=title, body="",
                    html_url=f"https://github.com/homelab-tools/sensor-bridge/issues/{1000 + n}",
                    created_at=f"2026-11-20T08:{n // 60:02d}:{n % 60:02d}Z")
        self.issues.append(item)
        return f"homelab-tools/sensor-bridge#{1000 + n}"

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        q = params["q"]
        term = q.split(" in:title,body")[0].strip('"').lower()
        assert " is:issue" in q
        hits = [i for i in self.issues
                if term in f"{i['title']} {i.get('body') or ''}".lower()]
        since = re.search(r"created:>=(\S+)", q)
        if since:
            hits = [i for i in hits if i["created_at"] >= since.group(1)]
        hits.sort(key=lambda i: i["created_at"], reverse=True)
        per, page = int(params["per_page"]), int(params["page"])
        return httpx.Response(200, json={
            "total_count": len(hits), "incomplete_results": False,
            "items": hits[(page - 1) * per:page * per]}, headers={
            "x-ratelimit-limit": "30", "x-ratelimit-remaining": "29",
            "x-ratelimit-reset": str(int(NOW.timestamp()) + 60),
            "x-ratelimit-resource": "search"})

    def _graphql(self, body: dict[str, Any]) -> httpx.Response:
        self.graphql.append(body)
        variables = body["variables"]
        if "addDiscussionComment" in body["query"]:
            # 65,536 characters ("Body is too long (maximum is 65536 characters)"), as a
            # GraphQL error in a 200 (service_rules.py).
            refused = service_rules.github_discussion_comment(variables["body"])
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            if not any(d["id"] == variables["id"] for d in self.discussions):
                return httpx.Response(200, json={
                    "data": {"addDiscussionComment": None},
                    "errors": [{"type": "NOT_FOUND", "path": ["addDiscussionComment"],
                                "message": "Could not resolve to a node with the global id "
                                           f"of '{variables['id']}'"}]})
            return httpx.Response(200, json=fixture("github", "add_discussion_comment.json"))
        term = variables["q"].split(" sort:")[0].strip('"').lower()
        nodes = [d for d in self.discussions if term in (d["title"] + d["bodyText"]).lower()]
        return httpx.Response(200, json={"data": {"search": {
            "pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": nodes}}})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "Bad credentials",
                                             "documentation_url": "https://docs.github.com/rest",
                                             "status": "401"})
        if path == "/user":
            return httpx.Response(200, json=fixture("github", "user.json"))
        if path == "/users/acme-support":
            return httpx.Response(200, json=fixture("github", "user.json"))
        if path == "/search/issues":
            return self._search(request.url.params)
        if path == "/graphql":
            return self._graphql(json.loads(request.content))
        match = re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)/issues/(\d+)/comments", path)
        if match and request.method == "POST":
            key = f"{match.group(1)}#{match.group(2)}"
            if key in self.locked:
                return httpx.Response(403, json={
                    "message": "Unable to create comment because issue is locked.",
                    "documentation_url": "https://docs.github.com/articles/locking-conversations/",
                    "status": "403"})
            sent = json.loads(request.content)
            # 65,536 characters; 422 "Validation Failed" with the reason in errors[]
            # (service_rules.py).
            refused = service_rules.github_issue_comment(sent.get("body"))
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            self.comments.append((key, sent))
            return httpx.Response(201, json=fixture("github", "issue_comment_created.json"))
        return httpx.Response(404, json={"message": "Not Found", "status": "404"})


@pytest.fixture
def fake() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
async def client(fake: FakeGitHub) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, terms: Any = None, sleep: Any = None) -> Any:
    return github_net.components(client, api_url=API, token=TOKEN,
                                 terms=terms or fixed_terms("acme"), interval=60,
                                 sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_issues_and_discussions_become_posts(client: httpx.AsyncClient,
                                                   fake: FakeGitHub) -> None:
    source, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    assert list(by_id) == ["homelab-tools/sensor-bridge#412", "acme/edge-runtime#77",
                           "D_kwDOHb3xQc4AbC12"]
    hub = by_id["homelab-tools/sensor-bridge#412"]
    assert hub.url == "https://github.com/homelab-tools/sensor-bridge/issues/412"
    assert hub.text.startswith("Acme Hub v4.2 firmware breaks MQTT discovery\n\nAfter updating")
    assert (hub.author.handle, hub.likes, hub.replies) == ("octo-lena", 8, 5)
    assert by_id["acme/edge-runtime#77"].text == "Docs: acme CLI install fails on Alpine"
    talk = by_id["D_kwDOHb3xQc4AbC12"]
    assert (talk.author.handle, talk.likes, talk.replies) == ("pyjane", 14, 3)
    assert talk.url == "https://github.com/acme/sdk-python/discussions/88"
    assert json.loads(batch.cursor or "") == {
        "issues": {"acme": "2026-11-20T07:48:19Z"},
        "discussions": {"acme": "2026-11-20T08:05:44Z"}}
    search = next(r for r in fake.requests if r.url.path == "/search/issues")
    assert search.url.params["q"] == "acme in:title,body is:issue"
    assert search.headers["X-GitHub-Api-Version"] == "2022-11-28"


async def test_later_polls_slice_by_creation_time(client: httpx.AsyncClient,
                                                  fake: FakeGitHub) -> None:
    source, _, _ = build(client)
    first = await source.poll_once(None)
    new = {fake.add_issue(n, f"acme problem {n}") for n in range(150)}
    second = await source.poll_once(first.cursor)
    issues = {p.external_id for p in second.posts if "#" in p.external_id}
    assert new <= issues and issues - new == {"homelab-tools/sensor-bridge#412"}
    calls = [r.url.params for r in fake.requests if r.url.path == "/search/issues"][1:]
    assert [c["page"] for c in calls] == ["1", "2"]
    assert calls[0]["q"] == "acme in:title,body is:issue created:>=2026-11-20T07:48:19Z"
    talks = [json.loads(r.content)["variables"]["q"] for r in fake.requests
             if r.url.path == "/graphql"]
    assert talks[1] == "acme sort:created-desc created:>=2026-11-20T08:05:44Z"


async def test_search_rate_limit_403_is_waited_out(client: httpx.AsyncClient,
                                                   fake: FakeGitHub) -> None:
    sleep = NoSleep()
    source, _, _ = build(client, sleep=sleep)
    fake.fail["/search/issues"] = [httpx.Response(403, json={
        "message": "API rate limit exceeded for user ID 1.", "status": "403"}, headers={
        "x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW.timestamp()) + 45)})]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 3
    assert 45 <= sleep.calls[-1] < 46


async def test_own_and_malformed_items_are_skipped(
    client: httpx.AsyncClient, fake: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    fake.issues.append(dict(fake.issues[0], number=9, user={"login": "acme-support"}))
    fake.issues.append({"title": "acme without repo", "created_at": "2026-11-20T08:00:00Z"})
    source, _, _ = build(client)
    batch = await source.poll_once(None)
    assert len(batch.posts) == 3
    assert "skipped a malformed issue" in caplog.text


async def test_into_the_store_and_comments_from_the_console(
    client: httpx.AsyncClient, fake: FakeGitHub, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, responder, _ = build(client, terms=store_terms(sqlite_store, "github"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v.mention for v in stored(sqlite_store)}
    assert set(views) == {"homelab-tools/sensor-bridge#412", "acme/edge-runtime#77",
                          "D_kwDOHb3xQc4AbC12"}

    hub = views["homelab-tools/sensor-bridge#412"]
    result = await console_reply(sqlite_store, {"github": responder}, hub.id,
                                 "Thanks for the report! A fix ships in 4.2.1.")
    assert result.ok, result.text
    assert result.text.endswith("issues/412#issuecomment-2491873311")
    assert fake.comments == [("homelab-tools/sensor-bridge#412",
                              {"body": "Thanks for the report! A fix ships in 4.2.1."})]

    talk = views["D_kwDOHb3xQc4AbC12"]
    result = await console_reply(sqlite_store, {"github": responder}, talk.id,
                                 "Yes! A release is coming next week.")
    assert result.ok, result.text
    assert fake.graphql[-1]["variables"] == {"id": "D_kwDOHb3xQc4AbC12",
                                             "body": "Yes! A release is coming next week."}
    assert (sqlite_store.view(talk.id).replies[0].network_reply_id == "DC_kwDOHb3xQc4AtK9p")

    fake.locked.add("acme/edge-runtime#77")
    locked = views["acme/edge-runtime#77"]
    result = await console_reply(sqlite_store, {"github": responder}, locked.id, "Hi")
    assert not result.ok and "issue is locked" in result.text
    assert sqlite_store.view(locked.id).replies[0].state == ReplyState.FAILED

    fake.discussions.clear()
    result = await console_reply(sqlite_store, {"github": responder}, talk.id, "Again")
    assert not result.ok and "Could not resolve to a node" in result.text


async def test_follower_count_and_verify(client: httpx.AsyncClient) -> None:
    _, responder, api = build(client)
    assert await github_net.follower_count(api, "acme-support") == 640
    assert await github_net.follower_count(api, "nobody") is None
    assert await github_net.verify(api) == "@acme-support"
    assert responder.check("x" * 65_537) == (
        "github allows 65536 characters, this reply has 65537")
    assert github_net.graphql_url("https://ghe.example/api/v3") == (
        "https://ghe.example/api/graphql")


async def test_github_refuses_an_over_long_comment_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeGitHub, sqlite_store: Store,
) -> None:
    """reply() sends what it is given (the length check is responder.check, run by /reply).
    GitHub's 422 "Validation Failed" hides the reason in errors[].message, and the refusal
    names it; the GraphQL mutation's error (a 200 with `errors`) is refused the same way."""
    _, responder, _ = build(client)
    issue = sqlite_store.view(stored_mention(
        sqlite_store, "github", "homelab-tools/sensor-bridge#412")).mention
    with pytest.raises(ReplyRejected, match=r"^HTTP 422: Validation Failed \(Body is too long "
                                            r"\(maximum is 65536 characters\)\)$"):
        await responder.reply(mention=issue, text="x" * 65_537)
    talk = sqlite_store.view(stored_mention(sqlite_store, "github", "D_kwDOHb3xQc4AbC12")).mention
    with pytest.raises(ReplyRejected, match=r"^Body is too long \(maximum is 65536 characters\)$"):
        await responder.reply(mention=talk, text="x" * 65_537)
    assert fake.comments == [] and len(fake.graphql) == 1  # both reached GitHub
    await responder.reply(mention=issue, text="ü" * 65_536)  # characters, not bytes
    await responder.reply(mention=talk, text="x" * 65_536)
    assert len(fake.comments) == 1 and len(fake.graphql) == 2


async def test_the_check_refuses_an_over_long_comment_before_sending(
    client: httpx.AsyncClient, fake: FakeGitHub, sqlite_store: Store,
) -> None:
    _, responder, _ = build(client)
    mid = stored_mention(sqlite_store, "github", "homelab-tools/sensor-bridge#412")
    result = await console_reply(sqlite_store, {"github": responder}, mid, "x" * 65_537)
    assert not result.ok
    assert "not sent: github allows 65536 characters, this reply has 65537" in result.text
    assert fake.comments == [] and fake.graphql == [] and not sqlite_store.view(mid).replies
