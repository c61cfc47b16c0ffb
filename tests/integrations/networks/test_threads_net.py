"""Threads against a fake graph.threads.net at the HTTP boundary: keyword search, mentions,
replies under the brand's posts, and replies through a container that is created and
published, with payload shapes from tests/fixtures/threads and Threads' rules from
service_rules.py (token, permissions per endpoint, the keyword-search quota, the reply quota,
500 characters with emoji as UTF-8 bytes, a container published once, paging by cursors)."""

from __future__ import annotations

import asyncio
import base64
import copy
import io
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr

from bot.domain import ReplyState
from bot.logs import setup_logging
from bot.networks import ReplyRejected, reply_limit
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.store import Store
from commands import dispatch
from commands.base import Deps, Invocation, Role
from integrations.networks import registry, specs, threads_net, threads_token
from integrations.networks.http_common import ApiError, parse_time
from integrations.networks.settings import load_network_config
from integrations.networks.terms import SearchTerm, fixed_terms, store_terms
from tests.conftest import Clock
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

API = "https://graph.threads.net/v1.0"
USER = "25025320233803991"
TOKEN = "THAAGx7testtoken"
ALL = frozenset({"threads_basic", "threads_keyword_search", "threads_manage_mentions",
                 "threads_read_replies", "threads_manage_replies", "threads_content_publish"})
MEDIA_FIELDS = frozenset({
    "id", "media_product_type", "media_type", "media_url", "permalink", "owner", "username",
    "text", "timestamp", "shortcode", "thumbnail_url", "children", "is_quote_post", "alt_text",
    "link_attachment_url", "has_replies", "is_reply", "replied_to", "root_post", "reply_audience",
    "quoted_post", "reposted_post", "gif_url", "poll_attachment", "topic_tag", "hide_status"})


class Crash(BaseException):
    """The process dies (not an Exception: nothing on the way catches it)."""


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str) -> int:
    return int(base64.b64decode(cursor).decode().split(":")[1])


