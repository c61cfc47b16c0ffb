"""X (Twitter) API v2: recent search with the app-only bearer token, and replies through
`POST /2/tweets` with a user-context token of the brand account (renewed from a rotating
refresh token by integrations/networks/x_oauth.py, or a fixed one that lasts two hours).

X is paid (pay-per-use since February 2026: each post read and each post created is billed),
and since February 2026 a programmatic reply is only accepted when the author @mentioned the
brand account or quoted its post; X answers other replies with 403, which the responder passes
on as a refusal. See docs/networks.md.

Cursor (JSON): `{"since": {query: newest tweet id}}`; `since_id` with `next_token` paging.

Field names: X renamed its v2 vocabulary in API version 2.167 (August 2026). Its OpenAPI
description, which api.x.com serves at /2/openapi.json and docs.x.com renders as the API
reference (copy in github.com/xdevplatform/docs, openapi.json, 2.167 since 2026-08-07; the same
in github.com/xdevplatform/xdk, specs/openapi.json, "the production spec", 2026-07-21), names
the recent-search parameter `post.fields`, whose values no longer include `author_id` or the
references (both are `expansions` now: `author_id`, `referenced_posts`), and the response
fields `referenced_posts`, `public_metrics.repost_count`, `edit_history_post_ids`,
`includes.posts`. The spec of 2.166 (xdevplatform/docs at 541ef718, 2026-07-06) and X's
hand-written pages (docs.x.com x-api/fundamentals/fields, .../data-dictionary,
.../posts/search/quickstart/recent-search, .../fundamentals/consistency: "retweet_count, not
repost_count") still say `tweet.fields`, `referenced_tweets`, `retweet_count`; the last refusal
of an unknown parameter seen from the live API (github.com/plhery/node-twitter-api-v2 issue
597, August 2025) listed `tweet.fields` among the accepted ones. The spec is what the API says
of itself and the newer source, so the search sends the `post.fields` vocabulary; X answers an
unknown query parameter with 400 and the list of the ones it knows, and when that list holds
the other spelling the source switches to it once (`VOCABULARIES`). Responses are read in
either spelling. docs/networks.md, "X", keeps the sources.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply
from integrations.networks import specs, x_oauth, x_text
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateHeaders,
    Sleep,
    as_int,
    parse_time,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor, newer_id
from integrations.networks.settings import XSettings
from integrations.networks.terms import SearchTerm, TermsProvider, or_query
from integrations.networks.x_oauth import StaticToken, UserToken
from integrations.networks.x_text import MAX_WEIGHTED_LENGTH
from integrations.networks.x_text import weighted_length as weighted_length  # the count X uses

log = logging.getLogger(__name__)

NETWORK = "x"
MAX_RESULTS = 100
MAX_PAGES = 5
MAX_QUERY = 512  # pay-per-use and Basic; Pro and Enterprise allow 4,096
SUFFIX = " -is:retweet"
MAX_WEIGHT = MAX_WEIGHTED_LENGTH
RATE = RateHeaders(remaining="x-rate-limit-remaining", reset="x-rate-limit-reset",
                   reset_kind="epoch")
USER_FIELDS = "username,name,public_metrics"


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """How one version of X's API names what the search asks for: the fields parameter and
    its values, and the expansions that bring the author (and the replied-to post's id)."""

    name: str
    fields_param: str
    fields: str
    expansions: str

    def params(self) -> dict[str, str]:
        return {self.fields_param: self.fields, "expansions": self.expansions,
                "user.fields": USER_FIELDS}


# 2.167 on: author and references are expansions. `referenced_posts` also puts the replied-to
# posts into includes.posts, and X bills every resource it returns: one more post read per
# reply (deduplicated within 24 hours), the price of keeping `in_reply_to`.
POST_VOCABULARY = Vocabulary(
    "post", "post.fields", "created_at,public_metrics,lang,conversation_id",
    "author_id,referenced_posts")
# Up to 2.166: the references are a field, without the referenced posts.
TWEET_VOCABULARY = Vocabulary(
    "tweet", "tweet.fields",
    "created_at,public_metrics,lang,author_id,conversation_id,referenced_tweets", "author_id")
VOCABULARIES = (POST_VOCABULARY, TWEET_VOCABULARY)
_UNKNOWN_PARAMETER = re.compile(r"The query parameter \[(?P<name>[^\]]+)\] is not one of "
                                r"\[(?P<known>[^\]]*)\]")


def x_problem(exc: ApiError) -> ApiError:
    """X's 400 (problem type invalid-request) says what was wrong in `errors[].message`; its
    `detail`, which ApiError carries, is the same for every such answer ("One or more
    parameters to your request was invalid.")."""
    body = exc.body
    errors = body.get("errors") if isinstance(body, dict) else None
    if exc.status != 400 or not isinstance(errors, list):
        return exc
    messages = [e["message"] for e in errors if isinstance(e, dict)
                and isinstance(e.get("message"), str)]
    if not messages:
        return exc
    return ApiError(exc.status, "; ".join(messages)[:300], body=body, headers=exc.headers)


@contextmanager
def explained() -> Iterator[None]:
    """Errors of the block, X's 400s re-raised with what X said was wrong (x_problem)."""
    try:
        yield
    except ApiError as exc:
        better = x_problem(exc)
        if better is exc:
            raise
        raise better from exc


def other_vocabulary(exc: ApiError, current: Vocabulary) -> Vocabulary | None:
    """The vocabulary to try when X refused `current`'s fields parameter as unknown and
    listed the other one's among the parameters it accepts; None otherwise."""
    if exc.status != 400 or not isinstance(exc.body, dict):
        return None
    for error in exc.body.get("errors") or []:
        found = _UNKNOWN_PARAMETER.search(str(error.get("message", ""))) \
            if isinstance(error, dict) else None
        if found is None or found["name"] != current.fields_param:
            continue
        known = {name.strip() for name in found["known"].split(",")}
        return next((v for v in VOCABULARIES if v is not current and v.fields_param in known),
                    None)
    return None


def api_for(client: httpx.AsyncClient, api_url: str, token: str, *, sleep: Sleep,
            now: Callable[[], datetime]) -> Api:
    return Api(client, api_url, headers={"Authorization": f"Bearer {token}"}, rate=RATE,
               sleep=sleep, now=now)


def search_piece(term: SearchTerm) -> str:
    if term.kind == "phrase":
        return f'"{term.text}"'
    if term.kind == "hashtag":
        return f"#{term.text}"
    if term.kind == "handle":
        return f"@{term.text}"
    return term.text


def _either(obj: JSON, new: str, old: str) -> Any:
    """A field under its 2.167 name, or else under its older one."""
    return obj[new] if obj.get(new) is not None else obj.get(old)


def tweet_to_post(tweet: JSON, users: dict[str, JSON]) -> Post:
    """A v2 Post (Tweet) object, in either vocabulary, with its author from `includes.users`,
    as a Post."""
    tid = tweet.get("id")
    text = tweet.get("text")
    if not isinstance(tid, str) or not tid.isdigit():
        raise ValueError("tweet without id")
    if not isinstance(text, str) or not text:
        raise ValueError("tweet without text")
    user = users.get(str(tweet.get("author_id")))
    if user is None or not isinstance(user.get("username"), str):
        raise ValueError("tweet whose author is not in includes.users")
    username = user["username"]
    metrics = tweet.get("public_metrics")
    if not isinstance(metrics, dict):
        metrics = {}
    # Both spellings: 2.167 renamed referenced_tweets and retweet_count (see the module doc).
    referenced = _either(tweet, "referenced_posts", "referenced_tweets")
    replied = next((r.get("id") for r in (referenced if isinstance(referenced, list) else [])
                    if isinstance(r, dict) and r.get("type") == "replied_to"), None)
    quoted = next((r.get("id") for r in (referenced if isinstance(referenced, list) else [])
                   if isinstance(r, dict) and r.get("type") in ("quoted", "retweeted")), None)
    lang = tweet.get("lang")
    return Post(
        network=NETWORK,
        external_id=tid,
        url=f"https://x.com/{username}/status/{tid}",
        author=Author(handle=username, name=user.get("name") or None,
                      followers=as_int(pick(user, "public_metrics", "followers_count")),
                      url=f"https://x.com/{username}"),
        text=text,
        created_at=parse_time(tweet.get("created_at")),
        # "und" and "zxx" mean X could not tell (or there is no language).
        lang=lang if isinstance(lang, str) and len(lang) == 2 else None,
        likes=as_int(metrics.get("like_count")),
        reposts=as_int(_either(metrics, "repost_count", "retweet_count")),
        replies=as_int(metrics.get("reply_count")),
        in_reply_to=str(replied) if replied else None,
        quotes=str(quoted) if quoted else None,
        extra={"author_id": str(tweet.get("author_id"))},
    )


class Me:
    """The brand account behind the user token (/2/users/me), looked up once."""

    def __init__(self, api: Api | None) -> None:
        self.api = api
        self.id: str | None = None
        self.username: str | None = None
        self._done = False

    async def load(self) -> None:
        if self._done or self.api is None:
            return
        body = await self.api.get_json("/users/me")
        data = body.get("data") if isinstance(body, dict) else None
        if isinstance(data, dict):
            self.id = str(data.get("id"))
            self.username = data.get("username")
        self._done = True


class XSource(PollingSource):
    """Recent search (the last 7 days) for the brands' terms, retweets left out."""

    name = "x"

    def __init__(self, api: Api, terms: TermsProvider, me: Me, *, interval: float,
                 max_query: int = MAX_QUERY, sleep: Sleep = asyncio.sleep,
                 vocabulary: Vocabulary = POST_VOCABULARY) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.terms = terms
        self.me = me
        self.max_query = max_query
        self.vocabulary = vocabulary

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor).get("since") or {}
        try:
            await self.me.load()
        except ApiError as exc:
            log.warning("x: the user token's account is unknown (%s)", exc)
        ors = or_query(sorted(await self.terms()), limit=self.max_query - len(SUFFIX) - 2,
                       render=search_piece)
        posts: list[Post] = []
        since: dict[str, str] = {}
        for ored in ors:
            query = f"({ored}){SUFFIX}" if " OR " in ored else f"{ored}{SUFFIX}"
            found, newest = await self._search(query, state.get(query))
            posts += [p for p in found if self.me.id is None
                      or p.extra.get("author_id") != self.me.id]
            if newest:
                since[query] = newest
        return Batch(posts=posts, cursor=dump_cursor({"since": since}))

    async def _search(self, query: str, since_id: str | None) -> tuple[list[Post], str | None]:
        posts: list[Post] = []
        newest = since_id
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"query": query, "max_results": MAX_RESULTS}
            if since_id:
                params["since_id"] = since_id
            if token:
                params["next_token"] = token
            body = await self._get_page(params)
            if not isinstance(body, dict):
                raise ValueError("search answer is not an object")
            users = {str(u.get("id")): u for u in pick(body, "includes", "users") or []
                     if isinstance(u, dict)}
            for tweet in body.get("data") or []:
                try:
                    post = tweet_to_post(tweet, users)
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("x: skipped a malformed tweet: %s", exc)
                    continue
                posts.append(post)
            newest = newer_id(newest, pick(body, "meta", "newest_id"))
            token = pick(body, "meta", "next_token")
            # The first poll takes the newest page only; later ones page to since_id.
            if since_id is None or not token:
                break
        return posts, newest

    async def _get_page(self, params: dict[str, Any]) -> Any:
        """One page of recent search in the current vocabulary; once more in the other one when
        X refuses this one's fields parameter as unknown (400, invalid-request)."""
        with explained():
            try:
                return await self.api.get_json("/tweets/search/recent",
                                               params=params | self.vocabulary.params())
            except ApiError as exc:
                other = other_vocabulary(exc, self.vocabulary)
                if other is None:
                    raise
                log.warning("x: recent search refused %s (%s); asking with %s from now on",
                            self.vocabulary.fields_param, x_problem(exc).message,
                            other.fields_param)
                self.vocabulary = other
            return await self.api.get_json("/tweets/search/recent",
                                           params=params | self.vocabulary.params())


