"""Threads (Meta's Threads API, graph.threads.net): keyword search, @mentions of the brand's
profile, replies under the brand's own posts, and replies through a media container that is
created and then published.

Reads (each can be switched off in the settings):

- keyword search: `GET /keyword_search?q=&search_type=RECENT&since=` for each term
  (threads_keyword_search). Until Meta's App Review approved that permission for the app, the
  search covers only the token owner's own posts, which are not mentions: nothing comes back.
  Meta counts the queries per user across all apps (2,200 in a rolling 24 hours; a query
  without results does not count): the source searches every `search_seconds` and keeps the
  times of its counted queries in the cursor, so it never sends more than `search_quota` in
  the window, and a refusal with a throttling code stops searching for an hour.
- @mentions: `GET /{user-id}/mentions` (threads_manage_mentions; before approval only testers'
  mentions), newest first, paged by the `after` cursor (the edge gives no `next`).
- replies to the brand's posts: `GET /{user-id}/threads` (its ten newest posts), and for each
  with `has_replies` `GET /{media-id}/conversation?reverse=true` (every depth, newest first;
  threads_read_replies).

A reply is two writes (threads_basic, threads_manage_replies): `POST /{user-id}/threads` with
media_type=TEXT, text and reply_to_id gives a container id; `POST /{user-id}/threads_publish`
with that creation_id publishes it. A container is not a post: whatever happens to the first
write, nothing is public, so it is rejected (safe to try again). The container's status is read
(`GET /{container-id}?fields=status,error_message`) before publishing, which avoids Threads'
"Media Not Found" (code 24, subcode 4279009) for a container that has not propagated yet; that
refusal is waited out and the publish tried again (a refused publish published nothing). A
publish whose answer is lost is looked up by the container's status: PUBLISHED is sent (its
id found among the profile's replies), anything else is uncertain (staff look, then
`settle`). Each container is published by the
call that created it and by nothing else, so a crash between the two writes leaves an
unpublished container (Threads lets it expire after 24 hours) and the reply pending in the
store, which refuses another reply to the mention until someone settles it.

Threads counts a post's 500 characters with every emoji as its UTF-8 bytes
(specs.threads_length). Published replies are limited to 1,000 in a moving 24 hours
(`GET /{user-id}/threads_publishing_limit`, read before each reply when the token may).

Every call sends the brand profile's long-lived token as the bot keeps it in the database and
renews it before its 60 days run out (threads_token.py); `echtzeit networks` checks the stored
token and says until when it is valid.

Cursor (JSON): `{"search:<term>" | "mentions" | "replies": {"t": newest timestamp (unix),
"ids": [ids at that second]}, "searched_at": unix, "searches": [unix times of counted
queries], "search_blocked_until": unix}`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, ReplyUncertain, length_problem
from integrations.networks import specs, threads_token
from integrations.networks.http_common import (
    JSON,
    ApiError,
    RateLimited,
    Sleep,
    Uncertain,
    parse_time,
    pick,
)
from integrations.networks.meta_common import PERMISSION_CODES, THROTTLE_CODES, GraphApi
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import ThreadsSettings
from integrations.networks.terms import SearchTerm, TermsProvider
from integrations.networks.threads_token import REAUTHORIZE, RenewedThreadsToken, describe

log = logging.getLogger(__name__)

NETWORK = "threads"
MAX_REPLY = specs.THREADS.reply_limit or 500
PAGE = 100  # the largest `limit` Threads' list edges accept
MAX_PAGES = 5
RECENT_POSTS = 10  # replies are read under the brand's ten newest posts
FIELDS = ("id,text,media_type,permalink,timestamp,username,shortcode,is_reply,"
          "is_quote_post,has_replies,replied_to,quoted_post")
SEARCH_WINDOW = 24 * 3600  # the keyword-search quota's rolling window
SEARCH_PAUSE = 3600.0  # searching stops this long after Threads refused a search as throttled
# Container status reads before publishing: Threads advises once a minute for at most five
# minutes for media; a text container is ready at once or within seconds.
READY_WAITS = (2.0, 5.0, 10.0)
PROPAGATION_WAIT = 5.0  # after "Media Not Found" (24 / 4279009) on publish
HOSTS = frozenset({"threads.net", "www.threads.net", "threads.com", "www.threads.com"})
USERNAME = re.compile(r"[A-Za-z0-9._]{1,30}")
DIGITS = re.compile(r"[0-9]{1,30}")


# --- parsing ----------------------------------------------------------------------------------


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    text = str(value) if isinstance(value, int | str) else ""
    return text if DIGITS.fullmatch(text) else None


def profile_url(username: str) -> str:
    return f"https://www.threads.net/@{username}"


def _permalink(value: Any, username: str) -> str:
    """The post's permalink when it is an https link on Threads, else the author's profile
    (an answer must not make a card link elsewhere)."""
    if isinstance(value, str):
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is not None and parts.scheme == "https" and parts.hostname in HOSTS:
            return value
    return profile_url(username)


def media_to_post(item: Any) -> Post:
    """A Threads media object (a post or a reply) as a Post; ValueError when it is not one."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    mid = _id(item.get("id"))
    if mid is None:
        raise ValueError("no id")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("no text")
    user = item.get("username")
    if not isinstance(user, str) or not USERNAME.fullmatch(user):
        raise ValueError("no username")
    return Post(
        network=NETWORK, external_id=mid, url=_permalink(item.get("permalink"), user),
        author=Author(handle=user, url=profile_url(user)), text=text,
        created_at=parse_time(item.get("timestamp")),
        in_reply_to=_id(pick(item, "replied_to", "id")),
        quotes=_id(pick(item, "quoted_post", "id")))


