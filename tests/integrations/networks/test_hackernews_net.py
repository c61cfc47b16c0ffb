"""Hacker News against a fake Algolia HN Search API at the HTTP boundary."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import hackernews_net
from integrations.networks.terms import fixed_terms, store_terms
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
)

API = "https://hn.algolia.example/api/v1"


class FakeAlgolia:
    def __init__(self) -> None:
        self.page = fixture("hackernews", "search_by_date.json")
        self.hits: list[dict[str, Any]] = self.page["hits"]
        self.requests: list[httpx.Request] = []
        self.fail: list[httpx.Response] = []

    def add(self, n: int, title: str) -> str:
        hit = copy.deepcopy(self.hits[1])
        hit.update(objectID=str(42190000 + n), title=title, created_at_i=1763627000 + n,
                   created_at=datetime.fromtimestamp(1763627000 + n, tz=UTC)
                   .isoformat().replace("+00:00", "Z"))
        self.hits.append(hit)
        return str(hit["objectID"])

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return self.fail.pop(0)
        if request.url.path != "/api/v1/search_by_date":
            return httpx.Response(404, json={"message": "Not Found", "status": 404})
        params = request.url.params
        q = params["query"].lower()
        hits = [h for h in self.hits
                if q in json.dumps([h.get("title"), h.get("comment_text")]).lower()]
        if "numericFilters" in params:
            bound = int(params["numericFilters"].removeprefix("created_at_i>="))
            hits = [h for h in hits if h.get("created_at_i", 0) >= bound]
        hits.sort(key=lambda h: h.get("created_at_i", 0), reverse=True)
        per = int(params.get("hitsPerPage", "20"))
        page = int(params.get("page", "0"))
        nb_pages = max(1, -(-len(hits) // per))
        return httpx.Response(200, json=dict(
            self.page, hits=hits[page * per:(page + 1) * per], nbHits=len(hits),
            nbPages=nb_pages, page=page, hitsPerPage=per, query=params["query"]))


@pytest.fixture
def fake() -> FakeAlgolia:
    return FakeAlgolia()


@pytest.fixture
async def client(fake: FakeAlgolia) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


async def test_stories_and_comments_become_posts(client: httpx.AsyncClient) -> None:
    source = hackernews_net.components(client, api_url=API, terms=fixed_terms("acme"), interval=60,
                                  sleep=NoSleep())
    batch = await source.poll_once(None)
    comment, story = batch.posts
    assert comment.external_id == "42188999"
    assert comment.url == "https://news.ycombinator.com/item?id=42188999"
    assert comment.text == (
        'We moved off Acme Cloud last year after their status page said "all green" during a '
        "6h outage.\n\nSupport took 4 days to answer. https://status.acme.example/history\n\n"
        "(on: Ask HN: Which cloud provider has the best support?)")
    assert comment.in_reply_to == "42188451" and comment.likes is None
    assert comment.created_at == datetime(2026, 11, 20, 8, 20, 31, tzinfo=UTC)
    assert story.text == ("Show HN: Acme open-sources its edge runtime\n\n"
                          "https://github.com/acme/edge-runtime")
    assert (story.likes, story.replies, story.author.handle) == (211, 37, "jdoe")
    assert json.loads(batch.cursor or "") == {"search": {"acme": 1763626831}}


async def test_later_polls_slice_by_time_and_page(client: httpx.AsyncClient,
                                                  fake: FakeAlgolia) -> None:
    source = hackernews_net.components(client, api_url=API, terms=fixed_terms("acme"), interval=60,
                                  sleep=NoSleep())
    first = await source.poll_once(None)
    new = {fake.add(n, f"Acme story {n}") for n in range(250)}
    second = await source.poll_once(first.cursor)
    assert {p.external_id for p in second.posts} == new | {"42188999"}
    calls = [r.url.params for r in fake.requests[1:]]
    assert [c["page"] for c in calls] == ["0", "1", "2"]
    assert {c["numericFilters"] for c in calls} == {"created_at_i>=1763626831"}
    assert json.loads(second.cursor or "") == {"search": {"acme": 1763627249}}


async def test_rate_limit_server_errors_and_malformed_hits(
    client: httpx.AsyncClient, fake: FakeAlgolia, caplog: pytest.LogCaptureFixture
) -> None:
    sleep = NoSleep()
    source = hackernews_net.components(client, api_url=API, terms=fixed_terms("acme"), interval=60,
                                  sleep=sleep)
    fake.fail = [httpx.Response(429, text="Too many requests", headers={"Retry-After": "9"}),
                 httpx.Response(502, text="bad gateway")]
    fake.hits.append({"objectID": "1", "title": "acme without author", "created_at_i": 1})
    batch = await source.poll_once(None)
    assert [p.external_id for p in batch.posts] == ["42188999", "42188120"]
    assert 9 <= sleep.calls[0] < 10 and len(sleep.calls) == 2
    assert "skipped a malformed hit" in caplog.text


async def test_into_the_store_and_no_reply_but_the_link(
    client: httpx.AsyncClient, pipeline: Pipeline, sqlite_store: Store, gate: Gate
) -> None:
    source = hackernews_net.components(client, api_url=API,
                                  terms=store_terms(sqlite_store, "hackernews"), interval=60,
                                  sleep=gate)
    await pump_rounds(source, pipeline, gate)
    views = stored(sqlite_store)
    assert [v.mention.external_id for v in views] == ["42188999", "42188120"]
    result = await console_reply(sqlite_store, {}, views[0].mention.id, "Sorry to hear!")
    assert not result.ok
    assert result.text == ("Echtzeit cannot post replies on hackernews; answer there: "
                           "https://news.ycombinator.com/item?id=42188999")


async def test_verify_and_followers(client: httpx.AsyncClient) -> None:
    assert await hackernews_net.verify(client, API) == (
        "no account needed; API answers (2 items indexed)")
    assert await hackernews_net.follower_count("pg") is None