class XResponder:
    """Replies with POST /2/tweets and `reply.in_reply_to_tweet_id` as the brand account."""

    network = NETWORK

    def __init__(self, api: Api, me: Me, token: UserToken) -> None:
        self.api = api  # without auth of its own: each write names the token it sends
        self.me = me
        self.token = token

    def check(self, text: str) -> str | None:
        """X's own count (integrations/networks/x_text.py): links 23, emoji and CJK 2."""
        if not text.strip():
            return "the reply is empty"
        parsed = x_text.parse(text)
        if parsed.weighted_length > MAX_WEIGHT:
            return f"x allows {MAX_WEIGHT} characters, this reply counts {parsed.weighted_length}"
        if not parsed.valid:
            return "x refuses the characters U+FFFE, U+FEFF and U+FFFF"
        return None

    async def _create(self, body: JSON) -> httpx.Response:
        """POST /2/tweets as the brand account. A 401 (the access token expired or was revoked
        before its time) renews the token and sends once more: X refused the first request,
        so nothing was posted twice."""
        auth = await self.token.headers()
        with explained():
            try:
                return await self.api.write("POST", "/tweets", json_body=body, headers=auth)
            except ApiError as exc:
                if exc.status != 401:
                    raise
            await self.token.rejected(auth)
            return await self.api.write("POST", "/tweets", json_body=body,
                                        headers=await self.token.headers())

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        async def post() -> PostedReply:
            response = await self._create(
                {"text": text, "reply": {"in_reply_to_tweet_id": mention.external_id}})
            created = response_json(response)
            tid = str(pick(created, "data", "id"))
            try:
                await self.me.load()
            except ApiError:
                pass
            who = self.me.username or "i/web"
            return PostedReply(id=tid, url=f"https://x.com/{who}/status/{tid}")

        result: PostedReply = await send_reply(post)
        return result

    async def publish(self, *, text: str, key: str) -> PostedReply:
        """bot.networks.Publisher: a new post of the brand account (POST /2/tweets with only
        `text`). X has no idempotency key: the publication's record keeps it from being sent
        twice."""

        async def post() -> PostedReply:
            created = response_json(await self._create({"text": text}))
            tid = str(pick(created, "data", "id"))
            try:
                await self.me.load()
            except ApiError:
                pass
            who = self.me.username or "i/web"
            return PostedReply(id=tid, url=f"https://x.com/{who}/status/{tid}")

        result: PostedReply = await send_reply(post)
        return result


