"""What the chat adapters share: text measured and cut the way chat clients count it (UTF-16
code units, never less than the number of characters, so a limit held here is held there too),
text freed of lone surrogates (a broken upstream decoder's, which cannot travel as UTF-8 JSON),
and per-channel pacing of what a bot posts."""
from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from aiolimiter import AsyncLimiter

Key = TypeVar("Key", bound=Hashable)


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


class Pacers(Generic[Key]):
    """One rate limiter per channel, made by `make` on the channel's first message."""

    def __init__(self, make: Callable[[], AsyncLimiter]) -> None:
        self._make = make
        self._limiters: dict[Key, AsyncLimiter] = {}

    def __call__(self, channel: Key) -> AsyncLimiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = self._limiters[channel] = self._make()
        return limiter