def _stamp(item: Any) -> int | None:
    try:
        return int(parse_time(item.get("timestamp")).timestamp()) \
            if isinstance(item, dict) else None
    except ValueError:
        return None


class Mark:
    """Where one read stopped: the newest timestamp seen and the ids seen at that second (a
    `since` is inclusive, and Threads' timestamps are whole seconds)."""

    def __init__(self, raw: Any) -> None:
        t = raw.get("t") if isinstance(raw, dict) else None
        ids = raw.get("ids") if isinstance(raw, dict) else None
        self.t: int | None = t if isinstance(t, int) and not isinstance(t, bool) else None
        self.ids: set[str] = {i for i in ids if isinstance(i, str)} \
            if isinstance(ids, list) else set()

    def new(self, stamp: int, mid: str) -> bool:
        return self.t is None or stamp > self.t or (stamp == self.t and mid not in self.ids)

    def older(self, stamp: int) -> bool:
        return self.t is not None and stamp < self.t

    def see(self, stamp: int, mid: str) -> None:
        if self.t is None or stamp > self.t:
            self.t, self.ids = stamp, {mid}
        elif stamp == self.t:
            self.ids.add(mid)

    def dump(self) -> JSON | None:
        return None if self.t is None else {"t": self.t, "ids": sorted(self.ids)}


# --- the source -------------------------------------------------------------------------------


