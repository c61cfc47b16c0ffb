"""echtzeit/config.py loads every settings model at once and names every bad setting of every
model; echtzeit/envfile.py writes `.env.example` from the models, and the committed file is
that text."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict
from typer.testing import CliRunner

from bot.settings import EchtzeitSettings, SettingsError, env_name, setting_errors
from echtzeit.cli import app
from echtzeit.config import MODELS, load_config
from echtzeit.envfile import description, render
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.slack.settings import SlackSettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_env_example_is_the_generated_one() -> None:
    assert (ROOT / ".env.example").read_text(encoding="utf-8") == render(), (
        "refresh it: python -m echtzeit.envfile > .env.example")


def test_echtzeit_env_example_prints_it() -> None:
    result = CliRunner().invoke(app, ["env-example"])
    assert result.exit_code == 0
    assert result.stdout == render()


def test_every_field_of_every_model_has_a_description() -> None:
    missing = [env_name(model, name) for _title, model in MODELS
               for name, info in model.model_fields.items()
               if not description(model, name, info)]
    assert missing == []


def test_the_chat_platforms_keep_their_environment_names() -> None:
    assert env_name(SlackSettings, "bot_token") == "ECHTZEIT_SLACK_BOT_TOKEN"
    assert env_name(DiscordSettings, "token") == "ECHTZEIT_DISCORD_TOKEN"
    names = {env_name(model, name) for _title, model in MODELS for name in model.model_fields}
    assert {"ECHTZEIT_SLACK_HTTP_PORT", "ECHTZEIT_SLACK_REPLY_PREFIXES",
            "ECHTZEIT_DISCORD_GUILD_IDS", "ECHTZEIT_DISCORD_THREADS", "ECHTZEIT_HTTP_PORT",
            "ECHTZEIT_ADMINS"} <= names
    assert not [n for n in names if n.startswith(("ECHTZEIT_SLACK_SLACK_",
                                                  "ECHTZEIT_DISCORD_DISCORD_"))]


def test_load_config_reads_each_model_from_the_environment_and_dotenv(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ECHTZEIT_SLACK_ADMINS=U1, S2\nECHTZEIT_DISCORD_THREADS=true\n"
                                   "ECHTZEIT_SLACK_HTTP_PORT=\n")
    monkeypatch.setenv("ECHTZEIT_DISCORD_GUILD_IDS", "1,2")
    monkeypatch.setenv("ECHTZEIT_ADMINS", "ana")
    config = load_config()
    assert config.slack.admins == ["U1", "S2"] and config.slack.http_port == 3000
    assert config.discord.threads is True and config.discord.guild_ids == ["1", "2"]
    assert config.core.admins == ["ana"]
    assert [type(m) for m in config.models()] == [model for _title, model in MODELS]


def test_every_bad_setting_of_every_model_is_named_at_once(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECHTZEIT_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("ECHTZEIT_SLACK_HTTP_PORT", "x")
    monkeypatch.setenv("ECHTZEIT_DISCORD_THREADS", "perhaps")
    with pytest.raises(SettingsError) as info:
        load_config()
    lines = str(info.value).splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "ECHTZEIT_TIMEZONE", "ECHTZEIT_SLACK_HTTP_PORT", "ECHTZEIT_DISCORD_THREADS"]
    assert all(line.startswith("configuration error: ") for line in lines)
    assert lines[1].endswith("(got 'x')")


def test_the_cli_stops_with_every_bad_setting(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECHTZEIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ECHTZEIT_RELAY_MAX_ATTEMPTS", "0")
    monkeypatch.setenv("ECHTZEIT_SLACK_HTTP_PORT", "0")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    said = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in said] == [
        "ECHTZEIT_RELAY_MAX_ATTEMPTS", "ECHTZEIT_SLACK_HTTP_PORT"]


class _Vault(EchtzeitSettings):
    model_config = SettingsConfigDict(env_prefix="ECHTZEIT_VAULT_")

    pin: SecretStr = Field(default=SecretStr("000000"), min_length=6)
    api_key: int = 0
    port: int = 1


def test_the_error_lines_work_for_any_model_and_never_show_a_secret(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHTZEIT_VAULT_PIN", "12345")
    monkeypatch.setenv("ECHTZEIT_VAULT_API_KEY", "k3y-s3cr3t")
    monkeypatch.setenv("ECHTZEIT_VAULT_PORT", "eighty")
    with pytest.raises(ValidationError) as info:
        _Vault(_env_file=None)  # type: ignore[call-arg]
    lines = setting_errors(info.value, _Vault)
    assert [line.split(":")[1].strip() for line in lines] == [
        "ECHTZEIT_VAULT_PIN", "ECHTZEIT_VAULT_API_KEY", "ECHTZEIT_VAULT_PORT"]
    text = "\n".join(lines)
    assert "12345" not in text and "k3y-s3cr3t" not in text
    assert "(got" not in lines[0] and "(got" not in lines[1]
    assert lines[2].endswith("(got 'eighty')")


def test_a_model_appended_to_models_is_loaded_checked_and_handed_out(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from echtzeit import config as config_module

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(config_module, "MODELS", (*MODELS, ("Vault", _Vault)))
    monkeypatch.setenv("ECHTZEIT_VAULT_PORT", "8200")
    config = load_config()
    assert config.get(_Vault).port == 8200
    assert config.get(SlackSettings) is config.slack
    assert type(config.models()[-1]) is _Vault
    monkeypatch.setenv("ECHTZEIT_VAULT_PORT", "eighty")
    with pytest.raises(SettingsError, match="ECHTZEIT_VAULT_PORT"):
        load_config()
    monkeypatch.setattr(config_module, "MODELS", MODELS)
    with pytest.raises(KeyError):
        load_config().get(_Vault)
