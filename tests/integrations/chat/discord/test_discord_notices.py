"""Notices (SLA reminders, spike alerts) and the daily digest, posted to Discord."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

from bot.reporting.chart import digest_chart
from bot.reporting.digest.builder import DigestBuilder
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from testkit.factories import new_mention
from tests.integrations.chat.discord.conftest import discord_settings
from tests.integrations.chat.discord.discord_rules import hazards
from tests.integrations.chat.discord.fake_discord import FakeDiscord

HOSTILE = "@everyone 30 mentions in 10 min [refund](https://evil.example) <@&123456789012345678>"


async def test_notice_with_detail_lines_below(chat: DiscordChat, fake: FakeDiscord) -> None:
    ref = await chat.notify(fake.channel_id, HOSTILE, person="1300000000000000301",
                            thread=["#1 mastodon @a: **spam** [x](https://evil.example)",
                                    "#2 bluesky @b: @here"])
    [message] = fake.channel_messages()
    assert message["id"] == ref
    assert message["content"] == "For <@1300000000000000301>"
    [posted] = fake.sent("POST", r"/messages$")
    assert posted.body["allowed_mentions"] == {"parse": []}
    lines = message["embeds"][0]["description"].splitlines()
    assert len(lines) == 3
    assert all(hazards(line) == [] for line in lines)
    assert fake.threads == {}


async def test_notice_details_go_into_a_thread(fake: FakeDiscord, deps: Deps,
                                               tmp_path: Path) -> None:
    chat = DiscordChat(discord_settings(fake.api_url, threads=True), deps)
    try:
        ref = await chat.notify(fake.channel_id, "Spike: 30 mentions of Acme",
                                person="Ana (Care)", thread=[f"#{n} line" for n in range(300)])
    finally:
        await chat.close()
    [notice] = fake.channel_messages()
    assert notice["content"] == "For Ana (Care)"
    assert notice["embeds"][0]["description"] == "Spike: 30 mentions of Acme"
    assert fake.threads[ref]["name"] == "Spike: 30 mentions of Acme"
    in_thread = fake.channel_messages(ref)
    assert len(in_thread) >= 2  # 300 lines do not fit in one message
    assert "\n".join(m["content"] for m in in_thread).splitlines() == [
        f"\\#{n} line" for n in range(300)]


async def test_daily_digest_with_its_chart(chat: DiscordChat, fake: FakeDiscord,
                                           deps: Deps) -> None:
    store = deps.store
    brand = store.brand(name="Acme")
    assert brand.id is not None
    store.write_mentions([new_mention(brand.id, "acme app is down", author_handle="@here",
                                      created_at=store.now() - timedelta(hours=3))],
                         routes={brand.id: store.routes(brand_id=brand.id)})
    digest = DigestBuilder(store).build("discord", fake.channel_id, now=store.now(),
                                        kind="today")
    ref = await chat.send_digest(fake.channel_id, digest, digest_chart(digest))
    [message] = fake.channel_messages()
    assert message["id"] == ref
    [upload] = message["attachments"]
    assert upload["content_type"] == "image/png"
    assert upload["description"].startswith("Mentions per hour")
    assert fake.uploads[upload["id"]].data.startswith(b"\x89PNG")
    first = message["embeds"][0]
    assert first["title"].startswith("Digest so far for Acme")
    assert first["image"]["url"] == f"attachment://{upload['filename']}"
    # Without our own markup (bold ids, Discord timestamps), nothing is live.
    for e in message["embeds"]:
        assert hazards(re.sub(r"\*\*#\d+\*\*|<t:\d+:R>", "", e["description"])) == []
    assert "@\u200bhere" in message["embeds"][1]["description"]
