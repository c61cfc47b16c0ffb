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
from bot.store import Store, utcnow
from integrations.networks import (
    bluesky_net,
    facebook_net,
    github_net,
    hackernews_net,
    instagram_net,
    mastodon_net,
    reddit_net,
    rss_net,
    webhook_net,
    x_net,
    x_oauth,
    youtube_net,
)
from integrations.networks.followers import FollowerRecorder, parse_accounts
from integrations.networks.http_common import Api, ApiError
from integrations.networks.meta_common import GraphApi, MetaWebhook
from integrations.networks.terms import TermsProvider, fixed_terms, store_terms

log = logging.getLogger(__name__)

USER_AGENT = "Echtzeit/0.1 (social customer care bot; +https://github.com/echtzeit/echtzeit)"

# Every network this package knows, in the order `echtzeit networks` lists them.
NETWORKS: tuple[str, ...] = ("webhook", "mastodon", "bluesky", "reddit", "hackernews",
                              "rss", "x", "github", "youtube", "facebook",
                              "instagram")

# What turns a network on, for the report.
OFF_REASONS: dict[str, str] = {
    "webhook": "set ECHTZEIT_WEBHOOK_SECRET",
    "mastodon": "set ECHTZEIT_MASTODON_BASE_URL and ECHTZEIT_MASTODON_ACCESS_TOKEN",
    "bluesky": "set ECHTZEIT_BLUESKY_HANDLE and ECHTZEIT_BLUESKY_APP_PASSWORD "
               "(search, replies) and/or ECHTZEIT_BLUESKY_JETSTREAM_URL (firehose)",
    "reddit": "set ECHTZEIT_REDDIT_CLIENT_ID and ECHTZEIT_REDDIT_CLIENT_SECRET (and "
              "ECHTZEIT_REDDIT_USERNAME/PASSWORD to reply)",
    "hackernews": "set ECHTZEIT_HACKERNEWS_ENABLED=true (no key needed)",
    "rss": "set ECHTZEIT_RSS_FEEDS (feed URLs, e.g. Google Alerts feeds)",
    "x": "set ECHTZEIT_X_BEARER_TOKEN (paid API; and to reply ECHTZEIT_X_CLIENT_ID with "
         "ECHTZEIT_X_REFRESH_TOKEN, or ECHTZEIT_X_USER_TOKEN for two hours)",
    "github": "set ECHTZEIT_GITHUB_TOKEN",
    "youtube": "set ECHTZEIT_YOUTUBE_API_KEY and ECHTZEIT_YOUTUBE_CHANNEL_ID or "
               "ECHTZEIT_YOUTUBE_VIDEO_IDS (and ECHTZEIT_YOUTUBE_REFRESH_TOKEN to reply)",
    "facebook": "set ECHTZEIT_FACEBOOK_PAGE_ID and ECHTZEIT_FACEBOOK_PAGE_TOKEN (webhooks: "
                "ECHTZEIT_META_APP_SECRET and ECHTZEIT_META_VERIFY_TOKEN)",
    "instagram": "set ECHTZEIT_INSTAGRAM_USER_ID and ECHTZEIT_INSTAGRAM_TOKEN (@mentions need "
                 "the Meta webhook: ECHTZEIT_META_APP_SECRET and ECHTZEIT_META_VERIFY_TOKEN)",
}


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
    routes: list[webhook_net.WebhookRoute] = field(default_factory=list)
    # Networks with a live source: the demo's recording responder must not pretend to
    # answer their mentions when no real responder is configured.
    live: set[str] = field(default_factory=set)
    meta: MetaWebhook | None = None  # Meta's webhook endpoint, shared by Facebook and Instagram
    # Cheap authenticated calls that name the account, per network (`echtzeit networks`).
    checks: dict[str, tuple[str, Callable[[], Awaitable[str]] | None]] = field(
        default_factory=dict)
    # Where credentials that the networks renew themselves are kept (X's refresh token).
    store: Store | None = None


