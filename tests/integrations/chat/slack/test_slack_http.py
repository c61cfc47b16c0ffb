"""The real bolt app in HTTP mode, reached with signed requests, talking to the fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest

from bot.domain import MentionStatus
from bot.store import Store
from integrations.chat.slack.serve import HttpService, slack_from_settings
from testkit.clock import Monotonic
from testkit.fake_slack import fixture, sign
from tests.integrations.chat.slack.conftest import (
    SlackDeskUnderTest,
    paced,
    settled,
    slack_settings,
)


def texts(blocks: list[dict]) -> str:
    """All text of a message's blocks as people see it (Slack shows &lt; as <)."""
    out = []
    for block in blocks:
        out.extend(block[key]["text"] for key in ("text", "label", "hint")
                   if isinstance(block.get(key), dict))
        for el in block.get("elements", []):
            if isinstance(el.get("text"), dict):
                out.append(el["text"]["text"])
            elif isinstance(el.get("text"), str):
                out.append(el["text"])
    return "\n".join(out).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def test_slash_command_is_acknowledged_then_answered_through_response_url(
        http_desk: SlackDeskUnderTest) -> None:
    started = time.monotonic()
    status, body = await http_desk.command("help")
    assert status == 200 and body == ""
    assert time.monotonic() - started < 3
    [(hook, answer)] = await http_desk.fake.wait_webhooks(1)
    assert hook == "cmd"
    assert answer["response_type"] == "ephemeral"
    shown = texts(answer["blocks"])
    assert "Commands:" in shown and "reply <id> <text|:template>" in shown


async def test_requests_with_a_bad_signature_or_an_old_timestamp_are_refused(
        http_desk: SlackDeskUnderTest) -> None:
    body = "command=%2Fechtzeit&text=help&user_id=U0ANA&team_id=T0ECHTZEIT"
    forged = sign(body, secret="not-the-secret")
    status, _ = await http_desk.post(body, content_type="application/x-www-form-urlencoded",
                                     headers=forged, signed=False)
    assert status == 401
    stale = sign(body, timestamp=int(time.time()) - 6 * 60)  # outside the 5-minute window
    status, _ = await http_desk.post(body, content_type="application/x-www-form-urlencoded",
                                     headers=stale, signed=False)
    assert status == 401
    status, _ = await http_desk.post(body, content_type="application/x-www-form-urlencoded",
                                     signed=False)
    assert status == 401
    assert http_desk.fake.webhooks == []
    assert not [c for c in http_desk.fake.calls if c.method != "auth.test"]


async def test_claim_reply_and_resolve_from_slack_update_the_card(
        http_desk: SlackDeskUnderTest) -> None:
    """Done means: a button click, a modal submission and a slash command go through the real
    bolt app, the reply reaches the network's responder, and the card updates in place."""
    fake, store, mid = http_desk.fake, http_desk.store, http_desk.mention_id
    assert await http_desk.relay.run_once() == 1
    [posted] = await fake.wait_for("chat.postMessage")
    assert posted.args["unfurl_links"] is False and posted.args["unfurl_media"] is False
    channel, ts = http_desk.card_ref()
    assert (channel, ts) == ("C0CARDS", posted.answer["ts"])

    # Claim (button)
    status, _ = await http_desk.interact(http_desk.click("echtzeit_claim", message_ts=ts))
    assert status == 200
    [(_, answer)] = await fake.wait_webhooks(1)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert f"#{mid} is yours, Ana." in texts(answer["blocks"])
    assert store.view(mid).mention.assignee == "Ana"
    assert await http_desk.relay.run_once() == 1
    [update] = await fake.wait_for("chat.update")
    assert (update.args["channel"], update.args["ts"]) == (channel, ts)
    assert "Claimed by Ana" in texts(update.args["blocks"])

    # Reply… (button) opens the modal; its submission sends the reply.
    await http_desk.interact(http_desk.click("echtzeit_reply", message_ts=ts))
    [opened] = await fake.wait_for("views.open")
    modal = opened.args["view"]
    assert modal["title"]["text"] == f"Reply to #{mid}"
    [text_input] = [b for b in modal["blocks"] if b["block_id"].startswith("reply-")]
    assert text_input["element"]["max_length"] == 500  # mastodon's limit, from its responder
    submission = fixture("view_submission.json")
    submission["view"].update(
        private_metadata=modal["private_metadata"], blocks=modal["blocks"],
        state={"values": {text_input["block_id"]: {"reply_text": {
            "type": "plain_text_input", "value": "Sorry! We are on it & will DM you."}}}})
    status, body = await http_desk.interact(submission)
    assert status == 200 and body == ""  # the modal closes
    [_, thread_answer] = await fake.wait_for("chat.postMessage", 2)
    assert thread_answer.args["thread_ts"] == ts
    assert "Replied to" in texts(thread_answer.args["blocks"])
    sent = [json.loads(line) for line in http_desk.replies.read_text().splitlines()]
    assert [s["text"] for s in sent] == ["Sorry! We are on it & will DM you."]
    view = store.view(mid)
    assert view.mention.status == MentionStatus.REPLIED.value
    assert view.replies[-1].by == "Ana"
    await http_desk.relay.run_once()
    update = fake.ok_calls("chat.update")[-1]
    shown = texts(update.args["blocks"])
    assert "Replied by Ana" in shown
    [view_reply] = [e for b in update.args["blocks"] if b["type"] == "actions"
                    for e in b["elements"] if e["action_id"] == "echtzeit_view_reply"]
    assert view_reply["url"] == view.replies[-1].url

    # Resolve (slash command)
    await http_desk.command(f"resolve {mid}", hook="resolve")
    [(_, done)] = [w for w in await fake.wait_webhooks(2) if w[0] == "resolve"]
    assert done["response_type"] == "in_channel"
    assert f"#{mid} resolved." in texts(done["blocks"])
    await http_desk.relay.run_once()
    final = fake.ok_calls("chat.update")[-1]
    assert "Resolved" in texts(final.args["blocks"])
    assert not [b for b in final.args["blocks"] if b["type"] == "actions"
                and any(e["action_id"] == "echtzeit_claim" for e in b["elements"])]
    assert [e.actor for e in store.events(mention_id=mid, kind="resolved")] == ["Ana"]


