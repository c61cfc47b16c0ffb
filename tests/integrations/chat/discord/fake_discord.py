"""A local stand-in for Discord: the HTTP API (v10) and the gateway, on 127.0.0.1.

It speaks the documented shapes (sample payloads in tests/fixtures/discord/), enforces what
Discord enforces on what a bot sends (tests/integrations/chat/discord/discord_rules.py: limits,
components, commands, modals; and our rule that allowed_mentions.parse is [] on every
message), keeps per-route rate-limit buckets with the X-RateLimit-* headers, answers 429s as
Discord does (JSON body with retry_after, Retry-After and Via headers), and can be told to fail
the next matching requests. The gateway says HELLO, takes IDENTIFY, sends READY and
GUILD_CREATE (zlib-stream compressed when asked), acknowledges heartbeats, and dispatches
INTERACTION_CREATE events that tests build from the fixtures.

Create Message honours `enforce_nonce` as Discord documents it (developers/resources/
message.mdx, Create Message: "If true and nonce is present, it will be checked for uniqueness
in the past few minutes. If another message was created by the same author with the same
nonce, that message will be returned and no new message will be created"; a nonce is at most
25 characters). Discord names no exact window: NONCE_WINDOW is the fake's choice, and `clock`
can be replaced to step past it. A nonce whose message was deleted meanwhile answers 404
Unknown Message (not a new message), as Discord's engineer described it in
discord/discord-api-docs#6647. The fake can also hold a request's answer after doing its work
(`hold`): the answer a client never gets because it gave up or died.

Anything the fake does not know answers 404 and is recorded in `violations`, so an unexpected
request fails the test that made it.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web

from tests.integrations.chat.discord.discord_rules import (
    autocomplete_problems,
    command_problems,
    message_problems,
    modal_problems,
    nonce_problems,
    upload_problems,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "discord"
TOKEN = "test-bot-token.abc.def"
WAIT = 10.0  # seconds a test waits for the bot before it fails
BODY: web.RequestKey[Any] = web.RequestKey("body", object)  # a JSON value
FILES: web.RequestKey[dict[str, Upload]] = web.RequestKey("files", dict)
EPHEMERAL = 1 << 6
NONCE_WINDOW = 180.0  # seconds; Discord documents "the past few minutes"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    files: dict[str, Upload] = field(default_factory=dict)


@dataclass(frozen=True)
class Upload:
    """A file sent as multipart/form-data part files[n]."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    retry_after: float | None = None


@dataclass
class Hold:
    """Requests the fake carries out but answers only once `release` is set."""

    method: str
    path: re.Pattern[str]
    times: int
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Bucket:
    limit: int
    window: float
    used: int = 0
    reset_at: float = 0.0


@dataclass
class InteractionState:
    """What the fake knows about one interaction it dispatched."""

    payload: dict[str, Any]
    callback: dict[str, Any] | None = None
    original: dict[str, Any] | None = None  # the response message (after defer: once edited)
    loading: bool = False
    ephemeral: bool = False
    followups: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Member:
    """A guild member for interaction payloads: roles by id, permissions as Discord computes
    them for the channel."""

    user_id: str
    username: str
    global_name: str | None = None
    nick: str | None = None
    roles: tuple[str, ...] = ()
    permissions: int = 0


