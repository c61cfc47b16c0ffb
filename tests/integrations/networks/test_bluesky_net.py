"""Bluesky against a fake PDS (httpx.MockTransport) speaking XRPC with the lexicons' shapes,
and a local Jetstream WebSocket server sending real-shaped commit events."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import bluesky_common, bluesky_jetstream, bluesky_net
from integrations.networks.terms import fixed_terms, store_terms
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    FIXTURES,
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
    stored_mention,
)

PDS = "https://pds.example"
HANDLE = "acme.example.com"
PASSWORD = "abcd-efgh-ijkl-mnop"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def xrpc_error(status: int, error: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "message": message})


class FakePDS:
    """A PDS that proxies app.bsky.* to its AppView, as the lexicons describe them."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = fixture("bluesky", "search_posts.json")["posts"]
        self.profiles = fixture("bluesky", "get_profiles.json")["profiles"]
        self.session = fixture("bluesky", "create_session.json")
        self.valid_access = {self.session["accessJwt"]}
        self.sessions_created = 0
        self.refreshed = 0
        self.records: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        self.fail: dict[str, list[httpx.Response]] = {}
        self.handles = {"mira.bsky.social": "did:plc:k7uoclxyzq4f2bmwdy3gmx6p"}

    def add(self, n: int, text: str) -> dict[str, Any]:
        post = copy.deepcopy(self.posts[0])
        post["uri"] = f"at://did:plc:k7uoclxyzq4f2bmwdy3gmx6p/app.bsky.feed.post/3lby{n:09d}"
        post["record"]["text"] = text
        post["record"]["createdAt"] = f"2026-11-20T08:30:{n % 60:02d}.{n:06d}Z"
        post["indexedAt"] = f"2026-11-20T08:30:{n % 60:02d}.{n:06d}Z"
        self.posts.append(post)
        return post

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = request.url.path.removeprefix("/xrpc/")
        if self.fail.get(method):
            return self.fail[method].pop(0)
        if method == "com.atproto.server.createSession":
            body = json.loads(request.content)
            if (body["identifier"], body["password"]) != (HANDLE, PASSWORD):
                return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
            self.sessions_created += 1
            return httpx.Response(200, json=self.session)
        if method == "com.atproto.server.refreshSession":
            if request.headers["Authorization"] != f"Bearer {self.session['refreshJwt']}":
                return xrpc_error(400, "ExpiredToken", "Token has expired")
            self.refreshed += 1
            fresh = dict(self.session, accessJwt=f"access-{self.refreshed + 1}")
            self.valid_access.add(fresh["accessJwt"])
            return httpx.Response(200, json=fresh)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.valid_access:
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        params = request.url.params
        if method == "app.bsky.feed.searchPosts":
            q = params["q"].strip('"').lstrip("#").lower()
            hits = [p for p in self.posts if q in p["record"]["text"].lower()]
            if "since" in params:
                hits = [p for p in hits if bluesky_net.sort_at(p) >= params["since"]]
            hits.sort(key=lambda p: p["indexedAt"], reverse=True)
            start = int(params.get("cursor", "0"))
            limit = int(params["limit"])
            page = hits[start:start + limit]
            body: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
            if start + limit < len(hits):
                body["cursor"] = str(start + limit)
            return httpx.Response(200, json=body, headers={
                "RateLimit-Limit": "3000", "RateLimit-Remaining": "2999",
                "RateLimit-Reset": str(int(NOW.timestamp()) + 300),
                "RateLimit-Policy": "3000;w=300"})
        if method == "app.bsky.actor.getProfiles":
            wanted = params.get_list("actors")
            return httpx.Response(200, json={
                "profiles": [p for p in self.profiles if p["did"] in wanted]})
        if method == "app.bsky.feed.getPosts":
            wanted = params.get_list("uris")
            return httpx.Response(200, json={"posts": [p for p in self.posts
                                                       if p["uri"] in wanted]})
        if method == "com.atproto.identity.resolveHandle":
            did = self.handles.get(params["handle"])
            if did is None:
                return xrpc_error(400, "InvalidRequest", "Unable to resolve handle")
            return httpx.Response(200, json={"did": did})
        if method == "com.atproto.repo.createRecord":
            body = json.loads(request.content)
            self.records.append(body)
            if body["repo"] != self.session["did"]:
                return xrpc_error(400, "InvalidRequest", "repo does not match the session")
            # 3,000 UTF-8 bytes, then 300 graphemes: bluesky-social/atproto
            # lexicons/app/bsky/feed/post.json; 400 InvalidRequest (service_rules.py).
            refused = service_rules.bluesky_post_text(body["record"].get("text"))
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            return httpx.Response(200, json=fixture("bluesky", "create_record.json"))
        return xrpc_error(501, "MethodNotImplemented", f"{method} not implemented")


