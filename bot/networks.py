"""The two small protocols each network module implements: a source and a responder."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from bot.domain import Post

if TYPE_CHECKING:  # the tables (SQLModel) only for the annotation
    from bot.models import Mention


@dataclass(frozen=True, slots=True)
class Batch:
    """Posts from a source and the cursor to save once they are stored."""

    posts: list[Post]
    cursor: str | None


class Source(Protocol):
    """Where mentions come from. `stream` resumes after `cursor` and never ends by itself
    unless the source is finite (a replay).

    OPTIONAL attributes: `finite = True` when the stream ends by itself (it is then done, not
    restarted); `everywhere = True` when the posts are fed inside the process (a push
    endpoint's): every replica runs it. Any other source runs in one replica at a time under
    its lease (bot.leases), so `name` must be stable and the same in every replica."""

    name: str

    def stream(self, cursor: str | None) -> AsyncIterator[Batch]: ...


@dataclass(frozen=True, slots=True)
class PostedReply:
    id: str
    url: str | None


class ReplyRejected(Exception):
    """The network refused the reply: it is certainly not posted."""


class ReplyUncertain(Exception):
    """An error left it unclear whether the network accepted the reply (timeout, 5xx)."""


class Responder(Protocol):
    """Posts an answer on the network as a real reply to a mention."""

    network: str

    def check(self, text: str) -> str | None:
        """Why `text` breaks the network's rules (length, ...), or None if it may be sent."""
        ...

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        """Post `text` as a reply to `mention`; raise ReplyRejected or ReplyUncertain."""
        ...


def length_problem(network: str, text: str, limit: int, *, size: int | None = None) -> str | None:
    """The common reply rule: not empty, and at most `limit` long (`size` when the network
    counts other than by code points)."""
    if not text.strip():
        return "the reply is empty"
    size = len(text) if size is None else size
    if size > limit:
        return f"{network} allows {limit} characters, this reply has {size}"
    return None
