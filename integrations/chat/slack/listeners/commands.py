"""The slash command: `/echtzeit <command> …` runs any command of `commands.COMMANDS`."""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands import Result, dispatch
from integrations.chat.slack.desk import COMMAND, FAILED, SlackDesk, Who
from integrations.chat.slack.modal import prepare_modal
from integrations.chat.slack.parse import command_args, referenced_users
from integrations.chat.slack.render import result_message

log = logging.getLogger(__name__)


async def on_command(desk: SlackDesk, ack: Any, command: dict[str, Any], respond: Any,
                     client: AsyncWebClient) -> None:
    await ack()
    who = Who(user=command["user_id"], channel=command.get("channel_id"),
              team=command.get("team_id"), enterprise=command.get("enterprise_id"),
              org_install=str(command.get("is_enterprise_install")).lower() == "true",
              fallback_name=command.get("user_name"))
    raw = command.get("text") or ""
    if raw.strip().lower() == "prepare" and desk.deps.publishers:
        # `/echtzeit prepare` alone: the form (the trigger_id lives three seconds).
        try:
            await client.views_open(trigger_id=command["trigger_id"], view=prepare_modal(
                sorted(desk.deps.publishers), channel=command.get("channel_id")))
            return
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
    try:
        # The on-call rota keeps people as user ids (escalation pings are direct messages);
        # every other command names them as the cards do.
        names = ({} if raw.strip().lower().startswith("oncall") else
                 await desk.names(client, referenced_users(raw)))
        line = command_args(raw, here=desk.route_channel(who) or "", names=names).strip()
        inv = await desk.invocation(client, who)
        result = await dispatch(line or "help", inv, desk.deps)
    except Exception:
        log.exception("/echtzeit %s failed", raw[:100])
        result = Result.error(FAILED)
    await respond(**result_message(result, desk.now()),
                  response_type="ephemeral" if result.ephemeral else "in_channel")
    await desk.deliver_notices(client, result)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.command(COMMAND)
    async def slash_command(ack: Any, command: dict[str, Any], respond: Any,
                            client: AsyncWebClient) -> None:
        await on_command(desk, ack, command, respond, client)
