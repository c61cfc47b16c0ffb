"""Reddit: OAuth search of posts (sort=new) and the new comments of chosen subreddits, and
replies as comments (`POST /api/comment` with the post's or comment's fullname).

Reddit wants OAuth on oauth.reddit.com and a descriptive, unique User-Agent
(`<platform>:<app id>:<version> (by /u/<name>)`). A *script* app signs in with the password
grant as the brand's account (needed to comment); with only client id and secret the source
runs app-only (client_credentials), read-only. Since November 2025 new API clients need
Reddit's approval (Responsible Builder Policy); see docs/networks.md.

Cursor (JSON): `{"search": {query: newest created_utc}, "comments": {subreddit: newest}}`.
Reddit's listings are newest first; a poll pages back (`after`) until it reaches the cursor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, PostGone, ReplyRejected, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateHeaders,
    Sleep,
    as_int,
    parse_time,
    response_json,
    send_reply,
)
from integrations.networks.oauth import CachedToken, TokenEndpoint, lifetime
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import RedditSettings
from integrations.networks.terms import SearchTerm, TermsProvider, or_query

log = logging.getLogger(__name__)

NETWORK = "reddit"
WEB = "https://www.reddit.com"
PAGE = 100
MAX_PAGES = 5
MAX_QUERY = 512  # Reddit cuts `q` at 512 characters
# reddit-archive/reddit r2/r2/controllers/api.py POST_comment: VMarkdownLength(max_length=10000),
# len() of the text; refused with 200 and json.errors [["TOO_LONG", ...]].
MAX_REPLY = 10_000
# X-Ratelimit-Reset is seconds until the 10-minute window ends.
RATE = RateHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset",
                   reset_kind="seconds")


def default_user_agent(username: str | None) -> str:
    return f"python:echtzeit:0.1 (by /u/{username or 'echtzeit'})"


class Token:
    """The OAuth token: password grant for a script app's account, else client_credentials
    (the app's id and secret by HTTP Basic). Cached until a minute before it expires."""

    def __init__(self, client: httpx.AsyncClient, *, auth_url: str, client_id: str,
                 client_secret: str, user_agent: str, username: str | None = None,
                 password: str | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = Api(client, auth_url, headers={"User-Agent": user_agent}, sleep=sleep)
        self.client_id = client_id
        self.endpoint = TokenEndpoint(self.api, "/api/v1/access_token", client_id=client_id,
                                      client_secret=client_secret)
        self.username = username
        self._password = password
        self._cache = CachedToken(self._fetch, clock=clock)

    @property
    def user_context(self) -> bool:
        return bool(self.username and self._password)

    async def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"bearer {await self._cache.get()}"}

    def forget(self) -> None:
        self._cache.forget()

    async def _fetch(self) -> tuple[str, float]:
        if self.user_context:
            response = await self.endpoint.request("password", username=self.username or "",
                                                   password=self._password or "")
        else:
            response = await self.endpoint.request("client_credentials")
        body = response.json()
        if not isinstance(body, dict) or "access_token" not in body:
            # Reddit answers a wrong password with 200 and {"error": "invalid_grant"}.
            error = body.get("error") if isinstance(body, dict) else "no token"
            raise ApiError(401, f"Reddit refused the sign-in: {error}")
        return str(body["access_token"]), lifetime(body, 3600.0)


def api_for(client: httpx.AsyncClient, api_url: str, token: Token, *, user_agent: str,
            sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow) -> Api:
    return Api(client, api_url, headers={"User-Agent": user_agent}, auth=token.headers,
               rate=RATE, sleep=sleep, now=now)


def _removed(value: Any) -> bool:
    return value in (None, "", "[deleted]", "[removed]")


def thing_to_post(thing: JSON) -> Post:
    """A listing child (kind t3: a post, t1: a comment) as a Post."""
    kind = thing.get("kind")
    data = thing.get("data")
    if kind not in ("t1", "t3") or not isinstance(data, dict):
        raise ValueError(f"not a post or comment: {kind!r}")
    name = data.get("name") or (f"{kind}_{data['id']}" if data.get("id") else None)
    if not isinstance(name, str):
        raise ValueError("thing without id")
    author = data.get("author")
    if _removed(author) or not isinstance(author, str):
        raise ValueError("deleted author")
    if kind == "t3":
        title = data.get("title") or ""
        body = data.get("selftext") or ""
        text = f"{title}\n\n{body}".strip() if not _removed(body) else title
        replies = as_int(data.get("num_comments"))
        reposts = as_int(data.get("num_crossposts"))
        parent = None
    else:
        text = data.get("body") or ""
        if _removed(text):
            raise ValueError("removed comment")
        replies = None
        reposts = None
        parent = data.get("parent_id") if isinstance(data.get("parent_id"), str) else None
    if not text:
        raise ValueError("no text")
    permalink = data.get("permalink")
    if not isinstance(permalink, str) or not permalink.startswith("/"):
        raise ValueError("no permalink")
    return Post(
        network=NETWORK,
        external_id=name,
        url=WEB + permalink,
        author=Author(handle=author, name=None, followers=None,
                      url=f"{WEB}/user/{author}"),
        text=text,
        created_at=parse_time(data.get("created_utc")),
        lang=None,
        likes=as_int(data.get("score")),
        reposts=reposts,
        replies=replies,
        in_reply_to=parent,
        extra={"subreddit": str(data.get("subreddit") or "")},
    )


def search_piece(term: SearchTerm) -> str:
    return f'"{term.text}"' if term.kind == "phrase" else term.text


class RedditSource(PollingSource):
    """Search (all of Reddit, newest first) and the new comments of `subreddits`."""

    def __init__(self, api: Api, terms: TermsProvider, *, interval: float,
                 subreddits: Sequence[str] = (), own: str | None = None,
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.terms = terms
        self.subreddits = [s.strip().removeprefix("r/").removeprefix("/r/")
                           for s in subreddits if s.strip()]
        self.own = own.lower() if own else None
        self.name = "reddit"

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        posts: list[Post] = []
        searched: dict[str, float] = {}
        queries = or_query(sorted(await self.terms()), limit=MAX_QUERY, render=search_piece)
        old = state.get("search") or {}
        for query in queries:
            found, newest = await self._listing(
                "/search", {"q": query, "sort": "new", "type": "link", "t": "week"},
                since=old.get(query))
            posts += found
            if newest is not None:
                searched[query] = newest
        watched: dict[str, float] = {}
        old_comments = state.get("comments") or {}
        for sub in self.subreddits:
            found, newest = await self._listing(f"/r/{sub}/comments", {},
                                                since=old_comments.get(sub))
            posts += found
            if newest is not None:
                watched[sub] = newest
        return Batch(posts=posts, cursor=dump_cursor({"search": searched,
                                                      "comments": watched}))

    async def _listing(self, path: str, params: dict[str, str], *, since: Any,
                       ) -> tuple[list[Post], float | None]:
        """Newest first until `since` (first time: one page); the newest created_utc."""
        since_f = float(since) if isinstance(since, int | float) else None
        posts: list[Post] = []
        newest = since_f
        after: str | None = None
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE), "raw_json": "1"}
            if after:
                query["after"] = after
            body = await self.api.get_json(path, params=query)
            data = body.get("data") if isinstance(body, dict) else None
            children = data.get("children") if isinstance(data, dict) else None
            if not isinstance(children, list):
                raise ValueError(f"{path}: not a listing")
            reached = False
            for child in children:
                created = _created(child)
                if created is None:
                    log.warning("reddit: skipped a malformed listing item")
                    continue
                if since_f is not None and created < since_f:
                    reached = True
                    continue
                newest = created if newest is None else max(newest, created)
                post = self._post(child)
                if post is not None:
                    posts.append(post)
            after = data.get("after") if isinstance(data, dict) else None
            if since_f is None or reached or not after or not children:
                break
        return posts, newest

    def _post(self, child: Any) -> Post | None:
        try:
            post = thing_to_post(child)
        except (ValueError, TypeError, KeyError) as exc:
            if "deleted" not in str(exc) and "removed" not in str(exc):
                log.warning("reddit: skipped a malformed item: %s", exc)
            return None
        if self.own and post.author.handle.lower() == self.own:
            return None  # the brand account's own comments are not mentions
        return post


