"""The settings models, built once at start-up and passed down, and what they share.

Every setting is read from the environment or from ``.env``, each model under its own prefix
(``ECHTZEIT_`` for the core `Settings` here; a chat platform's model, such as Slack's
``ECHTZEIT_SLACK_``, lives with its adapter). `EchtzeitSettings` is their common base: `.env`,
unknown keys ignored, an empty value meaning the default, `CommaList` for comma-separated lists.
A missing or invalid value stops start-up with one line per bad setting that names it and what it
expects (`setting_errors`); a secret's value is never shown.
"""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "ECHTZEIT_"
# A setting whose name holds one of these is a secret even when it is not a SecretStr.
SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "KEY")


def default_data_dir() -> Path:
    """Where the embedded SQLite database lives unless a URL names another database."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "echtzeit"


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


# `a, b,c` in the environment or `.env`: ["a", "b", "c"] (not JSON, and blanks dropped).
CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class EchtzeitSettings(BaseSettings):
    """The base of every settings model: the environment and `.env`, prefix `ECHTZEIT_` unless
    the model names a longer one. `.env.example` is written from the models' field descriptions
    (echtzeit/envfile.py)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
        # `ECHTZEIT_HTTP_PORT=` (a line of .env.example copied as it is) means the default.
        env_ignore_empty=True,
    )


def env_name(model: type[BaseModel], field: str) -> str:
    """The environment variable of a model's field: ECHTZEIT_SLACK_ + BOT_TOKEN."""
    return str(model.model_config.get("env_prefix") or "") + field.upper()


def holds_secret_str(info: FieldInfo) -> bool:
    """The field is a SecretStr (or SecretStr | None)."""
    return info.annotation is SecretStr or SecretStr in typing.get_args(info.annotation)


def is_secret(model: type[BaseModel], field: str) -> bool:
    """A SecretStr field, or one whose name says it holds a token, secret, password or key."""
    info = model.model_fields.get(field)
    if info is not None and holds_secret_str(info):
        return True
    return any(word in env_name(model, field) for word in SECRET_WORDS)


