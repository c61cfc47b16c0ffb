"""The Discord adapter: a discord.py client that serves the desk in a Discord server.

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

The API base URL comes from settings.discord_api_url: discord.py builds every REST and webhook
URL from the class attribute discord.http.Route.BASE (the one `discord.http._set_api_version`
sets), so `point_at` sets it when the adapter is built. The gateway URL is asked of the API
(GET /gateway/bot, as Discord documents) before connecting.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal

import aiohttp
import discord
import yarl
from aiolimiter import AsyncLimiter
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.cards import Card, card_for
from bot.chat import ChatError, when_allowed
from bot.digest import Digest, digest_lines
from bot.settings import Settings
from bot.store import OPEN_STATUSES, NotFound
from bot.untrusted import truncate
from commands import BY_NAME, COMMANDS, Deps, Invocation, Result, Role, run
from commands.base import CommandSpec
from integrations.chat.discord.commands import OptionSpec, Suggester, build_command
from integrations.chat.discord.render import (
    BUTTONS,
    CHOICE_NAME_MAX,
    CHOICE_VALUE_MAX,
    CHOICES_MAX,
    CUSTOM_ID_PATTERN,
    REPLY_INPUT_ID,
    REPLY_MODAL_PATTERN,
    REPLY_MODAL_PREFIX,
    TEXT_INPUT_MAX,
    THREAD_NAME_MAX,
    card_message,
    custom_id,
    digest_message,
    notice_message,
    plain,
    reply_modal_placeholder,
    reply_modal_title,
    result_embeds,
    thread_messages,
    thread_name,
)

log = logging.getLogger(__name__)

PLATFORM = "discord"
NO_PINGS = discord.AllowedMentions.none()
THREAD_ARCHIVE_MINUTES: Literal[60, 1440, 4320, 10080] = 1440
# Discord allows about five messages per five seconds in one channel; the relay keeps below
# that on its own, and discord.py still handles whatever 429 comes back.
CHANNEL_RATE = (5, 5.0)
# discord.py sleeps through short 429s itself; longer ones come back as ChatError(retry_after)
# so that the relay reschedules instead of holding a channel (discord.py's minimum is 30 s).
MAX_RATELIMIT_WAIT = 30.0
FILES_MAX = 10  # attachments per message
ATTACHMENT_ALT_MAX = 1024

_MODAL_ID = re.compile(REPLY_MODAL_PATTERN)


def point_at(api_url: str) -> None:
    """Make discord.py talk to `api_url` (settings.discord_api_url) instead of discord.com."""
    Route.BASE = api_url.rstrip("/")


# --- who may act ------------------------------------------------------------------------------


def _perm_name(value: str) -> str | None:
    name = value.strip().lower().replace(" ", "_").replace("-", "_")
    return name if name in discord.Permissions.VALID_FLAGS else None


def _matches(setting: str | None, *, role_ids: Iterable[int], role_names: Iterable[str],
             permissions: discord.Permissions) -> bool:
    """A configured role: its id, its name (any case), or a permission's name such as
    "Manage Messages"."""
    if not setting:
        return False
    value = setting.strip()
    if value.isdigit():
        return int(value) in set(role_ids)
    if value.casefold() in {n.casefold() for n in role_names}:
        return True
    perm = _perm_name(value)
    return perm is not None and bool(getattr(permissions, perm))


def member_roles(settings: Settings, *, user_id: str, role_ids: Iterable[int],
                 role_names: Iterable[str], permissions: discord.Permissions) -> frozenset[Role]:
    """What a member may do. Admins: ECHTZEIT_ADMINS, the discord_admin_role, or the
    Administrator / Manage Server permission. Responders: ECHTZEIT_RESPONDERS, the
    discord_responder_role, or (when no role is configured) the Manage Messages permission."""
    ids, names = list(role_ids), list(role_names)
    roles: set[Role] = set()
    if (user_id in settings.admins or permissions.administrator or permissions.manage_guild
            or _matches(settings.discord_admin_role, role_ids=ids, role_names=names,
                        permissions=permissions)):
        roles.add(Role.ADMIN)
    if settings.discord_responder_role:
        responder = _matches(settings.discord_responder_role, role_ids=ids, role_names=names,
                             permissions=permissions)
    else:
        responder = permissions.manage_messages
    if responder or user_id in settings.responders or Role.ADMIN in roles:
        roles.add(Role.RESPONDER)
    return frozenset(roles)


def may(spec: CommandSpec, roles: frozenset[Role]) -> bool:
    return spec.role is None or spec.role in roles or Role.ADMIN in roles


def quote(value: str) -> str:
    return f'"{value}"' if " " in value and '"' not in value else value


# --- discord.py objects -----------------------------------------------------------------------


class CardButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=CUSTOM_ID_PATTERN):
    """A card's button, rebuilt from its custom id on every click (also after a restart)."""

    def __init__(self, action: str, mention_id: int) -> None:
        label, style = BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, style=discord.ButtonStyle(style),
                                           custom_id=custom_id(action, mention_id)))
        self.action = action
        self.mention_id = mention_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction[Any],
                             item: discord.ui.Item[Any], match: re.Match[str], /) -> CardButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, EchtzeitClient):
            await client.chat.on_button(interaction, self.action, self.mention_id)


