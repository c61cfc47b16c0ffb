"""Which networks are on, built from the settings: their sources, responders and push
endpoints, and the `echtzeit networks` report (is each one on, do its credentials work).

A network without credentials is off. `bot/__main__.py` calls `build` once and wires what it
returns; every module gets the one shared `httpx.AsyncClient` made here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from bot.chat import Service
from bot.networks import Responder, Source
from bot.settings import Settings
from bot.store import Store
from integrations.networks import mastodon_net, webhook_net
from integrations.networks.terms import store_terms

log = logging.getLogger(__name__)

USER_AGENT = "Echtzeit/0.1 (social customer care bot; +https://github.com/echtzeit/echtzeit)"

# Every network this package knows, in the order `echtzeit networks` lists them.
NETWORKS: tuple[str, ...] = ("webhook", "mastodon")


def make_client() -> httpx.AsyncClient:
    """The HTTP client every network module shares (connection pooling, sane timeouts)."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(20.0, connect=10.0),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


@dataclass
class Networks:
    """What the configured networks contribute to one process."""

    client: httpx.AsyncClient
    sources: list[Source] = field(default_factory=list)
    responders: dict[str, Responder] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    # Networks with a live source: the demo's recording responder must not pretend to
    # answer their mentions when no real responder is configured.
    live: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Status:
    """One line of `echtzeit networks`."""

    network: str
    on: bool
    detail: str
    ok: bool | None = None  # None: not checked (off, or nothing to check)


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else ""


def build(settings: Settings, store: Store, *, client: httpx.AsyncClient | None = None) -> Networks:
    """Sources, responders and endpoints of every network whose credentials are set."""
    nets = Networks(client=client or make_client())
    routes: list[webhook_net.WebhookRoute] = []

    secret = _secret(settings.webhook_secret)
    if secret:
        push = webhook_net.PushSource("webhook")
        nets.sources.append(push)
        routes.append(webhook_net.signed_route(push, secret=secret,
                                               max_bytes=settings.webhook_max_bytes))

    token = _secret(settings.mastodon_access_token)
    if settings.mastodon_base_url and token:
        sources, responder = mastodon_net.build(
            nets.client, base_url=settings.mastodon_base_url, token=token,
            terms=store_terms(store, "mastodon"), interval=settings.poll_seconds,
            hashtags=settings.mastodon_hashtags, streaming=settings.mastodon_streaming)
        nets.sources += sources
        nets.responders["mastodon"] = responder
        nets.live.add("mastodon")

    if routes:
        nets.services.append(webhook_net.WebhookServer(
            host=settings.webhook_host, port=settings.webhook_port, routes=routes,
            max_bytes=settings.webhook_max_bytes,
        ))
    return nets


# --- `echtzeit networks` ----------------------------------------------------------------------

Check = Callable[[], Awaitable[str]]


def _checks(settings: Settings, client: httpx.AsyncClient) -> dict[str, tuple[str, Check | None]]:
    """Per network: why it is on or off, and a cheap authenticated call that names the account
    (None: nothing to call)."""
    found: dict[str, tuple[str, Check | None]] = {}
    if _secret(settings.webhook_secret):
        found["webhook"] = (f"listening on {settings.webhook_host}:{settings.webhook_port}"
                            "/webhook", None)
    token = _secret(settings.mastodon_access_token)
    if settings.mastodon_base_url and token:
        base = settings.mastodon_base_url
        mode = "search polled, hashtags and mentions streamed" if settings.mastodon_streaming \
            else "search, hashtags and mentions polled"
        found["mastodon"] = (f"{base}: {mode}; replies",
                             lambda: mastodon_net.verify(client, base, token))
    return found


async def report(settings: Settings, client: httpx.AsyncClient | None = None) -> list[Status]:
    """Each known network: on or off, and for those on whether their credentials work."""
    own = client is None
    http = client or make_client()
    try:
        checks = _checks(settings, http)

        async def one(network: str) -> Status:
            if network not in checks:
                return Status(network, False, OFF_REASONS.get(network, "not configured"))
            detail, check = checks[network]
            if check is None:
                return Status(network, True, detail)
            try:
                who = await asyncio.wait_for(check(), 30)
            except Exception as exc:
                return Status(network, True, f"credentials do not work: {exc}", ok=False)
            return Status(network, True, f"{detail}; signed in as {who}", ok=True)

        return list(await asyncio.gather(*(one(n) for n in NETWORKS)))
    finally:
        if own:
            await http.aclose()


OFF_REASONS: dict[str, str] = {
    "webhook": "set ECHTZEIT_WEBHOOK_SECRET",
    "mastodon": "set ECHTZEIT_MASTODON_BASE_URL and ECHTZEIT_MASTODON_ACCESS_TOKEN",
}


def render(statuses: list[Status]) -> list[str]:
    """The report as plain lines."""
    width = max(len(s.network) for s in statuses)
    lines = []
    for s in statuses:
        mark = "off" if not s.on else {True: "ok", False: "FAIL", None: "on"}[s.ok]
        lines.append(f"{s.network:<{width}}  {mark:<4}  {s.detail}")
    return lines


def networks_command() -> None:
    """List each network: on or off, and whether its credentials work (one cheap call each)."""
    import typer

    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    statuses = asyncio.run(report(settings))
    for line in render(statuses):
        typer.echo(line)
    if any(s.ok is False for s in statuses):
        raise typer.Exit(1)
