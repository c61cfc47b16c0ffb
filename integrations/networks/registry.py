"""Which networks are on, built from their settings by their plug-ins (`PLUGINS`, one per
network module, integrations/networks/plugin.py): their sources, responders and push
endpoints, and the `echtzeit networks` report (is each one on, do its credentials work).

A network without credentials is off. echtzeit/wiring.py calls `build` once and wires what it
returns; every plug-in gets the one shared `httpx.AsyncClient` made here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from bot.chat import Service
from bot.clock import utcnow
from bot.models import Credential
from bot.networks import Moderator, Publisher, Responder, Source
from bot.store import Store
from integrations.networks import (
    appstore_net,
    bluesky_net,
    email_net,
    facebook_net,
    github_net,
    googleplay_net,
    hackernews_net,
    instagram_net,
    lemmy_net,
    mastodon_net,
    push,
    reddit_net,
    rss_net,
    stackexchange_net,
    threads_net,
    webhook_net,
    x_net,
    youtube_net,
)
from integrations.networks.followers import FollowerRecorder, parse_accounts
from integrations.networks.http_common import ApiError
from integrations.networks.meta_common import MetaWebhook
from integrations.networks.plugin import BuildContext, FollowerCounter, Plugin, secret
from integrations.networks.settings import NetworkConfig, NetworkSettings
from integrations.networks.terms import TermsProvider, fixed_terms, store_terms

log = logging.getLogger(__name__)

USER_AGENT = "Echtzeit/0.1 (social customer care bot; +https://github.com/echtzeit/echtzeit)"

# Every network plug-in, in the order `echtzeit networks` lists them.
PLUGINS: tuple[Plugin[Any], ...] = (
    webhook_net.PLUGIN, mastodon_net.PLUGIN, bluesky_net.PLUGIN, reddit_net.PLUGIN,
    hackernews_net.PLUGIN, rss_net.PLUGIN, x_net.PLUGIN, github_net.PLUGIN, youtube_net.PLUGIN,
    facebook_net.PLUGIN, instagram_net.PLUGIN, lemmy_net.PLUGIN,
    stackexchange_net.PLUGIN, threads_net.PLUGIN, appstore_net.PLUGIN, googleplay_net.PLUGIN,
    email_net.PLUGIN,
)
NETWORKS: tuple[str, ...] = tuple(p.name for p in PLUGINS)


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
    publishers: dict[str, Publisher] = field(default_factory=dict)
    moderators: dict[str, Moderator] = field(default_factory=dict)
    services: list[Service] = field(default_factory=list)
    routes: list[push.WebhookRoute] = field(default_factory=list)
    # Networks with a live source: the demo's recording responder must not pretend to
    # answer their mentions when no real responder is configured.
    live: set[str] = field(default_factory=set)
    meta: MetaWebhook | None = None  # Meta's webhook endpoint, shared by Facebook and Instagram
    # Cheap authenticated calls that name the account, per network (`echtzeit networks`).
    checks: dict[str, tuple[str, Callable[[], Awaitable[str]] | None]] = field(
        default_factory=dict)
    # Where credentials that the networks renew themselves are kept (X's refresh token).
    store: Store | None = None
    # Follower counts of the brands' accounts, per network (the digest's growth figures).
    followers: dict[str, FollowerCounter] = field(default_factory=dict)


def _meta(shared: NetworkSettings, nets: Networks) -> MetaWebhook | None:
    """Meta's webhook endpoint (once), when the app secret and verify token are set."""
    app_secret, verify_token = secret(shared.meta_app_secret), secret(shared.meta_verify_token)
    if not (app_secret and verify_token):
        return None
    if nets.meta is None:
        nets.meta = MetaWebhook(app_secret=app_secret, verify_token=verify_token,
                                max_bytes=shared.webhook_max_bytes)
        nets.routes += nets.meta.routes()
    return nets.meta


