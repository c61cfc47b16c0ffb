"""`queue` and quiet hours through the whole bot: store, pipeline, relay, console chat."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import DeliveryState
from bot.reporting.queue import QueueBuilder
from bot.store import Store
from commands import Deps, Role
from testkit.factories import post
from tests.commands.test_commands import DeskBot
from tests.conftest import Clock

ADMIN = frozenset({Role.ADMIN})


class Rota:
    """An OnCallSource as issue 17's rota would be wired."""

    def on_call(self, now: datetime) -> list[str]:
        return ["ben"] if now.hour < 12 else ["ana"]


@pytest.fixture
def bot(store: Store, clock: Clock, tmp_path: Path) -> Iterator[DeskBot]:
    store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="console", channel="care", actor="setup")
    yield DeskBot(store, clock, tmp_path)


async def test_queue_shows_mine_the_open_queue_the_median_and_on_call(
        bot: DeskBot, clock: Clock) -> None:
    # Posted 08:00, 08:30 (Mastodon), 08:50 (Bluesky), 08:55 UTC; the clock says 09:00.
    ids = await bot.ingest(
        post("acme one", lang="en", created_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC)),
        post("acme two", lang="en", created_at=datetime(2026, 11, 20, 8, 30, tzinfo=UTC)),
        post("acme three", lang="en", network="bluesky",
             created_at=datetime(2026, 11, 20, 8, 50, tzinfo=UTC)),
        post("acme four", lang="en", created_at=datetime(2026, 11, 20, 8, 55, tzinfo=UTC)))
    assert (await bot.say(f"/claim {ids[0]}")).ok
    assert (await bot.say(f"/claim {ids[2]}")).ok
    assert (await bot.say(f"/claim {ids[1]}", user="ben")).ok
    assert (await bot.say(f"/reply {ids[3]} Thanks!", user="ben")).ok  # 09:00: 5 min wait
    result = await bot.say("/queue")
    assert result.ok and result.ephemeral
    assert result.text == "Queue for ana:"
    lines = result.lines
    assert lines[0] == "My claimed mentions: 2"
    mine = lines[1:3]
    assert all("ana" not in line.split("·")[0] for line in mine)
    assert {f"#{ids[0]}", f"#{ids[2]}"} == {line.split()[0] for line in mine}
    assert "Acme · mastodon" in " ".join(mine) and "Acme · bluesky" in " ".join(mine)
    assert "Open queue: 3" in lines
    assert any(line.startswith("  Acme · mastodon: 2 open, 0 unclaimed, oldest "
                               f"#{ids[0]} 1 h 00 min ago") for line in lines)
    assert "First-response median today: 5 min over 1 first replies today" in lines
    assert lines[-1] == "On call: no rota configured"
    # With a rota wired (issue 17), it names who is on call.
    bot.deps.queue = QueueBuilder(bot.store, timezone="Europe/Berlin", on_call=Rota())
    assert (await bot.say("/queue")).lines[-1] == "On call: ben"
    assert not (await bot.say("/queue everything")).ok


async def test_queue_clocks_follow_the_sla_rule(bot: DeskBot, clock: Clock) -> None:
    [mid] = await bot.ingest(post("acme late", lang="en",
                                  created_at=datetime(2026, 11, 20, 6, 0, tzinfo=UTC)))
    assert (await bot.say(f"/claim {mid}")).ok
    [line] = [x for x in (await bot.say("/queue")).lines if x.startswith(f"  #{mid}")]
    assert "overdue by" in line


async def test_quiet_hours_set_by_command_hold_cards_for_one_catch_up(
        bot: DeskBot, clock: Clock) -> None:
    ok = await bot.say('/brand route Acme console:care quiet="08:00-12:00" tz=Europe/Berlin',
                       roles=ADMIN)
    assert ok.ok, ok.text
    assert "quiet 08:00-12:00 (Europe/Berlin)" in ok.text
    listing = await bot.say("/brand list", roles=ADMIN)
    assert "console:care (quiet 08:00-12:00 Europe/Berlin)" in listing.lines[0]
    bad = await bot.say("/brand route Acme console:care quiet=8-12", roles=ADMIN)
    assert not bad.ok and "expected quiet hours like" in bad.text
    bad = await bot.say("/brand route Acme console:care quiet=08:00-12:00 tz=Nowhere/Land",
                        roles=ADMIN)
    assert not bad.ok and "unknown time zone" in bad.text
    # 09:00 UTC = 10:00 in Berlin: quiet. A friendly post waits; an angry big account is high.
    ids = await bot.ingest(
        post("acme is nice", lang="en", followers=50),
        post("acme is terrible, worst service ever, I hate it", lang="en",
             followers=50_000, author="loud"),
        post("acme question about my order", lang="en", network="bluesky"))
    states = {d.mention_id: d.state for d in bot.store.deliveries()}
    assert states[ids[1]] == DeliveryState.SENT.value
    assert states[ids[0]] == states[ids[2]] == DeliveryState.HELD.value
    out = bot.out.getvalue()
    assert "acme is nice" not in out
    assert "Queue" not in out
    queue = await bot.say("/queue")
    assert "Open queue: 3 (+2 held for quiet hours)" in queue.lines
    clock.advance(hours=2)  # 11:00 UTC: 12:00 in Berlin, the quiet hours end
    await bot.say("/help")  # any command drains the relay
    out = bot.out.getvalue()
    assert "Catch-up: 2 mention(s) of Acme held during quiet hours (1 bluesky, 1 mastodon)" \
        in out
    assert f"#{ids[0]} [low] mastodon https://social.example/@kunde/" in out
    assert "@kunde: acme is nice" in out
    assert out.count("Catch-up:") == 1
    await bot.say("/help")
    assert bot.out.getvalue().count("Catch-up:") == 1


def test_queue_is_listed_for_everyone() -> None:
    from commands import BY_NAME

    assert BY_NAME["queue"].role is None
    assert Deps.__dataclass_fields__["queue"].default is None
