"""RSS and Atom (Google Alerts) against a fake feed server honouring conditional GETs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import rss_net
from tests.integrations.networks.conftest import (
    FIXTURES,
    Gate,
    NoSleep,
    console_reply,
    pump_rounds,
    stored,
)

ALERTS = "https://www.google.com/alerts/feeds/06807031914929345698/10604166159629661594"
BLOG = "https://teardown.example.org/feed.rss"
BROKEN = "https://broken.example/feed"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeFeeds:
    """Serves the feeds with ETag (Atom) and Last-Modified (RSS) and answers 304 when the
    client already has the current version."""

    def __init__(self) -> None:
        self.alerts = (FIXTURES / "rss" / "google_alerts.xml").read_bytes()
        self.blog = (FIXTURES / "rss" / "blog.rss").read_bytes()
        self.alerts_etag = '"alerts-v1"'
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url == ALERTS:
            if request.headers.get("If-None-Match") == self.alerts_etag:
                return httpx.Response(304, headers={"ETag": self.alerts_etag})
            return httpx.Response(200, content=self.alerts, headers={
                "Content-Type": "application/atom+xml; charset=UTF-8",
                "ETag": self.alerts_etag})
        if url == BLOG:
            modified = "Thu, 20 Nov 2026 08:00:00 GMT"
            if request.headers.get("If-Modified-Since") == modified:
                return httpx.Response(304)
            return httpx.Response(200, content=self.blog, headers={
                "Content-Type": "application/rss+xml", "Last-Modified": modified})
        if url == BROKEN:
            return httpx.Response(200, content=b"<html><body>Moved!</body></html>",
                                  headers={"Content-Type": "text/html"})
        return httpx.Response(404)


@pytest.fixture
def fake() -> FakeFeeds:
    return FakeFeeds()


@pytest.fixture
async def client(fake: FakeFeeds) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def source(client: httpx.AsyncClient, feeds: list[str],
           sleep: Any = None) -> rss_net.FeedSource:
    return rss_net.FeedSource(client, feeds, interval=60, sleep=sleep or NoSleep(),
                              now=lambda: NOW)


async def test_google_alerts_entries_point_to_the_real_page(client: httpx.AsyncClient) -> None:
    batch = await source(client, [ALERTS]).poll_once(None)
    recall, leipzig = batch.posts
    assert recall.external_id == "tag:google.com,2013:googlealerts/feed:13466489563346017335"
    assert recall.url == "https://news.example.com/business/acme-kettle-recall-2026"
    assert recall.text == ("Acme recalls 40,000 kettles over overheating risk\n\n"
                           "The recall covers Acme Model K2 kettles sold between March and "
                           "October ...")
    assert recall.author.handle == "news.example.com"  # Alerts give no author: the site
    assert recall.author.name == "Google Alert - acme"
    assert recall.created_at == datetime(2026, 11, 20, 8, 25, 14, tzinfo=UTC)
    assert leipzig.url == "https://www.zeitung.example.de/wirtschaft/acme-leipzig-a-123.html"


async def test_rss_items_and_conditional_gets(client: httpx.AsyncClient,
                                              fake: FakeFeeds) -> None:
    feeds = source(client, [ALERTS, BLOG])
    first = await feeds.poll_once(None)
    assert len(first.posts) == 4
    vacuum = next(p for p in first.posts if p.external_id == "teardown-2026-11-acme-v3")
    assert vacuum.author.handle == "Priya N." and vacuum.lang == "en"
    assert vacuum.text == ("Inside the Acme V3 robot vacuum\n\n"
                           "The brushless motor is nice, the glued battery is not.")
    state = json.loads(first.cursor or "")
    assert state[ALERTS]["etag"] == '"alerts-v1"'
    assert state[BLOG]["modified"] == "Thu, 20 Nov 2026 08:00:00 GMT"

    second = await feeds.poll_once(first.cursor)
    assert second.posts == []
    assert fake.requests[-2].headers["If-None-Match"] == '"alerts-v1"'
    assert fake.requests[-1].headers["If-Modified-Since"] == "Thu, 20 Nov 2026 08:00:00 GMT"
    assert json.loads(second.cursor or "") == state

    # The alert feed changes: only the new entry comes.
    fake.alerts = fake.alerts.replace(
        b"<entry>", b"<entry><id>tag:google.com,2013:googlealerts/feed:1</id><title>Acme wins "
        b"award</title><link href=\"https://award.example/acme\"/><updated>2026-11-20T08:59:00Z"
        b"</updated></entry><entry>", 1)
    fake.alerts_etag = '"alerts-v2"'
    third = await feeds.poll_once(second.cursor)
    assert [p.external_id for p in third.posts] == ["tag:google.com,2013:googlealerts/feed:1"]


async def test_a_broken_feed_does_not_stop_the_others(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    batch = await source(client, [BROKEN, BLOG, "https://gone.example/feed"]).poll_once(None)
    assert len(batch.posts) == 2
    assert "broken.example/feed failed" in caplog.text
    assert "gone.example/feed failed: HTTP 404" in caplog.text


async def test_into_the_store_without_replies(
    client: httpx.AsyncClient, pipeline: Pipeline, sqlite_store: Store, gate: Gate
) -> None:
    feeds = source(client, [ALERTS, BLOG], sleep=gate)
    await pump_rounds(feeds, pipeline, gate)
    views = stored(sqlite_store)
    # "Cheap soldering irons" does not mention acme.
    assert len(views) == 3
    result = await console_reply(sqlite_store, {}, views[0].mention.id, "Thanks!")
    assert not result.ok and "cannot post replies on rss" in result.text


async def test_verify(client: httpx.AsyncClient) -> None:
    assert await rss_net.verify(client, [ALERTS, BLOG]) == "no account needed; 2 feed(s) answer"
    with pytest.raises(Exception, match=r"broken\.example/feed: not a feed"):
        await rss_net.verify(client, [BROKEN])