class ThreadsSource(PollingSource):
    """Keyword search, @mentions and replies under the brand's posts, each back to its mark."""

    def __init__(self, api: GraphApi, search_api: GraphApi, user_id: str,
                 terms: TermsProvider, *, interval: float, search: bool = True,
                 mentions: bool = True, replies: bool = True, search_seconds: float = 300.0,
                 search_quota: int = 2_200, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.search_api = search_api  # one attempt: a throttled search is not retried
        self.user_id = user_id
        self.terms = terms
        self.search = search
        self.mentions = mentions
        self.replies = replies
        self.search_seconds = search_seconds
        self.search_quota = search_quota
        self.now = now
        self.username: str | None = None
        self.name = f"threads:{user_id}"

    async def load(self) -> None:
        if self.username is None:
            me = await self.api.get_json("/me", params={"fields": "id,username"})
            name = me.get("username") if isinstance(me, dict) else None
            self.username = name if isinstance(name, str) else None

    def _own(self, item: Any) -> bool:
        user = item.get("username") if isinstance(item, dict) else None
        return bool(self.username) and isinstance(user, str) and \
            user.lower() == str(self.username).lower()

    async def poll_once(self, cursor: str | None) -> Batch:
        await self.load()
        state = load_cursor(cursor)
        out: dict[str, Any] = {}
        posts: list[Post] = []
        if self.mentions:
            mark = Mark(state.get("mentions"))
            posts += await self._read(f"/{self.user_id}/mentions", {"fields": FIELDS}, mark)
            out["mentions"] = mark.dump()
        if self.replies:
            mark = Mark(state.get("replies"))
            posts += await self._replies(mark)
            out["replies"] = mark.dump()
        for key in ("searched_at", "searches", "search_blocked_until"):
            if key in state:
                out[key] = state[key]
        out.update({k: v for k, v in state.items() if k.startswith("search:")})
        if self.search:
            posts += await self._search_round(state, out)
        seen: set[str] = set()
        unique: list[Post] = []
        for post in posts:  # a post found twice (a mention that a search finds too) once
            if post.external_id not in seen:
                seen.add(post.external_id)
                unique.append(post)
        return Batch(posts=unique, cursor=dump_cursor({k: v for k, v in out.items()
                                                       if v is not None}))

    async def _pages(self, api: GraphApi, path: str, params: Mapping[str, Any],
                     ) -> AsyncIterator[list[Any]]:
        """The `data` of each page: `paging.next` when it points at the API, else the `after`
        cursor (the mentions edge gives only cursors)."""
        url, query = path, dict(params)
        for _ in range(MAX_PAGES):
            body = await api.get_json(url, params=query)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ValueError(f"{path}: answer without data")
            yield data
            after = pick(body, "paging", "cursors", "after")
            following = pick(body, "paging", "next")
            if not data:
                return
            if isinstance(following, str) and following.startswith(api.base_url + "/"):
                url, query = following, {}
            elif isinstance(after, str) and after:
                url, query = path, {**params, "after": after}
            else:
                return

    async def _read(self, path: str, params: Mapping[str, Any], mark: Mark, *,
                    api: GraphApi | None = None) -> list[Post]:
        """A newest-first list back to `mark` (the first time: its first page); `mark`
        moves to the newest item read."""
        start = Mark(mark.dump())
        first = start.t is None
        found: list[Post] = []
        async for page in self._pages(api or self.api, path, {**params, "limit": PAGE}):
            reached = False
            for item in page:
                stamp = _stamp(item)
                mid = _id(item.get("id")) if isinstance(item, dict) else None
                if stamp is None or mid is None:
                    log.warning("threads: skipped a malformed item")
                    continue
                if start.older(stamp):
                    reached = True
                    continue
                if not start.new(stamp, mid):
                    continue
                mark.see(stamp, mid)
                if self._own(item):
                    continue
                try:
                    found.append(media_to_post(item))
                except (ValueError, TypeError) as exc:
                    log.warning("threads: skipped an item: %s", exc)
            if first or reached:
                break
        return found

    async def _replies(self, mark: Mark) -> list[Post]:
        """Replies (any depth) under the brand's newest posts, back to one shared mark."""
        start = Mark(mark.dump())  # every conversation reads back to where the last poll was
        found: list[Post] = []
        own: list[Any] = []
        async for page in self._pages(self.api, f"/{self.user_id}/threads", {
                "fields": "id,timestamp,has_replies", "limit": RECENT_POSTS}):
            own += page
            break
        for post in own:
            pid = _id(post.get("id")) if isinstance(post, dict) else None
            if pid is None or post.get("has_replies") is not True:
                continue
            seen = Mark(start.dump())
            found += await self._read(f"/{pid}/conversation",
                                      {"fields": FIELDS, "reverse": "true"}, seen)
            if seen.t is not None:
                if mark.t is None or seen.t > mark.t:
                    mark.t, mark.ids = seen.t, set(seen.ids)
                elif seen.t == mark.t:
                    mark.ids |= seen.ids
        return found

    async def _search_round(self, state: Mapping[str, Any], out: dict[str, Any]) -> list[Post]:
        now = int(self.now().timestamp())
        blocked = state.get("search_blocked_until")
        if isinstance(blocked, int) and now < blocked:
            return []
        searched_at = state.get("searched_at")
        if isinstance(searched_at, int) and now - searched_at < self.search_seconds:
            return []
        counted = [t for t in state.get("searches") or [] if isinstance(t, int)
                   and not isinstance(t, bool) and now - t < SEARCH_WINDOW]
        terms = sorted({(t.text.strip(), t.kind) for t in await self.terms() if t.text.strip()})
        found: list[Post] = []
        for text, kind in terms:
            if len(counted) >= self.search_quota:
                log.warning("threads: %d keyword searches in 24 h (the quota); the rest wait",
                            len(counted))
                break
            key = f"search:{SearchTerm(text, kind).key}"
            mark = Mark(state.get(key))
            params: dict[str, Any] = {"q": text, "search_type": "RECENT", "fields": FIELDS,
                                      "search_mode": "TAG" if kind == "hashtag" else "KEYWORD"}
            if mark.t is not None:
                params["since"] = mark.t
            try:
                page = await self._search_once(params, mark)
            except RateLimited as exc:
                log.warning("threads: keyword search throttled (%s); searching again in %.0f "
                            "minutes", exc, SEARCH_PAUSE / 60)
                out["search_blocked_until"] = now + int(SEARCH_PAUSE)
                break
            if page is None:
                continue
            results, queries = page
            counted += [now] * queries
            found += results
            out[key] = mark.dump()
        out["searched_at"] = now
        out["searches"] = counted
        return found

    async def _search_once(self, params: dict[str, Any], mark: Mark,
                           ) -> tuple[list[Post], int] | None:
        """One term's search back to its mark, and how many queries counted (those with
        results)."""
        found: list[Post] = []
        queries = 0
        start = Mark(mark.dump())
        first = start.t is None
        query: dict[str, Any] = {**params, "limit": PAGE}
        for _ in range(MAX_PAGES):
            body = await self.search_api.get_json("/keyword_search", params=query)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ValueError("keyword_search: answer without data")
            if data:
                queries += 1
            for item in data:
                stamp = _stamp(item)
                mid = _id(item.get("id")) if isinstance(item, dict) else None
                if stamp is None or mid is None or not start.new(stamp, mid):
                    continue
                mark.see(stamp, mid)
                if self._own(item):
                    continue
                try:
                    found.append(media_to_post(item))
                except (ValueError, TypeError) as exc:
                    log.warning("threads: skipped a search result: %s", exc)
            after = pick(body, "paging", "cursors", "after")
            # Each page is a query against the quota: no page after a short one.
            if first or len(data) < PAGE or not isinstance(after, str) or not after:
                break
            query = {**params, "limit": PAGE, "after": after}
        return found, queries


# --- the responder ----------------------------------------------------------------------------


def _graph_error(exc: ApiError) -> tuple[Any, Any, str]:
    return (pick(exc.body, "error", "code"), pick(exc.body, "error", "error_subcode"),
            pick(exc.body, "error", "message") or exc.message)


def _refusal(exc: ApiError, step: str) -> ReplyRejected:
    code, _, message = _graph_error(exc)
    if code in PERMISSION_CODES:
        return ReplyRejected(f"Threads refused the {step}: the token lacks a permission "
                             f"(threads_basic, threads_manage_replies) (Graph error {code}: "
                             f"{message})")
    if code == 190:
        return ReplyRejected(f"Threads refused the {step}: the access token is invalid or "
                             f"expired (Graph error 190: {message})")
    if code in THROTTLE_CODES or code == 9 or exc.status == 429:
        return ReplyRejected(f"Threads refused the {step}: rate limited ({message}); nothing "
                             "was posted, try again later")
    return ReplyRejected(f"Threads refused the {step}: {message}")


class ThreadsResponder:
    """Replies as the brand's profile: a TEXT container with reply_to_id, then its publish."""

    network = NETWORK
    max_chars = MAX_REPLY

    def __init__(self, api: GraphApi, user_id: str, *, sleep: Sleep = asyncio.sleep) -> None:
        self.api = api
        self.user_id = user_id
        self.sleep = sleep

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY, size=specs.threads_length(text))

    async def _quota_left(self) -> None:
        """Refuse before anything is written when the 24-hour reply quota is used up (the
        check needs threads_content_publish as well; without it the publish itself says no)."""
        try:
            body = await self.api.get_json(f"/{self.user_id}/threads_publishing_limit",
                                           params={"fields": "reply_quota_usage,reply_config"})
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.info("threads: reply quota unknown (%s)", exc)
            return
        row = (body.get("data") or [None])[0] if isinstance(body, dict) else None
        used = row.get("reply_quota_usage") if isinstance(row, dict) else None
        total = pick(row, "reply_config", "quota_total")
        if isinstance(used, int) and isinstance(total, int) and used >= total:
            hours = (pick(row, "reply_config", "quota_duration") or 86_400) // 3600
            raise ReplyRejected(f"Threads allows {total} replies in {hours} h and this profile "
                                f"has used them; nothing was posted, try again later")

    async def _status(self, container: str) -> str | None:
        try:
            body = await self.api.get_json(f"/{container}",
                                           params={"fields": "status,error_message"})
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.warning("threads: status of container %s unknown: %s", container, exc)
            return None
        status = body.get("status") if isinstance(body, dict) else None
        if status == "ERROR":
            log.warning("threads: container %s failed: %s", container,
                        str(body.get("error_message"))[:200])
        return status if isinstance(status, str) else None

    async def _create(self, target: str, text: str) -> str:
        try:
            response = await self.api.write("POST", f"/{self.user_id}/threads", data={
                "media_type": "TEXT", "text": text, "reply_to_id": target})
        except ApiError as exc:
            raise _refusal(exc, "reply") from exc
        except Uncertain as exc:
            # A container is not a post: whether or not one was made, nothing is public.
            raise ReplyRejected(f"Threads did not answer the container request ({exc}); "
                                "nothing was posted, try again") from exc
        try:
            body = response.json()
        except ValueError:
            body = None
        container = _id(body.get("id")) if isinstance(body, dict) else None
        if container is None:
            raise ReplyRejected("Threads answered the container request without an id; "
                                "nothing was posted")
        return container

    async def _ready(self, container: str) -> None:
        """Wait until the container is FINISHED (text containers are, at once or soon)."""
        for wait in (0.0, *READY_WAITS):
            if wait:
                await self.sleep(wait)
            status = await self._status(container)
            if status == "FINISHED":
                return
            if status in ("ERROR", "EXPIRED"):
                raise ReplyRejected(f"Threads could not prepare the reply (container {status});"
                                    " nothing was posted")
            if status == "PUBLISHED":  # not by us: nothing publishes it but this call
                raise ReplyUncertain(f"container {container} is already published")
        raise ReplyRejected("Threads did not finish preparing the reply in time; nothing was "
                            "posted, try again")

    async def _publish(self, container: str) -> str | None:
        """Publish the container once; its media id (None when the answer was lost but the
        container says PUBLISHED)."""
        for attempt in range(3):
            try:
                response = await self.api.write(
                    "POST", f"/{self.user_id}/threads_publish",
                    params={"creation_id": container})
            except ApiError as exc:
                code, subcode, _ = _graph_error(exc)
                if code == 24 and subcode == 4279009 and attempt < 2:
                    # "Media Not Found": not propagated yet; a refused publish published
                    # nothing, so asking again is safe.
                    await self.sleep(PROPAGATION_WAIT)
                    continue
                if await self._status(container) == "PUBLISHED":
                    return None  # refused as published already: by this very call's first try
                raise _refusal(exc, "reply") from exc
            except Uncertain as exc:
                status = await self._status(container)
                if status == "PUBLISHED":
                    return None
                raise ReplyUncertain(f"{exc}; container {container} is "
                                     f"{status or 'of unknown status'}") from exc
            try:
                body = response.json()
            except ValueError as exc:
                raise ReplyUncertain(f"HTTP {response.status_code} without a JSON body") \
                    from exc
            media = _id(body.get("id")) if isinstance(body, dict) else None
            if media is None:
                raise ReplyUncertain("Threads answered the publish without a media id")
            return media
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _permalink(self, media: str) -> str | None:
        try:
            body = await self.api.get_json(f"/{media}", params={"fields": "permalink"})
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.info("threads: permalink of %s unknown: %s", media, exc)
            return None
        link = body.get("permalink") if isinstance(body, dict) else None
        return link if isinstance(link, str) and _permalink(link, "x") == link else None

    async def _find_published(self, target: str, text: str) -> PostedReply:
        """The reply a lost publish answer would have named: the profile's newest reply to
        `target` with this text (`GET /{user-id}/replies`); without it, no id."""
        try:
            body = await self.api.get_json(f"/{self.user_id}/replies", params={
                "fields": "id,text,permalink,replied_to", "limit": 25})
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.info("threads: the published reply is not found: %s", exc)
            return PostedReply(id="", url=None)
        for item in body.get("data") or [] if isinstance(body, dict) else []:
            if isinstance(item, dict) and _id(pick(item, "replied_to", "id")) == target \
                    and item.get("text") == text and _id(item.get("id")):
                link = item.get("permalink")
                return PostedReply(id=str(item["id"]), url=link if isinstance(link, str)
                                   and _permalink(link, "x") == link else None)
        return PostedReply(id="", url=None)

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        target = _id(mention.external_id)
        if target is None:
            raise ReplyRejected(f"not a Threads post id: {mention.external_id}")
        await self._quota_left()
        container = await self._create(target, text)
        await self._ready(container)
        media = await self._publish(container)
        if media is None:  # published, but its answer was lost
            return await self._find_published(target, text)
        return PostedReply(id=media, url=await self._permalink(media))


