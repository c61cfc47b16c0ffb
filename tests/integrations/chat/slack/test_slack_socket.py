"""Socket Mode: the real bolt handler connects to the fake Slack's websocket endpoint."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from bot.relay import Relay
from bot.store import Store
from commands import Deps
from integrations.chat.slack.home import HomeTabs
from integrations.chat.slack.serve import SocketModeService, slack_from_settings
from integrations.networks.replay import RecordingResponder
from testkit.fake_slack import FakeSlack, fixture
from tests.integrations.chat.slack.conftest import paced, seed, settled, slack_settings


def events_envelope(envelope_id: str, payload: dict[str, Any], attempt: int) -> dict[str, Any]:
    return {"envelope_id": envelope_id, "payload": payload, "type": "events_api",
            "accepts_response_payload": False, "retry_attempt": attempt,
            "retry_reason": "timeout" if attempt else ""}


async def test_socket_mode_connects_acks_envelopes_and_answers(
        fake: FakeSlack, sqlite_store: Store, responders: dict[str, RecordingResponder],
        replies_file: Path) -> None:
    mid = seed(sqlite_store)
    settings = slack_settings(fake, app_token=fake.app_token, signing_secret=None)
    built = slack_from_settings(settings, Deps(store=sqlite_store, responders=responders),
                                **paced(fake))
    assert built is not None
    chat, [service, home], _app = built
    assert isinstance(home, HomeTabs)
    assert isinstance(service, SocketModeService)
    await Relay(sqlite_store, {"slack": chat}).run_once()
    channel, _, ts = (sqlite_store.deliveries(mention_id=mid)[0].message_ref or "").partition(":")
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(stop))
    try:
        await asyncio.wait_for(service.connected.wait(), 10)
        [opened] = await fake.wait_for("apps.connections.open")
        assert opened.token == fake.app_token  # the app-level token, not the bot token

        envelope = fixture("socket_envelope_slash_command.json")
        envelope["payload"].update(text="list", response_url=fake.response_url("socket"))
        await fake.socket_send(envelope)
        ack = await fake.wait_socket_ack(envelope["envelope_id"])
        assert ack == {"envelope_id": envelope["envelope_id"]}  # acknowledged; answered later
        [(hook, answer)] = await fake.wait_webhooks(1)
        assert hook == "socket" and f"#{mid}" in json.dumps(answer["blocks"])

        # A note in the card's thread, then the same event again (retry_attempt 1).
        note = fixture("event_message_thread.json")
        note["event"].update(text="called them back, all good", channel=channel,
                             thread_ts=ts, ts="1764000300.000100")
        await fake.socket_send(events_envelope("ev-note", note, 0))
        await fake.wait_socket_ack("ev-note")
        await fake.wait_for("reactions.add")
        await fake.socket_send(events_envelope("ev-note-again", note, 1))
        await fake.wait_socket_ack("ev-note-again")
        await settled()
        reply = fixture("event_message_thread.json")
        reply["event_id"] = "Ev0THREAD0002"
        reply["event"].update(text="!reply Thanks for your patience!", channel=channel,
                              thread_ts=ts, ts="1764000300.000200")
        await fake.socket_send(events_envelope("ev-reply", reply, 0))
        [_, thread_answer] = await fake.wait_for("chat.postMessage", 2)
        assert thread_answer.args["thread_ts"] == ts
        notes = sqlite_store.events(mention_id=mid, kind="note")
        assert [(n.actor, json.loads(n.detail)["text"]) for n in notes] == [
            ("Ana", "called them back, all good")]
        assert len(fake.ok_calls("reactions.add")) == 1
        sent = await asyncio.to_thread(replies_file.read_text)
        assert [json.loads(line)["text"] for line in sent.splitlines()] == [
            "Thanks for your patience!"]
        assert fake.socket_connections == 1
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
