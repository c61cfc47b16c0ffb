"""Global middleware: an event Slack delivers again is answered, not handled twice."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from integrations.chat.slack.desk import SlackDesk

log = logging.getLogger(__name__)


async def drop_redeliveries(desk: SlackDesk, req: AsyncBoltRequest,
                            next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
    body = req.body if isinstance(req.body, dict) else {}
    event_id = body.get("event_id")
    # Slack delivers an event again when it did not hear our answer in time (HTTP
    # X-Slack-Retry-Num, Socket Mode retry_attempt), perhaps to another replica: the store
    # remembers which events were taken.
    if event_id and not await asyncio.to_thread(
            desk.deps.store.first_delivery, key=f"slack:{body.get('team_id')}:{event_id}"):
        retry = req.headers.get("x-slack-retry-num") or body.get("retry_attempt")
        log.info("event %s delivered again (retry %s); already handled", event_id, retry)
        return BoltResponse(status=200, body="")
    await next()
    return None


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.middleware
    async def redeliveries(req: AsyncBoltRequest, resp: BoltResponse,
                           next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        return await drop_redeliveries(desk, req, next)