@pytest.fixture
def fake() -> FakePDS:
    return FakePDS()


@pytest.fixture
async def client(fake: FakePDS) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def parts(client: httpx.AsyncClient, terms: Any = None, sleep: Any = None) -> Any:
    sleep = sleep or NoSleep()
    session = bluesky_net.Session(client, PDS, HANDLE, PASSWORD, sleep=sleep, now=lambda: NOW)
    profiles = bluesky_common.Profiles(session.get)
    search = bluesky_net.BlueskySearch(session, profiles, terms or fixed_terms("acme"),
                                       interval=60, sleep=sleep)
    return session, search, bluesky_net.BlueskyResponder(session, now=lambda: NOW)


async def test_search_maps_post_views_with_follower_counts(
    client: httpx.AsyncClient, fake: FakePDS
) -> None:
    session, search, _ = parts(client)
    batch = await search.poll_once(None)
    mira, tobi = batch.posts
    assert mira.external_id == "at://did:plc:k7uoclxyzq4f2bmwdy3gmx6p/app.bsky.feed.post/3lbx7r2vq4s2k"
    assert mira.url == "https://bsky.app/profile/mira.bsky.social/post/3lbx7r2vq4s2k"
    assert (mira.author.handle, mira.author.name, mira.author.followers) == (
        "mira.bsky.social", "Mira ☕", 2841)
    assert (mira.likes, mira.reposts, mira.replies, mira.lang) == (12, 3, 1, "en")
    assert mira.created_at == datetime(2026, 11, 20, 8, 12, 44, 518000, tzinfo=UTC)
    assert tobi.author.name is None and tobi.author.followers == 17
    assert tobi.in_reply_to == "at://did:plc:acmebrand7x3kq2n5zh4wuvbe/app.bsky.feed.post/3lbx6aaaaaa2a"
    assert json.loads(batch.cursor or "") == {"search": {"acme": "2026-11-20T08:12:44.518000Z"}}
    search_req = next(r for r in fake.requests if r.url.path.endswith("searchPosts"))
    assert search_req.headers["Authorization"] == f"Bearer {session.access}"
    assert search_req.url.params["sort"] == "latest"


async def test_later_polls_page_back_to_the_cursor(
    client: httpx.AsyncClient, fake: FakePDS
) -> None:
    _, search, _ = parts(client)
    first = await search.poll_once(None)
    added = [fake.add(n, f"acme post {n}")["uri"] for n in range(150)]
    second = await search.poll_once(first.cursor)
    # `since` is inclusive: the boundary post comes again and the pipeline drops it.
    assert set(added) <= {p.external_id for p in second.posts}
    calls = [r.url.params for r in fake.requests if r.url.path.endswith("searchPosts")]
    assert [c.get("cursor") for c in calls[1:]] == [None, "100"]
    assert all(c["since"] == "2026-11-20T08:12:44.518000Z" for c in calls[1:])


async def test_an_expired_token_is_refreshed_once(client: httpx.AsyncClient, fake: FakePDS) -> None:
    _, search, _ = parts(client)
    await search.poll_once(None)
    fake.valid_access.clear()  # the access token expired
    batch = await search.poll_once(None)
    assert len(batch.posts) == 2
    assert (fake.sessions_created, fake.refreshed) == (1, 1)


async def test_rate_limit_reset_header_is_honoured(client: httpx.AsyncClient,
                                                   fake: FakePDS) -> None:
    sleep = NoSleep()
    _, search, _ = parts(client, sleep=sleep)
    fake.fail["app.bsky.feed.searchPosts"] = [
        httpx.Response(429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                       headers={"RateLimit-Remaining": "0",
                                "RateLimit-Reset": str(int(NOW.timestamp()) + 120)})]
    batch = await search.poll_once(None)
    assert len(batch.posts) == 2
    assert 120 <= sleep.calls[0] < 121


