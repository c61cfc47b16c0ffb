"""The Discord adapter: a discord.py client that serves the desk in a Discord server.

`DiscordChat` is the outbound adapter (cards, notices, digests) and composes the other roles:
the gateway lifecycle (gateway.py), the command sync (sync.py), the interaction handlers
(interactions.py), autocomplete (autocomplete.py) and discord.py's objects (client.py).

- Application commands are made from commands.COMMANDS (integrations.chat.discord.commands) and
  synced to the configured guilds by `echtzeit discord sync`, never on start.
- Mention cards are posted and edited through discord.py's own HTTP client (its rate-limit
  handling included), with the exact payload integrations.chat.discord.render builds; a per
  channel limiter paces the relay below Discord's limits.
- The card buttons are DynamicItems whose custom ids hold the mention id ("ez:claim:42"), so a
  card sent before a restart keeps working; the Reply button opens a modal whose submission is
  handled by its custom id for the same reason.
- Every interaction is acknowledged first (defer or modal) and answered later: Discord allows
  three seconds.

The API base URL comes from DiscordSettings.api_url: discord.py builds every REST and webhook
URL from the class attribute discord.http.Route.BASE (the one `discord.http._set_api_version`
sets), so `point_at` sets it when the adapter is built. The gateway URL is asked of the API
(GET /gateway/bot, as Discord documents) before connecting.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import aiohttp
import discord
from aiolimiter import AsyncLimiter
from discord import app_commands
from discord.http import Route

from bot.cards import Card
from bot.chat import ChatError, when_allowed
from bot.reporting.digest.model import Digest
from bot.reporting.digest.text import digest_lines
from commands import Deps, Invocation
from commands.base import CommandSpec
from integrations.chat.common import Pacers
from integrations.chat.discord.autocomplete import Autocomplete
from integrations.chat.discord.client import EchtzeitClient, point_at
from integrations.chat.discord.gateway import Gateway
from integrations.chat.discord.interactions import PLATFORM, Interactions
from integrations.chat.discord.render import (
    THREAD_NAME_MAX,
    card_message,
    digest_message,
    notice_message,
    plain,
    thread_messages,
    thread_name,
)
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.discord.sync import CommandSync

log = logging.getLogger(__name__)

THREAD_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
# Discord allows about five messages per five seconds in one channel; the relay keeps below
# that on its own, and discord.py still handles whatever 429 comes back.
CHANNEL_RATE = (5, 5.0)

# What Discord's refusals about a channel mean for the operator (JSON error codes,
# developers/topics/opcodes-and-status-codes.mdx). The card is given up: only a new route or
# new permissions help, and the log names the channel.
_CHANNEL_REFUSALS = {
    10003: "Discord knows no channel {channel} (Unknown Channel): the route's channel id is "
           "wrong, or the channel was deleted",
    50001: "the bot cannot see Discord channel {channel} (Missing Access): give its role View "
           "Channel there, or route the brand to another channel",
    50013: "the bot lacks a permission in Discord channel {channel} (Missing Permissions): it "
           "needs View Channel, Send Messages and Embed Links there (with threads on, also "
           "Create Public Threads and Send Messages in Threads)",
}


def refusal(exc: discord.HTTPException, channel: int | None) -> str:
    """A permanent refusal (403, 404) in words that say what to fix, and where."""
    if channel is not None and exc.code in _CHANNEL_REFUSALS:
        return _CHANNEL_REFUSALS[exc.code].format(channel=channel)
    where = f" in channel {channel}" if channel is not None else ""
    return f"Discord refused{where}: {exc.status} {exc.text} (code {exc.code})"


class DiscordChat:
    """The ChatAdapter (cards) and Service (the gateway connection) for Discord."""

    platform = PLATFORM
    name = PLATFORM

    def __init__(self, settings: DiscordSettings, deps: Deps | None, *,
                 admins: Collection[str] = (), responders: Collection[str] = (),
                 approvers: Collection[str] = (),
                 channel_rate: tuple[int, float] = CHANNEL_RATE, **client_options: Any) -> None:
        """`admins`, `responders` and `approvers`: user ids that administer, answer or approve
        whatever their roles (ECHTZEIT_ADMINS, ECHTZEIT_RESPONDERS, ECHTZEIT_APPROVERS)."""
        point_at(settings.api_url)
        self.settings = settings
        self.deps = deps
        self.ready = asyncio.Event()
        self._rate = channel_rate
        self._pace = Pacers[int, AsyncLimiter](lambda: AsyncLimiter(*self._rate))
        app_id = settings.application_id
        if app_id and app_id.isdigit():
            client_options.setdefault("application_id", int(app_id))
        self.client = EchtzeitClient(self, **client_options)
        self.gateway = Gateway(settings, self.client)
        self.interactions = Interactions(settings, self._deps, self.update_card,
                                         admins=admins, responders=responders,
                                         approvers=approvers)
        self.autocomplete = Autocomplete(self._deps)
        self.sync = CommandSync(self.client.tree, self.login, self.on_command,
                                self.autocomplete.suggesters())
        self.commands: dict[str, app_commands.Command[Any, ..., None]] = self.sync.commands

    def _deps(self) -> Deps:
        if self.deps is None:
            raise RuntimeError("this Discord client was built without the desk (sync only)")
        return self.deps

    # --- connection (Service) ---------------------------------------------------------------

    async def login(self) -> None:
        """Log in over HTTP: enough to send cards and sync commands (see Gateway.login)."""
        await self.gateway.login()

    async def close(self) -> None:
        await self.gateway.close()

    async def serve(self, stop: asyncio.Event) -> None:
        """Run the gateway connection until `stop` is set (see Gateway.serve)."""
        await self.gateway.serve(stop)

    async def sync_commands(self, guild_ids: Iterable[str]) -> dict[str, list[str]]:
        """Register the commands with Discord (see CommandSync.sync)."""
        return await self.sync.sync(guild_ids)

    # --- cards (ChatAdapter) ----------------------------------------------------------------

    def _channel_id(self, channel: str) -> int:
        value = channel.strip().lstrip("#")
        if not value.isdigit():
            raise ChatError(f"Discord channel {channel!r} is not a channel id (enable developer "
                            "mode, right-click the channel, Copy Channel ID)", permanent=True)
        return int(value)

    async def _ready_for_rest(self) -> None:
        # Cards need only the HTTP API: the relay may run before the gateway is up.
        try:
            await self.login()
        except discord.LoginFailure as exc:
            # Not permanent: the relay keeps the cards until the operator fixes the token.
            raise ChatError("Discord refused the token (ECHTZEIT_DISCORD_TOKEN)") from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ChatError(f"cannot log in to Discord: {exc}") from exc

    async def _call(self, action: Callable[[], Awaitable[Any]], *,
                    channel: int | None = None) -> Any:
        """Run one REST call about `channel` and turn discord.py's errors into ChatError."""
        try:
            return await action()
        except discord.RateLimited as exc:
            raise ChatError(f"rate limited for {exc.retry_after:.1f}s",
                            retry_after=exc.retry_after) from exc
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ChatError(refusal(exc, channel), permanent=True) from exc
        except discord.DiscordServerError as exc:
            raise ChatError(f"Discord server error {exc.status}") from exc
        except discord.HTTPException as exc:
            if exc.status == 429:
                wait = exc.response.headers.get("Retry-After") if exc.response else None
                raise ChatError("rate limited", retry_after=float(wait) if wait else None) \
                    from exc
            # 401: a token problem the operator can fix; retrying later can then succeed.
            permanent = 400 <= exc.status < 500 and exc.status != 401
            raise ChatError(f"Discord said {exc.status}: {exc.text}", permanent=permanent) \
                from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ChatError(f"Discord unreachable: {type(exc).__name__}: {exc}") from exc

    async def send_card(self, channel: str, card: Card) -> str:
        return await self._send_card(channel, card, None)

    async def send_card_with_token(self, channel: str, card: Card, *, token: str) -> str:
        """bot.chat.IdempotentChat: the token goes as the message nonce with enforce_nonce, so
        Discord answers a repeated post of the same card (within a few minutes) with the message
        it already created instead of creating a second one."""
        return await self._send_card(channel, card, token)

    async def find_sent(self, channel: str, tokens: Sequence[str], *,
                        since: datetime, threads: Sequence[str] = ()) -> dict[str, str]:
        """Discord does not return a message's nonce in the channel history: nothing is found
        here, and the resend with the same enforced nonce is what deduplicates (after a crash
        longer than Discord's nonce window, a card can appear twice)."""
        return {}

    async def send_card_in_thread(self, channel: str, parent_ref: str, card: Card, *,
                                  token: str) -> str:
        """bot.chat.ThreadedChat: a story's member as a reply to its parent card in the same
        channel (a message reference, so the card stays editable like any other)."""
        if not parent_ref.isdigit():
            raise ChatError(f"{parent_ref!r} is not a Discord message id", permanent=True)
        return await self._send_card(channel, card, token, reply_to=parent_ref)

    async def _send_card(self, channel: str, card: Card, token: str | None,
                         reply_to: str | None = None) -> str:
        channel_id = self._channel_id(channel)
        await self._ready_for_rest()
        body = card_message(card)
        if token is not None:
            body = {**body, "nonce": token, "enforce_nonce": True}
        if reply_to is not None:
            # A reply that may outlive a deleted parent card (fail_if_not_exists false).
            body = {**body, "message_reference": {"message_id": reply_to,
                                                  "fail_if_not_exists": False}}
        data = await self._post(channel_id, body)
        message_id = str(data["id"])
        http = self.client.http
        if self.settings.threads and reply_to is None:
            # The card is out: from here on nothing may fail the delivery, or the relay would
            # post the card a second time.
            try:
                async with self._pace(channel_id):
                    await self._call(lambda: http.start_thread_with_message(
                        channel_id, message_id, name=thread_name(card),
                        auto_archive_duration=THREAD_ARCHIVE_MINUTES), channel=channel_id)
            except ChatError as exc:
                log.warning("discord: no thread for card %s in %s: %s", message_id, channel_id,
                            exc)
        return message_id

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        channel_id = self._channel_id(channel)
        if not message_ref.isdigit():
            raise ChatError(f"{message_ref!r} is not a Discord message id", permanent=True)
        await self._ready_for_rest()
        route = Route("PATCH", "/channels/{channel_id}/messages/{message_id}",
                      channel_id=channel_id, message_id=int(message_ref))
        http = self.client.http
        async with self._pace(channel_id):
            await self._call(lambda: http.request(route, json=card_message(card)),
                             channel=channel_id)

    async def _post(self, channel_id: int, body: dict[str, Any],
                    upload: tuple[str, bytes] | None = None) -> dict[str, Any]:
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        http = self.client.http
        if upload is None:
            async with self._pace(channel_id):
                data: dict[str, Any] = await self._call(
                    lambda: http.request(route, json=body), channel=channel_id)
            return data
        # An upload goes as multipart/form-data: the body as payload_json, the file as files[0].
        name, blob = upload
        form: list[dict[str, Any]] = [
            {"name": "payload_json", "value": json.dumps(body),
             "content_type": "application/json"},
            {"name": "files[0]", "value": blob, "filename": name,
             "content_type": "application/octet-stream"},
        ]
        async with self._pace(channel_id):
            data = await self._call(lambda: http.request(route, form=form), channel=channel_id)
        return data

    async def direct(self, person: str, text: str) -> str:
        """bot.chat.DirectMessenger: the person's DM channel (Create DM, the same channel each
        time), then the notice in it. A member who allows no direct messages is a permanent
        refusal (50007)."""
        if not person.isdigit():
            raise ChatError(f"{person!r} is not a Discord user id", permanent=True)
        await self._ready_for_rest()
        http = self.client.http
        dm = await self._call(lambda: http.start_private_message(int(person)))
        data = await self._post(int(dm["id"]), notice_message(text))
        return str(data["id"])

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        """bot.chat.Notifier: an SLA reminder or spike alert. Its detail lines go into a thread
        under it when threads are on, else below the text."""
        channel_id = self._channel_id(channel)
        await self._ready_for_rest()
        threaded = bool(thread) and self.settings.threads
        data = await self._post(channel_id, notice_message(
            text, person=person, lines=() if threaded else thread))
        ref = str(data["id"])
        if threaded:
            try:
                http = self.client.http
                async with self._pace(channel_id):
                    await self._call(lambda: http.start_thread_with_message(
                        channel_id, ref, name=plain(text, THREAD_NAME_MAX) or "details",
                        auto_archive_duration=THREAD_ARCHIVE_MINUTES), channel=channel_id)
                for body in thread_messages(thread):
                    await when_allowed(partial(self._post, int(ref), body))
            except ChatError as exc:  # the notice itself is out: never send it twice
                log.warning("discord: thread under notice %s incomplete: %s", ref, exc)
        return ref

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str:
        """bot.chat.DigestSink: the digest as embeds with its chart."""
        channel_id = self._channel_id(channel)
        await self._ready_for_rest()
        now = self.deps.now() if self.deps is not None else datetime.now(UTC)
        name = re.sub(r"[^\w.-]", "_", f"digest-{digest.periods[0].label.split(' ')[0]}.png")
        body = digest_message(digest.title, digest_lines(digest, now=now), digest.overdue,
                              chart_name=name,
                              chart_alt=f"Mentions per hour by sentiment and first-response "
                                        f"times, {digest.periods[0].label}")
        data = await self._post(channel_id, body, upload=(name, chart_png))
        return str(data["id"])

    # --- interactions -----------------------------------------------------------------------

    def invocation(self, interaction: discord.Interaction[Any], args: str = "") -> Invocation:
        return self.interactions.invocation(interaction, args)

    async def on_command(self, interaction: discord.Interaction[Any], spec: CommandSpec,
                         args: str) -> None:
        await self.interactions.on_command(interaction, spec, args)

    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        mention_id: int) -> None:
        await self.interactions.on_button(interaction, action, mention_id)

    async def on_modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        await self.interactions.on_modal_submit(interaction)
