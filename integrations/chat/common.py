"""What the chat adapters share: text measured and cut the way chat clients count it (UTF-16
code units, never less than the number of characters, so a limit held here is held there too),
text freed of lone surrogates (a broken upstream decoder's, which cannot travel as UTF-8 JSON),
and per-channel pacing of what a bot posts."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Limiter = TypeVar("Limiter", bound=AbstractAsyncContextManager[None])


def u16len(text: str) -> int:
    """Length in UTF-16 code units (what Slack and Discord count limits in)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def sound(text: str) -> str:
    """`text` with every surrogate code point replaced by "?" (as UTF-8 encoding replaces)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def whole(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates replaced by U+FFFD."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def cut16(text: str, limit: int) -> str:
    """At most `limit` UTF-16 units of `text` (made `sound`), never half a surrogate pair."""
    text = sound(text)
    if u16len(text) <= limit:
        return text
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


class Pacer(AbstractAsyncContextManager[None]):
    """A leaky bucket of `burst` messages draining at `per_second`, on an injected clock:
    `async with pacer:` waits (with `sleep`) until the bucket has room, then counts one message.
    Waiters go first come, first served.

    aiolimiter does the same on the event loop's own clock; this one takes `clock` and `sleep`
    so that a test shares one clock between the adapter and the fake service that enforces the
    limit (testkit.clock.Monotonic), and runs at the real pace without waiting for it."""

    def __init__(self, per_second: float, burst: int = 1, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("a pacer needs per_second > 0 and burst >= 1")
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self.sleep = sleep
        self._level = 0.0
        self._then: float | None = None
        self._turn = asyncio.Lock()

    def _leak(self) -> None:
        now = self.clock()
        if self._then is not None:
            self._level = max(0.0, self._level - (now - self._then) * self.per_second)
        self._then = now

    async def __aenter__(self) -> None:
        async with self._turn:
            self._leak()
            while self._level + 1 > self.burst + 1e-9:  # float rounding is no reason to wait
                await self.sleep((self._level + 1 - self.burst) / self.per_second)
                self._leak()
            self._level += 1

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        return None


class Pacers(Generic[Key, Limiter]):
    """One rate limiter per channel, made by `make` on the channel's first message."""

    def __init__(self, make: Callable[[], Limiter]) -> None:
        self._make = make
        self._limiters: dict[Key, Limiter] = {}

    def __call__(self, channel: Key) -> Limiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = self._limiters[channel] = self._make()
        return limiter
