"""Interactions from Discord: slash commands, card buttons and the Reply modal's submission.
Every interaction is acknowledged first (defer or modal) and answered later: Discord allows
three seconds for the first response and fifteen minutes for the rest
(developers/interactions/receiving-and-responding.mdx). When either has run out, Discord
refuses, and the log says so in words: nothing crashes. Who may act comes from the member's
roles and permissions."""
from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import discord

from bot.cards import Card, button_command
from bot.chat import ChatError
from bot.networks import reply_limit
from bot.store import NotFound
from commands import BY_NAME, Deps, Invocation, Result, Role, run
from commands.base import CommandSpec, one_line
from integrations.chat.discord.autocomplete import quote
from integrations.chat.discord.client import (
    NO_PINGS,
    DraftModal,
    ReplyModal,
    draft_buttons,
    embeds,
    files,
)
from integrations.chat.discord.render import (
    DRAFT_INPUT_ID,
    DRAFT_MODAL_PATTERN,
    REPLY_INPUT_ID,
    REPLY_MODAL_PATTERN,
    notice_message,
    reply_modal_placeholder,
)
from integrations.chat.discord.settings import DiscordSettings

log = logging.getLogger(__name__)

PLATFORM = "discord"

_MODAL_ID = re.compile(REPLY_MODAL_PATTERN)
_DRAFT_MODAL_ID = re.compile(DRAFT_MODAL_PATTERN)
_USER_ID = re.compile(r"[0-9]{15,21}")

# Discord's JSON error codes when an interaction's time is up (opcodes-and-status-codes.mdx).
UNKNOWN_INTERACTION = 10062  # no initial response within three seconds of the event
INVALID_WEBHOOK_TOKEN = 50027  # the interaction token's fifteen minutes are over
# Of Discord's three seconds, what the Reply button may spend looking up the mention for its
# form's placeholder; a slower store gets the form without it rather than no form at all.
MODAL_LOOKUP_SECONDS = 1.0


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


def member_roles(settings: DiscordSettings, *, user_id: str, role_ids: Iterable[int],
                 role_names: Iterable[str], permissions: discord.Permissions,
                 admins: Collection[str] = (), responders: Collection[str] = (),
                 approvers: Collection[str] = ()) -> frozenset[Role]:
    """What a member may do. Admins: `admins` (ECHTZEIT_ADMINS), the admin_role, or the
    Administrator / Manage Server permission. Responders: `responders` (ECHTZEIT_RESPONDERS),
    the responder_role, or (when no role is configured) the Manage Messages permission."""
    ids, names = list(role_ids), list(role_names)
    roles: set[Role] = set()
    if (user_id in admins or permissions.administrator or permissions.manage_guild
            or _matches(settings.admin_role, role_ids=ids, role_names=names,
                        permissions=permissions)):
        roles.add(Role.ADMIN)
    if settings.responder_role:
        responder = _matches(settings.responder_role, role_ids=ids, role_names=names,
                             permissions=permissions)
    else:
        responder = permissions.manage_messages
    if responder or user_id in responders or Role.ADMIN in roles:
        roles.add(Role.RESPONDER)
    # Approvers: `approvers` (ECHTZEIT_APPROVERS), the approver_role, and every admin.
    if (Role.ADMIN in roles or user_id in approvers
            or _matches(settings.approver_role, role_ids=ids, role_names=names,
                        permissions=permissions)):
        roles |= {Role.APPROVER, Role.RESPONDER}
    return frozenset(roles)


def may(spec: CommandSpec, roles: frozenset[Role]) -> bool:
    return spec.role is None or spec.role in roles or Role.ADMIN in roles




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


# --- the handlers -----------------------------------------------------------------------------


