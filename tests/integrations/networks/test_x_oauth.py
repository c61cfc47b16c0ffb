"""The X user token renewed from a rotating refresh token, against the fake X of test_x_net.py:
its token endpoint enforces rotation (a used refresh token is refused with 400 invalid_request),
access tokens expire `expires_in` seconds after issue on the test clock, and POST /2/tweets
answers 401 to an expired one. Store-backed tests run on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot.domain import ReplyState
from bot.logs import setup_logging
from bot.models import Mention
from bot.networks import ReplyRejected
from bot.settings import Settings
from bot.store import Store
from integrations.networks import registry, x_net, x_oauth
from integrations.networks.settings import load_network_config
from integrations.networks.terms import fixed_terms
from testkit.factories import new_mention
from tests.conftest import Clock
from tests.integrations.networks.conftest import NoSleep, console_reply
from tests.integrations.networks.test_x_net import (
    API,
    BEARER,
    CLIENT_ID,
    CLIENT_SECRET,
    SEED,
    FakeX,
)

DANA = "1991425176305098752"  # @mentions the brand: X accepts a reply to it


@pytest.fixture
def fake(clock: Clock) -> FakeX:
    return FakeX(clock)


@pytest.fixture
async def client(fake: FakeX) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def responder_on(client: httpx.AsyncClient, store: Store, clock: Clock, *, seed: str = SEED,
                 secret: str | None = CLIENT_SECRET, sleep: Any = None,
                 ) -> tuple[x_net.XResponder, x_oauth.RenewedToken]:
    """One replica's X responder, its user token renewed through `store`."""
    token = x_oauth.renewed_token(client, api_url=API, store=store, seed=seed,
                                  client_id=CLIENT_ID, client_secret=secret,
                                  sleep=sleep or NoSleep(), now=clock)
    _, responder, _, _ = x_net.components(client, api_url=API, bearer=BEARER, user_token=None,
                                     terms=fixed_terms(), interval=60, sleep=NoSleep(),
                                     now=clock, token=token)
    assert responder is not None
    return responder, token


def dana() -> Mention:
    return Mention(network="x", external_id=DANA)


def tweet_posts(fake: FakeX) -> list[httpx.Request]:
    return [r for r in fake.requests if r.url.path == "/2/tweets"]