class FakeThreads:
    """graph.threads.net v1.0 as strict as Threads is about what this client uses."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        # Long-lived tokens Threads issued (and when): each works for 60 days from then, and
        # GET /refresh_access_token gives a new one for one at least 24 hours old.
        self.issued: dict[str, datetime] = {TOKEN: now()}
        self.revoked: set[str] = set()  # the profile removed the app, or changed its password
        self.refreshes: list[str] = []  # tokens refreshed, in order
        self.on_refresh: Callable[[], Awaitable[None]] | None = None
        self.refresh_throttled = 0  # refreshes answered with Graph's user throttling first
        self.granted = set(ALL)  # permissions the token carries
        # Advanced access after App Review; without it keyword search sees the profile's own
        # posts only, mentions only those by the app's testers.
        self.approved = {"threads_keyword_search", "threads_manage_mentions"}
        self.testers = {"ana.b"}
        self.search_posts: list[Any] = fixture("threads", "keyword_search.json")["data"]
        self.mentions: list[Any] = fixture("threads", "mentions.json")["data"]
        self.own: list[Any] = fixture("threads", "own_threads.json")["data"]
        self.conversations: dict[str, list[Any]] = {
            "18091734527310002": fixture("threads", "conversation.json")["data"]}
        self.requests: list[httpx.Request] = []
        self.search_log: list[float] = []  # counted keyword queries (with results)
        self.search_quota = service_rules.THREADS_SEARCH_QUOTA
        self.published_replies: list[float] = []
        self.reply_quota = service_rules.THREADS_MAX_REPLIES
        self.containers: dict[str, dict[str, Any]] = {}
        self.published: list[dict[str, Any]] = []  # replies that became public
        self.not_propagated = 0  # publishes answered "Media Not Found" before one works
        self.on_publish: str | None = None  # "crash" before, "drop" the answer after
        # Threads' call limit per user: 4,800 x impressions in a rolling 24 hours ("Rate
        # Limits": "Calls within 24 hours = 4800 * Number of Impressions").
        self.impressions = 1_000
        self.call_log: list[float] = []
        self._ids = 18099000000000000

    @property
    def token(self) -> str:
        """The newest token Threads issued."""
        return max(self.issued, key=lambda t: self.issued[t])

    @token.setter
    def token(self, value: str) -> None:
        """The profile authorized the app again (or revoked it): only `value` works now."""
        self.issued = {value: self.now()}

    def authorize(self) -> str:
        """A new authorization: a new long-lived token (the old ones keep their 60 days)."""
        token = f"THAAGauth{len(self.issued)}x"
        self.issued[token] = self.now()
        return token

    def _expired(self, token: str) -> bool:
        issued = self.issued.get(token)
        return issued is not None and \
            self.now() >= issued + service_rules.THREADS_TOKEN_LIFETIME

    def valid(self, token: str | None) -> bool:
        return token in self.issued and token not in self.revoked and \
            not self._expired(token or "")

    # -- helpers ---------------------------------------------------------------------------

    def _new_id(self) -> str:
        self._ids += 1
        return str(self._ids)

    def _error(self, refusal: service_rules.Refusal) -> httpx.Response:
        return httpx.Response(refusal[0], json=refusal[1])

    def _missing(self, permission: str) -> httpx.Response:
        return self._error(service_rules.graph_permission_error(permission, code=10))

    def _fields(self, params: httpx.QueryParams, allowed: frozenset[str]) -> httpx.Response | None:
        for name in params.get("fields", "id").split(","):
            if name not in allowed:
                return self._error(service_rules.graph_error(
                    400, 100, f"Tried accessing nonexisting field ({name})",
                    kind="THApiException"))
        return None

    @staticmethod
    def _project(item: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
        wanted = params.get("fields", "id").split(",")
        return {k: copy.deepcopy(v) for k, v in item.items() if k in wanted or k == "id"}

    def _page(self, items: list[Any], params: httpx.QueryParams, path: str, *,
              next_link: bool) -> httpx.Response:
        try:
            limit = int(params.get("limit", "25"))
        except ValueError:
            limit = -1
        if not 0 < limit <= 100:
            return self._error(service_rules.graph_error(
                400, 100, "(#100) The parameter limit must be between 1 and 100"))
        if params.get("before") and params.get("after"):
            return self._error(service_rules.graph_error(
                400, 100, "(#100) before and after cannot be passed at the same time"))
        start = _offset(params["after"]) if params.get("after") else 0
        chunk = items[start:start + limit]
        body: dict[str, Any] = {"data": [self._project(i, params) for i in chunk]}
        if chunk:
            body["paging"] = {"cursors": {"before": _cursor(start),
                                          "after": _cursor(start + len(chunk))}}
            if next_link and start + len(chunk) < len(items):
                query = {k: v for k, v in params.items() if k != "after"}
                query["after"] = _cursor(start + len(chunk))
                body["paging"]["next"] = str(httpx.URL(API + path, params=query))
        return httpx.Response(200, json=body)

    @staticmethod
    def _newest_first(items: list[Any]) -> list[Any]:
        def when(item: Any) -> float:
            try:
                return parse_time(item.get("timestamp")).timestamp()
            except ValueError:
                return 0.0

        return sorted(items, key=when, reverse=True)

    def _window(self, log: list[float], seconds: float) -> list[float]:
        now = self.now().timestamp()
        return [t for t in log if now - t < seconds]

    # -- the API ---------------------------------------------------------------------------

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == "/refresh_access_token":  # no version in the path
            if self.on_refresh is not None:
                await self.on_refresh()
            return self._refresh(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else \
            request.url.params.get("access_token")
        if token is not None and self._expired(token) and token not in self.revoked:
            return self._error(service_rules.threads_token_expired(
                self.issued[token] + service_rules.THREADS_TOKEN_LIFETIME))
        if not self.valid(token):
            return self._error(service_rules.THREADS_INVALID_TOKEN)
        if "threads_basic" not in self.granted:
            return self._missing("threads_basic")
        assert request.url.path.startswith("/v1.0/")
        path = request.url.path.removeprefix("/v1.0")
        params = request.url.params
        self.call_log = self._window(self.call_log, 86_400)
        if len(self.call_log) >= service_rules.THREADS_CALLS_PER_IMPRESSION * self.impressions:
            return self._error(service_rules.THREADS_CALL_LIMIT)
        self.call_log.append(self.now().timestamp())
        if request.method == "GET":
            return self._get(path, params)
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        return self._post(path, {**dict(params), **form})

    def _refresh(self, request: httpx.Request) -> httpx.Response:
        """GET /refresh_access_token?grant_type=th_refresh_token&access_token=: a token at
        least 24 hours old and not expired, of a profile that still grants threads_basic."""
        assert request.method == "GET" and not request.content
        params = request.url.params
        if params.get("grant_type") != "th_refresh_token":
            return self._error(service_rules.graph_error(
                400, 100, "Unsupported grant_type; expected th_refresh_token"))
        token = params.get("access_token")
        if "Authorization" in request.headers:  # the token goes in the query string
            return self._error(service_rules.graph_error(
                400, 100, "Provide the token to refresh as access_token"))
        if token is not None and self._expired(token) and token not in self.revoked:
            return self._error(service_rules.threads_token_expired(
                self.issued[token] + service_rules.THREADS_TOKEN_LIFETIME))
        if not self.valid(token):
            return self._error(service_rules.THREADS_INVALID_TOKEN)
        if "threads_basic" not in self.granted:
            return self._missing("threads_basic")
        if self.refresh_throttled:
            self.refresh_throttled -= 1
            return self._error(service_rules.THREADS_CALL_LIMIT)
        assert token is not None
        if self.now() - self.issued[token] < service_rules.THREADS_REFRESH_MIN_AGE:
            return self._error(service_rules.THREADS_TOKEN_TOO_YOUNG)
        self.refreshes.append(token)
        fresh = f"THAAGrenewed{len(self.refreshes)}x"
        self.issued[fresh] = self.now()
        return httpx.Response(200, json={
            "access_token": fresh, "token_type": "bearer",
            "expires_in": int(service_rules.THREADS_TOKEN_LIFETIME.total_seconds())})

    def _get(self, path: str, params: httpx.QueryParams) -> httpx.Response:
        if path == "/me":
            return httpx.Response(200, json={"id": USER, "username": "acmesupport"})
        if path == "/keyword_search":
            return self._search(params)
        if path == f"/{USER}/mentions":
            if "threads_manage_mentions" not in self.granted:
                return self._missing("threads_manage_mentions")
            bad = self._fields(params, MEDIA_FIELDS - {"owner"})
            if bad:
                return bad
            items = self._newest_first(self.mentions)
            if "threads_manage_mentions" not in self.approved:
                items = [i for i in items if i.get("username") in self.testers]
            # The mentions edge pages by cursors only: no `next` (Threads' "Mentions" docs).
            return self._page(items, params, path, next_link=False)
        if path == f"/{USER}/threads":
            bad = self._fields(params, MEDIA_FIELDS)
            return bad or self._page(self._newest_first(self.own), params, path,
                                     next_link=True)
        if path == f"/{USER}/replies":  # the profile's own replies, newest first
            if "threads_read_replies" not in self.granted:
                return self._missing("threads_read_replies")
            bad = self._fields(params, MEDIA_FIELDS)
            return bad or self._page(self._newest_first(self.published), params, path,
                                     next_link=True)
        if path == f"/{USER}/threads_publishing_limit":
            for need in ("threads_content_publish", "threads_manage_replies"):
                if need not in self.granted:
                    return self._missing(need)
            row = fixture("threads", "publishing_limit.json")
            row["data"][0]["reply_quota_usage"] = len(
                self._window(self.published_replies, 86_400))
            return httpx.Response(200, json=row)
        media, _, edge = path.strip("/").partition("/")
        if edge == "conversation":
            if "threads_read_replies" not in self.granted:
                return self._missing("threads_read_replies")
            bad = self._fields(params, MEDIA_FIELDS)
            if bad:
                return bad
            items = self._newest_first(self.conversations.get(media, []))
            if params.get("reverse") == "false":
                items.reverse()
            return self._page(items, params, path, next_link=True)
        if not edge and media in self.containers:
            container = self.containers[media]
            return httpx.Response(200, json={"id": media, "status": container["status"]})
        if not edge:
            for item in self.published:
                if item["id"] == media:
                    return httpx.Response(200, json=self._project(item, params))
        return self._error(service_rules.graph_error(
            400, 100, f"Unsupported get request. Object with ID '{media}' does not exist"))

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        if "threads_keyword_search" not in self.granted:
            return self._missing("threads_keyword_search")
        bad = self._fields(params, MEDIA_FIELDS - {"owner"})
        if bad:
            return bad
        q = params.get("q", "")
        if not q:
            return self._error(service_rules.graph_error(400, 100, "(#100) q is required"))
        assert params.get("search_type", "TOP") in ("TOP", "RECENT")
        assert params.get("search_mode", "KEYWORD") in ("KEYWORD", "TAG")
        self.search_log = self._window(self.search_log, 86_400)
        if len(self.search_log) >= self.search_quota:
            return self._error(service_rules.THREADS_SEARCH_LIMIT)
        pool = self.search_posts
        if "threads_keyword_search" not in self.approved:
            pool = [p for p in pool if p.get("username") == "acmesupport"]
        hits = [p for p in pool if q.lower() in str(p.get("text", "")).lower()]
        if params.get("since"):
            since = int(params["since"])
            hits = [p for p in hits if parse_time(p["timestamp"]).timestamp() >= since]
        hits = self._newest_first(hits)
        if hits:  # "Queries which return no results do not count against this limit"
            self.search_log.append(self.now().timestamp())
        return self._page(hits, params, "/keyword_search", next_link=False)

    def _post(self, path: str, form: dict[str, str]) -> httpx.Response:
        if path == f"/{USER}/threads":
            target = form.get("reply_to_id")
            need = "threads_manage_replies" if target else "threads_content_publish"
            if need not in self.granted:
                return self._missing(need)
            if form.get("media_type") != "TEXT":
                return self._error(service_rules.graph_error(
                    400, 100, "(#100) This client only sends media_type=TEXT"))
            refusal = service_rules.threads_text(form.get("text"))
            if refusal:
                return self._error(refusal)
            known = {i["id"] for i in [*self.search_posts, *self.mentions, *self.own,
                                       *(r for c in self.conversations.values() for r in c)]}
            if target not in known:
                return self._error(service_rules.graph_error(
                    400, 100, f"(#100) reply_to_id {target} does not exist"))
            cid = self._new_id()
            self.containers[cid] = {"status": "FINISHED", "text": form["text"],
                                    "reply_to_id": target}
            return httpx.Response(200, json={"id": cid})
        if path == f"/{USER}/threads_publish":
            return self._publish(form.get("creation_id", ""))
        return self._error(service_rules.graph_error(400, 100, "Unsupported post request"))

    def _publish(self, cid: str) -> httpx.Response:
        if "threads_manage_replies" not in self.granted:
            return self._missing("threads_manage_replies")
        if self.on_publish == "crash":
            self.on_publish = None
            raise Crash("the process died before the publish left")
        container = self.containers.get(cid)
        if container is None or self.not_propagated:
            self.not_propagated = max(0, self.not_propagated - 1)
            return self._error(service_rules.THREADS_MEDIA_NOT_FOUND)
        if container["status"] == "PUBLISHED":  # a container is published once
            return self._error(service_rules.graph_error(
                400, 100, "(#100) The media container has already been published"))
        if container["status"] != "FINISHED":
            return self._error(service_rules.graph_error(
                400, 100, f"(#100) The container is {container['status']}"))
        self.published_replies = self._window(self.published_replies, 86_400)
        if len(self.published_replies) >= self.reply_quota:
            return self._error(service_rules.THREADS_REPLY_QUOTA)
        media = self._new_id()
        container["status"] = "PUBLISHED"
        self.published_replies.append(self.now().timestamp())
        self.published.append({
            "id": media, "text": container["text"], "username": "acmesupport",
            "permalink": f"https://www.threads.net/@acmesupport/post/R{media[-6:]}",
            "timestamp": self.now().strftime("%Y-%m-%dT%H:%M:%S+0000"),
            "replied_to": {"id": container["reply_to_id"]}, "media_type": "TEXT_POST"})
        if self.on_publish == "drop":
            self.on_publish = None
            raise httpx.ReadTimeout("the answer to the publish was lost")
        return httpx.Response(200, json={"id": media})


@pytest.fixture
def fake(clock: Clock) -> FakeThreads:
    return FakeThreads(clock)


@pytest.fixture
async def client(fake: FakeThreads) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, clock: Clock, *, terms: Any = None, sleep: Any = None,
          **kwargs: Any) -> tuple[threads_net.ThreadsSource, threads_net.ThreadsResponder, Any]:
    return threads_net.components(
        client, api_url=API, user_id=USER, token=TOKEN,
        terms=terms or fixed_terms("acme", SearchTerm("acme hub", "phrase")), interval=60,
        sleep=sleep or NoSleep(), now=clock, **kwargs)


def _calls(fake: FakeThreads, path: str) -> list[httpx.Request]:
    return [r for r in fake.requests if r.url.path == "/v1.0" + path]


async def test_search_mentions_and_replies_become_posts(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    source, _, _ = build(client, clock)
    batch = await source.poll_once(None)
    ids = [p.external_id for p in batch.posts]
    # Mentions, the reply under the brand's post, then search: the brand's own post and its
    # own reply, the image without text and doubles are left out.
    assert ids == ["18092245118760011", "18092245118760012", "18093356229870021",
                   "18091734527310001", "18091734527310003", "18091734527310004"]
    by_id = {p.external_id: p for p in batch.posts}
    wendy = by_id["18091734527310001"]
    assert (wendy.url, wendy.author.handle, wendy.author.url) == (
        "https://www.threads.net/@wired_wendy/post/DCx1AbCdEfG", "wired_wendy",
        "https://www.threads.net/@wired_wendy")
    assert wendy.created_at == parse_time("2026-11-20T08:58:30Z")
    assert by_id["18091734527310003"].quotes == "18091734527310001"
    assert by_id["18091734527310003"].url.startswith("https://www.threads.com/@klaus.k/")
    # A permalink off Threads is not a card's link: the author's profile is.
    assert by_id["18091734527310004"].url == "https://www.threads.net/@phisher_99"
    assert by_id["18092245118760012"].in_reply_to == "18091734527310001"
    assert by_id["18093356229870021"].in_reply_to == "18091734527310002"
    state = json.loads(batch.cursor or "")
    assert state["mentions"] == {"t": 1795165150, "ids": ["18092245118760011"]}
    assert state["replies"] == {"t": 1795165130, "ids": ["18093356229870022"]}
    assert state["search:acme"]["ids"] == ["18091734527310001"]
    assert state["searches"] == [int(clock().timestamp())] * 2  # both terms had results
    search = _calls(fake, "/keyword_search")[0]
    assert dict(search.url.params) == {
        "q": "acme", "search_type": "RECENT", "search_mode": "KEYWORD", "limit": "100",
        "fields": threads_net.FIELDS}
    assert search.headers["Authorization"] == f"Bearer {TOKEN}"
    assert all("access_token" not in str(r.url) for r in fake.requests)  # never in a URL


async def test_a_restart_reads_back_to_the_cursor_over_pages_without_repeats(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    source, _, _ = build(client, clock, search=False, replies=False)
    first = await source.poll_once(None)
    # 150 new mentions, five of them in the very second of the cursor (one already read).
    newest = dict(fake.mentions[0])
    for n in range(150):
        item = dict(newest, id=str(18092245118770000 + n),
                    timestamp=("2026-11-20T08:59:10+0000" if n < 5 else
                               f"2026-11-20T09:{n // 60:02d}:{n % 60:02d}+0000"))
        fake.mentions.append(item)
    again, _, _ = build(client, clock, search=False, replies=False)
    second = await again.poll_once(first.cursor)
    got = [p.external_id for p in second.posts]
    assert len(got) == len(set(got)) == 150 and "18092245118760011" not in got
    pages = _calls(fake, f"/{USER}/mentions")
    assert len(pages) == 1 + 2  # the first poll's page, then 100 + 50 back to the cursor
    assert "after" in pages[-1].url.params and "next" not in pages[-1].url.params
    third = await again.poll_once(second.cursor)
    assert third.posts == []


async def test_without_app_review_the_search_finds_only_own_posts(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    fake.approved.clear()
    source, _, _ = build(client, clock, replies=False)
    batch = await source.poll_once(None)
    # Search sees only the brand's own post (which is no mention); mentions only the tester's.
    assert [p.external_id for p in batch.posts] == ["18092245118760011"]


async def test_a_missing_permission_is_the_graph_error(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    fake.granted.discard("threads_manage_mentions")
    source, _, api = build(client, clock)
    with pytest.raises(ApiError) as caught:
        await source.poll_once(None)
    assert caught.value.status == 403
    assert caught.value.body["error"]["code"] == 10
    assert "threads_manage_mentions" in caught.value.body["error"]["message"]
    fake.token = "rotated"
    with pytest.raises(ApiError, match="Invalid OAuth access token"):
        await threads_net.verify(api)


async def test_searches_keep_to_the_quota_and_the_interval(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    terms = fixed_terms("acme", "kettle", "zigbee", "aaa-nothing-matches")
    source, _, _ = build(client, clock, terms=terms, mentions=False, replies=False,
                         search_quota=2)
    batch = await source.poll_once(None)
    # Two counted queries fill the client's quota; "aaa-nothing-matches" (sorted first) has no
    # results, which Threads does not count.
    queries = [r.url.params["q"] for r in _calls(fake, "/keyword_search")]
    assert queries == ["aaa-nothing-matches", "acme", "kettle"]
    assert len(fake.search_log) == 2
    # Within search_seconds nothing is searched; after it, the quota still holds for 24 h.
    clock.advance(seconds=200)
    batch = await source.poll_once(batch.cursor)
    assert len(_calls(fake, "/keyword_search")) == 3
    clock.advance(seconds=200)
    batch = await source.poll_once(batch.cursor)
    assert len(_calls(fake, "/keyword_search")) == 3
    clock.advance(hours=24)
    await source.poll_once(batch.cursor)
    assert len(_calls(fake, "/keyword_search")) == 6


async def test_threads_refusing_searches_pauses_them_not_the_rest(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    fake.search_quota = 1  # other apps used this user's queries
    fake.search_log = [clock().timestamp()]
    source, _, _ = build(client, clock)
    batch = await source.poll_once(None)
    assert {p.external_id for p in batch.posts} == {
        "18092245118760011", "18092245118760012", "18093356229870021"}
    state = json.loads(batch.cursor or "")
    assert state["search_blocked_until"] == int(clock().timestamp()) + 3600
    assert len(_calls(fake, "/keyword_search")) == 1  # one attempt, not retried
    clock.advance(minutes=30)
    await source.poll_once(batch.cursor)
    assert len(_calls(fake, "/keyword_search")) == 1


async def test_the_call_limit_is_waited_out(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await clock.sleep(seconds)

    source, _, _ = build(client, clock, sleep=sleep, search=False, replies=False)
    # One impression: 4,800 calls a day, all used; the oldest leave the window in 90 s.
    fake.impressions = 1
    fake.call_log = [clock().timestamp() - 86_400 + 90] * 4_800
    batch = await source.poll_once(None)
    assert len(batch.posts) == 2
    assert [round(w) // 60 for w in waits] == [1, 1]  # Graph code 17: a minute each


async def test_malformed_items_are_skipped(
        client: httpx.AsyncClient, fake: FakeThreads, clock: Clock) -> None:
    fake.mentions[:0] = [
        {"id": "18092245118769999", "text": "acme", "username": "bad name!",
         "timestamp": "2026-11-20T08:59:59+0000"},
        {"id": "not-a-number", "text": "acme", "username": "x",
         "timestamp": "2026-11-20T08:59:58+0000"},
        {"id": "18092245118769998", "text": 7, "username": "x",
         "timestamp": "2026-11-20T08:59:57+0000"},
        {"id": "18092245118769997", "text": "acme", "username": "x", "timestamp": "soon"},
    ]
    source, _, _ = build(client, clock, search=False, replies=False)
    batch = await source.poll_once(None)
    assert [p.external_id for p in batch.posts] == ["18092245118760011", "18092245118760012"]


async def test_into_the_store_a_restart_and_a_reply_from_the_console(
    client: httpx.AsyncClient, fake: FakeThreads, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate, clock: Clock,
) -> None:
    source, responder, _ = build(client, clock, terms=store_terms(sqlite_store, "threads"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    assert set(views) == {"18092245118760011", "18092245118760012", "18093356229870021",
                          "18091734527310001", "18091734527310003", "18091734527310004"}
    assert {v.brand.name for v in views.values()} == {"Acme"}
    card = views["18092245118760011"].mention
    assert card.url == "https://www.threads.net/@ana.b/post/DCy2BaBbCcD"
    # Each became a card waiting in the outbox for Acme's console channel.
    (delivery,) = sqlite_store.deliveries(mention_id=card.id)
    assert (delivery.platform, delivery.channel) == ("console", "care")
    assert views["18091734527310004"].mention.url == "https://www.threads.net/@phisher_99"
    assert json.loads(sqlite_store.cursor(source=source.name) or "")["mentions"]["t"] == \
        1795165150

    # A restart resumes from the stored cursor: one new mention, nothing twice.
    fake.mentions.insert(0, dict(fake.mentions[0], id="18092245118760099",
                                 timestamp="2026-11-20T09:00:00+0000",
                                 permalink="https://www.threads.net/@ana.b/post/DCy2BzBbCcZ",
                                 text="@acmesupport Acme refund still missing"))
    again, responder, _ = build(client, clock, terms=store_terms(sqlite_store, "threads"))
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    assert len(stored(sqlite_store)) == 7

    result = await console_reply(sqlite_store, {"threads": responder}, card.id or 0,
                                 "Sorry Ana! Please DM us the order number 🙏")
    assert result.ok, result.text
    (posted,) = fake.published
    assert posted["replied_to"] == {"id": "18092245118760011"}
    assert posted["text"] == "Sorry Ana! Please DM us the order number 🙏"
    assert result.text.endswith(posted["permalink"])
    (reply,) = sqlite_store.view(card.id or 0).replies
    assert (reply.state, reply.network_reply_id) == (ReplyState.SENT, posted["id"])
    # Create, status, publish: in that order, the quota checked first.
    writes = [(r.method, r.url.path.removeprefix("/v1.0")) for r in fake.requests
              if r.method == "POST" or "threads_publishing_limit" in r.url.path
              or r.url.path.endswith(tuple(fake.containers))]
    assert writes == [("GET", f"/{USER}/threads_publishing_limit"),
                      ("POST", f"/{USER}/threads"), ("GET", f"/{next(iter(fake.containers))}"),
                      ("POST", f"/{USER}/threads_publish")]
    create = next(r for r in fake.requests if r.method == "POST")
    assert parse_qs(create.content.decode()) == {
        "media_type": ["TEXT"], "text": ["Sorry Ana! Please DM us the order number 🙏"],
        "reply_to_id": ["18092245118760011"]}


async def test_a_crash_between_create_and_publish_never_posts_twice(
    client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    mid = stored_mention(sqlite_store, "threads", "18092245118760011")
    fake.on_publish = "crash"
    with pytest.raises(Crash):
        await console_reply(sqlite_store, {"threads": responder}, mid, "On it!")
    # Recorded before it was sent, and still pending: the container exists, nothing is public.
    (pending,) = sqlite_store.view(mid).replies
    assert pending.state == ReplyState.PENDING
    assert [c["status"] for c in fake.containers.values()] == ["FINISHED"]
    assert fake.published == []

    # After the restart: a new process, the same store. Another reply is refused until the
    # pending one is settled; the orphaned container is never published.
    _, responder, _ = build(client, clock)
    refused = await console_reply(sqlite_store, {"threads": responder}, mid, "On it!")
    assert not refused.ok and "still pending" in refused.text
    assert fake.published == []
    inv = Invocation(user="ana", platform="console", roles=frozenset({Role.RESPONDER}))
    settled = await dispatch(f"/settle {pending.id} failed", inv,
                             Deps(store=sqlite_store, responders={"threads": responder}))
    assert settled.ok, settled.text
    result = await console_reply(sqlite_store, {"threads": responder}, mid, "On it!")
    assert result.ok, result.text
    assert len(fake.published) == 1
    assert [c["status"] for c in fake.containers.values()] == ["FINISHED", "PUBLISHED"]


async def test_a_lost_publish_answer_is_read_from_the_container(
    client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    mid = stored_mention(sqlite_store, "threads", "18092245118760011")
    fake.on_publish = "drop"
    result = await console_reply(sqlite_store, {"threads": responder}, mid, "Hello!")
    assert result.ok, result.text
    (posted,) = fake.published
    (reply,) = sqlite_store.view(mid).replies
    # Found again among the profile's replies: the id and link the lost answer had.
    assert (reply.state, reply.network_reply_id, reply.url) == (
        ReplyState.SENT, posted["id"], posted["permalink"])
    # And once more the answer is lost, but the container did not publish: uncertain.
    other = stored_mention(sqlite_store, "threads", "18092245118760012")
    fake.containers.clear()
    fake.on_publish = None

    async def lost(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/threads_publish"):
            raise httpx.ReadTimeout("lost")
        return await fake(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(lost)) as flaky:
        _, shaky, _ = build(flaky, clock)
        result = await console_reply(sqlite_store, {"threads": shaky}, other, "Hi!")
    assert not result.ok and "settle" in result.text
    assert sqlite_store.view(other).replies[0].state == ReplyState.UNKNOWN
    assert len(fake.published) == 1


async def test_a_container_not_propagated_yet_is_published_after_a_wait(
    client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
) -> None:
    sleep = NoSleep()
    _, responder, _ = build(client, clock, sleep=sleep)
    mention = sqlite_store.view(stored_mention(sqlite_store, "threads",
                                               "18092245118760011")).mention
    fake.not_propagated = 2
    posted = await responder.reply(mention=mention, text="Hello")
    assert posted.id == fake.published[0]["id"] and len(fake.published) == 1
    assert sleep.calls == [threads_net.PROPAGATION_WAIT] * 2
    fake.not_propagated = 3  # longer than the client waits: refused, nothing posted
    with pytest.raises(ReplyRejected, match="The requested resource does not exist"):
        await responder.reply(mention=mention, text="Hello again")
    assert len(fake.published) == 1


async def test_the_reply_quota_refuses_before_anything_is_written(
    client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    mention = sqlite_store.view(stored_mention(sqlite_store, "threads",
                                               "18092245118760011")).mention
    fake.published_replies = [clock().timestamp() - 3600] * 1000
    with pytest.raises(ReplyRejected, match="allows 1000 replies in 24 h"):
        await responder.reply(mention=mention, text="Hello")
    assert fake.containers == {}
    # Without threads_content_publish the check cannot be made; the publish itself refuses.
    fake.granted.discard("threads_content_publish")
    with pytest.raises(ReplyRejected, match=r"rate limited .*1000 replies"):
        await responder.reply(mention=mention, text="Hello")
    assert len(fake.containers) == 1 and fake.published == []
    # A day later the quota has room again.
    clock.advance(hours=23)
    assert (await responder.reply(mention=mention, text="Hello")).id


async def test_replies_count_emoji_as_bytes_before_sending_and_threads_refuses_the_rest(
    client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    assert reply_limit(responder) == 500
    assert responder.check("x" * 500) is None
    assert responder.check("😀" * 125) is None  # four UTF-8 bytes each
    assert responder.check("😀" * 126) == "threads allows 500 characters, this reply has 504"
    assert responder.check("ü" * 500) is None  # not an emoji: one each
    mid = stored_mention(sqlite_store, "threads", "18092245118760011")
    result = await console_reply(sqlite_store, {"threads": responder}, mid, "🙏" * 200)
    assert not result.ok and "not sent: threads allows 500 characters" in result.text
    assert fake.requests == [] and sqlite_store.view(mid).replies == []
    # Past the client's check, Threads' own rule refuses: nothing is posted.
    mention = sqlite_store.view(mid).mention
    with pytest.raises(ReplyRejected, match=r"\(#100\) The parameter text must be at most 500"):
        await responder.reply(mention=mention, text="👍🏽" * 63)
    assert fake.containers == {} and fake.published == []
    with pytest.raises(ReplyRejected, match="not a Threads post id"):
        await responder.reply(mention=sqlite_store.view(
            stored_mention(sqlite_store, "threads", "t3_abc")).mention, text="Hi")
    fake.granted.discard("threads_manage_replies")
    with pytest.raises(ReplyRejected, match="lacks a permission"):
        await responder.reply(mention=mention, text="Hi")


def test_the_spec_counts_as_the_fake_does() -> None:
    texts = ["plain", "😀" * 3, "👨‍👩‍👧 family", "🇩🇪 flag", "❤️ love", "e\u0301", "#1 *",
             "日本語 ok", "©®", "☕️☕"]
    assert [specs.threads_length(t) for t in texts] == [
        service_rules.threads_counted(t) for t in texts]


async def test_networks_report_shows_threads_on_off_and_its_check(
        client: httpx.AsyncClient, fake: FakeThreads) -> None:
    def config(**values: Any) -> Any:
        return load_network_config(values, env_file=None)

    off = {s.network: s for s in await registry.report(config(), client)}["threads"]
    assert (off.on, off.ok) == (False, None)
    assert off.detail.startswith("set ECHTZEIT_THREADS_USER_ID and ECHTZEIT_THREADS_ACCESS_")
    on = {s.network: s for s in await registry.report(config(
        threads_user_id=USER, threads_access_token=TOKEN, threads_search_seconds=600,
        threads_replies="false"), client)}["threads"]
    assert on.ok is True
    assert on.detail == ("keyword search every 600 s, @mentions; replies (create + publish); "
                         f"signed in as @acmesupport ({USER})")
    wrong = {s.network: s for s in await registry.report(config(
        threads_user_id=USER, threads_access_token="expired"), client)}["threads"]
    assert wrong.ok is False and "Invalid OAuth access token" in wrong.detail
    fake.granted.discard("threads_manage_mentions")
    lacking = {s.network: s for s in await registry.report(config(
        threads_user_id=USER, threads_access_token=TOKEN), client)}["threads"]
    assert lacking.ok is False
    assert "the token lacks threads_manage_mentions (Graph error 10" in lacking.detail
    off_too = {s.network: s for s in await registry.report(config(
        threads_user_id=USER, threads_access_token=TOKEN, threads_mentions="false"),
        client)}["threads"]
    assert off_too.ok is True and "@mentions" not in off_too.detail


def test_a_query_may_name_threads() -> None:
    from bot.query import describe, parse

    assert describe(parse("acme network:threads")) == "(acme AND network:threads)"


# --- the token, renewed before its 60 days run out (threads_token.py) ---------------------------
# Store-backed tests run on SQLite and on PostgreSQL (the `store` fixture).


def renewing(client: httpx.AsyncClient, store: Store, clock: Clock, *, seed: str = TOKEN,
             sleep: Any = None) -> tuple[threads_net.ThreadsSource, threads_net.ThreadsResponder,
                                         threads_token.RenewedThreadsToken]:
    """One replica's Threads source and responder, its token kept in `store`."""
    token = threads_token.renewed_token(client, api_url=API, store=store, seed=seed,
                                        sleep=sleep or NoSleep(), now=clock)
    source, responder, _ = build(client, clock, search=False, replies=False, renewed=token)
    return source, responder, token


