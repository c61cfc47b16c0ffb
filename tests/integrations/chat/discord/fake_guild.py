"""The guild as the fake Discord knows it: the channels it sends in GUILD_CREATE
(tests/fixtures/discord/guild_create.json), the threads the bot starts, and the bot's
permissions in each, computed as Discord documents. A request about a channel answers as
Discord does when the channel is unknown or closed to the bot.

Sources (discord/discord-api-docs @ 2026-08):

- developers/topics/permissions.mdx: the permission bits (Bitwise Permission Flags); the bot's
  base permissions are those of @everyone (the role whose id is the guild's) and of its own
  roles (the managed role tagged with its bot_id), ADMINISTRATOR meaning all; channel overwrites
  apply in the documented order (@everyone deny, allow; roles deny, allow; member deny, allow);
  "Denying a user or a role VIEW_CHANNEL on a channel implicitly denies other permissions on the
  channel"; "Users must have the VIEW_CHANNEL permission to view any threads in the channel",
  so a thread answers with its parent's permissions.
- developers/resources/message.mdx, Create Message, Limitations: "the current user must have the
  SEND_MESSAGES permission" (in a thread: SEND_MESSAGES_IN_THREADS, "Allows for sending messages
  in threads" in the permissions table); Edit Message lets the author edit their message, so
  only VIEW_CHANNEL is needed there.
- developers/resources/channel.mdx, Start Thread from Message; CREATE_PUBLIC_THREADS ("Allows
  for creating public and announcement threads", permissions.mdx).
- developers/topics/opcodes-and-status-codes.mdx, JSON error codes: 10003 Unknown channel (404),
  50001 Missing access and 50013 "You lack permissions to perform that action" (403). Which of
  the two a refusal gets is not written down: a channel the bot cannot see (no VIEW_CHANNEL)
  answers 50001 "Missing Access", one it sees but may not act in 50013 "Missing Permissions",
  as discord.js's guide describes the API's answers (discordjs/guide,
  guide/popular-topics/permissions-extended.md, on implicit permissions).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

ADMINISTRATOR = 1 << 3
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
MANAGE_MESSAGES = 1 << 13
PIN_MESSAGES = 1 << 51
ALL = (1 << 53) - 1

TEXT_CHANNELS = {0, 5}  # GUILD_TEXT, GUILD_ANNOUNCEMENT: where the bot posts
THREADS = {10, 11, 12}  # announcement, public and private threads


@dataclass(frozen=True)
class Refusal:
    status: int
    code: int
    message: str


UNKNOWN_CHANNEL = Refusal(404, 10003, "Unknown Channel")
MISSING_ACCESS = Refusal(403, 50001, "Missing Access")
MISSING_PERMISSIONS = Refusal(403, 50013, "Missing Permissions")


class Guild:
    """The one guild of the fake, seen by the bot `bot_id`."""

    def __init__(self, data: dict[str, Any], bot_id: str) -> None:
        self.data = data  # GUILD_CREATE's payload: channels added later go into it too
        self.id = str(data["id"])
        self.bot_id = bot_id
        self.threads: dict[str, dict[str, Any]] = {}

    @property
    def channels(self) -> dict[str, dict[str, Any]]:
        return {str(c["id"]): c for c in self.data["channels"]}

    def channel_named(self, name: str) -> str:
        [found] = [cid for cid, c in self.channels.items() if c["name"] == name]
        return found

    def add_channel(self, channel_id: str, name: str, *,
                    overwrites: list[dict[str, Any]] | None = None,
                    kind: int = 0) -> dict[str, Any]:
        """A channel made in the guild (what CHANNEL_CREATE carries)."""
        channel: dict[str, Any] = copy.deepcopy(self.data["channels"][0])
        channel.update(id=channel_id, name=name, type=kind, guild_id=self.id,
                       position=len(self.data["channels"]) + 1,
                       permission_overwrites=list(overwrites or []), last_message_id=None)
        self.data["channels"].append(channel)
        return channel

    def overwrite(self, channel_id: str, target: str, *, allow: int = 0, deny: int = 0,
                  member: bool = False) -> dict[str, Any]:
        """Set the overwrite of role or member `target` on a channel (what CHANNEL_UPDATE
        carries); returns the channel."""
        channel: dict[str, Any] = self.channels[channel_id]
        rest = [o for o in channel["permission_overwrites"] if str(o["id"]) != target]
        rest.append({"id": target, "type": 1 if member else 0, "allow": str(allow),
                     "deny": str(deny)})
        channel["permission_overwrites"] = rest
        return channel

    # --- the bot's permissions ----------------------------------------------------------------

    def bot_roles(self) -> list[str]:
        return [str(r["id"]) for r in self.data["roles"]
                if str((r.get("tags") or {}).get("bot_id")) == self.bot_id]

    def base_permissions(self) -> int:
        roles = {str(r["id"]): int(r["permissions"]) for r in self.data["roles"]}
        permissions = roles.get(self.id, 0)
        for role in self.bot_roles():
            permissions |= roles.get(role, 0)
        return ALL if permissions & ADMINISTRATOR else permissions

    def permissions(self, channel_id: str) -> int | None:
        """The bot's permissions in a channel or thread; None for a channel it does not know."""
        thread = self.threads.get(channel_id)
        if thread is not None:
            return self.permissions(str(thread["parent_id"]))
        channel = self.channels.get(channel_id)
        if channel is None:
            return None
        base = self.base_permissions()
        if base & ADMINISTRATOR:
            return ALL
        overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites") or []}
        permissions = base
        everyone = overwrites.get(self.id)
        if everyone:
            permissions &= ~int(everyone["deny"])
            permissions |= int(everyone["allow"])
        allow = deny = 0
        for role in self.bot_roles():
            o = overwrites.get(role)
            if o and int(o["type"]) == 0:
                allow |= int(o["allow"])
                deny |= int(o["deny"])
        permissions &= ~deny
        permissions |= allow
        mine = overwrites.get(self.bot_id)
        if mine and int(mine["type"]) == 1:
            permissions &= ~int(mine["deny"])
            permissions |= int(mine["allow"])
        return permissions

    def refusal(self, channel_id: str, needs: int = 0) -> Refusal | None:
        """What Discord answers the bot about `channel_id` when it needs `needs` besides
        VIEW_CHANNEL; None when it may go ahead."""
        permissions = self.permissions(channel_id)
        if permissions is None:
            return UNKNOWN_CHANNEL
        if not permissions & VIEW_CHANNEL:
            return MISSING_ACCESS
        if permissions & needs != needs:
            return MISSING_PERMISSIONS
        return None

    def to_post(self, channel_id: str) -> Refusal | None:
        """Create Message: SEND_MESSAGES in a channel, SEND_MESSAGES_IN_THREADS in a thread."""
        in_thread = channel_id in self.threads
        return self.refusal(channel_id,
                            SEND_MESSAGES_IN_THREADS if in_thread else SEND_MESSAGES)
