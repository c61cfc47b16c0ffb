"""The "Reply to customer" message shortcut: the reply modal for the card (or a reply under it)."""
from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from commands import Result
from integrations.chat.slack.chat import PLATFORM, message_ref
from integrations.chat.slack.desk import REPLY_SHORTCUT, SlackDesk, who_from_body
from integrations.chat.slack.modal import ReplyTarget
from integrations.chat.slack.render import result_message


async def on_reply_shortcut(desk: SlackDesk, ack: Any, shortcut: dict[str, Any], respond: Any,
                            client: AsyncWebClient) -> None:
    await ack()
    who = who_from_body(shortcut)
    message = shortcut.get("message") or {}
    ts = message.get("thread_ts") or message.get("ts")

    async def say(result: Result) -> None:
        await respond(**result_message(result, desk.now()), response_type="ephemeral",
                      replace_original=False)

    mid = None
    if who.channel and ts:
        mid = await asyncio.to_thread(desk.deps.store.mention_for_message, platform=PLATFORM,
                                      message_ref=message_ref(who.channel, ts))
    if mid is None:
        await say(Result.error("This message is not an Echtzeit card (or a reply under one)."))
        return
    target = ReplyTarget(mention_id=mid, channel=who.channel, message_ts=ts)
    await desk.open_reply(client, who, trigger_id=shortcut["trigger_id"], target=target,
                          say=say)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.shortcut(REPLY_SHORTCUT)
    async def reply_shortcut(ack: Any, shortcut: dict[str, Any], respond: Any,
                             client: AsyncWebClient) -> None:
        await on_reply_shortcut(desk, ack, shortcut, respond, client)
