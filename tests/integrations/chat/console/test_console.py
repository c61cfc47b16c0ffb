"""The console chat: pure renderers, and the scripted demo as a newcomer runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console

from bot.cards import Card
from integrations.chat.console.chat import ConsoleChat
from integrations.chat.console.render import render_card

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def card(**overrides: object) -> Card:
    values: dict[str, object] = dict(  # noqa: C408 - keyword form reads like the Card
        mention_id=3, brand="Acme", network="x", author_handle="kim", author_name="Kim",
        followers=12_345, author_mentions=2, author_answered=1, text="acme is down",
        url="https://x.com/kim/status/1", language="en", sentiment="negative",
        sentiment_score=-0.62, priority="high", status="new", assignee=None,
        created_at=NOW - timedelta(minutes=14), echoes=2, likes=3, reposts=1, replies=None,
        reply_url=None, reply_by=None, reply_state=None,
        actions=("claim", "reply", "resolve", "ignore", "mute"),
    )
    values.update(overrides)
    return Card(**values)  # type: ignore[arg-type]


def test_a_card_shows_what_staff_need() -> None:
    text = render_card(card(), NOW)
    assert text.splitlines() == [
        "#3 · Acme · x · NEW · priority high",
        "@kim (Kim) · 12k followers · wrote 2x before, answered 1x",
        "  acme is down",
        "en · negative (-0.62) · 14m ago · likes 3 reposts 1 · +2 repost(s) of this text",
        "https://x.com/kim/status/1",
        "[claim]  [reply]  [resolve]  [ignore]  [mute]",
    ]


def test_terminal_escapes_and_bidi_tricks_are_removed() -> None:
    hostile = "acme \x1b[2J\x1b[31mFAKE\x07 \u202egnp.exe\u202c zero\u200bwidth"
    text = render_card(card(text=hostile, author_name="\x1b]0;pwned\x07Kim"), NOW)
    assert "\x1b" not in text and "\x07" not in text
    assert "\u202e" not in text and "\u200b" not in text
    assert "FAKE" in text  # the words stay; only the controls go


async def test_rich_markup_in_network_text_is_printed_literally() -> None:
    out = io.StringIO()
    chat = ConsoleChat(Console(file=out, width=200, force_terminal=False), now=lambda: NOW)
    await chat.send_card("care", card(text="[bold red]URGENT[/] [link=http://evil]bank[/link]"))
    assert "[bold red]URGENT[/] [link=http://evil]bank[/link]" in out.getvalue()


def test_scripted_demo_as_the_readme_shows(tmp_path: Path) -> None:
    """`printf '/list\\n/reply 3 Danke!\\n' | echtzeit demo --speed 0` in a clean data dir."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "HOME": str(tmp_path)}
    env.pop("ECHTZEIT_DATABASE_URL", None)
    script = "/list\n/claim 3\n/reply 3 Danke!\n/resolve 3\n/show 3\n/story 1\n/show 223\n"
    done = subprocess.run(
        [sys.executable, "-m", "echtzeit", "demo", "--speed", "0", "--user", "ana"],
        input=script, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.count("\n#") > 100  # cards were relayed to the console channels
    assert "ana> /list" in out
    assert "#3 is yours, ana." in out
    assert "Replied to #3 on " in out
    assert "#3 resolved." in out
    assert "REPLIED (ana)" in out and "RESOLVED (ana)" in out
    replies = (tmp_path / "echtzeit" / "demo-replies.jsonl").read_text().splitlines()
    assert len(replies) == 1 and '"text": "Danke!"' in replies[0]
    assert "mentions stored" in done.stderr
    # The sample's story across networks and its stitched person (docs/stories.md).
    assert "2 stories (2 across networks), 1 person(s) linked across networks" in done.stderr
    assert "Story 1: 5 posts (bluesky 2, hackernews 1, mastodon 1, reddit 1)" in out
    assert "Same person as mastodon:@lena@mastodon.example, bluesky:@lena-berg.example" in out
    assert out.count("↳ in the thread of message") == 5  # the stories' other posts
    assert "5 posts on 4 network(s): bluesky 2, hackernews 1, mastodon 1, reddit 1" in out
    assert "Person 1 across networks: mastodon:@lena@mastodon.example, " \
           "bluesky:@lena-berg.example" in out
