"""What every network module shares: one HTTP call with the network's rate limits honoured,
retries with jittered back-off, and small parsers (times, HTML); the polling loop and the
cursors are in polling.py.

Reads are retried (429 with the network's wait, 5xx and dropped connections with jittered
exponential back-off, through tenacity). Writes (replies) are never retried blindly: a write
that may have reached the network surfaces as `Uncertain`, one the network certainly refused as
`ApiError`, and each responder maps them onto `ReplyUncertain` / `ReplyRejected`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any, Literal

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from bot.clock import utcnow
from bot.networks import ReplyRejected, ReplyUncertain

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[Any]]
Clock = Callable[[], datetime]
JSON = dict[str, Any]

# Longest wait we accept from a network's rate-limit header before we rather give up this poll
# (a misread header must not park a source for a day).
MAX_WAIT = 15 * 60.0


class ApiError(Exception):
    """The network answered with an error that a retry of the same request cannot fix (4xx),
    or a retried error that persisted."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None,
                 body: Any = None, headers: httpx.Headers | None = None) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        self.body = body  # the parsed error body, for networks with error codes (Graph API)
        self.headers = headers or httpx.Headers()


class RateLimited(ApiError):
    """429 (or the network's own way of saying it): wait `retry_after` seconds."""


class Transient(ApiError):
    """5xx or a connection that failed before an answer: worth another try later."""


class Uncertain(Exception):
    """A write whose request left us, but whose outcome we did not learn (timeout, dropped
    connection, 5xx): it may have been posted."""


@dataclass(frozen=True, slots=True)
class RateHeaders:
    """How one network names its rate-limit headers and what its reset value means:
    `epoch` (Unix seconds: X, GitHub), `seconds` (seconds from now: Reddit) or `iso`
    (a timestamp: Mastodon)."""

    remaining: str = "x-ratelimit-remaining"
    reset: str = "x-ratelimit-reset"
    reset_kind: Literal["epoch", "seconds", "iso"] = "epoch"


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def seconds_until_reset(headers: httpx.Headers, rate: RateHeaders, now: datetime) -> float | None:
    """Seconds until the network's rate-limit window resets, from its headers, if given."""
    raw = headers.get(rate.reset)
    if raw is None:
        return None
    if rate.reset_kind == "seconds":
        value = _float(raw)
        return max(value, 0.0) if value is not None else None
    if rate.reset_kind == "epoch":
        value = _float(raw)
        return max(value - now.timestamp(), 0.0) if value is not None else None
    try:
        at = parse_time(raw)
    except ValueError:
        return None
    return max((at - now).total_seconds(), 0.0)


