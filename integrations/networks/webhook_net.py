"""The signed webhook: anything else (a review site, a CRM, a scraper) POSTs posts to Echtzeit.

`SignedEndpoint` is its route on the webhook server (integrations/networks/push.py) and feeds a
`PushSource`: it checks size, timestamp and HMAC signature, parses the posts, queues them, and
answers 200 only once the runner has stored them (the runner asks the source for its next batch
only after storing the last one). A sender that gets anything else retries; dedupe in the
pipeline makes a repeat harmless. Other networks' push endpoints (Meta's webhooks) mount their
routes on the same server.

Request: `POST /webhook` with a JSON body (one post or a list of posts, in the replay format:
network, id, url, author, author_name, followers, text, lang, created_at, likes, reposts,
replies, in_reply_to) and the headers
`X-Echtzeit-Timestamp: <unix seconds>` and
`X-Echtzeit-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the secret>`.
The timestamp is ASCII digits within 5 minutes of the server's clock; the signature is compared
exactly (lower-case hex, as `sign` makes it). There is no replay cache: a copy of a signed
request within those 5 minutes is accepted again, and the pipeline drops its posts as
duplicates (same network and id), so it stores nothing twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.clock import utcnow
from bot.domain import Author, Post
from integrations.networks import specs
from integrations.networks.http_common import as_int, parse_time
from integrations.networks.plugin import BuildContext, Parts, Plugin
from integrations.networks.plugin import secret as secret_value
from integrations.networks.push import PushSource, WebhookRoute
from integrations.networks.settings import WebhookSettings

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Echtzeit-Signature"
TIMESTAMP_HEADER = "X-Echtzeit-Timestamp"
MAX_SKEW_SECONDS = 5 * 60
MAX_POSTS = 1000
_NETWORK = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_UNIX_SECONDS = re.compile(r"[0-9]{1,20}")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header value a sender computes: sha256=<hex>."""
    mac = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a push is refused: the HTTP status and the message for the sender."""

    status: int
    message: str


def check_signed(*, secret: bytes, max_bytes: int, now: datetime, timestamp: str,
                 signature: str, body: bytes) -> Refusal | None:
    """The checks on a signed push, before its body is parsed (None: it passes): body size
    (413), both headers present (401), the timestamp in Unix seconds (400) and within
    MAX_SKEW_SECONDS of `now` (401), the signature exactly `sign(secret, timestamp, body)`
    (401). Pure, and total over any header text: hostile headers get a Refusal, never an
    exception (aiohttp hands over undecodable header bytes as lone surrogates)."""
    if len(body) > max_bytes:
        return Refusal(413, f"body larger than {max_bytes} bytes")
    if not timestamp or not signature:
        return Refusal(401, f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    # ASCII digits only: str.isdigit() also takes "²" and "١٢٣", which int() or the ASCII
    # signature base then choke on; and a bounded length keeps int() and the float
    # comparison from raising on a 5,000-digit "timestamp".
    if not _UNIX_SECONDS.fullmatch(timestamp):
        return Refusal(400, f"{TIMESTAMP_HEADER} must be Unix seconds")
    if abs(now.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return Refusal(401, "timestamp older than 5 minutes (or in the future)")
    expected = sign(secret, timestamp, body)
    # A non-ASCII signature cannot match (and may hold surrogates that do not encode).
    if not signature.isascii() or not hmac.compare_digest(expected.encode(),
                                                          signature.encode()):
        return Refusal(401, "bad signature")
    return None


def parse_pushed(raw: Any, now: datetime) -> Post:
    """One pushed post; raises ValueError naming the bad field."""
    if not isinstance(raw, dict):
        raise ValueError("each post must be a JSON object")
    network = raw.get("network") or "webhook"
    if not isinstance(network, str) or not _NETWORK.match(network):
        raise ValueError("'network' must be a short lower-case name such as trustpilot")
    pid = raw.get("id")
    if isinstance(pid, int) and not isinstance(pid, bool):
        pid = str(pid)
    if not isinstance(pid, str) or not pid or len(pid) > 500:
        raise ValueError("'id' must be a non-empty string of at most 500 characters")
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("'text' must be a non-empty string")
    url = raw.get("url")
    if url is None:
        url = f"webhook://{network}/{pid}"
    elif not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ValueError("'url' must be an http(s) URL")
    created_raw = raw.get("created_at")
    if created_raw is None:
        created = now
    else:
        try:
            created = parse_time(created_raw)
        except ValueError as exc:
            raise ValueError("'created_at' must be ISO 8601 with a time zone") from exc
    author = raw.get("author") or "unknown"
    if not isinstance(author, str):
        raise ValueError("'author' must be a string")
    name = raw.get("author_name")
    lang = raw.get("lang")
    in_reply_to = raw.get("in_reply_to")
    return Post(
        network=network,
        external_id=pid,
        url=url,
        author=Author(handle=author.lstrip("@")[:300],
                      name=name[:300] if isinstance(name, str) else None,
                      followers=as_int(raw.get("followers"))),
        text=text,
        created_at=created,
        lang=lang if isinstance(lang, str) and lang else None,
        likes=as_int(raw.get("likes")),
        reposts=as_int(raw.get("reposts")),
        replies=as_int(raw.get("replies")),
        in_reply_to=str(in_reply_to) if isinstance(in_reply_to, str | int) else None,
    )


def _problem(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@dataclass
class SignedEndpoint:
    """POST handler for signed pushes into `source`."""

    source: PushSource
    secret: bytes
    max_bytes: int
    now: Callable[[], datetime] = utcnow
    store_timeout: float = 20.0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        length = request.content_length
        if length is not None and length > self.max_bytes:
            return _problem(413, f"body larger than {self.max_bytes} bytes")
        try:
            body = await request.content.read(self.max_bytes + 1)
        except ConnectionError:
            return _problem(400, "the body could not be read")
        refusal = check_signed(secret=self.secret, max_bytes=self.max_bytes, now=self.now(),
                               timestamp=request.headers.get(TIMESTAMP_HEADER, ""),
                               signature=request.headers.get(SIGNATURE_HEADER, ""), body=body)
        if refusal is not None:
            return _problem(refusal.status, refusal.message)
        try:
            data = json.loads(body)
        except ValueError:
            return _problem(400, "the body is not JSON")
        items = data if isinstance(data, list) else [data]
        if not items:
            return _problem(400, "no posts in the body")
        if len(items) > MAX_POSTS:
            return _problem(413, f"more than {MAX_POSTS} posts in one request")
        posts: list[Post] = []
        now = self.now()
        for index, item in enumerate(items):
            try:
                posts.append(parse_pushed(item, now))
            except ValueError as exc:
                where = f"post {index}: " if isinstance(data, list) else ""
                return _problem(400, f"{where}{exc}")
        if not await self.source.push(posts, within=self.store_timeout):
            return web.json_response({"error": "not stored yet; retry later"}, status=503,
                                     headers={"Retry-After": "30"})
        return web.json_response({"stored": len(posts)})


def signed_route(source: PushSource, *, secret: str, max_bytes: int,
                 now: Callable[[], datetime] = utcnow, path: str = "/webhook",
                 store_timeout: float = 20.0) -> WebhookRoute:
    endpoint = SignedEndpoint(source=source, secret=secret.encode("utf-8"),
                              max_bytes=max_bytes, now=now, store_timeout=store_timeout)
    return WebhookRoute("POST", path, endpoint.handle)


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[WebhookSettings]) -> Parts | None:
    key = secret_value(ctx.settings.secret)
    if not key:
        return None
    push = PushSource("webhook")
    shared = ctx.shared
    return Parts(sources=[push],
                 routes=[signed_route(push, secret=key, max_bytes=shared.webhook_max_bytes)],
                 check=(f"POST {shared.webhook_host}:{shared.webhook_port}/webhook", None))


PLUGIN = Plugin(spec=specs.WEBHOOK, settings=WebhookSettings, build=build)
