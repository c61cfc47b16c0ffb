"""Instagram business and creator accounts through the Graph API: comments on the account's
media and media it is tagged in (polled), @mentions in captions and comments (pushed by Meta's
webhooks, `mentions` and `comments` fields of the instagram object), and replies.

Instagram offers no search for @mentions: they arrive only as webhooks (`mentions`), then are
read through `mentioned_media` / `mentioned_comment`. Replies differ by kind, so the external
id says which it is:

- `<comment id>`: a comment on the account's media; reply: POST /{comment id}/replies
- `mention-comment:<media>:<comment>`: a comment that @mentions the account;
  reply: POST /{ig user}/mentions with media_id and comment_id
- `mention-media:<media>`: a caption that @mentions the account;
  reply: POST /{ig user}/mentions with media_id
- `tag:<media>`: media the account is tagged in; no reply (Instagram does not allow it)

Cursor (JSON): `{"comments": newest comment timestamp (unix), "tags": newest tagged media}`.
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
from bot.networks import Batch, PostedReply, ReplyRejected
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
from integrations.networks.settings import InstagramSettings

log = logging.getLogger(__name__)

NETWORK = "instagram"
# Meta's references for replies and mentions name no limit; 2,200 is Instagram's limit for
# captions and comments (docs/networks.md, "Reply limits").
MAX_REPLY = 2_200
MAX_HASHTAGS = 30
RECENT_MEDIA = 10  # comments are read on the account's ten newest media
MEDIA_FIELDS = "id,caption,username,timestamp,permalink,like_count,comments_count"
COMMENT_FIELDS = "id,text,username,timestamp,like_count"


def _stamp(item: Any) -> int | None:
    try:
        return int(parse_time(item.get("timestamp")).timestamp()) \
            if isinstance(item, dict) else None
    except ValueError:
        return None


def comment_to_post(comment: JSON, *, media: JSON, external_id: str | None = None,
                    parent: str | None = None) -> Post:
    cid = comment.get("id")
    text = comment.get("text")
    user = comment.get("username") or pick(comment, "from", "username")
    if not isinstance(cid, str) or not cid or not isinstance(text, str) or not text.strip():
        raise ValueError("comment without id or text")
    if not isinstance(user, str) or not user:
        raise ValueError("comment without username")
    caption = media.get("caption")
    if isinstance(caption, str) and caption.strip():
        # The caption gives a comment its context (and often the brand's name).
        text = f"{text}\n\n(on: {caption.strip()[:200]})"
    permalink = media.get("permalink")
    return Post(
        network=NETWORK,
        external_id=external_id or cid,
        url=permalink if isinstance(permalink, str) else f"https://www.instagram.com/{user}/",
        author=Author(handle=user, url=f"https://www.instagram.com/{user}/"),
        text=text,
        created_at=parse_time(comment.get("timestamp")),
        likes=as_int(comment.get("like_count")),
        in_reply_to=parent,
    )


def media_to_post(media: JSON, *, external_id: str) -> Post:
    user = media.get("username")
    caption = media.get("caption")
    permalink = media.get("permalink")
    if not isinstance(user, str) or not isinstance(caption, str) or not caption.strip():
        raise ValueError("media without username or caption")
    if not isinstance(permalink, str):
        raise ValueError("media without permalink")
    return Post(
        network=NETWORK,
        external_id=external_id,
        url=permalink,
        author=Author(handle=user, url=f"https://www.instagram.com/{user}/"),
        text=caption,
        created_at=parse_time(media.get("timestamp")),
        likes=as_int(media.get("like_count")),
        replies=as_int(media.get("comments_count")),
    )


class InstagramSource(PollingSource):
    """Polls comments on the account's newest media and the media it is tagged in."""

    name = "instagram"

    def __init__(self, api: GraphApi, user_id: str, *, interval: float,
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.user_id = user_id
        self.username: str | None = None

    async def load(self) -> None:
        if self.username is None:
            me = await self.api.get_json(f"/{self.user_id}", params={"fields": "id,username"})
            self.username = me.get("username") if isinstance(me, dict) else None

    def _own(self, post: Post) -> bool:
        return bool(self.username) and post.author.handle.lower() == str(self.username).lower()

    async def poll_once(self, cursor: str | None) -> Batch:
        await self.load()
        state = load_cursor(cursor)
        comments_after, tags_after = as_int(state.get("comments")), as_int(state.get("tags"))
        posts: list[Post] = []
        newest_comment = comments_after
        media_list: list[Any] = []
        async for page in self.api.pages(f"/{self.user_id}/media",
                                         {"fields": MEDIA_FIELDS, "limit": RECENT_MEDIA},
                                         max_pages=1):
            media_list += page
        for media in media_list:
            if not isinstance(media, dict) or not as_int(media.get("comments_count")):
                continue
            async for page in self.api.pages(f"/{media['id']}/comments", {
                    "fields": f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}", "limit": 50},
                    max_pages=3):
                for comment in page:
                    replies = pick(comment, "replies", "data") or []
                    for item, parent in [(comment, None)] + [(r, comment.get("id"))
                                                             for r in replies]:
                        stamp = _stamp(item)
                        if stamp is None or (comments_after is not None
                                             and stamp <= comments_after):
                            continue
                        newest_comment = max(newest_comment or 0, stamp)
                        try:
                            post = comment_to_post(item, media=media, parent=parent)
                        except (ValueError, TypeError) as exc:
                            log.warning("instagram: skipped a malformed comment: %s", exc)
                            continue
                        if not self._own(post):
                            posts.append(post)
        tagged: list[Any] = []
        async for page in self.api.pages(f"/{self.user_id}/tags",
                                         {"fields": MEDIA_FIELDS, "limit": 25}, max_pages=1):
            tagged += page
        newest_tag = tags_after
        for media in tagged:
            stamp = _stamp(media)
            if stamp is None or (tags_after is not None and stamp <= tags_after):
                continue
            newest_tag = max(newest_tag or 0, stamp)
            try:
                posts.append(media_to_post(media, external_id=f"tag:{media['id']}"))
            except (ValueError, TypeError) as exc:
                log.warning("instagram: skipped malformed tagged media: %s", exc)
        return Batch(posts=posts, cursor=dump_cursor({"comments": newest_comment,
                                                      "tags": newest_tag}))


class InstagramWebhook:
    """The instagram object's webhook entries as posts: `mentions` (read back through
    mentioned_comment / mentioned_media) and `comments` on the account's media."""

    def __init__(self, source: InstagramSource) -> None:
        self.source = source
        self.api = source.api
        self.user_id = source.user_id
        self._permalinks: dict[str, JSON] = {}

    async def __call__(self, entries: list[Any]) -> list[Post]:
        await self.source.load()
        posts: list[Post] = []
        for entry in entries:
            when = entry.get("time") if isinstance(entry, dict) else None
            for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
                try:
                    post = await self._change(change, when)
                except (ValueError, TypeError, KeyError, ApiError, httpx.HTTPError) as exc:
                    log.warning("instagram webhook: skipped a change: %s", exc)
                    continue
                if post is not None and not self.source._own(post):
                    posts.append(post)
        return posts

    async def _media(self, media_id: str) -> JSON:
        if media_id not in self._permalinks:
            self._permalinks[media_id] = await self.api.get_json(
                f"/{media_id}", params={"fields": "id,caption,permalink"})
        return self._permalinks[media_id]

    async def _change(self, change: Any, when: Any) -> Post | None:
        field = change.get("field")
        value = change.get("value") or {}
        if field == "mentions":
            media_id = str(value["media_id"])
            if value.get("comment_id"):
                cid = str(value["comment_id"])
                body = await self.api.get_json(f"/{self.user_id}", params={
                    "fields": f"mentioned_comment.comment_id({cid})"
                              f"{{{COMMENT_FIELDS},media{{id,caption,permalink}}}}"})
                comment = body["mentioned_comment"]
                return comment_to_post(comment, media=comment.get("media") or {},
                                       external_id=f"mention-comment:{media_id}:{cid}")
            body = await self.api.get_json(f"/{self.user_id}", params={
                "fields": f"mentioned_media.media_id({media_id}){{{MEDIA_FIELDS}}}"})
            return media_to_post(body["mentioned_media"], external_id=f"mention-media:{media_id}")
        if field == "comments":
            media = await self._media(str(pick(value, "media", "id")))
            comment = {"id": value.get("id"), "text": value.get("text"),
                       "username": pick(value, "from", "username"),
                       "timestamp": value.get("timestamp") or when}
            parent = value.get("parent_id")
            return comment_to_post(comment, media=media,
                                   parent=str(parent) if parent else None)
        return None


class InstagramResponder:
    """Replies as the account: under its own media's comments, or to @mentions."""

    network = NETWORK

    def __init__(self, api: GraphApi, user_id: str) -> None:
        self.api = api
        self.user_id = user_id

    def check(self, text: str) -> str | None:
        if not text.strip():
            return "the reply is empty"
        if len(text) > MAX_REPLY:
            return f"instagram allows {MAX_REPLY} characters, this reply has {len(text)}"
        if text.count("#") > MAX_HASHTAGS:
            return f"instagram allows {MAX_HASHTAGS} hashtags in a comment"
        return None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        kind, _, rest = mention.external_id.partition(":")
        if kind == "tag":
            raise ReplyRejected("Instagram does not allow comments on media you are tagged in; "
                                f"answer in the app: {mention.url}")

        async def post() -> PostedReply:
            if kind == "mention-comment":
                media_id, _, comment_id = rest.partition(":")
                response = await graph_write(self.api, f"/{self.user_id}/mentions", {
                    "media_id": media_id, "comment_id": comment_id, "message": text})
            elif kind == "mention-media":
                response = await graph_write(self.api, f"/{self.user_id}/mentions", {
                    "media_id": rest, "message": text})
            else:
                # Instagram threads are one level deep: a reply to a reply goes to its parent.
                target = mention.in_reply_to or mention.external_id
                response = await graph_write(self.api, f"/{target}/replies", {"message": text})
            created = response_json(response)
            return PostedReply(id=str(created.get("id")), url=mention.url)

        result: PostedReply = await send_reply(post)
        return result


async def follower_count(api: GraphApi, user_id: str, handle: str | None = None) -> int | None:
    """Followers of the account itself, or (business_discovery) of another business account."""
    fields = ("followers_count" if not handle
              else f"business_discovery.username({handle.lstrip('@')}){{followers_count}}")
    try:
        body = await api.get_json(f"/{user_id}", params={"fields": fields})
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("instagram: followers of %s unknown: %s", handle or user_id, exc)
        return None
    if handle:
        return as_int(pick(body, "business_discovery", "followers_count"))
    return as_int(body.get("followers_count")) if isinstance(body, dict) else None


class InstagramModerator:
    """Hides comments on the account's own media (`POST /{ig-comment-id}` with `hide`;
    instagram_manage_comments). Comments elsewhere that @mention the account, and media it is
    tagged in, are not the account's to hide."""

    network = NETWORK

    def __init__(self, api: GraphApi) -> None:
        self.api = api

    def can_hide(self, mention: Mention) -> str | None:
        kind = mention.external_id.partition(":")[0] if ":" in mention.external_id else ""
        if kind:
            return ("Instagram hides comments only on the account's own media; this one is "
                    "elsewhere: use mute or report it in the app")
        return None

    async def set_hidden(self, *, mention: Mention, hidden: bool) -> None:
        await set_comment_hidden(self.api, mention.external_id, param="hide", hidden=hidden,
                                 permission="instagram_manage_comments",
                                 network="Instagram")


async def verify(api: GraphApi, user_id: str) -> str:
    api.attempts = 1
    body = await api.get_json(f"/{user_id}", params={"fields": "id,username"})
    return f"@{body.get('username')} ({body.get('id')})"


def components(client: httpx.AsyncClient, *, graph_url: str, user_id: str, token: str,
          interval: float, sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> tuple[InstagramSource, InstagramResponder, InstagramWebhook, GraphApi]:
    api = GraphApi(client, graph_url, token, sleep=sleep, now=now)
    source = InstagramSource(api, user_id, interval=interval, sleep=sleep)
    return source, InstagramResponder(api, user_id), InstagramWebhook(source), api


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[InstagramSettings]) -> Parts | None:
    token, user = secret(ctx.settings.token), ctx.settings.user_id
    if not (user and token):
        return None
    source, responder, hook, api = components(
        ctx.client, graph_url=ctx.shared.graph_api_url, user_id=user, token=token,
        interval=ctx.shared.poll_seconds)

    async def followers(handle: str) -> int | None:
        return await follower_count(api, user, None if handle in ("", user) else handle)

    parts = Parts(sources=[source], responder=responder, moderator=InstagramModerator(api),
                  followers=followers)
    what = "comments on own media and tags polled"
    meta = ctx.meta()
    if meta is not None:
        parts.sources.append(meta.push_source("instagram", hook, "instagram-webhook"))
        what += "; @mentions by webhook"
    else:
        what += "; no @mentions without the Meta webhook"
    parts.check = (what + "; replies; hide comments", lambda: verify(api, user))
    return parts


PLUGIN = Plugin(spec=specs.INSTAGRAM, settings=InstagramSettings, build=build)