def _created(child: Any) -> float | None:
    value = child.get("data", {}).get("created_utc") if isinstance(child, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else None


class RedditResponder:
    """Comments as the brand's account under the post or comment (its fullname is the
    mention's external id)."""

    network = NETWORK

    def __init__(self, api: Api) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY)

    async def gone(self, fullname: str) -> str | None:
        """Why the post or comment is gone (deleted by its author, removed by the moderators),
        from one GET /api/info; None while it stands. Reddit keeps a deleted thing with
        author "[deleted]" and its text "[deleted]", a removed one with "[removed]" (a post
        also with `removed_by_category`)."""
        body = await self.api.get_json("/api/info", params={"id": fullname, "raw_json": "1"})
        children = (body.get("data") or {}).get("children") if isinstance(body, dict) else None
        if not children:
            return "Reddit has no such post or comment any more"
        data = children[0].get("data") or {} if isinstance(children[0], dict) else {}
        text = data.get("body") if fullname.startswith("t1_") else data.get("selftext")
        category = data.get("removed_by_category")
        if text == "[removed]" or category in ("moderator", "reddit", "anti_evil_ops",
                                                  "automod_filtered", "copyright_takedown"):
            return "removed by the moderators"
        if data.get("author") == "[deleted]" or text == "[deleted]" or category == "deleted":
            return "deleted by its author"
        return None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        if not mention.external_id.startswith(("t1_", "t3_")):
            raise ReplyRejected(f"not a Reddit post or comment: {mention.external_id}")
        try:
            why = await self.gone(mention.external_id)
        except (ApiError, httpx.HTTPError) as exc:  # the look-up is a courtesy: reply anyway
            log.warning("reddit: could not look up %s before replying: %s",
                        mention.external_id, exc)
            why = None
        if why:
            raise PostGone(why)

        async def post() -> PostedReply:
            response = await self.api.write(
                "POST", "/api/comment",
                data={"thing_id": mention.external_id, "text": text, "api_type": "json"})
            body = response_json(response)
            result = body.get("json") if isinstance(body, dict) else None
            errors = result.get("errors") if isinstance(result, dict) else None
            if errors:
                # [["RATELIMIT", "you are doing that too much...", "ratelimit"], ...]
                raise ReplyRejected("; ".join(_error_text(e) for e in errors))
            things = (result or {}).get("data", {}).get("things") or []
            if not things or not isinstance(things[0], dict):
                raise ReplyRejected("Reddit answered without the new comment")
            data = things[0].get("data") or {}
            name = data.get("name") or f"t1_{data.get('id')}"
            permalink = data.get("permalink")
            url = WEB + permalink if isinstance(permalink, str) else None
            return PostedReply(id=str(name), url=url)

        result: PostedReply = await send_reply(post)
        return result


