"""Lemmy: the search of one instance (posts and comments, newest first) for each of the
brands' terms, the new posts and comments of chosen communities, and replies as comments
(`POST /api/v3/comment`).

API v3 (`/api/v3/...`), what Lemmy 0.19.x serves; 1.0 adds /api/v4 but keeps /api/v3 through
its compatibility routes (crates/api/routes_v3), so v3 is the stable choice. Lemmy's search is
one substring match (`fuzzy_search`: `%q%`, spaces as `%`), with no OR: one search per term and
type. Reads work anonymously on most instances; a reply needs the brand's account: one
`POST /api/v3/user/login` gives a JWT, sent as `Authorization: Bearer` (0.19 reads it from
that header or the `jwt` cookie). Lemmy ignores an invalid or expired JWT and answers what
needs a user with 400 {"error": "not_logged_in"}: then we sign in again, once. Logins share the
`register` rate limit (3 an hour by default), so the JWT is kept.

Errors are 400 {"error": "<snake_case type>", "message"?} (lemmy_utils::error::LemmyErrorType,
`#[serde(tag = "error", content = "message")]`; 401 for incorrect_login, 404 for not found).
Lemmy's own rate limiter answers 400 {"error": "rate_limit_error"} (not 429, and without a
Retry-After); a reverse proxy in front may answer 429. Both make a read wait and retry.

Mentions are `post:<id>` and `comment:<id>` in the configured instance's ids, their URL that
instance's `/post/<id>` or `/comment/<id>`: the ids a reply must name are the instance's own,
and its page is where staff are signed in (the federated `ap_id` may live on another instance
with other ids). A comment's `in_reply_to` is `post:<post id>`, which its reply needs (looked
up with `GET /api/v3/comment?id=` when a stored mention lacks it).

Cursor (JSON): `{"<what>:<term or community>": newest published (ISO)}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateLimited,
    Sleep,
    as_int,
    parse_time,
    response_json,
    send_reply,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import LemmySettings
from integrations.networks.terms import TermsProvider

log = logging.getLogger(__name__)

NETWORK = "lemmy"
# crates/db_schema/src/utils.rs: FETCH_LIMIT_MAX = 50 (a larger `limit` is an error).
PAGE = 50
MAX_PAGES = 5
# crates/utils/src/utils/validation.rs: BODY_MAX_LENGTH = 10000 for comments, counted in
# UTF-16 code units (max_length_check: `item.encode_utf16().count()`); specs.utf16_length.
MAX_REPLY = specs.LEMMY.reply_limit or 10_000
# Lemmy's limiter names no wait; its default buckets refill a search every 10 s (60 in 600 s)
# and a comment every 100 s (6 in 600 s). A read waits this long, then tries again.
RATE_WAIT = 60.0


def _error_type(exc: ApiError) -> str | None:
    body = exc.body
    value = body.get("error") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class LemmyApi(Api):
    """Api that knows Lemmy's rate-limit answer: 400 {"error": "rate_limit_error"}."""

    async def _send_once(self, method: str, url: str, *, headers: dict[str, str],
                         **kwargs: Any) -> httpx.Response:
        try:
            return await super()._send_once(method, url, headers=headers, **kwargs)
        except RateLimited:
            raise
        except ApiError as exc:
            if _error_type(exc) == "rate_limit_error":
                raise RateLimited(exc.status, "rate_limit_error", retry_after=RATE_WAIT,
                                  body=exc.body, headers=exc.headers) from exc
            raise


class Session:
    """The brand account's JWT: one login, kept until Lemmy stops accepting it."""

    def __init__(self, api: Api, username: str | None, password: str | None) -> None:
        self.api = api
        self.username = username
        self._password = password
        self._jwt: str | None = None
        self._lock = asyncio.Lock()
        self.logins = 0

    @property
    def account(self) -> bool:
        return bool(self.username and self._password)

    async def headers(self) -> Mapping[str, str]:
        """Bearer header with the account (signing in on first use), none without one."""
        if not self.account:
            return {}
        async with self._lock:
            if self._jwt is None:
                self._jwt = await self._login()
        return {"Authorization": f"Bearer {self._jwt}"}

    def forget(self) -> None:
        self._jwt = None

    async def _login(self) -> str:
        self.logins += 1
        try:
            body = await self.api.post_json("/api/v3/user/login", {
                "username_or_email": self.username, "password": self._password})
        except ApiError as exc:
            raise ApiError(exc.status, f"Lemmy refused the login: {exc.message}") from exc
        jwt = body.get("jwt") if isinstance(body, dict) else None
        if not isinstance(jwt, str) or not jwt:
            # LoginResponse.jwt is null while a registration application or e-mail
            # verification is pending.
            raise ApiError(401, "Lemmy gave no token (registration pending or e-mail "
                                "unverified)")
        return jwt


