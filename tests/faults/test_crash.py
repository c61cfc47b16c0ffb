"""Issue 8, point 1: SIGKILL in the middle of a 10,000-mention burst, then a restart: every
mention reaches the chat exactly once.

The bot is a real process (tests/faults/harness.py: replay source -> pipeline -> SQLite ->
relay -> the real Slack adapter) talking to a fake Slack Web API in this test process. Ten
cards are accepted by the fake but answered only after the bot is dead (the worst case: the chat
has them, our database does not know). After the restart the relay finds the cards in doubt,
asks Slack's history for their tokens (message metadata), records those it finds and sends the
rest. The fake counts every message it stored.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import db
from bot.domain import DeliveryState
from bot.store import Store
from testkit.clock import Scaled
from testkit.fake_slack import FakeSlack, Fault
from tests.faults.procs import processes

N = int(os.environ.get("ECHTZEIT_CRASH_MENTIONS", "10000"))
CHANNELS = [f"C0CRASH{i}" for i in range(10)]
# Slack's pace (one message a second per channel) on a clock 20 times faster than real time,
# shared by the fake and the bot's pacer: 1,000 cards a channel in under a minute.
PACE = 20.0


def _posts(path: Path, n: int) -> None:
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({
                "network": "mastodon", "id": f"crash-{i}", "author": f"kunde{i % 97}",
                "text": f"brand{i % len(CHANNELS)} order {i} arrived late", "lang": "en",
                "url": f"https://social.example/@kunde/{i}",
                "created_at": (start + timedelta(milliseconds=i)).isoformat()}) + "\n")


async def test_sigkill_mid_burst_then_restart_delivers_each_card_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    db.upgrade(url)
    store = Store.from_url(url)
    for i, channel in enumerate(CHANNELS):
        store.add_brand(name=f"Brand{i}", query=f"brand{i}", actor="t")
        store.add_route(brand=f"Brand{i}", platform="slack", channel=channel, actor="t")
    posts = tmp_path / "burst.jsonl"
    _posts(posts, N)

    kill_at = int(N * 0.35)
    posted = 0

    def fault(method: str, channel: str) -> Fault:
        nonlocal posted
        if method != "chat.postMessage":
            return None
        posted += 1
        # Just before the kill: stored by Slack, the answer never reaches the bot.
        return "accept_then_timeout" if kill_at - 10 < posted <= kill_at else None

    chat = await FakeSlack(channels=tuple(CHANNELS), fault=fault, hang_seconds=60,
                           clock=Scaled(PACE)).start()
    args = ["burst", "--db", url, "--api", chat.api_url, "--posts", str(posts), "--lease", "1",
            "--pace-scale", str(PACE)]
    try:
        async with processes(tmp_path) as procs:
            first = await procs.start(*args)
            await chat.wait_until(lambda: len(chat.posted) >= kill_at, within=240)
            first.kill()  # SIGKILL
            assert await first.wait() == -9
            at_kill = len(chat.posted)
            assert at_kill < N
            second = await procs.start(*args)
            assert await asyncio.wait_for(second.wait(), timeout=240) == 0, procs.log(2)
            recovered = procs.log(2).count("recorded, not sent again")
    finally:
        await chat.stop()

    tokens = Counter(chat.delivery_tokens())
    deliveries = store.deliveries()
    store.close()
    assert len(deliveries) == N
    assert all(d.state == DeliveryState.SENT.value for d in deliveries)  # 0 lost
    assert len(chat.posted) == N and len(tokens) == N  # 0 duplicated
    assert max(tokens.values()) == 1
    # The cards the chat took while the bot died were found, not posted again.
    assert recovered >= 10
    refs = {d.message_ref for d in deliveries}
    assert refs == {f"{m.channel}:{m.ts}" for m in chat.posted}
    assert chat.violations == []
    limited = sum(1 for c in chat.calls if c.status == 429)
    print(f"crash: {limited} of {len(chat.calls)} calls refused for Slack's pace (429)")
    print(f"crash: {N} mentions, killed at {at_kill} in the chat, {recovered} found in "
          f"Slack's history after the restart, 0 lost, 0 duplicated")
