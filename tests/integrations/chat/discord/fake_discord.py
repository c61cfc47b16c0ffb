"""A local stand-in for Discord: the HTTP API (v10) and the gateway, on 127.0.0.1.

It speaks the documented shapes (sample payloads in tests/fixtures/discord/) and can be told to
fail or hold the next matching requests. The gateway says HELLO, takes IDENTIFY, sends READY
and GUILD_CREATE (zlib-stream compressed when asked), acknowledges heartbeats, and dispatches
INTERACTION_CREATE (and CHANNEL_CREATE / CHANNEL_UPDATE for channels a test adds or changes).

The rules it enforces, each with its number and where Discord states it (discord/
discord-api-docs @ 2026-08; the parts of the fake that apply them say more):

- What a bot sends (discord_rules.py): message, embed, component, command, modal and
  autocomplete limits (developers/resources/message.mdx, developers/components/reference.mdx,
  developers/interactions/*.mdx); broken, it is 400 Invalid Form Body (50035) and a violation.
  Our own rule besides: allowed_mentions.parse is [] on every message.
- Global rate limit (fake_ratelimits.py): GLOBAL_LIMIT = 50 requests per GLOBAL_WINDOW = 1 s
  per bot token over all routes ("All bots can make up to 50 requests per second to our API",
  developers/topics/rate-limits.mdx, Global Rate Limit), answered with 429,
  {"message": "You are being rate limited.", "retry_after": <s>, "global": true}, Retry-After,
  X-RateLimit-Global: true, X-RateLimit-Scope: global (same page, "Example Exceeded Global Rate
  Limit Response"). The interaction callback and the interaction webhooks are exempt
  ("Interaction endpoints are not bound to the bot's Global Rate Limit", same page; the list in
  developers/interactions/receiving-and-responding.mdx, Endpoints). Recorded in
  `globally_limited`, not a violation: nothing announces the limit beforehand.
- Per-route buckets (fake_ratelimits.py): ROUTE_LIMIT = 50 per second per route and top-level
  resource, announced in X-RateLimit-* headers (rate-limits.mdx, Header Format); the number is
  the fake's, Discord publishes none. Going over a bucket the headers described is a violation.
- Channels (fake_guild.py): the guild's channels are GUILD_CREATE's (acme-care, acme-escalations,
  care-team-only, announcements) plus the bot's threads and channels a test adds; the bot's
  permissions come from @everyone, its managed role and the channel's overwrites
  (developers/topics/permissions.mdx). An unknown channel answers 404 Unknown Channel (10003);
  one without VIEW_CHANNEL 403 Missing Access (50001); posting without SEND_MESSAGES (in a
  thread SEND_MESSAGES_IN_THREADS, developers/resources/message.mdx, Create Message,
  Limitations) or starting a thread without CREATE_PUBLIC_THREADS 403 Missing Permissions
  (50013) (codes: developers/topics/opcodes-and-status-codes.mdx). Refusals, not violations:
  they come from how a server is set up, and the adapter has to deal with them.
- Direct messages (developers/resources/user.mdx, Create DM): POST /users/@me/channels with a
  `recipient_id` (a snowflake, else 400 Invalid Form Body 50035) opens a DM channel (type 1,
  `recipients`), the same one for the same user; a message to it needs no guild permission,
  but a member who closed their DMs (`dm_closed`) makes it 403 Cannot send messages to this
  user (50007), as Discord answers (opcodes-and-status-codes.mdx).
- Interaction deadlines (fake_interactions.py), on `clock` from the dispatch: the initial
  response within INITIAL_RESPONSE_SECONDS = 3 ("you must send an initial response within 3
  seconds of receiving the event", receiving-and-responding.mdx, Interaction Callback), else
  404 Unknown interaction (10062) and a violation; an interaction never acknowledged by the time
  the fake closes is a violation too. The token for follow-ups and edits lasts TOKEN_SECONDS =
  15 minutes ("Interaction tokens are valid for 15 minutes", same page, Followup Messages),
  after that 401 Invalid Webhook Token (50027), as after a missed 3-second deadline ("the token
  will be invalidated").
- Create Message honours `enforce_nonce` (developers/resources/message.mdx, Create Message:
  "If true and nonce is present, it will be checked for uniqueness in the past few minutes.
  If another message was created by the same author with the same nonce, that message will be
  returned and no new message will be created"; a nonce is at most 25 characters). Discord
  names no exact window: NONCE_WINDOW = 180 s is the fake's choice, on `clock`. A nonce whose
  message was deleted meanwhile answers 404 Unknown Message (not a new message), as Discord's
  engineer described it in discord/discord-api-docs#6647.

- Pins (developers/resources/message.mdx, Pin Message / Unpin Message): PUT and DELETE
  /channels/{channel.id}/messages/pins/{message.id} need PIN_MESSAGES (1 << 51; split from
  MANAGE_MESSAGES in 2025, whose grace period for pinning ended in January 2026: MANAGE_MESSAGES
  alone is 403 Missing Permissions, 50013 here), answer 204 with no body, 404 Unknown Message
  (10008) for a message not in the channel, and 400 Maximum number of pinned messages reached
  (30003) past MAX_PINS = 250 per channel. Pinning posts the system message
  CHANNEL_PINNED_MESSAGE (type 6) that references the pinned one; an edit keeps `pinned`.
Clocks: `clock` (nonces, interaction deadlines) and `rate_clock` (rate-limit windows) are
time.monotonic unless a test replaces them to step past a window without waiting.
`hold` carries a request out but keeps its answer back: the answer a client never gets because
it gave up or died.

Anything the fake does not know answers 404 and is recorded in `violations`, so an unexpected
request fails the test that made it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import mimetypes
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.integrations.chat.discord.discord_rules import (
    command_problems,
    message_problems,
    nonce_problems,
    upload_problems,
)
from tests.integrations.chat.discord.fake_guild import (
    CREATE_PUBLIC_THREADS,
    MISSING_PERMISSIONS,
    PIN_MESSAGES,
    UNKNOWN_CHANNEL,
    Guild,
    Refusal,
)
from tests.integrations.chat.discord.fake_http import (
    BODY,
    FILES,
    FIXTURES,
    Upload,
    error,
    fixture,
    json_response,
    read_body,
)
from tests.integrations.chat.discord.fake_interactions import (
    FakeInteractions,
    InteractionState,
    Member,
)
from tests.integrations.chat.discord.fake_ratelimits import (
    ROUTE_LIMIT,
    GlobalLimit,
    RouteBuckets,
    global_too_many,
    interaction_route,
    route_too_many,
)

__all__ = ["FIXTURES", "TOKEN", "FakeDiscord", "InteractionState", "Member", "Upload"]

TOKEN = "test-bot-token.abc.def"
WAIT = 10.0  # seconds a test waits for the bot before it fails
NONCE_WINDOW = 180.0  # seconds; Discord documents "the past few minutes"
MAX_PINS = 250  # pinned messages per channel


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    files: dict[str, Upload] = field(default_factory=dict)
    answer: Any = None  # the JSON body of the answer (None when it had none)


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


class FakeDiscord(FakeInteractions):
    def __init__(self, *, token: str = TOKEN, bucket: tuple[int, float] = ROUTE_LIMIT) -> None:
        self.token = token
        self.user = fixture("user_me.json")
        self.application = fixture("application_me.json")
        self.guild = fixture("guild_create.json")
        self.app_id = self.application["id"]
        self.guild_id = self.guild["id"]
        self.channel_id = self.guild["channels"][0]["id"]
        # The channels of GUILD_CREATE, the bot's threads, and its permissions in each.
        self.server = Guild(self.guild, bot_id=str(self.user["id"]))
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.errors: list[str] = []
        self.messages: dict[str, dict[str, dict[str, Any]]] = {}
        self.threads = self.server.threads
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.interactions: dict[str, InteractionState] = {}
        self.uploads: dict[str, Upload] = {}
        self.identifies: list[dict[str, Any]] = []
        self._failures: list[Failure] = []
        self._holds: list[Hold] = []
        # (channel, author id, nonce as JSON) -> (message id, when) for enforce_nonce.
        self._nonces: dict[tuple[str, str, str], tuple[str, float]] = {}
        self.nonce_window = NONCE_WINDOW
        # Minutes-long windows (nonces, interaction deadlines) count on `clock`, rate limits on
        # `rate_clock` (fake_ratelimits.py says why): tests replace either to step past them.
        self.clock: Callable[[], float] = time.monotonic
        self.rate_clock: Callable[[], float] = time.monotonic
        self.nonce_hits: list[Any] = []  # nonces answered with the earlier message
        self.routes = RouteBuckets(bucket, lambda: self.rate_clock())
        self.global_limit = GlobalLimit(lambda: self.rate_clock())
        self.globally_limited: list[Recorded] = []  # requests answered with the global 429
        self._ids = itertools.count(1_310_000_000_000_000_000)
        self.dm_channels: dict[str, str] = {}  # DM channel id -> the user's id
        self.dm_closed: set[str] = set()  # users who take no direct messages from the bot
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
        r.add_post(f"{api}/users/@me/channels", self._create_dm)
        r.add_get(f"{api}/oauth2/applications/@me", self._application)
        r.add_get(f"{api}/gateway/bot", self._gateway_bot)
        r.add_post(f"{api}/channels/{{channel}}/messages", self._create_message)
        r.add_patch(f"{api}/channels/{{channel}}/messages/{{message}}", self._edit_message)
        r.add_post(f"{api}/channels/{{channel}}/messages/{{message}}/threads", self._thread)
        r.add_put(f"{api}/channels/{{channel}}/messages/pins/{{message}}", self._pin)
        r.add_delete(f"{api}/channels/{{channel}}/messages/pins/{{message}}", self._unpin)
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
        """Stop serving. An interaction the bot never acknowledged is a violation now."""
        self.violations += self.unacknowledged()
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

    def channel_named(self, name: str) -> str:
        """The id of the guild's channel `name` (tests/fixtures/discord/guild_create.json:
        acme-care, acme-escalations, care-team-only which the bot cannot see, announcements
        where it may not post)."""
        return self.server.channel_named(name)

    async def add_channel(self, name: str, *,
                          overwrites: list[dict[str, Any]] | None = None) -> str:
        """Make a text channel in the guild (CHANNEL_CREATE to connected sessions)."""
        channel = self.server.add_channel(self.snowflake(), name, overwrites=overwrites)
        if self._sockets:
            await self.dispatch("CHANNEL_CREATE", channel)
        return str(channel["id"])

    async def overwrite(self, channel_id: str, *, allow: int = 0, deny: int = 0,
                        target: str | None = None) -> None:
        """Set a permission overwrite on a channel, for the bot itself unless `target` names a
        role (CHANNEL_UPDATE to connected sessions)."""
        channel = self.server.overwrite(channel_id, target or self.server.bot_id, allow=allow,
                                        deny=deny, member=target is None)
        if self._sockets:
            await self.dispatch("CHANNEL_UPDATE", dict(channel, guild_id=self.guild_id))

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
        body, files = await read_body(request)
        request[BODY], request[FILES] = body, files
        record = Recorded(request.method, request.path, dict(request.query), body, files=files)
        self.requests.append(record)
        try:
            # Interaction callbacks and webhooks go with the interaction's token: no bot token,
            # no global limit (fake_ratelimits.py).
            bot_route = not interaction_route(request.path)
            handled = False
            if bot_route and request.headers.get("Authorization") != f"Bot {self.token}":
                response = error(401, 0, "401: Unauthorized")
            else:
                limited = self._injected(request) or (
                    self._rate_limited(request, record) if bot_route else None)
                handled = limited is None
                response = limited or await handler(request)
            if bot_route and response.headers.get("X-RateLimit-Scope") != "global":
                self.routes.headers(self._bucket_key(request), response)
            record.status = response.status
            if isinstance(response, web.Response) and isinstance(response.body, bytes) \
                    and response.content_type == "application/json":
                record.answer = json.loads(response.body)
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
                    return self._too_many(request, f.retry_after
                                          if f.retry_after is not None else 1.0)
                if f.status == 403:
                    return self._refuse(MISSING_PERMISSIONS)
                if f.status == 404:
                    return self._refuse(UNKNOWN_CHANNEL)
                return error(f.status, 0, f"{f.status}: injected")
        return None

    def _held(self, request: web.Request) -> Hold | None:
        for held in self._holds:
            if held.times > 0 and held.method == request.method \
                    and held.path.search(request.path):
                held.times -= 1
                return held
        return None

    def _bucket_key(self, request: web.Request) -> str:
        return self.routes.key(request.method, request.path)

    def _too_many(self, request: web.Request, retry_after: float) -> web.Response:
        key = self._bucket_key(request)
        return route_too_many(retry_after, bucket=key, limit=self.routes.bucket(key).limit,
                              body=fixture("rate_limited.json"))

    def _rate_limited(self, request: web.Request, record: Recorded) -> web.Response | None:
        """The global limit first (a request it refuses costs no route bucket), then the
        route's bucket. Going over a bucket is a violation: its headers told the bot how many
        were left. The global limit is announced nowhere, so its 429 is only recorded."""
        wait = self.global_limit.take()
        if wait is not None:
            self.globally_limited.append(record)
            return global_too_many(wait)
        wait = self.routes.take(self._bucket_key(request))
        if wait is not None:
            self.violations.append(f"{request.method} {request.path}: over the rate limit")
            return self._too_many(request, wait)
        return None

    @staticmethod
    def _refuse(refusal: Refusal) -> web.Response:
        return error(refusal.status, refusal.code, refusal.message)

    def _bad(self, where: str, problems: list[str]) -> web.Response | None:
        if not problems:
            return None
        self.violations += [f"{where}: {p}" for p in problems]
        return json_response({"code": 50035, "message": "Invalid Form Body",
                              "errors": {"_errors": [{"code": "BASE_TYPE_BAD",
                                                      "message": p} for p in problems]}},
                             status=400)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.violations.append(f"unexpected request {request.method} {request.path}")
        return error(404, 0, "404: Not Found")

    # --- REST ---------------------------------------------------------------------------------

    async def _me(self, request: web.Request) -> web.Response:
        return json_response(self.user)

    async def _application(self, request: web.Request) -> web.Response:
        return json_response(self.application)

    async def _gateway_bot(self, request: web.Request) -> web.Response:
        data = fixture("gateway_bot.json")
        data["url"] = self.gateway_url
        return json_response(data)

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

    async def _create_dm(self, request: web.Request) -> web.Response:
        recipient = str(request[BODY].get("recipient_id", ""))
        if not re.fullmatch(r"[0-9]{17,20}", recipient):
            bad = self._bad("POST /users/@me/channels", [f"recipient_id {recipient!r}"])
            assert bad is not None
            return bad
        cid = next((c for c, user in self.dm_channels.items() if user == recipient), None)
        if cid is None:
            cid = self.snowflake()
            self.dm_channels[cid] = recipient
        return json_response({"id": cid, "type": 1, "last_message_id": None, "flags": 0,
                              "recipients": [{"id": recipient, "username": f"user{recipient[-4:]}",
                                              "discriminator": "0", "global_name": None,
                                              "avatar": None}]})

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        if channel in self.dm_channels:
            return await self._create_dm_message(request, channel)
        refused = self.server.to_post(channel)
        if refused:
            return self._refuse(refused)
        body = request[BODY]
        bad = self._bad(f"POST message to {channel}", message_problems(body)
                        + upload_problems(body, request[FILES]) + nonce_problems(body))
        if bad:
            return bad
        reference = body.get("message_reference")
        if reference is not None:
            # Create Message: a reply names a message; unless fail_if_not_exists is false, an
            # unknown one is refused (400, 50035 "Unknown message").
            ref_id = str(reference.get("message_id") or "") if isinstance(reference, dict) else ""
            ref_channel = str(reference.get("channel_id") or channel) if ref_id else channel
            if not ref_id:
                self.violations.append("POST message reply: message_reference without "
                                       "message_id")
                return error(400, 50035, "Invalid Form Body")
            if ref_id not in self.messages.get(ref_channel, {}) and \
                    reference.get("fail_if_not_exists", True) is not False:
                return error(400, 50035, "Invalid Form Body: Unknown message")
        nonce = body.get("nonce")
        key = None
        if nonce is not None and body.get("enforce_nonce") is True:
            key = (channel, str(self.user["id"]), json.dumps(nonce))
            earlier = self._nonces.get(key)
            if earlier is not None and self.clock() - earlier[1] <= self.nonce_window:
                self.nonce_hits.append(nonce)
                existing = self.messages.get(channel, {}).get(earlier[0])
                if existing is None:  # created, then deleted: not created again
                    return error(404, 10008, "Unknown Message")
                return json_response(dict(existing, nonce=nonce))
        message = self._message(channel, body, files=request[FILES])
        message["guild_id"] = self.guild_id
        if reference is not None:  # a REPLY message (type 19) with its reference
            message["type"] = 19
            message["message_reference"] = {"type": 0, "message_id": ref_id,
                                            "channel_id": ref_channel,
                                            "guild_id": self.guild_id}
        self.messages.setdefault(channel, {})[message["id"]] = message
        if key is not None:
            self._nonces[key] = (message["id"], self.clock())
        # The answer carries the nonce (as MESSAGE_CREATE does); the stored message, like
        # Discord's channel history, does not.
        return json_response(message if nonce is None else dict(message, nonce=nonce))

    async def _create_dm_message(self, request: web.Request, channel: str) -> web.Response:
        body = request[BODY]
        bad = self._bad(f"POST message to DM {channel}", message_problems(body)
                        + upload_problems(body, request[FILES]))
        if bad:
            return bad
        if self.dm_channels[channel] in self.dm_closed:
            return error(403, 50007, "Cannot send messages to this user")
        message = self._message(channel, body, files=request[FILES])
        self.messages.setdefault(channel, {})[message["id"]] = message
        return json_response(message)

    def direct_messages(self, user_id: str) -> list[dict[str, Any]]:
        """The bot's direct messages to one user."""
        return [m for cid, user in self.dm_channels.items() if user == user_id
                for m in self.messages.get(cid, {}).values()]

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        refused = self.server.refusal(channel)  # the author edits: seeing the channel is enough
        if refused:
            return self._refuse(refused)
        body = request[BODY]
        existing = self.messages.get(channel, {}).get(mid)
        if existing is None:
            return error(404, 10008, "Unknown Message")
        bad = self._bad(f"PATCH message {mid}", message_problems(body)
                        + upload_problems(body, request[FILES]))
        if bad:
            return bad
        updated = self._message(channel, body, mid=mid, files=request[FILES])
        updated["timestamp"] = existing["timestamp"]
        updated["pinned"] = existing["pinned"]
        updated["edited_timestamp"] = datetime.now(UTC).isoformat()
        updated["guild_id"] = self.guild_id
        self.messages[channel][mid] = updated
        return json_response(updated)

    def pinned(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.get(channel, {}).values() if m["pinned"]]

    async def _pin(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        refused = self.server.refusal(channel, PIN_MESSAGES)
        if refused:
            return self._refuse(refused)
        existing = self.messages.get(channel, {}).get(mid)
        if existing is None:
            return error(404, 10008, "Unknown Message")
        if existing["pinned"]:
            return web.Response(status=204)
        if len(self.pinned(channel)) >= MAX_PINS:
            return error(400, 30003, "Maximum number of pins reached (250)")
        existing["pinned"] = True
        note = self._message(channel, {})
        note.update(type=6, guild_id=self.guild_id, message_reference={
            "type": 0, "channel_id": channel, "message_id": mid, "guild_id": self.guild_id})
        self.messages[channel][note["id"]] = note
        return web.Response(status=204)

    async def _unpin(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        refused = self.server.refusal(channel, PIN_MESSAGES)
        if refused:
            return self._refuse(refused)
        existing = self.messages.get(channel, {}).get(mid)
        if existing is None:
            return error(404, 10008, "Unknown Message")
        existing["pinned"] = False
        return web.Response(status=204)

    async def _thread(self, request: web.Request) -> web.Response:
        channel, mid = request.match_info["channel"], request.match_info["message"]
        refused = self.server.refusal(channel, CREATE_PUBLIC_THREADS)
        if refused:
            return self._refuse(refused)
        body = request[BODY]
        if mid not in self.messages.get(channel, {}):
            return error(404, 10008, "Unknown Message")
        name = body.get("name", "")
        problems = [] if 1 <= len(name) <= 100 else [f"thread name must be 1-100 chars: {name!r}"]
        if body.get("auto_archive_duration") not in (60, 1440, 4320, 10080):
            problems.append(f"auto_archive_duration {body.get('auto_archive_duration')!r}")
        bad = self._bad("start thread", problems)
        if bad:
            return bad
        thread = {"id": mid, "type": 11, "guild_id": self.guild_id, "parent_id": channel,
                  "name": name, "owner_id": self.app_id, "message_count": 0,
                  "member_count": 1, "total_message_sent": 0, "rate_limit_per_user": 0,
                  "flags": 0,
                  "thread_metadata": {"archived": False, "auto_archive_duration":
                                      body["auto_archive_duration"], "locked": False,
                                      "archive_timestamp": datetime.now(UTC).isoformat()}}
        self.threads[mid] = thread
        return json_response(thread, status=201)

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
        return json_response(stored)

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


def _numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Discord answers with an `id` on every component.
    counter = itertools.count(1)
    out = []
    for row in rows:
        row = dict(row, id=next(counter))
        row["components"] = [dict(c, id=next(counter)) for c in row.get("components", [])]
        out.append(row)
    return out