def _refreshes(fake: FakeThreads) -> list[httpx.Request]:
    return [r for r in fake.requests if r.url.path == "/refresh_access_token"]


def _sent_with(fake: FakeThreads) -> str:
    """The token of the last call to the API (not the refresh)."""
    last = [r for r in fake.requests if r.url.path.startswith("/v1.0/")][-1]
    return last.headers["Authorization"].removeprefix("Bearer ")


async def test_the_token_is_renewed_before_it_runs_out_and_the_new_one_is_used(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock) -> None:
    source, _, _ = renewing(client, store, clock)
    await source.poll_once(None)
    clock.advance(hours=23)  # too young to refresh (Threads would refuse it)
    await source.poll_once(None)
    assert fake.refreshes == [] and _sent_with(fake) == TOKEN
    # The configured token's end is unknown: it is renewed once it is a day old, and from
    # then on the end is known.
    clock.advance(hours=2)
    await source.poll_once(None)
    assert fake.refreshes == [TOKEN] and _sent_with(fake) == "THAAGrenewed1x"
    [request] = _refreshes(fake)
    assert str(request.url) == ("https://graph.threads.net/refresh_access_token?grant_type="
                                f"th_refresh_token&access_token={TOKEN}")
    row = store.credential(name="threads")
    assert row is not None and row.secret == "THAAGrenewed1x"
    assert threads_token._aware(row.expires_at) == clock() + timedelta(days=60)
    # 8 days before the end: kept; 6 days before: renewed, the new token used at once.
    clock.advance(days=52)
    await source.poll_once(None)
    assert fake.refreshes == [TOKEN] and _sent_with(fake) == "THAAGrenewed1x"
    clock.advance(days=2)
    await source.poll_once(None)
    assert fake.refreshes == [TOKEN, "THAAGrenewed1x"] and _sent_with(fake) == "THAAGrenewed2x"
    # Long past the configured token's 60 days, the profile is still read and replied from.
    clock.advance(days=40)
    batch = await source.poll_once(None)
    assert len(batch.posts) == 2 and fake.valid(_sent_with(fake)) and not fake.valid(TOKEN)
    assert len(fake.refreshes) == 2
    # Only the refresh carries the token in its URL (as Threads documents it).
    assert all("access_token" not in str(r.url) for r in fake.requests
               if r.url.path != "/refresh_access_token")


