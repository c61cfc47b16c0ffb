"""The two small protocols each network module implements (a source and a responder), and the
one list of networks Echtzeit knows (`NetworkSpec`), installed by the top floor at start-up.

The list lives with the network plug-ins (integrations/networks/specs.py); the core cannot
import them, so `echtzeit` installs it (`install_networks`) and the query language, the SLA
defaults and the demo's reply limits read it (`network_specs`). Reading it before it is
installed raises `NetworksNotInstalled`: an empty list would silently refuse every network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.domain import Post

if TYPE_CHECKING:  # the tables (SQLModel) only for the annotation
    from bot.models import Mention


@dataclass(frozen=True, slots=True)
class PostChange:
    """The network says a post was deleted (`text` None) or edited (`text`: the new text;
    `rating`: an app-store review's new stars, None where the network has none)."""

    network: str
    external_id: str
    kind: str  # "deleted" | "edited"
    at: datetime
    text: str | None = None
    rating: int | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """Posts from a source and the cursor to save once they are stored; `changes`: posts the
    network reports deleted or edited (applied to the stored mentions, if any, with the
    batch)."""

    posts: list[Post]
    cursor: str | None
    changes: list[PostChange] = field(default_factory=list)


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
    # What the person who replied should know about it, in one line (an App Store response
    # replaced the review's earlier one, and waits to be published); None: nothing.
    note: str | None = None


class ReplyRejected(Exception):
    """The network refused the reply: it is certainly not posted."""


class ReplyUncertain(Exception):
    """An error left it unclear whether the network accepted the reply (timeout, 5xx)."""


class PostGone(ReplyRejected):
    """The post to answer is gone: the network's look-up before the reply found it deleted or
    removed. Nothing was posted; the mention is marked deleted."""


class Responder(Protocol):
    """Posts an answer on the network as a real reply to a mention."""

    network: str

    def check(self, text: str) -> str | None:
        """Why `text` breaks the network's rules (length, ...), or None if it may be sent."""
        ...

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        """Post `text` as a reply to `mention`; raise ReplyRejected or ReplyUncertain."""
        ...


def reply_limit(responder: Responder) -> int | None:
    """The longest reply the network takes, as its responder's `check` tells (an explicit
    `max_chars` attribute wins); None when it names no limit up to 100,000 characters."""
    explicit = getattr(responder, "max_chars", None)
    if isinstance(explicit, int) and explicit > 0:
        return explicit
    if responder.check("x") is not None:
        return None
    low, high = 1, 100_000
    if responder.check("x" * high) is None:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if responder.check("x" * middle) is None:
            low = middle
        else:
            high = middle
    return low


class Publisher(Protocol):
    """Posts on the brand's own account of a network: a new post, not a reply (the prepared
    posts of bot.store.publishing). Responders of networks that can publish implement it too.
    """

    network: str

    def check(self, text: str) -> str | None:
        """Why `text` breaks the network's rules (length, ...), or None if it may be posted."""
        ...

    async def publish(self, *, text: str, key: str) -> PostedReply:
        """Post `text` on the brand's account; `key` is stable per publication (networks with
        idempotency keys use it). Raise ReplyRejected (certainly not posted) or
        ReplyUncertain (maybe posted)."""
        ...


class ModerationRefused(Exception):
    """The network did not hide (or unhide) the comment; the message says why in one line
    (a missing permission names it)."""


class Moderator(Protocol):
    """Hides comments on the brand's own posts (Facebook Page, Instagram media): a network
    capability, implemented by the plug-ins whose API has such an action."""

    network: str

    def can_hide(self, mention: Mention) -> str | None:
        """Why this mention cannot be hidden through the API, or None if it can."""
        ...

    async def set_hidden(self, *, mention: Mention, hidden: bool) -> None:
        """Hide (`hidden=True`) or show the comment again; raise ModerationRefused."""
        ...


# What to do instead, on networks whose APIs cannot hide others' posts.
NO_HIDE = {
    "mastodon": "Mastodon has no hide for others' posts; use mute or report",
    "bluesky": "Bluesky has no hide for others' posts; use mute or report (or detach a quote)",
    "x": "X's API hides replies only to the brand's own posts in conversations it started "
         "(not supported here); use mute or report",
    "reddit": "Reddit removes comments only for moderators of the subreddit; use mute or report",
    "youtube": "YouTube hides comments only on the brand's own videos (not supported here); "
               "use mute or report",
    "threads": "Threads hides replies only under the brand's own posts (manage_reply, not "
               "supported here); use mute or report",
}


def no_hide_line(network: str) -> str:
    """The clear line for a network without a hide action."""
    return NO_HIDE.get(network, f"{network} has no hide for others' posts; use mute or report")


def length_problem(network: str, text: str, limit: int, *, size: int | None = None) -> str | None:
    """The common reply rule: not empty, and at most `limit` long (`size` when the network
    counts other than by code points)."""
    if not text.strip():
        return "the reply is empty"
    size = len(text) if size is None else size
    if size > limit:
        return f"{network} allows {limit} characters, this reply has {size}"
    return None


# --- the list of networks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """What the core knows of one network.

    `reply_limit`: characters one reply may have (None: no replies through its API);
    `reply_length`: how the network counts them where that is not by code points (X weighs
    links, emoji and CJK), so that every responder of the network, the demo's too, refuses
    what the network would; `sla_minutes`: the default first-response target, the `target` of
    the SLA rule (bot.reporting.sla.rule: due at created + target, warned at its warn share;
    None: the rule's fallback); `queryable`: `network:<name>` may be used in a query;
    `off_reason`: what turns it on, for `echtzeit networks` (None for networks only the webhook
    carries); `private`: each item is one customer's own message to the brand (a mail), never
    a repost of another's, however alike the texts."""

    name: str
    reply_limit: int | None = None
    reply_length: Callable[[str], int] | None = None
    sla_minutes: int | None = None
    queryable: bool = True
    off_reason: str | None = None
    private: bool = False


class NetworksNotInstalled(RuntimeError):
    """The list of networks was read before the top floor installed it."""


_installed: tuple[NetworkSpec, ...] | None = None


def install_networks(specs: Iterable[NetworkSpec]) -> tuple[NetworkSpec, ...]:
    """Make `specs` the list of networks (replacing an earlier one). Names must be unique."""
    global _installed
    specs = tuple(specs)
    names = [s.name for s in specs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"network named twice: {', '.join(twice)}")
    _installed = specs
    return specs


def network_specs() -> tuple[NetworkSpec, ...]:
    """The installed list of networks, in `echtzeit networks` order."""
    if _installed is None:
        raise NetworksNotInstalled(
            "the list of networks is not installed: the top floor (echtzeit) calls "
            "bot.networks.install_networks(...) at start-up, tests in tests/conftest.py")
    return _installed


def network_names() -> tuple[str, ...]:
    return tuple(s.name for s in network_specs())


def private_networks() -> frozenset[str]:
    """The networks whose items are never folded as reposts (NetworkSpec.private)."""
    return frozenset(s.name for s in network_specs() if s.private)


def queryable_networks() -> tuple[str, ...]:
    """The names `network:` accepts in a query."""
    return tuple(s.name for s in network_specs() if s.queryable)