Terms = Callable[[str], TermsProvider]


def _secret(value: object) -> str:
    getter = getattr(value, "get_secret_value", None)
    return str(getter()) if getter else ""


def _webhook(settings: Settings, terms: Terms, nets: Networks) -> None:
    secret = _secret(settings.webhook_secret)
    if not secret:
        return
    push = webhook_net.PushSource("webhook")
    nets.sources.append(push)
    nets.routes.append(webhook_net.signed_route(push, secret=secret,
                                                max_bytes=settings.webhook_max_bytes))
    nets.live.add("webhook")
    nets.checks["webhook"] = (
        f"POST {settings.webhook_host}:{settings.webhook_port}/webhook", None)


def _mastodon(settings: Settings, terms: Terms, nets: Networks) -> None:
    token = _secret(settings.mastodon_access_token)
    base = settings.mastodon_base_url
    if not (base and token):
        return
    sources, responder = mastodon_net.build(
        nets.client, base_url=base, token=token, terms=terms("mastodon"),
        interval=settings.poll_seconds, hashtags=settings.mastodon_hashtags,
        streaming=settings.mastodon_streaming)
    nets.sources += sources
    nets.responders["mastodon"] = responder
    nets.live.add("mastodon")
    mode = ("search polled, hashtags and mentions streamed" if settings.mastodon_streaming
            else "search, hashtags and mentions polled")
    client = nets.client
    nets.checks["mastodon"] = (f"{base}: {mode}; replies",
                               lambda: mastodon_net.verify(client, base, token))


def _bluesky(settings: Settings, terms: Terms, nets: Networks) -> None:
    password = _secret(settings.bluesky_app_password)
    session = None
    parts = []
    if settings.bluesky_handle and password:
        session = bluesky_net.Session(nets.client, settings.bluesky_service_url,
                                      settings.bluesky_handle, password)
        profiles = bluesky_net.Profiles(session.get)
        nets.sources.append(bluesky_net.BlueskySearch(
            session, profiles, terms("bluesky"), interval=settings.poll_seconds))
        nets.responders["bluesky"] = bluesky_net.BlueskyResponder(session)
        parts.append(f"search via {settings.bluesky_service_url}; replies")
    if settings.bluesky_jetstream_url:
        profiles = (bluesky_net.Profiles(session.get) if session is not None
                    else bluesky_net.public_profiles(nets.client,
                                                     settings.bluesky_public_api_url))
        own = session
        nets.sources.append(bluesky_net.JetstreamSource(
            settings.bluesky_jetstream_url, profiles, terms("bluesky"),
            refresh_terms=settings.poll_seconds,
            own_did=lambda: own.did if own is not None else None))
        parts.append(f"firehose {settings.bluesky_jetstream_url}")
    if not parts:
        return
    nets.live.add("bluesky")
    check = (lambda: bluesky_net.verify(session)) if session is not None else None
    nets.checks["bluesky"] = ("; ".join(parts), check)


def _reddit(settings: Settings, terms: Terms, nets: Networks) -> None:
    secret = _secret(settings.reddit_client_secret)
    if not (settings.reddit_client_id and secret):
        return
    source, responder, api, token = reddit_net.build(
        nets.client, api_url=settings.reddit_api_url, auth_url=settings.reddit_auth_url,
        client_id=settings.reddit_client_id, client_secret=secret,
        user_agent=settings.reddit_user_agent, username=settings.reddit_username,
        password=_secret(settings.reddit_password) or None, terms=terms("reddit"),
        interval=settings.poll_seconds, subreddits=settings.reddit_subreddits)
    nets.sources.append(source)
    nets.live.add("reddit")
    subs = ", ".join(f"r/{s}" for s in source.subreddits) or "no subreddits"
    what = f"search; new comments of {subs}"
    if responder is not None:
        nets.responders["reddit"] = responder
        what += "; replies"
    nets.checks["reddit"] = (what, lambda: reddit_net.verify(api, token))


