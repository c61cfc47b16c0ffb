"""The registry: which networks the settings turn on, the `echtzeit networks` report, the
composition root's responders, and follower counts for the digest."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from bot.settings import Settings
from bot.store import Store
from integrations.networks import registry
from integrations.networks.push import WebhookServer
from integrations.networks.replay import RecordingResponder
from integrations.networks.settings import NetworkConfig, load_network_config
from tests.integrations.networks.conftest import fixture
from tests.integrations.networks.fake_googleplay import service_account_json

EVERYTHING: dict[str, Any] = {
    "webhook_secret": "whsec", "webhook_port": 0,
    "mastodon_base_url": "https://social.example", "mastodon_access_token": "mtok",
    "bluesky_handle": "acme.example.com", "bluesky_app_password": "app-pw",
    "bluesky_jetstream_url": "wss://jetstream.example",
    "reddit_client_id": "rid", "reddit_client_secret": "rsecret",
    "hackernews_enabled": True, "rss_feeds": "https://feeds.example/a.xml",
    "x_bearer_token": "xbearer", "x_user_token": "xuser",
    "github_token": "ghtok",
    "youtube_api_key": "ytkey", "youtube_channel_id": "UCacme", "youtube_refresh_token": "1//r",
    "facebook_page_id": "104882255478301", "facebook_page_token": "fbtok",
    "instagram_user_id": "17841405309211844", "instagram_token": "igtok",
    "meta_app_secret": "appsecret", "meta_verify_token": "verify",
    "lemmy_base_url": "https://lemmy.world", "lemmy_username": "AcmeSupport",
    "lemmy_password": "hunter2",
    "stackexchange_sites": "stackoverflow", "stackexchange_key": "sekey",
    "stackexchange_access_token": "setok",
    "threads_user_id": "25025320233803991", "threads_access_token": "thtok",
    "appstore_issuer_id": "57246542-96fe-1a63-e053-0824d011072a",
    "appstore_key_id": "2X9R4HXF34", "appstore_private_key_path": "/secrets/AuthKey.p8",
    "appstore_app_ids": "1459876543",
    "email_imap_host": "imap.acme.example", "email_username": "support@acme.example",
    "email_password": "app-pw", "email_smtp_host": "smtp.acme.example",
    "googleplay_packages": "com.acme.app",
    "googleplay_service_account_key": service_account_json(),
}


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def config(**values: Any) -> NetworkConfig:
    return load_network_config(values, env_file=None)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    def answer(request: httpx.Request) -> httpx.Response:
        host, path = request.url.host, request.url.path
        if host == "social.example" and path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json=fixture("mastodon", "verify_credentials.json"))
        if host == "social.example" and path == "/api/v1/accounts/lookup":
            return httpx.Response(200, json=fixture("mastodon", "verify_credentials.json"))
        if host == "api.github.com":
            return httpx.Response(401, json={"message": "Bad credentials"})
        if host == "hn.algolia.com":
            return httpx.Response(200, json=fixture("hackernews", "search_by_date.json"))
        return httpx.Response(404, json={"message": "not in this test"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as c:
        yield c


def test_nothing_configured_turns_nothing_on(sqlite_store: Store) -> None:
    nets = registry.build(config(), sqlite_store)
    assert (nets.sources, nets.responders, nets.services, nets.live) == ([], {}, [], set())


def test_every_network_on_with_its_credentials(sqlite_store: Store) -> None:
    nets = registry.build(config(**EVERYTHING), sqlite_store)
    assert nets.live == set(registry.NETWORKS)
    assert [s.name for s in nets.sources] == [
        "webhook", "mastodon:social.example", "mastodon-stream:social.example",
        "bluesky:acme.example.com", "bluesky-jetstream:jetstream.example", "reddit",
        "hackernews", "rss", "x", "github", "youtube", "facebook", "facebook-webhook",
        "instagram", "instagram-webhook", "lemmy:lemmy.world",
        "stackexchange:stackoverflow", "threads:25025320233803991", "appstore:1459876543",
        "googleplay:com.acme.app", "email:support@acme.example@imap.acme.example/INBOX"]
    # Reddit without an account reads app-only and cannot reply; HN and RSS never can.
    assert sorted(nets.responders) == ["appstore", "bluesky", "email", "facebook", "github",
                                       "googleplay", "instagram", "lemmy", "mastodon",
                                       "stackexchange", "threads", "x", "youtube"]
    (server,) = nets.services
    assert isinstance(server, WebhookServer)
    assert [(r.method, r.path) for r in server.routes] == [
        ("POST", "/webhook"), ("GET", "/meta"), ("POST", "/meta")]


async def test_report_checks_credentials_with_one_cheap_call(client: httpx.AsyncClient) -> None:
    values = {k: EVERYTHING[k] for k in ("mastodon_base_url", "mastodon_access_token",
                                         "github_token", "hackernews_enabled")}
    statuses = {s.network: s for s in await registry.report(config(**values), client)}
    assert statuses["mastodon"].ok is True
    assert statuses["mastodon"].detail.endswith("signed in as @acme@social.example")
    assert statuses["github"].ok is False
    assert "credentials do not work: HTTP 401: Bad credentials" in statuses["github"].detail
    assert statuses["hackernews"].ok is True
    assert statuses["reddit"].on is False
    lines = registry.render(list(statuses.values()))
    assert any(line.startswith("github         FAIL  credentials do not work") for line in lines)
    assert any(line.startswith("x              off   set ECHTZEIT_X_BEARER_TOKEN")
               for line in lines)


def test_the_composition_root_never_fakes_replies_on_a_live_network(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from echtzeit.wiring import network_responders, network_sources

    values = {k: EVERYTHING[k] for k in ("reddit_client_id", "reddit_client_secret",
                                         "mastodon_base_url", "mastodon_access_token")}
    live = registry.build(config(**values), sqlite_store)
    responders = network_responders(settings(), tmp_path / "r.jsonl", live)
    assert type(responders["mastodon"]).__name__ == "MastodonResponder"
    # Reddit is live but app-only: no responder at all, rather than the demo's recorder.
    assert "reddit" not in responders
    # Networks that are off keep the demo recorder (the replay network's posts use them).
    assert isinstance(responders["x"], RecordingResponder)
    assert [s.name for s in network_sources(settings(), live)] == [
        "mastodon:social.example", "mastodon-stream:social.example", "reddit"]


async def test_follower_counts_for_the_digest(client: httpx.AsyncClient) -> None:
    counts = registry.FollowerCounts(
        registry.build(config(**EVERYTHING), None, client=client).followers)
    assert await counts("mastodon", "acme") == 5120
    assert await counts("hackernews", "pg") is None
    assert await counts("x", "AcmeSupport") is None  # the fake answers 404: unknown, no crash
    assert await registry.FollowerCounts(
        registry.build(config(), None, client=client).followers)("mastodon", "acme") is None


def test_networks_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from echtzeit.cli import app

    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for key in list(__import__("os").environ):
        if key.startswith("ECHTZEIT_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ECHTZEIT_WEBHOOK_SECRET", "whsec")
    result = CliRunner().invoke(app, ["networks"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "webhook        on    POST 127.0.0.1:8787/webhook"
    assert lines[1].startswith("mastodon       off   set ECHTZEIT_MASTODON_BASE_URL")
    assert len(lines) == len(registry.NETWORKS) + 1
    from bot.query import Matcher
    from bot.query.scanner import auto_scanner

    assert lines[-1].startswith(f"query engine: {auto_scanner()}")
    assert auto_scanner() == Matcher.build({1: "acme"}).scanner  # what "auto" really builds


async def test_webhook_server_of_the_registry_serves(sqlite_store: Store) -> None:
    nets = registry.build(config(webhook_secret="whsec", webhook_port=0), sqlite_store)
    (server,) = nets.services
    stop = asyncio.Event()
    task = asyncio.create_task(server.serve(stop))
    try:
        assert isinstance(server, WebhookServer)
        await asyncio.wait_for(server.ready.wait(), 5)
        async with httpx.AsyncClient() as http:
            health = await http.get(f"http://127.0.0.1:{server.port}/healthz")
            unsigned = await http.post(f"http://127.0.0.1:{server.port}/webhook", json={})
        assert health.json() == {"ok": True} and unsigned.status_code == 401
    finally:
        stop.set()
        await task
        await nets.client.aclose()


async def test_brand_accounts_followers_are_recorded_daily(
    sqlite_store: Store, client: httpx.AsyncClient
) -> None:
    import sqlalchemy as sa

    from bot.models import BrandAccountFollowers
    from integrations.networks.followers import FollowerRecorder

    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    values = dict(EVERYTHING, brand_accounts="Acme=mastodon:acme,Acme=rss:feed,Nobody=x:n")
    nets = registry.build(config(**values), sqlite_store, client=client, zone="Europe/Berlin")
    recorder = next(s for s in nets.services if isinstance(s, FollowerRecorder))
    assert [(a.brand, a.network, a.handle) for a in recorder.accounts] == [
        ("Acme", "mastodon", "acme"), ("Acme", "rss", "feed"), ("Nobody", "x", "n")]
    recorder.now = lambda: datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 00:30 in Berlin
    assert await recorder.record_once() == 1
    with sqlite_store.engine.connect() as conn:
        rows = conn.execute(sa.select(BrandAccountFollowers.__table__)).mappings().all()
    assert [(r["network"], r["handle"], str(r["day"]), r["followers"]) for r in rows] == [
        ("mastodon", "acme", "2026-11-21", 5120)]


def test_malformed_brand_accounts_are_named(sqlite_store: Store,
                                            caplog: pytest.LogCaptureFixture) -> None:
    nets = registry.build(config(brand_accounts="Acme-mastodon-acme"), sqlite_store)
    assert nets.services == []
    assert "write Brand=network:handle" in caplog.text


async def test_follower_recorder_stops_when_told(sqlite_store: Store,
                                                 client: httpx.AsyncClient) -> None:
    from integrations.networks.followers import FollowerRecorder, parse_accounts

    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    waits: list[float] = []
    waiting = asyncio.Event()
    forever = asyncio.Event()

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        waiting.set()
        await forever.wait()

    recorder = FollowerRecorder(sqlite_store, parse_accounts(["Acme=mastodon:acme"]),
                                registry.FollowerCounts(registry.build(
                                    config(**EVERYTHING), None, client=client).followers),
                                sleep=sleep)
    stop = asyncio.Event()
    task = asyncio.create_task(recorder.serve(stop))
    await asyncio.wait_for(waiting.wait(), 5)  # recorded once, now pausing for a day
    stop.set()
    await asyncio.wait_for(task, 5)
    assert waits == [24 * 3600.0]


def test_the_demo_never_touches_a_real_network(tmp_path: Path) -> None:
    from echtzeit.wiring import build_desk
    from tests.configs import config_of

    everything = config_of(core=settings(data_dir=tmp_path), networks=config(**EVERYTHING))
    demo = build_desk(everything, f"sqlite:///{tmp_path / 'demo.db'}",
                      replies_file=tmp_path / "r.jsonl", networks=False)
    assert demo.sources == []
    assert all(isinstance(r, RecordingResponder) for r in demo.deps.responders.values())
    assert not any(isinstance(s, WebhookServer) for s in demo.services)
    live = build_desk(everything, f"sqlite:///{tmp_path / 'live.db'}",
                      replies_file=tmp_path / "r.jsonl")
    assert len(live.sources) == 21
    assert type(live.deps.responders["x"]).__name__ == "XResponder"
    demo.store.close()
    live.store.close()
