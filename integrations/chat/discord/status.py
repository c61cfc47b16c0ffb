"""Pinned queue status per channel (`queue pin`): one message per channel that shows the
channel's queue view (bot.reporting.queue), pinned, and edited in place when the queue changes.

A round every `poll` seconds: a wanted board without a message gets one (posted, then pinned
through PUT /channels/{id}/messages/pins/{id}, which needs the Pin Messages permission); a
posted board is edited when the store's newest event moved, at most once per `every` seconds
per channel (an edit counts against the channel's message bucket like a card; the adapter's
per-channel pacer and discord.py's rate-limit handling apply); a board that `queue unpin`
dropped is unpinned and forgotten (its message stays, no longer updated). A missing permission
is recorded on the board (and logged): the message stays unpinned until `queue pin` again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from discord.http import Route

from bot.chat import ChatError
from commands.queue import queue_builder
from integrations.chat.discord.interactions import PLATFORM
from integrations.chat.discord.render import status_message

if TYPE_CHECKING:
    from bot.models import StatusBoard
    from integrations.chat.discord.chat import DiscordChat

log = logging.getLogger(__name__)


class StatusBoards:
    """Keeps the pinned queue status of every channel that asked for one (a Service)."""

    name = "discord-status"

    def __init__(self, chat: DiscordChat, *, every: float = 60.0, poll: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.chat = chat
        self.every = every
        self.poll = poll
        self.clock = clock
        self._edited: dict[str, float] = {}  # channel -> monotonic time of the last edit

    async def round(self) -> int:
        """One pass over the boards; returns how many messages were posted, edited or
        unpinned."""
        deps = self.chat._deps()
        store = deps.store
        boards = await asyncio.to_thread(store.boards, platform=PLATFORM)
        if not boards:
            return 0
        marker = await asyncio.to_thread(store.last_event_id)
        done = 0
        for board in boards:
            try:
                done += await self._one(board, marker)
            except ChatError as exc:
                log.warning("discord: queue status in %s: %s", board.channel, exc)
                await asyncio.to_thread(store.board_failed, platform=PLATFORM,
                                        channel=board.channel, error=str(exc))
        return done

    async def _one(self, board: StatusBoard, marker: int) -> int:
        store = self.chat._deps().store
        channel_id = self.chat._channel_id(board.channel)
        if board.state == "removing":
            if board.message_ref and board.pinned:
                await self._pin(channel_id, board.message_ref, pin=False)
            await asyncio.to_thread(store.board_gone, platform=PLATFORM, channel=board.channel)
            return 1
        now = self.clock()
        fresh = board.state == "wanted"
        if not fresh and board.marker == marker:
            return 0
        if not fresh and now - self._edited.get(board.channel, -1e18) < self.every:
            return 0  # debounced: the next round after `every` edits it
        deps = self.chat._deps()
        view = await asyncio.to_thread(queue_builder(deps).build, now=deps.now())
        body = status_message(view)
        await self.chat._ready_for_rest()
        ref = board.message_ref
        if ref is not None:
            try:
                await self._edit(channel_id, ref, body)
            except ChatError as exc:
                if not exc.permanent:
                    raise
                ref = None  # the message was deleted: post a new one
        if ref is None:
            data = await self.chat._post(channel_id, body)
            ref = str(data["id"])
        self._edited[board.channel] = now
        pinned, error = board.pinned and not fresh, None
        if not pinned:
            try:
                await self._pin(channel_id, ref, pin=True)
                pinned = True
            except ChatError as exc:
                why = ("Discord refused the pin: the bot needs the Pin Messages permission "
                       "in this channel; grant it, then queue pin again" if exc.permanent
                       else f"{exc}; queue pin again later")
                error = f"posted but not pinned: {why}"
                log.warning("discord: queue status in %s %s", board.channel, error)
        await asyncio.to_thread(store.board_shown, platform=PLATFORM, channel=board.channel,
                                message_ref=ref, pinned=pinned, marker=marker, error=error)
        return 1

    async def _edit(self, channel_id: int, ref: str, body: dict[str, object]) -> None:
        route = Route("PATCH", "/channels/{channel_id}/messages/{message_id}",
                      channel_id=channel_id, message_id=int(ref))
        http = self.chat.client.http
        async with self.chat._pace(channel_id):
            await self.chat._call(lambda: http.request(route, json=body), channel=channel_id)

    async def _pin(self, channel_id: int, ref: str, *, pin: bool) -> None:
        http = self.chat.client.http
        call = http.pin_message if pin else http.unpin_message
        await self.chat._call(lambda: call(channel_id, int(ref), reason="Echtzeit queue status"),
                              channel=channel_id)

    async def serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.round()
            except Exception:
                log.exception("discord: keeping the queue status failed; trying again shortly")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
            except TimeoutError:
                pass


__all__ = ["StatusBoards"]
