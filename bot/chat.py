"""The protocol that chat adapters (console, Slack, Discord) implement for the relay."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from bot.cards import Card
from bot.reporting.digest.model import Digest


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


T = TypeVar("T")


def _refused_for_now(exc: BaseException) -> bool:
    return isinstance(exc, ChatError) and exc.retry_after is not None and not exc.permanent


def _platform_wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome is not None else None
    return exc.retry_after or 1.0 if isinstance(exc, ChatError) else 1.0


async def when_allowed(call: Callable[[], Awaitable[T]], *, attempts: int = 4,
                       sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """`call()`, again after the platform's Retry-After while it answers with a rate limit
    (a 429 means the message was certainly not posted, so sending it again is safe). For the
    parts of a message that nobody retries later: the lines in a notice's thread."""
    retrying = AsyncRetrying(stop=stop_after_attempt(attempts), wait=_platform_wait,
                             retry=retry_if_exception(_refused_for_now), sleep=sleep,
                             reraise=True)
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity reraises the last error")


class ChatAdapter(Protocol):
    """Posts and updates mention cards in one chat platform's channels."""

    platform: str

    async def send_card(self, channel: str, card: Card) -> str:
        """Post the card; return the platform's reference to the message (for later edits)."""
        ...

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        """Replace the card's message in place with its new state."""
        ...


@runtime_checkable
class IdempotentChat(Protocol):
    """OPTIONAL for chat adapters: exactly-once cards across crashes.

    The relay gives every new card a token (stable per delivery). `send_card_with_token` posts
    the card carrying the token where the platform keeps it (Slack: message metadata; Discord:
    the nonce, enforced). When a card is in doubt (an earlier worker died or timed out before it
    recorded the chat's answer), the relay first calls `find_sent` with the tokens of that
    channel's cards in doubt and the earliest time they could have been posted; it returns
    {token: message_ref} for those the chat already has. Those are recorded as sent, the rest
    are sent. `threads` names the parent cards (message refs) under which cards in doubt were
    posted as replies (ThreadedChat): look there too. Raise ChatError when the lookup itself
    fails (the relay then backs off).
    Adapters without this protocol are at-least-once after a crash."""

    platform: str

    async def send_card_with_token(self, channel: str, card: Card, *, token: str) -> str: ...

    async def find_sent(self, channel: str, tokens: Sequence[str], *,
                        since: datetime, threads: Sequence[str] = ()) -> dict[str, str]: ...


@runtime_checkable
class ThreadedChat(Protocol):
    """OPTIONAL for chat adapters: a story's members under its parent card (bot.stories).

    `send_card_in_thread` posts a member's card as a reply to the parent card `parent_ref` (a
    reference `send_card` returned in the same channel): Slack a thread reply (thread_ts),
    Discord a reply to the message, the console an indented card. `token` is the delivery's
    idempotency token, as in IdempotentChat. The returned reference must work with
    `update_card`. Without this protocol, members are posted as cards of their own."""

    platform: str

    async def send_card_in_thread(self, channel: str, parent_ref: str, card: Card, *,
                                  token: str) -> str: ...


class Service(Protocol):
    """Something that runs for the life of the process (a chat connection, an HTTP endpoint,
    the scheduler). `serve` returns when `stop` is set."""

    name: str

    async def serve(self, stop: asyncio.Event) -> None: ...


@runtime_checkable
class DigestSink(Protocol):
    """OPTIONAL for chat adapters: post a digest with its chart (the scheduler uses it for the
    daily digest, at most once per channel and day).

    `digest` is a bot.reporting.digest.model.Digest; its `overdue` and `top_authors` hold network
    text, which the adapter escapes like card text (bot.reporting.digest.text.digest_lines gives a
    safe plain-text outline). `chart_png` is a PNG image (bot.reporting.chart.digest_chart).
    Return the platform's reference to the posted message. Raise ChatError when the platform did
    not take it (the run is then marked failed and tried again later); any other exception also
    counts as not posted."""

    platform: str

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str: ...


@runtime_checkable
class Notifier(Protocol):
    """OPTIONAL for chat adapters: a short notice in a channel (SLA reminders, spike alerts).

    `text` is plain text that may quote network text: escape all of it, never turn it into a
    ping or a link label. `person` is whom the notice is for (a mention's assignee as the store
    holds it: the platform's user id or the console name); the adapter may address them (a
    real mention of that user) or DM them; None means the channel. `thread` lines go as replies
    under the notice (Slack thread, Discord thread) or below it where there are no threads.
    Return the platform's reference to the notice. Raise ChatError when it was not taken."""

    platform: str

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str: ...


@runtime_checkable
class DirectMessenger(Protocol):
    """OPTIONAL for chat adapters: a direct message to one person (escalation pings). `person`
    is the platform's user id as the on-call rota holds it. Slack opens the DM with
    conversations.open, Discord with its DM channel; the console prints it. `text` is plain
    text that may quote network text: escape it. Raise ChatError when it was not taken."""

    platform: str

    async def direct(self, person: str, text: str) -> str: ...
