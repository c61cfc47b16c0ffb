"""A local Mastodon server for tests that run the real `echtzeit run` process.

It speaks the documented REST API with the fixtures' payload shapes (tests/fixtures/mastodon/)
and enforces what Mastodon enforces: a valid bearer token (401 `{"error": ...}`), the
instance's 500-character limit counted as Mastodon counts (graphemes, links as 23, remote
mentions by their user name; tests/integrations/networks/service_rules.py, from Mastodon's
StatusLengthValidator) with its 422 "Validation failed: Text character limit of 500
exceeded", an existing `in_reply_to_id` (404 "Record not found"),
`Idempotency-Key` (the same key within an hour answers with the status it created), and the
rate limit of 300 requests per 5 minutes per token (429 with `X-RateLimit-*` headers).

Statuses are added by the test (`post`); search (`GET /api/v2/search?type=statuses`) returns
those whose text contains the query (case-insensitive), newer than `min_id`, newest first, as
Mastodon pages them. Every request is recorded, so a test can count polls.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.integrations.networks import service_rules

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mastodon"
TOKEN = "mastodon-token-for-the-tests"
LIMIT = service_rules.MASTODON_LIMIT  # what fixtures/mastodon/instance.json reports
RATE = 300  # requests per window per token
WINDOW = 300.0


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    status: int
    at: float


@dataclass
class FakeMastodon:
    host: str = "127.0.0.1"
    port: int = 0
    token: str = TOKEN
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    created: list[dict[str, Any]] = field(default_factory=list)  # statuses posted through the API
    requests: list[Request] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _keys: dict[str, tuple[float, str]] = field(default_factory=dict)
    _recent: deque[float] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> FakeMastodon:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # --- test side --------------------------------------------------------------------------

    def post(self, text: str, *, acct: str = "kim@fosstodon.example", lang: str = "en",
             age: float = 0.0) -> str:
        """A new public status by `acct` (what a customer posts), posted `age` seconds ago;
        returns its id."""
        status = copy.deepcopy(fixture("statuses.json")[0])
        sid = str(113_600_000_000_000_000 + next(self._ids))
        status.update(id=sid, content=f"<p>{html.escape(text)}</p>", language=lang,
                      created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                                               time.gmtime(time.time() - age)),
                      url=f"https://fosstodon.example/@kim/{sid}",
                      uri=f"https://fosstodon.example/users/kim/statuses/{sid}", tags=[],
                      replies_count=0, reblogs_count=0, favourites_count=0)
        status["account"]["acct"] = acct
        status["account"]["username"] = acct.split("@")[0]
        self.statuses[sid] = status
        return sid

    def delete(self, sid: str) -> None:
        """The author deletes a status: the instance answers 404 for it from now on."""
        del self.statuses[sid]

    def searches(self) -> list[Request]:
        return [r for r in self.requests if r.path == "/api/v2/search" and r.status == 200]

    async def wait_for(self, check: Any, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while not check():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for the fake Mastodon")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))
            except TimeoutError:
                continue

    # --- server side ------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        body: dict[str, Any] | None = None
        if request.method == "POST":
            raw = await request.read()
            ctype = request.headers.get("Content-Type", "")
            body = json.loads(raw) if raw and ctype.startswith("application/json") else dict(
                await request.post())
        status, answer, headers = self._answer(request, body)
        self.requests.append(Request(request.method, request.path, dict(request.query), body,
                                     status, time.monotonic()))
        self._changed.set()
        headers = {**headers, "X-RateLimit-Limit": str(RATE),
                   "X-RateLimit-Remaining": str(max(RATE - len(self._recent), 0)),
                   "X-RateLimit-Reset": time.strftime(
                       "%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + WINDOW))}
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, request: web.Request, body: dict[str, Any] | None,
                ) -> tuple[int, Any, dict[str, str]]:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "The access token is invalid"}, {}
        now = time.monotonic()
        while self._recent and self._recent[0] <= now - WINDOW:
            self._recent.popleft()
        if len(self._recent) >= RATE:
            return 429, {"error": "Too many requests"}, {}
        self._recent.append(now)
        path, method = request.path, request.method
        if method == "GET" and path == "/api/v2/instance":
            return 200, fixture("instance.json"), {}
        if method == "GET" and path == "/api/v1/accounts/verify_credentials":
            return 200, fixture("verify_credentials.json"), {}
        if method == "GET" and path == "/api/v2/search":
            return 200, self._search(request.query), {}
        if method == "GET" and (path.startswith("/api/v1/timelines/tag/")
                                or path == "/api/v1/notifications"):
            return 200, [], {}
        if method == "GET" and path.startswith("/api/v1/statuses/"):
            found = self.statuses.get(path.rsplit("/", 1)[1])
            return (200, found, {}) if found else (404, {"error": "Record not found"}, {})
        if method == "POST" and path == "/api/v1/statuses":
            return self._create(body or {}, request.headers.get("Idempotency-Key"))
        return 404, {"error": "Record not found"}, {}

    def _search(self, query: Any) -> dict[str, Any]:
        if query.get("type") != "statuses":
            return {"accounts": [], "statuses": [], "hashtags": []}
        words = query.get("q", "").strip('"').lower()
        limit = min(int(query.get("limit", "20")), 40)
        min_id = int(query.get("min_id") or 0)
        found = [s for sid, s in self.statuses.items() if int(sid) > min_id
                 and words in html.unescape(re.sub("<[^>]+>", "", s["content"])).lower()]
        found.sort(key=lambda s: int(s["id"]))
        page = found[:limit]  # min_id: the page right after it
        return {"accounts": [], "statuses": list(reversed(page)), "hashtags": []}

    def _create(self, body: dict[str, Any], key: str | None) -> tuple[int, Any, dict[str, str]]:
        now = time.monotonic()
        if key and key in self._keys and now - self._keys[key][0] < 3600:
            return 200, self.statuses[self._keys[key][1]], {}
        text = body.get("status")
        refused = service_rules.mastodon_status(text, LIMIT)
        if refused:
            return refused[0], refused[1], {}
        assert isinstance(text, str)
        parent = body.get("in_reply_to_id")
        if parent is not None and str(parent) not in self.statuses:
            return 404, {"error": "Record not found"}, {}
        sid = self.post(text, acct="acme")
        status = self.statuses[sid]
        status.update(in_reply_to_id=str(parent) if parent else None,
                      visibility=body.get("visibility", "public"))
        status["account"] = fixture("verify_credentials.json")
        self.created.append(status)
        if key:
            self._keys[key] = (now, sid)
        return 200, status, {}
