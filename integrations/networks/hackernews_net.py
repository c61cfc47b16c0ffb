"""Hacker News through the Algolia HN Search API (`search_by_date`): stories and comments.

Read-only: Hacker News has no write API, so there is no responder; a mention's URL is the
item page, where staff answer by hand. No key is needed; Algolia limits an IP to 10,000
requests an hour, and one query pages through at most 1,000 hits, so polls slice by time
(`numericFilters=created_at_i>cursor`).

Cursor (JSON): `{"search": {query: newest created_at_i}}`.
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
from bot.networks import Batch
from integrations.networks import specs
from integrations.networks.http_common import JSON, Api, Sleep, as_int, html_to_text, parse_time
from integrations.networks.plugin import BuildContext, Parts, Plugin
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import HackerNewsSettings
from integrations.networks.terms import TermsProvider

log = logging.getLogger(__name__)

NETWORK = "hackernews"
ITEM = "https://news.ycombinator.com/item?id="
PAGE = 100
MAX_PAGES = 5


def hit_to_post(hit: JSON) -> Post:
    """An Algolia hit (a story or a comment) as a Post; its URL is the item's page."""
    object_id = hit.get("objectID")
    if not isinstance(object_id, str) or not object_id:
        raise ValueError("hit without objectID")
    author = hit.get("author")
    if not isinstance(author, str) or not author:
        raise ValueError("hit without author")
    tags = hit.get("_tags")
    if not isinstance(tags, list):  # garbage in the tag list is no tag
        tags = []
    if "comment" in tags or hit.get("comment_text"):
        text = html_to_text(str(hit.get("comment_text") or ""))
        story = hit.get("story_title")
        if isinstance(story, str) and story:
            text = f"{text}\n\n(on: {story})"
        parent = hit.get("parent_id")
    else:
        title = str(hit.get("title") or "")
        body = html_to_text(str(hit.get("story_text") or ""))
        link = hit.get("url")
        text = "\n\n".join(p for p in (title, body, link if isinstance(link, str) else "") if p)
        parent = None
    if not text.strip():
        raise ValueError("hit without text")
    created = hit.get("created_at") or hit.get("created_at_i")
    return Post(
        network=NETWORK,
        external_id=object_id,
        url=ITEM + object_id,
        author=Author(handle=author, url=f"https://news.ycombinator.com/user?id={author}"),
        text=text,
        created_at=parse_time(created),
        likes=as_int(hit.get("points")),
        replies=as_int(hit.get("num_comments")),
        in_reply_to=str(parent) if isinstance(parent, int | str) and parent else None,
    )


class HackerNewsSource(PollingSource):
    """Polls search_by_date for each search term, stories and comments."""

    name = "hackernews"

    def __init__(self, api: Api, terms: TermsProvider, *, interval: float,
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.terms = terms

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor).get("search") or {}
        queries = sorted({t.text for t in await self.terms()})
        posts: list[Post] = []
        seen: set[str] = set()
        newest: dict[str, int] = {}
        for query in queries:
            since = state.get(query)
            since = since if isinstance(since, int) else None
            found, latest = await self._search(query, since)
            for post in found:
                if post.external_id not in seen:
                    seen.add(post.external_id)
                    posts.append(post)
            if latest is not None:
                newest[query] = latest
        return Batch(posts=posts, cursor=dump_cursor({"search": newest}))

    async def _search(self, query: str, since: int | None) -> tuple[list[Post], int | None]:
        posts: list[Post] = []
        latest = since
        for page in range(MAX_PAGES):
            params: dict[str, Any] = {"query": query, "tags": "(story,comment)",
                                      "hitsPerPage": PAGE, "page": page}
            if since is not None:
                # Same-second hits after the cursor are not lost: >= and the pipeline's
                # dedupe drop the ones already seen.
                params["numericFilters"] = f"created_at_i>={since}"
            body = await self.api.get_json("/search_by_date", params=params)
            hits = body.get("hits") if isinstance(body, dict) else None
            if not isinstance(hits, list):
                raise ValueError("search_by_date answer without hits")
            for hit in hits:
                try:
                    if not isinstance(hit, dict):
                        raise ValueError("not an object")
                    post = hit_to_post(hit)
                except (ValueError, TypeError) as exc:
                    log.warning("hackernews: skipped a malformed hit: %s", exc)
                    continue
                stamp = as_int(hit.get("created_at_i"))
                if stamp is None:
                    stamp = int(post.created_at.timestamp())
                latest = stamp if latest is None else max(latest, stamp)
                posts.append(post)
            pages = as_int(body.get("nbPages")) or 0
            if since is None or page + 1 >= pages or not hits:
                break
        return posts, latest


def components(client: httpx.AsyncClient, *, api_url: str, terms: TermsProvider, interval: float,
          sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> HackerNewsSource:
    return HackerNewsSource(Api(client, api_url, sleep=sleep, now=now), terms,
                            interval=interval, sleep=sleep)


async def follower_count(handle: str) -> int | None:
    """Hacker News has no followers (only karma): always None."""
    return None


async def verify(client: httpx.AsyncClient, api_url: str) -> str:
    """One cheap search call (no credentials exist): is the API reachable?"""
    api = Api(client, api_url, attempts=1)
    body = await api.get_json("/search_by_date", params={"query": "", "hitsPerPage": 1})
    return f"no account needed; API answers ({as_int(body.get('nbHits'))} items indexed)"


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[HackerNewsSettings]) -> Parts | None:
    s = ctx.settings
    if not s.enabled:
        return None
    client, url = ctx.client, s.api_url
    source = components(client, api_url=url, terms=ctx.terms(NETWORK),
                        interval=ctx.shared.poll_seconds)
    return Parts(sources=[source],
                 check=("Algolia search of stories and comments; no replies (cards link to "
                        "the item)", lambda: verify(client, url)),
                 followers=follower_count)


PLUGIN = Plugin(spec=specs.HACKERNEWS, settings=HackerNewsSettings, build=build)