async def signed_in(session: Session, call: Callable[[], Awaitable[Any]]) -> Any:
    """`call()`, and once more after a fresh login when Lemmy says not_logged_in (it ignores
    an expired or revoked JWT, so nothing was done)."""
    try:
        return await call()
    except ApiError as exc:
        if not session.account or _error_type(exc) != "not_logged_in":
            raise
        log.info("lemmy: the JWT was not accepted; signing in again")
        session.forget()
        return await call()


# --- parsing ----------------------------------------------------------------------------------


def _dict(raw: Any, key: str) -> JSON:
    value = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(value, dict):
        raise ValueError(f"no {key}")
    return value


def _id(raw: JSON, key: str = "id") -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"no {key}")
    return value


def _host(url: Any) -> str | None:
    if not isinstance(url, str):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host or None


def _author(creator: JSON, instance_host: str) -> Author:
    name = creator.get("name")
    if not isinstance(name, str) or not name or creator.get("deleted") is True:
        raise ValueError("deleted author")
    host = _host(creator.get("actor_id")) or instance_host
    display = creator.get("display_name")
    actor = creator.get("actor_id")
    return Author(handle=f"{name}@{host}",
                  name=display if isinstance(display, str) and display else None,
                  followers=None,  # Lemmy has no followers of people
                  url=actor if isinstance(actor, str) and actor.startswith("http") else None)


def _gone(item: JSON) -> bool:
    return item.get("deleted") is True or item.get("removed") is True


def _extra(view: JSON) -> dict[str, str]:
    community = view.get("community")
    name = community.get("name") if isinstance(community, dict) else None
    host = _host(community.get("actor_id")) if isinstance(community, dict) else None
    extra = {"community": f"{name}@{host}" if name and host else str(name or "")}
    return extra


def post_view_to_post(view: Any, web: str) -> Post:
    """A PostView (post, creator, community, counts) as a Post; `web` is the instance's URL."""
    post = _dict(view, "post")
    if _gone(post):
        raise ValueError("deleted post")
    pid = _id(post)
    title = post.get("name")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("no title")
    body = post.get("body")
    link = post.get("url")
    parts = [title.strip(), body.strip() if isinstance(body, str) else "",
             link if isinstance(link, str) else ""]
    counts = view.get("counts") if isinstance(view.get("counts"), dict) else {}
    extra = _extra(view)
    if isinstance(post.get("ap_id"), str):
        extra["ap_id"] = post["ap_id"]
    return Post(
        network=NETWORK, external_id=f"post:{pid}", url=f"{web}/post/{pid}",
        author=_author(_dict(view, "creator"), _host(web) or ""),
        text="\n\n".join(p for p in parts if p),
        created_at=parse_time(post.get("published")),
        likes=as_int(counts.get("upvotes")), reposts=None,
        replies=as_int(counts.get("comments")), in_reply_to=None, extra=extra)


def comment_view_to_post(view: Any, web: str) -> Post:
    """A CommentView (comment, creator, post, community, counts) as a Post."""
    comment = _dict(view, "comment")
    if _gone(comment):
        raise ValueError("deleted comment")
    cid = _id(comment)
    post_id = _id(comment, "post_id")
    text = comment.get("content")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no text")
    counts = view.get("counts") if isinstance(view.get("counts"), dict) else {}
    extra = _extra(view)
    if isinstance(comment.get("ap_id"), str):
        extra["ap_id"] = comment["ap_id"]
    return Post(
        network=NETWORK, external_id=f"comment:{cid}", url=f"{web}/comment/{cid}",
        author=_author(_dict(view, "creator"), _host(web) or ""),
        text=text.strip(), created_at=parse_time(comment.get("published")),
        likes=as_int(counts.get("upvotes")), reposts=None,
        replies=as_int(counts.get("child_count")), in_reply_to=f"post:{post_id}",
        extra=extra)


# --- the source -------------------------------------------------------------------------------


