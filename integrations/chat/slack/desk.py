"""What the Slack listeners share: who acted (`Who`), the commands' dependencies, the people
directory and the settings (`SlackDesk`), and the answers and the reply modal they send."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import card_for
from bot.clock import utcnow
from bot.networks import Responder, reply_limit
from bot.store import MentionView, NotFound
from commands import Deps, Invocation, Result, Role
from commands.mentions import fill_template
from integrations.chat.common import Pacer, Pacers
from integrations.chat.slack.chat import PLATFORM
from integrations.chat.slack.modal import ReplyTarget, reply_modal
from integrations.chat.slack.people import Directory
from integrations.chat.slack.render import notice_message, result_message

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
BUTTON_COMMANDS = ("claim", "resolve", "ignore", "mute", "approve", "draft", "send", "notus",
                   "noreply", "sentiment_negative", "sentiment_neutral", "sentiment_positive",
                   "hide", "unhide")
# Buttons that open a form for a text: the draft's new text, a rejection's reason.
FORM_COMMANDS = ("edit", "reject")
# What a person is told when a listener fails (the traceback goes to the log).
FAILED = "Something went wrong; the error is in Echtzeit's log."
THREAD_POST_FLAGS: dict[str, Any] = {"unfurl_links": False, "unfurl_media": False,
                                     "link_names": False, "parse": "none", "mrkdwn": False}


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


class HomeTab(Protocol):
    """The App Home of the desk (integrations.chat.slack.home.HomeTabs): publishes a person's
    queue view when they open the Home tab."""

    async def opened(self, client: AsyncWebClient, who: Who) -> None: ...


@dataclass
class SlackDesk:
    """What the listeners share: the commands' dependencies, who may do what, and settings."""

    deps: Deps
    directory: Directory = field(default_factory=Directory)
    reply_prefixes: tuple[str, ...] = ("/reply", "!reply")
    qualify_channels: bool = False  # OAuth installs: routes name "<team>/<channel>"
    now: Callable[[], datetime] = utcnow
    # App Home (integrations.chat.slack.home.HomeTabs); None: no Home tab listener.
    home: HomeTab | None = None
    # The channel's pacer: the relay's (SlackChat.pacer), so that thread answers and cards
    # together keep to Slack's one message a second per channel.
    pacer: Callable[[str], AbstractAsyncContextManager[None]] = field(
        default_factory=lambda: Pacers[str, Pacer](lambda: Pacer(1.0, 2)))

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
                async with self.pacer(channel):
                    await client.chat_postMessage(channel=channel, thread_ts=thread_ts,
                                                  **message, **THREAD_POST_FLAGS)
            elif channel:
                await client.chat_postEphemeral(channel=channel, user=who.user,
                                                thread_ts=thread_ts, **message)
            else:
                # No channel known (a modal from elsewhere): a direct message from the bot.
                await client.chat_postMessage(channel=who.user, **message, **THREAD_POST_FLAGS)
        except SlackApiError as exc:
            log.warning("could not tell %s about %s: %s", who.user, result.text,
                        exc.response.get("error"))

    async def deliver_notices(self, client: AsyncWebClient, result: Result) -> None:
        """The result's notices for Slack people (a rejection's reason for its author) as a
        direct message from the bot, which addresses them."""
        for n in result.notices:
            if n.platform != PLATFORM:
                log.info("a notice for %s on %s cannot be delivered from Slack", n.user,
                         n.platform)
                continue
            try:
                await client.chat_postMessage(channel=n.user,
                                              **notice_message(n.text, person=n.user),
                                              **THREAD_POST_FLAGS)
            except SlackApiError as exc:
                log.warning("could not tell %s: %s", n.user, exc.response.get("error"))

    # --- the reply modal ---------------------------------------------------------------------

    async def reply_view(self, view: MentionView, target: ReplyTarget, responder: Responder, *,
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
                                    view=await self.reply_view(view, target, responder))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await say(Result.error("The reply form could not open in time; please try again."))
