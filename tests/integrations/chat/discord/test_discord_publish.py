"""Issue 17, items 3-5 on Discord: `prepare`, `prepared`, `publish` and `oncall` as slash
commands through discord.py and the fake Discord; escalation pings as direct messages (Create
DM, then the message in the DM channel); a deleted post's card redrawn as deleted and a reply
to it refused."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.chat import ChatError
from bot.relay import Relay
from bot.reporting.sla.escalation import EscalationMonitor
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.discord.render import custom_id
from integrations.networks.replay import recording_publishers
from tests.integrations.chat.discord.conftest import ANA, BEN
from tests.integrations.chat.discord.fake_discord import FakeDiscord
from tests.integrations.chat.discord.test_discord_interactions import (
    description,
    done,
    mention,
    relayed_card,
)


async def test_prepare_and_publish_from_slash_commands(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps, tmp_path: Path) -> None:
    deps.publishers = recording_publishers(tmp_path / "posts.jsonl")
    too_long = await fake.interact(fake.command("prepare", {
        "event": "final", "outcome": "win", "network": "x", "text": "日" * 141}, ANA))
    await done(fake, too_long)
    assert "not prepared: x allows 280 characters, this reply has 282" in description(
        too_long.original)
    for network in ("mastodon", "x"):
        state = await fake.interact(fake.command("prepare", {
            "event": "final", "outcome": "win", "network": network,
            "text": "We won the final! @everyone"}, ANA))
        await done(fake, state, followups=1)
    listed = await fake.interact(fake.command("prepared", {"event": "final"}, BEN))
    await done(fake, listed)
    assert "Acme/final win x (not published)" in description(listed.original)
    refused = await fake.interact(fake.command("publish", {"args": "final win"}, BEN))
    await done(fake, refused)
    assert "only people allowed to answer customers may use publish" in description(
        refused.original)
    state = await fake.interact(fake.command("publish", {"args": "final win"}, ANA))
    await done(fake, state, followups=1)
    [public] = state.followups
    shown = description(public)
    assert "Published Acme/final win on 2 of 2 network(s)" in shown
    assert "@everyone" not in json.dumps(public.get("content", ""))
    # The text a person prepared is escaped like any other: no ping reaches anyone.
    assert "@everyone" not in shown or "@\u200beveryone" in shown or "\\@everyone" in shown
    posts = [json.loads(line) for line in (tmp_path / "posts.jsonl").read_text().splitlines()]
    assert sorted(p["network"] for p in posts) == ["mastodon", "x"]
    again = await fake.interact(fake.command("publish", {"args": "final win"}, ANA))
    await done(fake, again)
    assert "not posted again" in description(
        again.followups[0] if again.followups else again.original)
    assert len((tmp_path / "posts.jsonl").read_text().splitlines()) == 2
    assert fake.violations == []


async def test_oncall_ladder_pings_by_direct_message(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    for level, who in (("1", ANA), ("2", BEN)):
        state = await fake.interact(fake.command(
            "oncall", {"args": f"set Acme {level} <@{who.user_id}>"}, ANA))
        await done(fake, state, followups=1)
    shown = await fake.interact(fake.command("oncall", {}, BEN))
    await done(fake, shown)
    assert (f"Acme: on call now: level 1 {ANA.user_id}; level 2 {BEN.user_id}"
            in description(shown.original))
    store = deps.store
    mid = mention(deps, created_at=store.now() - timedelta(minutes=50))  # 75 % of 60 min
    late = mention(deps, created_at=store.now() - timedelta(minutes=65))  # past the breach
    monitor = EscalationMonitor(store, {"discord": connected}, {"discord": connected})
    assert await monitor.run_due(store.now()) == 2
    dm_ana = next(c for c, r in fake.dm_channels.items() if r == ANA.user_id)
    dm_ben = next(c for c, r in fake.dm_channels.items() if r == BEN.user_id)
    [to_ana] = fake.channel_messages(dm_ana)
    [to_ben] = fake.channel_messages(dm_ben)
    assert f"#{mid} for Acme on mastodon is due in 10 min" in description(to_ana)
    assert f"#{late} for Acme on mastodon is 5 min past its SLA" in description(to_ben)
    assert await monitor.run_due(store.now()) == 0  # recorded: never twice
    # A member who allows no DMs: the ping is recorded as failed, not retried.
    fake.dm_closed.add(ANA.user_id)
    other = mention(deps, created_at=store.now() - timedelta(minutes=46))
    assert await monitor.run_due(store.now()) == 1
    failed = store.events(kind="escalation_failed")
    assert [e.mention_id for e in failed] == [other]
    try:
        await connected.direct("ana", "x")
    except ChatError as exc:
        assert exc.permanent
    else:
        raise AssertionError("a name is not a Discord user id")
    assert fake.violations == []


async def test_a_deleted_post_is_shown_and_cannot_be_answered(
        connected: DiscordChat, fake: FakeDiscord, deps: Deps) -> None:
    mid, _ = await relayed_card(deps, connected, fake)
    deps.store.apply_post_changes([("mastodon", deps.store.view(mid).mention.external_id,
                                    "deleted", None)], actor="mastodon-stream")
    assert await Relay(deps.store, {"discord": connected}).run_once() == 1  # redrawn
    [card] = fake.channel_messages()
    fields = json.dumps(card["embeds"])
    assert "(DELETED on mastodon)" in fields
    buttons = json.dumps(card.get("components", []))
    assert custom_id("claim", mid) in buttons and custom_id("reply", mid) not in buttons
    state = await fake.interact(fake.command("reply", {"id": str(mid), "text": "hi"}, ANA))
    await done(fake, state)
    assert f"Not sent: the post #{mid} was deleted on mastodon" in description(state.original)