async def verify(api: GraphApi, user_id: str | None = None, *, mentions: bool = False,
                 replies: bool = False) -> str:
    """Name the profile, and try the reads that are on with one item each, so that a missing
    permission shows here rather than as failing polls (the search is not tried: a query with
    results costs one of the day's quota)."""
    api.attempts = 1
    body = await api.get_json("/me", params={"fields": "id,username"})
    probes = [(on, path, permission) for on, path, permission in (
        (mentions, f"/{user_id}/mentions", "threads_manage_mentions"),
        (replies, f"/{user_id}/replies", "threads_read_replies")) if on and user_id]
    for _, path, permission in probes:
        try:
            await api.get_json(path, params={"fields": "id", "limit": 1})
        except ApiError as exc:
            code, _, message = _graph_error(exc)
            if code in PERMISSION_CODES:
                raise ApiError(exc.status, f"the token lacks {permission} (Graph error {code}: "
                                           f"{message}); grant it or turn that read off") \
                    from exc
            raise
    return f"@{body.get('username')} ({body.get('id')})"


async def checked(api: GraphApi, user_id: str | None = None, *, mentions: bool = False,
                  replies: bool = False) -> str:
    """`verify`, with what to do when Threads calls the token invalid or expired."""
    try:
        return await verify(api, user_id, mentions=mentions, replies=replies)
    except ApiError as exc:
        code, _, message = _graph_error(exc)
        if code == 190:
            raise ApiError(exc.status, f"the token is invalid or expired (Graph error 190: "
                                       f"{message}): {REAUTHORIZE}") from exc
        raise


