"""RSS and Atom feeds, Google Alerts feeds among them, read with feedparser.

Each feed is fetched with a conditional GET (If-None-Match / If-Modified-Since from the last
answer's ETag / Last-Modified), so an unchanged feed costs a 304 and nothing else. Google Alerts
wraps every link in `https://www.google.com/url?...&url=<the page>`; the real page's URL is
used. Feeds are already about the brand (an alert is a search), so every new entry goes to the
pipeline, which matches it exactly. There is nothing to reply to.

Cursor (JSON): `{feed URL: {"etag": .., "modified": .., "seen": [recent entry ids]}}`.
"""

from __future__ import annotations

import asyncio
import calendar
import hashlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser
import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.networks import Batch
from integrations.networks import specs
from integrations.networks.http_common import Api, ApiError, Sleep, html_to_text
from integrations.networks.plugin import BuildContext, Parts, Plugin
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import RssSettings

log = logging.getLogger(__name__)

NETWORK = "rss"
KEEP_SEEN = 500  # entry ids remembered per feed (feeds rarely hold more than 100)
MAX_ID = 500  # Mention.external_id's column size


def unwrap(link: str) -> str:
    """The real page behind a Google redirect link (Google Alerts), else the link."""
    parts = urlsplit(link)
    if parts.hostname in ("www.google.com", "google.com") and parts.path == "/url":
        target = parse_qs(parts.query).get("url") or parse_qs(parts.query).get("q")
        if target and target[0].startswith(("http://", "https://")):
            return target[0]
    return link


def _when(entry: Any, fallback: datetime) -> datetime:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (TypeError, ValueError, OverflowError, OSError):
                continue  # not a time tuple, or outside the calendar: try the next field
    return fallback


def entry_id(entry: Any) -> str | None:
    raw = entry.get("id") or entry.get("link")
    if not isinstance(raw, str) or not raw:
        return None
    if len(raw) > MAX_ID:
        return "sha1:" + hashlib.sha1(raw.encode("utf-8")).hexdigest()
    return raw


def entry_to_post(entry: Any, feed_title: str | None, now: datetime,
                  feed_lang: str | None = None) -> Post:
    """One feed entry as a Post. The author is the entry's author, else the site."""
    pid = entry_id(entry)
    if pid is None:
        raise ValueError("entry without id or link")
    link = entry.get("link")
    if not isinstance(link, str) or not link.startswith(("http://", "https://")):
        raise ValueError("entry without an http(s) link")
    url = unwrap(link)
    title = html_to_text(str(entry.get("title") or ""))
    content = entry.get("content")
    body_html = (content[0].get("value") if isinstance(content, list) and content
                 else entry.get("summary"))
    body = html_to_text(str(body_html or ""))
    text = "\n\n".join(p for p in (title, body) if p)
    if not text:
        raise ValueError("entry without title or text")
    site = urlsplit(url).hostname or "unknown"
    author = entry.get("author")
    handle = author.strip() if isinstance(author, str) and author.strip() else site
    lang = entry.get("language") if isinstance(entry.get("language"), str) else feed_lang
    return Post(
        network=NETWORK,
        external_id=pid,
        url=url,
        author=Author(handle=handle[:300], name=feed_title or None,
                      url=f"https://{site}/"),
        text=text,
        created_at=_when(entry, now),
        lang=lang[:2] if lang else None,
    )


def _is_feed(parsed: Any) -> bool:
    """feedparser names the format it recognised (rss20, atom10, ...); HTML gets none."""
    return bool(parsed.get("version")) or bool(parsed.get("entries"))


class FeedSource(PollingSource):
    """Polls every feed with a conditional GET; new entries become posts."""

    name = "rss"

    def __init__(self, client: httpx.AsyncClient, feeds: Sequence[str], *, interval: float,
                 sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.feeds = [f.strip() for f in feeds if f.strip()]
        self.api = Api(client, "", sleep=sleep, now=now)
        self.now = now

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        posts: list[Post] = []
        new_state: dict[str, Any] = {}
        for url in self.feeds:
            raw = state.get(url)
            old: dict[str, Any] = raw if isinstance(raw, dict) else {}
            try:
                found, new_state[url] = await self._feed(url, old)
            except (ApiError, httpx.HTTPError) as exc:
                # One broken feed must not hold up the others.
                log.warning("rss: %s failed: %s", url, exc)
                new_state[url] = old
                continue
            posts += found
        return Batch(posts=posts, cursor=dump_cursor(new_state))

    async def _feed(self, url: str, old: dict[str, Any]) -> tuple[list[Post], dict[str, Any]]:
        headers = {"Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9,"
                             " */*;q=0.5"}
        if old.get("etag"):
            headers["If-None-Match"] = str(old["etag"])
        if old.get("modified"):
            headers["If-Modified-Since"] = str(old["modified"])
        response = await self.api.request("GET", url, headers=headers)
        if response.status_code == 304:
            return [], old
        parsed = feedparser.parse(response.content, response_headers={
            k.lower(): v for k, v in response.headers.items()})
        if not _is_feed(parsed):
            raise ApiError(response.status_code,
                           f"not a feed: {parsed.get('bozo_exception') or 'no RSS or Atom'}")
        meta = parsed.get("feed", {})
        feed_title = html_to_text(str(meta.get("title") or "")) or None
        feed_lang = meta.get("language") if isinstance(meta.get("language"), str) else None
        seen = list(old.get("seen") or [])
        known = set(seen)
        now = self.now()
        posts = []
        for entry in parsed.get("entries", []):
            pid = entry_id(entry)
            if pid is None or pid in known:
                if pid is None:
                    log.warning("rss: %s: skipped an entry without id or link", url)
                continue
            try:
                posts.append(entry_to_post(entry, feed_title, now, feed_lang))
            except (ValueError, TypeError) as exc:
                log.warning("rss: %s: skipped a malformed entry: %s", url, exc)
            known.add(pid)
            seen.append(pid)
        new: dict[str, Any] = {"seen": seen[-KEEP_SEEN:]}
        if response.headers.get("etag"):
            new["etag"] = response.headers["etag"]
        if response.headers.get("last-modified"):
            new["modified"] = response.headers["last-modified"]
        return posts, new


async def follower_count(handle: str) -> int | None:
    """Feeds have no followers: always None."""
    return None


async def verify(client: httpx.AsyncClient, feeds: Sequence[str]) -> str:
    """Fetch each feed once: how many answer as feeds."""
    api = Api(client, "", attempts=1)
    good = 0
    problems = []
    for url in feeds:
        try:
            response = await api.request("GET", url)
            if not _is_feed(feedparser.parse(response.content)):
                raise ValueError("not a feed")
            good += 1
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            problems.append(f"{url}: {exc}")
    if problems:
        raise ApiError(0, "; ".join(problems))
    return f"no account needed; {good} feed(s) answer"


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[RssSettings]) -> Parts | None:
    if not ctx.settings.feeds:
        return None
    feeds, client = list(ctx.settings.feeds), ctx.client
    return Parts(sources=[FeedSource(client, feeds, interval=ctx.shared.poll_seconds)],
                 check=(f"{len(feeds)} feed(s), conditional GET; no replies",
                        lambda: verify(client, feeds)),
                 followers=follower_count)


PLUGIN = Plugin(spec=specs.RSS, settings=RssSettings, build=build)
