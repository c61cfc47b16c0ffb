"""Echtzeit's Slack listeners, one module per kind of request (bolt's `listeners/<kind>`), each
with a `register(app, desk)`; the handlers are plain functions of the desk and bolt's arguments."""
from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from integrations.chat.slack.desk import SlackDesk
from integrations.chat.slack.listeners import (
    actions,
    commands,
    events,
    home,
    middleware,
    shortcuts,
    views,
)


def register(app: AsyncApp, desk: SlackDesk) -> None:
    """Attach Echtzeit's listeners to a bolt app."""
    middleware.register(app, desk)
    commands.register(app, desk)
    actions.register(app, desk)
    shortcuts.register(app, desk)
    views.register(app, desk)
    events.register(app, desk)
    home.register(app, desk)
