"""The signed webhook: a real aiohttp server on 127.0.0.1, real HTTP requests, the real
runner and pipeline behind it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bot.pipeline import Pipeline
from bot.runner import pump
from bot.store import Store
from integrations.networks.push import PushSource, WebhookServer
from integrations.networks.webhook_net import sign, signed_route
from tests.conftest import Clock
from tests.integrations.networks.conftest import fixture, stored

SECRET = "s3cret-webhook-key"


class Server:
    def __init__(self, server: WebhookServer, source: PushSource, clock: Clock) -> None:
        self.server = server
        self.source = source
        self.clock = clock
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}")

    async def post(self, payload: Any = None, *, body: bytes | None = None,
                   secret: str = SECRET, timestamp: int | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
        raw = body if body is not None else json.dumps(payload).encode()
        ts = str(timestamp if timestamp is not None else int(self.clock().timestamp()))
        sent = {"X-Echtzeit-Timestamp": ts,
                "X-Echtzeit-Signature": sign(secret.encode(), ts, raw),
                "Content-Type": "application/json"}
        sent.update(headers or {})
        return await self.client.post("/webhook", content=raw, headers=sent)


@pytest.fixture
async def server(clock: Clock) -> AsyncIterator[Server]:
    source = PushSource()
    web = WebhookServer(host="127.0.0.1", port=0, max_bytes=4096, routes=[
        signed_route(source, secret=SECRET, max_bytes=4096, now=clock, store_timeout=0.2),
    ])
    stop = asyncio.Event()
    task = asyncio.create_task(web.serve(stop))
    await asyncio.wait_for(web.ready.wait(), 5)
    s = Server(web, source, clock)
    yield s
    await s.client.aclose()
    stop.set()
    await task


async def test_signed_posts_reach_the_store_before_the_sender_gets_200(
    server: Server, pipeline: Pipeline, sqlite_store: Store
) -> None:
    feeding = asyncio.create_task(pump(server.source, pipeline))
    try:
        response = await server.post(fixture("webhook", "reviews.json"))
        assert response.status_code == 200, response.text
        assert response.json() == {"stored": 2}
        views = stored(sqlite_store)
    finally:
        feeding.cancel()
        await asyncio.gather(feeding, return_exceptions=True)
    # Only the review naming Acme matches the brand's query.
    assert [(v.mention.network, v.mention.external_id) for v in views] == [
        ("trustpilot", "5f1e2d3c4b5a69788796a5b4")
    ]
    view = views[0]
    assert view.author.handle == "jana.k" and view.author.followers == 3
    assert view.mention.likes == 4
    assert view.mention.url == "https://www.trustpilot.com/reviews/5f1e2d3c4b5a69788796a5b4"


async def test_a_single_object_is_one_post(server: Server) -> None:
    received: list[list[str]] = []

    async def consume() -> None:
        async for batch in server.source.stream(None):
            got = [p.text for p in batch.posts]
            received.append(got)

    task = asyncio.create_task(consume())
    try:
        response = await server.post({"id": 7, "text": "acme rocks",
                                      "created_at": "2026-11-20T08:00:00Z"})
        assert response.status_code == 200
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert received == [["acme rocks"]]


async def test_unsigned_or_wrongly_signed_requests_are_refused(server: Server) -> None:
    post = {"id": "1", "text": "acme", "created_at": "2026-11-20T08:00:00Z"}
    wrong = await server.post(post, secret="not-the-secret")
    assert wrong.status_code == 401 and wrong.json() == {"error": "bad signature"}
    missing = await server.client.post("/webhook", json=post)
    assert missing.status_code == 401 and "missing" in missing.json()["error"]
    # A body changed after signing (the signature covers timestamp and body together).
    ts = str(int(server.clock().timestamp()))
    raw = json.dumps(post).encode()
    tampered = await server.client.post("/webhook", content=raw.replace(b"acme", b"acne"),
                                        headers={"X-Echtzeit-Timestamp": ts,
                                                 "X-Echtzeit-Signature": sign(SECRET.encode(), ts,
                                                                              raw)})
    assert tampered.status_code == 401


async def test_old_and_future_timestamps_are_refused(server: Server) -> None:
    post = {"id": "1", "text": "acme", "created_at": "2026-11-20T08:00:00Z"}
    now = int(server.clock().timestamp())
    old = await server.post(post, timestamp=now - 301)
    assert old.status_code == 401 and "older than 5 minutes" in old.json()["error"]
    future = await server.post(post, timestamp=now + 301)
    assert future.status_code == 401
    garbled = await server.post(post, headers={"X-Echtzeit-Timestamp": "yesterday"})
    assert garbled.status_code == 400


async def test_size_limit_and_malformed_bodies(server: Server) -> None:
    big = {"id": "1", "text": "acme " * 2000, "created_at": "2026-11-20T08:00:00Z"}
    too_big = await server.post(big)
    assert too_big.status_code == 413
    not_json = await server.post(body=b"{nope")
    assert not_json.status_code == 400 and not_json.json() == {"error": "the body is not JSON"}
    no_text = await server.post([{"id": "1", "text": "acme", "created_at": "2026-11-20T08:00Z"},
                                 {"id": "2", "created_at": "2026-11-20T08:00:00Z"}])
    assert no_text.status_code == 400
    assert no_text.json() == {"error": "post 1: 'text' must be a non-empty string"}
    naive = await server.post({"id": "1", "text": "acme", "created_at": "2026-11-20T08:00:00"})
    assert naive.status_code == 400 and "created_at" in naive.json()["error"]
    bad_url = await server.post({"id": "1", "text": "acme", "url": "javascript:alert(1)"})
    assert bad_url.status_code == 400 and "'url'" in bad_url.json()["error"]
    wrong_method = await server.client.get("/webhook")
    assert wrong_method.status_code == 405


async def test_nobody_storing_means_503_so_the_sender_retries(server: Server) -> None:
    # No runner consumes the source: the post is not stored, and the sender must not think so.
    response = await server.post({"id": "1", "text": "acme",
                                  "created_at": "2026-11-20T08:00:00Z"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