class ReplyModal(discord.ui.Modal):
    """Asks for the answer to one mention. Its submission is handled by DiscordChat from the
    modal's custom id, so a modal left open across a restart still works."""

    def __init__(self, mention_id: int, placeholder: str) -> None:
        super().__init__(title=reply_modal_title(mention_id),
                         custom_id=f"{REPLY_MODAL_PREFIX}:{mention_id}", timeout=900)
        # Discord recommends a Label around each text input (components/reference.mdx).
        self.answer: discord.ui.TextInput[ReplyModal] = discord.ui.TextInput(
            style=discord.TextStyle.paragraph, custom_id=REPLY_INPUT_ID,
            max_length=TEXT_INPUT_MAX, placeholder=placeholder, required=True,
        )
        self.add_item(discord.ui.Label(text="Answer", component=self.answer,
                                       description="Posted as a reply on the network"))


class EchtzeitTree(app_commands.CommandTree["EchtzeitClient"]):
    """The command tree, answering the member when a command cannot run (instead of leaving
    them with "The application did not respond")."""

    async def on_error(self, interaction: discord.Interaction[EchtzeitClient],
                       error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            log.warning("discord: /%s does not match this version's commands (%s); run "
                        "`echtzeit discord sync`", getattr(error, "name", "?"), error)
            text = ("This command is not the one this Echtzeit knows; an admin should run "
                    "`echtzeit discord sync`.")
        else:
            log.error("discord: command failed", exc_info=error)
            text = "That did not work; the log has the details."
        if interaction.type is discord.InteractionType.autocomplete:
            return
        embeds = DiscordChat._embeds(Result.error(text))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embeds=embeds, ephemeral=True,
                                                allowed_mentions=NO_PINGS)
            else:
                await interaction.response.send_message(embeds=embeds, ephemeral=True,
                                                        allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("discord: could not tell the member: %s", exc)


class EchtzeitClient(discord.Client):
    """discord.py's client with Echtzeit's command tree and persistent card buttons."""

    def __init__(self, chat: DiscordChat, **options: Any) -> None:
        # Echtzeit has no voice: no warnings at start about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        intents = discord.Intents.none()
        intents.guilds = True  # roles and channels of the servers, for role names
        super().__init__(intents=intents, allowed_mentions=NO_PINGS,
                         max_ratelimit_timeout=MAX_RATELIMIT_WAIT, **options)
        self.chat = chat
        self.tree = EchtzeitTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(CardButton)

    async def on_ready(self) -> None:
        self.chat.ready.set()
        log.info("discord: connected as %s to %d server(s)", self.user, len(self.guilds))

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is discord.InteractionType.modal_submit:
            await self.chat.on_modal_submit(interaction)


def _modal_value(components: Iterable[Any], wanted: str) -> str | None:
    """The value of the text input `wanted` in a MODAL_SUBMIT payload (inside action rows or
    labels, as Discord sends them)."""
    for component in components:
        if not isinstance(component, dict):
            continue
        if component.get("custom_id") == wanted and "value" in component:
            return str(component["value"])
        inner = component.get("components") or ([component["component"]]
                                                if "component" in component else [])
        found = _modal_value(inner, wanted)
        if found is not None:
            return found
    return None


# --- the adapter ------------------------------------------------------------------------------


class DiscordChat:
    """The ChatAdapter (cards) and Service (the gateway connection) for Discord."""

    platform = PLATFORM
    name = PLATFORM

    def __init__(self, settings: Settings, deps: Deps | None, *,
                 channel_rate: tuple[int, float] = CHANNEL_RATE, **client_options: Any) -> None:
        point_at(settings.discord_api_url)
        self.settings = settings
        self.deps = deps
        self.ready = asyncio.Event()
        self._logged_in = False
        self._login_lock = asyncio.Lock()
        self._rate = channel_rate
        self._limiters: dict[int, AsyncLimiter] = {}
        app_id = settings.discord_application_id
        if app_id and app_id.isdigit():
            client_options.setdefault("application_id", int(app_id))
        self.client = EchtzeitClient(self, **client_options)
        self.commands: dict[str, app_commands.Command[Any, ..., None]] = {}
        suggesters: dict[str, Callable[[OptionSpec], Suggester]] = {
            "mention": self._suggest_mentions, "template": self._suggest_templates,
            "brand": self._suggest_brands, "command": self._suggest_commands,
            "literal": self._suggest_literals,
        }
        for spec in COMMANDS:
            command = build_command(spec, self.on_command, suggesters)
            self.client.tree.add_command(command)
            self.commands[spec.name] = command

    # --- connection -------------------------------------------------------------------------

    async def login(self) -> None:
        """Log in over HTTP (GET /users/@me and the application): enough to send cards and
        sync commands; `serve` also opens the gateway. Safe to call more than once."""
        async with self._login_lock:
            if self._logged_in:
                return
            token = self.settings.discord_token
            if token is None:
                raise ChatError("ECHTZEIT_DISCORD_TOKEN is not set", permanent=True)
            await self.client.login(token.get_secret_value())
            self._logged_in = True

    async def close(self) -> None:
        await self.client.close()

    async def serve(self, stop: asyncio.Event) -> None:
        """Run the gateway connection until `stop` is set. Discord unreachable at start is
        tried again with back-off; once connected, discord.py reconnects on its own. A refused
        token ends the service (logged): nothing but a new token can help."""
        delay = 1.0
        while not stop.is_set():
            try:
                await self.login()
                break
            except discord.LoginFailure:
                log.error("discord: the token was refused (ECHTZEIT_DISCORD_TOKEN); "
                          "Discord stays off until it is fixed")
                await self.client.close()
                return
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
                log.warning("discord: cannot log in (%s); trying again in %.0f s", exc, delay)
                # The next login opens a new HTTP session; its connector went with the old one.
                await self.client.http.close()
                self.client.http.connector = discord.utils.MISSING
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, 60.0)
        if stop.is_set():
            await self.client.close()
            return
        await self._use_gateway_url()
        connection = asyncio.create_task(self.client.connect(reconnect=True),
                                         name="discord-gateway")
        stopped = asyncio.create_task(stop.wait(), name="discord-stop")
        try:
            await asyncio.wait({connection, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            await self.client.close()
            await asyncio.wait({connection})
        if connection.done() and not connection.cancelled() and connection.exception():
            raise connection.exception()  # type: ignore[misc]

    async def _use_gateway_url(self) -> None:
        # Discord's documented way to find the gateway is GET /gateway/bot; discord.py's
        # Client starts from the class attribute DiscordWebSocket.DEFAULT_GATEWAY instead, so
        # it is set from the answer (which also lets a test server hand out its own URL).
        try:
            _, url, _ = await self.client.http.get_bot_gateway()
        except discord.GatewayNotFound:
            log.warning("discord: GET /gateway/bot failed; using discord.py's default gateway")
            return
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)

    async def sync_commands(self, guild_ids: Iterable[str]) -> dict[str, list[str]]:
        """Register the commands with Discord: in each guild given (instantly visible), or
        globally when none is given (may take up to an hour to show)."""
        await self.login()
        tree = self.client.tree
        done: dict[str, list[str]] = {}
        guilds = [g.strip() for g in guild_ids if g.strip()]
        for gid in guilds:
            guild = discord.Object(id=int(gid))
            tree.copy_global_to(guild=guild)
            synced = await tree.sync(guild=guild)
            done[gid] = [c.name for c in synced]
        if not guilds:
            done["global"] = [c.name for c in await tree.sync()]
        return done

    # --- cards (ChatAdapter) ----------------------------------------------------------------

    def _channel_id(self, channel: str) -> int:
        value = channel.strip().lstrip("#")
        if not value.isdigit():
            raise ChatError(f"Discord channel {channel!r} is not a channel id (enable developer "
                            "mode, right-click the channel, Copy Channel ID)", permanent=True)
        return int(value)

    def _pace(self, channel_id: int) -> AbstractAsyncContextManager[None]:
        limiter = self._limiters.get(channel_id)
        if limiter is None:
            limiter = self._limiters[channel_id] = AsyncLimiter(*self._rate)
        return limiter

    async def _ready_for_rest(self) -> None:
        # Cards need only the HTTP API: the relay may run before the gateway is up.
        try:
            await self.login()
        except discord.LoginFailure as exc:
            # Not permanent: the relay keeps the cards until the operator fixes the token.
            raise ChatError("Discord refused the token (ECHTZEIT_DISCORD_TOKEN)") from exc
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise ChatError(f"cannot log in to Discord: {exc}") from exc

    async def _call(self, action: Callable[[], Awaitable[Any]]) -> Any:
        """Run one REST call and turn discord.py's errors into ChatError."""
        try:
            return await action()
        except discord.RateLimited as exc:
            raise ChatError(f"rate limited for {exc.retry_after:.1f}s",
                            retry_after=exc.retry_after) from exc
        except (discord.Forbidden, discord.NotFound) as exc:
            raise ChatError(f"Discord refused: {exc.status} {exc.text}", permanent=True) from exc
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
                        since: datetime) -> dict[str, str]:
        """Discord does not return a message's nonce in the channel history: nothing is found
        here, and the resend with the same enforced nonce is what deduplicates (after a crash
        longer than Discord's nonce window, a card can appear twice)."""
        return {}

    async def _send_card(self, channel: str, card: Card, token: str | None) -> str:
        channel_id = self._channel_id(channel)
        await self._ready_for_rest()
        body = card_message(card)
        if token is not None:
            body = {**body, "nonce": token, "enforce_nonce": True}
        data = await self._post(channel_id, body)
        message_id = str(data["id"])
        http = self.client.http
        if self.settings.discord_threads:
            # The card is out: from here on nothing may fail the delivery, or the relay would
            # post the card a second time.
            try:
                async with self._pace(channel_id):
                    await self._call(lambda: http.start_thread_with_message(
                        channel_id, message_id, name=thread_name(card),
                        auto_archive_duration=THREAD_ARCHIVE_MINUTES))
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
            await self._call(lambda: http.request(route, json=card_message(card)))

    async def _post(self, channel_id: int, body: dict[str, Any],
                    upload: tuple[str, bytes] | None = None) -> dict[str, Any]:
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel_id)
        http = self.client.http
        if upload is None:
            async with self._pace(channel_id):
                data: dict[str, Any] = await self._call(lambda: http.request(route, json=body))
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
            data = await self._call(lambda: http.request(route, form=form))
        return data

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        """bot.chat.Notifier: an SLA reminder or spike alert. Its detail lines go into a thread
        under it when threads are on, else below the text."""
        channel_id = self._channel_id(channel)
        await self._ready_for_rest()
        threaded = bool(thread) and self.settings.discord_threads
        data = await self._post(channel_id, notice_message(
            text, person=person, lines=() if threaded else thread))
        ref = str(data["id"])
        if threaded:
            try:
                http = self.client.http
                async with self._pace(channel_id):
                    await self._call(lambda: http.start_thread_with_message(
                        channel_id, ref, name=plain(text, THREAD_NAME_MAX) or "details",
                        auto_archive_duration=THREAD_ARCHIVE_MINUTES))
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
        user = interaction.user
        roles = getattr(user, "roles", [])
        return Invocation(
            user=str(user.id), platform=PLATFORM, args=args,
            channel=str(interaction.channel_id) if interaction.channel_id else None,
            display_name=user.display_name,
            roles=member_roles(self.settings, user_id=str(user.id),
                               role_ids=[r.id for r in roles], role_names=[r.name for r in roles],
                               permissions=interaction.permissions),
        )

    def _deps(self) -> Deps:
        if self.deps is None:
            raise RuntimeError("this Discord client was built without the desk (sync only)")
        return self.deps

    async def _run(self, spec: CommandSpec, inv: Invocation) -> Result:
        try:
            return await run(spec, inv, self._deps())
        except Exception:  # a bug must still answer the person, who is waiting
            log.exception("discord: /%s failed", spec.name)
            return Result.error(f"{spec.name} failed unexpectedly; the log has the details.")

    @staticmethod
    def _embeds(result: Result, actor: str | None = None) -> list[discord.Embed]:
        return [discord.Embed.from_dict(e) for e in result_embeds(result, actor=actor)]

    @staticmethod
    def _files(result: Result) -> list[discord.File]:
        """The result's attachments (a digest's chart) as uploads, with their alt text."""
        return [discord.File(io.BytesIO(a.data), filename=a.filename,
                             description=truncate(a.alt, ATTACHMENT_ALT_MAX) or None)
                for a in result.attachments[:FILES_MAX]]

    async def _answer(self, interaction: discord.Interaction[Any], result: Result,
                      inv: Invocation) -> None:
        """Answer a deferred (ephemeral, thinking) interaction: privately when the result is
        only for the actor, otherwise in the channel, signed with their name."""
        if result.ephemeral or not result.ok:
            await interaction.edit_original_response(embeds=self._embeds(result),
                                                     attachments=self._files(result),
                                                     allowed_mentions=NO_PINGS)
            return
        await interaction.edit_original_response(content="Done; the answer is in the channel.",
                                                 allowed_mentions=NO_PINGS)
        await interaction.followup.send(embeds=self._embeds(result, actor=inv.actor),
                                        files=self._files(result),
                                        allowed_mentions=NO_PINGS, ephemeral=False)

    async def on_command(self, interaction: discord.Interaction[Any], spec: CommandSpec,
                         args: str) -> None:
        """A slash command: acknowledge, run the core's command, answer."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        inv = self.invocation(interaction, args)
        result = await self._run(spec, inv)
        await self._answer(interaction, result, inv)

    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        mention_id: int) -> None:
        """A card button: Reply opens the modal; the others run their command and redraw the
        card at once (the relay redraws it in the other channels)."""
        spec = BY_NAME.get(action)
        if spec is None:
            await interaction.response.send_message(
                embeds=self._embeds(Result.error(f"{action} is no longer a command")),
                ephemeral=True, allowed_mentions=NO_PINGS)
            return
        inv = self.invocation(interaction)
        if action == "reply":
            if not may(spec, inv.roles):
                await interaction.response.send_message(
                    embeds=self._embeds(await self._run(spec, inv)), ephemeral=True,
                    allowed_mentions=NO_PINGS)
                return
            # A modal must be the first response; the lookup for its placeholder is one
            # indexed read.
            card = await self._card(mention_id)
            await interaction.response.send_modal(
                ReplyModal(mention_id, reply_modal_placeholder(card)))
            return
        await interaction.response.defer()
        args = str(mention_id)
        if action == "mute":
            card = await self._card(mention_id)
            args = f"{card.network} {quote(card.author_handle)}" if card else args
        result = await self._run(spec, replace(inv, args=args))
        if result.ok:
            await self._redraw(interaction, mention_id)
        await interaction.followup.send(embeds=self._embeds(result), ephemeral=True,
                                        allowed_mentions=NO_PINGS)

    async def on_modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        """The Reply modal: the answer goes to the core's reply command."""
        data: dict[str, Any] = dict(interaction.data or {})
        match = _MODAL_ID.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        mention_id = int(match["id"])
        text = (_modal_value(data.get("components", []), REPLY_INPUT_ID) or "").strip()
        inv = self.invocation(interaction, f"{mention_id} {text}")
        result = await self._run(BY_NAME["reply"], inv)
        if result.ok:
            await self._redraw(interaction, mention_id)
        await self._answer(interaction, result, inv)

    async def _card(self, mention_id: int) -> Card | None:
        try:
            view = await asyncio.to_thread(self._deps().store.view, mention_id)
        except NotFound:
            return None
        return card_for(view, reply_networks=self._deps().responders)

    async def _redraw(self, interaction: discord.Interaction[Any], mention_id: int) -> None:
        message = interaction.message
        if message is None or not message.components or interaction.channel_id is None:
            return
        card = await self._card(mention_id)
        if card is None:
            return
        try:
            await self.update_card(str(interaction.channel_id), str(message.id), card)
        except ChatError as exc:
            log.warning("discord: could not redraw card %s: %s", message.id, exc)

    # --- autocomplete -----------------------------------------------------------------------

    def _suggest_mentions(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            views = await asyncio.to_thread(self._deps().store.list_mentions,
                                            statuses=OPEN_STATUSES, limit=100)
            typed = current.strip().lstrip("#")
            cards = [card_for(v, reply_networks=self._deps().responders) for v in views
                     if str(v.mention.id).startswith(typed)]
            return [app_commands.Choice(
                name=plain(f"#{c.mention_id} · {c.brand} · @{c.author_handle}: "
                           f"{c.text}".replace("\n", " "), CHOICE_NAME_MAX),
                value=str(c.mention_id)) for c in cards[:CHOICES_MAX]]
        return complete

    def _suggest_templates(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            typed = current.strip()
            if typed and not typed.startswith(":"):
                return []  # free text: nothing to suggest, and nothing to cut short
            templates = await asyncio.to_thread(self._deps().store.templates)
            wanted = typed.lstrip(":").casefold()
            return [app_commands.Choice(
                name=plain(f":{t.name} · {t.text}".replace("\n", " "), CHOICE_NAME_MAX),
                value=f":{t.name}"[:CHOICE_VALUE_MAX])
                for t in templates if t.name.casefold().startswith(wanted)][:CHOICES_MAX]
        return complete

    def _suggest_brands(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            brands = await asyncio.to_thread(self._deps().store.brands)
            return _choices([*option.literals, *(quote(b.name) for b in brands)], current)
        return complete

    def _suggest_commands(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            return _choices([c.name for c in COMMANDS], current)
        return complete

    def _suggest_literals(self, option: OptionSpec) -> Suggester:
        async def complete(interaction: discord.Interaction[Any],
                           current: str) -> list[app_commands.Choice[str]]:
            return _choices(option.literals, current)
        return complete


def _choices(values: Iterable[str], current: str) -> list[app_commands.Choice[str]]:
    typed = current.strip().casefold()
    return [app_commands.Choice(name=plain(v, CHOICE_NAME_MAX), value=v[:CHOICE_VALUE_MAX])
            for v in values if v.casefold().startswith(typed)][:CHOICES_MAX]


# --- invite -----------------------------------------------------------------------------------


def invite_permissions(*, threads: bool) -> discord.Permissions:
    """Exactly what the bot needs: see the channel, post and edit its cards with embeds, read
    the channel's history (to edit older cards); with threads on, open and keep a thread per
    card."""
    perms = discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                read_message_history=True)
    if threads:
        perms.update(create_public_threads=True, send_messages_in_threads=True,
                     manage_threads=True)
    return perms


def invite_url(application_id: int | str, *, threads: bool) -> str:
    return discord.utils.oauth_url(application_id, permissions=invite_permissions(threads=threads),
                                   scopes=("bot", "applications.commands"))
