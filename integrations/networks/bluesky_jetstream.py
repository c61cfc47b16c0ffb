"""Bluesky's Jetstream firehose: every new post of the network over a WebSocket, kept when it
contains one of the brands' search terms (Jetstream has no keyword filter). No account needed;
authors' handles and follower counts come from bluesky_common.Profiles.

Cursor (JSON): `{"time_us": n}`; a reconnect rewinds a few seconds (delivery is at least once;
the pipeline drops repeats).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import websockets
from websockets.asyncio.client import connect

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.networks import Batch, PostChange
from bot.query.fold import fold_accents, normalise
from integrations.networks.bluesky_common import (
    NETWORK,
    POST,
    Profiles,
    lang_of,
    quoted_uri,
    web_url,
)
from integrations.networks.http_common import JSON, Sleep, parse_time, pick
from integrations.networks.polling import backoff, dump_cursor, load_cursor
from integrations.networks.terms import SearchTerm, TermsProvider

log = logging.getLogger(__name__)

REWIND_US = 5_000_000  # rewind five seconds on reconnect


class TextFilter:
    """A cheap pre-filter for the firehose: does the text contain any term (case- and
    accent-insensitively)? Broader than the query; the pipeline decides."""

    def __init__(self, terms: Sequence[SearchTerm]) -> None:
        self.needles = sorted({fold_accents(normalise(t.text)) for t in terms if t.text})

    def __call__(self, text: str) -> bool:
        folded = fold_accents(normalise(text))
        return any(n in folded for n in self.needles)


@dataclass
class _Pending:
    did: str
    uri: str
    record: JSON
    operation: str = "create"  # create | update | delete (record empty)


class JetstreamSource:
    """Every new post of the network from Jetstream, kept when it contains a search term.
    Matching posts are handed on with their authors' handles and follower counts; the cursor
    (time_us) is saved with every batch and at least every `flush` seconds."""

    def __init__(self, url: str, profiles: Profiles, terms: TermsProvider, *,
                 flush: float = 5.0, refresh_terms: float = 60.0,
                 own_did: Callable[[], str | None] = lambda: None,
                 sleep: Sleep = asyncio.sleep, clock: Callable[[], float] = time.monotonic,
                 max_backoff: float = 300.0) -> None:
        self.url = url.rstrip("/")
        self.profiles = profiles
        self.terms = terms
        self.flush = flush
        self.refresh_terms = refresh_terms
        self.own_did = own_did
        self.sleep = sleep
        self.clock = clock
        self.max_backoff = max_backoff
        host = urlsplit(self.url).hostname or "jetstream"
        self.name = f"bluesky-jetstream:{host}"

    def subscribe_url(self, time_us: int | None) -> str:
        base = self.url if self.url.endswith("/subscribe") else f"{self.url}/subscribe"
        params: list[tuple[str, str]] = [("wantedCollections", POST)]
        if time_us:
            params.append(("cursor", str(max(time_us - REWIND_US, 0))))
        return f"{base}?{urlencode(params)}"

    async def stream(self, cursor: str | None) -> AsyncIterator[Batch]:
        time_us = load_cursor(cursor).get("time_us")
        time_us = time_us if isinstance(time_us, int) else None
        failures = 0
        while True:
            try:
                async with connect(self.subscribe_url(time_us), open_timeout=20,
                                   max_size=10 * 1024 * 1024) as ws:
                    failures = 0
                    matches = TextFilter(await self.terms())
                    terms_at = last_flush = self.clock()
                    pending: list[_Pending] = []
                    changes: list[PostChange] = []
                    async for raw in ws:
                        event = self._event(raw)
                        if event is None:
                            continue
                        event_us, item = event
                        time_us = max(time_us or 0, event_us)
                        if item is not None and item.operation != "create":
                            # Any post's delete or edit: the store applies those of posts it
                            # holds (a text filter cannot tell, a delete has no text).
                            changes.append(PostChange(
                                NETWORK, item.uri,
                                "deleted" if item.operation == "delete" else "edited",
                                utcnow(), item.record.get("text") if item.record else None))
                        elif item is not None and item.did != self.own_did() and matches(
                                str(item.record.get("text", ""))):
                            pending.append(item)
                        now = self.clock()
                        if now - terms_at >= self.refresh_terms:
                            matches = TextFilter(await self.terms())
                            terms_at = now
                        if pending or now - last_flush >= self.flush:
                            posts = await self._posts(pending)
                            pending = []
                            last_flush = now
                            yield Batch(posts=posts, cursor=dump_cursor({"time_us": time_us}),
                                        changes=changes)
                            changes = []
                raise ConnectionError("Jetstream closed the connection")
            except (OSError, websockets.exceptions.WebSocketException, TimeoutError) as exc:
                failures += 1
                pause = backoff(failures, base=2.0, cap=self.max_backoff)
                log.warning("%s: connection lost (%s); reconnecting in %.0f s", self.name, exc,
                            pause)
                await self.sleep(pause)

    def _event(self, raw: str | bytes) -> tuple[int, _Pending | None] | None:
        """(time_us, a created post or None) of one message; None when malformed (logged)."""
        try:
            event = json.loads(raw)
            event_us = event["time_us"]
            if not isinstance(event_us, int):
                raise ValueError("time_us is not an integer")
            commit = event.get("commit")
            operation = commit.get("operation") if isinstance(commit, dict) else None
            if (event.get("kind") != "commit" or not isinstance(commit, dict)
                    or operation not in ("create", "update", "delete")
                    or commit.get("collection") != POST):
                return event_us, None
            did = event.get("did")
            if not isinstance(did, str):
                raise ValueError(f"{operation} without did")
            uri = f"at://{did}/{POST}/{commit['rkey']}"
            if operation == "delete":
                return event_us, _Pending(did=did, uri=uri, record={}, operation="delete")
            record = commit.get("record")
            if not isinstance(record, dict):
                raise ValueError(f"{operation} without record")
            if operation == "update" and not isinstance(record.get("text"), str):
                raise ValueError("update without text")
            return event_us, _Pending(did=did, uri=uri, record=record, operation=operation)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("%s: skipped a malformed event: %s", self.name, exc)
            return None

    async def _posts(self, pending: list[_Pending]) -> list[Post]:
        if not pending:
            return []
        profiles = await self.profiles.lookup(p.did for p in pending)
        posts = []
        for item in pending:
            followers, handle, name = profiles.get(item.did, (None, None, None))
            actor = handle or item.did
            try:
                text = item.record.get("text")
                if not isinstance(text, str) or not text.strip():
                    raise ValueError("post without text")
                parent = pick(item.record, "reply", "parent", "uri")
                posts.append(Post(
                    network=NETWORK, external_id=item.uri, url=web_url(actor, item.uri),
                    author=Author(handle=actor, name=name, followers=followers,
                                  url=f"https://bsky.app/profile/{actor}"),
                    text=text, created_at=parse_time(item.record.get("createdAt")),
                    lang=lang_of(item.record),
                    in_reply_to=parent if isinstance(parent, str) else None,
                    quotes=quoted_uri(item.record),
                ))
            except (ValueError, TypeError) as exc:
                log.warning("%s: skipped a malformed post: %s", self.name, exc)
        return posts
