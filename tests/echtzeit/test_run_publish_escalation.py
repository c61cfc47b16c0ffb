"""Issue 17, items 3-5 through the real entry point: a subprocess `echtzeit run` (standard
input closed, configured through the environment and a brands file) against the fake Slack
(Socket Mode and Web API) and the fake Mastodon, with the scheduler checking every second.

The on-call rota is set with `/echtzeit oncall set`; a mention posted 50 minutes ago (75 % of
Mastodon's 60-minute target has passed) pings level 1 by direct message, one posted 65 minutes
ago pings level 2 (the breach); a post prepared with `/echtzeit prepare` and scheduled with
`/echtzeit publish ... at HH:MM:SS` reaches the fake Mastodon as a new status of the brand,
once, from the scheduler leader; a post its author deleted is found gone when a reply is tried:
the reply is refused with a clear line and the card says so. SIGTERM ends it with exit 0.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.store import Store
from testkit.fake_slack import FakeSlack
from tests.echtzeit.bots import bots, clean_env, free_port
from tests.echtzeit.fake_mastodon import TOKEN, FakeMastodon
from tests.echtzeit.test_run_end_to_end import CHANNEL, _socket_open, _until, slash


def brands_file(path: Path) -> Path:
    path.write_text(
        "brands:\n"
        "  - name: Acme\n"
        "    query: acme\n"
        f"    routes: [slack:{CHANNEL}]\n"
        "    sla: {mastodon: 60}\n", encoding="utf-8")
    return path


def dms(fake: FakeSlack, user: str) -> list[Any]:
    return [c for c in fake.ok_calls("chat.postMessage") if c.args.get("channel") == user]


def said(fake: FakeSlack, name: str) -> str:
    return json.dumps([body for n, body in fake.webhooks if n == name])


async def test_escalation_scheduled_publish_and_a_deleted_post_through_echtzeit_run(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'echtzeit.db'}"
    slack = await FakeSlack(channels=(CHANNEL,)).start()
    mastodon = await FakeMastodon().start()
    http_port = free_port()
    env = clean_env(
        database_url=url, data_dir=str(tmp_path / "data"),
        brands_file=str(brands_file(tmp_path / "brands.yaml")),
        slack_bot_token="xoxb-1111-2222-echtzeit", slack_app_token=slack.app_token,
        slack_api_url=slack.api_url, timezone="UTC",
        mastodon_base_url=mastodon.base_url, mastodon_access_token=TOKEN,
        mastodon_streaming="false", poll_seconds="1", scheduler_check_seconds="1",
        http_port=str(http_port), relay_poll_seconds="0.2", log_json="true",
    )
    try:
        async with bots(tmp_path) as running:
            bot = await running.start(env)
            await bot.healthy(within=60)
            await _socket_open(slack)
            store = Store.from_url(url)

            # The ladder: ana first, ben at the breach.
            for n, line in enumerate(("oncall set Acme 1 <@U0ANA>",
                                      "oncall set Acme 2 <@U0BEN>", "oncall")):
                await slack.socket_send(slash(line, slack, f"oncall{n}"))
                await slack.wait_socket_ack(f"env-oncall{n}")
                # Commands run concurrently after their acks: one answered before the next.
                await _until(lambda n=n: f"oncall{n}" in {h for h, _ in slack.webhooks},
                             within=10)
            assert "on call now: level 1 U0ANA; level 2 U0BEN" in said(slack, "oncall2")

            # Posted 50 and 65 minutes ago: level 1 and level 2 hear of them by DM.
            warned = mastodon.post("acme app keeps logging me out", age=50 * 60)
            breached = mastodon.post("acme support, where is my refund?", age=65 * 60)
            await _until(lambda: dms(slack, "U0ANA") and dms(slack, "U0BEN"), within=20)
            to_ana = json.dumps(dms(slack, "U0ANA")[0].args)
            to_ben = json.dumps(dms(slack, "U0BEN")[0].args)
            assert "Escalation (level 1)" in to_ana and "is due in" in to_ana
            assert "Escalation (level 2)" in to_ben and "past its SLA" in to_ben

            # A prepared post, scheduled a few seconds ahead: the leader posts it once.
            await slack.socket_send(slash("prepare final win mastodon Acme wins the final!",
                                          slack, "prepare"))
            await slack.wait_socket_ack("env-prepare")
            await _until(lambda: "prepare" in {h for h, _ in slack.webhooks}, within=10)
            at = (datetime.now(UTC) + timedelta(seconds=3)).strftime("%H:%M:%S")
            await slack.socket_send(slash(f"publish final win at {at}", slack, "publish"))
            await slack.wait_socket_ack("env-publish")
            await mastodon.wait_for(lambda: any(
                "Acme wins the final!" in s["content"] for s in mastodon.created), within=30)
            [status] = [s for s in mastodon.created if "Acme wins" in s["content"]]
            assert status["in_reply_to_id"] is None
            await _until(lambda: any("Scheduled publish 1" in json.dumps(c.args)
                                     for c in slack.ok_calls("chat.postMessage")), within=10)

            # The customer deleted the post: the reply is refused and the card says so.
            [mid] = [v.mention.id for v in store.list_mentions(statuses=("new",), limit=10)
                     if v.mention.external_id == warned]
            mastodon.delete(warned)
            await slack.socket_send(slash(f"reply {mid} Sorry to hear that!", slack, "reply"))
            await slack.wait_socket_ack("env-reply")
            await _until(lambda: "reply" in {n for n, _ in slack.webhooks}, within=15)
            assert "was deleted on mastodon" in said(slack, "reply")
            await _until(lambda: any("Deleted on mastodon" in json.dumps(c.args.get("blocks"))
                                     for c in slack.ok_calls("chat.update")), within=10)
            assert not [s for s in mastodon.created if s.get("in_reply_to_id") == warned]

            code, _took = await bot.stop()
            assert code == 0, bot.logs()
            logs = bot.logs()
            assert "Traceback" not in logs and TOKEN not in logs
            kinds = [e.kind for e in store.events()]
            assert kinds.count("escalation_ping") == 2  # once each, however often it checked
            assert kinds.count("published") == 1 and "post_deleted" in kinds
            assert breached != warned
            assert slack.violations == []
            store.close()
    finally:
        await slack.stop()
        await mastodon.stop()
