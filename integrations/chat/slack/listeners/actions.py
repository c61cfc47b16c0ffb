"""The card's buttons (Claim, Reply…, Resolve, Ignore, Mute author, the links; Approve, Edit…,
Reject…, Draft with AI, Send of a reply draft; the team's feedback: Not about us, No reply
needed, a sentiment correction) and the reply modal's template picker."""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.cards import button_command
from bot.networks import reply_limit
from bot.store import NotFound
from commands import BY_NAME, Result, Role, run
from integrations.chat.slack.desk import (
    BUTTON_COMMANDS,
    FAILED,
    FORM_COMMANDS,
    SlackDesk,
    who_from_body,
)
from integrations.chat.slack.modal import ReplyTarget, draft_modal
from integrations.chat.slack.render import ACTION_PREFIX, TEMPLATE_ACTION, result_message

log = logging.getLogger(__name__)


async def on_button(desk: SlackDesk, ack: Any, body: dict[str, Any], action: dict[str, Any],
                    respond: Any, client: AsyncWebClient) -> None:
    await ack()
    name = action["action_id"].removeprefix(ACTION_PREFIX)
    who = who_from_body(body)
    try:
        mid = int(action["value"])
        command, args = button_command(name, mid)
        if name == "mute":
            view = await asyncio.to_thread(desk.deps.store.view, mid)
            args = f'{view.mention.network} "{view.author.handle}"'
        inv = await desk.invocation(client, who, args)
        result = await run(BY_NAME[command], inv, desk.deps)
    except NotFound as exc:
        result = Result.error(str(exc))
    except Exception:
        log.exception("button %s failed", name)
        result = Result.error(FAILED)
    await respond(**result_message(result, desk.now()), response_type="ephemeral",
                  replace_original=False)
    await desk.deliver_notices(client, result)


async def on_form_button(desk: SlackDesk, ack: Any, body: dict[str, Any],
                         action: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
    """Edit… and Reject… open a form (the draft's text, the reason) within the trigger's
    three seconds; the command runs when it is submitted."""
    await ack()
    kind = action["action_id"].removeprefix(ACTION_PREFIX)
    who = who_from_body(body)

    async def say(result: Result) -> None:
        await respond(**result_message(result, desk.now()), response_type="ephemeral",
                      replace_original=False)

    try:
        inv = await desk.invocation(client, who)
        if kind == "reject" and not {Role.APPROVER, Role.ADMIN} & inv.roles:
            await say(Result.error(f"Sorry, {inv.actor}: only approvers may reject a reply."))
            return
        if not {Role.RESPONDER, Role.ADMIN} & inv.roles:
            await say(Result.error(f"Sorry, {inv.actor}: only people allowed to answer "
                                   "customers may edit a reply."))
            return
        mid = int(action["value"])
        view = await asyncio.to_thread(desk.deps.store.view, mid)
        card = desk.deps.card(view)
        if card.draft_state not in ("suggested", "awaiting"):
            await say(Result.error(f"#{mid} has no draft to {kind} any more."))
            return
        responder = desk.deps.responders.get(view.mention.network)
        target = ReplyTarget(mention_id=mid, channel=who.channel,
                             message_ts=(body.get("container") or {}).get("message_ts"))
        await client.views_open(trigger_id=body["trigger_id"], view=draft_modal(
            card, kind=kind, target=target,
            limit=reply_limit(responder) if responder is not None else None))
    except NotFound as exc:
        await say(Result.error(str(exc)))
    except SlackApiError as exc:
        log.warning("views.open of the %s form failed: %s", kind, exc.response.get("error"))
        await say(Result.error("The form could not open in time; please try again."))


async def on_link(ack: Any) -> None:
    # Link buttons open in the browser; Slack still tells the app, which must acknowledge.
    await ack()


async def on_reply_button(desk: SlackDesk, ack: Any, body: dict[str, Any],
                          action: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
    await ack()
    who = who_from_body(body)
    target = ReplyTarget(mention_id=int(action["value"]), channel=who.channel,
                         message_ts=(body.get("container") or {}).get("message_ts"))

    async def say(result: Result) -> None:
        await respond(**result_message(result, desk.now()), response_type="ephemeral",
                      replace_original=False)

    await desk.open_reply(client, who, trigger_id=body["trigger_id"], target=target, say=say)


async def on_template(desk: SlackDesk, ack: Any, body: dict[str, Any], action: dict[str, Any],
                      client: AsyncWebClient) -> None:
    await ack()
    view = body.get("view") or {}
    target = ReplyTarget.load(view.get("private_metadata") or "{}")
    chosen = (action.get("selected_option") or {}).get("value")
    try:
        mention = await asyncio.to_thread(desk.deps.store.view, target.mention_id)
    except NotFound:
        return
    responder = desk.deps.responders.get(mention.mention.network)
    if responder is None:
        return
    try:
        await client.views_update(view_id=view["id"], hash=view.get("hash"),
                                  view=await desk.reply_view(mention, target, responder,
                                                         template=chosen))
    except SlackApiError as exc:
        # "hash_conflict": the person typed meanwhile; their text stays.
        log.info("views.update of the reply modal: %s", exc.response.get("error"))


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.action(re.compile(rf"^{ACTION_PREFIX}({'|'.join(BUTTON_COMMANDS)})$"))
    async def button(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                     client: AsyncWebClient) -> None:
        await on_button(desk, ack, body, action, respond, client)

    @app.action(re.compile(rf"^{ACTION_PREFIX}({'|'.join(FORM_COMMANDS)})$"))
    async def form_button(ack: Any, body: dict[str, Any], action: dict[str, Any],
                          respond: Any, client: AsyncWebClient) -> None:
        await on_form_button(desk, ack, body, action, respond, client)

    @app.action(re.compile(rf"^{ACTION_PREFIX}(open|open_\d+|view_reply)$"))
    async def link(ack: Any) -> None:
        await on_link(ack)

    @app.action(f"{ACTION_PREFIX}reply")
    async def reply_button(ack: Any, body: dict[str, Any], action: dict[str, Any],
                           respond: Any, client: AsyncWebClient) -> None:
        await on_reply_button(desk, ack, body, action, respond, client)

    @app.action(TEMPLATE_ACTION)
    async def template(ack: Any, body: dict[str, Any], action: dict[str, Any],
                       client: AsyncWebClient) -> None:
        await on_template(desk, ack, body, action, client)
