"""A fake Slack Web API for the fault tests and the relay benchmark (aiohttp on 127.0.0.1).

It speaks the documented subset the relay uses: chat.postMessage (JSON or form body, Bearer
token, message metadata), chat.update and conversations.history (oldest, limit, cursor,
include_all_metadata: metadata only when asked, newest first). It enforces Slack's pace of about
one message per second per channel (429 with Retry-After) when `per_second` is set, and answers
with the faults a test schedules: 500, a timeout (no answer), 429, or "accept then time out"
(the message is stored, the client never hears so). Every stored message is kept in `messages`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

TOKEN = "xoxb-faults-test-token"

Fault = str | None  # "500" | "timeout" | "429" | "accept_then_timeout" | None


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    metadata: dict[str, Any] | None
    at: float  # time.monotonic() when stored


@dataclass
class FakeChat:
    per_second: float | None = None  # Slack: ~1 message per second per channel
    token: str = TOKEN
    hang_seconds: float = 30.0  # how long a "timeout" keeps the request open
    fault: Callable[[str, str], Fault] = lambda method, channel: None
    messages: list[Message] = field(default_factory=list)
    calls: list[tuple[str, str, int]] = field(default_factory=list)  # method, channel, status
    violations: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self._last_ts = 0.0
        self._last_post: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> FakeChat:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_until(self, predicate: Callable[[], bool], within: float = 120.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), timeout=within)

    def in_channel(self, channel: str) -> list[Message]:
        return [m for m in self.messages if m.channel == channel]

    def tokens(self) -> list[str]:
        return [str((m.metadata or {}).get("event_payload", {}).get("delivery"))
                for m in self.messages if m.metadata]

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                args.update(json.loads(raw or "{}"))
            else:
                args.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "metadata"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args = await self._args(request)
        channel = str(args.get("channel") or "")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(method, channel, 200, {"ok": False, "error": "invalid_auth"})
        fault = self.fault(method, channel)
        if fault == "500":
            return self._answer(method, channel, 500, {"ok": False, "error": "internal_error"})
        if fault == "429":
            return self._answer(method, channel, 429, {"ok": False, "error": "ratelimited"},
                                {"Retry-After": "7"})
        if fault == "timeout":
            self.calls.append((method, channel, 0))
            await asyncio.sleep(self.hang_seconds)  # the client gives up first
            return web.json_response({"ok": False, "error": "too_late"})
        if method == "chat.postMessage":
            if self.per_second is not None:
                now = time.monotonic()
                if now - self._last_post.get(channel, -1e9) < 1 / self.per_second * 0.95:
                    return self._answer(method, channel, 429,
                                        {"ok": False, "error": "ratelimited"},
                                        {"Retry-After": "1"})
                self._last_post[channel] = now
            if not args.get("text") and not args.get("blocks"):
                return self._answer(method, channel, 200, {"ok": False, "error": "no_text"})
            self._last_ts = max(time.time(), self._last_ts + 1e-6)
            ts = f"{self._last_ts:.6f}"
            self.messages.append(Message(channel, ts, str(args.get("text") or ""),
                                         args.get("metadata"), time.monotonic()))
            async with self._changed:
                self._changed.notify_all()
            if fault == "accept_then_timeout":
                self.calls.append((method, channel, 0))
                await asyncio.sleep(self.hang_seconds)
                return web.json_response({"ok": False, "error": "too_late"})
            return self._answer(method, channel, 200, {"ok": True, "channel": channel, "ts": ts,
                                                       "message": {"text": args.get("text")}})
        if method == "chat.update":
            return self._answer(method, channel, 200, {"ok": True, "channel": channel,
                                                       "ts": args.get("ts")})
        if method == "conversations.history":
            return self._history(channel, args)
        self.violations.append(f"unexpected method {method}")
        return self._answer(method, channel, 200, {"ok": False, "error": "unknown_method"})

    def _history(self, channel: str, args: dict[str, Any]) -> web.Response:
        oldest = float(args.get("oldest") or 0)
        limit = min(int(args.get("limit") or 100), 999)
        start = int(args.get("cursor") or 0)
        found = [m for m in reversed(self.messages) if m.channel == channel
                 and float(m.ts) > oldest]
        page = found[start:start + limit]
        with_meta = str(args.get("include_all_metadata")).lower() in ("true", "1")
        out = []
        for m in page:
            item: dict[str, Any] = {"type": "message", "ts": m.ts, "text": m.text}
            if with_meta and m.metadata:
                item["metadata"] = m.metadata
            out.append(item)
        more = start + limit < len(found)
        return self._answer("conversations.history", channel, 200, {
            "ok": True, "messages": out, "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""}})

    def _answer(self, method: str, channel: str, status: int, body: dict[str, Any],
                headers: dict[str, str] | None = None) -> web.Response:
        self.calls.append((method, channel, status))
        return web.json_response(body, status=status, headers=headers)