def build(config: NetworkConfig, store: Store | None, *,
          client: httpx.AsyncClient | None = None, zone: str = "UTC",
          credentials: Callable[[str], Credential | None] | None = None,
          now: Callable[[], datetime] = utcnow) -> Networks:
    """Sources, responders and endpoints of every network whose credentials are set. The
    sources search for the terms of the brands in `store` (none without a store); follower
    counts are kept by the day in `zone`. `credentials` (for `echtzeit networks`, without a
    store) reads stored credentials for the checks, judged at `now`."""
    nets = Networks(client=client or make_client(), store=store)
    shared = config.shared

    def terms(network: str) -> TermsProvider:
        return store_terms(store, network) if store is not None else fixed_terms()

    for plugin in PLUGINS:
        parts = plugin.build(BuildContext(
            client=nets.client, terms=terms, store=store, shared=shared,
            settings=config.of(plugin.settings), meta=lambda: _meta(shared, nets),
            credentials=credentials, now=now))
        if parts is None:
            continue
        name = plugin.name
        if parts.followers is not None:
            nets.followers[name] = parts.followers
        nets.services += parts.services
        nets.routes += parts.routes
        if parts.check is None:  # off: it only counts followers
            continue
        nets.sources += parts.sources
        if parts.responder is not None:
            nets.responders[name] = parts.responder
        if parts.publisher is not None:
            nets.publishers[name] = parts.publisher
        if parts.moderator is not None:
            nets.moderators[name] = parts.moderator
        nets.live.add(name)
        nets.checks[name] = parts.check
    if store is not None and shared.brand_accounts:
        try:
            accounts = parse_accounts(shared.brand_accounts)
        except ValueError as exc:
            log.error("ECHTZEIT_BRAND_ACCOUNTS: %s; follower counts are not recorded", exc)
        else:
            nets.services.append(FollowerRecorder(
                store, accounts, FollowerCounts(nets.followers), zone=zone))
    if nets.routes:
        nets.services.append(push.WebhookServer(
            host=shared.webhook_host, port=shared.webhook_port, routes=nets.routes,
            max_bytes=shared.webhook_max_bytes,
        ))
    return nets


# --- `echtzeit networks` ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Status:
    """One line of `echtzeit networks`."""

    network: str
    on: bool
    detail: str
    ok: bool | None = None  # None: not checked (off, or nothing to check)


async def report(config: NetworkConfig, client: httpx.AsyncClient | None = None, *,
                 credentials: Callable[[str], Credential | None] | None = None,
                 now: Callable[[], datetime] = utcnow) -> list[Status]:
    """Each known network: on or off, and for those on whether their credentials work (with
    the stored credentials that `credentials` reads, when given)."""
    own = client is None
    nets = build(config, None, client=client, credentials=credentials, now=now)
    off = {p.name: p.spec.off_reason or "not configured" for p in PLUGINS}
    try:
        async def one(network: str) -> Status:
            if network not in nets.checks:
                return Status(network, False, off[network])
            detail, check = nets.checks[network]
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
            await nets.client.aclose()


def render(statuses: list[Status]) -> list[str]:
    """The report as plain lines."""
    width = max(len(s.network) for s in statuses)
    lines = []
    for s in statuses:
        mark = "off" if not s.on else {True: "ok", False: "FAIL", None: "on"}[s.ok]
        lines.append(f"{s.network:<{width}}  {mark:<4}  {s.detail}")
    return lines


def networks_command(config: NetworkConfig, *,
                     credentials: Callable[[str], Credential | None] | None = None) -> None:
    """List each network: on or off, and whether its credentials work (one cheap call each)."""
    import typer

    statuses = asyncio.run(report(config, credentials=credentials))
    for line in render(statuses):
        typer.echo(line)
    if any(s.ok is False for s in statuses):
        raise typer.Exit(1)


# --- follower counts for the digest --------------------------------------------------------------


class FollowerCounts:
    """`await counts("mastodon", "acme@mastodon.social")` -> followers of a brand account, or
    None when the network is off, has no followers (HN, RSS) or the lookup failed. The digest
    calls this daily for its growth figures, with the counters of the built plug-ins."""

    def __init__(self, counters: Mapping[str, FollowerCounter]) -> None:
        self.counters = dict(counters)

    async def __call__(self, network: str, handle: str) -> int | None:
        counter = self.counters.get(network)
        if counter is None:
            return None
        try:
            return await counter(handle)
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.warning("followers of %s on %s unknown: %s", handle, network, exc)
            return None