def _error_text(error: Any) -> str:
    if isinstance(error, list) and len(error) >= 2:
        return f"{error[0]}: {error[1]}"
    return str(error)


async def follower_count(api: Api, handle: str) -> int | None:
    """Followers of a Reddit account (its profile's subscribers)."""
    try:
        about = await api.get_json(f"/user/{handle.removeprefix('u/').lstrip('/')}/about",
                                   params={"raw_json": "1"})
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("reddit: followers of %s unknown: %s", handle, exc)
        return None
    subs = (about.get("data") or {}).get("subreddit") if isinstance(about, dict) else None
    return as_int(subs.get("subscribers")) if isinstance(subs, dict) else None


async def verify(api: Api, token: Token) -> str:
    """Sign in and name the account (app-only: no account)."""
    api.attempts = token.api.attempts = 1
    token.forget()
    if not token.user_context:
        await token.headers()
        return "app-only (client credentials; read-only)"
    me = await api.get_json("/api/v1/me")
    return f"u/{me.get('name')}"


def components(client: httpx.AsyncClient, *, api_url: str, auth_url: str, client_id: str,
          client_secret: str, user_agent: str | None, username: str | None,
          password: str | None, terms: TermsProvider, interval: float,
          subreddits: Iterable[str] = (), sleep: Sleep = asyncio.sleep,
          now: Callable[[], datetime] = utcnow,
          ) -> tuple[RedditSource, RedditResponder | None, Api, Token]:
    """The source, the responder (only with an account: replies need user context), and the
    API and token they share."""
    agent = user_agent or default_user_agent(username)
    token = Token(client, auth_url=auth_url, client_id=client_id, client_secret=client_secret,
                  user_agent=agent, username=username, password=password, sleep=sleep)
    api = api_for(client, api_url, token, user_agent=agent, sleep=sleep, now=now)
    source = RedditSource(api, terms, interval=interval, subreddits=list(subreddits),
                          own=username, sleep=sleep)
    responder = RedditResponder(api) if token.user_context else None
    return source, responder, api, token


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[RedditSettings]) -> Parts | None:
    s = ctx.settings
    client_secret = secret(s.client_secret)
    if not (s.client_id and client_secret):
        return None
    source, responder, api, token = components(
        ctx.client, api_url=s.api_url, auth_url=s.auth_url, client_id=s.client_id,
        client_secret=client_secret, user_agent=s.user_agent, username=s.username,
        password=secret(s.password) or None, terms=ctx.terms(NETWORK),
        interval=ctx.shared.poll_seconds, subreddits=s.subreddits)
    subs = ", ".join(f"r/{sub}" for sub in source.subreddits) or "no subreddits"
    what = f"search; new comments of {subs}"
    if responder is not None:
        what += "; replies"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(api, token)),
                 followers=lambda handle: follower_count(api, handle))


PLUGIN = Plugin(spec=specs.REDDIT, settings=RedditSettings, build=build)
