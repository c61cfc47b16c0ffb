"""`echtzeit run` with a Discord token: the real process relays cards to Discord, opens the
gateway and answers a slash command (against the fake Discord, in a thread of this test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from bot import db
from bot.store import Store
from commands import Deps
from integrations.chat.discord.settings import DiscordSettings
from tests.configs import config_of
from tests.integrations.chat.discord.conftest import ANA, ThreadedFake
from tests.integrations.chat.discord.fake_discord import TOKEN

ROOT = Path(__file__).resolve().parents[4]


def test_chat_adapters_add_discord_only_with_a_token(settings: DiscordSettings, deps: Deps,
                                                     tmp_path: Path) -> None:
    from echtzeit.wiring import chat_adapters
    from integrations.chat.discord.chat import DiscordChat

    adapters, services = chat_adapters(config_of(discord=settings), deps)
    [discord_chat] = [a for a in adapters if a.platform == "discord"]
    assert isinstance(discord_chat, DiscordChat)
    assert discord_chat in services
    without = settings.model_copy(update={"token": None})
    adapters, services = chat_adapters(config_of(discord=without), deps)
    assert not [a for a in adapters if a.platform == "discord"]


def test_echtzeit_run_serves_discord(threaded: ThreadedFake, tmp_path: Path) -> None:
    fake = threaded.fake
    assert fake is not None
    url = f"sqlite:///{tmp_path / 'echtzeit.db'}"
    db.upgrade(url)
    store = Store.from_url(url)
    store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="discord", channel=fake.channel_id, actor="setup")
    store.close()
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({
        "network": "mastodon", "id": str(n), "url": f"https://social.example/@k/{n}",
        "author": "kunde", "text": f"acme order {n} never arrived @everyone", "lang": "en",
        "created_at": "2026-11-20T08:00:00Z"}) for n in (1, 2)) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECHTZEIT_")}
    env.update({
        "ECHTZEIT_DATABASE_URL": url, "ECHTZEIT_DATA_DIR": str(tmp_path),
        "ECHTZEIT_REPLAY_FILE": str(posts), "ECHTZEIT_REPLAY_SPEED": "0",
        "ECHTZEIT_DISCORD_TOKEN": TOKEN, "ECHTZEIT_DISCORD_API_URL": fake.api_url,
        "ECHTZEIT_DISCORD_RESPONDER_ROLE": "Care Team", "ECHTZEIT_RELAY_POLL_SECONDS": "0.1",
    })
    proc = subprocess.Popen([sys.executable, "-m", "echtzeit", "run", "--user", "ops"], cwd=ROOT,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        threaded.call(fake.wait_for(lambda: len(fake.channel_messages()) == 2 and
                                    fake.connected == 1), timeout=60)
        cards = fake.channel_messages()
        assert [c["content"].split(" mention ")[1] for c in cards] == [
            "#1 for Acme on mastodon", "#2 for Acme on mastodon"]
        assert all("@\u200beveryone" in c["embeds"][0]["description"] for c in cards)
        state = threaded.call(fake.interact(fake.command("claim", {"id": "2"}, ANA)))
        threaded.call(fake.wait_for(lambda: len(state.followups) == 1))
        assert state.followups[0]["embeds"][0]["description"] == "\\#2 is yours, Ana (Care)."
        # The relay redraws the card in place.
        threaded.call(fake.wait_for(lambda: any(
            f["value"] == "CLAIMED · Ana (Care)"
            for f in fake.channel_messages()[1]["embeds"][0]["fields"])))
        assert fake.violations == []
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    logs = out.decode() + err.decode()
    assert TOKEN not in logs  # secrets never reach the logs
    assert "Traceback" not in logs, logs[logs.find("Traceback") - 2000:][:5000]