async def test_reply_modal_refuses_text_over_the_network_limit_in_the_ack(
        http_desk: SlackDeskUnderTest) -> None:
    await http_desk.relay.run_once()
    _, ts = http_desk.card_ref()
    await http_desk.interact(http_desk.click("echtzeit_reply", message_ts=ts))
    [opened] = await http_desk.fake.wait_for("views.open")
    modal = opened.args["view"]
    submission = fixture("view_submission.json")
    block = next(b["block_id"] for b in modal["blocks"] if b["block_id"].startswith("reply-"))
    submission["view"].update(private_metadata=modal["private_metadata"], state={"values": {
        block: {"reply_text": {"type": "plain_text_input", "value": "x" * 501}}}})
    status, body = await http_desk.interact(submission)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert "500" in answer["errors"][block]
    assert not http_desk.replies.exists()


async def test_picking_a_template_fills_the_reply_field(http_desk: SlackDeskUnderTest) -> None:
    await http_desk.relay.run_once()
    _, ts = http_desk.card_ref()
    await http_desk.interact(http_desk.click("echtzeit_reply", message_ts=ts))
    [opened] = await http_desk.fake.wait_for("views.open")
    view = opened.answer["view"]
    pick = fixture("block_actions.json")
    pick.update(container={"type": "view", "view_id": view["id"]}, view=view)
    pick.pop("channel")
    pick.pop("message")
    pick["actions"] = [{"type": "static_select", "action_id": "echtzeit_template",
                        "block_id": "template",
                        "selected_option": {"text": {"type": "plain_text", "text": ":sorry"},
                                            "value": "sorry"},
                        "action_ts": "1764000030.000001"}]
    await http_desk.interact(pick)
    [updated] = await http_desk.fake.wait_for("views.update")
    assert updated.args["view_id"] == view["id"] and updated.args["hash"] == view["hash"]
    [field] = [b for b in updated.args["view"]["blocks"] if b["block_id"].startswith("reply-")]
    assert field["element"]["initial_value"] == "Sorry, Kunde! We are on it. - Team Acme"
    assert field["block_id"] == "reply-sorry"


