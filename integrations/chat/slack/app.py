"""The Slack app: bolt's `AsyncApp` with Echtzeit's listeners.

- `/echtzeit <command> …` runs any command of `commands.COMMANDS`;
- the card's buttons (Claim, Reply…, Resolve, Ignore, Mute author) run the same commands;
- Reply… (and the "Reply to customer" message shortcut) opens a modal with a template picker and
  the network's character limit; its submission sends the reply;
- a message in a card's thread that starts with a reply prefix (`!reply …`) is sent to the
  network as the answer; every other thread message is an internal note on the mention.

Every listener acknowledges first (Slack's 3-second rule) and does the work afterwards, answering
through `response_url`, an ephemeral message or the card's thread. The one exception is the reply
modal's submission: its validation errors must travel in the acknowledgement itself, so the
quick, local checks (no network call) run before `ack`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import card_for
from bot.networks import Responder
from bot.store import MentionView, NotFound, utcnow
from commands import BY_NAME, Deps, Invocation, Result, Role, dispatch, run
from commands.mentions import fill_template
from integrations.chat.slack.chat import PLATFORM, message_ref
from integrations.chat.slack.people import Directory
from integrations.chat.slack.render import (
    ACTION_PREFIX,
    REPLY_VIEW,
    TEMPLATE_ACTION,
    ReplyTarget,
    command_args,
    from_slack,
    referenced_users,
    reply_form,
    reply_modal,
    result_message,
)

log = logging.getLogger(__name__)

COMMAND = "/echtzeit"
REPLY_SHORTCUT = "echtzeit_reply_message"
# What the bot needs, and nothing more (kept equal to manifest.yml by a test).
BOT_SCOPES = (
    "commands",  # /echtzeit and the message shortcut
    "chat:write",  # cards, their updates, thread answers, ephemeral answers
    "chat:write.public",  # post cards to public channels without being invited first
    "files:write",  # the digest's chart
    "channels:history",  # thread replies under cards in public channels
    "groups:history",  # ... and in private channels the bot was invited to
    "reactions:write",  # mark thread messages kept as internal notes
    "users:read",  # display names of the people who act
    "usergroups:read",  # members of ECHTZEIT_SLACK_ADMINS / _RESPONDERS user groups
)
NOTE_REACTION = "memo"
THREAD_SUBTYPES = (None, "thread_broadcast", "file_share")
BUTTON_COMMANDS = ("claim", "resolve", "ignore", "mute")
THREAD_POST_FLAGS: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False,
                                     "link_names": False, "parse": "none", "mrkdwn": False}


def reply_limit(responder: Responder) -> int | None:
    """The longest reply the network takes, as its responder's `check` tells (an explicit
    `max_chars` attribute wins); None when it names no limit up to 100,000 characters."""
    explicit = getattr(responder, "max_chars", None)
    if isinstance(explicit, int) and explicit > 0:
        return explicit
    if responder.check("x") is not None:
        return None
    low, high = 1, 100_000
    if responder.check("x" * high) is None:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if responder.check("x" * middle) is None:
            low = middle
        else:
            high = middle
    return low


@dataclass
class Who:
    """The Slack side of one interaction: who, in which workspace and channel."""

    user: str
    channel: str | None
    team: str | None
    enterprise: str | None
    org_install: bool
    fallback_name: str | None = None


def who_from_body(body: dict[str, Any]) -> Who:
    """Who acted, from an interaction payload (block_actions, view_submission, shortcut)."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    enterprise = body.get("enterprise") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id")
    return Who(user=str(user.get("id")), channel=channel, team=team.get("id"),
               enterprise=enterprise.get("id") or team.get("enterprise_id"),
               org_install=bool(body.get("is_enterprise_install")),
               fallback_name=user.get("username") or user.get("name"))