async def test_two_replicas_renew_once(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, database_url: str,
        clock: Clock) -> None:
    other = Store.from_url(database_url, now=clock)  # the second replica's own connections
    try:
        a, _, _ = renewing(client, store, clock)
        b, _, _ = renewing(client, other, clock)
        c, _, _ = renewing(client, store, clock)  # a second source on the same store
        await asyncio.gather(a.poll_once(None), b.poll_once(None), c.poll_once(None))
        for days in (1.1, 53.5, 53.5):
            clock.advance(days=days)
            batches = await asyncio.gather(a.poll_once(None), b.poll_once(None),
                                           c.poll_once(None))
            assert all(len(batch.posts) == 2 for batch in batches)
        assert fake.refreshes == [TOKEN, "THAAGrenewed1x", "THAAGrenewed2x"]
        sent = {r.headers["Authorization"] for r in
                [r for r in fake.requests if r.url.path.startswith("/v1.0/")][-3:]}
        assert sent == {"Bearer THAAGrenewed3x"}
        row = other.credential(name="threads")
        assert row is not None and row.secret == "THAAGrenewed3x" and row.lease_holder is None
    finally:
        other.close()


async def test_a_replica_that_finds_the_renewal_under_way_waits_for_its_token(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, database_url: str,
        clock: Clock) -> None:
    other = Store.from_url(database_url, now=clock)
    at_endpoint, looked = asyncio.Event(), asyncio.Event()

    async def hold() -> None:  # A's refresh waits at Threads until B has looked
        at_endpoint.set()
        await asyncio.wait_for(looked.wait(), 10)

    class Watch(NoSleep):
        async def __call__(self, seconds: float) -> None:
            looked.set()
            await super().__call__(seconds)

    watch = Watch()
    try:
        a, _, _ = renewing(client, store, clock)
        b, _, _ = renewing(client, other, clock, sleep=watch)
        await asyncio.gather(a.poll_once(None), b.poll_once(None))
        clock.advance(hours=25)
        fake.on_refresh = hold
        first = asyncio.create_task(a.poll_once(None))
        await asyncio.wait_for(at_endpoint.wait(), 10)
        await b.poll_once(None)
        await first
        assert watch.calls and watch.calls[0] == threads_token.LOOK
        assert fake.refreshes == [TOKEN] and _sent_with(fake) == "THAAGrenewed1x"
    finally:
        other.close()


