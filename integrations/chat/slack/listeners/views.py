"""The reply modal's and the draft forms' (Edit…, Reject…) submissions. Their validation errors
must travel in the acknowledgement itself, so the quick, local checks (no network call) run
before `ack`."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.store import NotFound
from commands import BY_NAME, Result, run
from integrations.chat.slack.desk import FAILED, SlackDesk, who_from_body
from integrations.chat.slack.modal import ReplyTarget, draft_form, prepare_form, reply_form
from integrations.chat.slack.render import EDIT_VIEW, PREPARE_VIEW, REJECT_VIEW, REPLY_VIEW

log = logging.getLogger(__name__)


async def on_reply_submit(desk: SlackDesk, ack: Any, body: dict[str, Any], view: dict[str, Any],
                          client: AsyncWebClient) -> None:
    target = ReplyTarget.load(view.get("private_metadata") or "{}")
    template, text, text_block = reply_form(view)
    text = text.strip()
    problem = None
    if not text and not template:
        problem = "Write a reply or pick a template."
    elif text:
        try:
            network = (await asyncio.to_thread(desk.deps.store.view,
                                               target.mention_id)).mention.network
            responder = desk.deps.responders.get(network)
            problem = responder.check(text) if responder is not None else None
        except NotFound as exc:
            problem = str(exc)
    if problem:
        await ack(response_action="errors", errors={text_block or "reply-": problem})
        return
    await ack()
    who = who_from_body(body)
    args = f"{target.mention_id} {text}" if text else f"{target.mention_id} :{template}"
    try:
        inv = await desk.invocation(client, who, args)
        result = await run(BY_NAME["reply"], inv, desk.deps)
    except Exception:
        log.exception("reply to #%s failed", target.mention_id)
        result = Result.error(FAILED)
    await desk.tell(client, who, result, channel=target.channel, thread_ts=target.message_ts)


async def on_draft_submit(desk: SlackDesk, kind: str, ack: Any, body: dict[str, Any],
                          view: dict[str, Any], client: AsyncWebClient) -> None:
    """Edit…: the draft's new text (held to the network's rules before the form closes);
    Reject…: the reason, which goes to the draft's author."""
    target = ReplyTarget.load(view.get("private_metadata") or "{}")
    text = draft_form(view).strip()
    problem = None
    if not text:
        problem = "Write the reply." if kind == "edit" else "Say why, for its author."
    elif kind == "edit":
        try:
            network = (await asyncio.to_thread(desk.deps.store.view,
                                               target.mention_id)).mention.network
            responder = desk.deps.responders.get(network)
            problem = responder.check(text) if responder is not None else None
        except NotFound as exc:
            problem = str(exc)
    if problem:
        await ack(response_action="errors", errors={"draft": problem})
        return
    await ack()
    who = who_from_body(body)
    try:
        inv = await desk.invocation(client, who, f"{target.mention_id} {text}")
        result = await run(BY_NAME[kind], inv, desk.deps)
    except Exception:
        log.exception("%s of the draft of #%s failed", kind, target.mention_id)
        result = Result.error(FAILED)
    await desk.tell(client, who, result, channel=target.channel, thread_ts=target.message_ts)
    await desk.deliver_notices(client, result)


async def on_prepare_submit(desk: SlackDesk, ack: Any, body: dict[str, Any],
                            view: dict[str, Any], client: AsyncWebClient) -> None:
    """The prepare form: the network's length rule answers in the acknowledgement (the field
    shows it); the rest is the `prepare` command's."""
    form = prepare_form(view)
    network, text = form.get("network", ""), form.get("text", "").strip()
    publisher = desk.deps.publishers.get(network)
    problem = (publisher.check(text) if publisher is not None
               else f"Echtzeit cannot post on {network or 'this network'}")
    if problem:
        await ack(response_action="errors",
                  errors={"text" if publisher is not None else "network": problem})
        return
    await ack()
    channel = json.loads(view.get("private_metadata") or "{}").get("c")
    who = replace(who_from_body(body), channel=channel)  # the channel the form came from
    words = [form.get("event", ""), form.get("outcome", "")]
    args = " ".join(f'"{w}"' if not w or " " in w else w for w in words)
    try:
        inv = await desk.invocation(client, who, f"{args} {network} {text}")
        result = await run(BY_NAME["prepare"], inv, desk.deps)
    except Exception:
        log.exception("prepare from the form failed")
        result = Result.error(FAILED)
    await desk.tell(client, who, replace(result, ephemeral=True), channel=channel,
                    thread_ts=None)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.view(PREPARE_VIEW)
    async def prepare_submit(ack: Any, body: dict[str, Any], view: dict[str, Any],
                             client: AsyncWebClient) -> None:
        await on_prepare_submit(desk, ack, body, view, client)

    @app.view(REPLY_VIEW)
    async def reply_submit(ack: Any, body: dict[str, Any], view: dict[str, Any],
                           client: AsyncWebClient) -> None:
        await on_reply_submit(desk, ack, body, view, client)

    @app.view(EDIT_VIEW)
    async def edit_submit(ack: Any, body: dict[str, Any], view: dict[str, Any],
                          client: AsyncWebClient) -> None:
        await on_draft_submit(desk, "edit", ack, body, view, client)

    @app.view(REJECT_VIEW)
    async def reject_submit(ack: Any, body: dict[str, Any], view: dict[str, Any],
                            client: AsyncWebClient) -> None:
        await on_draft_submit(desk, "reject", ack, body, view, client)