@dataclass
class SlackDesk:
    """What the listeners share: the commands' dependencies, who may do what, and settings."""

    deps: Deps
    directory: Directory = field(default_factory=Directory)
    reply_prefixes: tuple[str, ...] = ("/reply", "!reply")
    qualify_channels: bool = False  # OAuth installs: routes name "<team>/<channel>"
    now: Callable[[], datetime] = utcnow

    # --- people ----------------------------------------------------------------------------

    def route_channel(self, who: Who, channel: str | None = None) -> str | None:
        """The channel as routes and deliveries name it."""
        channel = channel or who.channel
        if channel is None or not self.qualify_channels:
            return channel
        owner = who.enterprise if who.org_install or not who.team else who.team
        return f"{owner}/{channel}"

    async def invocation(self, client: AsyncWebClient, who: Who, args: str = "") -> Invocation:
        name, roles = await asyncio.gather(
            self.directory.display_name(client, who.user, who.fallback_name),
            self.directory.roles(client, who.user),
        )
        return Invocation(user=who.user, platform=PLATFORM, args=args,
                          channel=self.route_channel(who), display_name=name, roles=roles)

    async def names(self, client: AsyncWebClient, users: Sequence[str]) -> dict[str, str]:
        found = await asyncio.gather(*(self.directory.display_name(client, u) for u in users))
        return dict(zip(users, found, strict=True))

    def reply_text(self, text: str) -> str | None:
        """The answer in a thread message that asks to reply (`!reply thanks!`), else None.
        Slack's client takes a message starting with "/" for a command, so people may type
        " /reply": leading spaces do not matter."""
        stripped = text.lstrip()
        lowered = stripped.lower()
        for prefix in self.reply_prefixes:
            p = prefix.lower()
            if lowered.startswith(p) and (len(stripped) == len(p) or stripped[len(p)].isspace()):
                return stripped[len(p):].strip()
        return None

    # --- answers -----------------------------------------------------------------------------

    async def tell(self, client: AsyncWebClient, who: Who, result: Result, *,
                   channel: str | None, thread_ts: str | None) -> None:
        """Answer in the card's thread when it went well, privately to the person otherwise."""
        message = result_message(result, self.now())
        try:
            if channel and result.ok and not result.ephemeral:
                await client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message,
                                              **THREAD_POST_FLAGS)
            elif channel:
                await client.chat_postEphemeral(channel=channel, user=who.user,
                                                thread_ts=thread_ts, **message)
            else:
                # No channel known (a modal from elsewhere): a direct message from the bot.
                await client.chat_postMessage(channel=who.user, **message, **THREAD_POST_FLAGS)
        except SlackApiError as exc:
            log.warning("could not tell %s about %s: %s", who.user, result.text,
                        exc.response.get("error"))

    # --- the reply modal ---------------------------------------------------------------------

    async def _modal(self, view: MentionView, target: ReplyTarget, responder: Responder, *,
                     template: str | None = None) -> dict[str, Any]:
        templates = [(t.name, t.text) for t in await asyncio.to_thread(self.deps.store.templates)]
        initial = ""
        if template:
            chosen = dict(templates).get(template)
            initial = fill_template(chosen, view) if chosen is not None else ""
        return reply_modal(card_for(view), target=target, templates=templates,
                           limit=reply_limit(responder), initial_text=initial,
                           selected_template=template)

    async def open_reply(self, client: AsyncWebClient, who: Who, *, trigger_id: str,
                         target: ReplyTarget,
                         say: Callable[[Result], Awaitable[None]]) -> None:
        inv = await self.invocation(client, who)
        if Role.RESPONDER not in inv.roles and Role.ADMIN not in inv.roles:
            await say(Result.error(f"Sorry, {inv.actor}: only people allowed to answer "
                                   "customers may reply. Ask an admin to add you."))
            return
        try:
            view = await asyncio.to_thread(self.deps.store.view, target.mention_id)
        except NotFound as exc:
            await say(Result.error(str(exc)))
            return
        responder = self.deps.responders.get(view.mention.network)
        if responder is None:
            await say(Result.error(f"Echtzeit cannot post replies on {view.mention.network}; "
                                   f"answer there: {view.mention.url}"))
            return
        try:
            await client.views_open(trigger_id=trigger_id,
                                    view=await self._modal(view, target, responder))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await say(Result.error("The reply form could not open in time; please try again."))


