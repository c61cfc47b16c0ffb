"""How Echtzeit reaches Slack, chosen from the settings, and the services that keep it there.

- Socket Mode (bot token + app-level token `xapp-…`): one workspace, no public URL; the app
  opens a websocket to Slack (URL from apps.connections.open) and receives everything on it.
- HTTP mode (signing secret): Slack sends commands, interactivity and events to one endpoint,
  `/slack/events`; every request's signature and timestamp are checked. With a client id and
  secret, workspaces install the app at `/slack/install` (OAuth) and each one's bot token is
  kept in our database; with a bot token instead, one workspace is served.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bot.chat import Service
from bot.clock import utcnow
from bot.settings import SettingsError
from commands import Deps
from integrations.chat.slack.app import build_app
from integrations.chat.slack.chat import InstalledTokens, SlackChat, StaticToken
from integrations.chat.slack.desk import BOT_SCOPES, SlackDesk
from integrations.chat.slack.home import HomeTabs
from integrations.chat.slack.install import SqlInstallationStore, SqlOAuthStateStore
from integrations.chat.slack.people import Directory
from integrations.chat.slack.settings import SlackSettings

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"


class SocketModeService:
    """Keeps the Socket Mode connection open until `stop` is set."""

    name = "slack-socket-mode"

    def __init__(self, app: AsyncApp, app_token: str, *, ping_interval: float = 10.0) -> None:
        self.app = app
        self._app_token = app_token
        self.ping_interval = ping_interval
        self.connected = asyncio.Event()

    async def serve(self, stop: asyncio.Event) -> None:
        handler = AsyncSocketModeHandler(self.app, self._app_token,
                                         ping_interval=self.ping_interval)
        try:
            await handler.connect_async()  # type: ignore[no-untyped-call]
            self.connected.set()
            log.info("connected to Slack over Socket Mode")
            await stop.wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]


class HttpService:
    """Serves Slack's requests (and the OAuth install flow) until `stop` is set."""

    name = "slack-http"

    def __init__(self, app: AsyncApp, *, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.started = asyncio.Event()

    def web_app(self) -> web.Application:
        # bolt's aiohttp server routes POST /slack/events and, with OAuth, the install pages.
        server = AsyncSlackAppServer(port=self.port, path=EVENTS_PATH, app=self.app,
                                     host=self.host)
        server.web_app.router.add_get("/slack/healthz", _healthz)
        return server.web_app

    async def serve(self, stop: asyncio.Event) -> None:
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            addresses = runner.addresses
            if addresses:
                self.port = int(addresses[0][1])
            self.started.set()
            log.info("serving Slack requests on http://%s:%s%s", self.host, self.port,
                     EVENTS_PATH)
            await stop.wait()
        finally:
            await runner.cleanup()


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if callable(getter) else None


def slack_from_settings(
    settings: SlackSettings, deps: Deps, *, now: Callable[[], datetime] = utcnow,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> tuple[SlackChat, list[Service], AsyncApp] | None:
    """The Slack adapter, the service that connects it, and the bolt app; None when Slack is
    not configured. Raises SettingsError naming what is missing from a partial setup. The
    adapter paces each channel at Slack's pace on `clock` (a test shares one with the fake
    Slack and passes its `sleep`)."""
    bot_token = _secret(settings.bot_token)
    app_token = _secret(settings.app_token)
    signing_secret = _secret(settings.signing_secret)
    client_secret = _secret(settings.client_secret)
    client_id = settings.client_id
    if not (bot_token or app_token or client_id or signing_secret):
        return None
    api_url = settings.api_url
    directory = Directory.from_lists(settings.admins, settings.responders,
                                     settings.approvers)
    prefixes = tuple(p for p in settings.reply_prefixes if p) or ("!reply",)

    if app_token:
        if not bot_token:
            raise SettingsError("configuration error: ECHTZEIT_SLACK_BOT_TOKEN: Socket Mode "
                                "needs the bot token (xoxb-…) besides ECHTZEIT_SLACK_APP_TOKEN")
        chat = SlackChat(StaticToken(bot_token), api_url=api_url, now=now, clock=clock, sleep=sleep)
        desk = SlackDesk(deps, directory=directory, reply_prefixes=prefixes, now=now,
                         pacer=chat.pacer)
        home = _home(desk, settings)
        client = AsyncWebClient(token=bot_token, base_url=api_url)
        app = build_app(desk, client=client, socket_mode=True)
        return chat, [SocketModeService(app, app_token), home], app

    if not signing_secret:
        raise SettingsError("configuration error: ECHTZEIT_SLACK_SIGNING_SECRET: HTTP mode needs "
                            "the signing secret (or set ECHTZEIT_SLACK_APP_TOKEN for Socket Mode)")
    if client_id:
        if not client_secret:
            raise SettingsError("configuration error: ECHTZEIT_SLACK_CLIENT_SECRET: the OAuth "
                                "install flow needs it with ECHTZEIT_SLACK_CLIENT_ID")
        engine = deps.store.engine
        installations = SqlInstallationStore(engine, client_id=client_id, now=now)
        oauth = AsyncOAuthSettings(
            client_id=client_id, client_secret=client_secret, scopes=list(BOT_SCOPES),
            install_path=INSTALL_PATH, redirect_uri_path=REDIRECT_PATH,
            installation_store=installations, installation_store_bot_only=True,
            state_store=SqlOAuthStateStore(engine, now=now),
        )
        chat = SlackChat(InstalledTokens(installations), api_url=api_url,
                         now=now, clock=clock, sleep=sleep)
        desk = SlackDesk(deps, directory=directory, reply_prefixes=prefixes,
                         qualify_channels=True, now=now, pacer=chat.pacer)
        app = build_app(desk, client=AsyncWebClient(base_url=api_url),
                        signing_secret=signing_secret, oauth_settings=oauth,
                        installation_store=installations)
    elif bot_token:
        chat = SlackChat(StaticToken(bot_token), api_url=api_url, now=now, clock=clock, sleep=sleep)
        desk = SlackDesk(deps, directory=directory, reply_prefixes=prefixes, now=now,
                         pacer=chat.pacer)
        app = build_app(desk, client=AsyncWebClient(token=bot_token, base_url=api_url),
                        signing_secret=signing_secret)
    else:
        raise SettingsError("configuration error: ECHTZEIT_SLACK_BOT_TOKEN: HTTP mode needs the "
                            "bot token (one workspace) or ECHTZEIT_SLACK_CLIENT_ID and _SECRET "
                            "(OAuth installs)")
    service = HttpService(app, host=settings.http_host, port=settings.http_port)
    return chat, [service, _home(desk, settings)], app


def _home(desk: SlackDesk, settings: SlackSettings) -> HomeTabs:
    """The App Home publisher: the Home tab listener uses it, and it runs as a service."""
    desk.home = HomeTabs(desk, every=settings.home_refresh_seconds,
                         recent=settings.home_recent_minutes * 60,
                         per_minute=settings.home_publishes_per_minute)
    return desk.home