async def follower_count(api: Api, handle: str) -> int | None:
    """Followers of an X account (users/by/username, billed as one user read)."""
    try:
        body = await api.get_json(f"/users/by/username/{handle.lstrip('@')}",
                                  params={"user.fields": "public_metrics"})
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("x: followers of %s unknown: %s", handle, exc)
        return None
    return as_int(pick(body, "data", "public_metrics", "followers_count"))


async def verify(app: Api, user: Api | None, *, without_user: str = "no replies") -> str:
    """/2/users/me with the user token; without one, one user lookup with the bearer."""
    if user is not None:
        user.attempts = 1
        body = await user.get_json("/users/me")
        return f"@{pick(body, 'data', 'username')} (user token; bearer not checked)"
    app.attempts = 1
    body = await app.get_json("/users/by/username/XDevelopers")
    if not pick(body, "data", "id"):
        raise ApiError(0, "the bearer token's lookup returned no user")
    return f"app-only bearer token ({without_user})"


def components(client: httpx.AsyncClient, *, api_url: str, bearer: str, user_token: str | None,
          terms: TermsProvider, interval: float, sleep: Sleep = asyncio.sleep,
          now: Callable[[], datetime] = utcnow, token: UserToken | None = None,
          ) -> tuple[XSource, XResponder | None, Api, Api | None]:
    """The source, the responder (with a user token: `token`, renewed, or else the fixed
    `user_token`), the app-only Api and the user-context Api of X."""
    app = api_for(client, api_url, bearer, sleep=sleep, now=now)
    if token is None and user_token:
        token = StaticToken(user_token)
    user = (Api(client, api_url, auth=token.headers, rate=RATE, sleep=sleep, now=now)
            if token is not None else None)
    me = Me(user)
    source = XSource(app, terms, me, interval=interval, sleep=sleep)
    responder = (XResponder(Api(client, api_url, rate=RATE, sleep=sleep, now=now), me, token)
                 if token is not None else None)
    return source, responder, app, user


