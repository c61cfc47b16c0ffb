"""Settings: environment and .env, one clear line per bad value, secrets kept secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    s = load_settings()
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'echtzeit' / 'echtzeit.db'}"
    assert s.timezone == "Europe/Berlin"


def test_environment_and_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ECHTZEIT_ADMINS=ana, ben\nECHTZEIT_TIMEZONE=UTC\n")
    monkeypatch.setenv("ECHTZEIT_TIMEZONE", "America/New_York")
    s = load_settings()
    assert s.admins == ["ana", "ben"]
    assert s.timezone == "America/New_York"  # the environment wins over .env


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("ECHTZEIT_TIMEZONE", "Mars/Olympus", "ECHTZEIT_TIMEZONE: an IANA time zone"),
        ("ECHTZEIT_DATABASE_URL", "echtzeit.db", "ECHTZEIT_DATABASE_URL: a SQLAlchemy URL"),
        ("ECHTZEIT_RELAY_MAX_ATTEMPTS", "0", "ECHTZEIT_RELAY_MAX_ATTEMPTS: Input should be"),
        ("ECHTZEIT_LOG_LEVEL", "LOUD", "ECHTZEIT_LOG_LEVEL: Input should be"),
        ("ECHTZEIT_LANGUAGES", "en,xx", "ECHTZEIT_LANGUAGES: ISO 639-1 codes of languages"),
        ("ECHTZEIT_LANGUAGES", "english", "ECHTZEIT_LANGUAGES: ISO 639-1 codes of languages"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, key: str, value: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith("configuration error: " + expected)
    assert "\n" not in message


def test_languages(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings().languages == ["en", "de"]
    monkeypatch.setenv("ECHTZEIT_LANGUAGES", " FR, en,fr ")
    assert load_settings().languages == ["fr", "en"]
    monkeypatch.setenv("ECHTZEIT_LANGUAGES", "")  # empty, as in a copied .env.example: default
    assert load_settings().languages == ["en", "de"]
    monkeypatch.setenv("ECHTZEIT_LANGUAGES", "en,xx")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert str(info.value) == (
        "configuration error: ECHTZEIT_LANGUAGES: ISO 639-1 codes of languages lingua knows "
        "(such as en,de,fr), not xx (got 'en,xx')")


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from integrations.networks.settings import WebhookSettings, load_network_config

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECHTZEIT_WEBHOOK_SECRET", "s3cr3t-value")
    s = load_network_config().of(WebhookSettings)
    assert "s3cr3t-value" not in repr(s)
    assert s.secret is not None
    assert s.secret.get_secret_value() == "s3cr3t-value"


def test_env_example_lists_every_setting_with_a_comment() -> None:
    from bot.settings import ENV_PREFIX, env_name
    from echtzeit.config import MODELS

    lines = (Path(__file__).parents[2] / ".env.example").read_text().splitlines()
    keys = [line.split("=", 1)[0] for line in lines if line.startswith(ENV_PREFIX)]
    expected = [env_name(model, name) for _title, model in MODELS for name in model.model_fields]
    assert sorted(keys) == sorted(expected)
    for index, line in enumerate(lines):
        if line.startswith(ENV_PREFIX):
            assert lines[index - 1].startswith("#"), f"{line} has no comment above it"


def test_an_empty_line_copied_from_env_example_means_the_default(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("ECHTZEIT_HTTP_PORT=\nECHTZEIT_TIMEZONE=\n")
    s = load_settings()
    assert s.http_port == 0 and s.timezone == "Europe/Berlin"