def _hackernews(settings: Settings, terms: Terms, nets: Networks) -> None:
    if not settings.hackernews_enabled:
        return
    nets.sources.append(hackernews_net.build(
        nets.client, api_url=settings.hackernews_api_url, terms=terms("hackernews"),
        interval=settings.poll_seconds))
    nets.live.add("hackernews")
    client, url = nets.client, settings.hackernews_api_url
    nets.checks["hackernews"] = ("Algolia search of stories and comments; no replies "
                                 "(cards link to the item)",
                                 lambda: hackernews_net.verify(client, url))


def _rss(settings: Settings, terms: Terms, nets: Networks) -> None:
    if not settings.rss_feeds:
        return
    feeds = list(settings.rss_feeds)
    nets.sources.append(rss_net.FeedSource(nets.client, feeds, interval=settings.poll_seconds))
    nets.live.add("rss")
    client = nets.client
    nets.checks["rss"] = (f"{len(feeds)} feed(s), conditional GET; no replies",
                          lambda: rss_net.verify(client, feeds))


def _x_token(settings: Settings, nets: Networks) -> tuple[x_oauth.RenewedToken | None, str]:
    """The renewed user token of X when a refresh token is configured (and a note for the
    report when it cannot be used here)."""
    refresh = _secret(settings.x_refresh_token)
    if not refresh:
        return None, ""
    if not settings.x_client_id:
        log.error("ECHTZEIT_X_REFRESH_TOKEN is set without ECHTZEIT_X_CLIENT_ID (the OAuth 2.0 "
                  "Client ID of the X app): the user token is not renewed")
        return None, "; ECHTZEIT_X_CLIENT_ID missing: the user token is not renewed"
    if nets.store is None:
        # `echtzeit networks` has no store: renewing here would spend the single-use refresh
        # token without keeping its successor.
        return None, "; the user token is renewed from the stored refresh token while the " \
                     "bot runs (not checked here: that would spend it)"
    return x_oauth.renewed_token(
        nets.client, api_url=settings.x_api_url, store=nets.store, seed=refresh,
        client_id=settings.x_client_id,
        client_secret=_secret(settings.x_client_secret) or None), ""


def _x(settings: Settings, terms: Terms, nets: Networks) -> None:
    bearer = _secret(settings.x_bearer_token)
    if not bearer:
        return
    token, note = _x_token(settings, nets)
    source, responder, app, user = x_net.build(
        nets.client, api_url=settings.x_api_url, bearer=bearer,
        user_token=_secret(settings.x_user_token) or None, terms=terms("x"),
        interval=settings.poll_seconds, token=token)
    nets.sources.append(source)
    nets.live.add("x")
    what = "recent search (billed per post read)" + note
    if responder is not None:
        nets.responders["x"] = responder
        what += "; replies where the author @mentioned the brand"
    unchecked = "user token not checked" if note else "no replies"
    nets.checks["x"] = (what, lambda: x_net.verify(app, user, without_user=unchecked))


def _github(settings: Settings, terms: Terms, nets: Networks) -> None:
    token = _secret(settings.github_token)
    if not token:
        return
    source, responder, api = github_net.build(
        nets.client, api_url=settings.github_api_url, token=token, terms=terms("github"),
        interval=settings.poll_seconds)
    nets.sources.append(source)
    nets.responders["github"] = responder
    nets.live.add("github")
    nets.checks["github"] = ("issue and discussion search; comments",
                             lambda: github_net.verify(api))


