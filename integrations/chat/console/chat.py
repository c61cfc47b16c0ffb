"""The console chat: mention cards and command results in a terminal (the commands typed at its
prompt are read by listeners.py)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.cards import Card
from bot.clock import utcnow
from bot.reporting.digest.model import Digest
from bot.untrusted import clean
from commands import Result
from integrations.chat.console.render import (
    STYLE,
    render_card,
    render_digest,
    render_notice,
    render_result,
    render_update,
)

PLATFORM = "console"


class ConsoleChat:
    """A chat adapter whose channels are sections of one terminal."""

    platform = PLATFORM

    def __init__(self, console: Console | None = None,
                 *, now: Callable[[], datetime] = utcnow, files_dir: Path | None = None) -> None:
        self.console = console or Console(highlight=False)
        self.now = now
        self.sent: list[tuple[str, Card]] = []
        self._next = 0
        # Where attachments (digest charts) are saved, since a terminal cannot show them.
        self.files_dir = files_dir or Path(tempfile.gettempdir()) / "echtzeit-files"

    def _print(self, text: str, style: str = "") -> None:
        # Text objects, never markup strings: untrusted text cannot inject rich markup.
        self.console.print(Text(text, style=style), soft_wrap=True)

    async def send_card(self, channel: str, card: Card) -> str:
        self._next += 1
        self.sent.append((channel, card))
        self._print(f"\n#{channel}", "bold")
        self._print(render_card(card, self.now()), STYLE.get(card.priority, ""))
        return f"{channel}/{self._next}"

    async def send_card_in_thread(self, channel: str, parent_ref: str, card: Card, *,
                                  token: str) -> str:
        """bot.chat.ThreadedChat: a story's member, indented under its parent card."""
        self._next += 1
        self.sent.append((channel, card))
        parent = parent_ref.rpartition("/")[2]
        self._print(f"  #{channel} ↳ in the thread of message {parent}", "bold")
        self._print("\n".join("    " + line for line in render_card(card, self.now()).splitlines()),
                    STYLE.get(card.priority, ""))
        return f"{channel}/{self._next}"

    async def update_card(self, channel: str, message_ref: str, card: Card) -> None:
        self._print(f"#{channel} {render_update(card)}", "dim")

    def show(self, result: Result) -> None:
        self._print(render_result(result, self.now()), "" if result.ok else "yellow")
        for n in result.notices:  # the console's people all read this terminal
            self._print(render_notice(n.text, person=n.user, thread=()), "magenta")
        for a in result.attachments:
            self._print(f"[{a.alt or a.filename}] saved to {self.save_file(a.filename, a.data)}",
                        "dim")

    def save_file(self, filename: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / re.sub(r"[^\w.-]", "_", filename)
        path.write_bytes(data)
        return path

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str:
        """bot.chat.DigestSink: print the digest, save its chart and print the file's path."""
        self._next += 1
        self._print(f"\n#{channel}", "bold")
        self._print(render_digest(digest, self.now()))
        name = f"digest-{channel}-{digest.periods[0].label.split(' ')[0]}.png"
        self._print(f"[chart] saved to {self.save_file(name, chart_png)}", "dim")
        return f"{channel}/{self._next}"

    async def direct(self, person: str, text: str) -> str:
        """bot.chat.DirectMessenger: a direct message, printed for `person`."""
        self._next += 1
        self._print(f"DM to {clean(person)}: {render_notice(text, person=None, thread=())}",
                    "magenta")
        return f"dm:{person}/{self._next}"

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        """bot.chat.Notifier: a notice in the channel, addressed to `person` if given."""
        self._next += 1
        self._print(f"#{channel} {render_notice(text, person=person, thread=thread)}", "magenta")
        return f"{channel}/{self._next}"