def register(app: AsyncApp, desk: SlackDesk) -> None:
    """Attach Echtzeit's listeners to a bolt app."""
    store = desk.deps.store

    @app.middleware
    async def drop_redeliveries(req: AsyncBoltRequest, resp: BoltResponse,
                                next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        body = req.body if isinstance(req.body, dict) else {}
        event_id = body.get("event_id")
        # Slack delivers an event again when it did not hear our answer in time (HTTP
        # X-Slack-Retry-Num, Socket Mode retry_attempt), perhaps to another replica: the store
        # remembers which events were taken.
        if event_id and not await asyncio.to_thread(
                store.first_delivery, key=f"slack:{body.get('team_id')}:{event_id}"):
            retry = req.headers.get("x-slack-retry-num") or body.get("retry_attempt")
            log.info("event %s delivered again (retry %s); already handled", event_id, retry)
            return BoltResponse(status=200, body="")
        await next()
        return None

    @app.command(COMMAND)
    async def on_command(ack: Any, command: dict[str, Any], respond: Any,
                         client: AsyncWebClient) -> None:
        await ack()
        who = Who(user=command["user_id"], channel=command.get("channel_id"),
                  team=command.get("team_id"), enterprise=command.get("enterprise_id"),
                  org_install=str(command.get("is_enterprise_install")).lower() == "true",
                  fallback_name=command.get("user_name"))
        raw = command.get("text") or ""
        try:
            names = await desk.names(client, referenced_users(raw))
            line = command_args(raw, here=desk.route_channel(who) or "", names=names).strip()
            inv = await desk.invocation(client, who)
            result = await dispatch(line or "help", inv, desk.deps)
        except Exception:
            log.exception("/echtzeit %s failed", raw[:100])
            result = Result.error("Something went wrong; the error is in Echtzeit's log.")
        await respond(**result_message(result, desk.now()),
                      response_type="ephemeral" if result.ephemeral else "in_channel")

    @app.action(re.compile(rf"^{ACTION_PREFIX}({'|'.join(BUTTON_COMMANDS)})$"))
    async def on_button(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                        client: AsyncWebClient) -> None:
        await ack()
        name = action["action_id"].removeprefix(ACTION_PREFIX)
        who = who_from_body(body)
        try:
            mid = int(action["value"])
            args = str(mid)
            if name == "mute":
                view = await asyncio.to_thread(store.view, mid)
                args = f'{view.mention.network} "{view.author.handle}"'
            inv = await desk.invocation(client, who, args)
            result = await run(BY_NAME[name], inv, desk.deps)
        except NotFound as exc:
            result = Result.error(str(exc))
        except Exception:
            log.exception("button %s failed", name)
            result = Result.error("Something went wrong; the error is in Echtzeit's log.")
        await respond(**result_message(result, desk.now()), response_type="ephemeral",
                      replace_original=False)

    @app.action(re.compile(rf"^{ACTION_PREFIX}(open|open_\d+|view_reply)$"))
    async def on_link(ack: Any) -> None:
        # Link buttons open in the browser; Slack still tells the app, which must acknowledge.
        await ack()

    @app.action(f"{ACTION_PREFIX}reply")
    async def on_reply_button(ack: Any, body: dict[str, Any], action: dict[str, Any],
                              respond: Any, client: AsyncWebClient) -> None:
        await ack()
        who = who_from_body(body)
        target = ReplyTarget(mention_id=int(action["value"]), channel=who.channel,
                             message_ts=(body.get("container") or {}).get("message_ts"))

        async def say(result: Result) -> None:
            await respond(**result_message(result, desk.now()), response_type="ephemeral",
                          replace_original=False)

        await desk.open_reply(client, who, trigger_id=body["trigger_id"], target=target, say=say)

    @app.shortcut(REPLY_SHORTCUT)
    async def on_reply_shortcut(ack: Any, shortcut: dict[str, Any], respond: Any,
                                client: AsyncWebClient) -> None:
        await ack()
        who = who_from_body(shortcut)
        message = shortcut.get("message") or {}
        ts = message.get("thread_ts") or message.get("ts")

        async def say(result: Result) -> None:
            await respond(**result_message(result, desk.now()), response_type="ephemeral",
                          replace_original=False)

        mid = None
        if who.channel and ts:
            mid = await asyncio.to_thread(store.mention_for_message, platform=PLATFORM,
                                          message_ref=message_ref(who.channel, ts))
        if mid is None:
            await say(Result.error("This message is not an Echtzeit card (or a reply under one)."))
            return
        target = ReplyTarget(mention_id=mid, channel=who.channel, message_ts=ts)
        await desk.open_reply(client, who, trigger_id=shortcut["trigger_id"], target=target,
                              say=say)

    @app.action(TEMPLATE_ACTION)
    async def on_template(ack: Any, body: dict[str, Any], action: dict[str, Any],
                          client: AsyncWebClient) -> None:
        await ack()
        view = body.get("view") or {}
        target = ReplyTarget.load(view.get("private_metadata") or "{}")
        chosen = (action.get("selected_option") or {}).get("value")
        try:
            mention = await asyncio.to_thread(store.view, target.mention_id)
        except NotFound:
            return
        responder = desk.deps.responders.get(mention.mention.network)
        if responder is None:
            return
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                      view=await desk._modal(mention, target, responder,
                                                             template=chosen))
        except SlackApiError as exc:
            # "hash_conflict": the person typed meanwhile; their text stays.
            log.info("views.update of the reply modal: %s", exc.response.get("error"))

    @app.view(REPLY_VIEW)
    async def on_reply_submit(ack: Any, body: dict[str, Any], view: dict[str, Any],
                              client: AsyncWebClient) -> None:
        target = ReplyTarget.load(view.get("private_metadata") or "{}")
        template, text, text_block = reply_form(view)
        text = text.strip()
        problem = None
        if not text and not template:
            problem = "Write a reply or pick a template."
        elif text:
            try:
                network = (await asyncio.to_thread(store.view, target.mention_id)).mention.network
                responder = desk.deps.responders.get(network)
                problem = responder.check(text) if responder is not None else None
            except NotFound as exc:
                problem = str(exc)
        if problem:
            await ack(response_action="errors", errors={text_block or "reply-": problem})
            return
        await ack()
        who = who_from_body(body)
        args = f"{target.mention_id} {text}" if text else f"{target.mention_id} :{template}"
        try:
            inv = await desk.invocation(client, who, args)
            result = await run(BY_NAME["reply"], inv, desk.deps)
        except Exception:
            log.exception("reply to #%s failed", target.mention_id)
            result = Result.error("Something went wrong; the error is in Echtzeit's log.")
        await desk.tell(client, who, result, channel=target.channel, thread_ts=target.message_ts)

    @app.event("message")
    async def on_message(event: dict[str, Any], body: dict[str, Any],
                         client: AsyncWebClient) -> None:
        if event.get("bot_id") or event.get("subtype") not in THREAD_SUBTYPES:
            return
        thread_ts, ts, channel = event.get("thread_ts"), event.get("ts"), event.get("channel")
        if not thread_ts or not channel or not event.get("user") or thread_ts == ts:
            return
        mid = await asyncio.to_thread(store.mention_for_message, platform=PLATFORM,
                                      message_ref=message_ref(channel, thread_ts))
        if mid is None:
            return
        raw = str(event.get("text") or "")
        team = body.get("team_id") or event.get("team")
        who = Who(user=str(event["user"]), channel=channel, team=team,
                  enterprise=body.get("enterprise_id"),
                  org_install=bool(body.get("is_enterprise_install")))
        names = await desk.names(client, referenced_users(raw))
        answer = desk.reply_text(raw)
        inv = await desk.invocation(client, who)
        if answer is None:
            # Everything else said under a card stays among staff: a note in its history,
            # marked with a reaction so that people see it was kept and not sent.
            new = await asyncio.to_thread(store.add_note, mention_id=mid, actor=inv.actor,
                                          text=from_slack(raw, names),
                                          ref=message_ref(channel, str(ts)))
            if new:
                try:
                    await client.reactions_add(channel=channel, timestamp=str(ts),
                                               name=NOTE_REACTION)
                except SlackApiError as exc:
                    log.info("could not mark note %s: %s", ts, exc.response.get("error"))
            return
        text = from_slack(answer, names).strip()
        if not text:
            result = Result.error("Write the answer after the prefix, e.g. !reply Thank you!")
        else:
            result = await run(BY_NAME["reply"], replace(inv, args=f"{mid} {text}"), desk.deps)
        await desk.tell(client, who, result, channel=channel, thread_ts=thread_ts)