class Interactions:
    """The handlers of commands, buttons and modal submissions; `update_card` redraws a card
    after a button or a reply changed it."""

    def __init__(self, settings: DiscordSettings, deps: Callable[[], Deps],
                 update_card: Callable[[str, str, Card], Awaitable[None]], *,
                 admins: Collection[str] = (), responders: Collection[str] = (),
                 approvers: Collection[str] = ()) -> None:
        self.settings = settings
        self.admins = frozenset(admins)
        self.responders = frozenset(responders)
        self.approvers = frozenset(approvers)
        self._deps = deps
        self._update_card = update_card

    def invocation(self, interaction: discord.Interaction[Any], args: str = "") -> Invocation:
        user = interaction.user
        roles = getattr(user, "roles", [])
        return Invocation(
            user=str(user.id), platform=PLATFORM, args=args,
            channel=str(interaction.channel_id) if interaction.channel_id else None,
            display_name=user.display_name,
            roles=member_roles(self.settings, user_id=str(user.id),
                               role_ids=[r.id for r in roles], role_names=[r.name for r in roles],
                               permissions=interaction.permissions, admins=self.admins,
                               responders=self.responders, approvers=self.approvers),
        )

    @staticmethod
    def _who(interaction: discord.Interaction[Any]) -> str:
        return f"{interaction.user} ({interaction.user.id})"

    async def _acknowledge(self, interaction: discord.Interaction[Any], what: str,
                           respond: Callable[[], Awaitable[Any]]) -> bool:
        """The initial response; False when Discord no longer takes it (Unknown interaction:
        more than three seconds went by), and then nothing else is done."""
        try:
            await respond()
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_INTERACTION:
                raise
            log.warning("discord: %s from %s was not acknowledged within Discord's 3 seconds "
                        "(Unknown interaction): they saw \"The application did not respond\", "
                        "and nothing was done", what, self._who(interaction))
            return False
        return True

    @asynccontextmanager
    async def _answering(self, interaction: discord.Interaction[Any], what: str,
                         result: Result) -> AsyncIterator[None]:
        """Around the follow-ups and edits that bring `result`: once the interaction token's
        fifteen minutes are over (Invalid Webhook Token), the member cannot be told any more;
        the log says what became of their command."""
        try:
            yield
        except discord.HTTPException as exc:
            if exc.code != INVALID_WEBHOOK_TOKEN:
                raise
            log.warning("discord: the answer to %s for %s came after Discord's 15 minutes for "
                        "an interaction (Invalid Webhook Token) and could not be shown to them; "
                        "the command %s: %s", what, self._who(interaction),
                        "was done" if result.ok else "failed", one_line(result.text, 300))

    async def _run(self, spec: CommandSpec, inv: Invocation) -> Result:
        try:
            return await run(spec, inv, self._deps())
        except Exception:  # a bug must still answer the person, who is waiting
            log.exception("discord: /%s failed", spec.name)
            return Result.error(f"{spec.name} failed unexpectedly; the log has the details.")

    async def _answer(self, interaction: discord.Interaction[Any], what: str, result: Result,
                      inv: Invocation) -> None:
        """Answer a deferred (ephemeral, thinking) interaction: privately when the result is
        only for the actor, otherwise in the channel, signed with their name."""
        async with self._answering(interaction, what, result):
            if result.ephemeral or not result.ok:
                buttons = draft_buttons(result)
                if buttons is not None:
                    await interaction.edit_original_response(embeds=embeds(result),
                                                             view=buttons,
                                                             allowed_mentions=NO_PINGS)
                    return
                await interaction.edit_original_response(embeds=embeds(result),
                                                         attachments=files(result),
                                                         allowed_mentions=NO_PINGS)
                return
            await interaction.edit_original_response(
                content="Done; the answer is in the channel.", allowed_mentions=NO_PINGS)
            await interaction.followup.send(embeds=embeds(result, actor=inv.actor),
                                            files=files(result),
                                            allowed_mentions=NO_PINGS, ephemeral=False)

    async def on_command(self, interaction: discord.Interaction[Any], spec: CommandSpec,
                         args: str) -> None:
        """A slash command: acknowledge, run the core's command, answer."""
        what = f"/{spec.name}"
        if not await self._acknowledge(interaction, what, lambda: interaction.response.defer(
                ephemeral=True, thinking=True)):
            return
        inv = self.invocation(interaction, args)
        result = await self._run(spec, inv)
        await self._answer(interaction, what, result, inv)
        await self._notify(interaction, what, result)

    async def _notify(self, interaction: discord.Interaction[Any], what: str,
                      result: Result) -> None:
        """The result's notices for Discord members (a rejection's reason for its author): a
        direct message from the bot (Discord notifies them of it); where they take none, a
        message in the channel addressed to them ("For @name", without a ping, like every
        notice here). The text is escaped in an embed."""
        for n in result.notices:
            if n.platform != PLATFORM or not _USER_ID.fullmatch(n.user):
                log.info("discord: a notice for %s on %s cannot be delivered here", n.user,
                         n.platform)
                continue
            body = notice_message(n.text)
            shown = [discord.Embed.from_dict(e) for e in body["embeds"]]
            try:
                dm = await interaction.client.create_dm(discord.Object(id=int(n.user)))
                await dm.send(embeds=shown, allowed_mentions=NO_PINGS)
                continue
            except discord.HTTPException as exc:
                log.info("discord: no direct message to %s (%s); telling them in the channel",
                         n.user, exc.text or exc.status)
            addressed = notice_message(n.text, person=n.user)
            async with self._answering(interaction, what, result):
                await interaction.followup.send(content=addressed.get("content", ""),
                                                embeds=shown, allowed_mentions=NO_PINGS,
                                                ephemeral=False)

    async def _open_draft_form(self, interaction: discord.Interaction[Any], kind: str,
                               mention_id: int, inv: Invocation, what: str) -> None:
        """Edit and Reject open their form as the first response (within three seconds)."""
        def refuse(text: str) -> Awaitable[Any]:
            return interaction.response.send_message(
                embeds=embeds(Result.error(text)), ephemeral=True, allowed_mentions=NO_PINGS)

        if kind == "reject" and not {Role.APPROVER, Role.ADMIN} & inv.roles:
            await self._acknowledge(interaction, what, lambda: refuse(
                f"Sorry, {inv.actor}: only approvers may reject a reply."))
            return
        card = await self._modal_card(mention_id)
        if card is None or card.draft_state not in ("suggested", "awaiting"):
            await self._acknowledge(interaction, what, lambda: refuse(
                f"#{mention_id} has no draft to {kind} any more."))
            return
        responder = self._deps().responders.get(card.network)
        limit = reply_limit(responder) if responder is not None else None
        await self._acknowledge(interaction, what, lambda: interaction.response.send_modal(
            DraftModal(kind, mention_id, text=card.draft_text or "", limit=limit)))

    async def on_button(self, interaction: discord.Interaction[Any], action: str,
                        mention_id: int) -> None:
        """A card button: Reply opens the modal; the others run their command and redraw the
        card at once (the relay redraws it in the other channels)."""
        what = f"the {action} button of mention {mention_id}"
        command, args = button_command(action, mention_id)
        spec = BY_NAME.get(command)
        if spec is None:
            await self._acknowledge(interaction, what, lambda: interaction.response.send_message(
                embeds=embeds(Result.error(f"{action} is no longer a command")),
                ephemeral=True, allowed_mentions=NO_PINGS))
            return
        inv = self.invocation(interaction)
        if action in ("edit", "reject"):
            if not may(spec, inv.roles):
                refused = embeds(await self._run(spec, inv))
                await self._acknowledge(
                    interaction, what, lambda: interaction.response.send_message(
                        embeds=refused, ephemeral=True, allowed_mentions=NO_PINGS))
                return
            await self._open_draft_form(interaction, action, mention_id, inv, what)
            return
        if action == "reply":
            if not may(spec, inv.roles):
                refused = embeds(await self._run(spec, inv))
                await self._acknowledge(
                    interaction, what, lambda: interaction.response.send_message(
                        embeds=refused, ephemeral=True, allowed_mentions=NO_PINGS))
                return
            # A modal must be the first response, so its placeholder's lookup is bounded.
            card = await self._modal_card(mention_id)
            await self._acknowledge(interaction, what, lambda: interaction.response.send_modal(
                ReplyModal(mention_id, reply_modal_placeholder(card))))
            return
        if not await self._acknowledge(interaction, what, interaction.response.defer):
            return
        if action == "mute":
            card = await self._card(mention_id)
            args = f"{card.network} {quote(card.author_handle)}" if card else args
        result = await self._run(spec, replace(inv, args=args))
        if result.ok:
            await self._redraw(interaction, mention_id)
        async with self._answering(interaction, what, result):
            buttons = draft_buttons(result)
            if buttons is not None:
                await interaction.followup.send(embeds=embeds(result), ephemeral=True,
                                                view=buttons, allowed_mentions=NO_PINGS)
            else:
                await interaction.followup.send(embeds=embeds(result), ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        await self._notify(interaction, what, result)

    async def on_modal_submit(self, interaction: discord.Interaction[Any]) -> None:
        """The Reply modal: the answer goes to the core's reply command."""
        data: dict[str, Any] = dict(interaction.data or {})
        drafted = _DRAFT_MODAL_ID.fullmatch(str(data.get("custom_id", "")))
        if drafted is not None:
            await self._on_draft_form(interaction, drafted["kind"], int(drafted["id"]), data)
            return
        match = _MODAL_ID.fullmatch(str(data.get("custom_id", "")))
        if match is None:  # a form of another version: say so, or Discord shows a failure
            log.info("discord: a form this version does not know: %r",
                     str(data.get("custom_id", ""))[:100])
            gone = embeds(Result.error("This form is no longer in use; open it again from "
                                       "the card."))
            await self._acknowledge(interaction, "a form", lambda: interaction.response.
                                    send_message(embeds=gone, ephemeral=True,
                                                 allowed_mentions=NO_PINGS))
            return
        mention_id = int(match["id"])
        what = f"the Reply form of mention {mention_id}"
        if not await self._acknowledge(interaction, what, lambda: interaction.response.defer(
                ephemeral=True, thinking=True)):
            return
        text = (_modal_value(data.get("components", []), REPLY_INPUT_ID) or "").strip()
        inv = self.invocation(interaction, f"{mention_id} {text}")
        result = await self._run(BY_NAME["reply"], inv)
        if result.ok:
            await self._redraw(interaction, mention_id)
        await self._answer(interaction, what, result, inv)

    async def _on_draft_form(self, interaction: discord.Interaction[Any], kind: str,
                             mention_id: int, data: dict[str, Any]) -> None:
        """The Edit form (the draft's new text) or the Reject form (the reason, which goes to
        the draft's author)."""
        what = f"the {kind.title()} form of mention {mention_id}"
        if not await self._acknowledge(interaction, what, lambda: interaction.response.defer(
                ephemeral=True, thinking=True)):
            return
        text = (_modal_value(data.get("components", []), DRAFT_INPUT_ID) or "").strip()
        inv = self.invocation(interaction, f"{mention_id} {text}")
        result = await self._run(BY_NAME[kind], inv)
        if result.ok:
            await self._redraw(interaction, mention_id)
        await self._answer(interaction, what, result, inv)
        await self._notify(interaction, what, result)

    async def _modal_card(self, mention_id: int) -> Card | None:
        try:
            return await asyncio.wait_for(self._card(mention_id), MODAL_LOOKUP_SECONDS)
        except TimeoutError:
            log.warning("discord: looking up mention %s took over %.1f s; its Reply form opens "
                        "without the author in the placeholder (Discord allows 3 s)",
                        mention_id, MODAL_LOOKUP_SECONDS)
            return None

    async def _card(self, mention_id: int) -> Card | None:
        try:
            view = await asyncio.to_thread(self._deps().store.view, mention_id)
        except NotFound:
            return None
        return self._deps().card(view)

    async def _redraw(self, interaction: discord.Interaction[Any], mention_id: int) -> None:
        message = interaction.message
        if message is None or not message.components or interaction.channel_id is None:
            return
        card = await self._card(mention_id)
        if card is None:
            return
        try:
            await self._update_card(str(interaction.channel_id), str(message.id), card)
        except ChatError as exc:
            log.warning("discord: could not redraw card %s: %s", message.id, exc)