class FakeDiscord:
    def __init__(self, *, token: str = TOKEN, bucket: tuple[int, float] = (50, 1.0)) -> None:
        self.token = token
        self.user = fixture("user_me.json")
        self.application = fixture("application_me.json")
        self.guild = fixture("guild_create.json")
        self.app_id = self.application["id"]
        self.guild_id = self.guild["id"]
        self.channel_id = self.guild["channels"][0]["id"]
        self.bucket_shape = bucket
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionState] = {}
        self.uploads: dict[str, Upload] = {}
        self.identifies: list[dict[str, Any]] = []
        self._failures: list[Failure] = []
        self._holds: list[Hold] = []
        # (channel, author id, nonce as JSON) -> (message id, when) for enforce_nonce.
        self._nonces: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.nonce_window = NONCE_WINDOW
        self.clock: Callable[[], float] = time.monotonic  # for the nonce window only
        self.nonce_hits: list[Any] = []  # nonces answered with the earlier message
        self._buckets: dict[str, Bucket] = {}
        self._ids = itertools.count(1_310_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._sockets: list[_Session] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        api = "/api/v10"
        r = app.router
        r.add_get(f"{api}/users/@me", self._me)
        r.add_get(f"{api}/oauth2/applications/@me", self._application)
        r.add_get(f"{api}/gateway/bot", self._gateway_bot)
        r.add_post(f"{api}/channels/{{channel}}/messages", self._create_message)
        r.add_patch(f"{api}/channels/{{channel}}/messages/{{message}}", self._edit_message)
        r.add_post(f"{api}/channels/{{channel}}/messages/{{message}}/threads", self._thread)
        r.add_put(f"{api}/applications/{{app}}/guilds/{{guild}}/commands", self._put_commands)
        r.add_put(f"{api}/applications/{{app}}/commands", self._put_commands)
        r.add_post(f"{api}/interactions/{{id}}/{{token}}/callback", self._callback)
        r.add_post(f"{api}/webhooks/{{app}}/{{token}}", self._followup)
        r.add_patch(f"{api}/webhooks/{{app}}/{{token}}/messages/{{message}}", self._edit_followup)
        r.add_get("/gateway", self._gateway)
        r.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        for held in self._holds:
            held.release.set()
        for session in list(self._sockets):
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def snowflake(self) -> str:
        return str(next(self._ids))

    # --- test controls ------------------------------------------------------------------------

    def fail(self, method: str, path: str, status: int, *, times: int = 1,
             retry_after: float | None = None) -> None:
        """Answer the next `times` requests matching `method` and the regex `path` with
        `status` (429 with the documented body and headers)."""
        self._failures.append(Failure(method, re.compile(path), status, times, retry_after))

    def hold(self, method: str, path: str, *, times: int = 1) -> Hold:
        """Carry out the next `times` requests matching `method` and the regex `path` as
        usual, but answer each only once the returned hold's `release` is set (`reached` is
        set when one is waiting). A client that gives up or dies meanwhile never learns that
        the request took effect."""
        held = Hold(method, re.compile(path), times)
        self._holds.append(held)
        return held

    async def changed(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Until `predicate` holds after some request (or WAIT seconds: a failure)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), WAIT)

    def channel_messages(self, channel_id: str | None = None) -> list[dict[str, Any]]:
        return list(self.messages.get(channel_id or self.channel_id, {}).values())

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        rx = re.compile(pattern)
        return [r for r in self.requests if r.method == method and rx.search(r.path)]

    # --- HTTP plumbing ------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request,
                          handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        if request.path == "/gateway":
            response: web.StreamResponse = await handler(request)
            return response
        try:
            return await self._handle(request, handler)
        except Exception as exc:  # a bug in the fake must fail the test, not hide in a 500
            self.errors.append(f"{request.method} {request.path}: {exc!r}")
            raise

    async def _handle(self, request: web.Request,
                      handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        body, files = await _read_body(request)
        request[BODY], request[FILES] = body, files
        record = Recorded(request.method, request.path, dict(request.query), body, files=files)
        self.requests.append(record)
        try:
            bot_route = not re.match(r"/api/v10/(interactions|webhooks)/", request.path)
            handled = False
            if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
                response = _error(401, 0, "401: Unauthorized")
            else:
                limited = self._injected(request) or (
                    self._rate_limited(request) if bot_route else None)
                handled = limited is None
                response = limited or await handler(request)
            if bot_route:
                self._bucket_headers(request, response)
            record.status = response.status
            held = self._held(request) if handled else None
            if held is not None:
                await self.changed()
                held.reached.set()
                await held.release.wait()
            return response
        finally:
            await self.changed()

    def _injected(self, request: web.Request) -> web.Response | None:
        for f in self._failures:
            if f.times > 0 and f.method == request.method and f.path.search(request.path):
                f.times -= 1
                if f.status == 429:
                    return _too_many(f.retry_after if f.retry_after is not None else 1.0,
                                     bucket=self._bucket_key(request))
                if f.status == 403:
                    return _error(403, 50013, "Missing Permissions")
                if f.status == 404:
                    return _error(404, 10003, "Unknown Channel")
                return _error(f.status, 0, f"{f.status}: injected")
        return None

    def _held(self, request: web.Request) -> Hold | None:
        for held in self._holds:
            if held.times > 0 and held.method == request.method \
                    and held.path.search(request.path):
                held.times -= 1
                return held
        return None

    @staticmethod
    def _route_template(path: str) -> str:
        # Discord buckets by route with the top-level resource id kept (channel, guild,
        # webhook); other ids are generic.
        path = re.sub(r"(/channels/\d+/messages)/\d+", r"\1/{id}", path)
        path = re.sub(r"(/applications)/\d+", r"\1/{app}", path)
        return path

    def _bucket_key(self, request: web.Request) -> str:
        return f"{request.method} {self._route_template(request.path)}"

    def _bucket(self, request: web.Request) -> Bucket:
        key = self._bucket_key(request)
        bucket = self._buckets.get(key)
        now = time.monotonic()
        if bucket is None:
            bucket = self._buckets[key] = Bucket(*self.bucket_shape, reset_at=now)
        if now >= bucket.reset_at:
            bucket.used, bucket.reset_at = 0, now + bucket.window
        return bucket

    def _rate_limited(self, request: web.Request) -> web.Response | None:
        bucket = self._bucket(request)
        if bucket.used >= bucket.limit:
            self.violations.append(f"{request.method} {request.path}: over the rate limit")
            return _too_many(bucket.reset_at - time.monotonic(), bucket=self._bucket_key(request))
        bucket.used += 1
        return None

    def _bucket_headers(self, request: web.Request, response: web.StreamResponse) -> None:
        bucket = self._bucket(request)
        after = max(bucket.reset_at - time.monotonic(), 0.0)
        response.headers.setdefault("X-RateLimit-Limit", str(bucket.limit))
        response.headers.setdefault("X-RateLimit-Remaining",
                                    str(max(bucket.limit - bucket.used, 0)))
        response.headers.setdefault("X-RateLimit-Reset", f"{time.time() + after:.3f}")
        response.headers.setdefault("X-RateLimit-Reset-After", f"{after:.3f}")
        response.headers.setdefault("X-RateLimit-Bucket", _hash(self._bucket_key(request)))

    def _bad(self, where: str, problems: list[str]) -> web.Response | None:
        if not problems:
            return None
        self.violations += [f"{where}: {p}" for p in problems]
        return _json({"code": 50035, "message": "Invalid Form Body",
                                  "errors": {"_errors": [{"code": "BASE_TYPE_BAD",
                                                          "message": p} for p in problems]}},
                                 status=400)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.violations.append(f"unexpected request {request.method} {request.path}")
        return _error(404, 0, "404: Not Found")

    # --- REST ---------------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return _json(self.user)

    async def _application(self, request: web.Request) -> web.Response:
        return _json(self.application)

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        data = fixture("gateway_bot.json")
        data["url"] = self.gateway_url
        return _json(data)

    def _message(self, channel: str, body: dict[str, Any], *, mid: str | None = None,
                 flags: int = 0, webhook: bool = False,
                 files: dict[str, Upload] | None = None) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        message = {
            "id": mid or self.snowflake(), "channel_id": channel, "author": self.user,
            "content": body.get("content") or "", "timestamp": now, "edited_timestamp": None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [],
            "attachments": self._stored(body, files or {}), "pinned": False,
            "type": 0 if not webhook else 20,
            "flags": flags,
            "embeds": [dict(e, type="rich") for e in body.get("embeds") or []],
            "components": _numbered(body.get("components") or []),
        }
        if webhook:
            message["webhook_id"] = self.app_id
            message["application_id"] = self.app_id
        return message

    def _stored(self, body: dict[str, Any], files: dict[str, Upload]) -> list[dict[str, Any]]:
        described = {str(a.get("id")): a for a in body.get("attachments") or []}
        out = []
        for name, upload in files.items():
            index = name.removeprefix("files[").removesuffix("]")
            aid = self.snowflake()
            out.append({"id": aid, "filename": upload.filename, "size": len(upload.data),
                        # Discord goes by the file name, as discord.py sends octet-stream.
                        "content_type": mimetypes.guess_type(upload.filename)[0]
                        or upload.content_type,
                        "description": described.get(index, {}).get("description"),
                        "url": f"https://cdn.discordapp.com/attachments/{aid}/{upload.filename}",
                        "proxy_url": f"https://media.discordapp.net/attachments/{aid}/"
                                     f"{upload.filename}"})
            self.uploads[aid] = upload
        return out

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        body = request[BODY]
        bad = self._bad(f"POST message to {channel}", message_problems(body)
                        + upload_problems(body, request[FILES]) + nonce_problems(body))
        if bad:
            return bad
        nonce = body.get("nonce")
        key = None
        if nonce is not None and body.get("enforce_nonce") is True:
            key = (channel, str(self.user["id"]), json.dumps(nonce))
            earlier = self._nonces.get(key)
            if earlier is not None and self.clock() - earlier[1] <= self.nonce_window:
                self.nonce_hits.append(nonce)
                existing = self.messages.get(channel, {}).get(earlier[0])
                if existing is None:  # created, then deleted: not created again
                    return _error(404, 10008, "Unknown Message")
                return _json(dict(existing, nonce=nonce))
        message = self._message(channel, body, files=request[FILES])
        message["guild_id"] = self.guild_id
        self.messages.setdefault(channel, {})[message["id"]] = message
        if key is not None:
            self._nonces[key] = (message["id"], self.clock())
        # The answer carries the nonce (as MESSAGE_CREATE does); the stored message, like
        # Discord's channel history, does not.
        return _json(message if nonce is None else dict(message, nonce=nonce))

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        body = request[BODY]
        existing = self.messages.get(channel, {}).get(mid)
        if existing is None:
            return _error(404, 10008, "Unknown Message")
        bad = self._bad(f"PATCH message {mid}", message_problems(body)
                        + upload_problems(body, request[FILES]))
        if bad:
            return bad
        updated = self._message(channel, body, mid=mid, files=request[FILES])
        updated["timestamp"] = existing["timestamp"]
        updated["edited_timestamp"] = datetime.now(UTC).isoformat()
        updated["guild_id"] = self.guild_id
        self.messages[channel][mid] = updated
        return _json(updated)

    async def _thread(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        body = request[BODY]
        if mid not in self.messages.get(channel, {}):
            return _error(404, 10008, "Unknown Message")
        name = body.get("name", "")
        problems = [] if 1 <= len(name) <= 100 else [f"thread name must be 1-100 chars: {name!r}"]
        if body.get("auto_archive_duration") not in (60, 1440, 4320, 10080):
            problems.append(f"auto_archive_duration {body.get('auto_archive_duration')!r}")
        bad = self._bad("start thread", problems)
        if bad:
            return bad
        thread = {"id": mid, "type": 11, "guild_id": self.guild_id, "parent_id": channel,
                  "name": name, "owner_id": self.app_id, "message_count": 0,
                  "member_count": 1, "rate_limit_per_user": 0, "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration":
                                      body["auto_archive_duration"], "locked": False,
                                      "archive_timestamp": datetime.now(UTC).isoformat()}}
        self.threads[mid] = thread
        return _json(thread, status=201)

    async def _put_commands(self, request: web.Request) -> web.Response:
        body = request[BODY]
        problems = [] if isinstance(body, list) and len(body) <= 100 else ["expected <= 100"]
        for command in body:
            problems += command_problems(command)
        bad = self._bad("bulk overwrite commands", problems)
        if bad:
            return bad
        guild = request.match_info.get("guild")
        stored = []
        for command in body:
            out = dict(command, id=self.snowflake(), application_id=self.app_id,
                       version=self.snowflake(), type=command.get("type", 1))
            if guild:
                out["guild_id"] = guild
            stored.append(out)
        self.commands[guild or "global"] = stored
        return _json(stored)

    # --- interactions -------------------------------------------------------------------------

    async def _callback(self, request: web.Request) -> web.Response:
        iid, token = request.match_info["id"], request.match_info["token"]
        state = self.interactions.get(token)
        if state is None or state.payload["id"] != iid:
            return _error(404, 10062, "Unknown interaction")
        if state.callback is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = request[BODY]
        kind, data = body.get("type"), body.get("data") or {}
        itype = state.payload["type"]
        allowed = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[itype]
        problems = [] if kind in allowed else [f"callback type {kind} for interaction {itype}"]
        if kind in (4, 7):
            problems += message_problems(data, interaction=True)
        if kind == 5 and data and set(data) - {"flags"}:
            problems.append(f"deferred response carries more than flags: {data!r}")
        if kind == 8:
            problems += autocomplete_problems(data)
        if kind == 9:
            problems += modal_problems(data)
        bad = self._bad(f"interaction callback {kind}", problems)
        if bad:
            return bad
        state.callback = body
        state.ephemeral = bool(int(data.get("flags", 0)) & EPHEMERAL)
        state.loading = kind == 5
        response: dict[str, Any] = {"interaction": {
            "id": iid, "type": itype, "response_message_loading": state.loading,
            "response_message_ephemeral": state.ephemeral}}
        if kind in (4, 5):
            state.original = self._message(state.payload["channel_id"], data,
                                           flags=EPHEMERAL if state.ephemeral else 0,
                                           webhook=True)
            response["interaction"]["response_message_id"] = state.original["id"]
        if kind in (4, 5, 6, 7, 8, 9):
            response["resource"] = {"type": kind}
            if kind == 4 and state.original is not None:
                response["resource"]["message"] = state.original
        return _json(response)

    def _state_for_webhook(self, request: web.Request) -> InteractionState | None:
        if request.match_info["app"] != self.app_id:
            return None
        return self.interactions.get(request.match_info["token"])

    async def _followup(self, request: web.Request) -> web.Response:
        state = self._state_for_webhook(request)
        if state is None or state.callback is None:
            return _error(404, 10015, "Unknown Webhook")
        body = request[BODY]
        bad = self._bad("follow-up", message_problems(body)
                        + upload_problems(body, request[FILES]))
        if bad:
            return bad
        if state.loading and state.original is not None:
            # Documented: right after a deferred response, this edits the loading message
            # and keeps its ephemeral state.
            state.original = self._message(state.payload["channel_id"], body,
                                           mid=state.original["id"],
                                           flags=state.original["flags"], webhook=True,
                                           files=request[FILES])
            state.loading = False
            return _json(state.original)
        flags = EPHEMERAL if int(body.get("flags", 0)) & EPHEMERAL else 0
        message = self._message(state.payload["channel_id"], body, flags=flags, webhook=True,
                                files=request[FILES])
        state.followups.append(message)
        return _json(message)

    async def _edit_followup(self, request: web.Request) -> web.Response:
        state = self._state_for_webhook(request)
        if state is None or state.callback is None:
            return _error(404, 10015, "Unknown Webhook")
        body = request[BODY]
        bad = self._bad("edit interaction message", message_problems(body, interaction=True)
                        + upload_problems(body, request[FILES]))
        if bad:
            return bad
        target = request.match_info["message"]
        if target == "@original":
            if state.original is None:
                return _error(404, 10008, "Unknown Message")
            state.original = self._message(state.payload["channel_id"], body,
                                           mid=state.original["id"],
                                           flags=state.original["flags"], webhook=True,
                                           files=request[FILES])
            state.loading = False
            return _json(state.original)
        for i, m in enumerate(state.followups):
            if m["id"] == target:
                state.followups[i] = self._message(state.payload["channel_id"], body,
                                                   mid=target, flags=m["flags"], webhook=True,
                                                   files=request[FILES])
                return _json(state.followups[i])
        return _error(404, 10008, "Unknown Message")

    # --- interaction payloads -----------------------------------------------------------------

    def _base(self, fixture_name: str, member: Member, channel_id: str | None) -> dict[str, Any]:
        payload = fixture(fixture_name)
        payload["id"] = self.snowflake()
        payload["token"] = f"itoken-{payload['id']}"
        payload["application_id"] = self.app_id
        payload["guild_id"] = self.guild_id
        payload["guild"]["id"] = self.guild_id
        channel = channel_id or self.channel_id
        payload["channel_id"] = channel
        payload["channel"]["id"] = channel
        payload["channel"]["guild_id"] = self.guild_id
        m = payload["member"]
        m["user"].update(id=member.user_id, username=member.username,
                         global_name=member.global_name)
        m.update(nick=member.nick, roles=list(member.roles), permissions=str(member.permissions))
        return payload

    def command(self, name: str, options: dict[str, str], member: Member,
                *, channel_id: str | None = None) -> dict[str, Any]:
        payload = self._base("interaction_application_command.json", member, channel_id)
        registered = {c["name"]: c for c in self.commands.get(self.guild_id, [])}
        payload["data"].update(
            name=name, id=registered.get(name, {}).get("id", self.snowflake()),
            guild_id=self.guild_id,
            options=[{"type": 3, "name": k, "value": v} for k, v in options.items()])
        return payload

    def autocomplete(self, name: str, options: dict[str, str], focused: str,
                     member: Member) -> dict[str, Any]:
        payload = self._base("interaction_autocomplete.json", member, None)
        payload["data"].update(
            name=name, guild_id=self.guild_id,
            options=[dict({"type": 3, "name": k, "value": v}, **({"focused": True}
                                                                 if k == focused else {}))
                     for k, v in options.items()])
        return payload

    def click(self, message: dict[str, Any], custom_id: str, member: Member) -> dict[str, Any]:
        payload = self._base("interaction_message_component.json", member,
                             message["channel_id"])
        payload["message"] = copy.deepcopy(message)
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return payload

    def submit(self, modal: dict[str, Any], values: dict[str, str], member: Member,
               message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A MODAL_SUBMIT for a modal the bot opened, shaped after the components it sent."""
        payload = self._base("interaction_modal_submit.json", member,
                             message["channel_id"] if message else None)
        rows = []
        for c in modal["components"]:
            inner = c["component"] if c["type"] == 18 else c["components"][0]
            answer = {"type": 4, "id": inner.get("id", 2), "custom_id": inner["custom_id"],
                      "value": values.get(inner["custom_id"], "")}
            if c["type"] == 18:
                rows.append({"type": 18, "id": c.get("id", 1), "component": answer})
            else:
                rows.append({"type": 1, "id": c.get("id", 1), "components": [answer]})
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        else:
            payload.pop("message", None)
        return payload

    async def interact(self, payload: dict[str, Any]) -> InteractionState:
        """Send an INTERACTION_CREATE to every connected gateway session."""
        state = InteractionState(payload=payload)
        self.interactions[payload["token"]] = state
        await self.dispatch("INTERACTION_CREATE", payload)
        return state

    async def answered(self, state: InteractionState,
                       predicate: Callable[[], bool] | None = None) -> InteractionState:
        await self.wait_for(predicate or (lambda: state.callback is not None))
        return state

    # --- gateway ------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        if not self._sockets:
            raise AssertionError("no gateway session is connected")
        for session in self._sockets:
            await session.send({"op": 0, "t": event, "s": session.next_seq(), "d": data})

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        if request.query.get("v") != "10" or request.query.get("encoding") != "json":
            await ws.close(code=4012, message=b"Invalid API version")
            return ws
        compress = request.query.get("compress")
        if compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"Unsupported compression")
            return ws
        session = _Session(ws, compress == "zlib-stream")
        await session.send({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op, d = frame.get("op"), frame.get("d")
            if op == 1:
                await session.send({"op": 11, "d": None, "s": None, "t": None})
            elif op == 2:
                self.identifies.append(d)
                if d.get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                ready = fixture("ready.json")
                ready["user"] = self.user
                ready["guilds"] = [{"id": self.guild_id, "unavailable": True}]
                ready["resume_gateway_url"] = self.gateway_url
                ready["application"] = {"id": self.app_id, "flags": 0}
                await session.send({"op": 0, "t": "READY", "s": session.next_seq(),
                                    "d": ready})
                if int(d.get("intents", 0)) & 1:  # GUILDS
                    await session.send({"op": 0, "t": "GUILD_CREATE", "s": session.next_seq(),
                                        "d": self.guild})
                self._sockets.append(session)
                await self.changed()
            elif op == 6:
                await session.send({"op": 9, "d": False, "s": None, "t": None})
        if session in self._sockets:
            self._sockets.remove(session)
        await self.changed()
        return ws

    @property
    def connected(self) -> int:
        return len(self._sockets)


class _Session:
    def __init__(self, ws: web.WebSocketResponse, compress: bool) -> None:
        self.ws = ws
        self.seq = 0
        self._zlib = zlib.compressobj() if compress else None

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame)
        if self._zlib is None:
            await self.ws.send_str(text)
            return
        # zlib-stream: one shared context, each message flushed with Z_SYNC_FLUSH.
        data = self._zlib.compress(text.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
        await self.ws.send_bytes(data)


async def _read_body(request: web.Request) -> tuple[Any, dict[str, Upload]]:
    """A JSON body, or a multipart one (payload_json plus files[n]) as Discord takes uploads."""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        files = {name: Upload(part.filename, part.content_type, part.file.read())
                 for name, part in form.items()
                 if isinstance(part, web.FileField) and name != "payload_json"}
        payload = form.get("payload_json")
        if isinstance(payload, web.FileField):
            payload = payload.file.read()
        if isinstance(payload, bytes | bytearray):
            payload = payload.decode("utf-8")
        return (json.loads(payload) if isinstance(payload, str) else None), files
    raw = await request.read()
    if not raw:
        return None, {}
    try:
        return json.loads(raw), {}
    except ValueError:
        return raw.decode("utf-8", "replace"), {}


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Discord answers with an `id` on every component.
    counter = itertools.count(1)
    out = []
    for row in rows:
        row = dict(row, id=next(counter))
        row["components"] = [dict(c, id=next(counter)) for c in row.get("components", [])]
        out.append(row)
    return out


def _json(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json", as Discord sends it: discord.py compares the header verbatim.
    return web.Response(body=json.dumps(data).encode("utf-8"), status=status,
                        headers={**(headers or {}), "Content-Type": "application/json"})


def _hash(key: str) -> str:
    return f"{abs(hash(key)) & 0xFFFFFFFF:08x}"


def _error(status: int, code: int, message: str) -> web.Response:
    return _json({"message": message, "code": code}, status=status)


def _too_many(retry_after: float, *, bucket: str) -> web.Response:
    body = fixture("rate_limited.json")
    body["retry_after"] = round(retry_after, 3)
    headers = {
        "Retry-After": str(max(math.ceil(retry_after), 0)),
        "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": _hash(bucket), "X-RateLimit-Scope": "user",
        # Discord's 429s come through Google's front end; discord.py treats a 429 without
        # Via as a Cloudflare ban.
        "Via": "1.1 google",
    }
    return _json(body, status=429, headers=headers)
