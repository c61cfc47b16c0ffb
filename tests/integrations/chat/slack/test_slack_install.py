"""Installations in our database (SQLite and PostgreSQL), and the OAuth install flow end to end:
Add to Slack, Slack's redirect, the token exchange at the fake Slack, then cards and commands
in the new workspace with its own token."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from slack_sdk.oauth.installation_store.models.installation import Installation

from bot.store import Store
from commands import Deps
from integrations.chat.slack.chat import InstalledTokens, SlackChat
from integrations.chat.slack.home import HomeTabs
from integrations.chat.slack.install import SqlInstallationStore, SqlOAuthStateStore
from integrations.chat.slack.serve import HttpService, slack_from_settings
from integrations.networks.replay import RecordingResponder
from testkit.fake_slack import FakeSlack, fixture, sign
from tests.conftest import Clock
from tests.integrations.chat.slack.conftest import paced, seed, settled, slack_settings


def installation(team: str = "T0SECOND", token: str = "xoxb-2222-3333-installed",
                 **extra: object) -> Installation:
    values: dict[str, object] = {
        "app_id": "A0ECHTZEIT", "team_id": team, "team_name": "Second", "bot_token": token,
        "bot_id": "B0INST", "bot_user_id": "U0INSTBOT", "bot_scopes": "commands,chat:write",
        "user_id": "U0INSTALLER", "installed_at": 1764000000.0, **extra}
    return Installation(**values)  # type: ignore[arg-type]


async def test_installations_are_saved_found_replaced_and_deleted(store: Store) -> None:
    installs = SqlInstallationStore(store.engine, client_id="1111.2222", now=store.now)
    await installs.async_save(installation())
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T0SECOND")
    assert bot is not None and bot.bot_token == "xoxb-2222-3333-installed"
    assert bot.bot_scopes == ["commands", "chat:write"]
    # A re-install replaces the workspace's token; other workspaces and apps are separate.
    await installs.async_save(installation(token="xoxb-new"))
    await installs.async_save(installation(team="T0THIRD", token="xoxb-third"))
    other_app = SqlInstallationStore(store.engine, client_id="9999.0000")
    assert await other_app.async_find_bot(enterprise_id=None, team_id="T0SECOND") is None
    assert installs.count() == 2
    assert await InstalledTokens(installs).bot_token(team_id="T0SECOND",
                                                     enterprise_id=None) == "xoxb-new"
    found = await installs.async_find_installation(enterprise_id=None, team_id="T0SECOND")
    assert found is not None and found.user_id == "U0INSTALLER"
    # An org-wide install answers for the org, not for a team id.
    await installs.async_save(installation(team=None, token="xoxb-org", enterprise_id="E0ORG",
                                           is_enterprise_install=True))
    org = await InstalledTokens(installs).bot_token(team_id=None, enterprise_id="E0ORG")
    assert org == "xoxb-org"
    await installs.async_delete_all(enterprise_id=None, team_id="T0SECOND")
    assert await installs.async_find_bot(enterprise_id=None, team_id="T0SECOND") is None
    assert installs.count() == 2


async def test_oauth_states_are_single_use_and_expire(store: Store, clock: Clock) -> None:
    states = SqlOAuthStateStore(store.engine, expiration_seconds=600, now=clock)
    state = await states.async_issue()
    assert await states.async_consume(state) is True
    assert await states.async_consume(state) is False  # a replayed redirect
    late = await states.async_issue()
    clock.advance(seconds=601)
    assert await states.async_consume(late) is False
    assert await states.async_consume("made-up") is False


@pytest.fixture
async def oauth_desk(fake: FakeSlack, sqlite_store: Store,
                     responders: dict[str, RecordingResponder],
                     ) -> AsyncIterator[tuple[HttpService, SlackChat, aiohttp.ClientSession]]:
    settings = slack_settings(fake, bot_token=None, client_id=fake.client_id,
                              client_secret=fake.client_secret, admins=["U0ANA"])
    built = slack_from_settings(settings, Deps(store=sqlite_store, responders=responders),
                                **paced(fake))
    assert built is not None
    chat, [service, home], _ = built
    assert isinstance(home, HomeTabs)
    assert isinstance(service, HttpService)
    service.port = 0
    stop = asyncio.Event()
    task = asyncio.create_task(service.serve(stop))
    await asyncio.wait_for(service.started.wait(), 10)
    try:
        async with aiohttp.ClientSession() as session:
            yield service, chat, session
    finally:
        stop.set()
        await task
        await settled()


# slack_sdk's oauth.v2.access still uses aiohttp.BasicAuth, deprecated in aiohttp 3.14 (a
# library warning; the exchange itself is what this test checks).
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_a_workspace_installs_the_app_and_gets_cards_and_commands(
        oauth_desk: tuple[HttpService, SlackChat, aiohttp.ClientSession], fake: FakeSlack,
        sqlite_store: Store, replies_file: Path) -> None:
    service, chat, session = oauth_desk
    base = f"http://127.0.0.1:{service.port}"
    async with session.get(f"{base}/slack/install", allow_redirects=False) as page:
        assert page.status == 200
        html = await page.text()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    authorize = re.search(r'href="(https://slack\.com/oauth/v2/authorize\?[^"]+)"', html)
    assert authorize is not None
    query = parse_qs(urlsplit(authorize.group(1).replace("&amp;", "&")).query)
    assert query["client_id"] == [fake.client_id]
    assert set(query["scope"][0].split(",")) >= {"commands", "chat:write", "users:read"}
    state = query["state"][0]

    fake.oauth_codes["code-1"] = fixture("oauth_v2_access.json")
    redirect = f"{base}/slack/oauth_redirect?" + urlencode({"code": "code-1", "state": state})
    async with session.get(redirect, headers={"Cookie": cookie}) as done:
        assert done.status == 200, await done.text()
    installs = SqlInstallationStore(sqlite_store.engine, client_id=fake.client_id)
    bot = await installs.async_find_bot(enterprise_id=None, team_id="T0SECOND")
    assert bot is not None and bot.bot_token == "xoxb-2222-3333-installed"
    # The same redirect again (a replay) installs nothing.
    fake.oauth_codes["code-1"] = fixture("oauth_v2_access.json")
    async with session.get(redirect, headers={"Cookie": cookie}) as again:
        assert again.status != 200
    assert "code-1" in fake.oauth_codes  # never exchanged

    # Cards for a route in the new workspace go out with its own token.
    mid = seed(sqlite_store, channel="T0SECOND/C0OTHER")
    from bot.relay import Relay

    await Relay(sqlite_store, {"slack": chat}).run_once()
    [post] = fake.ok_calls("chat.postMessage")
    assert post.token == "xoxb-2222-3333-installed" and post.args["channel"] == "C0OTHER"
    assert sqlite_store.deliveries(mention_id=mid)[0].message_ref == (
        f"C0OTHER:{post.answer['ts']}")

    # A signed command from that workspace is authorised with the installed token, and a
    # route set from there names the workspace.
    fake.users["U0ANA"]["team_id"] = "T0SECOND"
    payload = fixture("slash_command.json")
    payload.update(team_id="T0SECOND", channel_id="C0OTHER", text="brand route Acme slack:here",
                   response_url=fake.response_url("second"))
    body = urlencode(payload)
    async with session.post(f"{base}/slack/events", data=body.encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", **sign(body)}) as response:
        assert response.status == 200
    [(_, answer)] = await fake.wait_webhooks(1)
    assert "Acme goes to slack:T0SECOND/C0OTHER" in str(answer["blocks"])
    [users_info] = fake.ok_calls("users.info")
    assert users_info.token == "xoxb-2222-3333-installed"


async def test_an_uninstalled_workspace_gets_no_cards(fake: FakeSlack, sqlite_store: Store) -> None:
    chat = SlackChat(InstalledTokens(SqlInstallationStore(sqlite_store.engine, client_id="x")),
                     api_url=fake.api_url)
    from bot.cards import card_for
    from bot.chat import ChatError

    mid = seed(sqlite_store, channel="T0GONE/C0CARDS")
    with pytest.raises(ChatError) as caught:
        await chat.send_card("T0GONE/C0CARDS", card_for(sqlite_store.view(mid)))
    assert caught.value.permanent and "T0GONE" in str(caught.value)


def test_notes_and_message_lookups_in_the_store(store: Store) -> None:
    mid = seed(store)
    store.deliveries(mention_id=mid)
    assert store.mention_for_message(platform="slack", message_ref="C0CARDS:1.2") is None
    assert store.add_note(mention_id=mid, actor="Ana", text="called back", ref="C0CARDS:5.1")
    assert not store.add_note(mention_id=mid, actor="Ana", text="called back", ref="C0CARDS:5.1")
    assert store.add_note(mention_id=mid, actor="Ben", text="no ref")
    notes = store.events(mention_id=mid, kind="note")
    assert [(n.actor, n.kind) for n in notes] == [("Ana", "note"), ("Ben", "note")]
    assert timedelta(0) == notes[0].at - store.now()
