"""discord.py's objects, made for Echtzeit: the client with its command tree (which answers the
member when a command cannot run), the card buttons and the Reply modal. They hand every click
and submission to the `Handlers` (the adapter's interaction handlers)."""
from __future__ import annotations

import asyncio
import io
import logging
import re
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.http import Route

from bot.untrusted import truncate
from commands import Result
from integrations.chat.discord.render import (
    BUTTONS,
    CUSTOM_ID_PATTERN,
    DRAFT_INPUT_ID,
    REASON_MAX,
    REPLY_INPUT_ID,
    REPLY_MODAL_PREFIX,
    TEXT_INPUT_MAX,
    custom_id,
    draft_modal_title,
    reply_modal_title,
    result_embeds,
)

log = logging.getLogger(__name__)

NO_PINGS = discord.AllowedMentions.none()
# discord.py sleeps through short 429s itself; longer ones come back as ChatError(retry_after)
# so that the relay reschedules instead of holding a channel (discord.py's minimum is 30 s).
MAX_RATELIMIT_WAIT = 30.0
FILES_MAX = 10  # attachments per message
ATTACHMENT_ALT_MAX = 1024


def point_at(api_url: str) -> None:
    """Make discord.py talk to `api_url` (DiscordSettings.api_url) instead of discord.com."""
    Route.BASE = api_url.rstrip("/")


def embeds(result: Result, actor: str | None = None) -> list[discord.Embed]:
    return [discord.Embed.from_dict(e) for e in result_embeds(result, actor=actor)]


def files(result: Result) -> list[discord.File]:
    """The result's attachments (a digest's chart) as uploads, with their alt text."""
    return [discord.File(io.BytesIO(a.data), filename=a.filename,
                         description=truncate(a.alt, ATTACHMENT_ALT_MAX) or None)
            for a in result.attachments[:FILES_MAX]]


class Handlers(Protocol):
    """What the client hands its events to."""

    ready: asyncio.Event

    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        mention_id: int) -> None: ...

    async def on_modal_submit(self, interaction: discord.Interaction[Any]) -> None: ...


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


def draft_buttons(result: Result) -> discord.ui.View | None:
    """The buttons of a draft shown to the member alone (an AI draft: Send, Edit, ...), so that
    they act on it where they read it; None for any other result."""
    if len(result.cards) != 1 or not result.cards[0].draft_text:
        return None
    card = result.cards[0]
    view = discord.ui.View(timeout=None)
    for action in [a for a in card.actions if a in BUTTONS][:20]:
        view.add_item(CardButton(action, card.mention_id))
    return view


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


class DraftModal(discord.ui.Modal):
    """The Edit button's form (the draft's text, to change) or the Reject button's (the reason
    its author is told); handled from its custom id like the Reply modal."""

    def __init__(self, kind: str, mention_id: int, *, text: str = "",
                 limit: int | None = None) -> None:
        super().__init__(title=draft_modal_title(kind, mention_id),
                         custom_id=f"ez-{kind}:{mention_id}", timeout=900)
        if kind == "edit":
            most = min(limit or TEXT_INPUT_MAX, TEXT_INPUT_MAX)
            self.text: discord.ui.TextInput[DraftModal] = discord.ui.TextInput(
                style=discord.TextStyle.paragraph, custom_id=DRAFT_INPUT_ID, max_length=most,
                default=text[:most] or None, required=True)
            self.add_item(discord.ui.Label(text="The reply", component=self.text,
                                           description="Needs approval again once changed"))
        else:
            self.text = discord.ui.TextInput(
                style=discord.TextStyle.paragraph, custom_id=DRAFT_INPUT_ID,
                max_length=REASON_MAX, required=True)
            self.add_item(discord.ui.Label(text="Why not?", component=self.text,
                                           description="Its author is told this reason"))


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
        answer = embeds(Result.error(text))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(embeds=answer, ephemeral=True,
                                                allowed_mentions=NO_PINGS)
            else:
                await interaction.response.send_message(embeds=answer, ephemeral=True,
                                                        allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("discord: could not tell the member: %s", exc)


class EchtzeitClient(discord.Client):
    """discord.py's client with Echtzeit's command tree and persistent card buttons."""

    def __init__(self, chat: Handlers, **options: Any) -> None:
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
