"""One typed settings object, built once at start-up and passed down.

Every setting is read from the environment (prefix ``ECHTZEIT_``) or from ``.env``. A missing or
invalid value stops start-up with one line that names the setting and what it expects.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
        # `ECHTZEIT_HTTP_PORT=` (a line of .env.example copied as it is) means the default.
        env_ignore_empty=True,
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
    # ISO 639-1 codes language detection tells apart (bot.enrich); a post in another language
    # is "unknown" unless its network names the language. Each one costs 30-40 MB of memory.
    languages: CommaList = Field(default_factory=lambda: ["en", "de"])

    # Relay
    relay_max_attempts: int = Field(default=20, ge=1, le=1000)  # ~1.5 h of outage at the cap
    relay_backoff_base_seconds: float = Field(default=2.0, gt=0, le=3600)
    relay_backoff_cap_seconds: float = Field(default=300.0, gt=0, le=86_400)
    relay_lease_seconds: float = Field(default=60.0, gt=0, le=3600)
    relay_poll_seconds: float = Field(default=0.5, gt=0, le=60)

    # Several replicas: how often a replica tries to take over a source (or the scheduler)
    # whose holder died; a dead holder's parts run elsewhere within this many seconds.
    lease_poll_seconds: float = Field(default=5.0, gt=0, le=60)

    # Brands, queries, routes, templates and SLA targets declared in a YAML file, applied at
    # start (and by `echtzeit apply FILE`).
    brands_file: Path | None = None

    # Time
    timezone: str = "Europe/Berlin"

    # Replay source (the demo network)
    replay_file: Path | None = None
    replay_speed: float = Field(default=120.0, ge=0)
    replay_brands_file: Path | None = None

    # --- Slack (integrations/chat/slack/) ------------------------------------------------
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # xapp-...: Socket Mode
    slack_signing_secret: SecretStr | None = None  # HTTP mode
    slack_client_id: str | None = None  # HTTP mode with OAuth installs
    slack_client_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_http_host: str = "0.0.0.0"  # HTTP mode: where Slack's requests arrive
    slack_http_port: int = Field(default=3000, ge=1, le=65535)
    slack_admins: CommaList = Field(default_factory=list)  # user ids (U...) or groups (S...)
    slack_responders: CommaList = Field(default_factory=list)
    slack_reply_prefixes: CommaList = Field(default_factory=lambda: ["/reply", "!reply"])

    # --- Discord (integrations/chat/discord/) --------------------------------------------
    discord_token: SecretStr | None = None
    discord_application_id: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_guild_ids: CommaList = Field(default_factory=list)
    discord_responder_role: str | None = None  # role name or id allowed to reply
    discord_admin_role: str | None = None
    discord_threads: bool = False  # one thread per mention card

    # --- Networks (integrations/networks/*) -------------------------------------------------
    mastodon_base_url: str | None = None  # e.g. https://mastodon.social
    mastodon_access_token: SecretStr | None = None
    mastodon_hashtags: CommaList = Field(default_factory=list)
    mastodon_streaming: bool = True  # hashtags and @mentions live over the streaming API
    bluesky_service_url: str = "https://bsky.social"
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    bluesky_jetstream_url: str | None = None  # e.g. wss://jetstream2.us-east.bsky.network
    bluesky_public_api_url: str = "https://public.api.bsky.app"  # profiles without an account
    reddit_client_id: str | None = None
    reddit_client_secret: SecretStr | None = None
    reddit_username: str | None = None
    reddit_password: SecretStr | None = None
    reddit_user_agent: str | None = None  # "<platform>:<app id>:<version> (by /u/<name>)"
    reddit_subreddits: CommaList = Field(default_factory=list)
    reddit_api_url: str = "https://oauth.reddit.com"
    reddit_auth_url: str = "https://www.reddit.com"
    hackernews_enabled: bool = False
    hackernews_api_url: str = "https://hn.algolia.com/api/v1"
    rss_feeds: CommaList = Field(default_factory=list)
    x_bearer_token: SecretStr | None = None  # app-only: recent search
    x_user_token: SecretStr | None = None  # OAuth 2.0 user context: replies (lasts 2 h)
    x_client_id: str | None = None  # the X app's OAuth 2.0 client id (renewing the user token)
    x_client_secret: SecretStr | None = None  # confidential clients only
    x_refresh_token: SecretStr | None = None  # offline.access; seed of the stored, rotated one
    x_api_url: str = "https://api.x.com/2"
    facebook_page_id: str | None = None
    facebook_page_token: SecretStr | None = None
    instagram_user_id: str | None = None
    instagram_token: SecretStr | None = None
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    youtube_api_key: SecretStr | None = None
    youtube_oauth_token: SecretStr | None = None  # for replying
    youtube_refresh_token: SecretStr | None = None  # replying, kept fresh (preferred)
    youtube_client_id: str | None = None  # the OAuth client of that refresh token
    youtube_client_secret: SecretStr | None = None
    youtube_token_url: str = "https://oauth2.googleapis.com/token"
    youtube_channel_id: str | None = None
    youtube_video_ids: CommaList = Field(default_factory=list)
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    webhook_secret: SecretStr | None = None  # HMAC-SHA256 key of the signed webhook source
    webhook_max_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    webhook_host: str = "127.0.0.1"  # where pushed posts (signed webhook, Meta) arrive
    webhook_port: int = Field(default=8787, ge=0, le=65535)
    meta_app_secret: SecretStr | None = None  # checks Meta's X-Hub-Signature-256
    meta_verify_token: SecretStr | None = None  # answers Meta's subscription handshake
    poll_seconds: float = Field(default=60.0, ge=1, le=86_400)
    # The brands' own accounts whose followers the digest reports: Brand=network:handle, ...
    brand_accounts: CommaList = Field(default_factory=list)

    # --- Digest, SLA, spikes (bot/reporting) ----------------------------------------------------
    digest_hour: int = Field(default=8, ge=0, le=23)  # local hour of the daily digest
    business_hours: str | None = None  # e.g. "mon-fri 09:00-18:00"; empty: calendar hours
    http_host: str = "127.0.0.1"  # /healthz and /metrics
    http_port: int = Field(default=0, ge=0, le=65535)  # 0: off

    @field_validator(
        "admins", "responders", "slack_admins", "slack_responders", "slack_reply_prefixes",
        "discord_guild_ids", "mastodon_hashtags", "reddit_subreddits", "rss_feeds",
        "youtube_video_ids", "brand_accounts", "languages", mode="before",
    )
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_list(value)

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
