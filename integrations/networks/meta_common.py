"""What Facebook Pages and Instagram share: the Graph API (its throttling error codes and
paging) and Meta's webhooks (the subscription handshake and the X-Hub-Signature-256 check).

Graph API throttling comes as HTTP 400/403 with error codes 4, 17, 32, 613 or 80001-80014 and a
usage header (`X-Business-Use-Case-Usage`) naming `estimated_time_to_regain_access` in minutes;
those are turned into waits like a 429. Tokens travel in the Authorization header, never in a
URL that could be logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

import httpx
from aiohttp import web

from bot.clock import utcnow
from bot.domain import Post
from bot.networks import ModerationRefused
from integrations.networks.http_common import Api, ApiError, RateLimited, Uncertain, pick
from integrations.networks.push import PushSource, WebhookRoute

log = logging.getLogger(__name__)

THROTTLE_CODES = frozenset({4, 17, 32, 613}) | frozenset(range(80001, 80015))
DEFAULT_WAIT = 60.0


def regain_seconds(headers: httpx.Headers) -> float | None:
    """The longest `estimated_time_to_regain_access` (minutes) in the usage headers."""
    raw = headers.get("x-business-use-case-usage")
    if not raw:
        return None
    try:
        usage = json.loads(raw)
    except ValueError:
        return None
    minutes = [entry.get("estimated_time_to_regain_access", 0)
               for entries in usage.values() if isinstance(entries, list)
               for entry in entries if isinstance(entry, dict)]
    worst = max((m for m in minutes if isinstance(m, int | float)), default=0)
    return float(worst) * 60 if worst else None


class GraphApi(Api):
    """The Graph API with a page or user token, throttling errors turned into waits."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, token: str,
                 **kwargs: Any) -> None:
        super().__init__(client, base_url, headers={"Authorization": f"Bearer {token}"},
                         **kwargs)

    async def _send_once(self, method: str, url: str, *, headers: dict[str, str],
                         **kwargs: Any) -> httpx.Response:
        try:
            return await super()._send_once(method, url, headers=headers, **kwargs)
        except ApiError as exc:
            if isinstance(exc, RateLimited) or pick(exc.body, "error", "code") not in \
                    THROTTLE_CODES:
                raise
            wait = regain_seconds(exc.headers) or DEFAULT_WAIT
            raise RateLimited(exc.status, exc.message, retry_after=wait) from exc

    async def pages(self, path: str, params: Mapping[str, Any], *,
                    max_pages: int = 5) -> AsyncIterator[list[Any]]:
        """The `data` of each page, following `paging.next`."""
        url: str | None = path
        query: Mapping[str, Any] | None = params
        for _ in range(max_pages):
            if url is None:
                return
            body = await self.get_json(url, params=query)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ValueError(f"{path}: answer without data")
            yield data
            url = pick(body, "paging", "next")
            query = None  # the next URL carries its own parameters


async def graph_write(api: GraphApi, path: str, data: Mapping[str, str]) -> httpx.Response:
    """A Graph write (form-encoded, as the Graph API documents its edges)."""
    return await api.write("POST", path, data=data)


# Graph's permission errors (developers.facebook.com/docs/graph-api/guides/error-handling):
# code 10 (the app lacks the permission), 200-299 (a permission is missing or was not granted),
# 190 (the token is invalid or expired), in the OAuthException shape {"error": {"message",
# "type", "code", "error_subcode"?, "fbtrace_id"}}.
PERMISSION_CODES = frozenset({10, *range(200, 300)})


async def set_comment_hidden(api: GraphApi, comment_id: str, *, param: str, hidden: bool,
                             permission: str, network: str) -> None:
    """POST /{comment-id}?<param>=true|false (Facebook: is_hidden, Instagram: hide), its
    refusals as one line that names the missing permission."""
    try:
        response = await api.write("POST", f"/{comment_id}",
                                   data={param: "true" if hidden else "false"})
    except ApiError as exc:
        code = pick(exc.body, "error", "code")
        message = pick(exc.body, "error", "message") or exc.message
        if code in PERMISSION_CODES:
            raise ModerationRefused(
                f"{network} refused: the token lacks the {permission} permission "
                f"(Graph error {code}: {message})") from exc
        if code == 190:
            raise ModerationRefused(f"{network} refused: the token is invalid or expired "
                                    f"(Graph error 190: {message})") from exc
        raise ModerationRefused(f"{network} refused: {message}") from exc
    except Uncertain as exc:
        raise ModerationRefused(f"{network} did not answer clearly ({exc}); hiding is safe "
                                "to try again") from exc
    try:
        body = response.json()
    except ValueError:
        body = None
    if not (isinstance(body, dict) and body.get("success") is True):
        raise ModerationRefused(f"{network} did not confirm the change")


def signature_ok(secret: bytes, body: bytes, header: str | None) -> bool:
    """Meta signs each delivery: X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, body)>."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().encode())


Handler = Callable[[list[Any]], Awaitable[list[Post]]]


class MetaWebhook:
    """Meta's webhook endpoint: GET answers the subscription handshake, POST checks the
    signature and hands each object's entries ("page", "instagram") to its network's handler,
    whose posts go into that network's push source. 200 only once they are stored, so Meta
    redelivers what was not (it retries for hours)."""

    def __init__(self, *, app_secret: str, verify_token: str, max_bytes: int,
                 now: Callable[[], datetime] = utcnow, store_timeout: float = 15.0) -> None:
        self.secret = app_secret.encode("utf-8")
        self.verify_token = verify_token
        self.max_bytes = max_bytes
        self.now = now
        self.store_timeout = store_timeout
        self.handlers: dict[str, tuple[Handler, PushSource]] = {}

    def on(self, obj: str, handler: Handler, source: PushSource) -> None:
        self.handlers[obj] = (handler, source)

    def push_source(self, obj: str, handler: Handler, name: str) -> PushSource:
        """A source fed by this endpoint's deliveries of `obj` ("page", "instagram")."""
        source = PushSource(name)
        self.on(obj, handler, source)
        return source

    def routes(self, path: str = "/meta") -> list[WebhookRoute]:
        return [WebhookRoute("GET", path, self.handshake), WebhookRoute("POST", path,
                                                                        self.deliver)]

    async def handshake(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        if q.get("hub.mode") != "subscribe" or not hmac.compare_digest(
                q.get("hub.verify_token", "").encode(), self.verify_token.encode()):
            return web.json_response({"error": "verify token mismatch"}, status=403)
        return web.Response(text=q.get("hub.challenge", ""))

    async def deliver(self, request: web.Request) -> web.StreamResponse:
        if (request.content_length or 0) > self.max_bytes:
            return web.json_response({"error": "too large"}, status=413)
        body = await request.content.read(self.max_bytes + 1)
        if len(body) > self.max_bytes:
            return web.json_response({"error": "too large"}, status=413)
        if not signature_ok(self.secret, body, request.headers.get("X-Hub-Signature-256")):
            return web.json_response({"error": "bad signature"}, status=401)
        try:
            data = json.loads(body)
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        obj = data.get("object") if isinstance(data, dict) else None
        if obj not in self.handlers:
            # Subscribed fields of an object we do not watch: acknowledge, nothing to do.
            return web.json_response({"ignored": obj})
        handler, source = self.handlers[obj]
        entries = data.get("entry") if isinstance(data.get("entry"), list) else []
        posts = await handler(entries)
        if posts and not await source.push(posts, within=self.store_timeout):
            return web.json_response({"error": "not stored yet"}, status=503)
        return web.json_response({"stored": len(posts)})