class Settings(EchtzeitSettings):
    """Echtzeit's core configuration (prefix `ECHTZEIT_`). The chat platforms' settings are
    their own models (integrations/chat/*/settings.py); echtzeit/config.py loads them all."""

    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the database; empty = SQLite file in ECHTZEIT_DATA_DIR. "
                    "PostgreSQL example: postgresql+psycopg://echtzeit:secret@db.internal/echtzeit",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Folder for the SQLite database, demo files and saved charts "
                    "(default ~/.local/share/echtzeit).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_json: bool = Field(
        default=False, description="true: one JSON object per log line (for log collectors).")

    # Who may do what. Ids are the chat platform's user ids (console: the --user name).
    admins: CommaList = Field(
        default_factory=list,
        description="Chat user ids allowed to administer (brands, routes), comma-separated "
                    "(console: the --user name).")
    responders: CommaList = Field(
        default_factory=list,
        description="Chat user ids allowed to answer customers; empty = everyone in the channel.")
    approvers: CommaList = Field(
        default_factory=list,
        description="Chat user ids allowed to approve, edit and reject others' replies where a "
                    "brand wants approval (admins always may).")

    # Pipeline
    repost_window_minutes: int = Field(
        default=24 * 60, ge=0, le=60 * 24 * 30,
        description="Minutes within which the same text by another account counts as a repost "
                    "of a mention.")
    story_window_minutes: int = Field(
        default=24 * 60, ge=0, le=60 * 24 * 30,
        description="Minutes within which posts sharing a link, quoting or answering each other, "
                    "or with nearly the same text join one story (0: no stories).")
    high_reach_followers: int = Field(
        default=10_000, ge=1,
        description="Followers from which an author counts as high reach (raises the priority).")
    # ISO 639-1 codes language detection tells apart (bot.enrich); a post in another language
    # is "unknown" unless its network names the language. Each one costs 30-40 MB of memory.
    languages: CommaList = Field(
        default_factory=lambda: ["en", "de"],
        description='Languages to detect, ISO 639-1 codes, comma-separated (others are '
                    '"unknown"; ~35 MB each).')

    # Relay
    relay_max_attempts: int = Field(
        default=20, ge=1, le=1000,  # ~1.5 h of outage at the cap
        description="How often the relay tries one card before giving up.")
    relay_backoff_base_seconds: float = Field(
        default=2.0, gt=0, le=3600,
        description="First retry delay of the relay in seconds; doubles per attempt, with jitter.")
    relay_backoff_cap_seconds: float = Field(
        default=300.0, gt=0, le=86_400, description="Longest retry delay of the relay in seconds.")
    relay_lease_seconds: float = Field(
        default=60.0, gt=0, le=3600,
        description="Seconds a relay worker holds a card before another worker may take it over.")
    relay_poll_seconds: float = Field(
        default=0.5, gt=0, le=60,
        description="Seconds between looks at the outbox when nothing woke the relay.")
    relay_backlog_cards: int = Field(
        default=20, ge=0, le=10_000,
        description="More late non-urgent cards than this due at once in one channel (after an "
                    "outage) arrive as one catch-up notice; 0: never.")
    relay_backlog_age_seconds: float = Field(
        default=300.0, ge=0, le=86_400,
        description="Seconds a card must have waited in the outbox to count as late for the "
                    "catch-up notice.")

    # Scheduler
    scheduler_check_seconds: float = Field(
        default=60.0, gt=0, le=3600,
        description="Seconds between the scheduler's checks of SLA reminders, escalation pings "
                    "and spikes (scheduled publishing is checked at least every 15 s).")

    # Several replicas: how often a replica tries to take over a source (or the scheduler)
    # whose holder died; a dead holder's parts run elsewhere within this many seconds.
    lease_poll_seconds: float = Field(
        default=5.0, gt=0, le=60,
        description="Several replicas: seconds between a replica's tries to take over a source "
                    "or the scheduler.")

    # Brands, queries, routes, templates and SLA targets declared in a YAML file, applied at
    # start (and by `echtzeit apply FILE`).
    brands_file: Path | None = Field(
        default=None,
        description="YAML file declaring brands, queries, routes, templates and SLA targets; "
                    "applied at start.")

    # Time
    timezone: str = Field(
        default="Europe/Berlin", description="IANA time zone for digests and business hours.")

    # Replay source (the demo network). `env_section`: .env.example starts a section here.
    replay_file: Path | None = Field(
        default=None,
        description="A JSON Lines file of posts to replay instead of the bundled sample.",
        json_schema_extra={"env_section": "Replay (the demo network)"})
    replay_speed: float = Field(
        default=120.0, ge=0,
        description="Replay speed factor for `echtzeit run`; 0 = as fast as possible.")
    replay_brands_file: Path | None = Field(
        default=None,
        description="brands.json with the brands to set up on first start (default: the bundled "
                    "sample brands).")

    # The networks' settings are their plug-ins' (integrations/networks/settings.py).

    # --- Digest, SLA, spikes (bot/reporting) ----------------------------------------------------
    digest_hour: int = Field(
        default=8, ge=0, le=23, description="Local hour (0-23) of the daily digest.",
        json_schema_extra={"env_section": "Digest and operations"})
    business_hours: str | None = Field(
        default=None,
        description='Business hours for response-time figures, e.g. "mon-fri 09:00-18:00"; '
                    'empty = calendar hours.')
    http_host: str = Field(default="127.0.0.1", description="Address of /healthz and /metrics.")
    http_port: int = Field(
        default=0, ge=0, le=65535, description="Port of /healthz and /metrics; 0 = off.")

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        from bot.enrich import DEFAULT_LANGUAGES, language_codes  # loads no language model

        return list(language_codes(value or DEFAULT_LANGUAGES))  # empty: the default

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


def setting_errors(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    """pydantic's report on `model` as one line per bad setting, named by its environment
    variable (the model's prefix), with what is expected and, unless it is a secret, what was
    given: `configuration error: ECHTZEIT_<NAME>: <what is expected> (got 'x')`."""
    lines = []
    for err in exc.errors():
        parts = [str(p) for p in err["loc"] if isinstance(p, str)]
        name = env_name(model, "_".join(parts))
        msg = err["msg"].removeprefix("Value error, ")
        given = err.get("input")
        secret = is_secret(model, parts[0]) if parts else False
        plain = not (secret or any(word in name for word in SECRET_WORDS)
                     or isinstance(given, dict | SecretStr) or given is None)
        shown = f" (got {given!r})" if plain else ""
        lines.append(f"configuration error: {name}: {msg}{shown}")
    return lines


M = TypeVar("M", bound=BaseSettings)


def load_model(model: type[M], **overrides: object) -> M:
    """Build one settings model, turning pydantic's report into one line per bad setting."""
    try:
        return model(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError("\n".join(setting_errors(exc, model))) from None


def load_settings(**overrides: object) -> Settings:
    """The core settings alone (commands that need nothing else; echtzeit/config.py loads
    every model at once)."""
    return load_model(Settings, **overrides)