async def test_thread_messages_are_notes_unless_they_ask_to_reply(
        http_desk: SlackDeskUnderTest) -> None:
    fake, store, mid = http_desk.fake, http_desk.store, http_desk.mention_id
    await http_desk.relay.run_once()
    channel, ts = http_desk.card_ref()

    def message(text: str, event_id: str, msg_ts: str) -> dict:
        payload = fixture("event_message_thread.json")
        payload["event_id"] = event_id
        payload["event"].update(text=text, channel=channel, thread_ts=ts, ts=msg_ts)
        return payload

    note = message("customer called too; &lt;@U0BEN&gt; knows <@U0BEN>", "Ev1", "1764000101.1")
    assert (await http_desk.event(note))[0] == 200
    # Slack retries an event it thinks failed: the retry must not record a second note.
    assert (await http_desk.event(note, **{"X-Slack-Retry-Num": "1",
                                           "X-Slack-Retry-Reason": "http_timeout"}))[0] == 200
    reply = message(" !reply Danke, wir kümmern uns &amp; melden uns!", "Ev2", "1764000102.1")
    await http_desk.event(reply)
    [_, answer] = await fake.wait_for("chat.postMessage", 2)
    # Delivered again after it was answered: it must not reach the customer a second time.
    assert (await http_desk.event(reply, **{"X-Slack-Retry-Num": "2",
                                            "X-Slack-Retry-Reason": "http_error"}))[0] == 200
    await settled()
    assert answer.args["thread_ts"] == ts and answer.args["channel"] == channel
    notes = store.events(mention_id=mid, kind="note")
    assert [(n.actor, json.loads(n.detail)["text"]) for n in notes] == [
        ("Ana", "customer called too; <@U0BEN> knows @Ben Schulz")]
    sent = [json.loads(line)["text"] for line in http_desk.replies.read_text().splitlines()]
    assert sent == ["Danke, wir kümmern uns & melden uns!"]  # one reply, Slack's escapes undone
    # A message in a thread that is not a card's, and the bot's own messages, are ignored.
    other = message("unrelated", "Ev3", "1764000103.1")
    other["event"]["thread_ts"] = "1700000000.000001"
    bot = message("!reply from a bot", "Ev4", "1764000104.1")
    bot["event"]["bot_id"] = "B0OTHER"
    await http_desk.event(other)
    await http_desk.event(bot)
    await settled()
    assert len(store.events(mention_id=mid, kind="note")) == 1
    assert len(http_desk.replies.read_text().splitlines()) == 1


async def test_a_redelivered_event_reaching_another_replica_is_dropped(
        http_desk: SlackDeskUnderTest) -> None:
    """Two replicas behind one Request URL: Slack's retry of a `!reply` lands on the other one,
    which must not post the reply a second time (the store remembers the event id)."""
    await http_desk.relay.run_once()
    channel, ts = http_desk.card_ref()
    other_store = Store.from_url(http_desk.store.engine.url.render_as_string(False),
                                 now=http_desk.store.now)
    built = slack_from_settings(slack_settings(http_desk.fake), replace(
        http_desk.deps, store=other_store), **paced(http_desk.fake))
    assert built is not None
    other = built[1][0]
    assert isinstance(other, HttpService)
    other.port = 0
    stop = asyncio.Event()
    serving = asyncio.create_task(other.serve(stop))
    try:
        await asyncio.wait_for(other.started.wait(), 10)
        payload = fixture("event_message_thread.json")
        payload["event_id"] = "Ev9"
        payload["event"].update(text="!reply Danke!", channel=channel, thread_ts=ts,
                                ts="1764000109.1")
        body = json.dumps(payload)
        assert (await http_desk.event(payload))[0] == 200
        await settled()
        headers = {"Content-Type": "application/json", "X-Slack-Retry-Num": "1",
                   "X-Slack-Retry-Reason": "http_timeout", **sign(body)}
        async with http_desk.session.post(f"http://127.0.0.1:{other.port}/slack/events",
                                          data=body.encode(), headers=headers) as response:
            assert response.status == 200
        await settled()
    finally:
        stop.set()
        await serving
        other_store.close()
    assert [json.loads(x)["text"] for x in http_desk.replies.read_text().splitlines()] == [
        "Danke!"]


@pytest.mark.parametrize("http_desk", [{"responders": ["S0CARE"],
                                        "admins": ["U0BOSS"]}], indirect=True)
async def test_only_responders_may_act_and_others_are_refused_politely(
        http_desk: SlackDeskUnderTest) -> None:
    fake, store, mid = http_desk.fake, http_desk.store, http_desk.mention_id
    fake.groups["S0CARE"] = ["U0BEN"]
    await http_desk.interact(http_desk.click("echtzeit_claim", user="U0ANA", hook="ana"))
    [(_, refused)] = await fake.wait_webhooks(1)
    assert refused["response_type"] == "ephemeral"
    assert "Sorry, Ana: only people allowed to answer customers" in texts(refused["blocks"])
    assert store.view(mid).mention.assignee is None
    await http_desk.interact(http_desk.click("echtzeit_claim", user="U0BEN", hook="ben"))
    await fake.wait_webhooks(2)
    assert store.view(mid).mention.assignee == "Ben Schulz"  # no display name: the real name
    await http_desk.command('brand add Rocket "rocket"', user="U0BEN", hook="brand")
    [(_, no_admin)] = [w for w in await fake.wait_webhooks(3) if w[0] == "brand"]
    assert "only admins may use brand" in texts(no_admin["blocks"])
    # The group was looked up once and then cached.
    assert len(fake.ok_calls("usergroups.users.list")) == 1


