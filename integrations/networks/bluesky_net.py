"""Bluesky (AT Protocol): authenticated `app.bsky.feed.searchPosts`, the Jetstream firehose
over a WebSocket, and replies as `app.bsky.feed.post` records with reply root and parent.

Search needs a session (Bluesky closed unauthenticated search in January 2025): Echtzeit signs in
with the brand account's handle and an app password (`com.atproto.server.createSession`, cached;
`refreshSession` when the access token expires) and asks the account's PDS, which proxies to the
AppView. Jetstream needs no account but carries every post of the network with no keyword
filter, so its source (bluesky_jetstream.py) keeps only posts that contain one of the brands'
search terms.

Cursors (JSON): search `{"search": {query: newest sortAt}}`; Jetstream `{"time_us": n}`, and a
reconnect rewinds a few seconds (delivery is at least once; the pipeline drops repeats).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
import regex

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, PostGone, ReplyRejected
from integrations.networks import specs
from integrations.networks.bluesky_common import (
    NETWORK,
    POST,
    Profiles,
    count,
    lang_of,
    quoted_uri,
    web_url,
)
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateHeaders,
    Sleep,
    parse_time,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import BlueskySettings
from integrations.networks.terms import SearchTerm, TermsProvider

log = logging.getLogger(__name__)

# bluesky-social/atproto lexicons/app/bsky/feed/post.json: "text": {"maxLength": 3000,
# "maxGraphemes": 300}; a lexicon string's maxLength counts UTF-8 bytes.
MAX_GRAPHEMES = 300
MAX_BYTES = 3000
PAGE = 100
MAX_PAGES = 5
# The PDS and AppView send RateLimit-Remaining / RateLimit-Reset (Unix seconds).
RATE = RateHeaders(remaining="ratelimit-remaining", reset="ratelimit-reset", reset_kind="epoch")


class Session:
    """The brand account's session on its PDS: created once, refreshed when it expires."""

    def __init__(self, client: httpx.AsyncClient, service_url: str, handle: str,
                 app_password: str, *, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.api = Api(client, service_url, auth=self._auth, rate=RATE, sleep=sleep, now=now)
        self._plain = Api(client, service_url, rate=RATE, sleep=sleep, now=now)
        self.identifier = handle
        self._password = app_password
        self.access: str | None = None
        self.refresh_jwt: str | None = None
        self.did: str | None = None
        self.handle: str | None = None
        self._lock = asyncio.Lock()

    async def _auth(self) -> Mapping[str, str]:
        if self.access is None:
            await self.login()
        return {"Authorization": f"Bearer {self.access}"}

    def _take(self, body: Any) -> None:
        if not isinstance(body, dict) or not body.get("accessJwt") or not body.get("did"):
            raise ApiError(0, "the session answer lacks accessJwt or did")
        self.access = body["accessJwt"]
        self.refresh_jwt = body.get("refreshJwt")
        self.did = body["did"]
        self.handle = body.get("handle") or self.identifier

    async def login(self) -> None:
        async with self._lock:
            if self.access is not None:
                return
            body = await self._plain.post_json(
                "/xrpc/com.atproto.server.createSession",
                {"identifier": self.identifier, "password": self._password})
            self._take(body)

    async def renew(self) -> None:
        """After ExpiredToken: refreshSession, or a new session if that fails too."""
        async with self._lock:
            stale = self.refresh_jwt
            self.access = None
            if stale:
                try:
                    response = await self._plain.request(
                        "POST", "/xrpc/com.atproto.server.refreshSession",
                        headers={"Authorization": f"Bearer {stale}"})
                    self._take(response.json())
                    return
                except (ApiError, ValueError) as exc:
                    log.info("bluesky: refreshSession failed (%s); signing in again", exc)
        await self.login()

    async def get(self, method: str, params: Any) -> Any:
        """An authenticated XRPC query, renewing the session once if it expired."""
        try:
            return await self.api.get_json(f"/xrpc/{method}", params=params)
        except ApiError as exc:
            if not _expired(exc):
                raise
        await self.renew()
        return await self.api.get_json(f"/xrpc/{method}", params=params)


def _expired(exc: ApiError) -> bool:
    return exc.status in (400, 401) and ("expired" in exc.message.lower()
                                         or "ExpiredToken" in exc.message)


def postview_to_post(view: JSON, followers: Mapping[str, int | None] | None = None) -> Post:
    """An `app.bsky.feed.defs#postView` as a Post."""
    uri = view.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://"):
        raise ValueError("postView without an at:// uri")
    author = view.get("author")
    record = view.get("record")
    if not isinstance(author, dict) or not isinstance(record, dict):
        raise ValueError("postView without author or record")
    text = record.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("post without text")
    did = author.get("did")
    handle = author.get("handle") or did
    if not isinstance(handle, str):
        raise ValueError("author without handle or did")
    parent = pick(record, "reply", "parent", "uri")
    return Post(
        network=NETWORK,
        external_id=uri,
        url=web_url(handle, uri),
        author=Author(handle=handle, name=author.get("displayName") or None,
                      followers=(followers or {}).get(str(did)),
                      url=f"https://bsky.app/profile/{handle}"),
        text=text,
        created_at=parse_time(record.get("createdAt") or view.get("indexedAt")),
        lang=lang_of(record),
        likes=count(view.get("likeCount")),
        reposts=count(view.get("repostCount")),
        replies=count(view.get("replyCount")),
        in_reply_to=parent if isinstance(parent, str) else None,
        quotes=quoted_uri(record),
    )


def sort_at(view: JSON) -> str | None:
    """The AppView's sort time of a post: the earlier of createdAt and indexedAt."""
    times = []
    for value in (pick(view, "record", "createdAt"), view.get("indexedAt")):
        try:
            times.append(parse_time(value))
        except ValueError:
            continue
    if not times:
        return None
    return min(times).isoformat().replace("+00:00", "Z")


def search_query(term: SearchTerm) -> str:
    """The term in the search's Lucene syntax."""
    if term.kind == "phrase":
        return f'"{term.text}"'
    if term.kind == "hashtag":
        return f"#{term.text}"
    return term.text


class BlueskySearch(PollingSource):
    """Polls app.bsky.feed.searchPosts (sort=latest) for each search term."""

    def __init__(self, session: Session, profiles: Profiles, terms: TermsProvider, *,
                 interval: float, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.session = session
        self.profiles = profiles
        self.terms = terms
        self.name = f"bluesky:{session.identifier}"

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor).get("search") or {}
        queries = sorted({search_query(t) for t in await self.terms()})
        views: dict[str, JSON] = {}
        newest: dict[str, str] = {}
        for query in queries:
            since = state.get(query)
            found, latest = await self._search(query, since)
            for view in found:
                views.setdefault(str(view.get("uri")), view)
            if latest or since:
                newest[query] = max(filter(None, (latest, since)))
        await self.session.login()
        own = self.session.did
        candidates = [v for v in views.values() if pick(v, "author", "did") != own]
        profiles = await self.profiles.lookup(str(pick(v, "author", "did")) for v in candidates)
        followers = {did: p[0] for did, p in profiles.items()}
        posts = []
        for view in candidates:
            try:
                posts.append(postview_to_post(view, followers))
            except (ValueError, TypeError) as exc:
                log.warning("bluesky: skipped a malformed post: %s", exc)
        return Batch(posts=posts, cursor=dump_cursor({"search": newest}))

    async def _search(self, query: str, since: str | None) -> tuple[list[JSON], str | None]:
        found: list[JSON] = []
        latest: str | None = None
        page_cursor: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE}
            if since:
                params["since"] = since
            if page_cursor:
                params["cursor"] = page_cursor
            body = await self.session.get("app.bsky.feed.searchPosts", params)
            posts = body.get("posts") if isinstance(body, dict) else None
            if not isinstance(posts, list):
                raise ValueError("searchPosts answer without posts")
            for view in posts:
                if not isinstance(view, dict):
                    continue
                found.append(view)
                at = sort_at(view)
                if at and (latest is None or at > latest):
                    latest = at
            page_cursor = body.get("cursor")
            # The first poll takes the newest page only; later ones page back to `since`.
            if since is None or not page_cursor or not posts:
                break
        return found, latest


