"""A local stand-in for Slack: the Web API, response_url webhooks and a Socket Mode endpoint.
The one fake Slack of the tests and benchmarks (the unit tests of the adapter, the fault tests'
crash, outage and replica runs, bench/relay.py).

It speaks the documented API with real payload shapes (tests/fixtures/slack/), and enforces what
Slack enforces: a valid bearer token on every call (bot `xoxb-` tokens for the Web API, the app
token `xapp-` for apps.connections.open), Block Kit schemas and limits (testkit/blockkit.py),
known channels and messages, and a per-channel rate limit answered with HTTP 429, `Retry-After`
and `{"ok": false, "error": "ratelimited"}`. Every request is recorded; tests await what they
expect with `wait_for` / `wait_until` (no sleeps). What breaks a rule Slack would reject is also
listed in `violations`, and the fixtures fail a test that left any.

Rate limits (docs.slack.dev/apis/web-api/rate-limits): chat.postMessage (and chat.update, which
the fake counts in the same bucket) per channel at Slack's documented pace, "one message per
second per channel" with "short bursts", always on: a bucket of `POST_BURST` (3) messages per
channel that refills at `POST_PER_SECOND` (1) a second; one more is answered HTTP 429 with
`Retry-After` (whole seconds until the bucket has room, as Slack sends it). Slack does not
guarantee bursts; the shipped pacer (integrations/chat/slack/chat.py: 2 at 1/s) stays one message
under this bucket, which absorbs a second of network delay between its pacing and the fake's
count. The other methods per workspace in their documented
tier (`TIERS`: calls per minute). `apps="distributed"` applies the limits Slack gives
commercially distributed apps outside the Marketplace since 2025-05-29 (existing installs since
2026-03-03): conversations.history once a minute, at most 15 messages a page
(docs.slack.dev/reference/methods/conversations.history). Limits count on `clock` (injected:
a test that needs speed shares one clock, e.g. testkit.clock.Monotonic, between the fake and the
adapter's pacer, whose `sleep` advances it instead of waiting); an exceeded one answers 429,
`Retry-After` and
`{"ok": false, "error": "ratelimited"}`. The bot is a member of `channels` unless a test
removes it from `members` (then `not_in_channel`, as Slack answers).

Interactions (docs.slack.dev/interactivity/handling-user-interaction): a `trigger_id` is good
for views.open only if the fake issued it (`trigger()`, which the payloads a test sends carry)
and for `TRIGGER_SECONDS` after that on `clock` (`expired_trigger_id`, `invalid_trigger_id`); a
`response_url` takes at most `RESPONSE_URL_USES` posts within `RESPONSE_URL_SECONDS`; a Socket
Mode envelope must be acknowledged within `ACK_SECONDS` of real time (`socket_send` notes when it
went out; an HTTP request's answer time is checked by the test client that sends it, with
`late_ack`). Each broken rule is also a violation.

Faults a test schedules with `fault(method, channel)` (only for authenticated calls): "500"
(internal_error), "429" (ratelimited, Retry-After 7), "timeout" (no answer for `hang_seconds`)
and "accept_then_timeout" (the message is stored, the client never hears so). `posted` lists
every chat.postMessage Slack accepted, in order, with its message metadata. `sign` makes the
headers Slack signs its own requests with (slash commands, interactivity, events).

Runs on 127.0.0.1 with an ephemeral port, in the test's own event loop.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from testkit.blockkit import home_view_errors, message_errors, view_errors

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-1111-2222-echtzeit"

# What `FakeSlack.fault` may schedule for one call (None: answer as Slack would).
Fault = str | None  # "500" | "429" | "timeout" | "accept_then_timeout" | None


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def sign(body: str, *, secret: str = SIGNING_SECRET,
         timestamp: int | None = None) -> dict[str, str]:
    """The headers Slack sends with a request: v0 HMAC-SHA256 of "v0:<ts>:<body>"."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def no_fault(method: str, channel: str) -> Fault:
    return None