async def test_message_shortcut_on_a_card_opens_the_reply_modal(
        http_desk: SlackDeskUnderTest) -> None:
    await http_desk.relay.run_once()
    _, ts = http_desk.card_ref()
    shortcut = fixture("message_shortcut.json")
    shortcut["message"]["ts"] = shortcut["message_ts"] = ts
    shortcut["response_url"] = http_desk.fake.response_url("shortcut")
    shortcut["trigger_id"] = http_desk.fake.trigger()
    await http_desk.interact(shortcut)
    [opened] = await http_desk.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "echtzeit_reply"
    elsewhere = fixture("message_shortcut.json")
    elsewhere["message"]["ts"] = "1700000000.000009"
    elsewhere["response_url"] = http_desk.fake.response_url("elsewhere")
    elsewhere["trigger_id"] = http_desk.fake.trigger()
    await http_desk.interact(elsewhere)
    [(_, answer)] = await http_desk.fake.wait_webhooks(1)
    assert "not an Echtzeit card" in texts(answer["blocks"])


async def test_a_captured_request_replayed_counts_once_and_a_tampered_or_late_one_not_at_all(
        http_desk: SlackDeskUnderTest) -> None:
    await http_desk.relay.run_once()
    channel, ts = http_desk.card_ref()
    payload = fixture("event_message_thread.json")
    payload["event_id"] = "EvReplay"
    payload["event"].update(text="noted once", channel=channel, thread_ts=ts, ts="1764000201.1")
    body = json.dumps(payload)
    captured = sign(body)
    for _ in range(3):  # an attacker (or a proxy) sends the same signed request again
        status, _ = await http_desk.post(body, content_type="application/json",
                                         headers=captured, signed=False)
        assert status == 200
    tampered = body.replace("noted once", "noted twice")
    status, _ = await http_desk.post(tampered, content_type="application/json",
                                     headers=captured, signed=False)
    assert status == 401
    late = sign(body, timestamp=int(time.time()) - 5 * 60 - 30)  # captured 5.5 minutes ago
    status, _ = await http_desk.post(body, content_type="application/json", headers=late,
                                     signed=False)
    assert status == 401
    await settled()
    notes = http_desk.store.events(mention_id=http_desk.mention_id, kind="note")
    assert [json.loads(n.detail)["text"] for n in notes] == ["noted once"]


async def test_a_reply_button_clicked_after_the_trigger_expired_gets_a_clear_answer(
        http_desk: SlackDeskUnderTest) -> None:
    """Slack's trigger_id lasts three seconds: a modal opened later is refused
    (expired_trigger_id), and the person is told instead of nothing happening."""
    await http_desk.relay.run_once()
    _, ts = http_desk.card_ref()
    click = http_desk.click("echtzeit_reply", hook="late", message_ts=ts)
    clock = http_desk.fake.clock
    assert isinstance(clock, Monotonic)
    clock.advance(10)  # the trigger is 10 s old on arrival
    await http_desk.interact(click)
    [(_, answer)] = await http_desk.fake.wait_webhooks(1)
    assert "could not open in time" in (answer.get("text") or texts(answer.get("blocks", [])))
    [refused] = [c for c in http_desk.fake.calls if c.method == "views.open"]
    assert refused.answer.get("error") == "expired_trigger_id"


async def test_thread_answers_and_cards_share_the_channels_pace(
        http_desk: SlackDeskUnderTest) -> None:
    """Slack counts every message the app posts in a channel: the desk's answers in a card's
    thread wait in the same pacer as the relay's cards, so five replies sent right after a card
    all have their answers posted, one a second after the burst, and none is refused with 429
    (the desk posting on its own would have had the fourth refused)."""
    fake = http_desk.fake
    clock = fake.clock
    assert isinstance(clock, Monotonic)
    await http_desk.relay.run_once()
    channel, ts = http_desk.card_ref()
    start = clock()
    for n in range(5):
        payload = fixture("event_message_thread.json")
        payload["event_id"] = f"EvPace{n}"
        payload["event"].update(text=f"!reply answer number {n}", channel=channel,
                                thread_ts=ts, ts=f"1764000200.{n}")
        assert (await http_desk.event(payload))[0] == 200
        await settled()  # one reply after the other (two at once: one is refused as busy)
    answers = await fake.wait_for("chat.postMessage", 6)
    assert [c.status for c in fake.calls if c.method == "chat.postMessage"] == [200] * 6
    assert {a.args.get("thread_ts") for a in answers[1:]} == {ts}
    assert clock() - start >= 3.0  # 1 card + 5 answers: a burst of two, then one a second
