"""One typed settings object, built once at start-up and passed down.

Every setting is read from the environment (prefix ``ECHTZEIT_``) or from ``.env``. A missing or
invalid value stops start-up with one line that names the setting and what it expects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing_extensions import Annotated

ENV_PREFIX = "ECHTZEIT_"


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives unless a URL names another database."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "echtzeit"


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CommaList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """All of Echtzeit's configuration. `.env.example` lists every key with a one-line comment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means SQLite in the data directory",
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = False

    # Who may do what. Ids are the chat platform's user ids (console: the --user name).
    admins: CommaList = Field(default_factory=list)
    responders: CommaList = Field(default_factory=list)

    # Pipeline
    repost_window_minutes: int = Field(default=24 * 60, ge=0, le=60 * 24 * 30)
    high_reach_followers: int = Field(default=10_000, ge=1)
    ingest_batch_size: int = Field(default=500, ge=1, le=100_000)

    # Relay
    relay_max_attempts: int = Field(default=12, ge=1, le=1000)
    relay_backoff_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    relay_backoff_cap_seconds: float = Field(default=300.0, gt=0, le=86_400)
    relay_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    relay_poll_seconds: float = Field(default=0.5, gt=0, le=60)

    # Time
    timezone: str = "Europe/Berlin"

    # Replay source (the demo network)
    replay_file: Path | None = None
    replay_speed: float = Field(default=120.0, ge=0)
    replay_brands_file: Path | None = None

    # Secrets used by the integrations; SecretStr keeps them out of reprs and logs.
    webhook_secret: SecretStr | None = None

    @field_validator("admins", "responders", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"an IANA time zone such as Europe/Berlin, not {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError(
                "a SQLAlchemy URL such as sqlite:///path/echtzeit.db or "
                "postgresql+psycopg://user@host/db"
            )
        return value

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'echtzeit.db'}"


class SettingsError(Exception):
    """Raised with a one-line, human-readable description of what is wrong."""


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = ENV_PREFIX + "_".join(str(p) for p in err["loc"] if isinstance(p, str)).upper()
            msg = err["msg"].removeprefix("Value error, ")
            given = err.get("input")
            secret = any(w in name for w in ("TOKEN", "SECRET", "PASSWORD", "KEY"))
            plain = not (secret or isinstance(given, dict) or given is None)
            shown = f" (got {given!r})" if plain else ""
            lines.append(f"configuration error: {name}: {msg}{shown}")
        raise SettingsError("\n".join(lines)) from None
