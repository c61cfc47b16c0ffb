"""Mastodon's streaming WebSocket: hashtags and @mentions of the brand account live, caught up
through the REST timelines (mastodon_net.MastodonSource, as a `CatchUp`) after every
(re)connect.

Cursor (JSON): as MastodonSource's, `{"tags": {tag: newest id}, "mentions": id}`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import websockets
from websockets.asyncio.client import ClientConnection, connect

from bot.clock import utcnow
from bot.domain import Post
from bot.networks import Batch, PostChange
from integrations.networks.http_common import Sleep
from integrations.networks.mastodon_statuses import (
    NETWORK,
    Instance,
    status_to_post,
    to_posts,
    unique,
)
from integrations.networks.polling import backoff, dump_cursor, load_cursor, newer_id

log = logging.getLogger(__name__)


class CatchUp(Protocol):
    """What the stream needs of the polled source: its instance, the hashtags to follow, and
    the posts since a cursor's state through the REST timelines."""

    instance: Instance

    async def tags(self) -> list[str]: ...

    async def catch_up(
        self, state: dict[str, Any]
    ) -> tuple[list[Post], dict[str, str], str | None]: ...


class MastodonStream:
    """Hashtags and @mentions live over the instance's streaming WebSocket (one connection,
    one subscription per hashtag plus `user:notification`). After each (re)connect it
    catches up through the REST timelines from its cursor, so gaps are filled; subscriptions
    follow the brands' queries as they change."""

    def __init__(self, source: CatchUp, token: str, *, refresh: float = 60.0,
                 sleep: Sleep = asyncio.sleep, max_backoff: float = 300.0) -> None:
        self.source = source
        self.token = token
        self.refresh = refresh
        self.sleep = sleep
        self.max_backoff = max_backoff
        self.name = f"mastodon-stream:{source.instance.host}"

    def _url(self) -> str:
        base = self.source.instance.streaming_url or self.source.instance.api.base_url
        parts = urlsplit(base)
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        return f"{scheme}://{parts.netloc}/api/v1/streaming"

    async def stream(self, cursor: str | None) -> AsyncIterator[Batch]:
        state = load_cursor(cursor)
        failures = 0
        while True:
            try:
                await self.source.instance.load()
                async with connect(self._url(), additional_headers={
                    "Authorization": f"Bearer {self.token}"}, open_timeout=20) as ws:
                    subscribed = await self._subscribe(ws, set())
                    await ws.send(json.dumps({"type": "subscribe",
                                              "stream": "user:notification"}))
                    # Subscribed first, then caught up: nothing falls in between.
                    posts, tags, mentions = await self.source.catch_up(state)
                    state = {"tags": {**state.get("tags", {}), **tags},
                             "mentions": mentions or state.get("mentions")}
                    failures = 0
                    yield Batch(posts=unique(posts), cursor=dump_cursor(state))
                    async for batch in self._events(ws, state, subscribed):
                        yield batch
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError,
                    ValueError, httpx.HTTPError) as exc:
                failures += 1
                pause = backoff(failures, base=2.0, cap=self.max_backoff)
                log.warning("%s: connection lost (%s); reconnecting in %.0f s", self.name,
                            exc, pause)
                await self.sleep(pause)
            except Exception as exc:
                failures += 1
                pause = backoff(failures, base=2.0, cap=self.max_backoff)
                log.warning("%s: %s; reconnecting in %.0f s", self.name, exc, pause)
                await self.sleep(pause)

    async def _subscribe(self, ws: ClientConnection, current: set[str]) -> set[str]:
        wanted = set(await self.source.tags())
        for tag in sorted(wanted - current):
            await ws.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": tag}))
        for tag in sorted(current - wanted):
            await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": tag}))
        return wanted

    async def _events(self, ws: ClientConnection, state: dict[str, Any],
                      subscribed: set[str]) -> AsyncIterator[Batch]:
        while True:
            try:
                raw = await asyncio.wait_for(ws.recv(), self.refresh)
            except TimeoutError:
                subscribed = await self._subscribe(ws, subscribed)
                continue
            change = self._change(raw)
            if change is not None:  # the cursor stays: deletes and edits carry no timeline id
                yield Batch(posts=[], cursor=dump_cursor(state), changes=[change])
                continue
            event = self._parse(raw)
            if event is None:
                continue
            post, tag, event_id = event
            if tag is not None:
                tags = dict(state.get("tags") or {})
                tags[tag] = newer_id(tags.get(tag), event_id) or event_id
                state["tags"] = tags
            else:
                state["mentions"] = newer_id(state.get("mentions"), event_id)
            yield Batch(posts=[post], cursor=dump_cursor(state))

    def _change(self, raw: str | bytes) -> PostChange | None:
        """A `delete` (payload: the status id) or `status.update` (payload: the edited
        status) event as a PostChange; None for any other message."""
        try:
            message = json.loads(raw)
            event = message.get("event")
            if event == "delete":
                return PostChange(NETWORK, str(message["payload"]).strip(), "deleted",
                                  utcnow())
            if event == "status.update":
                post = status_to_post(json.loads(message["payload"]), self.source.instance)
                return PostChange(NETWORK, post.external_id, "edited", utcnow(), post.text)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("%s: skipped a malformed event: %s", self.name, exc)
        return None

    def _parse(self, raw: str | bytes) -> tuple[Post, str | None, str] | None:
        """(post, hashtag or None for a mention, id for the cursor) of one stream message;
        None for other events and malformed ones (logged)."""
        try:
            message = json.loads(raw)
            event = message.get("event")
            stream = message.get("stream") or []
            if event not in ("update", "notification"):
                return None
            payload = json.loads(message["payload"])
            tag: str | None = None
            if event == "notification":
                if payload.get("type") != "mention" or not isinstance(payload.get("status"),
                                                                      dict):
                    return None
                event_id = str(payload["id"])  # the notification's id: the mentions cursor
                payload = payload["status"]
            else:
                if not (isinstance(stream, list) and len(stream) > 1
                        and stream[0].startswith("hashtag")):
                    return None
                tag = str(stream[1]).lower()
                event_id = str(payload["id"])
            posts = to_posts([payload], self.source.instance)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("%s: skipped a malformed event: %s", self.name, exc)
            return None
        return (posts[0], tag, event_id) if posts else None