def _youtube(settings: Settings, terms: Terms, nets: Networks) -> None:
    key = _secret(settings.youtube_api_key)
    if not (key and (settings.youtube_channel_id or settings.youtube_video_ids)):
        return
    refresh = _secret(settings.youtube_refresh_token) or None
    access = _secret(settings.youtube_oauth_token) or None
    oauth = (youtube_net.OAuth(nets.client, token_url=settings.youtube_token_url,
                               access_token=access, refresh_token=refresh,
                               client_id=settings.youtube_client_id,
                               client_secret=_secret(settings.youtube_client_secret) or None)
             if refresh or access else None)
    source, responder, read, write = youtube_net.build(
        nets.client, api_url=settings.youtube_api_url, api_key=key,
        channel_id=settings.youtube_channel_id, video_ids=settings.youtube_video_ids,
        oauth=oauth, interval=settings.poll_seconds)
    nets.sources.append(source)
    nets.live.add("youtube")
    what = f"comment threads of {len(source.feeds())} channel/video feed(s)"
    if responder is not None:
        nets.responders["youtube"] = responder
        what += "; replies"
    channel = settings.youtube_channel_id
    nets.checks["youtube"] = (what, lambda: youtube_net.verify(read, write, channel))


def _meta(settings: Settings, nets: Networks) -> MetaWebhook | None:
    """Meta's webhook endpoint (once), when the app secret and verify token are set."""
    secret = _secret(settings.meta_app_secret)
    verify_token = _secret(settings.meta_verify_token)
    if not (secret and verify_token):
        return None
    if nets.meta is None:
        nets.meta = MetaWebhook(app_secret=secret, verify_token=verify_token,
                                max_bytes=settings.webhook_max_bytes)
        nets.routes += nets.meta.routes()
    return nets.meta


def _facebook(settings: Settings, terms: Terms, nets: Networks) -> None:
    token = _secret(settings.facebook_page_token)
    page = settings.facebook_page_id
    if not (page and token):
        return
    source, responder, hook, api = facebook_net.build(
        nets.client, graph_url=settings.graph_api_url, page_id=page, token=token,
        interval=settings.poll_seconds)
    nets.sources.append(source)
    nets.responders["facebook"] = responder
    nets.live.add("facebook")
    what = "page feed, comments and tags polled"
    meta = _meta(settings, nets)
    if meta is not None:
        push = webhook_net.PushSource("facebook-webhook")
        meta.on("page", hook, push)
        nets.sources.append(push)
        what += f"; webhooks at {settings.webhook_host}:{settings.webhook_port}/meta"
    nets.checks["facebook"] = (what + "; comment replies",
                               lambda: facebook_net.verify(api, page))


def _instagram(settings: Settings, terms: Terms, nets: Networks) -> None:
    token = _secret(settings.instagram_token)
    user = settings.instagram_user_id
    if not (user and token):
        return
    source, responder, hook, api = instagram_net.build(
        nets.client, graph_url=settings.graph_api_url, user_id=user, token=token,
        interval=settings.poll_seconds)
    nets.sources.append(source)
    nets.responders["instagram"] = responder
    nets.live.add("instagram")
    what = "comments on own media and tags polled"
    meta = _meta(settings, nets)
    if meta is not None:
        push = webhook_net.PushSource("instagram-webhook")
        meta.on("instagram", hook, push)
        nets.sources.append(push)
        what += "; @mentions by webhook"
    else:
        what += "; no @mentions without the Meta webhook"
    nets.checks["instagram"] = (what + "; replies", lambda: instagram_net.verify(api, user))


BUILDERS: tuple[Callable[[Settings, Terms, Networks], None], ...] = (
    _webhook, _mastodon, _bluesky, _reddit, _hackernews, _rss, _x, _github, _youtube,
    _facebook, _instagram,
)


