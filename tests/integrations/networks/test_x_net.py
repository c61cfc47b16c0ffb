"""X API v2 against a fake api.x.com at the HTTP boundary: recent search with the bearer
token, replies with the user token, and X's 2026 reply rule enforced by the fake. The fake
also runs X's OAuth 2.0 token endpoint (tests/integrations/networks/test_x_oauth.py).

Like X, the fake refuses (400, problem type invalid-request) a query parameter or a field its
API version does not know (tests/fixtures/x/search_recent_parameters.json: 2.166 speaks
`tweet.fields`, 2.167 `post.fields`), answers in that version's names, and refuses a post over
280 weighted characters, counted as X counts (integrations/networks/x_text.py)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.domain import ReplyState
from bot.models import Mention
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import x_net, x_text
from integrations.networks.replay import RecordingResponder
from integrations.networks.terms import SearchTerm, fixed_terms, store_terms
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
)

API = "https://api.x.example/2"
BEARER = "AAAAAAAAAAAAAAAAAAAAAapp-bearer"
USER = "user-context-token"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CLIENT_ID = "rG9n6402A3dbUJKzXTNX4oWHJ"
CLIENT_SECRET = "Zq8client-secretVw3"
SEED = "bWRWa3gzdnk3WHRGU1o0bmRRcTJ5VUxWX1lZTDdJSUtmaWcxbTVxdEFXcW5tOjE2MjIxNDc3NDM5MTQ6MToxOnJ0OjE"


PROBLEM = {"title": "Invalid Request",
           "detail": "One or more parameters to your request was invalid.",
           "type": "https://api.twitter.com/2/problems/invalid-request"}
# 2.167 renamed these (X's OpenAPI description, schemas Post and UserPublicMetrics).
RENAMED = {"referenced_tweets": "referenced_posts", "retweet_count": "repost_count",
           "edit_history_tweet_ids": "edit_history_post_ids", "tweet_count": "post_count"}


def invalid_request(*errors: tuple[str, str, str]) -> httpx.Response:
    """X's 400 for refused query parameters: (parameter, value, message) each."""
    return httpx.Response(400, json={
        "errors": [{"parameters": {name: [value]}, "message": message}
                   for name, value, message in errors], **PROBLEM})


def renamed(obj: dict[str, Any]) -> dict[str, Any]:
    return {RENAMED.get(k, k): renamed(v) if isinstance(v, dict) else v for k, v in obj.items()}