async def test_replies_keep_working_across_expiries(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    responder, _ = responder_on(client, store, clock)
    for n in range(4):
        posted = await responder.reply(mention=dana(), text=f"@danawhit Update {n}")
        assert posted.url == "https://x.com/AcmeSupport/status/1991440012345678901"
        clock.advance(hours=2, minutes=1)  # the access token it used has expired
    assert len(fake.created) == 4
    # Renewed ahead of each reply, never after a 401: one POST per reply.
    assert len(tweet_posts(fake)) == 4
    assert fake.spent == [SEED, "refresh-1-Rt0aXQ", "refresh-2-Rt0aXQ", "refresh-3-Rt0aXQ"]
    assert fake.refusals == 0
    row = store.credential(name="x")
    assert row is not None and row.secret == "refresh-4-Rt0aXQ" and fake.live == {row.secret}


async def test_the_access_token_is_kept_until_shortly_before_it_expires(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    responder, _ = responder_on(client, store, clock)
    await responder.reply(mention=dana(), text="@danawhit one")
    clock.advance(hours=1, minutes=50)
    await responder.reply(mention=dana(), text="@danawhit two")
    assert len(fake.forms) == 1  # still 10 minutes to go: the same access token
    clock.advance(minutes=6)  # 4 minutes left: renewed before X would refuse it
    await responder.reply(mention=dana(), text="@danawhit three")
    assert len(fake.forms) == 2 and len(tweet_posts(fake)) == 3


async def test_a_401_renews_the_token_and_sends_the_reply_once(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    responder, _ = responder_on(client, store, clock)
    await responder.reply(mention=dana(), text="@danawhit first")
    fake.revoke_access()  # X stops taking the access token before its time
    await responder.reply(mention=dana(), text="@danawhit second")
    assert [r.headers["Authorization"] for r in tweet_posts(fake)] == [
        "Bearer access-1-Ax7Qk", "Bearer access-1-Ax7Qk", "Bearer access-2-Ax7Qk"]
    assert [c["text"] for c in fake.created] == ["@danawhit first", "@danawhit second"]


async def test_the_rotated_refresh_token_is_stored_before_it_is_used(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    seen: list[tuple[str, str]] = []

    def on_tweet(request: httpx.Request) -> None:
        row = store.credential(name="x")
        assert row is not None
        # The access token in use came with the stored refresh token, the one X will take.
        assert request.headers["Authorization"] == f"Bearer {row.access}"
        assert fake.live == {row.secret}
        seen.append((row.access or "", row.secret))

    async def on_token() -> None:
        row = store.credential(name="x")
        assert row is not None and fake.forms[-1]["refresh_token"] == row.secret

    fake.on_tweet, fake.on_token = on_tweet, on_token
    responder, _ = responder_on(client, store, clock)
    for _ in range(3):
        await responder.reply(mention=dana(), text="@danawhit On it.")
        clock.advance(hours=3)
    assert seen == [(f"access-{n}-Ax7Qk", f"refresh-{n}-Rt0aXQ") for n in (1, 2, 3)]


async def test_a_restart_takes_the_stored_token_not_the_spent_seed(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    first, _ = responder_on(client, store, clock)
    await first.reply(mention=dana(), text="@danawhit before the restart")
    assert fake.spent == [SEED]
    # Restarted within the access token's two hours, ECHTZEIT_X_REFRESH_TOKEN unchanged (and
    # spent): the stored access token is used, X's token endpoint is not asked.
    second, _ = responder_on(client, store, clock)
    await second.reply(mention=dana(), text="@danawhit after the restart")
    assert len(fake.forms) == 1
    clock.advance(hours=3)
    third, _ = responder_on(client, store, clock)
    await third.reply(mention=dana(), text="@danawhit hours later")
    assert [f["refresh_token"] for f in fake.forms] == [SEED, "refresh-1-Rt0aXQ"]
    assert fake.refusals == 0 and len(fake.created) == 3


async def test_a_new_authorization_replaces_the_stored_chain(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    old, _ = responder_on(client, store, clock)
    await old.reply(mention=dana(), text="@danawhit one")
    fresh_seed = fake.authorize()  # the operator authorized the app again
    new, _ = responder_on(client, store, clock, seed=fresh_seed)
    await new.reply(mention=dana(), text="@danawhit two")
    assert fake.forms[-1]["refresh_token"] == fresh_seed
    # A replica still running with the old setting follows the stored chain (it does not put
    # its old seed back).
    clock.advance(hours=3)
    await old.reply(mention=dana(), text="@danawhit three")
    assert fake.refusals == 0 and len(fake.created) == 3
    row = store.credential(name="x")
    assert row is not None and fake.live == {row.secret}


async def test_two_replicas_renewing_at_once_keep_one_chain(
    client: httpx.AsyncClient, fake: FakeX, store: Store, database_url: str, clock: Clock
) -> None:
    other = Store.from_url(database_url, now=clock)  # the second replica's own connection pool
    try:
        a, _ = responder_on(client, store, clock)
        b, _ = responder_on(client, other, clock)
        for n in range(3):
            await asyncio.gather(a.reply(mention=dana(), text=f"@danawhit a{n}"),
                                 b.reply(mention=dana(), text=f"@danawhit b{n}"))
            clock.advance(hours=2, minutes=1)
        assert len(fake.created) == 6
        assert fake.refusals == 0
        assert len(fake.spent) == 3  # one renewal per expiry, not one per replica
        row = other.credential(name="x")
        assert row is not None and fake.live == {row.secret}
    finally:
        other.close()


async def test_a_replica_that_finds_the_renewal_under_way_waits_for_its_token(
    client: httpx.AsyncClient, fake: FakeX, store: Store, database_url: str, clock: Clock
) -> None:
    other = Store.from_url(database_url, now=clock)
    at_endpoint, looked = asyncio.Event(), asyncio.Event()

    async def hold() -> None:  # A's token request waits at X until B has looked
        at_endpoint.set()
        await asyncio.wait_for(looked.wait(), 10)

    class Watch(NoSleep):
        async def __call__(self, seconds: float) -> None:
            looked.set()
            await super().__call__(seconds)

    watch = Watch()
    fake.on_token = hold
    try:
        a, _ = responder_on(client, store, clock)
        b, _ = responder_on(client, other, clock, sleep=watch)
        first = asyncio.create_task(a.reply(mention=dana(), text="@danawhit from A"))
        await asyncio.wait_for(at_endpoint.wait(), 10)
        await b.reply(mention=dana(), text="@danawhit from B")
        await first
        assert watch.calls and watch.calls[0] == x_oauth.LOOK
        assert len(fake.forms) == 1  # B took A's access token; it spent nothing
        assert [r.headers["Authorization"] for r in tweet_posts(fake)] == [
            "Bearer access-1-Ax7Qk"] * 2
    finally:
        other.close()


async def test_a_lease_left_by_a_dead_replica_runs_out(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    store.seed_credential(name="x", secret=SEED, origin=x_oauth.RenewedToken(
        x_net.Api(client, API), store, seed=SEED, client_id=CLIENT_ID).origin)
    assert store.lease_credential(name="x", secret=SEED, holder="crashed-replica",
                                  until=clock() + x_oauth.LEASE)

    class Waiting(NoSleep):
        async def __call__(self, seconds: float) -> None:
            clock.advance(seconds=seconds)
            await super().__call__(seconds)

    waiting = Waiting()
    responder, _ = responder_on(client, store, clock, sleep=waiting)
    await responder.reply(mention=dana(), text="@danawhit still here")
    assert sum(waiting.calls) >= x_oauth.LEASE.total_seconds()
    assert fake.spent == [SEED] and len(fake.created) == 1


async def test_a_revoked_refresh_token_is_a_clear_rejection(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store.add_brand(name="Acme", query="acme", actor="t")
    bid = store.brand(name="Acme").id or 0
    [mid] = store.write_mentions([new_mention(bid, network="x", external_id=DANA)],
                                 routes={bid: []})
    fake.live.clear()  # the brand account revoked the app on x.com
    responder, _ = responder_on(client, store, clock)
    caplog.set_level(logging.INFO)
    result = await console_reply(store, {"x": responder}, mid, "@danawhit Sorry!")
    assert not result.ok
    assert "X refused the refresh token (invalid_request: Value passed for the token was " \
           "invalid.)" in result.text
    assert "ECHTZEIT_X_REFRESH_TOKEN" in result.text
    assert store.view(mid).replies[0].state == ReplyState.FAILED
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "authorize the X app for the brand account again" in line.getMessage()
    # The refused token is not sent to X again, and no more ERROR lines follow.
    with pytest.raises(ReplyRejected, match="refused the stored refresh token"):
        await responder.reply(mention=dana(), text="@danawhit again")
    assert len(fake.forms) == 1 and fake.refusals == 1
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    # The operator authorizes again and restarts: replies work.
    restarted, _ = responder_on(client, store, clock, seed=fake.authorize())
    await restarted.reply(mention=dana(), text="@danawhit back")
    assert len(fake.created) == 1


async def test_wrong_client_credentials_spend_nothing(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    responder, _ = responder_on(client, store, clock, secret="not-the-secret")
    with pytest.raises(ReplyRejected, match="ECHTZEIT_X_CLIENT_SECRET"):
        await responder.reply(mention=dana(), text="@danawhit hello")
    assert fake.live == {SEED}  # X did not take the refresh token
    fixed, _ = responder_on(client, store, clock)
    await fixed.reply(mention=dana(), text="@danawhit hello")
    assert fake.spent == [SEED]


async def test_the_token_request_as_x_documents_it(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    confidential, _ = responder_on(client, store, clock)
    await confidential.reply(mention=dana(), text="@danawhit hi")
    [request] = [r for r in fake.requests if r.url.path == "/2/oauth2/token"]
    assert str(request.url) == f"{API}/oauth2/token"
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert request.headers["Authorization"] == f"Basic {basic}"
    assert fake.forms == [{"grant_type": "refresh_token", "refresh_token": SEED}]


async def test_a_public_client_names_itself_in_the_form(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock
) -> None:
    fake.client_secret = None  # a native or single-page app: no client secret
    public, _ = responder_on(client, store, clock, secret=None)
    await public.reply(mention=dana(), text="@danawhit hi")
    [request] = [r for r in fake.requests if r.url.path == "/2/oauth2/token"]
    assert "Authorization" not in request.headers
    assert fake.forms == [{"grant_type": "refresh_token", "refresh_token": SEED,
                           "client_id": CLIENT_ID}]


async def test_a_fixed_user_token_that_expired_says_what_to_set(
    client: httpx.AsyncClient, fake: FakeX
) -> None:
    _, responder, _, _ = x_net.components(client, api_url=API, bearer=BEARER,
                                     user_token="expired-user-token", terms=fixed_terms(),
                                     interval=60, sleep=NoSleep())
    assert responder is not None
    with pytest.raises(ReplyRejected, match="ECHTZEIT_X_REFRESH_TOKEN"):
        await responder.reply(mention=dana(), text="@danawhit hi")
    assert fake.created == []


async def test_renewals_log_no_secret(
    client: httpx.AsyncClient, fake: FakeX, sqlite_store: Store, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = Settings(_env_file=None, log_level="DEBUG")  # type: ignore[call-arg]
    networks = load_network_config({"x_client_id": CLIENT_ID,
                                    "x_client_secret": SecretStr(CLIENT_SECRET),
                                    "x_refresh_token": SecretStr(SEED)}, env_file=None)
    stream = io.StringIO()
    caplog.set_level(logging.DEBUG)
    handler = setup_logging(settings, stream=stream, also=networks.models())
    try:
        responder, _ = responder_on(client, sqlite_store, clock)
        for _ in range(3):
            await responder.reply(mention=dana(), text="@danawhit hi")
            clock.advance(hours=3)
        fake.revoke_access()
        await responder.reply(mention=dana(), text="@danawhit hi")
        fake.live.clear()
        clock.advance(hours=3)
        with pytest.raises(ReplyRejected):
            await responder.reply(mention=dana(), text="@danawhit hi")
    finally:
        logging.getLogger().removeHandler(handler)
    text = caplog.text + stream.getvalue()
    assert "renewed the user access token" in text and "X refused the refresh token" in text
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    issued = [f"{kind}-{n}-{tail}" for n in range(1, fake.issued + 1)
              for kind, tail in (("access", "Ax7Qk"), ("refresh", "Rt0aXQ"))]
    secrets = [SEED, CLIENT_SECRET, basic, *issued]
    assert fake.issued == 4 and set(fake.spent) <= set(secrets)
    assert [s for s in secrets if s in text] == []


async def test_the_registry_wires_the_renewed_token(
    client: httpx.AsyncClient, fake: FakeX, store: Store, clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    values: dict[str, Any] = {"x_bearer_token": BEARER, "x_api_url": API,
                              "x_client_id": CLIENT_ID, "x_client_secret": CLIENT_SECRET,
                              "x_refresh_token": SEED}
    nets = registry.build(load_network_config(values, env_file=None), store, client=client)
    responder = nets.responders["x"]
    assert isinstance(responder, x_net.XResponder)
    assert isinstance(responder.token, x_oauth.RenewedToken)
    await responder.reply(mention=dana(), text="@danawhit wired")
    assert fake.spent == [SEED]
    # `echtzeit networks` has no store: it must not spend the single-use token.
    statuses = await registry.report(load_network_config(values, env_file=None),
                                     client=client)
    [x] = [s for s in statuses if s.network == "x"]
    assert "not checked here" in x.detail and fake.spent == [SEED]
    assert x.detail.endswith("signed in as app-only bearer token (user token not checked)")
    # Without the client id nothing is renewed, and the log says why.
    del values["x_client_id"]
    nets = registry.build(load_network_config(values, env_file=None), store, client=client)
    assert "x" not in nets.responders
    assert "ECHTZEIT_X_REFRESH_TOKEN is set without ECHTZEIT_X_CLIENT_ID" in caplog.text