def components(client: httpx.AsyncClient, *, api_url: str, user_id: str, token: str,
               terms: TermsProvider, interval: float, search: bool = True,
               mentions: bool = True, replies: bool = True, search_seconds: float = 300.0,
               search_quota: int = 2_200, sleep: Sleep = asyncio.sleep,
               now: Callable[[], datetime] = utcnow, renewed: RenewedThreadsToken | None = None,
               ) -> tuple[ThreadsSource, ThreadsResponder, GraphApi]:
    """The source, the responder and the Api of Threads; with `renewed`, every call sends the
    stored token it keeps alive (else `token` as it is)."""
    auth: dict[str, Any] = {"auth": renewed.headers} if renewed is not None else {}
    api = GraphApi(client, api_url, token, sleep=sleep, now=now, **auth)
    search_api = GraphApi(client, api_url, token, sleep=sleep, now=now, attempts=1, **auth)
    source = ThreadsSource(api, search_api, user_id, terms, interval=interval, search=search,
                           mentions=mentions, replies=replies, search_seconds=search_seconds,
                           search_quota=search_quota, sleep=sleep, now=now)
    return source, ThreadsResponder(api, user_id, sleep=sleep), api


def with_keywords(terms: TermsProvider, keywords: Iterable[str]) -> TermsProvider:
    """The brands' terms and the configured keywords."""
    extra = [SearchTerm(k.strip()) for k in keywords if k.strip()]

    async def provide() -> list[SearchTerm]:
        return [*await terms(), *extra]

    return provide


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[ThreadsSettings]) -> Parts | None:
    s = ctx.settings
    token, user = secret(s.access_token), s.user_id
    if not (token and user):
        return None
    renewed: RenewedThreadsToken | None = None
    note = ""
    if ctx.store is not None:  # the bot: the stored token, renewed before it runs out
        renewed = threads_token.renewed_token(ctx.client, api_url=s.api_url, store=ctx.store,
                                              seed=token)
    elif ctx.credentials is not None:  # `echtzeit networks`: the stored token, read only
        note, stored = describe(ctx.credentials(threads_token.NAME), token, ctx.now())
        note = "; " + note
        if stored is None:  # it ran out: nothing to check, the operator must act
            return Parts(check=(_what(s) + note, lambda: _expired(note)))
        token = stored
    source, responder, api = components(
        ctx.client, api_url=s.api_url, user_id=user, token=token,
        terms=with_keywords(ctx.terms(NETWORK), s.keywords), interval=ctx.shared.poll_seconds,
        search=s.search, mentions=s.mentions, replies=s.replies,
        search_seconds=s.search_seconds, search_quota=s.search_quota, renewed=renewed)
    return Parts(sources=[source] if _reads(s) else [], responder=responder,
                 check=(_what(s) + note, lambda: checked(api, user, mentions=s.mentions,
                                                         replies=s.replies)))


def _reads(s: ThreadsSettings) -> list[str]:
    return [what for on, what in ((s.search, f"keyword search every {s.search_seconds:.0f} s"),
                                  (s.mentions, "@mentions"),
                                  (s.replies, "replies to own posts")) if on]


def _what(s: ThreadsSettings) -> str:
    return (", ".join(_reads(s)) or "no reads") + "; replies (create + publish)"


async def _expired(note: str) -> str:
    raise ApiError(0, note.removeprefix("; "))


PLUGIN = Plugin(spec=specs.THREADS, settings=ThreadsSettings, build=build)