class FakeX:
    def __init__(self, clock: Callable[[], datetime] = lambda: NOW) -> None:
        page = fixture("x", "search_recent.json")
        self.tweets: list[dict[str, Any]] = page["data"]
        self.users: list[dict[str, Any]] = page["includes"]["users"]
        self.version = "2.167"  # the API version whose parameters and names it speaks
        self.requests: list[httpx.Request] = []
        self.created: list[dict[str, Any]] = []
        self.fail: dict[str, list[httpx.Response]] = {}
        # X's OAuth 2.0 token endpoint, as X runs it: a refresh token works once (rotation),
        # access tokens expire `expires_in` seconds after they were issued (on `clock`).
        self.clock = clock
        self.client_secret: str | None = CLIENT_SECRET  # a confidential client; None: public
        self.expires_in = 7200
        self.live: set[str] = {SEED}  # refresh tokens that still work
        self.spent: list[str] = []  # refresh tokens used up, in order
        self.access: dict[str, datetime] = {}  # access token -> when it expires
        self.issued = 0
        self.forms: list[dict[str, str]] = []  # every token request's form
        self.refusals = 0
        # Holds a token request open (concurrency tests) / looks around when a reply arrives.
        self.on_token: Callable[[], Awaitable[None]] | None = None
        self.on_tweet: Callable[[httpx.Request], None] | None = None

    def authorize(self) -> str:
        """The operator authorizes the app again: a new refresh token (the old ones die)."""
        self.live.clear()
        self.issued += 1
        token = f"reauthorized-{self.issued}-Rt0aXQ"
        self.live.add(token)
        return token

    def revoke_access(self) -> None:
        """The access tokens stop working before their time."""
        self.access.clear()

    def _user_ok(self, request: httpx.Request) -> bool:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ")
        if token == USER:
            return True
        expires = self.access.get(token)
        return expires is not None and self.clock() < expires

    async def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        self.forms.append(form)
        if self.on_token is not None:
            await self.on_token()
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        if self.client_secret is not None:
            basic = base64.b64encode(f"{CLIENT_ID}:{self.client_secret}".encode()).decode()
            if request.headers.get("Authorization") != f"Basic {basic}":
                return httpx.Response(401, json=fixture("x", "oauth2_unauthorized_client.json"))
        elif form.get("client_id") != CLIENT_ID:
            return httpx.Response(400, json={"error": "invalid_request", "error_description":
                                             "Missing required parameter [client_id]."})
        if form.get("grant_type") != "refresh_token":
            return httpx.Response(400, json={"error": "unsupported_grant_type"})
        used = form.get("refresh_token", "")
        if used not in self.live:
            self.refusals += 1
            return httpx.Response(400, json=fixture("x", "oauth2_token_invalid.json"))
        self.live.discard(used)
        self.spent.append(used)
        self.issued += 1
        answer = fixture("x", "oauth2_token.json")
        answer.update(access_token=f"access-{self.issued}-Ax7Qk", expires_in=self.expires_in,
                      refresh_token=f"refresh-{self.issued}-Rt0aXQ")
        self.live.add(answer["refresh_token"])
        self.access[answer["access_token"]] = self.clock() + timedelta(seconds=self.expires_in)
        return httpx.Response(200, json=answer)

    def add(self, n: int, text: str, author: str = "1384720531") -> str:
        tweet = copy.deepcopy(self.tweets[0])
        tweet.update(id=str(1991430000000000000 + n), text=text, author_id=author)
        self.tweets.append(tweet)
        return str(tweet["id"])

    def _auth(self, request: httpx.Request, token: str) -> bool:
        return request.headers.get("Authorization") == f"Bearer {token}"

    @property
    def speaks_posts(self) -> bool:
        """2.167 on: `post.fields` and the names in RENAMED."""
        return "post.fields" in fixture("x", "search_recent_parameters.json")[self.version][
            "parameters"]

    def _refused(self, params: httpx.QueryParams) -> httpx.Response | None:
        """What X's parameter check says: every unknown parameter, every unknown value of a
        fields or expansions parameter."""
        spec = fixture("x", "search_recent_parameters.json")[self.version]
        known = spec["parameters"]
        errors = [(name, value, f"The query parameter [{name}] is not one of "
                                f"[{','.join(known)}]")
                  for name, value in params.multi_items() if name not in known]
        for name, allowed in spec["values"].items():
            value = params.get(name)
            wrong = [v for v in (value or "").split(",") if v not in allowed]
            if value is not None and wrong:
                errors.append((name, value, f"The `{name}` query parameter value [{wrong[0]}] "
                                            f"is not one of [{','.join(allowed)}]"))
        return invalid_request(*errors) if errors else None

    def _render(self, tweet: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
        """A tweet as the request asked for it: id and text, the fields and expansions it
        named, in this version's names."""
        post = self.speaks_posts
        fields = set((params.get("post.fields") or params.get("tweet.fields") or "").split(","))
        expansions = set(params.get("expansions", "").split(","))
        if post and "referenced_posts" in expansions:
            fields.add("referenced_tweets")
        if "author_id" in expansions:
            fields.add("author_id")
        shown = {k: v for k, v in tweet.items()
                 if k in fields | {"id", "text", "edit_history_tweet_ids"}}
        return renamed(shown) if post else shown

    def _search(self, params: httpx.QueryParams) -> httpx.Response:
        refused = self._refused(params)
        if refused is not None:
            return refused
        query = params["query"]
        assert query.endswith(" -is:retweet")
        pieces = [p.strip('()"#@ ').lower()
                  for p in query.removesuffix(" -is:retweet").split(" OR ")]
        hits = [t for t in self.tweets if any(p in t["text"].lower() for p in pieces)]
        if "since_id" in params:
            hits = [t for t in hits if int(t["id"]) > int(params["since_id"])]
        hits.sort(key=lambda t: int(t["id"]), reverse=True)
        start = int(params.get("next_token", "0"))
        size = int(params["max_results"])
        page = hits[start:start + size]
        if not page:
            return httpx.Response(200, json={"meta": {"result_count": 0}})
        authors = {t["author_id"] for t in page}
        meta: dict[str, Any] = {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"],
                                "result_count": len(page)}
        if start + size < len(hits):
            meta["next_token"] = str(start + size)
        user_fields = set(params.get("user.fields", "").split(",")) | {"id", "name", "username"}
        users = [{k: v for k, v in u.items() if k in user_fields}
                 for u in self.users if u["id"] in authors]
        includes: dict[str, Any] = {"users": [renamed(u) for u in users]
                                    if self.speaks_posts else users}
        if "referenced_posts" in params.get("expansions", ""):
            cited = {r["id"] for t in page for r in t.get("referenced_tweets", [])}
            includes["posts"] = [self._render(t, params) for t in self.tweets
                                 if t["id"] in cited]
        return httpx.Response(200, json={
            "data": [self._render(t, params) for t in page], "includes": includes,
            "meta": meta}, headers={"x-rate-limit-limit": "450",
                                    "x-rate-limit-remaining": "449",
                                    "x-rate-limit-reset": str(int(NOW.timestamp()) + 900)})

    def __call__(self, request: httpx.Request) -> httpx.Response | Awaitable[httpx.Response]:
        self.requests.append(request)
        path = request.url.path.removeprefix("/2")
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if path == "/oauth2/token" and request.method == "POST":
            return self._token(request)
        if path == "/tweets/search/recent" and self._auth(request, BEARER):
            return self._search(request.url.params)
        if path == "/users/me" and self._user_ok(request):
            return httpx.Response(200, json=fixture("x", "users_me.json"))
        if path == "/users/by/username/AcmeSupport" and self._auth(request, BEARER):
            return httpx.Response(200, json=fixture("x", "user_by_username.json"))
        if path == "/users/by/username/XDevelopers" and self._auth(request, BEARER):
            return httpx.Response(200, json={"data": {"id": "2244994945", "name": "Developers",
                                                      "username": "XDevelopers"}})
        if path == "/tweets" and request.method == "POST":
            if self._auth(request, BEARER):
                return httpx.Response(403, json={
                    "title": "Unsupported Authentication", "type": "about:blank",
                    "status": 403, "detail": "Authenticating with OAuth 2.0 Application-Only "
                                             "is forbidden for this endpoint."})
            if not self._user_ok(request):  # expired, revoked or unknown
                return httpx.Response(401, json=fixture("x", "unauthorized.json"))
            if self.on_tweet is not None:
                self.on_tweet(request)
            body = json.loads(request.content)
            self.created.append(body)
            if x_text.weighted_length(body["text"]) > x_text.MAX_WEIGHTED_LENGTH:
                return httpx.Response(400, json=fixture("x", "tweet_too_long.json"))
            if "reply" not in body:  # a new post of the account
                created = fixture("x", "tweet_created.json")
                created["data"]["id"] = str(1861000000000000000 + len(self.created))
                created["data"]["text"] = body["text"]
                return httpx.Response(201, json=created)
            target = next((t for t in self.tweets
                           if t["id"] == body["reply"]["in_reply_to_tweet_id"]), None)
            if target is None or "@acmesupport" not in target["text"].lower():
                return httpx.Response(403, json=fixture("x", "reply_forbidden.json"))
            return httpx.Response(201, json=fixture("x", "tweet_created.json"))
        if path.startswith("/users/by/username/"):
            return httpx.Response(200, json={"errors": [{"title": "Not Found Error"}]})
        return httpx.Response(401, json=fixture("x", "unauthorized.json"))


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


@pytest.fixture
async def client(fake: FakeX) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, terms: Any = None, sleep: Any = None,
          user: str | None = USER) -> Any:
    return x_net.components(client, api_url=API, bearer=BEARER, user_token=user,
                       terms=terms or fixed_terms("acme", SearchTerm("AcmeSupport", "handle")),
                       interval=60, sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_recent_search_maps_tweets_and_authors(client: httpx.AsyncClient,
                                                     fake: FakeX) -> None:
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    dana, kai = batch.posts
    assert dana.url == "https://x.com/danawhit/status/1991425176305098752"
    assert (dana.author.handle, dana.author.name, dana.author.followers) == (
        "danawhit", "Dana Whitfield", 18234)
    assert (dana.likes, dana.reposts, dana.replies, dana.lang) == (9, 2, 1, "en")
    assert dana.created_at == datetime(2026, 11, 20, 8, 31, 7, tzinfo=UTC)
    assert kai.in_reply_to == "1991420011111111111" and kai.lang == "de"
    search = next(r for r in fake.requests if r.url.path.endswith("/search/recent"))
    assert search.url.params["query"] == "(@AcmeSupport OR acme) -is:retweet"
    # API 2.167's names: the author and the replied-to post are expansions there.
    assert search.url.params["post.fields"] == "created_at,public_metrics,lang,conversation_id"
    assert search.url.params["expansions"] == "author_id,referenced_posts"
    assert "tweet.fields" not in search.url.params
    assert json.loads(batch.cursor or "") == {
        "since": {"(@AcmeSupport OR acme) -is:retweet": "1991425176305098752"}}


async def test_since_id_and_next_token_paging(client: httpx.AsyncClient, fake: FakeX) -> None:
    source, _, _, _ = build(client)
    first = await source.poll_once(None)
    new = {fake.add(n, f"acme {n}") for n in range(230)}
    second = await source.poll_once(first.cursor)
    assert {p.external_id for p in second.posts} == new
    calls = [r.url.params for r in fake.requests if r.url.path.endswith("/search/recent")]
    assert [c.get("next_token") for c in calls[1:]] == [None, "100", "200"]
    assert {c["since_id"] for c in calls[1:]} == {"1991425176305098752"}
    third = await source.poll_once(second.cursor)
    assert third.posts == []
    assert json.loads(third.cursor or "") == json.loads(second.cursor or "")


async def test_429_waits_for_the_reset(client: httpx.AsyncClient, fake: FakeX) -> None:
    sleep = NoSleep()
    source, _, _, _ = build(client, sleep=sleep)
    fake.fail["/tweets/search/recent"] = [httpx.Response(
        429, json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-remaining": "0",
                 "x-rate-limit-reset": str(int(NOW.timestamp()) + 600)})]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 2
    assert 600 <= sleep.calls[0] < 601