def build(settings: Settings, store: Store | None, *,
          client: httpx.AsyncClient | None = None) -> Networks:
    """Sources, responders and endpoints of every network whose credentials are set. The
    sources search for the terms of the brands in `store` (none without a store)."""
    nets = Networks(client=client or make_client(), store=store)

    def terms(network: str) -> TermsProvider:
        return store_terms(store, network) if store is not None else fixed_terms()

    for builder in BUILDERS:
        builder(settings, terms, nets)
    if store is not None and settings.brand_accounts:
        try:
            accounts = parse_accounts(settings.brand_accounts)
        except ValueError as exc:
            log.error("ECHTZEIT_BRAND_ACCOUNTS: %s; follower counts are not recorded", exc)
        else:
            nets.services.append(FollowerRecorder(
                store, accounts, FollowerCounts(settings, nets.client), zone=settings.timezone))
    if nets.routes:
        nets.services.append(webhook_net.WebhookServer(
            host=settings.webhook_host, port=settings.webhook_port, routes=nets.routes,
            max_bytes=settings.webhook_max_bytes,
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


async def report(settings: Settings, client: httpx.AsyncClient | None = None) -> list[Status]:
    """Each known network: on or off, and for those on whether their credentials work."""
    own = client is None
    nets = build(settings, None, client=client)
    try:
        async def one(network: str) -> Status:
            if network not in nets.checks:
                return Status(network, False, OFF_REASONS.get(network, "not configured"))
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


# --- follower counts for the digest --------------------------------------------------------------


class FollowerCounts:
    """`await counts("mastodon", "acme@mastodon.social")` -> followers of a brand account, or
    None when the network is off, has no followers (HN, RSS) or the lookup failed. The digest
    calls this daily for its growth figures; bot/__main__ hands it over."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client or make_client()

    async def __call__(self, network: str, handle: str) -> int | None:
        s, c = self.settings, self.client
        try:
            return await self._count(s, c, network, handle)
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            log.warning("followers of %s on %s unknown: %s", handle, network, exc)
            return None

    async def _count(self, s: Settings, c: httpx.AsyncClient, network: str,
                     handle: str) -> int | None:
        if network == "mastodon" and s.mastodon_base_url and _secret(s.mastodon_access_token):
            return await mastodon_net.follower_count(c, s.mastodon_base_url,
                                                     _secret(s.mastodon_access_token), handle)
        if network == "bluesky":
            return await bluesky_net.follower_count(c, handle, api_url=s.bluesky_public_api_url)
        if network == "reddit" and s.reddit_client_id and _secret(s.reddit_client_secret):
            _, _, api, _ = reddit_net.build(
                c, api_url=s.reddit_api_url, auth_url=s.reddit_auth_url,
                client_id=s.reddit_client_id, client_secret=_secret(s.reddit_client_secret),
                user_agent=s.reddit_user_agent, username=s.reddit_username,
                password=_secret(s.reddit_password) or None, terms=fixed_terms(),
                interval=s.poll_seconds)
            return await reddit_net.follower_count(api, handle)
        if network == "x" and _secret(s.x_bearer_token):
            api = x_net.api_for(c, s.x_api_url, _secret(s.x_bearer_token),
                                sleep=asyncio.sleep, now=utcnow)
            return await x_net.follower_count(api, handle)
        if network == "github" and _secret(s.github_token):
            api = github_net.api_for(c, s.github_api_url, _secret(s.github_token),
                                     sleep=asyncio.sleep, now=utcnow)
            return await github_net.follower_count(api, handle)
        if network == "youtube" and _secret(s.youtube_api_key):
            api = Api(c, s.youtube_api_url, headers={"X-Goog-Api-Key":
                                                     _secret(s.youtube_api_key)})
            return await youtube_net.follower_count(api, handle)
        if network == "facebook" and _secret(s.facebook_page_token):
            graph = GraphApi(c, s.graph_api_url, _secret(s.facebook_page_token))
            return await facebook_net.follower_count(graph, handle or str(s.facebook_page_id))
        if network == "instagram" and s.instagram_user_id and _secret(s.instagram_token):
            graph = GraphApi(c, s.graph_api_url, _secret(s.instagram_token))
            own = handle in ("", s.instagram_user_id)
            return await instagram_net.follower_count(graph, s.instagram_user_id,
                                                      None if own else handle)
        return None
