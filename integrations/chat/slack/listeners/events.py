"""Events API: a message in a card's thread that starts with a reply prefix (`!reply …`) is sent
to the network as the answer; every other thread message is an internal note on the mention."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands import BY_NAME, Result, run
from integrations.chat.slack.chat import PLATFORM, message_ref
from integrations.chat.slack.desk import NOTE_REACTION, THREAD_SUBTYPES, SlackDesk, Who
from integrations.chat.slack.parse import from_slack, referenced_users

log = logging.getLogger(__name__)


async def on_message(desk: SlackDesk, event: dict[str, Any], body: dict[str, Any],
                     client: AsyncWebClient) -> None:
    if event.get("bot_id") or event.get("subtype") not in THREAD_SUBTYPES:
        return
    thread_ts, ts, channel = event.get("thread_ts"), event.get("ts"), event.get("channel")
    if not thread_ts or not channel or not event.get("user") or thread_ts == ts:
        return
    store = desk.deps.store
    mid = await asyncio.to_thread(store.mention_for_message, platform=PLATFORM,
                                  message_ref=message_ref(channel, thread_ts))
    if mid is None:
        return
    raw = str(event.get("text") or "")
    team = body.get("team_id") or event.get("team")
    who = Who(user=str(event["user"]), channel=channel, team=team,
              enterprise=body.get("enterprise_id"),
              org_install=bool(body.get("is_enterprise_install")))
    names = await desk.names(client, referenced_users(raw))
    answer = desk.reply_text(raw)
    inv = await desk.invocation(client, who)
    if answer is None:
        # Everything else said under a card stays among staff: a note in its history,
        # marked with a reaction so that people see it was kept and not sent.
        new = await asyncio.to_thread(store.add_note, mention_id=mid, actor=inv.actor,
                                      text=from_slack(raw, names),
                                      ref=message_ref(channel, str(ts)))
        if new:
            try:
                await client.reactions_add(channel=channel, timestamp=str(ts),
                                           name=NOTE_REACTION)
            except SlackApiError as exc:
                log.info("could not mark note %s: %s", ts, exc.response.get("error"))
        return
    text = from_slack(answer, names).strip()
    if not text:
        result = Result.error("Write the answer after the prefix, e.g. !reply Thank you!")
    else:
        result = await run(BY_NAME["reply"], replace(inv, args=f"{mid} {text}"), desk.deps)
    await desk.tell(client, who, result, channel=channel, thread_ts=thread_ts)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.event("message")
    async def message(event: dict[str, Any], body: dict[str, Any],
                      client: AsyncWebClient) -> None:
        await on_message(desk, event, body, client)