async def test_own_tweets_and_malformed_ones_are_skipped(
    client: httpx.AsyncClient, fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    fake.users.append({"id": "1122334455", "name": "Acme Support", "username": "AcmeSupport"})
    fake.add(1, "acme here: we are looking into it", author="1122334455")
    fake.add(2, "acme from a ghost", author="404")
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    assert len(batch.posts) == 2
    assert "skipped a malformed tweet" in caplog.text


async def test_into_the_store_and_a_reply_from_the_console(
    client: httpx.AsyncClient, fake: FakeX, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    sqlite_store.set_brand_query(name="Acme", query="acme OR @AcmeSupport", actor="t")
    source, responder, _, _ = build(client, terms=store_terms(sqlite_store, "x"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    search = next(r for r in fake.requests if r.url.path.endswith("/search/recent"))
    assert search.url.params["query"] == "(acme OR @acmesupport) -is:retweet"
    views = {v.author.handle: v for v in stored(sqlite_store)}
    assert set(views) == {"danawhit", "kai_b"}
    assert views["danawhit"].author.followers == 18234
    dana = views["danawhit"].mention
    result = await console_reply(sqlite_store, {"x": responder}, dana.id,
                                 "@danawhit Sorry! We are on it.")
    assert result.ok, result.text
    assert "https://x.com/AcmeSupport/status/1991440012345678901" in result.text
    assert fake.created[0] == {"text": "@danawhit Sorry! We are on it.",
                               "reply": {"in_reply_to_tweet_id": "1991425176305098752"}}

    # Kai did not @mention the brand: X refuses programmatic replies since February 2026.
    kai = views["kai_b"].mention
    result = await console_reply(sqlite_store, {"x": responder}, kai.id, "Danke, Kai!")
    assert not result.ok and "not been mentioned" in result.text
    assert sqlite_store.view(kai.id).replies[0].state == ReplyState.FAILED


async def test_weighted_length() -> None:
    assert x_net.weighted_length("a" * 280) == 280
    assert x_net.weighted_length("日本" * 70) == 280  # CJK weighs 2
    assert x_net.weighted_length("https://example.com/" + "x" * 100) == 23
    assert x_net.weighted_length("👨‍👩‍👧 ok") == 5  # one emoji sequence weighs 2
    responder = x_net.XResponder(x_net.Api(httpx.AsyncClient(), API), x_net.Me(None),
                                 x_net.StaticToken(USER))
    assert responder.check("a" * 281) == "x allows 280 characters, this reply counts 281"
    assert responder.check("日" * 141) == "x allows 280 characters, this reply counts 282"
    assert responder.check("ok https://example.com/" + "x" * 400) is None


async def test_follower_count_verify_and_no_user_token(client: httpx.AsyncClient) -> None:
    _, responder, app, user = build(client)
    assert await x_net.follower_count(app, "@AcmeSupport") == 48211
    assert await x_net.follower_count(app, "nobody") is None
    assert await x_net.verify(app, user) == "@AcmeSupport (user token; bearer not checked)"
    _, responder, app, user = build(client, user=None)
    assert responder is None and user is None
    assert await x_net.verify(app, None) == "app-only bearer token (no replies)"


def test_both_vocabularies_read_the_same() -> None:
    """API 2.167 renamed referenced_tweets, retweet_count (and tweet_count, unused); a page in
    either spelling gives the same posts."""
    def posts(name: str) -> list[Any]:
        page = fixture("x", name)
        users = {u["id"]: u for u in page["includes"]["users"]}
        return [x_net.tweet_to_post(t, users) for t in page["data"]]

    new, old = posts("search_recent_posts.json"), posts("search_recent.json")
    assert new == old
    assert (new[0].reposts, new[1].in_reply_to) == (2, "1991420011111111111")


async def test_an_api_before_2_167_refuses_post_fields_and_the_source_switches(
    client: httpx.AsyncClient, fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    fake.version = "2.166"
    source, _, _, _ = build(client)
    first = await source.poll_once(None)
    refused, asked = [r.url.params for r in fake.requests if r.url.path.endswith("/recent")]
    assert "post.fields" in refused and "tweet.fields" not in refused
    assert "The query parameter [post.fields] is not one of [query,start_time," in caplog.text
    assert asked["tweet.fields"] == x_net.TWEET_VOCABULARY.fields
    assert asked["expansions"] == "author_id"
    dana, kai = first.posts
    assert (dana.reposts, kai.in_reply_to) == (2, "1991420011111111111")
    fake.add(1, "acme again")
    await source.poll_once(first.cursor)  # the switch holds: no second refusal
    later = [r.url.params for r in fake.requests if r.url.path.endswith("/recent")][2:]
    assert [("tweet.fields" in p, "post.fields" in p) for p in later] == [(True, False)]


async def test_x_answers_an_unknown_parameter_with_its_problem(
    client: httpx.AsyncClient, fake: FakeX
) -> None:
    """The fake's 400 has the shape of the live API's (tests/fixtures/x/README.md)."""
    seen = fixture("x", "search_unknown_parameter.json")
    for version, listed in (("2.166", "tweet.fields"), ("2.167", "post.fields")):
        fake.version = version
        answer = await client.get(f"{API}/tweets/search/recent", headers={
            "Authorization": f"Bearer {BEARER}"}, params={"query": "acme", "tweets.fields": "x"})
        body = answer.json()
        assert answer.status_code == 400
        assert {k: v for k, v in body.items() if k != "errors"} == {
            k: v for k, v in seen.items() if k != "errors"}
        (error,) = body["errors"]
        assert error["parameters"] == {"tweets.fields": ["x"]}
        assert error["message"].startswith("The query parameter [tweets.fields] is not one of [")
        assert listed in error["message"]


async def test_a_field_2_167_moved_to_the_expansions_is_refused(
    client: httpx.AsyncClient, fake: FakeX
) -> None:
    """author_id is no post field any more: asking for it is a 400, not a silent loss."""
    wrong = x_net.Vocabulary("post", "post.fields", "created_at,author_id", "author_id")
    source, _, _, _ = build(client)
    source.vocabulary = wrong
    with pytest.raises(x_net.ApiError) as refused:
        await source.poll_once(None)
    assert refused.value.status == 400
    assert str(refused.value).startswith(
        "HTTP 400: The `post.fields` query parameter value [author_id] is not one of [article,")


async def test_a_reply_over_280_weighted_characters_is_not_sent(
    client: httpx.AsyncClient, fake: FakeX, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    """141 CJK characters count 282 on X: the console refuses them before X would."""
    sqlite_store.set_brand_query(name="Acme", query="acme OR @AcmeSupport", actor="t")
    source, responder, _, _ = build(client, terms=store_terms(sqlite_store, "x"))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    dana = {v.author.handle: v for v in stored(sqlite_store)}["danawhit"].mention
    result = await console_reply(sqlite_store, {"x": responder}, dana.id, "日" * 141)
    assert result.text == "not sent: x allows 280 characters, this reply counts 282"
    assert not [r for r in fake.requests if r.method == "POST" and r.url.path.endswith("/tweets")]
    # A long link counts 23: 493 characters that X takes (10 + 240 + 1 + 23 = 274).
    long_link = "@danawhit " + "x" * 240 + " https://help.acme.com/orders/" + "a" * 212
    assert responder.check(long_link) is None
    result = await console_reply(sqlite_store, {"x": responder}, dana.id, long_link)
    assert result.ok, result.text
    assert fake.created[-1]["text"] == long_link


async def test_x_refuses_a_post_over_280_weighted_characters(
    client: httpx.AsyncClient, fake: FakeX
) -> None:
    """What X answers when a client's count is wrong (sent here without the check): 146 code
    points, which X counts 282 (10 + 136 emoji of 2)."""
    _, responder, _, _ = build(client)
    text = "@danawhit " + "🎉" * 136
    assert responder.check(text) == "x allows 280 characters, this reply counts 282"
    with pytest.raises(ReplyRejected) as refused:
        await responder.reply(mention=Mention(network="x", external_id="1991425176305098752"),
                              text=text)
    assert str(refused.value) == (
        "HTTP 400: Your Tweet text is too long. For more information on how Twitter "
        "determines text length see https://github.com/twitter/twitter-text.")
    assert fake.created == [{"text": text,
                             "reply": {"in_reply_to_tweet_id": "1991425176305098752"}}]


def test_the_demo_counts_x_replies_as_x_does(tmp_path: Any) -> None:
    demo = RecordingResponder(network="x", path=tmp_path / "replies.jsonl")
    assert demo.check("日" * 141) == "x allows 280 characters, this reply has 282"
    assert demo.check("https://help.acme.com/" + "a" * 300) is None