def build_app(
    desk: SlackDesk,
    *,
    client: AsyncWebClient,
    signing_secret: str | None = None,
    socket_mode: bool = False,
    oauth_settings: AsyncOAuthSettings | None = None,
    installation_store: AsyncInstallationStore | None = None,
) -> AsyncApp:
    """A bolt `AsyncApp` with Echtzeit's listeners.

    Socket Mode: `client` holds the bot token; requests come over the app's own websocket, so
    no signature is checked. HTTP mode: every request's signature and timestamp (5 minutes) are
    checked with `signing_secret`; with `oauth_settings` the app serves the install flow and
    finds each workspace's token in `installation_store`, else `client`'s token is used."""
    app = AsyncApp(
        name="echtzeit",
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=not socket_mode,
        oauth_settings=oauth_settings,
        installation_store=installation_store,
        installation_store_bot_only=True if installation_store is not None else None,
    )
    register(app, desk)
    if installation_store is not None:
        # Forget the workspace's token when it uninstalls the app or revokes the token.
        app.enable_token_revocation_listeners()
    else:

        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        async def on_revoked(event: dict[str, Any]) -> None:
            log.error("Slack says the app was uninstalled or its token revoked (%s): "
                      "cards cannot be sent until it is installed again", event.get("type"))

    return app
