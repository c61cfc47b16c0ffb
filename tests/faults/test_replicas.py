"""Issue 8, point 4: three bot processes on one PostgreSQL.

They drain one outbox together (FOR UPDATE SKIP LOCKED) into a fake Slack, and exactly one of
them runs the scheduler (the advisory-lock leader of bot/leader.py). The test kills the leader
with SIGKILL: another process takes over within the election's poll interval, and the day's
digest is still posted once (the digest_run row guards it). Every card arrives exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import db
from bot.domain import DeliveryState
from bot.store import Store
from testkit.clock import Scaled
from testkit.factories import new_mention
from testkit.fake_slack import FakeSlack, Fault
from testkit.pgcluster import PgCluster
from tests.faults.procs import processes, read_lines

pytestmark = pytest.mark.postgres
N = 600
POLL = 0.5
# Slack's pace (one message a second per channel) on a clock 20 times faster than real time,
# shared by the fake and each replica's pacer.
PACE = 20.0


async def _until(changed: asyncio.Event, ok: object, within: float) -> None:
    deadline = time.monotonic() + within
    while not ok():  # type: ignore[operator]
        changed.clear()
        left = deadline - time.monotonic()
        assert left > 0, "timed out"
        try:
            await asyncio.wait_for(changed.wait(), timeout=left)
        except TimeoutError:
            continue


async def test_three_replicas_share_the_outbox_and_elect_one_scheduler(
    pg_cluster: PgCluster, tmp_path: Path,
) -> None:
    url = pg_cluster.create_database("replicas")
    db.upgrade(url)
    # Routes set three days ago, so yesterday's digest of the console channel is due now.
    past = Store.from_url(url, now=lambda: datetime.now(UTC) - timedelta(days=3))
    past.add_brand(name="Acme", query="acme", actor="t")
    for channel in ("C0REPLICA1", "C0REPLICA2", "C0REPLICA3"):
        past.add_route(brand="Acme", platform="slack", channel=channel, actor="t")
    past.add_route(brand="Acme", platform="console", channel="digests", actor="t")
    past.close()
    store = Store.from_url(url)
    bid = store.brand(name="Acme").id or 0
    slack_routes = [r for r in store.routes() if r.platform == "slack"]
    store.write_mentions([new_mention(bid) for _ in range(N // 3)], routes={bid: slack_routes})

    chat = await FakeSlack(channels=("C0REPLICA1", "C0REPLICA2", "C0REPLICA3"),
                           clock=Scaled(PACE)).start()
    lines: list[str] = []
    changed = asyncio.Event()

    def wake_on_call(method: str, channel: str) -> Fault:
        changed.set()
        return None

    chat.fault = wake_on_call
    readers = []
    try:
        async with processes(tmp_path) as procs:
            by_name = {}
            for name in ("r1", "r2", "r3"):
                proc = await procs.start("replica", "--db", url, "--api", chat.api_url,
                                         "--name", name, "--poll", str(POLL),
                                         "--pace-scale", str(PACE))
                by_name[name] = proc
                readers.append(asyncio.create_task(read_lines(proc, lines, changed)))
            await _until(changed, lambda: len(chat.posted) >= N
                         and any(s.startswith("DIGEST") for s in lines), within=60)
            leaders = [s.split()[1] for s in lines if s.startswith("LEADER")]
            assert len(leaders) == 1, lines
            first = leaders[0]
            by_name[first].kill()
            killed_at = time.monotonic()
            await by_name[first].wait()
            await _until(changed, lambda: len([s for s in lines if s.startswith("LEADER")]) == 2,
                         within=30)
            took_over = time.monotonic() - killed_at
            # More cards after the failover: the survivors drain them.
            store.write_mentions([new_mention(bid) for _ in range(N // 3)],
                                 routes={bid: slack_routes})
            await _until(changed, lambda: len(chat.posted) >= 2 * N, within=60)
            for proc in by_name.values():
                if proc.returncode is None:
                    proc.terminate()
            for proc in by_name.values():
                await asyncio.wait_for(proc.wait(), timeout=30)
    finally:
        for r in readers:
            r.cancel()
        await chat.stop()

    second = [s.split()[1] for s in lines if s.startswith("LEADER")][1]
    assert second != first
    assert took_over < 10 * POLL + 5  # replaced within the election's poll (plus start-up)
    assert [s for s in lines if s.startswith("DIGEST")] != []
    assert len([s for s in lines if s.startswith("DIGEST")]) == 1  # posted once
    tokens = Counter(chat.delivery_tokens())
    assert len(chat.posted) == 2 * N and len(tokens) == 2 * N  # 0 duplicates
    deliveries = store.deliveries()
    store.close()
    assert all(d.state == DeliveryState.SENT.value for d in deliveries)  # 0 lost
    workers = Counter(m.channel for m in chat.posted)
    assert set(workers) == {"C0REPLICA1", "C0REPLICA2", "C0REPLICA3"}
    assert chat.violations == []
    limited = sum(1 for c in chat.calls if c.status == 429)
    print(f"replicas: {limited} of {len(chat.calls)} calls refused for Slack's pace (429)")
    print(f"replicas: 3 processes, {2 * N} cards once each, leader {first} killed, "
          f"{second} took over in {took_over:.2f}s, 1 digest")