# Calls per minute, per method and workspace, of the methods the fake serves (Slack's tiers:
# Tier 2 20+, Tier 3 50+, Tier 4 100+; each method's reference page names its tier).
TIERS: dict[str, int] = {
    "conversations.history": 50,  # Tier 3
    "conversations.replies": 50,  # Tier 3
    "reactions.add": 50,  # Tier 3
    "usergroups.users.list": 20,  # Tier 2
    "users.info": 100,  # Tier 4
    "views.open": 100,  # Tier 4
    "views.update": 100,  # Tier 4
    "views.publish": 100,  # Tier 4
    "chat.postEphemeral": 100,  # Tier 4
    "files.getUploadURLExternal": 100,  # Tier 4
    "files.completeUploadExternal": 100,  # Tier 4
}
VIEW_BYTES = 250_000  # views.publish: view_too_large "if the provided view is greater than 250kb"
TRIGGER_SECONDS = 3.0  # a trigger_id expires three seconds after it was issued
RESPONSE_URL_USES = 5  # "valid for 30 minutes and accepts at most 5 calls"
RESPONSE_URL_SECONDS = 30 * 60.0
# chat.postMessage per channel: "one message per second per channel", "short bursts" allowed.
POST_PER_SECOND = 1.0
POST_BURST = 3
ACK_SECONDS = 3.0  # every interaction, command and event is acknowledged within 3 s
# Commercially distributed, non-Marketplace apps: conversations.history and .replies.
DISTRIBUTED_HISTORY_PER_MINUTE = 1
DISTRIBUTED_HISTORY_PAGE = 15
INTERNAL_HISTORY_PAGE = 999


@dataclass(frozen=True)
class Posted:
    """A message chat.postMessage stored, as the relay's crash and replica tests read it."""

    channel: str
    ts: str
    text: str
    metadata: dict[str, Any] | None
    at: float  # time.monotonic() when stored


@dataclass
class Call:
    method: str
    token: str | None
    args: dict[str, Any]
    status: int = 200
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0  # on the fake's clock, when the call arrived
    headers: dict[str, str] = field(default_factory=dict)  # of the answer (Retry-After)


