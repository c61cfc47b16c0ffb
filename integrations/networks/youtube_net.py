"""YouTube Data API v3: the comment threads of the brand's channel and of chosen videos, and
replies through `comments.insert` with the thread's top-level comment as `parentId`.

Reading takes an API key (commentThreads.list costs 1 quota unit of the default 10,000 a
day); replying takes OAuth with the `youtube.force-ssl` scope as the channel's owner, from a
refresh token (Google's refresh tokens do not rotate, so one setting keeps working) or a
short-lived access token. YouTube has no global comment search: only the configured channel
and videos are watched. A comment on the brand's video rarely names the brand, so each post
carries the video's title (`(on: ...)`), which the brand's query can then match.

Cursor (JSON): `{"threads": {"channel:<id>" | "video:<id>": newest updatedAt}}`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
    Sleep,
    as_int,
    html_to_text,
    parse_time,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.oauth import CachedToken, TokenEndpoint, lifetime
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import YouTubeSettings

log = logging.getLogger(__name__)

NETWORK = "youtube"
PAGE = 100
MAX_PAGES = 5
# comments.insert refuses a longer snippet.textOriginal with 400 commentTextTooLong
# (developers.google.com/youtube/v3/docs/comments/insert, "Errors"); the reference names no
# number: 10,000 characters is YouTube's comment limit as commonly reported.
MAX_REPLY = 10_000


def watch_url(video_id: str, comment_id: str | None = None) -> str:
    url = f"https://www.youtube.com/watch?v={video_id}"
    return f"{url}&lc={comment_id}" if comment_id else url


def comment_text(snippet: JSON) -> str:
    """The comment's words as plain text.

    Google's comments resource (https://developers.google.com/youtube/v3/docs/comments):
    `snippet.textOriginal` is "the original, raw text of the comment as it was initially posted
    or last updated", returned "only if it is accessible to the viewer, which is only guaranteed
    if the viewer is the comment's author" - so with an API key it is usually absent.
    `snippet.textDisplay` is always there: "the comment's text", plain text or HTML as
    `textFormat` asks (we ask for html, the default), and it "may differ from the original
    comment text" (video links become titles, for one). Its HTML (entities such as &amp; and
    &#39;, <br> for line breaks, <a href> around links, <b>) becomes plain text here: entities
    decoded once, <br> a line break, tags dropped, a link's text kept."""
    original = snippet.get("textOriginal")
    if isinstance(original, str) and original.strip():
        return original
    display = snippet.get("textDisplay")
    return html_to_text(display) if isinstance(display, str) else ""


def comment_to_post(comment: JSON, *, video_title: str | None,
                    total_replies: int | None = None) -> Post:
    """A youtube#comment (top-level or reply) as a Post."""
    cid = comment.get("id")
    snippet = comment.get("snippet")
    if not isinstance(cid, str) or not cid or not isinstance(snippet, dict):
        raise ValueError("comment without id or snippet")
    video = snippet.get("videoId")
    if not isinstance(video, str):
        raise ValueError("comment without videoId")
    text = comment_text(snippet)
    if not text:
        raise ValueError("comment without text")
    if video_title:
        text = f"{text}\n\n(on: {video_title})"
    name = snippet.get("authorDisplayName")
    if not isinstance(name, str) or not name:
        raise ValueError("comment without author")
    parent = snippet.get("parentId")
    return Post(
        network=NETWORK,
        external_id=cid,
        url=watch_url(video, cid),
        author=Author(handle=name.lstrip("@"), name=None,
                      url=snippet.get("authorChannelUrl")),
        text=text,
        created_at=parse_time(snippet.get("publishedAt")),
        likes=as_int(snippet.get("likeCount")),
        replies=total_replies,
        in_reply_to=parent if isinstance(parent, str) else None,
        extra={"author_channel": str(pick(snippet, "authorChannelId", "value") or "")},
    )


