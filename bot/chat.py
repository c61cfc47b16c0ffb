"""The protocol that chat adapters (console, Slack, Discord) implement for the relay."""

from __future__ import annotations

import asyncio
from typing import Protocol

from bot.cards import Card


class ChatError(Exception):
    """A chat platform did not take a message.

    `retry_after` is the platform's own wait (e.g. 429 Retry-After) in seconds; `permanent` means
    a retry cannot help (channel gone, message rejected as invalid)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class ChatAdapter(Protocol):
    """Posts and updates mention cards in one chat platform's channels."""

    platform: str

    async def send_card(self, channel: str, card: Card) -> str:
        """Post the card; return the platform's reference to the message (for later edits)."""
        ...

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        """Replace the card's message in place with its new state."""
        ...


class Service(Protocol):
    """Something that runs for the life of the process (a chat connection, an HTTP endpoint,
    the scheduler). `serve` returns when `stop` is set."""

    name: str

    async def serve(self, stop: asyncio.Event) -> None: ...