async def test_a_restart_takes_the_stored_token(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock) -> None:
    first, _, _ = renewing(client, store, clock)
    await first.poll_once(None)  # the configured token is first seen when it is issued
    clock.advance(hours=25)
    await first.poll_once(None)
    assert fake.refreshes == [TOKEN]
    # Restarted with ECHTZEIT_THREADS_ACCESS_TOKEN unchanged: the stored (newer) token is used,
    # and not renewed again (a day old only).
    fake.revoked.add(TOKEN)
    second, responder, _ = renewing(client, store, clock)
    await second.poll_once(None)
    assert _sent_with(fake) == "THAAGrenewed1x" and fake.refreshes == [TOKEN]
    mid = stored_mention(store, "threads", "18092245118760011")
    result = await console_reply(store, {"threads": responder}, mid, "On it!")
    assert result.ok, result.text
    assert _sent_with(fake) == "THAAGrenewed1x" and len(fake.published) == 1


async def test_a_new_configured_token_replaces_the_stored_chain(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock) -> None:
    old, _, _ = renewing(client, store, clock)
    await old.poll_once(None)
    clock.advance(hours=25)
    await old.poll_once(None)
    fresh = fake.authorize()  # the operator authorized the app again
    new, _, _ = renewing(client, store, clock, seed=fresh)
    await new.poll_once(None)
    assert _sent_with(fake) == fresh
    row = store.credential(name="threads")
    assert row is not None and row.secret == fresh
    assert row.origin == threads_token.origin_of(fresh) and row.expires_at is None
    # A replica still running with the old setting follows the stored chain within the hour
    # (it does not put its old token back).
    clock.advance(hours=1)
    await old.poll_once(None)
    assert _sent_with(fake) == fresh and fake.refreshes == [TOKEN]
    again = store.credential(name="threads")
    assert again is not None and again.secret == fresh