# --- replies --------------------------------------------------------------------------------

_URL = regex.compile(r"https?://[^\s<>\"]+")
_MENTION = regex.compile(
    r"(?<![\w@])@((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)")
_TAG = regex.compile(r"(?<![\w#])#(\p{L}[\p{L}\p{N}_]{0,63})")
_TRAILING = ".,;:!?)]}'\""


def graphemes(text: str) -> int:
    """User-perceived characters (extended grapheme clusters), as Bluesky counts them."""
    return len(regex.findall(r"\X", text))


def _span(text: str, start: int, end: int) -> dict[str, int]:
    return {"byteStart": len(text[:start].encode("utf-8")),
            "byteEnd": len(text[:end].encode("utf-8"))}


async def facets(text: str, resolve: Callable[[str], Any]) -> list[JSON]:
    """Rich-text facets for links, @handles (resolved to DIDs; unresolvable ones stay plain
    text) and #tags, with UTF-8 byte offsets as the lexicon requires."""
    found: list[JSON] = []
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_TRAILING)
        found.append({"index": _span(text, m.start(), m.start() + len(url)),
                      "features": [{"$type": "app.bsky.richtext.facet#link", "uri": url}]})
    for m in _MENTION.finditer(text):
        did = await resolve(m.group(1))
        if did:
            found.append({"index": _span(text, m.start(), m.end()),
                          "features": [{"$type": "app.bsky.richtext.facet#mention",
                                        "did": did}]})
    found.extend({"index": _span(text, m.start(), m.end()),
                  "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": m.group(1)}]}
                 for m in _TAG.finditer(text))
    return sorted(found, key=lambda f: f["index"]["byteStart"])