class YouTubeSource(PollingSource):
    """commentThreads.list (order=time) for the channel and each video."""

    name = "youtube"

    def __init__(self, api: Api, *, channel_id: str | None, video_ids: Sequence[str],
                 interval: float, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.channel_id = channel_id
        self.video_ids = [v.strip() for v in video_ids if v.strip()]
        self._titles: dict[str, str] = {}

    def feeds(self) -> list[tuple[str, dict[str, str]]]:
        found = []
        if self.channel_id:
            found.append((f"channel:{self.channel_id}",
                          {"allThreadsRelatedToChannelId": self.channel_id}))
        found += [(f"video:{v}", {"videoId": v}) for v in self.video_ids]
        return found

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor).get("threads") or {}
        comments: list[tuple[JSON, int | None]] = []
        newest: dict[str, str] = {}
        for key, params in self.feeds():
            found, latest = await self._threads(params, state.get(key))
            comments += found
            if latest:
                newest[key] = latest
        titles = await self._video_titles(pick(c, "snippet", "videoId") for c, _ in comments)
        posts = []
        seen: set[str] = set()
        for comment, replies in comments:
            if comment.get("id") in seen:
                continue
            seen.add(str(comment.get("id")))
            try:
                post = comment_to_post(comment, total_replies=replies,
                                       video_title=titles.get(
                                           str(pick(comment, "snippet", "videoId"))))
            except (ValueError, TypeError) as exc:
                log.warning("youtube: skipped a malformed comment: %s", exc)
                continue
            if self.channel_id and post.extra.get("author_channel") == self.channel_id:
                continue  # the brand's own answers
            posts.append(post)
        return Batch(posts=posts, cursor=dump_cursor({"threads": newest}))

    async def _threads(self, params: dict[str, str], since: str | None,
                       ) -> tuple[list[tuple[JSON, int | None]], str | None]:
        found: list[tuple[JSON, int | None]] = []
        latest = since
        token: str | None = None
        for _ in range(MAX_PAGES):
            # comment_text() reads textDisplay as HTML, so ask for HTML: as "plainText", what
            # an author typed ("a <b> c", "&amp;") would be taken for markup and mangled.
            query = {**params, "part": "snippet,replies", "order": "time",
                     "maxResults": str(PAGE), "textFormat": "html"}
            if token:
                query["pageToken"] = token
            body = await self.api.get_json("/commentThreads", params=query)
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError("commentThreads answer without items")
            reached = False
            for thread in items:
                top = pick(thread, "snippet", "topLevelComment")
                if not isinstance(top, dict):
                    log.warning("youtube: skipped a thread without its comment")
                    continue
                # A thread counts as new when its comment or one of its replies is.
                stamps = [str(pick(top, "snippet", "updatedAt") or "")]
                replies = pick(thread, "replies", "comments") or []
                stamps += [str(pick(r, "snippet", "updatedAt") or "") for r in replies]
                stamp = max(stamps)
                if since is not None and stamp <= since:
                    reached = True
                    continue
                latest = stamp if latest is None or stamp > latest else latest
                found.append((top, as_int(pick(thread, "snippet", "totalReplyCount"))))
                found += [(r, None) for r in replies if isinstance(r, dict)
                          and (since is None or str(pick(r, "snippet", "updatedAt")) > since)]
            token = body.get("nextPageToken")
            if since is None or reached or not token:
                break
        return found, latest

    async def _video_titles(self, ids: Iterable[Any]) -> Mapping[str, str]:
        """Titles of the videos (videos.list, 50 per call, 1 unit), cached."""
        missing = sorted({str(v) for v in ids if isinstance(v, str)} - set(self._titles))
        for start in range(0, len(missing), 50):
            chunk = missing[start:start + 50]
            try:
                body = await self.api.get_json("/videos", params={
                    "part": "snippet", "id": ",".join(chunk), "maxResults": "50"})
            except (ApiError, httpx.HTTPError) as exc:
                log.warning("youtube: video titles unavailable: %s", exc)
                break
            for item in body.get("items") or [] if isinstance(body, dict) else []:
                title = pick(item, "snippet", "title")
                if isinstance(item.get("id"), str) and isinstance(title, str):
                    self._titles[item["id"]] = title
        return self._titles