class FakeSlack:
    """Slack's side, for one test."""

    def __init__(
        self,
        *,
        team_id: str = "T0ECHTZEIT",
        bot_token: str = BOT_TOKEN,
        app_token: str = "xapp-1-A0ECHTZEIT-3333-socket",
        channels: tuple[str, ...] = ("C0CARDS", "C0OTHER"),
        client_id: str = "1111.2222",
        client_secret: str = "oauth-client-secret",
        fault: Callable[[str, str], Fault] = no_fault,
        hang_seconds: float = 30.0,
        apps: str = "internal",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if apps not in ("internal", "distributed"):
            raise ValueError(f"apps must be internal or distributed, not {apps!r}")
        self.team_id = team_id
        self.bot_user_id = "U0ECHTBOT"
        self.bot_id = "B0ECHTBOT"
        self.tokens: dict[str, str] = {bot_token: team_id}  # bot token -> team
        self.app_token = app_token
        self.client_id = client_id
        self.client_secret = client_secret
        self.channels = set(channels)
        self.members = set(channels)  # channels the bot is in
        self.apps = apps
        self.clock = clock
        self.wall = wall  # Unix time of a message, for history's `oldest`
        self._per_method: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._triggers: dict[str, float] = {}  # trigger_id -> when issued (clock)
        self._hooks: dict[str, list[float]] = defaultdict(list)  # response_url -> uses (clock)
        self._envelopes: dict[str, float] = {}  # envelope_id -> sent (time.monotonic)
        self.users: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, list[str]] = {}
        self.oauth_codes: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}
        self.received_at: dict[tuple[str, str], float] = {}  # wall clock, for history's oldest
        self.views: dict[str, dict[str, Any]] = {}
        self.homes: dict[str, dict[str, Any]] = {}  # user id -> the Home tab view published
        self.home_enabled = True  # the app's App Home > Home Tab setting
        self.webhooks: list[tuple[str, dict[str, Any]]] = []
        self.reactions: set[tuple[str, str, str]] = set()
        self.files: dict[str, dict[str, Any]] = {}  # file id -> filename, length, data, shares
        self.posted: list[Posted] = []
        self.fault = fault
        self.hang_seconds = hang_seconds  # how long a "timeout" keeps the request open
        # Per channel, chat.postMessage / chat.update: a bucket of `burst` that refills at
        # `per_second` (Slack's pace; see the module's docstring).
        self.burst = POST_BURST
        self.per_second = POST_PER_SECOND
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (level, when, on clock)
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Socket Mode
        self.socket_acks: list[dict[str, Any]] = []
        self.socket_connections = 0
        self._socket: web.WebSocketResponse | None = None
        self._socket_open = asyncio.Event()
        self.add_user("U0ANA", "ana", "Ana Kowalski", display_name="Ana")
        self.add_user("U0BEN", "ben", "Ben Schulz", display_name="")

    # --- set-up --------------------------------------------------------------------------------

    def add_user(self, user_id: str, name: str, real_name: str, *,
                 display_name: str | None = None) -> None:
        user = fixture("users_info.json")["user"]
        user = json.loads(json.dumps(user))
        user.update(id=user_id, name=name, real_name=real_name, team_id=self.team_id)
        user["profile"].update(real_name=real_name,
                               display_name=real_name if display_name is None else display_name)
        self.users[user_id] = user

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base_url}/webhook/{name}"

    def trigger(self) -> str:
        """A fresh trigger_id, as Slack puts in each interaction it sends."""
        trigger = f"13345224609.738474920.{next(self._ids):012x}"
        self._triggers[trigger] = self.clock()
        return trigger

    def late_ack(self, what: str, seconds: float) -> None:
        """Note an acknowledgement the app gave `seconds` after the request (a violation
        beyond ACK_SECONDS: Slack shows the person an error and retries events)."""
        if seconds > ACK_SECONDS:
            self.violations.append(f"{what} acknowledged after {seconds:.2f} s")

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/webhook/{name}", self._webhook)
        app.router.add_post("/upload/v1/{file_id}", self._upload)
        app.router.add_get("/link/", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self._socket is not None and not self._socket.closed:
            await self._socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- awaiting what the app does ----------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """The first `count` successful calls of `method`, once they have arrived."""
        async def arrived() -> list[Call]:
            async with self._changed:
                while len(self.ok_calls(method)) < count:
                    await self._changed.wait()
                return self.ok_calls(method)[:count]
        return await asyncio.wait_for(arrived(), within)

    async def wait_webhooks(self, count: int = 1,
                            within: float = 10.0) -> list[tuple[str, dict[str, Any]]]:
        async def arrived() -> list[tuple[str, dict[str, Any]]]:
            async with self._changed:
                while len(self.webhooks) < count:
                    await self._changed.wait()
                return self.webhooks[:count]
        return await asyncio.wait_for(arrived(), within)

    def ok_calls(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.answer.get("ok")]

    async def wait_until(self, predicate: Callable[[], bool], within: float = 120.0) -> None:
        """Until `predicate()` holds, checked after each request."""
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)
        await asyncio.wait_for(until(), within)

    def human_says(self, channel: str, text: str, user: str = "U0ANA") -> str:
        """A person's message in the channel (it shows in conversations.history)."""
        ts = f"1764000000.{next(self._ts):06d}"
        self.messages[(channel, ts)] = {"channel": channel, "text": text, "user": user}
        self.received_at[(channel, ts)] = self.wall()
        return ts

    def in_channel(self, channel: str) -> list[Posted]:
        return [m for m in self.posted if m.channel == channel]

    def delivery_tokens(self) -> list[str]:
        """The relay's token (message metadata event_payload.delivery) of each posted card."""
        return [str((m.metadata or {}).get("event_payload", {}).get("delivery"))
                for m in self.posted if m.metadata]

    # --- Web API -------------------------------------------------------------------------------

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                args.update(json.loads(raw or "{}"))
            else:
                args.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "view", "metadata"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    self.violations.append(f"{key} is not JSON")
        return args

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        call = Call(method=method, token=token, args=args, at=self.clock())
        self.calls.append(call)
        fault = self.fault(method, str(args.get("channel") or "")) if token in self.tokens \
            else None
        if fault in ("timeout", "accept_then_timeout"):
            call.status = 0  # no answer reached the client
            if fault == "accept_then_timeout":
                _, call.answer, _ = self._handle(method, token, args, auth)
            await self._notify()
            await asyncio.sleep(self.hang_seconds)  # the client gives up first
            return web.json_response({"ok": False, "error": "too_late"})
        if fault == "500":
            status, answer, headers = 500, {"ok": False, "error": "internal_error"}, {}
        elif fault == "429":
            status, answer, headers = 429, {"ok": False, "error": "ratelimited"}, {
                "Retry-After": "7"}
        elif fault is not None:
            raise ValueError(f"unknown fault {fault!r}")
        else:
            status, answer, headers = self._handle(method, token, args, auth)
        call.status, call.answer, call.headers = status, answer, headers
        await self._notify()
        return web.json_response(answer, status=status, headers=headers)

    def _refuse(self, error: str, **extra: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 200, {"ok": False, "error": error, **extra}, {}

    def _limited(self, channel: str) -> int | None:
        """Whole seconds to wait when the channel's bucket is full (Retry-After), else None (and
        the message is counted): a leaky bucket of `burst` draining at `per_second`."""
        now = self.clock()
        level, then = self._buckets.get(channel, (0.0, now))
        level = max(0.0, level - (now - then) * self.per_second)
        if level + 1 > self.burst:
            self._buckets[channel] = (level, now)
            return max(1, math.ceil((level + 1 - self.burst) / self.per_second))
        self._buckets[channel] = (level + 1, now)
        return None

    def _over_tier(self, method: str, team: str) -> int | None:
        """Seconds to wait when `method` is over its per-minute tier in `team`, else None (and
        the call is counted)."""
        per_minute = TIERS.get(method)
        if method in ("conversations.history", "conversations.replies") and \
                self.apps == "distributed":
            per_minute = DISTRIBUTED_HISTORY_PER_MINUTE
        if per_minute is None:
            return None
        now = self.clock()
        recent = self._per_method[(method, team)]
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= per_minute:
            return max(1, int(60.0 - (now - recent[0]) + 0.999))
        recent.append(now)
        return None

    def _flags(self, method: str, args: dict[str, Any]) -> None:
        if str(args.get("link_names")).lower() in ("true", "1"):
            self.violations.append(f"{method} with link_names")
        if args.get("parse") == "full":
            self.violations.append(f"{method} with parse=full")

    def _handle(self, method: str, token: str | None, args: dict[str, Any],
                auth: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "oauth.v2.access":
            return self._oauth(args, auth)
        if method == "apps.connections.open":
            if token != self.app_token:
                return self._refuse("not_allowed_token_type" if token else "not_authed")
            return 200, {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link/?ticket="
                                            f"{next(self._ids)}"}, {}
        if token is None:
            return self._refuse("not_authed")
        if token not in self.tokens:
            return self._refuse("invalid_auth")
        team = self.tokens[token]
        wait = self._over_tier(method, team)
        if wait is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        if method == "auth.test":
            answer = fixture("auth_test.json")
            answer.update(team_id=team, user_id=self.bot_user_id, bot_id=self.bot_id)
            return 200, answer, {}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return self._chat(method, args)
        if method in ("views.open", "views.update"):
            return self._view(method, args)
        if method == "views.publish":
            return self._publish(args)
        if method == "users.info":
            user = self.users.get(str(args.get("user")))
            return (200, {"ok": True, "user": user}, {}) if user else self._refuse(
                "user_not_found")
        if method == "files.getUploadURLExternal":
            try:
                length = int(args.get("length", ""))
            except ValueError:
                return self._refuse("invalid_arguments")
            if not args.get("filename") or length <= 0:
                return self._refuse("invalid_arguments")
            if len(str(args.get("alt_txt") or "")) > 1000:
                self.violations.append("files.getUploadURLExternal: alt_txt over 1000")
            file_id = f"F{next(self._ids):08d}"
            self.files[file_id] = {"filename": args["filename"], "length": length,
                                   "data": None, "shares": []}
            return 200, {"ok": True, "file_id": file_id,
                         "upload_url": f"{self.base_url}/upload/v1/{file_id}"}, {}
        if method == "files.completeUploadExternal":
            files = json.loads(str(args.get("files") or "[]"))
            channel = str(args.get("channel_id") or "")
            if channel and channel not in self.channels:
                return self._refuse("channel_not_found")
            done = []
            for f in files:
                stored = self.files.get(f.get("id"))
                if stored is None or stored["data"] is None:
                    return self._refuse("file_not_found")
                stored["shares"].append((channel, args.get("thread_ts")))
                done.append({"id": f["id"], "title": f.get("title") or stored["filename"],
                             "name": stored["filename"], "mimetype": "image/png"})
            return 200, {"ok": True, "files": done}, {}
        if method == "conversations.history":
            return self._history(args)
        if method == "conversations.replies":
            return self._history(args, thread=str(args.get("ts") or ""))
        if method == "reactions.add":
            key = (str(args.get("channel")), str(args.get("timestamp")), str(args.get("name")))
            if key in self.reactions:
                return self._refuse("already_reacted")
            self.reactions.add(key)
            return 200, {"ok": True}, {}
        if method == "usergroups.users.list":
            group = str(args.get("usergroup"))
            if group not in self.groups:
                return self._refuse("no_such_subteam")
            return 200, {"ok": True, "users": list(self.groups[group])}, {}
        self.violations.append(f"unexpected method {method}")
        return self._refuse("unknown_method")

    def _chat(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any],
                                                                  dict[str, str]]:
        channel = str(args.get("channel") or "")
        self._flags(method, args)
        is_dm = channel.startswith("U")
        if not is_dm and channel not in self.channels:
            return self._refuse("channel_not_found")
        if not is_dm and method != "chat.postEphemeral" and channel not in self.members:
            return self._refuse("not_in_channel")
        blocks = args.get("blocks")
        if not args.get("text") and not blocks:
            return self._refuse("no_text")
        if blocks is not None:
            errors = message_errors(blocks)
            if errors:
                self.violations.extend(f"{method}: {e}" for e in errors)
                return self._refuse("invalid_blocks", errors=errors)
        wait = self._limited(channel) if method != "chat.postEphemeral" else None
        if wait is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        if method == "chat.update":
            key = (channel, str(args.get("ts")))
            if key not in self.messages:
                return self._refuse("message_not_found")
            self.messages[key] = {**self.messages[key], **args}
            # As Slack answers (and its Web API description requires): the edited message too.
            return 200, {"ok": True, "channel": channel, "ts": key[1],
                         "text": args.get("text", ""),
                         "message": {"type": "message", "user": self.bot_user_id,
                                     "bot_id": self.bot_id, "text": args.get("text", "")}}, {}
        ts = f"1764000000.{next(self._ts):06d}"
        if method == "chat.postEphemeral":
            if not args.get("user"):
                return self._refuse("user_not_found")
            return 200, {"ok": True, "message_ts": ts}, {}
        if args.get("unfurl_links") is not False or args.get("unfurl_media") is not False:
            self.violations.append("chat.postMessage without unfurl_links/unfurl_media=false")
        self.messages[(channel, ts)] = dict(args)
        self.received_at[(channel, ts)] = self.wall()
        metadata = args.get("metadata")
        self.posted.append(Posted(channel, ts, str(args.get("text") or ""),
                                  metadata if isinstance(metadata, dict) else None,
                                  time.monotonic()))
        message = {"type": "message", "user": self.bot_user_id, "bot_id": self.bot_id,
                   "text": args.get("text", ""), "ts": ts}
        return 200, {"ok": True, "channel": channel, "ts": ts, "message": message}, {}

    def _history(self, args: dict[str, Any], *, thread: str | None = None,
                 ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """conversations.history: newest first, after `oldest` (compared with when the fake
        received each message, as its own `ts` values are synthetic), paged by cursor; message
        metadata only with include_all_metadata. Replies in a thread are not in the channel's
        history (unless broadcast), as in Slack: conversations.replies (`thread`: the parent's
        ts) lists a thread, its parent first, then the replies oldest first."""
        channel = str(args.get("channel") or "")
        if channel not in self.channels:
            return self._refuse("channel_not_found")
        if channel not in self.members:
            return self._refuse("not_in_channel")
        if thread is not None and (channel, thread) not in self.messages:
            return self._refuse("thread_not_found")
        oldest = float(args.get("oldest") or 0)
        page = DISTRIBUTED_HISTORY_PAGE if self.apps == "distributed" else INTERNAL_HISTORY_PAGE
        limit = max(1, min(int(args.get("limit") or min(100, page)), page))
        start = int(args.get("cursor") or 0)
        if thread is None:
            found = [(ts, m) for (ch, ts), m in reversed(self.messages.items())
                     if ch == channel and self.received_at.get((ch, ts), 0.0) > oldest
                     and (not m.get("thread_ts") or m.get("reply_broadcast"))]
        else:
            found = [(ts, m) for (ch, ts), m in self.messages.items()
                     if ch == channel and (ts == thread or m.get("thread_ts") == thread)
                     and self.received_at.get((ch, ts), 0.0) > oldest]
        with_meta = str(args.get("include_all_metadata")).lower() in ("true", "1")
        out = []
        for ts, m in found[start:start + limit]:
            item: dict[str, Any] = {"type": "message", "text": m.get("text", ""), "ts": ts}
            item.update({"user": m["user"]} if "user" in m else
                        {"user": self.bot_user_id, "bot_id": self.bot_id})
            meta = m.get("metadata")
            if with_meta and meta:
                item["metadata"] = json.loads(meta) if isinstance(meta, str) else meta
            out.append(item)
        more = start + limit < len(found)
        # pin_count and channel_actions_* come with every answer (the Web API description
        # requires them); the fake pins nothing and has no channel actions.
        return 200, {"ok": True, "messages": out, "has_more": more, "pin_count": 0,
                     "channel_actions_ts": None, "channel_actions_count": 0,
                     "response_metadata": {"next_cursor": str(start + limit) if more else ""}}, {}

    def _view(self, method: str, args: dict[str, Any]) -> tuple[int, dict[str, Any],
                                                                  dict[str, str]]:
        view = args.get("view")
        errors = view_errors(view)
        if errors:
            self.violations.extend(f"{method}: {e}" for e in errors)
            return self._refuse("invalid_arguments", errors=errors)
        if method == "views.open":
            trigger = str(args.get("trigger_id") or "")
            if not trigger:
                return self._refuse("invalid_arguments")
            issued = self._triggers.get(trigger)
            if issued is None:
                self.violations.append(f"views.open with a trigger_id Slack never sent: "
                                       f"{trigger}")
                return self._refuse("invalid_trigger_id")
            if self.clock() - issued > TRIGGER_SECONDS:
                return self._refuse("expired_trigger_id")
            view_id = f"V{next(self._ids):08d}"
        else:
            view_id = str(args.get("view_id") or "")
            if view_id not in self.views:
                return self._refuse("not_found")
            if args.get("hash") and args["hash"] != self.views[view_id]["hash"]:
                return self._refuse("hash_conflict")
        stored = {**(view or {}), "id": view_id, "team_id": self.team_id,
                  "hash": f"{int(time.time())}.{next(self._ids):08d}",
                  "state": {"values": {}}, "app_id": "A0ECHTZEIT", "bot_id": self.bot_id}
        self.views[view_id] = stored
        return 200, {"ok": True, "view": stored}, {}

    def _publish(self, args: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
        """views.publish: a Home tab view for one user (docs.slack.dev/reference/methods/
        views.publish): user_id and view required, the view a valid `home` view of at most
        250 kB; `hash` must match the user's current view when given."""
        user = str(args.get("user_id") or "")
        if not user or user not in self.users:
            return self._refuse("invalid_arguments",
                                response_metadata={"messages": ["invalid `user_id`"]})
        view = args.get("view")
        if not isinstance(view, dict):
            return self._refuse("invalid_arguments",
                                response_metadata={"messages": ["missing or invalid `view`"]})
        if len(json.dumps(view).encode()) > VIEW_BYTES:
            return self._refuse("view_too_large")
        errors = home_view_errors(view)
        if errors:
            self.violations.extend(f"views.publish: {e}" for e in errors)
            return self._refuse("invalid_arguments", errors=errors)
        if not self.home_enabled:
            return self._refuse("not_enabled")
        old = self.homes.get(user)
        if args.get("hash") and (old is None or args["hash"] != old["hash"]):
            return self._refuse("hash_conflict")
        view_id = old["id"] if old else f"V{next(self._ids):08d}"
        stored = {**view, "id": view_id, "team_id": self.team_id,
                  "hash": f"{int(time.time())}.{next(self._ids):08d}",
                  "state": {"values": {}}, "app_id": "A0ECHTZEIT", "bot_id": self.bot_id,
                  "root_view_id": view_id, "previous_view_id": None,
                  "private_metadata": view.get("private_metadata", ""),
                  "callback_id": view.get("callback_id", ""),
                  "external_id": view.get("external_id", "")}
        self.homes[user] = stored
        return 200, {"ok": True, "view": stored}, {}

    def home_opened(self, user: str = "U0ANA", *, tab: str = "home") -> dict[str, Any]:
        """The Events API envelope of `app_home_opened` as Slack sends it when `user` opens the
        app's Home (tab "home") or Messages tab; `view` is there once a Home view was
        published for the user."""
        payload = fixture("event_app_home_opened.json")
        n = next(self._ids)
        payload["event_id"] = f"Ev0HOME{n:06d}"
        payload["event"].update(user=user, tab=tab, channel=f"D0{user[2:]}")
        if user in self.homes:
            payload["event"]["view"] = self.homes[user]
        return payload

    def _oauth(self, args: dict[str, Any], auth: str) -> tuple[int, dict[str, Any],
                                                             dict[str, str]]:
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if auth.startswith("Basic "):
            raw = base64.b64decode(auth.removeprefix("Basic ")).decode()
            client_id, _, client_secret = raw.partition(":")
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            return self._refuse("invalid_client_id")
        answer = self.oauth_codes.pop(str(args.get("code")), None)
        if answer is None:
            return self._refuse("invalid_code")
        self.tokens[answer["access_token"]] = answer["team"]["id"]
        return 200, answer, {}

    # --- file uploads (files.slack.com/upload/v1/…) -------------------------------------

    async def _upload(self, request: web.Request) -> web.Response:
        stored = self.files.get(request.match_info["file_id"])
        data = await request.read()
        if stored is None:
            return web.Response(status=404, text="not found")
        if len(data) != stored["length"]:
            self.violations.append(f"upload of {len(data)} bytes, announced {stored['length']}")
            return web.Response(status=400, text="length mismatch")
        stored["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    # --- response_url --------------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "blocks" in body:
            errors = message_errors(body["blocks"])
            if errors:
                self.violations.extend(f"response_url: {e}" for e in errors)
                return web.Response(status=400, text="invalid_blocks")
        name = request.match_info["name"]
        now = self.clock()
        uses = self._hooks[name]
        if uses and now - uses[0] > RESPONSE_URL_SECONDS:
            self.violations.append(f"response_url {name} used after 30 minutes")
            return web.Response(status=404, text="expired_url")
        if len(uses) >= RESPONSE_URL_USES:
            self.violations.append(f"response_url {name} used more than {RESPONSE_URL_USES} "
                                   "times")
            return web.Response(status=404, text="used_url")
        uses.append(now)
        self.webhooks.append((name, body))
        await self._notify()
        return web.Response(text="ok")

    # --- Socket Mode ---------------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._socket = ws
        self.socket_connections += 1
        hello = fixture("socket_hello.json")
        await ws.send_str(json.dumps(hello))
        self._socket_open.set()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "envelope_id" in data:
                sent = self._envelopes.pop(str(data["envelope_id"]), None)
                if sent is not None:
                    self.late_ack(f"envelope {data['envelope_id']}", time.monotonic() - sent)
                self.socket_acks.append(data)
                await self._notify()
        return ws

    async def socket_send(self, envelope: dict[str, Any], within: float = 10.0) -> None:
        await asyncio.wait_for(self._socket_open.wait(), within)
        assert self._socket is not None
        if "envelope_id" in envelope:
            self._envelopes[str(envelope["envelope_id"])] = time.monotonic()
        await self._socket.send_str(json.dumps(envelope))

    async def wait_socket_ack(self, envelope_id: str,
                              within: float = 10.0) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            async with self._changed:
                while True:
                    for ack in self.socket_acks:
                        if ack["envelope_id"] == envelope_id:
                            return ack
                    await self._changed.wait()
        return await asyncio.wait_for(arrived(), within)