def retry_after(headers: httpx.Headers, now: datetime) -> float | None:
    """The Retry-After header in seconds (it may be a number or an HTTP date)."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    seconds = _float(raw)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        at = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max((at - now).total_seconds(), 0.0)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error_message(response: httpx.Response) -> str:
    """A short description of an error body, whatever shape the network uses."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    if isinstance(body, dict):
        for key in ("error_description", "message", "detail", "error", "title", "errors"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or json.dumps(value)[:200]
            if isinstance(value, list) and value:
                first = value[0]
                value = first.get("message", str(first)) if isinstance(first, dict) else first
            if value:
                return (str(value) + _details(body, str(value)))[:300]
    return response.reason_phrase or "error"


def _details(body: dict[str, Any], shown: str) -> str:
    """What a generic message leaves out: GitHub puts the reason of its 422 "Validation
    Failed" in `errors[].message` ("Body is too long (maximum is 65536 characters)"), Google
    its machine-readable `error.errors[].reason` ("commentTextTooLong")."""
    found: list[str] = []
    errors = body.get("errors")
    inner = body.get("error")
    if isinstance(errors, list):
        found += [e["message"] for e in errors
                  if isinstance(e, dict) and isinstance(e.get("message"), str)]
    if isinstance(inner, dict) and isinstance(inner.get("errors"), list):
        found += [e["reason"] for e in inner["errors"]
                  if isinstance(e, dict) and isinstance(e.get("reason"), str)]
    extra = [f for f in dict.fromkeys(found) if f and f not in shown]
    return f" ({'; '.join(extra)})" if extra else ""


def _is_403_limit(response: httpx.Response, rate: RateHeaders) -> bool:
    """GitHub says "rate limit exceeded" with 403 (remaining 0, or a secondary limit with
    Retry-After) rather than 429."""
    if response.status_code != 403:
        return False
    return response.headers.get(rate.remaining) == "0" or "retry-after" in response.headers


class Api:
    """One network's HTTP API: a base URL, how to authenticate, and its rate-limit rules.

    Requests wait when the network said the window is used up (remaining 0 until reset), and
    reads are retried on 429/5xx/connection errors with tenacity. `sleep` and `now` are injected
    so tests run without waiting.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        auth: Callable[[], Awaitable[Mapping[str, str]]] | None = None,
        rate: RateHeaders | None = None,
        sleep: Sleep = asyncio.sleep,
        now: Clock = utcnow,
        attempts: int = 5,
        backoff: float = 1.0,
        backoff_cap: float = 120.0,
    ) -> None:
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.auth = auth
        self.rate = rate or RateHeaders()
        self.sleep = sleep
        self.now = now
        self.attempts = attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self._blocked_until: datetime | None = None

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    async def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(self.headers)
        if self.auth is not None:
            headers.update(await self.auth())
        headers.update(extra or {})
        return headers

    async def _respect_window(self) -> None:
        if self._blocked_until is None:
            return
        wait = (self._blocked_until - self.now()).total_seconds()
        self._blocked_until = None
        if wait > 0:
            log.info("%s: rate-limit window used up, waiting %.0f s", self.base_url, wait)
            await self.sleep(min(wait, MAX_WAIT))

    def _note_window(self, response: httpx.Response) -> None:
        remaining = _float(response.headers.get(self.rate.remaining))
        if remaining is not None and remaining <= 0:
            wait = seconds_until_reset(response.headers, self.rate, self.now())
            if wait:
                self._blocked_until = datetime.fromtimestamp(
                    self.now().timestamp() + wait, tz=UTC
                )

    def _wait_for(self, response: httpx.Response) -> float | None:
        now = self.now()
        wait = retry_after(response.headers, now)
        if wait is None:
            wait = seconds_until_reset(response.headers, self.rate, now)
        return wait

    async def _send_once(
        self, method: str, url: str, *, headers: dict[str, str], **kwargs: Any
    ) -> httpx.Response:
        await self._respect_window()
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Transient(0, f"{type(exc).__name__}: {exc}") from exc
        self._note_window(response)
        if response.status_code == 429 or _is_403_limit(response, self.rate):
            raise RateLimited(response.status_code, _error_message(response),
                              retry_after=self._wait_for(response))
        if response.status_code >= 500:
            raise Transient(response.status_code, _error_message(response),
                            retry_after=retry_after(response.headers, self.now()))
        if response.status_code >= 400:
            raise ApiError(response.status_code, _error_message(response),
                           body=_json_or_none(response), headers=response.headers)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiError) and exc.retry_after is not None:
            # The network named its wait; a little jitter keeps many clients from returning
            # in the same instant.
            return min(exc.retry_after, MAX_WAIT) + random.uniform(0, 1)
        jittered = wait_random_exponential(multiplier=self.backoff, max=self.backoff_cap)
        return float(jittered(state))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A read: retried on 429 (after the network's wait), 5xx and connection errors."""
        url = self.url(path)
        kwargs: dict[str, Any] = {"params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((RateLimited, Transient)),
            sleep=self.sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._send_once(
                    method, url, headers=await self._headers(headers), **kwargs
                )
        raise AssertionError("unreachable: tenacity reraises the last error")

    async def get_json(self, path: str, **kwargs: Any) -> Any:
        response = await self.request("GET", path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "the answer is not JSON") from exc

    async def post_json(self, path: str, body: Any) -> Any:
        """A POST that is safe to repeat (a sign-in, a token request), retried like a read."""
        response = await self.request("POST", path, json_body=body)
        try:
            return response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "the answer is not JSON") from exc

    async def write(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A write, sent once. Raises ApiError when the network refused it (it is certainly not
        done) and Uncertain when it may have been done."""
        url = self.url(path)
        kwargs: dict[str, Any] = {"params": params}
        if json_body is not None:
            kwargs["json"] = json_body
        if data is not None:
            kwargs["data"] = data
        await self._respect_window()
        try:
            response = await self.client.request(
                method, url, headers=await self._headers(headers), **kwargs
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Nothing reached the network.
            raise ApiError(0, f"could not connect: {exc}") from exc
        except httpx.TransportError as exc:
            raise Uncertain(f"{type(exc).__name__} after sending: {exc}") from exc
        self._note_window(response)
        if response.status_code >= 500:
            raise Uncertain(f"HTTP {response.status_code}: {_error_message(response)}")
        if response.status_code >= 400:
            raise ApiError(response.status_code, _error_message(response),
                           retry_after=self._wait_for(response), body=_json_or_none(response),
                           headers=response.headers)
        return response


async def send_reply(action: Callable[[], Awaitable[Any]]) -> Any:
    """Run one reply write and turn its failures into the responder protocol's exceptions."""
    try:
        return await action()
    except Uncertain as exc:
        raise ReplyUncertain(str(exc)) from exc
    except ApiError as exc:
        if exc.status == 429:
            wait = f" (try again in {exc.retry_after:.0f} s)" if exc.retry_after else ""
            raise ReplyRejected(f"rate limited by the network{wait}") from exc
        raise ReplyRejected(str(exc)) from exc


def response_json(response: httpx.Response) -> Any:
    """The JSON of a successful write; a 2xx that is not JSON leaves the outcome unclear."""
    try:
        return response.json()
    except ValueError as exc:
        raise ReplyUncertain(f"HTTP {response.status_code} without a JSON body") from exc


# --- parsing ----------------------------------------------------------------------------------


def parse_time(value: Any) -> datetime:
    """An aware UTC datetime from ISO 8601 (with Z or offset) or Unix seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError) as exc:  # far outside the calendar, or NaN
            raise ValueError(f"not a time: {value!r}") from exc
    if not isinstance(value, str) or not value:
        raise ValueError(f"not a time: {value!r}")
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Graph API writes offsets without a colon (+0000); fromisoformat wants +00:00 on 3.11.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    # Fractions longer than microseconds (Bluesky, Jetstream) are cut to six digits.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"time without a zone: {value!r}")
    return parsed.astimezone(UTC)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "tr", "h1", "h2", "h3", "h4"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # Mastodon hides parts of long links in `<span class="invisible">`; they are kept,
        # so the text shows the whole link rather than a shortened look-alike.
        if tag in ("script", "style"):
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self._BREAKS and self.parts and not self.parts[-1].endswith("\n"):
            # HN separates paragraphs with a bare <p> that is never closed.
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in self._BREAKS and tag != "br":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML snippet (Mastodon content, HN comments, feed summaries, YouTube's
    textDisplay): tags dropped, link text kept, entities decoded, paragraphs and <br> kept as
    line breaks.

    Entities are decoded exactly once, by the parser (`convert_charrefs`): someone who typed
    "&lt;3" arrives as `&amp;lt;3` and must stay "&lt;3", not turn into "<3"."""
    if "<" not in markup and "&" not in markup:
        return markup.strip()
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def pick(mapping: Any, *keys: str) -> Any:
    """mapping[k1][k2]... or None where a level is missing or not a dict."""
    value = mapping
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def require_str(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value:
        raise ValueError(f"field {key!r} missing or not a string")
    return value
