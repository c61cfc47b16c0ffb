"""Mastodon (any instance): search, hashtag timelines and @mentions of the brand account, live
over the instance's streaming WebSocket, and replies as statuses with `in_reply_to_id`.

Everything goes through ONE account on ONE instance (`mastodon_base_url` + a user token with
`read` and `write:statuses`): full-text search needs a signed-in user, and since 4.2 so does
streaming. Search only finds posts whose authors opted in to being indexed, and the instance
only knows what federates to it; hashtag timelines and direct @mentions are the reliable part.
The streaming source is mastodon_stream.py.

Cursor (JSON): `{"search": {term: newest id}, "tags": {tag: newest id}, "mentions": id}` — ids
are the instance's own status ids, and `min_id` paging picks up exactly after them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.clock import utcnow
from bot.domain import Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, PostGone, ReplyRejected
from integrations.networks import specs
from integrations.networks.http_common import (
    Api,
    ApiError,
    RateHeaders,
    Sleep,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.mastodon_length import mastodon_length
from integrations.networks.mastodon_statuses import (
    NETWORK,
    Instance,
    count,
    to_posts,
    unique,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor, newer_id
from integrations.networks.settings import MastodonSettings
from integrations.networks.terms import SearchTerm, TermsProvider

log = logging.getLogger(__name__)

PAGE = 40  # the documented maximum for search and timelines
MAX_PAGES = 5  # per term and poll: 200 new posts; the rest waits for the next round
# Mastodon's rate-limit reset header is an ISO timestamp.
RATE = RateHeaders(reset_kind="iso")


def _api(client: httpx.AsyncClient, base_url: str, token: str, *, sleep: Sleep,
         now: Callable[[], datetime]) -> Api:
    return Api(client, base_url, headers={"Authorization": f"Bearer {token}"}, rate=RATE,
               sleep=sleep, now=now)


def hashtag(term: SearchTerm) -> str:
    """A hashtag's name as timelines and streams want it (letters and digits only)."""
    return re.sub(r"\W", "", term.text)


class MastodonSource(PollingSource):
    """Polls search (words, phrases, handles), hashtag timelines and the account's mention
    notifications. With `streaming` the hashtags and mentions come from `MastodonStream`
    instead, and this source only searches."""

    def __init__(self, instance: Instance, terms: TermsProvider, *, interval: float,
                 hashtags: Sequence[str] = (), streaming: bool = False,
                 sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.instance = instance
        self.terms = terms
        self.hashtags = [h.lstrip("#") for h in hashtags if h.strip("# ")]
        self.streaming = streaming
        self.name = f"mastodon:{instance.host}"

    async def tags(self) -> list[str]:
        found = {hashtag(t).lower() for t in await self.terms() if t.kind == "hashtag"}
        found |= {h.lower() for h in self.hashtags}
        return sorted(t for t in found if t)

    async def poll_once(self, cursor: str | None) -> Batch:
        await self.instance.load()
        state = load_cursor(cursor)
        terms = [t for t in await self.terms() if t.kind != "hashtag"]
        posts: list[Post] = []
        searched: dict[str, str] = {}
        old_search = state.get("search") or {}
        # A handle is searched as its name (the account's own mentions come as
        # notifications); word and handle then share one query and one cursor entry.
        queries = sorted({f'"{t.text}"' if t.kind == "phrase" else t.text for t in terms})
        for query in queries:
            found, newest = await self._pages(
                "/api/v2/search", {"q": query, "type": "statuses", "resolve": "false"},
                since=old_search.get(query), key="statuses",
            )
            posts += found
            if newest:
                searched[query] = newest
        new_state: dict[str, Any] = {"search": searched}
        if not self.streaming:
            part, tags_state, mentions = await self.catch_up(state)
            posts += part
            new_state["tags"] = tags_state
            if mentions:
                new_state["mentions"] = mentions
        return Batch(posts=unique(posts), cursor=dump_cursor(new_state))

    async def catch_up(
        self, state: dict[str, Any]
    ) -> tuple[list[Post], dict[str, str], str | None]:
        """New posts in the hashtag timelines and mentions since `state` (also what the
        stream fetches after each (re)connect, so a dropped connection loses nothing)."""
        posts: list[Post] = []
        tags_state: dict[str, str] = {}
        old_tags = state.get("tags") or {}
        for tag in await self.tags():
            found, newest = await self._pages(f"/api/v1/timelines/tag/{tag}", {},
                                              since=old_tags.get(tag))
            posts += found
            if newest:
                tags_state[tag] = newest
        found, mentions = await self._pages(
            "/api/v1/notifications", {"types[]": "mention"}, since=state.get("mentions"),
            unwrap="status",
        )
        posts += found
        return posts, tags_state, mentions

    async def _pages(self, path: str, params: dict[str, str], *, since: str | None,
                     key: str | None = None, unwrap: str | None = None,
                     ) -> tuple[list[Post], str | None]:
        """Everything newer than `since` (first time: the newest page only), oldest pages
        first, following `min_id`; returns the posts and the newest id seen."""
        posts: list[Post] = []
        newest = since
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE)}
            if newest:
                query["min_id"] = newest
            body = await self.instance.api.get_json(path, params=query)
            items = body.get(key, []) if key and isinstance(body, dict) else body
            if not isinstance(items, list):
                raise ValueError(f"{path}: unexpected answer")
            ids = [str(i["id"]) for i in items if isinstance(i, dict) and "id" in i]
            if unwrap:
                items = [i.get(unwrap) for i in items if isinstance(i, dict)]
            posts += to_posts((i for i in items if i), self.instance)
            for item_id in ids:
                newest = newer_id(newest, item_id)
            if since is None or len(ids) < PAGE:
                break
        return posts, newest