# --- the plug-in --------------------------------------------------------------------------------


def _renewed(ctx: BuildContext[XSettings]) -> tuple[x_oauth.RenewedToken | None, str]:
    """The renewed user token of X when a refresh token is configured (and a note for the
    report when it cannot be used here)."""
    s = ctx.settings
    refresh = secret(s.refresh_token)
    if not refresh:
        return None, ""
    if not s.client_id:
        log.error("ECHTZEIT_X_REFRESH_TOKEN is set without ECHTZEIT_X_CLIENT_ID (the OAuth 2.0 "
                  "Client ID of the X app): the user token is not renewed")
        return None, "; ECHTZEIT_X_CLIENT_ID missing: the user token is not renewed"
    if ctx.store is None:
        # `echtzeit networks` has no store: renewing here would spend the single-use refresh
        # token without keeping its successor.
        return None, "; the user token is renewed from the stored refresh token while the " \
                     "bot runs (not checked here: that would spend it)"
    return x_oauth.renewed_token(
        ctx.client, api_url=s.api_url, store=ctx.store, seed=refresh, client_id=s.client_id,
        client_secret=secret(s.client_secret) or None), ""


def build(ctx: BuildContext[XSettings]) -> Parts | None:
    s = ctx.settings
    bearer = secret(s.bearer_token)
    if not bearer:
        return None
    token, note = _renewed(ctx)
    source, responder, app, user = components(
        ctx.client, api_url=s.api_url, bearer=bearer, user_token=secret(s.user_token) or None,
        terms=ctx.terms(NETWORK), interval=ctx.shared.poll_seconds, token=token)
    what = "recent search (billed per post read)" + note
    if responder is not None:
        what += "; replies where the author @mentioned the brand; posts"
    unchecked = "user token not checked" if note else "no replies"
    return Parts(sources=[source], responder=responder, publisher=responder,
                 check=(what, lambda: verify(app, user, without_user=unchecked)),
                 followers=lambda handle: follower_count(app, handle))


PLUGIN = Plugin(spec=specs.X, settings=XSettings, build=build)
