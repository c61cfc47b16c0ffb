"""Issue 17, items 3-5 in Slack through the real bolt app (HTTP mode, signed requests) and the
fake Slack: the prepare form (`/echtzeit prepare` opens it; the network's length rule answers
in the acknowledgement), `publish`, `oncall` keeping user ids, direct messages to a person,
and a deleted post's card."""

from __future__ import annotations

import json
from pathlib import Path

from integrations.networks.replay import recording_publishers
from testkit.fake_slack import fixture
from tests.integrations.chat.slack.conftest import SlackDeskUnderTest
from tests.integrations.chat.slack.test_slack_http import texts


async def test_the_prepare_form_checks_the_length_then_prepares(
        http_desk: SlackDeskUnderTest, tmp_path: Path) -> None:
    fake = http_desk.fake
    http_desk.deps.publishers = recording_publishers(tmp_path / "posts.jsonl")
    status, body = await http_desk.command("prepare")
    assert status == 200 and body == ""
    [opened] = await fake.wait_for("views.open")
    modal = opened.args["view"]
    assert modal["callback_id"] == "echtzeit_prepare"
    [network] = [b for b in modal["blocks"] if b["block_id"] == "network"]
    assert [o["value"] for o in network["element"]["options"]] == [
        "bluesky", "facebook", "mastodon", "x"]

    def submission(text: str) -> dict[str, object]:
        sub = fixture("view_submission.json")
        sub["view"].update(callback_id="echtzeit_prepare",
                           private_metadata=modal["private_metadata"], blocks=modal["blocks"],
                           state={"values": {
                               "event": {"event": {"type": "plain_text_input", "value": "final"}},
                               "outcome": {"outcome": {"type": "plain_text_input",
                                                       "value": "win"}},
                               "network": {"network": {"type": "static_select",
                                                       "selected_option": {"value": "x"}}},
                               "text": {"text": {"type": "plain_text_input", "value": text}}}})
        return sub

    status, body = await http_desk.interact(submission("日" * 141))
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert answer["errors"]["text"] == "x allows 280 characters, this reply has 282"
    assert http_desk.store.prepared_posts() == []
    status, body = await http_desk.interact(submission("We won the final! <!channel>"))
    assert status == 200 and body == ""
    told = await fake.wait_for("chat.postEphemeral")
    assert "Prepared the x post for Acme/final win" in texts(told[-1].args["blocks"])
    [view] = http_desk.store.prepared_posts()
    assert (view.post.event, view.post.outcome, view.post.network, view.post.created_by) == (
        "final", "win", "x", "Ana")

    await http_desk.command("publish final win", hook="publish")
    [(_, published)] = [w for w in await fake.wait_webhooks(1) if w[0] == "publish"]
    shown = texts(published["blocks"])
    assert "Published Acme/final win on 1 of 1 network(s)" in shown
    assert "<!channel>" not in json.dumps(published)  # never a ping
    [post] = [json.loads(line) for line in (tmp_path / "posts.jsonl").read_text().splitlines()]
    assert post["network"] == "x" and post["post"] == "We won the final! <!channel>"


async def test_oncall_keeps_user_ids_and_pings_by_direct_message(
        http_desk: SlackDeskUnderTest) -> None:
    fake = http_desk.fake
    await http_desk.command("oncall set Acme 1 <@U0BEN|ben>", hook="set")
    [(_, answer)] = await fake.wait_webhooks(1)
    assert "U0BEN is on level 1 for Acme, at any time." in texts(answer["blocks"])
    [entry] = http_desk.store.oncall_rota()
    assert (entry.platform, entry.person) == ("slack", "U0BEN")
    ref = await http_desk.chat.direct("U0BEN", "Escalation (level 1): #1 <!here> is due")
    [dm] = [c for c in fake.ok_calls("chat.postMessage") if c.args["channel"] == "U0BEN"]
    assert ref.startswith("U0BEN:")
    assert "<!here>" not in json.dumps(dm.args)  # escaped: no ping
    assert "Escalation (level 1)" in texts(dm.args["blocks"])


async def test_a_deleted_post_is_redrawn_and_a_reply_refused(
        http_desk: SlackDeskUnderTest) -> None:
    fake, store, mid = http_desk.fake, http_desk.store, http_desk.mention_id
    assert await http_desk.relay.run_once() == 1
    view = store.view(mid)
    store.apply_post_changes([(view.mention.network, view.mention.external_id, "deleted",
                               None)], actor="mastodon-stream")
    assert await http_desk.relay.run_once() == 1
    [update] = await fake.wait_for("chat.update")
    shown = texts(update.args["blocks"])
    assert "Deleted on mastodon: no reply possible, no SLA" in shown
    assert "SLA" not in shown.replace("no SLA", "")  # no time left shown
    assert not [e for b in update.args["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["action_id"] == "echtzeit_reply"]
    await http_desk.command(f"reply {mid} Sorry!", hook="reply")
    [(_, answer)] = [w for w in await fake.wait_webhooks(1) if w[0] == "reply"]
    assert f"Not sent: the post #{mid} was deleted on mastodon" in texts(answer["blocks"])
    assert not http_desk.replies.exists()