def idempotency_key(mention: Mention, text: str) -> str:
    digest = hashlib.sha256(f"{mention.id}\n{text}".encode()).hexdigest()[:32]
    return f"echtzeit-{mention.id}-{digest}"


class MastodonResponder:
    """Replies as a status of the brand account with `in_reply_to_id`, mentioning the author
    so that they are notified. An Idempotency-Key makes a repeated request post once."""

    network = NETWORK

    def __init__(self, instance: Instance, *, visibility: str = "public") -> None:
        self.instance = instance
        self.visibility = visibility

    def check(self, text: str) -> str | None:
        """The instance's limit, counted as Mastodon counts (mastodon_length.py). The author's
        @handle that reply() may put in front is checked there, once the handle is known."""
        if not text.strip():
            return "the reply is empty"
        size = mastodon_length(text, self.instance.url_weight)
        limit = self.instance.max_characters
        if size > limit:
            return f"mastodon allows {limit} characters here, this reply has {size}"
        return None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        async def post() -> PostedReply:
            await self.instance.load()
            try:
                original = await self.instance.api.get_json(
                    f"/api/v1/statuses/{mention.external_id}")
            except ApiError as exc:
                if exc.status == 404:  # deleted (or never visible to the account)
                    raise PostGone("the instance has no such status any more") from None
                raise
            acct = pick(original, "account", "acct")
            body = text
            if isinstance(acct, str) and f"@{acct}".lower() not in text.lower():
                body = f"@{acct} {text}"
            size = mastodon_length(body, self.instance.url_weight)
            if size > self.instance.max_characters:
                raise ReplyRejected(f"with the author's @handle the reply has {size} characters; "
                                    f"this instance allows {self.instance.max_characters}")
            # Stable per mention and text: if an unclear attempt did post, sending the same
            # answer again within the hour returns that status instead of a twin.
            return await self._create(mention, body, idempotency_key(mention, text))

        result: PostedReply = await send_reply(post)
        return result

    async def send(self, *, mention: Mention, status: str) -> PostedReply:
        """Post `status` in reply to `mention` as it is: no @handle added and no length check
        of ours, so the instance's own validation is the only one (what reply() does after its
        checks; the tests use it to show that the instance's refusal comes back as
        ReplyRejected)."""
        result: PostedReply = await send_reply(
            lambda: self._create(mention, status, idempotency_key(mention, status)))
        return result

    async def publish(self, *, text: str, key: str) -> PostedReply:
        """bot.networks.Publisher: a new public status of the brand account (POST
        /api/v1/statuses without in_reply_to_id); the Idempotency-Key makes a repeated request
        post once."""

        async def post() -> PostedReply:
            await self.instance.load()
            response = await self.instance.api.write(
                "POST", "/api/v1/statuses",
                json_body={"status": text, "visibility": self.visibility},
                headers={"Idempotency-Key": key})
            created = response_json(response)
            return PostedReply(id=str(created.get("id")), url=created.get("url"))

        result: PostedReply = await send_reply(post)
        return result

    async def _create(self, mention: Mention, status: str, key: str) -> PostedReply:
        response = await self.instance.api.write(
            "POST", "/api/v1/statuses",
            json_body={"status": status, "in_reply_to_id": mention.external_id,
                       "visibility": self.visibility},
            headers={"Idempotency-Key": key},
        )
        created = response_json(response)
        return PostedReply(id=str(created.get("id")), url=created.get("url"))


