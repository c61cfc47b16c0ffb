"""Approvals and AI drafts through the real bolt app in HTTP mode and the fake Slack: the
card's Approve / Edit… / Reject… / Draft with AI / Send buttons, their forms, and the rejection's
reason reaching its author by direct message. The AI endpoint is the local fake
chat-completions server (testkit/fake_openai.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from integrations.ai.chat_completions import ChatCompletionsDrafter
from integrations.ai.settings import AiSettings
from testkit.fake_openai import FakeChatCompletions, Fault
from testkit.fake_slack import fixture
from tests.integrations.chat.slack.conftest import SlackDeskUnderTest
from tests.integrations.chat.slack.test_slack_http import texts

APPROVERS = pytest.mark.parametrize("http_desk", [{"approvers": ["U0BEN", "U0CEM"]}],
                                    indirect=True)


@pytest.fixture
def desk(http_desk: SlackDeskUnderTest) -> SlackDeskUnderTest:
    http_desk.fake.add_user("U0CEM", "cem", "Cem Yilmaz", display_name="Cem")
    http_desk.store.set_brand_approval(name="Acme", approval="required", networks=[],
                                       min_priority="", actor="setup")
    return http_desk


def sent(desk: SlackDeskUnderTest) -> list[str]:
    if not desk.replies.exists():
        return []
    return [json.loads(x)["text"] for x in desk.replies.read_text().splitlines()]


def buttons(blocks: list[dict[str, Any]]) -> list[str]:
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def answer(desk: SlackDeskUnderTest, hook: str) -> dict[str, Any]:
    """The response_url answer sent to `hook`."""
    for _ in range(3):
        found = [a for h, a in desk.fake.webhooks if h == hook]
        if found:
            return found[-1]
        await desk.fake.wait_webhooks(len(desk.fake.webhooks) + 1)
    raise AssertionError(f"no answer to {hook}")


async def submit(desk: SlackDeskUnderTest, modal: dict[str, Any], text: str,
                 user: str) -> tuple[int, str]:
    submission = fixture("view_submission.json")
    submission["user"].update(id=user)
    submission["view"].update(
        callback_id=modal["callback_id"], private_metadata=modal["private_metadata"],
        blocks=modal["blocks"], state={"values": {"draft": {"draft_text": {
            "type": "plain_text_input", "value": text}}}})
    return await desk.interact(submission)


@APPROVERS
async def test_a_reply_is_approved_by_a_second_person_and_sent_once(
        desk: SlackDeskUnderTest) -> None:
    fake, mid = desk.fake, desk.mention_id
    await desk.relay.run_once()
    _, ts = desk.card_ref()
    await desk.command(f"reply {mid} Sorry <!channel>! We are on it.", user="U0BEN", hook="r")
    assert "waits for approval" in texts((await answer(desk, "r"))["blocks"])
    assert sent(desk) == []
    await desk.relay.run_once()
    [update] = await fake.wait_for("chat.update")
    shown = texts(update.args["blocks"])
    assert "Draft by Ben Schulz: awaiting approval" in shown
    # Slack's <!channel> in the command became plain words; shown as plain_text, no ping.
    assert "Sorry @channel! We are on it." in shown
    [draft_text] = [b for b in update.args["blocks"] if b["block_id"] == f"m{mid}-draft-text"]
    assert draft_text["text"]["type"] == "plain_text"
    assert buttons(update.args["blocks"])[:3] == ["echtzeit_approve", "echtzeit_edit",
                                                  "echtzeit_reject"]
    assert "echtzeit_reply" not in buttons(update.args["blocks"])

    await desk.interact(desk.click("echtzeit_approve", user="U0BEN", hook="self",
                                   message_ts=ts))
    assert "someone else must approve it" in texts((await answer(desk, "self"))["blocks"])
    await desk.interact(desk.click("echtzeit_approve", user="U0ANA", hook="ana",
                                   message_ts=ts))
    assert "only approvers may use approve" in texts((await answer(desk, "ana"))["blocks"])
    assert sent(desk) == []

    await desk.interact(desk.click("echtzeit_approve", user="U0CEM", hook="cem",
                                   message_ts=ts))
    assert "Approved the reply by Ben Schulz" in texts((await answer(desk, "cem"))["blocks"])
    await desk.interact(desk.click("echtzeit_approve", user="U0CEM", hook="again",
                                   message_ts=ts))
    assert "no reply awaiting approval" in texts((await answer(desk, "again"))["blocks"])
    assert sent(desk) == ["Sorry @channel! We are on it."]
    await desk.relay.run_once()
    final = texts(fake.ok_calls("chat.update")[-1].args["blocks"])
    assert "approved by Cem" in final and "Replied by Ben Schulz" in final
    [approved] = desk.store.events(mention_id=mid, kind="draft_approved")
    assert approved.actor == "Cem"


@APPROVERS
async def test_edit_form_then_another_approver_and_reject_form_tells_the_author(
        desk: SlackDeskUnderTest) -> None:
    fake, mid = desk.fake, desk.mention_id
    await desk.relay.run_once()
    _, ts = desk.card_ref()
    await desk.command(f"reply {mid} sorry", user="U0ANA", hook="r")
    await answer(desk, "r")

    # Edit… opens the form with the draft's text, held to the network's length.
    await desk.interact(desk.click("echtzeit_edit", user="U0BEN", message_ts=ts))
    [opened] = await fake.wait_for("views.open")
    modal = opened.args["view"]
    assert modal["title"]["text"] == f"Edit reply #{mid}"
    [field] = [b for b in modal["blocks"] if b["block_id"] == "draft"]
    assert field["element"]["initial_value"] == "sorry"
    assert field["element"]["max_length"] == 500
    status, body = await submit(desk, modal, "x" * 501, "U0BEN")
    assert status == 200 and "500" in json.loads(body)["errors"]["draft"]
    status, body = await submit(desk, modal, "We are sorry; a fix is coming today.", "U0BEN")
    assert status == 200 and body == ""
    [told] = await fake.wait_for("chat.postEphemeral")  # to the editor, in the channel
    assert told.args["user"] == "U0BEN"
    assert "someone other than you" in texts(told.args["blocks"])
    await desk.interact(desk.click("echtzeit_approve", user="U0BEN", hook="ben",
                                   message_ts=ts))
    assert "you edited this reply" in texts((await answer(desk, "ben"))["blocks"])
    assert sent(desk) == []

    # Reject… asks for the reason, which reaches the author in a direct message.
    await desk.interact(desk.click("echtzeit_reject", user="U0CEM", message_ts=ts))
    [_, rejecting] = await fake.wait_for("views.open", 2)
    form = rejecting.args["view"]
    assert form["title"]["text"] == f"Reject reply #{mid}"
    status, body = await submit(desk, form, "", "U0CEM")
    assert "Say why" in json.loads(body)["errors"]["draft"]
    status, body = await submit(desk, form, "Promise no date <!here> <@U0BEN>", "U0CEM")
    assert status == 200 and body == ""
    await fake.wait_until(lambda: any(c.args.get("channel") == "U0ANA"
                                      for c in fake.ok_calls("chat.postMessage")), 10)
    [dm] = [c for c in fake.ok_calls("chat.postMessage") if c.args.get("channel") == "U0ANA"]
    blocks = dm.args["blocks"]
    assert blocks[0]["text"]["text"] == "<@U0ANA>"  # the author is addressed, on purpose
    shown = json.dumps(blocks[1:])
    assert "rejected by Cem: Promise no date &lt;!here&gt; &lt;@U0BEN&gt;" in shown
    assert sent(desk) == []
    assert desk.store.view(mid).draft.state == "rejected"  # type: ignore[union-attr]


@pytest.fixture
async def fake_ai() -> AsyncIterator[FakeChatCompletions]:
    fake = await FakeChatCompletions(hang_seconds=3).start()
    yield fake
    await fake.stop()


async def test_ai_draft_button_shows_the_draft_and_send_posts_it(
        http_desk: SlackDeskUnderTest, fake_ai: FakeChatCompletions) -> None:
    desk, mid = http_desk, http_desk.mention_id
    async with httpx.AsyncClient() as client:
        desk.deps.drafter = ChatCompletionsDrafter(AiSettings(
            base_url=fake_ai.base_url, model="fake-care-1", timeout_seconds=0.5), client)
        await desk.relay.run_once()
        _, ts = desk.card_ref()
        await desk.relay.run_once()
        fake_ai.replies.extend([Fault("refusal"), Fault("hang"),
                                "Hi <@U0ANA> *so* sorry! DM us? <https://evil.example|acme.com>"])
        await desk.interact(desk.click("echtzeit_draft", hook="d1", message_ts=ts))
        assert "the model refused" in texts((await answer(desk, "d1"))["blocks"])
        await desk.interact(desk.click("echtzeit_draft", hook="d2", message_ts=ts))
        assert "did not answer within 0.5 s" in texts((await answer(desk, "d2"))["blocks"])
        assert desk.store.view(mid).draft is None and sent(desk) == []
        await desk.interact(desk.click("echtzeit_draft", hook="d3", message_ts=ts))
        shown = await answer(desk, "d3")
        assert shown["response_type"] == "ephemeral"
        raw = json.dumps(shown["blocks"])
        assert "&lt;@U0ANA&gt;" in raw and "&lt;https://evil.example|acme.com&gt;" in raw
        assert "<@U0ANA>" not in raw
        assert buttons(shown["blocks"])[:2] == ["echtzeit_send", "echtzeit_edit"]
        assert sent(desk) == []
        await desk.interact(desk.click("echtzeit_send", hook="s", message_ts=ts))
        assert "Replied to" in texts((await answer(desk, "s"))["blocks"])
    assert sent(desk) == ["Hi <@U0ANA> *so* sorry! DM us? <https://evil.example|acme.com>"]


async def test_without_an_endpoint_the_draft_button_is_not_offered(
        http_desk: SlackDeskUnderTest) -> None:
    await http_desk.relay.run_once()
    [posted] = await http_desk.fake.wait_for("chat.postMessage")
    assert "echtzeit_draft" not in buttons(posted.args["blocks"])
    await http_desk.command(f"draft {http_desk.mention_id}", hook="d")
    assert "AI drafts are not configured" in texts((await answer(http_desk, "d"))["blocks"])
