"""Lemmy against a fake instance (lemmy.world) at the HTTP boundary: API v3 search, community
listings, login and comments, with payload shapes from tests/fixtures/lemmy (Lemmy 0.19's
PostView / CommentView) and the instance's refusals from service_rules.py."""

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
from integrations.networks import lemmy_net, registry
from integrations.networks.settings import load_network_config
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

WEB = "https://lemmy.world"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _like(pattern: str, text: Any) -> bool:
    """Lemmy's fuzzy_search: ILIKE '%q%' with the spaces of q as '%'."""
    parts = [re.escape(p) for p in pattern.split(" ")]
    return isinstance(text, str) and re.search(".*".join(parts), text, re.I | re.S) is not None


class FakeLemmy:
    """lemmy.world's API v3, as strict as Lemmy 0.19 about what this client uses."""

    def __init__(self) -> None:
        self.search_posts: list[Any] = fixture("lemmy", "search_posts.json")["posts"]
        self.search_comments: list[Any] = fixture("lemmy", "search_comments.json")["comments"]
        self.community_posts: list[Any] = fixture("lemmy", "community_posts.json")["posts"]
        self.community_comments: list[Any] = fixture(
            "lemmy", "community_comments.json")["comments"]
        self.requests: list[httpx.Request] = []
        self.comments: list[dict[str, Any]] = []
        self.jwts: set[str] = set()
        self.logins = 0
        self.rate_limited: dict[str, list[httpx.Response]] = {}

    def expire(self) -> None:
        """Every JWT stops working (a logout elsewhere, a password change, a rotated key)."""
        self.jwts.clear()

    def add_post(self, n: int, title: str) -> int:
        view = copy.deepcopy(self.search_posts[0])
        pid = 23200000 + n
        view["post"].update(id=pid, name=title, ap_id=f"{WEB}/post/{pid}",
                            published=f"2026-11-20T09:{n // 60:02d}:{n % 60:02d}.000000Z")
        self.search_posts.insert(0, view)
        return pid

    def _user(self, request: httpx.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        # An unknown JWT is ignored (src/session_middleware.rs): the request is anonymous.
        return auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self.jwts

    @staticmethod
    def _page(items: list[Any], params: httpx.QueryParams) -> list[Any] | None:
        limit, page = int(params.get("limit", "10")), int(params.get("page", "1"))
        if not 1 <= limit <= 50:  # crates/db_schema/src/utils.rs limit_and_offset
            return None
        return items[(page - 1) * limit:page * limit]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, params = request.url.path, request.url.params
        if self.rate_limited.get(path):
            return self.rate_limited[path].pop(0)
        bad = httpx.Response(400, json={"error": "unknown", "message": "Fetch limit is > 50"})
        if path == "/api/v3/user/login" and request.method == "POST":
            body = json.loads(request.content)
            if (body.get("username_or_email"), body.get("password")) != ("AcmeSupport",
                                                                           "hunter2"):
                return httpx.Response(401, json={"error": "incorrect_login"})
            self.logins += 1
            answer = fixture("lemmy", "login.json")
            answer["jwt"] = f"{answer['jwt']}-{self.logins}"
            self.jwts.add(answer["jwt"])
            return httpx.Response(200, json=answer)
        if path == "/api/v3/search":
            assert params["sort"] == "New" and params["listing_type"] == "All"
            kind = {"Posts": "posts", "Comments": "comments"}[params["type_"]]
            if kind == "posts":
                hits = [v for v in self.search_posts if not isinstance(v.get("post"), dict)
                        or _like(params["q"], v["post"].get("name"))
                        or _like(params["q"], v["post"].get("body"))]
            else:
                hits = [v for v in self.search_comments
                        if _like(params["q"], v["comment"].get("content"))]
            page = self._page(hits, params)
            if page is None:
                return bad
            answer: dict[str, Any] = {"type_": params["type_"], "comments": [], "posts": [],
                                      "communities": [], "users": []}
            answer[kind] = page
            return httpx.Response(200, json=answer)
        if path in ("/api/v3/post/list", "/api/v3/comment/list"):
            assert params["community_name"] == "smarthome" and params["sort"] == "New"
            items = self.community_posts if "post" in path else self.community_comments
            page = self._page(items, params)
            if page is None:
                return bad
            key = "posts" if "post" in path else "comments"
            return httpx.Response(200, json={key: page})
        if path == "/api/v3/comment" and request.method == "POST":
            if not self._user(request):
                return httpx.Response(400, json={"error": "not_logged_in"})
            body = json.loads(request.content)
            self.comments.append(body)
            refusal = service_rules.lemmy_comment_content(body.get("content"))
            if refusal is not None:
                return httpx.Response(refusal[0], json=refusal[1])
            return httpx.Response(200, json=fixture("lemmy", "comment_created.json"))
        if path == "/api/v3/comment" and request.method == "GET":
            views = [v for v in self.search_comments if v["comment"]["id"] == int(params["id"])]
            if not views:
                return httpx.Response(404, json={"error": "not_found"})
            return httpx.Response(200, json={"comment_view": views[0], "recipient_ids": []})
        if path == "/api/v3/site":
            site = fixture("lemmy", "site.json")
            if not self._user(request):
                del site["my_user"]
            return httpx.Response(200, json=site)
        return httpx.Response(404, json={"error": "not_found"})


@pytest.fixture
def fake() -> FakeLemmy:
    return FakeLemmy()


@pytest.fixture
async def client(fake: FakeLemmy) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, terms: Any = None, sleep: Any = None,
          username: str | None = "AcmeSupport", password: str | None = "hunter2") -> Any:
    return lemmy_net.components(
        client, base_url=WEB + "/", username=username, password=password,
        terms=terms or fixed_terms("acme", SearchTerm("acme hub", "phrase")), interval=60,
        communities=["!smarthome"], sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_search_and_community_become_posts(client: httpx.AsyncClient,
                                                 fake: FakeLemmy) -> None:
    source, _, _, _ = build(client)
    assert source.name == "lemmy:lemmy.world"
    batch = await source.poll_once(None)
    ids = [p.external_id for p in batch.posts]
    # "acme" then "acme hub": posts, then comments; the deleted post and the brand account's
    # own comment are left out; the community's posts and comments follow.
    assert ids == ["post:23114567", "post:23114102", "comment:13570021",
                   "post:23114567", "comment:13570021",
                   "post:23114600", "post:23114567", "comment:13570100", "comment:13570090"]
    by_id = {p.external_id: p for p in batch.posts}
    hub = by_id["post:23114567"]
    assert hub.text == ("Acme Hub keeps losing devices after update\n\nSince the 4.2 firmware "
                        "my Acme Hub drops every Zigbee device overnight. Anyone else?")
    assert hub.url == "https://lemmy.world/post/23114567"
    assert (hub.likes, hub.replies, hub.reposts) == (57, 23, None)
    assert (hub.author.handle, hub.author.name, hub.author.followers) == (
        "wired_wendy@lemmy.world", "Wendy", None)
    assert hub.created_at == datetime(2026, 11, 20, 8, 59, 0, 412933, tzinfo=UTC)
    assert hub.extra == {"community": "smarthome@lemmy.world",
                         "ap_id": "https://lemmy.world/post/23114567"}
    remote = by_id["post:23114102"]
    assert remote.author.handle == "klaus@feddit.org"  # actor_id's host for remote users
    assert remote.url == "https://lemmy.world/post/23114102"  # our instance's id, not ap_id
    assert remote.text.endswith("\n\nhttps://www.mdr.de/nachrichten/acme-leipzig-100.html")
    comment = by_id["comment:13570021"]
    assert comment.url == "https://lemmy.world/comment/13570021"
    assert (comment.in_reply_to, comment.likes, comment.replies) == ("post:23114567", 14, 1)
    assert comment.author.handle == "neat_freak@sh.itjust.works"
    assert json.loads(batch.cursor or "") == {
        "posts:acme": "2026-11-20T08:59:00.412933+00:00",
        "comments:acme": "2026-11-20T08:59:10+00:00",
        "posts:acme hub": "2026-11-20T08:59:00.412933+00:00",
        "comments:acme hub": "2026-11-20T08:58:30.772101+00:00",
        "community-posts:smarthome": "2026-11-20T08:59:40+00:00",
        "community-comments:smarthome": "2026-11-20T08:59:50.250000+00:00"}
    search = next(r for r in fake.requests if r.url.path == "/api/v3/search")
    assert dict(search.url.params) == {"q": "acme", "sort": "New", "listing_type": "All",
                                       "type_": "Posts", "limit": "50", "page": "1"}
    assert search.headers["Authorization"] == "Bearer " + fixture("lemmy", "login.json")[
        "jwt"] + "-1"


async def test_next_poll_pages_back_to_the_cursor(client: httpx.AsyncClient,
                                                  fake: FakeLemmy) -> None:
    source, _, _, session = build(client, terms=fixed_terms("acme"))
    first = await source.poll_once(None)
    new = {f"post:{fake.add_post(n, f'acme thing {n}')}" for n in range(120)}
    second = await source.poll_once(first.cursor)
    got = {p.external_id for p in second.posts if p.external_id.startswith("post:")}
    # Everything new, plus the boundary posts of the search and of the community (same
    # instant as the cursor; the pipeline drops them).
    assert new <= got and got - new == {"post:23114567", "post:23114600"}
    pages = [r.url.params["page"] for r in fake.requests
             if r.url.path == "/api/v3/search" and r.url.params["type_"] == "Posts"]
    assert pages == ["1", "1", "2", "3"]
    third = await source.poll_once(second.cursor)
    assert {p.external_id for p in third.posts} <= {"post:23200119", "comment:13570021",
                                                   "post:23114600", "comment:13570100"}
    assert session.logins == fake.logins == 1  # one login for all of it


async def test_malformed_items_are_skipped(client: httpx.AsyncClient, fake: FakeLemmy) -> None:
    broken = copy.deepcopy(fake.search_posts[0])
    broken["post"]["id"] = "not-a-number"
    no_creator = copy.deepcopy(fake.search_posts[1])
    del no_creator["creator"]
    fake.search_posts[:0] = [broken, no_creator, {"post": {"name": "acme", "published": 7}},
                             {"unexpected": "acme"}]
    source, _, _, _ = build(client, terms=fixed_terms("acme"))
    batch = await source.poll_once(None)
    assert [p.external_id for p in batch.posts if p.external_id.startswith("post:")] == [
        "post:23114567", "post:23114102", "post:23114600", "post:23114567"]


async def test_rate_limit_answers_are_waited_out(client: httpx.AsyncClient,
                                                 fake: FakeLemmy) -> None:
    sleep = NoSleep()
    source, _, _, _ = build(client, sleep=sleep, terms=fixed_terms("acme"))
    status, body = service_rules.LEMMY_RATE_LIMITED
    fake.rate_limited["/api/v3/search"] = [
        httpx.Response(status, json=body),  # Lemmy's own limiter: 400 rate_limit_error
        httpx.Response(429, text="Too Many Requests", headers={"Retry-After": "30"}),  # proxy
    ]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 7
    assert lemmy_net.RATE_WAIT <= sleep.calls[0] < lemmy_net.RATE_WAIT + 1
    assert 30 <= sleep.calls[1] < 31


async def test_an_expired_jwt_means_one_new_login(client: httpx.AsyncClient, fake: FakeLemmy,
                                                  sqlite_store: Store) -> None:
    source, responder, _, session = build(client)
    await source.poll_once(None)
    fake.expire()
    mention = sqlite_store.view(stored_mention(sqlite_store, "lemmy", "post:23114567")).mention
    posted = await responder.reply(mention=mention, text="Hello from Acme")
    assert posted.id == "comment:13570777"
    assert session.logins == fake.logins == 2
    # Refused as not_logged_in, then sent with the new JWT.
    assert [r.url.path for r in fake.requests if r.method == "POST"] == [
        "/api/v3/user/login", "/api/v3/comment", "/api/v3/user/login", "/api/v3/comment"]
    await responder.reply(mention=mention, text="Again")
    assert fake.logins == 2


async def test_a_wrong_password_is_reported(client: httpx.AsyncClient) -> None:
    source, _, api, session = build(client, password="wrong")
    with pytest.raises(Exception, match="incorrect_login"):
        await source.poll_once(None)
    with pytest.raises(Exception, match="Lemmy refused the login: incorrect_login"):
        await lemmy_net.verify(api, session)


async def test_anonymous_reads_and_no_replies(client: httpx.AsyncClient,
                                              fake: FakeLemmy) -> None:
    source, responder, api, session = build(client, username=None, password=None)
    assert responder is None
    batch = await source.poll_once(None)
    # Without an account its own comments are not known as such: 10 rather than 9.
    assert len(batch.posts) == 10 and fake.logins == 0
    assert all("Authorization" not in r.headers for r in fake.requests)
    assert await lemmy_net.verify(api, session) == "anonymous on Lemmy.World (read-only)"


async def test_into_the_store_a_restart_and_replies_from_the_console(
    client: httpx.AsyncClient, fake: FakeLemmy, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, responder, _, _ = build(client, terms=store_terms(sqlite_store, "lemmy"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    # The community's Zigbee question never says acme: the pipeline drops it.
    assert set(views) == {"post:23114567", "post:23114102", "comment:13570021",
                          "comment:13570100"}
    assert {v.brand.name for v in views.values()} == {"Acme"}
    saved = sqlite_store.cursor(source=source.name)
    assert saved is not None and json.loads(saved)["posts:acme"] == (
        "2026-11-20T08:59:00.412933+00:00")

    # A restart resumes from the saved cursor: one new post, nothing twice.
    fake.add_post(1, "acme support was quick today")
    again, responder, _, _ = build(client, terms=store_terms(sqlite_store, "lemmy"))
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    assert len(stored(sqlite_store)) == 5

    hub = views["post:23114567"].mention
    result = await console_reply(sqlite_store, {"lemmy": responder}, hub.id,
                                 "Sorry about that! Please DM us your ticket number.")
    assert result.ok, result.text
    assert result.text.endswith("https://lemmy.world/comment/13570777")
    assert fake.comments == [{"content": "Sorry about that! Please DM us your ticket number.",
                              "post_id": 23114567}]
    (reply,) = sqlite_store.view(hub.id).replies
    assert (reply.state, reply.network_reply_id) == (ReplyState.SENT, "comment:13570777")

    # Replying to a comment names its post and the comment as parent.
    comment = views["comment:13570021"].mention
    result = await console_reply(sqlite_store, {"lemmy": responder}, comment.id, "Hi!")
    assert result.ok, result.text
    assert fake.comments[1] == {"content": "Hi!", "post_id": 23114567, "parent_id": 13570021}

    # Lemmy's comment limiter (6 in 10 minutes by default) refuses; nothing is retried.
    status, body = service_rules.LEMMY_RATE_LIMITED
    fake.rate_limited["/api/v3/comment"] = [httpx.Response(status, json=body)]
    result = await console_reply(sqlite_store, {"lemmy": responder}, hub.id, "Again")
    assert not result.ok and "rate limited by Lemmy" in result.text
    assert sqlite_store.view(hub.id).replies[-1].state == ReplyState.FAILED
    assert len(fake.comments) == 2


async def test_the_check_refuses_an_over_long_comment_before_sending(
    client: httpx.AsyncClient, fake: FakeLemmy, sqlite_store: Store,
) -> None:
    _, responder, _, _ = build(client)
    assert responder.check("x" * 10_000) is None
    # UTF-16 code units: an emoji outside the BMP counts twice.
    assert responder.check("🙄" * 5_000) is None
    assert responder.check("🙄" * 5_001) == (
        "lemmy allows 10000 characters, this reply has 10002")
    mid = stored_mention(sqlite_store, "lemmy", "post:23114567")
    result = await console_reply(sqlite_store, {"lemmy": responder}, mid, "x" * 10_001)
    assert not result.ok
    assert "not sent: lemmy allows 10000 characters, this reply has 10001" in result.text
    assert fake.comments == [] and sqlite_store.view(mid).replies == []


async def test_lemmy_refuses_an_over_long_comment_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeLemmy, sqlite_store: Store,
) -> None:
    """reply() sends what it is given (the check is responder.check, run by /reply); Lemmy's
    400 invalid_body_field comes back as ReplyRejected."""
    _, responder, _, _ = build(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "lemmy", "post:23114567")).mention
    with pytest.raises(ReplyRejected, match="HTTP 400: invalid_body_field"):
        await responder.reply(mention=mention, text="🙄" * 5_001)
    assert len(fake.comments) == 1  # it reached Lemmy, which said no
    posted = await responder.reply(mention=mention, text="ü" * 10_000)  # one unit each
    assert posted.id == "comment:13570777"
    # A comment stored without in_reply_to: its post is looked up first.
    comment = sqlite_store.view(stored_mention(sqlite_store, "lemmy", "comment:13570021")).mention
    await responder.reply(mention=comment, text="Hi")
    assert fake.comments[-1] == {"content": "Hi", "post_id": 23114567, "parent_id": 13570021}
    gone = sqlite_store.view(stored_mention(sqlite_store, "lemmy", "comment:99")).mention
    with pytest.raises(ReplyRejected, match="post of Lemmy comment 99 is unknown: HTTP 404"):
        await responder.reply(mention=gone, text="Hi")
    other = sqlite_store.view(stored_mention(sqlite_store, "lemmy", "t3_abc")).mention
    with pytest.raises(ReplyRejected, match="not a Lemmy post or comment"):
        await responder.reply(mention=other, text="Hi")


async def test_networks_report_shows_lemmy_on_off_and_its_check(
    client: httpx.AsyncClient, fake: FakeLemmy,
) -> None:
    def config(**values: Any) -> Any:
        return load_network_config(values, env_file=None)

    off = {s.network: s for s in await registry.report(config(), client)}["lemmy"]
    assert (off.on, off.detail) == (False, "set ECHTZEIT_LEMMY_BASE_URL (and "
                                           "ECHTZEIT_LEMMY_USERNAME/PASSWORD to reply)")
    on = {s.network: s for s in await registry.report(config(
        lemmy_base_url=WEB, lemmy_username="AcmeSupport", lemmy_password="hunter2",
        lemmy_communities="smarthome,!technik@feddit.org"), client)}["lemmy"]
    assert on.ok is True
    assert on.detail == ("search on lemmy.world; new posts and comments of !smarthome, "
                         "!technik@feddit.org; replies; signed in as AcmeSupport@lemmy.world")
    wrong = {s.network: s for s in await registry.report(config(
        lemmy_base_url=WEB, lemmy_username="AcmeSupport", lemmy_password="nope"),
        client)}["lemmy"]
    assert wrong.ok is False and "incorrect_login" in wrong.detail
    line = next(x for x in registry.render([off, on, wrong]) if "FAIL" in x)
    assert line.startswith("lemmy  FAIL  credentials do not work: HTTP 401: Lemmy refused")


def test_a_query_may_name_lemmy() -> None:
    from bot.query import describe, parse

    assert describe(parse("acme network:lemmy")) == "(acme AND network:lemmy)"
