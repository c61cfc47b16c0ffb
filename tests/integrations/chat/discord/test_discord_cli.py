"""`echtzeit discord sync|invite` and `echtzeit render discord`, run as the CLI runs them.

The CLI calls asyncio.run itself, so here the fake Discord runs on its own loop in a thread
(the `threaded_fake` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from typer.testing import CliRunner

from commands import COMMANDS
from echtzeit.cli import app
from tests.integrations.chat.discord.discord_rules import (
    command_problems,
    hazards,
    message_problems,
)
from tests.integrations.chat.discord.fake_discord import FIXTURES, TOKEN, FakeDiscord

runner = CliRunner()


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    base = {"ECHTZEIT_DATA_DIR": str(tmp_path), "ECHTZEIT_DISCORD_TOKEN": "",
            "ECHTZEIT_DISCORD_APPLICATION_ID": "", "ECHTZEIT_DISCORD_GUILD_IDS": "",
            "ECHTZEIT_DISCORD_THREADS": "false"}
    base.update({f"ECHTZEIT_{k.upper()}": v for k, v in values.items()})
    return {k: v for k, v in base.items() if v != ""}


def test_invite_asks_for_exactly_what_the_bot_needs(tmp_path: Path) -> None:
    result = runner.invoke(app, ["discord", "invite"],
                           env=env(tmp_path, discord_application_id="1300000000000000001"))
    assert result.exit_code == 0, result.output
    url = urlsplit(result.output.strip())
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["1300000000000000001"]
    assert query["scope"] == ["bot applications.commands"]
    # View Channel, Send Messages, Embed Links, Read Message History (permissions.mdx bits).
    assert int(query["permissions"][0]) == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16)
    threads = runner.invoke(app, ["discord", "invite"], env=env(
        tmp_path, discord_application_id="1300000000000000001", discord_threads="true"))
    perms = int(parse_qs(urlsplit(threads.output.strip()).query)["permissions"][0])
    # ... plus Manage Threads, Create Public Threads, Send Messages in Threads.
    assert perms == 84992 | (1 << 34) | (1 << 35) | (1 << 38)


def test_invite_asks_discord_for_the_application_id(threaded_fake: FakeDiscord,
                                                    tmp_path: Path) -> None:
    result = runner.invoke(app, ["discord", "invite"], env=env(
        tmp_path, discord_token=TOKEN, discord_api_url=threaded_fake.api_url))
    assert result.exit_code == 0, result.output
    assert "client_id=1300000000000000001" in result.output


def test_sync_registers_every_command_in_the_configured_guild(threaded_fake: FakeDiscord,
                                                              tmp_path: Path) -> None:
    result = runner.invoke(app, ["discord", "sync"], env=env(
        tmp_path, discord_token=TOKEN, discord_api_url=threaded_fake.api_url,
        discord_guild_ids=threaded_fake.guild_id))
    assert result.exit_code == 0, result.output
    assert f"synced {len(COMMANDS)} commands to server {threaded_fake.guild_id}" in result.output
    synced = threaded_fake.commands[threaded_fake.guild_id]
    assert [c["name"] for c in synced] == [c.name for c in COMMANDS]
    assert all(command_problems(c) == [] for c in synced)
    assert threaded_fake.violations == []
    [put] = threaded_fake.sent("PUT", r"/guilds/\d+/commands$")
    assert put.path == f"/api/v10/applications/{threaded_fake.app_id}/guilds/" \
                       f"{threaded_fake.guild_id}/commands"


def test_sync_needs_a_token(tmp_path: Path) -> None:
    result = runner.invoke(app, ["discord", "sync"], env=env(tmp_path))
    assert result.exit_code == 2
    assert "ECHTZEIT_DISCORD_TOKEN is not set" in result.output


def test_sync_with_a_refused_token(threaded_fake: FakeDiscord, tmp_path: Path) -> None:
    result = runner.invoke(app, ["discord", "sync"], env=env(
        tmp_path, discord_token="wrong", discord_api_url=threaded_fake.api_url,
        discord_guild_ids=threaded_fake.guild_id))
    assert result.exit_code == 1
    assert "Discord refused the token" in result.output


def test_render_prints_the_message_payload(tmp_path: Path) -> None:
    post = FIXTURES / "post.json"
    result = runner.invoke(app, ["render", "discord", str(post), "--brand", "Acme", "--id", "7"],
                           env=env(tmp_path))
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert set(body) == {"content", "embeds", "components", "allowed_mentions"}
    assert body["allowed_mentions"] == {"parse": []}
    assert message_problems(body) == []
    [embed] = body["embeds"]
    assert embed["title"] == "\\#7 · Acme · mastodon"
    assert hazards(embed["description"]) == []
    assert "[click for refund](" not in embed["description"]
    assert body["components"][0]["components"][0]["custom_id"] == "ez:claim:7"
    assert body["components"][1]["components"][0]["url"] == json.loads(
        post.read_text())["url"]


def test_render_takes_the_brand_from_the_configured_brands(tmp_path: Path) -> None:
    result = runner.invoke(app, ["render", "discord", str(FIXTURES / "post.json")],
                           env=env(tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["content"].endswith("for Acme Rockets on mastodon")


def test_render_refuses_what_is_not_a_post(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": 1}')
    result = runner.invoke(app, ["render", "discord", str(bad)], env=env(tmp_path))
    assert result.exit_code == 2
    assert "expected one post" in result.output