def _published(view: Any, kind: str) -> datetime | None:
    item = view.get(kind) if isinstance(view, dict) else None
    try:
        return parse_time(item.get("published")) if isinstance(item, dict) else None
    except ValueError:
        return None


class LemmySource(PollingSource):
    """Search posts and comments on the instance for each term; new posts and comments of
    `communities`."""

    def __init__(self, api: Api, session: Session, terms: TermsProvider, *, web: str,
                 interval: float, communities: Sequence[str] = (),
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.session = session
        self.terms = terms
        self.web = web.rstrip("/")
        self.communities = [c.strip().removeprefix("!") for c in communities if c.strip()]
        self.own = (session.username or "").lower() or None
        self.name = f"lemmy:{_host(web)}"

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        posts: list[Post] = []
        seen: dict[str, str] = {}
        reads: list[tuple[str, str, dict[str, str], str]] = []
        for text in sorted({t.text.strip() for t in await self.terms() if t.text.strip()}):
            common = {"q": text, "sort": "New", "listing_type": "All"}
            reads.append((f"posts:{text}", "/api/v3/search", {**common, "type_": "Posts"},
                          "posts"))
            reads.append((f"comments:{text}", "/api/v3/search",
                          {**common, "type_": "Comments"}, "comments"))
        for name in self.communities:
            where = {"community_name": name, "sort": "New", "type_": "All"}
            reads.append((f"community-posts:{name}", "/api/v3/post/list", where, "posts"))
            reads.append((f"community-comments:{name}", "/api/v3/comment/list", where,
                          "comments"))
        for key, path, params, kind in reads:
            found, newest = await self._listing(path, params, kind, since=state.get(key))
            posts += found
            if newest is not None:
                seen[key] = newest
        return Batch(posts=posts, cursor=dump_cursor(seen))

    async def _listing(self, path: str, params: dict[str, str], kind: str, *, since: Any,
                       ) -> tuple[list[Post], str | None]:
        """Newest first until `since` (first time: one page); the newest `published`."""
        try:
            since_t = parse_time(since) if since else None
        except ValueError:
            since_t = None
        newest = since_t
        posts: list[Post] = []
        for page in range(1, MAX_PAGES + 1):
            query = {**params, "limit": str(PAGE), "page": str(page)}

            async def get(query: dict[str, str] = query) -> Any:
                return await self.api.get_json(path, params=query)

            body = await signed_in(self.session, get)
            items = body.get(kind) if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError(f"{path}: no {kind} in the answer")
            reached = False
            for view in items:
                at = _published(view, kind[:-1])
                if at is None:
                    log.warning("lemmy: skipped a malformed %s", kind[:-1])
                    continue
                if since_t is not None and at < since_t:
                    reached = True
                    continue
                newest = at if newest is None else max(newest, at)
                post = self._post(view, kind)
                if post is not None:
                    posts.append(post)
            if since_t is None or reached or len(items) < PAGE:
                break
        return posts, newest.isoformat() if newest is not None else None

    def _post(self, view: Any, kind: str) -> Post | None:
        parse = post_view_to_post if kind == "posts" else comment_view_to_post
        try:
            post = parse(view, self.web)
        except (ValueError, TypeError, KeyError) as exc:
            if "deleted" not in str(exc):
                log.warning("lemmy: skipped a malformed %s: %s", kind[:-1], exc)
            return None
        creator = view.get("creator") if isinstance(view, dict) else None
        if (self.own and isinstance(creator, dict) and creator.get("local") is True
                and str(creator.get("name", "")).lower() == self.own):
            return None  # the brand account's own posts and replies are not mentions
        return post


# --- the responder ----------------------------------------------------------------------------


def _numeric(value: str | None, kind: str) -> int | None:
    prefix = f"{kind}:"
    if value and value.startswith(prefix) and value[len(prefix):].isdigit():
        return int(value[len(prefix):])
    return None


class LemmyResponder:
    """Comments as the brand's account: under the post (`post_id`), or under the comment
    (`parent_id`, with its post's id from the mention's `in_reply_to`)."""

    network = NETWORK

    def __init__(self, api: Api, session: Session, *, web: str) -> None:
        self.api = api
        self.session = session
        self.web = web.rstrip("/")

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY, size=specs.utf16_length(text))

    async def _post_of(self, comment_id: int) -> int:
        """The post a comment is under (`GET /api/v3/comment?id=`), for a mention stored
        without its `in_reply_to`."""
        try:
            found = await signed_in(self.session, lambda: self.api.get_json(
                "/api/v3/comment", params={"id": str(comment_id)}))
        except (ApiError, httpx.HTTPError) as exc:
            raise ReplyRejected(f"the post of Lemmy comment {comment_id} is unknown: "
                                f"{exc}") from exc
        view = found.get("comment_view") if isinstance(found, dict) else None
        comment = view.get("comment") if isinstance(view, dict) else None
        post_id = comment.get("post_id") if isinstance(comment, dict) else None
        if isinstance(post_id, bool) or not isinstance(post_id, int):
            raise ReplyRejected(f"the post of Lemmy comment {comment_id} is unknown")
        return post_id

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        post_id = _numeric(mention.external_id, "post")
        comment_id = _numeric(mention.external_id, "comment")
        body: dict[str, Any] = {"content": text}
        if post_id is not None:
            body["post_id"] = post_id
        elif comment_id is not None:
            parent_post = _numeric(mention.in_reply_to, "post")
            if parent_post is None:
                parent_post = await self._post_of(comment_id)
            body.update(post_id=parent_post, parent_id=comment_id)
        else:
            raise ReplyRejected(f"not a Lemmy post or comment: {mention.external_id}")

        async def post() -> PostedReply:
            try:
                response = await signed_in(self.session, lambda: self.api.write(
                    "POST", "/api/v3/comment", json_body=body))
            except ApiError as exc:
                if _error_type(exc) == "rate_limit_error":
                    raise ReplyRejected("rate limited by Lemmy (6 comments in 10 minutes by "
                                        "default); try again later") from exc
                raise
            created = response_json(response)
            view = created.get("comment_view") if isinstance(created, dict) else None
            comment = view.get("comment") if isinstance(view, dict) else None
            new_id = comment.get("id") if isinstance(comment, dict) else None
            if not isinstance(new_id, int):
                raise ReplyRejected("Lemmy answered without the new comment")
            return PostedReply(id=f"comment:{new_id}", url=f"{self.web}/comment/{new_id}")

        result: PostedReply = await send_reply(post)
        return result


