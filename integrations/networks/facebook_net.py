"""Facebook Pages through the Graph API: visitor posts and comments on the page's feed, posts
that tag the page, pushed by Meta's webhooks (`feed` and `mention` fields of the page object)
and polled as a fallback; replies are comments (`POST /{post-or-comment-id}/comments`).

A Page access token with pages_read_engagement, pages_read_user_content and
pages_manage_engagement is needed; for pages of others, Meta's App Review. Authors are Facebook
users without handles: the author handle is their app-scoped id, the name their name (Graph
only returns `from` to apps the page granted it to).

Cursor (JSON): `{"feed": newest created unix time, "comments": .., "tagged": ..}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    ApiError,
    Sleep,
    as_int,
    parse_time,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.meta_common import GraphApi, graph_write, set_comment_hidden
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import FacebookSettings

log = logging.getLogger(__name__)

NETWORK = "facebook"
# Meta's reference names no limit for a comment's message; 8,000 is Facebook's comment limit
# as commonly reported (docs/networks.md, "Reply limits").
MAX_REPLY = 8_000
MAX_POST = 63_206  # a page post's message (Facebook's stated limit for a post)
POST_FIELDS = ("id,message,created_time,updated_time,from,permalink_url,"
               "comments.summary(true).limit(0),reactions.summary(true).limit(0),shares")
COMMENT_FIELDS = "id,message,created_time,from,permalink_url,like_count,comment_count,parent{id}"
RECENT_POSTS = 25  # comments are read on the page's most recently active posts


def object_url(object_id: str) -> str:
    return f"https://www.facebook.com/{object_id}"


def _author(raw: Any) -> Author:
    if isinstance(raw, dict) and raw.get("id"):
        return Author(handle=str(raw["id"]), name=raw.get("name") or None)
    # Graph leaves `from` out for users who did not allow the app to see them.
    return Author(handle="facebook-user")


def graph_to_post(item: JSON, *, in_reply_to: str | None = None) -> Post:
    """A Graph post or comment object as a Post."""
    oid = item.get("id")
    text = item.get("message")
    if not isinstance(oid, str) or not oid:
        raise ValueError("object without id")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("object without a message")
    url = item.get("permalink_url")
    parent = pick(item, "parent", "id") or in_reply_to
    return Post(
        network=NETWORK,
        external_id=oid,
        url=url if isinstance(url, str) and url.startswith("http") else object_url(oid),
        author=_author(item.get("from")),
        text=text,
        created_at=parse_time(item.get("created_time")),
        likes=as_int(item.get("like_count")) if "like_count" in item
        else as_int(pick(item, "reactions", "summary", "total_count")),
        reposts=as_int(pick(item, "shares", "count")),
        replies=as_int(item.get("comment_count")) if "comment_count" in item
        else as_int(pick(item, "comments", "summary", "total_count")),
        in_reply_to=str(parent) if parent else None,
    )


def _stamp(item: Any, key: str = "created_time") -> int | None:
    try:
        return int(parse_time(item.get(key)).timestamp()) if isinstance(item, dict) else None
    except ValueError:
        return None


class FacebookSource(PollingSource):
    """Polls the page's feed (visitor posts; new comments on recently active posts) and the
    posts that tag the page."""

    name = "facebook"

    def __init__(self, api: GraphApi, page_id: str, *, interval: float,
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.page_id = page_id

    def _keep(self, post: Post) -> bool:
        return post.author.handle != self.page_id  # the page's own posts and answers

    def _posts(self, items: list[Any], *, after: int | None,
               in_reply_to: str | None = None) -> list[Post]:
        found = []
        for item in items:
            stamp = _stamp(item)
            if stamp is None or (after is not None and stamp <= after):
                continue
            try:
                post = graph_to_post(item, in_reply_to=in_reply_to)
            except (ValueError, TypeError) as exc:
                if "message" not in str(exc):  # photos without text are normal, not errors
                    log.warning("facebook: skipped a malformed object: %s", exc)
                continue
            if self._keep(post):
                found.append(post)
        return found

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        feed_after, comments_after, tagged_after = (
            as_int(state.get(k)) for k in ("feed", "comments", "tagged"))
        posts: list[Post] = []
        feed: list[Any] = []
        async for page in self.api.pages(f"/{self.page_id}/feed",
                                         {"fields": POST_FIELDS, "limit": RECENT_POSTS},
                                         max_pages=1):
            feed += page
        posts += self._posts(feed, after=feed_after)
        newest_comment = comments_after
        for item in feed:
            updated = _stamp(item, "updated_time") or _stamp(item)
            if comments_after is not None and (updated is None or updated <= comments_after):
                continue  # no activity since the last poll
            async for page in self.api.pages(f"/{item['id']}/comments", {
                    "fields": COMMENT_FIELDS, "filter": "stream",
                    "order": "reverse_chronological", "limit": 100}, max_pages=3):
                posts += self._posts(page, after=comments_after, in_reply_to=item["id"])
                stamps = [s for s in (_stamp(c) for c in page) if s is not None]
                if stamps:
                    newest_comment = max(newest_comment or 0, *stamps)
                if comments_after is None or (stamps and min(stamps) <= comments_after):
                    break
        tagged: list[Any] = []
        params: dict[str, Any] = {"fields": "id,message,created_time,from,permalink_url",
                                  "limit": 25}
        if tagged_after is not None:
            params["since"] = tagged_after
        async for page in self.api.pages(f"/{self.page_id}/tagged", params,
                                         max_pages=1 if tagged_after is None else 5):
            tagged += page
        posts += self._posts(tagged, after=tagged_after)
        new_state = {
            "feed": max([s for s in map(_stamp, feed) if s] + [feed_after or 0]) or None,
            "comments": newest_comment,
            "tagged": max([s for s in map(_stamp, tagged) if s] + [tagged_after or 0]) or None,
        }
        return Batch(posts=_unique(posts), cursor=dump_cursor(new_state))


def _unique(posts: list[Post]) -> list[Post]:
    by_id: dict[str, Post] = {}
    for post in posts:
        by_id.setdefault(post.external_id, post)
    return list(by_id.values())


class PageWebhook:
    """Turns the page object's webhook entries into posts: `feed` changes (new posts and
    comments by others) directly, `mention` changes by reading the mentioning object."""

    def __init__(self, api: GraphApi, page_id: str) -> None:
        self.api = api
        self.page_id = page_id

    async def __call__(self, entries: list[Any]) -> list[Post]:
        posts: list[Post] = []
        for entry in entries:
            for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
                try:
                    post = await self._change(change)
                except (ValueError, TypeError, ApiError, httpx.HTTPError) as exc:
                    log.warning("facebook webhook: skipped a change: %s", exc)
                    continue
                if post is not None and post.author.handle != self.page_id:
                    posts.append(post)
        return posts

    async def _change(self, change: Any) -> Post | None:
        field = change.get("field")
        value = change.get("value") or {}
        if value.get("verb") != "add":
            return None  # edits, removals, hides
        if field == "feed" and value.get("item") in ("comment", "post", "status", "photo",
                                                     "video"):
            oid = value.get("comment_id") if value.get("item") == "comment" \
                else value.get("post_id")
            if not oid or not value.get("message"):
                return None  # a like, or a photo without words
            item = {"id": oid, "message": value["message"], "from": value.get("from"),
                    "created_time": value.get("created_time"),
                    "permalink_url": value.get("permalink_url") or pick(value, "post",
                                                                        "permalink_url")}
            parent = value.get("parent_id") if value.get("item") == "comment" else None
            return graph_to_post(item, in_reply_to=parent if parent != oid else None)
        if field == "mention":
            oid = value.get("comment_id") if value.get("item") == "comment" \
                else value.get("post_id")
            if not oid:
                return None
            fields = COMMENT_FIELDS if value.get("item") == "comment" else \
                "id,message,created_time,from,permalink_url"
            item = await self.api.get_json(f"/{oid}", params={"fields": fields})
            return graph_to_post(item)
        return None


class FacebookResponder:
    """Comments as the page under the post, or replies to the comment."""

    network = NETWORK

    def __init__(self, api: GraphApi) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY)


    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        async def post() -> PostedReply:
            response = await graph_write(self.api, f"/{mention.external_id}/comments",
                                         {"message": text})
            created = response_json(response)
            cid = str(created.get("id"))
            return PostedReply(id=cid, url=object_url(cid))

        result: PostedReply = await send_reply(post)
        return result


class FacebookPublisher:
    """bot.networks.Publisher: posts on the page's feed (POST /{page-id}/feed with the page
    token). The Graph API has no idempotency key: the publication's record keeps a post from
    being sent twice."""

    network = NETWORK

    def __init__(self, api: GraphApi, page_id: str) -> None:
        self.api = api
        self.page_id = page_id

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_POST)

    async def publish(self, *, text: str, key: str) -> PostedReply:
        async def post() -> PostedReply:
            response = await graph_write(self.api, f"/{self.page_id}/feed", {"message": text})
            created = response_json(response)
            pid = str(created.get("id"))
            return PostedReply(id=pid, url=object_url(pid))

        result: PostedReply = await send_reply(post)
        return result


class FacebookModerator:
    """Hides comments on the Page's posts (`POST /{comment-id}` with `is_hidden`; a Page token
    with pages_manage_engagement). Posts themselves (visitor posts, tags) cannot be hidden."""

    network = NETWORK

    def __init__(self, api: GraphApi) -> None:
        self.api = api

    def can_hide(self, mention: Mention) -> str | None:
        if not mention.in_reply_to:
            return ("Facebook hides comments only, not posts (a visitor post or a tag); "
                    "use mute or report it on Facebook")
        return None

    async def set_hidden(self, *, mention: Mention, hidden: bool) -> None:
        await set_comment_hidden(self.api, mention.external_id, param="is_hidden",
                                 hidden=hidden, permission="pages_manage_engagement",
                                 network="Facebook")


async def follower_count(api: GraphApi, page_id: str) -> int | None:
    """Followers of a page (followers_count)."""
    try:
        body = await api.get_json(f"/{page_id}", params={"fields": "followers_count,fan_count"})
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("facebook: followers of %s unknown: %s", page_id, exc)
        return None
    return as_int(body.get("followers_count")) if isinstance(body, dict) else None


async def verify(api: GraphApi, page_id: str) -> str:
    api.attempts = 1
    body = await api.get_json(f"/{page_id}", params={"fields": "id,name"})
    return f"page {body.get('name')} ({body.get('id')})"


def components(client: httpx.AsyncClient, *, graph_url: str, page_id: str, token: str,
          interval: float, sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> tuple[FacebookSource, FacebookResponder, PageWebhook, GraphApi]:
    api = GraphApi(client, graph_url, token, sleep=sleep, now=now)
    return (FacebookSource(api, page_id, interval=interval, sleep=sleep),
            FacebookResponder(api), PageWebhook(api, page_id), api)


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[FacebookSettings]) -> Parts | None:
    token, page = secret(ctx.settings.page_token), ctx.settings.page_id
    if not token:
        return None
    graph_url = ctx.shared.graph_api_url
    if not page:  # no page to read: only the brands' followers
        graph = GraphApi(ctx.client, graph_url, token)
        return Parts(followers=lambda handle: follower_count(graph, handle or str(page)))
    source, responder, hook, api = components(
        ctx.client, graph_url=graph_url, page_id=page, token=token,
        interval=ctx.shared.poll_seconds)
    parts = Parts(sources=[source], responder=responder, publisher=FacebookPublisher(api, page),
                  moderator=FacebookModerator(api),
                  followers=lambda handle: follower_count(api, handle or page))
    what = "page feed, comments and tags polled"
    meta = ctx.meta()
    if meta is not None:
        parts.sources.append(meta.push_source("page", hook, "facebook-webhook"))
        what += f"; webhooks at {ctx.shared.webhook_host}:{ctx.shared.webhook_port}/meta"
    parts.check = (what + "; comment replies; page posts; hide comments", lambda: verify(api, page))
    return parts


PLUGIN = Plugin(spec=specs.FACEBOOK, settings=FacebookSettings, build=build)
