"""Discord's HTTP rate limits as the fake Discord enforces them: per-route buckets announced in
X-RateLimit-* headers, and the global limit of each bot across all routes.

Sources (discord/discord-api-docs @ 2026-08, developers/topics/rate-limits.mdx):

- "All bots can make up to 50 requests per second to our API. [...] This is independent of any
  individual rate limit on a route" (Global Rate Limit): GLOBAL_LIMIT requests in any
  GLOBAL_WINDOW seconds, counted per bot token. Discord does not say whether the second is a
  fixed or a sliding one; the fake slides it, the stricter reading.
- "Interaction endpoints are not bound to the bot's Global Rate Limit", with the link to
  developers/interactions/receiving-and-responding.mdx#endpoints, whose "Endpoints" section
  ("The endpoints below are not bound to the application's Global Rate Limit") lists
  POST /interactions/{id}/{token}/callback and the /webhooks/{application.id}/{token}...
  follow-up and original-response routes: neither is counted or refused globally here.
- A global 429 is answered as in "Example Exceeded Global Rate Limit Response": body
  {"message": "You are being rate limited.", "retry_after": <float>, "global": true}, headers
  Retry-After (whole seconds, rounded up as in the example: 64.57 -> 65), X-RateLimit-Global:
  true, X-RateLimit-Scope: global, and no per-route headers (the example has none).
- Per-route buckets: the top-level resource (channel, guild, webhook) keeps its id in the bucket,
  other ids do not ("During calculation, per-route rate limits often account for top-level
  resources"); the headers as in "Rate Limit Header Examples"; a route 429 with
  X-RateLimit-Scope: user. Discord publishes no per-route numbers ("rate limits should not be
  hard coded"): ROUTE_LIMIT is the fake's choice, announced in the headers as Discord would.

Every 429 carries `Via: 1.1 google`: Discord's answers come through Google's front end, and
discord.py takes a 429 without Via for a Cloudflare ban.

The windows count on an injected clock (`clock`, seconds; time.monotonic by default). Unlike
the minutes-long windows of nonces and interaction tokens, discord.py really sleeps through a
Retry-After, so a test that freezes this clock to pack requests into one window moves it on
once Discord has said 429.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

GLOBAL_LIMIT = 50  # requests per bot ...
GLOBAL_WINDOW = 1.0  # ... per second: rate-limits.mdx, Global Rate Limit
ROUTE_LIMIT = (50, 1.0)  # the fake's choice per route bucket: Discord publishes none
RATE_LIMITED = "You are being rate limited."

Clock = Callable[[], float]

# Interaction callbacks and the interaction webhooks: not bound to the global limit
# (receiving-and-responding.mdx, Endpoints).
INTERACTION_ROUTE = re.compile(r"^/api/v10/(interactions|webhooks)/")


def interaction_route(path: str) -> bool:
    return bool(INTERACTION_ROUTE.match(path))


@dataclass
class Bucket:
    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0


class RouteBuckets:
    """Per-route buckets, a fixed window each (what X-RateLimit-Reset-After describes)."""

    def __init__(self, shape: tuple[int, float], clock: Clock) -> None:
        self.shape = shape
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    @staticmethod
    def key(method: str, path: str) -> str:
        # Discord buckets by route with the top-level resource id kept (channel, guild,
        # webhook); other ids are generic.
        path = re.sub(r"(/channels/\d+/messages)/\d+", r"\1/{id}", path)
        path = re.sub(r"(/applications)/\d+", r"\1/{app}", path)
        return f"{method} {path}"

    def bucket(self, key: str) -> Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(*self.shape, reset_at=now)
        if now >= bucket.reset_at:
            bucket.used, bucket.reset_at = 0, now + bucket.window
        return bucket

    def take(self, key: str) -> float | None:
        """Count one request on the bucket `key`; the seconds to wait when it is used up."""
        bucket = self.bucket(key)
        if bucket.used >= bucket.limit:
            return max(bucket.reset_at - self._clock(), 0.0)
        bucket.used += 1
        return None

    def headers(self, key: str, response: web.StreamResponse) -> None:
        bucket = self.bucket(key)
        after = max(bucket.reset_at - self._clock(), 0.0)
        response.headers.setdefault("X-RateLimit-Limit", str(bucket.limit))
        response.headers.setdefault("X-RateLimit-Remaining",
                                    str(max(bucket.limit - bucket.used, 0)))
        response.headers.setdefault("X-RateLimit-Reset", f"{time.time() + after:.3f}")
        response.headers.setdefault("X-RateLimit-Reset-After", f"{after:.3f}")
        response.headers.setdefault("X-RateLimit-Bucket", bucket_hash(key))


class GlobalLimit:
    """At most `limit` requests of one bot in any `window` seconds, whatever the route."""

    def __init__(self, clock: Clock, limit: int = GLOBAL_LIMIT,
                 window: float = GLOBAL_WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._sent: deque[float] = deque()  # when the requests of the window came

    def take(self) -> float | None:
        """Count one request; when the bot is over the limit, the seconds until it is not
        (the request is then not counted: Discord refused it before doing anything)."""
        now = self._clock()
        while self._sent and now - self._sent[0] >= self.window:
            self._sent.popleft()
        if len(self._sent) >= self.limit:
            return max(self._sent[0] + self.window - now, 0.001)
        self._sent.append(now)
        return None


def bucket_hash(key: str) -> str:
    return f"{abs(hash(key)) & 0xFFFFFFFF:08x}"


def _json(body: object, headers: dict[str, str]) -> web.Response:
    return web.Response(body=json.dumps(body).encode("utf-8"), status=429,
                        headers={**headers, "Content-Type": "application/json"})


def route_too_many(retry_after: float, *, bucket: str, limit: int,
                   body: dict[str, object]) -> web.Response:
    """A per-route 429 ("Example Exceeded User Rate Limit Response"); `body` is the fixture
    (tests/fixtures/discord/rate_limited.json) to put retry_after in."""
    body = dict(body, retry_after=round(retry_after, 3))
    return _json(body, {
        "Retry-After": str(max(math.ceil(retry_after), 0)),
        "X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket_hash(bucket), "X-RateLimit-Scope": "user",
        "Via": "1.1 google",
    })


def global_too_many(retry_after: float) -> web.Response:
    """The global 429 ("Example Exceeded Global Rate Limit Response")."""
    return _json({"message": RATE_LIMITED, "retry_after": round(retry_after, 3),
                  "global": True}, {
        "Retry-After": str(max(math.ceil(retry_after), 0)),
        "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global",
        "Via": "1.1 google",
    })