async def follower_count(client: httpx.AsyncClient, base_url: str, token: str, handle: str,
                         *, sleep: Sleep = asyncio.sleep) -> int | None:
    """Followers of `handle` (e.g. acme@mastodon.social), for the digest's growth figures."""
    api = _api(client, base_url, token, sleep=sleep, now=utcnow)
    try:
        account = await api.get_json("/api/v1/accounts/lookup",
                                     params={"acct": handle.lstrip("@")})
    except Exception as exc:
        log.warning("mastodon: followers of %s unknown: %s", handle, exc)
        return None
    return count(account.get("followers_count")) if isinstance(account, dict) else None


async def verify(client: httpx.AsyncClient, base_url: str, token: str) -> str:
    """The signed-in account (a cheap authenticated call for `echtzeit networks`)."""
    api = _api(client, base_url, token, sleep=asyncio.sleep, now=utcnow)
    api.attempts = 1
    me = await api.get_json("/api/v1/accounts/verify_credentials")
    host = urlsplit(base_url).hostname
    return f"@{me.get('acct')}@{host}"


def components(client: httpx.AsyncClient, *, base_url: str, token: str, terms: TermsProvider,
          interval: float, hashtags: Sequence[str] = (), streaming: bool = True,
          sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> tuple[list[Any], MastodonResponder]:
    """The Mastodon sources (search poller, and the live stream when `streaming`) and the
    responder, sharing one instance record."""
    instance = Instance(_api(client, base_url, token, sleep=sleep, now=now))
    poller = MastodonSource(instance, terms, interval=interval, hashtags=hashtags,
                            streaming=streaming, sleep=sleep)
    sources: list[Any] = [poller]
    if streaming:
        from integrations.networks.mastodon_stream import MastodonStream  # it imports this

        sources.append(MastodonStream(poller, token, refresh=interval, sleep=sleep))
    return sources, MastodonResponder(instance)


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[MastodonSettings]) -> Parts | None:
    s = ctx.settings
    token, base, client = secret(s.access_token), s.base_url, ctx.client
    if not (base and token):
        return None
    sources, responder = components(
        client, base_url=base, token=token, terms=ctx.terms(NETWORK),
        interval=ctx.shared.poll_seconds, hashtags=s.hashtags, streaming=s.streaming)
    mode = ("search polled, hashtags and mentions streamed" if s.streaming
            else "search, hashtags and mentions polled")
    return Parts(sources=sources, responder=responder, publisher=responder,
                 check=(f"{base}: {mode}; replies and posts", lambda: verify(client, base, token)),
                 followers=lambda handle: follower_count(client, base, token, handle))


PLUGIN = Plugin(spec=specs.MASTODON, settings=MastodonSettings, build=build)
