"""The Slack app: bolt's `AsyncApp` with Echtzeit's listeners (`listeners/<kind>.py`).

- `/echtzeit <command> …` runs any command of `commands.COMMANDS`;
- the card's buttons (Claim, Reply…, Resolve, Ignore, Mute author) run the same commands;
- Reply… (and the "Reply to customer" message shortcut) opens a modal with a template picker and
  the network's character limit; its submission sends the reply;
- a message in a card's thread that starts with a reply prefix (`!reply …`) is sent to the
  network as the answer; every other thread message is an internal note on the mention.

Every listener acknowledges first (Slack's 3-second rule) and does the work afterwards, answering
through `response_url`, an ephemeral message or the card's thread. The one exception is the reply
modal's submission: its validation errors must travel in the acknowledgement itself, so the
quick, local checks (no network call) run before `ack`.
"""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient

from integrations.chat.slack.desk import SlackDesk
from integrations.chat.slack.listeners import register

log = logging.getLogger(__name__)


def build_app(
    desk: SlackDesk,
    *,
    client: AsyncWebClient,
    signing_secret: str | None = None,
    socket_mode: bool = False,
    oauth_settings: AsyncOAuthSettings | None = None,
    installation_store: AsyncInstallationStore | None = None,
) -> AsyncApp:
    """A bolt `AsyncApp` with Echtzeit's listeners.

    Socket Mode: `client` holds the bot token; requests come over the app's own websocket, so
    no signature is checked. HTTP mode: every request's signature and timestamp (5 minutes) are
    checked with `signing_secret`; with `oauth_settings` the app serves the install flow and
    finds each workspace's token in `installation_store`, else `client`'s token is used."""
    app = AsyncApp(
        name="echtzeit",
        client=client,
        signing_secret=signing_secret or "",
        request_verification_enabled=not socket_mode,
        oauth_settings=oauth_settings,
        installation_store=installation_store,
        installation_store_bot_only=True if installation_store is not None else None,
    )
    register(app, desk)
    if installation_store is not None:
        # Forget the workspace's token when it uninstalls the app or revokes the token.
        app.enable_token_revocation_listeners()
    else:

        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        async def on_revoked(event: dict[str, Any]) -> None:
            log.error("Slack says the app was uninstalled or its token revoked (%s): "
                      "cards cannot be sent until it is installed again", event.get("type"))

    return app
