"""Issue 12, point 3: each source runs once across replicas.

Three real `echtzeit run` processes on one PostgreSQL poll one fake Mastodon: each poll happens
once per interval, not three times. SIGKILL the replica that holds the source: another takes
it over within the lease interval and resumes with the stored cursor (the first search after
the takeover asks for what is newer than the last status stored), so every status the
customers posted is stored exactly once: nothing skipped, nothing repeated.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot import db
from bot.store import MentionView, Store
from testkit.pgcluster import PgCluster
from tests.echtzeit.bots import Bot, bots, clean_env, free_port
from tests.echtzeit.fake_mastodon import TOKEN, FakeMastodon

pytestmark = pytest.mark.postgres
SOURCE = "source:mastodon:127.0.0.1"
POLL = 1.0


async def holder(replicas: list[Bot]) -> Bot | None:
    for bot in replicas:
        if bot.proc.returncode is not None:
            continue
        answer = await bot.health()
        if answer is not None:
            services = answer[1].get("services")
            assert isinstance(services, dict)
            if services[SOURCE].get("detail") == "holding":
                return bot
    return None


async def test_three_replicas_poll_once_and_the_source_moves_when_its_holder_dies(
        pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.create_database("sources")
    db.upgrade(url)
    store = Store.from_url(url)
    store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    mastodon = await FakeMastodon().start()
    posted: list[str] = []

    async def customers() -> None:
        n = 0
        while True:
            n += 1
            posted.append(mastodon.post(f"acme order {n} is late"))
            await asyncio.sleep(0.25)

    feeding = asyncio.create_task(customers())
    try:
        async with bots(tmp_path) as running:
            replicas = []
            for name in ("r1", "r2", "r3"):
                env = clean_env(database_url=url, data_dir=str(tmp_path / name),
                                mastodon_base_url=mastodon.base_url,
                                mastodon_access_token=TOKEN, mastodon_streaming="false",
                                poll_seconds=str(POLL), lease_poll_seconds="1",
                                http_port=str(free_port()), relay_poll_seconds="0.2")
                replicas.append(await running.start(env, name=name))
            for bot in replicas:
                await bot.healthy(within=60)

            # Polls once per interval, whatever the number of replicas.
            await mastodon.wait_for(lambda: len(mastodon.searches()) >= 2, within=30)
            first = len(mastodon.searches())
            began = time.monotonic()
            await asyncio.sleep(6)
            rate = (len(mastodon.searches()) - first) / (time.monotonic() - began)
            assert 0.5 <= rate <= 1.1 / POLL, f"{rate:.2f} searches/s from three replicas"
            holding = [b for b in replicas if await holder([b]) is not None]
            assert len(holding) == 1

            # SIGKILL the holder; another takes over and resumes from the stored cursor.
            victim = holding[0]
            stored_before = {m.mention.external_id for m in _mentions(store)}
            victim.proc.send_signal(signal.SIGKILL)
            await victim.proc.wait()
            killed_at = time.monotonic()
            killed_searches = len(mastodon.searches())
            await mastodon.wait_for(lambda: len(mastodon.searches()) > killed_searches + 2,
                                    within=30)
            resumed = mastodon.searches()[killed_searches]
            assert resumed.at - killed_at < 1.0 + POLL + 3.0  # lease interval, one poll, slack
            assert resumed.query.get("min_id"), "the new holder started without the cursor"
            assert int(resumed.query["min_id"]) >= max(int(i) for i in stored_before)
            survivors = [b for b in replicas if b is not victim]
            new_holder = await holder(survivors)
            assert new_holder is not None

            # Every status stored exactly once.
            feeding.cancel()
            last = posted[-1]
            await _until(lambda: last in {m.mention.external_id for m in _mentions(store)},
                         within=30)
            ids = [m.mention.external_id for m in _mentions(store)]
            assert sorted(ids) == sorted(posted)
            for bot in survivors:
                code, took = await bot.stop()
                assert code == 0, bot.logs()
                assert took < 10.0
                assert "Traceback" not in bot.logs()
    finally:
        feeding.cancel()
        store.close()
        await mastodon.stop()


def _mentions(store: Store) -> list[MentionView]:
    return store.list_mentions(statuses=("new", "claimed", "replied", "resolved", "ignored"),
                               limit=100_000)


async def _until(check: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)
