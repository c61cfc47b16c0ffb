"""The application commands: built from commands.COMMANDS onto the client's tree, and synced to
Discord by `echtzeit discord sync` (never on start); the invite link with the bot's permissions."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import discord
from discord import app_commands

from commands import COMMANDS
from integrations.chat.discord.commands import Handler, OptionSpec, Suggester, build_command


class CommandSync:
    """One application command per core command on `tree`, and their registration."""

    def __init__(self, tree: app_commands.CommandTree[Any],
                 login: Callable[[], Awaitable[None]],
                 on_command: Handler,
                 suggesters: dict[str, Callable[[OptionSpec], Suggester]]) -> None:
        self.tree = tree
        self._login = login
        self.commands: dict[str, app_commands.Command[Any, ..., None]] = {}
        for spec in COMMANDS:
            command = build_command(spec, on_command, suggesters)
            tree.add_command(command)
            self.commands[spec.name] = command

    async def sync(self, guild_ids: Iterable[str]) -> dict[str, list[str]]:
        """Register the commands with Discord: in each guild given (instantly visible), or
        globally when none is given (may take up to an hour to show)."""
        await self._login()
        tree = self.tree
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
