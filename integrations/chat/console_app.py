"""The console chat: mention cards and command results in a terminal, commands at a prompt.

When standard input is not a terminal, commands are read line by line, so a session can be
scripted: printf '/list\n/reply 3 Danke!\n' | echtzeit demo --speed 0
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot.cards import Card
from bot.store import utcnow
from commands import Deps, Invocation, Result, Role, dispatch
from integrations.chat.console_render import STYLE, render_card, render_result, render_update

PLATFORM = "console"


class ConsoleChat:
    """A chat adapter whose channels are sections of one terminal."""

    platform = PLATFORM

    def __init__(self, console: Console | None = None,
                 *, now: Callable[[], datetime] = utcnow) -> None:
        self.console = console or Console(highlight=False)
        self.now = now
        self.sent: list[tuple[str, Card]] = []
        self._next = 0

    def _print(self, text: str, style: str = "") -> None:
        # Text objects, never markup strings: untrusted text cannot inject rich markup.
        self.console.print(Text(text, style=style), soft_wrap=False)

    async def send_card(self, channel: str, card: Card) -> str:
        self._next += 1
        self.sent.append((channel, card))
        self._print(f"\n#{channel}", "bold")
        self._print(render_card(card, self.now()), STYLE.get(card.priority, ""))
        return f"{channel}/{self._next}"

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        self._print(f"#{channel} {render_update(card)}", "dim")

    def show(self, result: Result) -> None:
        self._print(render_result(result, self.now()), "" if result.ok else "yellow")


def console_invocation(user: str) -> Invocation:
    """The person at the console runs the desk: they may answer and administer."""
    return Invocation(user=user, platform=PLATFORM, display_name=user,
                      roles=frozenset({Role.RESPONDER, Role.ADMIN}))


def _reader(stream: TextIO, loop: asyncio.AbstractEventLoop,
            queue: asyncio.Queue[str | None]) -> None:
    for line in stream:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


def start_reader(stream: TextIO) -> asyncio.Queue[str | None]:
    """Read lines in a daemon thread (a blocked read must not keep the process alive)."""
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    thread = threading.Thread(target=_reader, args=(stream, asyncio.get_running_loop(), queue),
                              daemon=True, name="console-input")
    thread.start()
    return queue


async def command_loop(
    chat: ConsoleChat,
    deps: Deps,
    lines: asyncio.Queue[str | None],
    *,
    user: str,
    prompt: bool,
    after_each: Callable[[], object] | None = None,
) -> None:
    """Run each command line until end of input or /quit."""
    inv = console_invocation(user)
    while True:
        if prompt:
            chat.console.print(Text(f"{user}> ", style="bold green"), end="")
        line = await lines.get()
        if line is None:
            return
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("/quit", "/exit", "quit", "exit"):
            return
        if prompt is False:
            chat._print(f"{user}> {line}", "bold green")
        chat.show(await dispatch(line, inv, deps))
        if after_each is not None:
            waited = after_each()
            if asyncio.iscoroutine(waited):
                await waited