class OAuth:
    """The channel owner's access token: refreshed from a refresh token when one is set."""

    def __init__(self, client: httpx.AsyncClient, *, token_url: str,
                 access_token: str | None = None, refresh_token: str | None = None,
                 client_id: str | None = None, client_secret: str | None = None,
                 sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api = Api(client, token_url, sleep=sleep)
        self.refresh_token = refresh_token
        self.client_id = client_id
        # Google takes the client's id and secret in the form.
        self.endpoint = TokenEndpoint(self.api, client_id=client_id or "",
                                      client_secret=client_secret or "",
                                      method="client_secret_post")
        self._cache = CachedToken(self._refresh if refresh_token else None,
                                  access=access_token, clock=clock)

    @property
    def access(self) -> str | None:
        return self._cache.access

    async def headers(self) -> Mapping[str, str]:
        access = await self._cache.get()
        if not access:
            raise ApiError(401, "no YouTube OAuth token configured")
        return {"Authorization": f"Bearer {access}"}

    async def _refresh(self) -> tuple[str, float]:
        response = await self.endpoint.request("refresh_token",
                                               refresh_token=self.refresh_token or "")
        body = response.json()
        return str(body["access_token"]), lifetime(body, 3600.0)


class YouTubeResponder:
    """Replies under the thread's top-level comment (comments.insert with parentId)."""

    network = NETWORK

    def __init__(self, api: Api) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_REPLY)

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        # Replies to a reply go under the same top-level comment (YouTube threads are flat).
        parent = mention.in_reply_to or mention.external_id.split(".", 1)[0]
        videos = parse_qs(urlsplit(mention.url).query).get("v") or []
        video = videos[0] if videos else None

        async def post() -> PostedReply:
            try:
                response = await self.api.write(
                    "POST", "/comments", params={"part": "snippet"},
                    json_body={"snippet": {"parentId": parent, "textOriginal": text}})
            except ApiError as exc:
                if exc.status == 403 and "quota" in exc.message.lower():
                    raise ReplyRejected("YouTube's daily quota is used up; try after "
                                        "midnight Pacific time") from exc
                raise
            created = response_json(response)
            cid = str(created.get("id"))
            vid = pick(created, "snippet", "videoId") or video
            return PostedReply(id=cid, url=watch_url(vid, cid) if vid else None)

        result: PostedReply = await send_reply(post)
        return result


async def follower_count(api: Api, handle: str) -> int | None:
    """Subscribers of a channel, by @handle or UC... id (channels.list, 1 unit)."""
    params = {"part": "statistics"}
    if handle.startswith("UC"):
        params["id"] = handle
    else:
        params["forHandle"] = handle if handle.startswith("@") else f"@{handle}"
    try:
        body = await api.get_json("/channels", params=params)
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("youtube: subscribers of %s unknown: %s", handle, exc)
        return None
    items = body.get("items") if isinstance(body, dict) else None
    if not items:
        return None
    return as_int(pick(items[0], "statistics", "subscriberCount"))


async def verify(read: Api, write: Api | None, channel_id: str | None) -> str:
    read.attempts = 1
    params = {"part": "snippet"}
    if channel_id:
        params["id"] = channel_id
    else:
        params["forHandle"] = "@YouTube"
    body = await read.get_json("/channels", params=params)
    title = pick((body.get("items") or [{}])[0], "snippet", "title")
    if channel_id and not title:
        raise ApiError(404, f"channel {channel_id} not found")
    result = f"API key works (channel: {title})"
    if write is not None:
        write.attempts = 1
        mine = await write.get_json("/channels", params={"part": "snippet", "mine": "true"})
        owner = pick((mine.get("items") or [{}])[0], "snippet", "title")
        result += f"; replies as {owner}"
    return result


def components(client: httpx.AsyncClient, *, api_url: str, api_key: str, channel_id: str | None,
          video_ids: Sequence[str], oauth: OAuth | None, interval: float,
          sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> tuple[YouTubeSource, YouTubeResponder | None, Api, Api | None]:
    """The key authenticates reads (in the X-Goog-Api-Key header, so that it never shows in
    a logged URL); OAuth authenticates replies."""
    read = Api(client, api_url, headers={"X-Goog-Api-Key": api_key}, sleep=sleep, now=now)
    write = (Api(client, api_url, auth=oauth.headers, sleep=sleep, now=now)
             if oauth is not None else None)
    source = YouTubeSource(read, channel_id=channel_id, video_ids=video_ids,
                           interval=interval, sleep=sleep)
    return source, (YouTubeResponder(write) if write is not None else None), read, write


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[YouTubeSettings]) -> Parts | None:
    s, client = ctx.settings, ctx.client
    key = secret(s.api_key)
    if not key:
        return None
    if not (s.channel_id or s.video_ids):  # nothing to read: only the brands' subscribers
        read = Api(client, s.api_url, headers={"X-Goog-Api-Key": key})
        return Parts(followers=lambda handle: follower_count(read, handle))
    refresh = secret(s.refresh_token) or None
    access = secret(s.oauth_token) or None
    oauth = (OAuth(client, token_url=s.token_url, access_token=access, refresh_token=refresh,
                   client_id=s.client_id, client_secret=secret(s.client_secret) or None)
             if refresh or access else None)
    source, responder, read, write = components(
        client, api_url=s.api_url, api_key=key, channel_id=s.channel_id,
        video_ids=s.video_ids, oauth=oauth, interval=ctx.shared.poll_seconds)
    what = f"comment threads of {len(source.feeds())} channel/video feed(s)"
    if responder is not None:
        what += "; replies"
    channel = s.channel_id
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(read, write, channel)),
                 followers=lambda handle: follower_count(read, handle))


PLUGIN = Plugin(spec=specs.YOUTUBE, settings=YouTubeSettings, build=build)
