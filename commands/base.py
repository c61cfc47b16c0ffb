"""What every command gets and returns; no chat platform appears here."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.clock import utcnow

if TYPE_CHECKING:
    # Annotations only: `import commands` stays free of SQLAlchemy, so that a light command
    # (`echtzeit cmd help`) starts fast.
    from bot.cards import Card
    from bot.drafting import Drafter
    from bot.networks import Moderator, Publisher, Responder
    from bot.reporting.digest.builder import DigestBuilder
    from bot.reporting.queue import QueueBuilder
    from bot.store import Store
    from bot.store.views import MentionView


class Role(StrEnum):
    RESPONDER = "responder"  # may answer customers and work mentions
    APPROVER = "approver"  # may approve, edit and reject others' replies where needed
    ADMIN = "admin"  # may change brands, routes and templates


@dataclass(frozen=True, slots=True)
class Invocation:
    """Who asked for what, where. `args` is the raw text after the command's name."""

    user: str
    platform: str
    args: str = ""
    channel: str | None = None
    display_name: str | None = None
    roles: frozenset[Role] = frozenset()

    @property
    def actor(self) -> str:
        """How the event log and the cards name this person."""
        return self.display_name or self.user


class InFlight:
    """The tasks running a command right now (a slash command, a button, a typed line),
    tracked to their end (the answer sent back too), so that a stopping process lets them
    finish before it closes the chat connections."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def track(self) -> None:
        """Track the current task until it ends."""
        task = asyncio.current_task()
        if task is not None and task not in self._tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def __len__(self) -> int:
        return len(self._tasks)

    async def settle(self, seconds: float) -> int:
        """Wait up to `seconds` for the running commands (not the caller's own task);
        returns how many are still running."""
        mine = asyncio.current_task()
        running = [t for t in self._tasks if t is not mine and not t.done()]
        if running and seconds > 0:
            _, late = await asyncio.wait(running, timeout=seconds)
            return len(late)
        return len(running)


@dataclass
class Deps:
    """What commands may use: the store, the networks' responders, the clock."""

    store: Store
    responders: Mapping[str, Responder] = field(default_factory=dict)
    # Networks that can hide comments on the brand's own posts (bot.networks.Moderator).
    moderators: Mapping[str, Moderator] = field(default_factory=dict)
    now: Callable[[], datetime] = utcnow
    # The digest builder with the configured time zone, digest hour and business hours;
    # None: bot.reporting.digest.builder's defaults.
    digest: DigestBuilder | None = None
    in_flight: InFlight = field(default_factory=InFlight)
    # Followers from which an author counts as high reach (Settings.high_reach_followers), for
    # the priority a sentiment correction recomputes.
    high_reach: int = 10_000
    # Posting on the brand's own accounts (prepared posts), per network.
    publishers: Mapping[str, Publisher] = field(default_factory=dict)
    # The queue view's builder (time zone of "today", the on-call hook); None: built from
    # `digest`'s time zone without a rota (commands.queue).
    queue: QueueBuilder | None = None
    # Chat platforms whose adapter keeps a pinned queue status per channel (`queue pin`).
    status_boards: frozenset[str] = frozenset()
    # The AI endpoint that drafts replies (integrations/ai/); None: AI drafts are off.
    drafter: Drafter | None = None

    def card(self, view: MentionView) -> Card:
        """The card of `view` with the buttons this desk offers."""
        from bot.cards import card_for

        return card_for(view, reply_networks=self.responders, ai_drafts=self.drafter is not None,
                        moderators=self.moderators)


@dataclass(frozen=True, slots=True)
class HistoryItem:
    mention_id: int
    created_at: datetime
    status: str
    text: str  # untrusted: from the network


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that goes with a result (the digest's chart). `alt` describes it in words."""

    filename: str
    data: bytes
    mime: str = "image/png"
    alt: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for one person, apart from the command's answer: a rejected draft's reason
    for its author. `user` is their id on `platform` (the adapter of that platform addresses
    them: a direct message, or a mention in the channel); `text` is plain text, escaped by the
    renderer like any other (it may quote what staff typed)."""

    platform: str
    user: str
    text: str
    mention_id: int | None = None


@dataclass
class Result:
    """What a command answers. `text` is plain text; renderers escape it like any other text,
    and untrusted network text travels only in `cards` and `history`."""

    text: str
    ok: bool = True
    ephemeral: bool = False
    cards: list[Card] = field(default_factory=list)
    history: list[HistoryItem] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    # What `history` holds, as its heading.
    history_title: str = "Earlier from this author"

    @classmethod
    def error(cls, text: str) -> Result:
        """A refusal or a bad argument: always one line that fits any chat message, however
        long or odd the words it quotes back."""
        return cls(text=one_line(text), ok=False, ephemeral=True)


ERROR_LIMIT = 500
_BREAKS = re.compile(r"[^\S ]+")


def one_line(text: str, limit: int = ERROR_LIMIT) -> str:
    """`text` on one line (line breaks, tabs and other non-space whitespace become spaces),
    cut to `limit` characters with an ellipsis."""
    flat = _BREAKS.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def quoted(word: str, limit: int = 60) -> str:
    """A word the person typed, quoted in an answer: repr (control characters shown, not
    sent), and no longer than `limit`."""
    return repr(word if len(word) <= limit else word[: limit - 1] + "…")


# A command that only uses the store is a plain function: `commands.run` runs it in a worker
# thread, so its database work never stalls the event loop that acknowledges other people's
# clicks within Slack's 3 seconds. A command that awaits a network (reply) is a coroutine and
# moves its own store calls to a thread.
Handler = Callable[[Invocation, Deps], Awaitable[Result]] | Callable[[Invocation, Deps], Result]


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One command: its name, usage line, who may run it, and the handler whose docstring is
    the help text every chat platform shows."""

    name: str
    usage: str
    handler: Handler
    role: Role | None = None  # None: anyone in the channel

    @property
    def help(self) -> str:
        return (self.handler.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.help.splitlines()[0] if self.help else ""


class UsageError(ValueError):
    """A bad argument: the message says what was expected."""


# Ids are SQL BIGINTs: more digits than this cannot name a row.
_MAX_ID_DIGITS = 18


def parse_id(token: str, what: str = "mention") -> int:
    """A row id as typed: "42" or "#42", ASCII digits only (int() would also take "٤٢")."""
    raw = token.strip().lstrip("#")
    if not raw or not raw.isascii() or not raw.isdigit():
        raise UsageError(f"expected a {what} id such as 42 or #42, not {quoted(token)}")
    if len(raw) > _MAX_ID_DIGITS:
        raise UsageError(f"there is no {what} {quoted(token)}")
    return int(raw)


def mention_id(token: str) -> int:
    return parse_id(token, "mention")


def first_token(args: str) -> tuple[str, str]:
    """Split off the first word (a "double-quoted" one may hold spaces)."""
    args = args.strip()
    if not args:
        return "", ""
    if args[0] == '"':
        end = args.find('"', 1)
        if end == -1:
            raise UsageError("unclosed quote")
        return args[1:end], args[end + 1:].strip()
    head, _, rest = args.partition(" ")
    return head, rest.strip()
