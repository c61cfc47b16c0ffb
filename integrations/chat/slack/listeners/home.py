"""App Home: `app_home_opened` publishes the person's queue view (integrations.chat.slack.home).
The event needs no answer beyond bolt's acknowledgement, which comes before the listener runs."""
from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from integrations.chat.slack.desk import HomeTab, SlackDesk, Who


async def on_home_opened(tabs: HomeTab, event: dict[str, Any], body: dict[str, Any],
                         client: AsyncWebClient) -> None:
    if event.get("tab") != "home" or not event.get("user"):
        return  # the Messages or About tab
    who = Who(user=str(event["user"]), channel=None,
              team=body.get("team_id") or event.get("team"),
              enterprise=body.get("enterprise_id"),
              org_install=bool(body.get("is_enterprise_install")))
    await tabs.opened(client, who)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any],
                          client: AsyncWebClient) -> None:
        if desk.home is not None:  # set by serve.slack_from_settings
            await on_home_opened(desk.home, event, body, client)
