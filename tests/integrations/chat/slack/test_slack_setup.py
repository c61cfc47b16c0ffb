"""The app manifest matches what the code listens for, and `echtzeit run` wires Slack from the
settings: Socket Mode, HTTP mode with one token, HTTP mode with OAuth installs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from bot.settings import SettingsError
from bot.store import Store
from commands import Deps
from echtzeit.cli import app
from echtzeit.wiring import chat_adapters
from integrations.chat.slack.chat import InstalledTokens, SlackChat, StaticToken
from integrations.chat.slack.desk import BOT_SCOPES, COMMAND, REPLY_SHORTCUT
from integrations.chat.slack.home import HomeTabs
from integrations.chat.slack.serve import (
    EVENTS_PATH,
    REDIRECT_PATH,
    HttpService,
    SocketModeService,
)
from testkit.fake_slack import FakeSlack, fixture
from tests.configs import config_of
from tests.integrations.chat.slack.conftest import slack_settings

MANIFEST = Path(__file__).resolve().parents[4] / "integrations" / "chat" / "slack" / "manifest.yml"


def test_the_manifest_asks_for_exactly_what_the_app_uses() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == BOT_SCOPES
    assert fixture("oauth_v2_access.json")["scope"].split(",") == list(BOT_SCOPES)
    [command] = features["slash_commands"]
    assert command["command"] == COMMAND and command["should_escape"] is True
    assert command["url"].endswith(EVENTS_PATH)
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", REPLY_SHORTCUT)
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels", "message.groups", "app_home_opened", "app_uninstalled",
        "tokens_revoked"}
    # The Home tab shows the queue (listeners/home.py); views.publish needs no scope.
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["event_subscriptions"]["request_url"].endswith(EVENTS_PATH)
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert manifest["oauth_config"]["redirect_urls"][0].endswith(REDIRECT_PATH)
    assert settings["socket_mode_enabled"] is True
    assert len(manifest["display_information"]["name"]) <= 35
    assert len(features["bot_user"]["display_name"]) <= 80


async def test_run_wires_socket_mode_or_http_mode_from_the_settings(
        fake: FakeSlack, sqlite_store: Store) -> None:
    deps = Deps(store=sqlite_store)
    adapters, services = chat_adapters(config_of(slack=slack_settings(
        fake, app_token=fake.app_token, signing_secret=None)), deps)
    [chat], [service, home] = adapters, services
    assert isinstance(chat, SlackChat) and isinstance(chat.tokens, StaticToken)
    assert isinstance(service, SocketModeService)
    assert isinstance(home, HomeTabs) and home.name == "slack-home"  # App Home refreshes
    assert chat.api_url == fake.api_url

    adapters, services = chat_adapters(config_of(slack=slack_settings(fake, http_port=3999)),
                                       deps)
    [service, _home] = services
    assert isinstance(service, HttpService) and service.port == 3999

    adapters, services = chat_adapters(config_of(slack=slack_settings(
        fake, bot_token=None, client_id=fake.client_id,
        client_secret=fake.client_secret)), deps)
    [chat] = adapters
    assert isinstance(chat, SlackChat) and isinstance(chat.tokens, InstalledTokens)

    assert chat_adapters(config_of(slack=slack_settings(fake, bot_token=None,
                                                        signing_secret=None)), deps) == ([], [])


@pytest.mark.parametrize("overrides", [
    {"app_token": "xapp-1", "bot_token": None, "signing_secret": None},
    {"signing_secret": None},
    {"bot_token": None, "client_id": "1.2"},
])
async def test_an_incomplete_slack_setup_stops_with_one_line(
        fake: FakeSlack, sqlite_store: Store, overrides: dict[str, object],
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SettingsError) as stopped:
        chat_adapters(config_of(slack=slack_settings(fake, **overrides)), Deps(store=sqlite_store))
    said = str(stopped.value)
    assert said.startswith("configuration error: ECHTZEIT_SLACK_")
    assert said.count("configuration error") == 1 and "\n" not in said


def test_echtzeit_run_stops_on_an_incomplete_slack_setup_with_exit_2(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECHTZEIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECHTZEIT_SLACK_APP_TOKEN", "xapp-1-A0-1-x")
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 2
    said = [line for line in result.stderr.splitlines() if "configuration error" in line]
    assert len(said) == 1
    assert said[0].startswith("configuration error: ECHTZEIT_SLACK_BOT_TOKEN: ")
    assert result.stderr.splitlines()[-1] == said[0]  # the last word before it stopped
