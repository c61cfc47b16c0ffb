"""The console's inbound side: command lines, read from standard input in a thread (a terminal
or a script: printf '/list\n/reply 3 Danke!\n' | echtzeit demo --speed 0), each run as the
person at the console, who runs the desk."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TextIO

from rich.text import Text

from commands import Deps, Invocation, Role, dispatch
from integrations.chat.console.chat import PLATFORM, ConsoleChat


def console_invocation(user: str) -> Invocation:
    """The person at the console runs the desk: they may answer, approve and administer."""
    return Invocation(user=user, platform=PLATFORM, display_name=user,
                      roles=frozenset({Role.RESPONDER, Role.APPROVER, Role.ADMIN}))


AS = "/as"


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
            chat.console.print(Text(f"{inv.user}> ", style="bold green"), end="")
        line = await lines.get()
        if line is None:
            return
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line in ("/quit", "/exit", "quit", "exit"):
            return
        if prompt is False:
            chat._print(f"{inv.user}> {line}", "bold green")
        if line.split(" ", 1)[0] in (AS, AS[1:]):
            # Several people share one terminal (a demo of approvals: one writes, another
            # approves): `/as bea` types as bea from here on.
            name = line.split(" ", 1)[1].strip() if " " in line else ""
            if not name or not name.isprintable() or len(name) > 60:
                chat._print("! usage: /as <name>", "yellow")
            else:
                inv = console_invocation(name)
                chat._print(f"You are {name} now.", "dim")
            continue
        chat.show(await dispatch(line, inv, deps))
        if after_each is not None:
            waited = after_each()
            if asyncio.iscoroutine(waited):
                await waited