async def test_malformed_views_and_own_posts_are_skipped(
    client: httpx.AsyncClient, fake: FakePDS, caplog: pytest.LogCaptureFixture
) -> None:
    own = fake.add(1, "acme here: sorry for the trouble")
    own["author"] = dict(own["author"], did=fake.session["did"], handle=HANDLE)
    broken = fake.add(2, "acme broken")
    broken["uri"] = "https://not-an-at-uri.example/post/1"
    _, search, _ = parts(client)
    batch = await search.poll_once(None)
    assert len(batch.posts) == 2
    assert "skipped a malformed post" in caplog.text


async def test_wrong_app_password_fails_the_poll_not_the_source(
    client: httpx.AsyncClient, fake: FakePDS
) -> None:
    sleep = NoSleep()
    session = bluesky_net.Session(client, PDS, HANDLE, "wrong", sleep=sleep)
    search = bluesky_net.BlueskySearch(session, bluesky_common.Profiles(session.get),
                                       fixed_terms("acme"), interval=60, sleep=sleep)
    with pytest.raises(Exception, match="Invalid identifier or password"):
        await search.poll_once(None)
    with pytest.raises(Exception, match="401"):
        await bluesky_net.verify(session)


async def test_search_into_the_store_and_replies_from_the_console(
    client: httpx.AsyncClient, fake: FakePDS, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    _, search, responder = parts(client, terms=store_terms(sqlite_store, "bluesky"))
    search.sleep = gate
    await pump_rounds(search, pipeline, gate)
    views = {v.mention.external_id.rsplit("/", 1)[1]: v for v in stored(sqlite_store)}
    assert set(views) == {"3lbx7r2vq4s2k", "3lbx7pzzo2c2y"}
    assert views["3lbx7r2vq4s2k"].author.followers == 2841

    # A reply to a top-level post: root and parent are the post itself.
    mira = views["3lbx7r2vq4s2k"].mention
    text = "@mira.bsky.social sorry! Recall info: https://acme.example/recall. #acme 🚀"
    result = await console_reply(sqlite_store, {"bluesky": responder}, mira.id, text)
    assert result.ok, result.text
    assert "https://bsky.app/profile/acme.example.com/post/3lbxa4ls2zk2e" in result.text
    record = fake.records[0]["record"]
    ref = {"uri": mira.external_id,
           "cid": "bafyreibr6ksxd6vdvvhqjjmm5wgxetlbu6bmqahs6t3zcnbaoxfgkpqnuy"}
    assert record["reply"] == {"root": ref, "parent": ref}
    assert record["text"] == text and record["createdAt"] == "2026-11-20T09:00:00Z"
    raw = text.encode()
    spans = {f["features"][0]["$type"].rsplit("#", 1)[1]:
             raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()
             for f in record["facets"]}
    assert spans == {"mention": "@mira.bsky.social", "link": "https://acme.example/recall",
                     "tag": "#acme"}
    assert record["facets"][0]["features"][0]["did"] == "did:plc:k7uoclxyzq4f2bmwdy3gmx6p"

    # A reply to a reply: root stays the thread's root.
    tobi = views["3lbx7pzzo2c2y"].mention
    result = await console_reply(sqlite_store, {"bluesky": responder}, tobi.id,
                                 "Das tut uns leid! Bitte schick uns eine DM.")
    assert result.ok, result.text
    reply = fake.records[1]["record"]["reply"]
    assert reply["root"]["uri"] == "at://did:plc:acmebrand7x3kq2n5zh4wuvbe/app.bsky.feed.post/3lbx6aaaaaa2a"
    assert reply["parent"]["uri"] == tobi.external_id
    assert "facets" not in fake.records[1]["record"]
    states = [r.state for v in stored(sqlite_store) for r in v.replies]
    assert states == [ReplyState.SENT, ReplyState.SENT]


async def test_reply_checks_graphemes_and_bytes(client: httpx.AsyncClient) -> None:
    _, _, responder = parts(client)
    family = "👨‍👩‍👧"  # five code points, one grapheme
    # 300 graphemes, but 5,400 bytes: the lexicon's byte limit bites first.
    assert responder.check(family * 300) == "bluesky allows 3000 bytes, this reply has 5400"
    assert responder.check("a" * 300) is None
    assert responder.check("a" * 301) == "bluesky allows 300 characters, this reply has 301"
    assert responder.check(family * 150) is None
    assert bluesky_net.graphemes(family * 3) == 3
    assert responder.check("é" * 300) is None


MIRA = "at://did:plc:k7uoclxyzq4f2bmwdy3gmx6p/app.bsky.feed.post/3lbx7r2vq4s2k"


async def test_the_pds_refuses_an_over_long_post_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakePDS, sqlite_store: Store,
) -> None:
    """send() skips our check; the PDS validates the record against the lexicon (bytes
    first, then graphemes) and its 400 InvalidRequest comes back as ReplyRejected."""
    _, _, responder = parts(client)
    mention = sqlite_store.view(stored_mention(sqlite_store, "bluesky", MIRA)).mention
    with pytest.raises(ReplyRejected, match="Record/text must not be longer than 300 graphemes"):
        await responder.send(mention=mention, text="é" * 301)  # 602 bytes: bytes are fine
    family = "👨‍👩‍👧"  # 18 bytes, one grapheme
    with pytest.raises(ReplyRejected, match=r"^HTTP 400: Invalid app.bsky.feed.post record: "
                                            r"Record/text must not be longer than 3000 "
                                            r"characters$"):
        await responder.send(mention=mention, text=family * 167)  # 3,006 bytes
    assert len(fake.records) == 2  # both reached the PDS, which said no
    await responder.send(mention=mention, text=family * 166)  # 2,988 bytes, 166 graphemes
    assert len(fake.records) == 3