async def test_a_refused_renewal_is_reported_once_with_what_to_do(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    source, responder, _ = renewing(client, store, clock)
    await source.poll_once(None)
    clock.advance(days=61)  # the bot was off for two months: the token ran out unrenewed
    caplog.set_level(logging.INFO)
    with pytest.raises(ApiError, match="ECHTZEIT_THREADS_ACCESS_TOKEN") as caught:
        await source.poll_once(None)
    assert isinstance(caught.value, threads_token.TokenRefused)
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "Threads will not renew the access token, it is invalid or expired (Graph error " \
           "190: Error validating access token: Session has expired" in line.getMessage()
    assert "authorize the Threads app for the brand's profile again" in line.getMessage()
    # Nothing more is asked of Threads with it, and no more ERROR lines follow; a reply says
    # what to do.
    calls = len(fake.requests)
    with pytest.raises(threads_token.TokenRefused):
        await source.poll_once(None)
    mid = stored_mention(store, "threads", "18092245118760011")
    result = await console_reply(store, {"threads": responder}, mid, "Sorry!")
    assert not result.ok and "ECHTZEIT_THREADS_ACCESS_TOKEN" in result.text
    assert len(fake.requests) == calls and len(fake.refreshes) == 0
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    # `echtzeit networks` says so too, from the stored token.
    values: dict[str, Any] = {"threads_user_id": USER, "threads_access_token": TOKEN}
    [status] = [s for s in await registry.report(load_network_config(values, env_file=None),
                                                 client, credentials=_reader(store), now=clock)
                if s.network == "threads"]
    assert status.ok is False
    assert "credentials do not work: HTTP 400: the token is invalid or expired (Graph " \
           "error 190: Error validating access token: Session has expired" in status.detail
    assert "put it in ECHTZEIT_THREADS_ACCESS_TOKEN and restart Echtzeit" in status.detail
    # The operator authorizes again and restarts: it works, and the new chain is renewed.
    restarted, _, _ = renewing(client, store, clock, seed=fake.authorize())
    assert len((await restarted.poll_once(None)).posts) == 2


async def test_a_revoked_token_is_not_renewed_and_networks_shows_the_end(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    source, _, _ = renewing(client, store, clock)
    await source.poll_once(None)
    clock.advance(hours=25)
    await source.poll_once(None)  # renewed: the end is known (60 days from now)
    values: dict[str, Any] = {"threads_user_id": USER, "threads_access_token": TOKEN}

    async def status() -> registry.Status:
        [one] = [s for s in await registry.report(load_network_config(values, env_file=None),
                                                  client, credentials=_reader(store), now=clock)
                 if s.network == "threads"]
        return one

    ok = await status()
    assert ok.ok is True and _sent_with(fake) == "THAAGrenewed1x"
    assert "token renewed by Echtzeit (stored 2026-11-21, valid until 2027-01-20)" in ok.detail
    # The profile removed the app: renewal is refused (Graph error 190), reported once.
    fake.revoked.add("THAAGrenewed1x")
    clock.advance(days=54)
    caplog.set_level(logging.INFO)
    with pytest.raises(threads_token.TokenRefused):
        await source.poll_once(None)
    assert fake.refreshes == [TOKEN] and len(_refreshes(fake)) == 2
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    # Past the stored end `echtzeit networks` names it, without asking Threads.
    clock.advance(days=7)
    calls = len(fake.requests)
    gone = await status()
    assert gone.ok is False and len(fake.requests) == calls
    assert "the stored token expired on 2027-01-20 and cannot be renewed: authorize the " \
           "Threads app" in gone.detail


async def test_a_renewal_without_an_answer_is_tried_again_an_hour_later(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock) -> None:
    down = {"left": 3}  # Threads answers 503 to the three tries of one renewal

    async def unavailable() -> None:
        if down["left"]:
            down["left"] -= 1
            raise httpx.ConnectError("graph.threads.net unreachable")

    fake.on_refresh = unavailable
    source, _, _ = renewing(client, store, clock)
    await source.poll_once(None)
    clock.advance(hours=25)
    assert len((await source.poll_once(None)).posts) == 2  # the current token still works
    assert fake.refreshes == [] and _sent_with(fake) == TOKEN and down["left"] == 0
    clock.advance(minutes=30)
    await source.poll_once(None)
    assert fake.refreshes == []
    clock.advance(minutes=31)
    await source.poll_once(None)
    assert fake.refreshes == [TOKEN] and _sent_with(fake) == "THAAGrenewed1x"


async def test_a_throttled_renewal_is_no_refusal(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    fake.refresh_throttled = 1
    source, _, _ = renewing(client, store, clock)
    await source.poll_once(None)
    clock.advance(hours=25)
    caplog.set_level(logging.INFO)
    assert len((await source.poll_once(None)).posts) == 2
    assert fake.refreshes == [] and not [r for r in caplog.records
                                        if r.levelno >= logging.ERROR]
    assert "trying again in an hour" in caplog.text
    clock.advance(hours=1)
    await source.poll_once(None)
    assert fake.refreshes == [TOKEN] and _sent_with(fake) == "THAAGrenewed1x"


async def test_renewals_log_no_token(
        client: httpx.AsyncClient, fake: FakeThreads, sqlite_store: Store, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, log_level="DEBUG")  # type: ignore[call-arg]
    networks = load_network_config({"threads_user_id": USER,
                                    "threads_access_token": SecretStr(TOKEN)}, env_file=None)
    stream = io.StringIO()
    caplog.set_level(logging.DEBUG)
    handler = setup_logging(settings, stream=stream, also=networks.models())
    try:
        source, _, _ = renewing(client, sqlite_store, clock)
        await source.poll_once(None)
        for days in (1.1, 54, 54):
            clock.advance(days=days)
            await source.poll_once(None)
        fake.revoked.add(fake.token)
        clock.advance(days=54)
        with pytest.raises(threads_token.TokenRefused):
            await source.poll_once(None)
    finally:
        logging.getLogger().removeHandler(handler)
    text = caplog.text + stream.getvalue()
    assert "renewed the access token" in text and "Threads will not renew" in text
    assert len(fake.refreshes) == 3
    assert [t for t in fake.issued if t in stream.getvalue()] == []
    assert [t for t in fake.issued if t in caplog.text] == []


async def test_the_registry_wires_the_renewed_token(
        client: httpx.AsyncClient, fake: FakeThreads, store: Store, clock: Clock) -> None:
    values: dict[str, Any] = {"threads_user_id": USER, "threads_access_token": TOKEN,
                              "threads_api_url": API}
    nets = registry.build(load_network_config(values, env_file=None), store, client=client)
    responder = nets.responders["threads"]
    assert isinstance(responder, threads_net.ThreadsResponder)
    assert isinstance(getattr(responder.api.auth, "__self__", None),
                      threads_token.RenewedThreadsToken)
    [source] = [s for s in nets.sources if s.name == f"threads:{USER}"]
    assert isinstance(source, threads_net.ThreadsSource)
    assert source.api.auth == responder.api.auth == source.search_api.auth
    await source.load()
    row = store.credential(name="threads")
    assert row is not None and row.secret == TOKEN and row.expires_at is None
    # Before the bot stored anything `echtzeit networks` checks the configured token.
    fresh = {"threads_user_id": USER, "threads_access_token": fake.authorize()}
    [status] = [s for s in await registry.report(load_network_config(fresh, env_file=None),
                                                 client, credentials=_reader(store), now=clock)
                if s.network == "threads"]
    assert status.ok is True and "token as configured (renewed in the database" in status.detail
    assert fake.refreshes == []


def _reader(store: Store) -> Callable[[str], Any]:
    return lambda name: store.credential(name=name)


def test_networks_reads_the_stored_token_and_makes_no_database(
        tmp_path: Path, sqlite_url: str, sqlite_store: Store) -> None:
    from echtzeit.cli import _stored_credentials

    missing = tmp_path / "nowhere" / "echtzeit.db"
    assert _stored_credentials(f"sqlite:///{missing}")("threads") is None
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"  # a database the bot never migrated
    sqlite3.connect(empty).close()
    assert _stored_credentials(f"sqlite:///{empty}")("threads") is None
    assert _stored_credentials(sqlite_url)("threads") is None
    sqlite_store.seed_credential(name="threads", secret=TOKEN,
                                 origin=threads_token.origin_of(TOKEN))
    row = _stored_credentials(sqlite_url)("threads")
    assert row is not None and row.secret == TOKEN and row.expires_at is None