class BlueskyResponder:
    """Replies as a post of the brand account with reply.root and reply.parent (strong refs
    from the parent's postView), and facets for links, handles and tags."""

    network = NETWORK

    def __init__(self, session: Session, *, now: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.now = now

    def check(self, text: str) -> str | None:
        """The post record's text rule: 300 graphemes and 3,000 UTF-8 bytes (lexicon
        app.bsky.feed.post: maxGraphemes, maxLength)."""
        if not text.strip():
            return "the reply is empty"
        count = graphemes(text)
        if count > MAX_GRAPHEMES:
            return f"bluesky allows {MAX_GRAPHEMES} characters, this reply has {count}"
        size = len(text.encode("utf-8"))
        if size > MAX_BYTES:
            return f"bluesky allows {MAX_BYTES} bytes, this reply has {size}"
        return None

    async def _resolve(self, handle: str) -> str | None:
        try:
            body = await self.session.get("com.atproto.identity.resolveHandle",
                                          {"handle": handle})
        except ApiError:
            return None
        did = body.get("did") if isinstance(body, dict) else None
        return did if isinstance(did, str) else None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        problem = self.check(text)
        if problem:
            raise ReplyRejected(problem)
        return await self.send(mention=mention, text=text)

    async def send(self, *, mention: Mention, text: str) -> PostedReply:
        """Post `text` as the reply without our check: the PDS's lexicon validation is then
        the only one (what reply() does after its check; the tests use it to show that the
        PDS's refusal comes back as ReplyRejected)."""

        async def post() -> PostedReply:
            await self.session.login()
            found = await self.session.get("app.bsky.feed.getPosts",
                                           [("uris", mention.external_id)])
            views = found.get("posts") if isinstance(found, dict) else None
            if not views:
                raise PostGone("the post is gone (deleted, or not visible to the account)")
            parent = views[0]
            parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
            root = pick(parent, "record", "reply", "root")
            root_ref = ({"uri": root["uri"], "cid": root["cid"]}
                        if isinstance(root, dict) and "uri" in root and "cid" in root
                        else parent_ref)
            return await self._create(text, reply={"root": root_ref, "parent": parent_ref})

        result: PostedReply = await send_reply(post)
        return result

    async def _create(self, text: str, *, reply: JSON | None = None) -> PostedReply:
        """createRecord of an app.bsky.feed.post (a reply when `reply` holds its root and
        parent), with facets; an expired session is renewed once."""
        record: JSON = {"$type": POST, "text": text,
                        "createdAt": self.now().isoformat().replace("+00:00", "Z")}
        if reply is not None:
            record["reply"] = reply
        rich = await facets(text, self._resolve)
        if rich:
            record["facets"] = rich
        body = {"repo": self.session.did, "collection": POST, "record": record}
        try:
            response = await self.session.api.write(
                "POST", "/xrpc/com.atproto.repo.createRecord", json_body=body)
        except ApiError as exc:
            if not _expired(exc):
                raise
            await self.session.renew()
            response = await self.session.api.write(
                "POST", "/xrpc/com.atproto.repo.createRecord", json_body=body)
        created = response_json(response)
        uri = str(created.get("uri"))
        return PostedReply(id=uri, url=web_url(self.session.handle or str(self.session.did), uri))

    async def publish(self, *, text: str, key: str) -> PostedReply:
        """bot.networks.Publisher: a new post of the brand account (createRecord of an
        app.bsky.feed.post without `reply`), with facets. Bluesky has no idempotency key:
        the publication's record keeps it from being sent twice."""
        problem = self.check(text)
        if problem:
            raise ReplyRejected(problem)

        async def post() -> PostedReply:
            await self.session.login()
            return await self._create(text)

        result: PostedReply = await send_reply(post)
        return result


# --- for the digest and `echtzeit networks` ---------------------------------------------------


async def follower_count(client: httpx.AsyncClient, handle: str, *,
                         api_url: str = "https://public.api.bsky.app") -> int | None:
    """Followers of `handle` from the public AppView (no account needed)."""
    api = Api(client, api_url, rate=RATE)
    try:
        profile = await api.get_json("/xrpc/app.bsky.actor.getProfile",
                                     params={"actor": handle.lstrip("@")})
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("bluesky: followers of %s unknown: %s", handle, exc)
        return None
    return count(profile.get("followersCount")) if isinstance(profile, dict) else None


async def verify(session: Session) -> str:
    """Sign in (createSession) and name the account."""
    session.access = None
    session._plain.attempts = 1  # a check, not a poll: one try tells
    await session.login()
    return f"@{session.handle} ({session.did})"


def public_profiles(client: httpx.AsyncClient, api_url: str, *,
                    sleep: Sleep = asyncio.sleep) -> Profiles:
    """Profile look-ups without an account, from the public AppView."""
    api = Api(client, api_url, rate=RATE, sleep=sleep)

    async def fetch(method: str, params: Any) -> Any:
        return await api.get_json(f"/xrpc/{method}", params=params)

    return Profiles(fetch)


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[BlueskySettings]) -> Parts:
    """Search and replies with an account, the firehose with a Jetstream URL; follower counts
    from the public AppView always (the network is off without either)."""
    s, client = ctx.settings, ctx.client
    public = s.public_api_url
    parts = Parts(followers=lambda handle: follower_count(client, handle, api_url=public))
    password = secret(s.app_password)
    session = None
    what = []
    if s.handle and password:
        session = Session(client, s.service_url, s.handle, password)
        parts.sources.append(BlueskySearch(session, Profiles(session.get), ctx.terms(NETWORK),
                                           interval=ctx.shared.poll_seconds))
        parts.responder = parts.publisher = BlueskyResponder(session)
        what.append(f"search via {s.service_url}; replies and posts")
    if s.jetstream_url:
        profiles = (Profiles(session.get) if session is not None
                    else public_profiles(client, public))
        own = session
        from integrations.networks.bluesky_jetstream import JetstreamSource

        parts.sources.append(JetstreamSource(
            s.jetstream_url, profiles, ctx.terms(NETWORK),
            refresh_terms=ctx.shared.poll_seconds,
            own_did=lambda: own.did if own is not None else None))
        what.append(f"firehose {s.jetstream_url}")
    if what:
        parts.check = ("; ".join(what),
                       (lambda: verify(session)) if session is not None else None)
    return parts


PLUGIN = Plugin(spec=specs.BLUESKY, settings=BlueskySettings, build=build)