async def test_the_check_refuses_an_over_long_reply_before_sending(
    client: httpx.AsyncClient, fake: FakePDS, sqlite_store: Store,
) -> None:
    _, _, responder = parts(client)
    mid = stored_mention(sqlite_store, "bluesky", MIRA)
    for text, why in (("é" * 301, "bluesky allows 300 characters, this reply has 301"),
                      ("👨‍👩‍👧" * 167, "bluesky allows 3000 bytes, this reply has 3006")):
        result = await console_reply(sqlite_store, {"bluesky": responder}, mid, text)
        assert not result.ok and f"not sent: {why}" in result.text
        with pytest.raises(ReplyRejected, match=why):  # reply() checks too
            await responder.reply(mention=sqlite_store.view(mid).mention, text=text)
    assert fake.records == [] and sqlite_store.view(mid).replies == []


async def test_reply_to_a_deleted_post_is_refused(
    client: httpx.AsyncClient, fake: FakePDS, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    _, search, responder = parts(client, terms=store_terms(sqlite_store, "bluesky"))
    search.sleep = gate
    await pump_rounds(search, pipeline, gate)
    mention = stored(sqlite_store)[0].mention
    fake.posts.clear()
    result = await console_reply(sqlite_store, {"bluesky": responder}, mention.id, "hello")
    assert not result.ok and "the post is gone" in result.text and "deleted" in result.text
    assert fake.records == []
    # The look-up marked the card deleted (its SLA clock stops): no second attempt is made.
    view = sqlite_store.view(mention.id)
    assert view.mention.deleted_at is not None
    assert [e.kind for e in sqlite_store.events(mention_id=mention.id)][-1] == "post_deleted"
    fake.posts.extend(fixture("bluesky", "search_posts.json")["posts"])
    result = await console_reply(sqlite_store, {"bluesky": responder}, mention.id, "hello")
    assert not result.ok and "was deleted on bluesky" in result.text
    assert fake.records == []
    other = stored(sqlite_store)[1].mention
    fake.fail["com.atproto.repo.createRecord"] = [httpx.Response(502)]
    result = await console_reply(sqlite_store, {"bluesky": responder}, other.id, "hello")
    assert not result.ok and "unclear" in result.text


async def test_follower_count_from_the_public_appview(client: httpx.AsyncClient,
                                                      fake: FakePDS) -> None:
    fake.valid_access.add("")  # the public AppView needs no token

    def profile(request: httpx.Request) -> httpx.Response:
        if request.url.params["actor"] == "acme.example.com":
            return httpx.Response(200, json=dict(fake.profiles[0], followersCount=9001))
        return xrpc_error(400, "InvalidRequest", "Profile not found")

    async with httpx.AsyncClient(transport=httpx.MockTransport(profile)) as public:
        assert await bluesky_net.follower_count(public, "@acme.example.com",
                                                api_url="https://appview.example") == 9001
        assert await bluesky_net.follower_count(public, "nobody.example",
                                                api_url="https://appview.example") is None


# --- Jetstream ------------------------------------------------------------------------------


class FakeJetstream:
    """Serves /subscribe as Jetstream does: query parameters select collections and the start
    cursor; each connection replays the fixture events, then closes."""

    def __init__(self) -> None:
        self.lines = (FIXTURES / "bluesky" / "jetstream_events.jsonl").read_text().splitlines()
        self.paths: list[str] = []
        self.reconnected = asyncio.Event()

    async def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.paths.append(ws.request.path)
        if len(self.paths) > 1:
            self.reconnected.set()
            await ws.wait_closed()  # second connection: stay quiet until the client leaves
            return
        await ws.send(self.lines[0])
        await ws.send("{not json")
        for line in self.lines[1:]:
            await ws.send(line)
        await ws.close()


async def test_jetstream_keeps_matching_posts_and_resumes_with_rewind(
    client: httpx.AsyncClient,
) -> None:
    jet = FakeJetstream()
    session, _, _ = parts(client)
    profiles = bluesky_common.Profiles(session.get)
    async with serve(jet.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        source = bluesky_jetstream.JetstreamSource(
            f"ws://127.0.0.1:{port}", profiles, fixed_terms("acme"),
            own_did=lambda: "did:plc:acmebrand7x3kq2n5zh4wuvbe", sleep=NoSleep())
        batches = source.stream(json.dumps({"time_us": 1763626300000000}))
        got = []
        cursor = None
        while sum(len(b.posts) for b in got) < 2:
            batch = await asyncio.wait_for(anext(batches), 10)
            got.append(batch)
            cursor = batch.cursor
        posts = [p for b in got for p in b.posts]
        assert [p.external_id for p in posts] == [
            "at://did:plc:jt4kcv3sgwwaxq6rvbzfx3gu/app.bsky.feed.post/3lbxb2d3dkc2b",
            "at://did:plc:7hn5fitzq2xfa3a5zq6l6cyy/app.bsky.feed.post/3lbxb2efab22e",
        ]
        # No profile known: the DID stands in for the handle, and the link still works.
        app_post = posts[0]
        assert app_post.author.handle == "did:plc:jt4kcv3sgwwaxq6rvbzfx3gu"
        assert app_post.url == ("https://bsky.app/profile/did:plc:jt4kcv3sgwwaxq6rvbzfx3gu"
                                "/post/3lbxb2d3dkc2b")
        assert app_post.lang == "de" and app_post.in_reply_to == "at://did:plc:x/app.bsky.feed.post/3lbx2"
        assert json.loads(cursor or "") == {"time_us": 1763626404000007}
        # The server closed; the source reconnects five seconds before its cursor.
        waiting = asyncio.ensure_future(anext(batches))
        await asyncio.wait_for(jet.reconnected.wait(), 10)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
    assert jet.paths[0] == ("/subscribe?wantedCollections=app.bsky.feed.post"
                            "&cursor=1763626295000000")
    assert jet.paths[1].endswith(f"&cursor={1763626404000007 - 5_000_000}")


async def test_jetstream_posts_get_handles_and_followers(
    client: httpx.AsyncClient, fake: FakePDS
) -> None:
    fake.profiles.append({"did": "did:plc:jt4kcv3sgwwaxq6rvbzfx3gu", "handle": "lena.bsky.social",
                          "displayName": "Lena", "followersCount": 300})
    session, _, _ = parts(client)
    source = bluesky_jetstream.JetstreamSource("ws://unused", bluesky_common.Profiles(session.get),
                                         fixed_terms("acme"))
    event = source._event((FIXTURES / "bluesky" / "jetstream_events.jsonl")
                          .read_text().splitlines()[2])
    assert event is not None and event[1] is not None
    (post,) = await source._posts([event[1]])
    assert (post.author.handle, post.author.name, post.author.followers) == (
        "lena.bsky.social", "Lena", 300)
    assert post.url == "https://bsky.app/profile/lena.bsky.social/post/3lbxb2d3dkc2b"