async def verify(api: Api, session: Session) -> str:
    """Sign in (with an account) and name it; without one, name the instance."""
    api.attempts = session.api.attempts = 1
    session.forget()
    site = await signed_in(session, lambda: api.get_json("/api/v3/site"))
    if not session.account:
        name = ((site.get("site_view") or {}).get("site") or {}).get("name") \
            if isinstance(site, dict) else None
        return f"anonymous on {name or _host(api.base_url)} (read-only)"
    my_user = site.get("my_user") if isinstance(site, dict) else None
    person = ((my_user or {}).get("local_user_view") or {}).get("person") \
        if isinstance(my_user, dict) else None
    if not isinstance(person, dict) or not person.get("name"):
        raise ApiError(401, "signed in, but Lemmy does not know the account")
    return f"{person['name']}@{_host(api.base_url)}"


def components(client: httpx.AsyncClient, *, base_url: str, username: str | None,
               password: str | None, terms: TermsProvider, interval: float,
               communities: Iterable[str] = (), sleep: Sleep = asyncio.sleep,
               now: Callable[[], datetime] = utcnow,
               ) -> tuple[LemmySource, LemmyResponder | None, Api, Session]:
    """The source, the responder (only with an account) and the API and session they
    share."""
    web = base_url.rstrip("/")
    # The login goes out without a JWT; everything else with the session's.
    session = Session(LemmyApi(client, web, sleep=sleep, now=now), username, password)
    api = LemmyApi(client, web, auth=session.headers, sleep=sleep, now=now)
    source = LemmySource(api, session, terms, web=web, interval=interval,
                         communities=list(communities), sleep=sleep)
    responder = LemmyResponder(api, session, web=web) if session.account else None
    return source, responder, api, session


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[LemmySettings]) -> Parts | None:
    s = ctx.settings
    if not s.base_url:
        return None
    source, responder, api, session = components(
        ctx.client, base_url=s.base_url, username=s.username,
        password=secret(s.password) or None, terms=ctx.terms(NETWORK),
        interval=ctx.shared.poll_seconds, communities=s.communities)
    where = ", ".join(f"!{c}" for c in source.communities) or "no communities"
    what = f"search on {_host(s.base_url)}; new posts and comments of {where}"
    if responder is not None:
        what += "; replies"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(api, session)))


PLUGIN = Plugin(spec=specs.LEMMY, settings=LemmySettings, build=build)
