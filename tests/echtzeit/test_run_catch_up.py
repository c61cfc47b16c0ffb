"""Issue 18, point 4, through the real entry point: a subprocess `echtzeit run` (SQLite, the
fake Slack in Socket Mode, a replayed file of posts) while Slack fails every card; when Slack is
back, the late non-urgent cards of the channel arrive as ONE catch-up notice and the urgent one
as a card; nothing is lost and nothing is sent twice. Real time, with the backlog thresholds made
small through the environment (ECHTZEIT_RELAY_BACKLOG_CARDS / _AGE_SECONDS)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from bot.domain import DeliveryState
from bot.store import Store
from testkit.fake_slack import FakeSlack
from tests.echtzeit.bots import bots, clean_env, free_port

CHANNEL = "C0CARDS"


def replay(path: Path) -> Path:
    rows = [{"network": "mastodon", "id": f"ok-{i}", "url": f"https://social.example/@k{i}/{i}",
             "author": f"k{i}", "author_name": f"K {i}", "followers": 10,
             "text": f"acme question number {i} about my order", "lang": "en",
             "created_at": "2026-11-20T08:00:00Z"} for i in range(8)]
    rows.append({"network": "x", "id": "loud-1", "url": "https://x.example/loud/1",
                 "author": "loud", "author_name": "Loud", "followers": 250_000,
                 "text": "acme is terrible, the worst service ever, I hate it", "lang": "en",
                 "created_at": "2026-11-20T08:01:00Z"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


async def _until(check: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def test_after_a_slack_outage_the_backlog_arrives_as_one_catch_up(tmp_path: Path) -> None:
    down = {"on": True}
    slack = await FakeSlack(channels=(CHANNEL,), fault=lambda method, channel: (
        "500" if down["on"] and method == "chat.postMessage" else None)).start()
    (tmp_path / "brands.yaml").write_text(
        f"brands:\n  - name: Acme\n    query: acme\n    routes: [slack:{CHANNEL}]\n",
        encoding="utf-8")
    data = tmp_path / "data"
    env = clean_env(
        data_dir=str(data), brands_file=str(tmp_path / "brands.yaml"),
        replay_file=str(replay(tmp_path / "posts.jsonl")), replay_speed="0",
        slack_bot_token="xoxb-1111-2222-echtzeit", slack_app_token=slack.app_token,
        slack_api_url=slack.api_url, http_port=str(free_port()), relay_poll_seconds="0.2",
        relay_backoff_base_seconds="0.5", relay_backoff_cap_seconds="1",
        relay_backlog_cards="3", relay_backlog_age_seconds="2", log_json="true")
    try:
        async with bots(tmp_path) as running:
            bot = await running.start(env)
            await bot.healthy(within=60)
            await _until(lambda: any(c.status == 500 for c in slack.calls
                                     if c.method == "chat.postMessage"), 30, "a failed card")
            await asyncio.sleep(3)  # the cards wait in the outbox longer than the age
            down["on"] = False
            await _until(lambda: any("Catch-up:" in json.dumps(c.args)
                                     for c in slack.ok_calls("chat.postMessage")), 30,
                         "the catch-up notice")
            await asyncio.sleep(2)  # anything else would go out now
            code, _ = await bot.stop()
            assert code == 0, bot.logs()
        notices = [c for c in slack.ok_calls("chat.postMessage")
                   if "Catch-up:" in json.dumps(c.args)]
        assert len(notices) == 1
        assert "arrived at once after a delay" in json.dumps(notices[0].args)
        store = Store.from_url(f"sqlite:///{data / 'echtzeit.db'}")
        try:
            deliveries = store.deliveries()
            states = [d.state for d in deliveries]
            assert len(deliveries) == 9
            [row] = store.catch_ups()
            assert row.state == "sent" and row.reason == "backlog"
            assert states.count(DeliveryState.CAUGHT_UP.value) == row.count >= 4
            # Everything else (the urgent card, cards posted before the backlog built up)
            # went out as a card, once: no card is both posted and listed.
            sent = [d for d in deliveries if d.state == DeliveryState.SENT.value]
            assert len(sent) + row.count == 9
            cards = {c.args["metadata"]["event_payload"]["delivery"]
                     for c in slack.ok_calls("chat.postMessage") if c.args.get("metadata")}
            assert len(cards) == len(sent)
            loud = [v for v in store.list_mentions(statuses=("new",), limit=20)
                    if v.mention.network == "x"]
            assert loud and loud[0].mention.priority == "urgent"
            assert {d.state for d in deliveries if d.mention_id == loud[0].mention.id} == {
                DeliveryState.SENT.value}
        finally:
            store.close()
    finally:
        await slack.stop()
