"""Slack's settings (prefix `ECHTZEIT_SLACK_`): which way Echtzeit reaches Slack and who may act.

Socket Mode: bot token and app-level token. HTTP mode: signing secret, with a bot token (one
workspace) or an OAuth client id and secret (installs into many workspaces). integrations/chat/
slack/serve.py chooses the mode from these; docs/slack.md walks through the set-up.
"""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from bot.settings import ENV_PREFIX, CommaList, EchtzeitSettings


class SlackSettings(EchtzeitSettings):
    """Slack's part of the configuration; every key is ECHTZEIT_SLACK_<FIELD>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX + "SLACK_")

    bot_token: SecretStr | None = Field(default=None, description="Bot token (xoxb-...).")
    app_token: SecretStr | None = Field(
        default=None,
        description="App-level token (xapp-...) with connections:write: turns on Socket Mode.")
    signing_secret: SecretStr | None = Field(
        default=None,
        description="Signing secret: turns on HTTP mode (Events API, interactivity and commands "
                    "at one URL).")
    client_id: str | None = Field(
        default=None,
        description="OAuth client id, for installs into many workspaces (HTTP mode).")
    client_secret: SecretStr | None = Field(default=None, description="OAuth client secret.")
    api_url: str = Field(
        default="https://slack.com/api/",
        description="Web API base URL (a test or staging server may stand in for slack.com).")
    http_host: str = Field(
        default="0.0.0.0",
        description="Address HTTP mode listens on (where Slack's requests arrive).")
    http_port: int = Field(default=3000, ge=1, le=65535,
                           description="Port HTTP mode listens on.")
    admins: CommaList = Field(
        default_factory=list,
        description="Slack user ids (U...) or user groups (S...) who administer, "
                    "comma-separated.")
    responders: CommaList = Field(
        default_factory=list,
        description="Slack user ids or user groups who may answer customers; empty = everyone "
                    "in the channel.")
    approvers: CommaList = Field(
        default_factory=list,
        description="Slack user ids or user groups who may approve, edit and reject others' "
                    "replies where a brand wants approval (admins always may).")
    home_refresh_seconds: float = Field(
        default=30.0, ge=1, le=3600,
        description="App Home: at most one views.publish per person per this many seconds "
                    "when the queue changes.")
    home_recent_minutes: float = Field(
        default=60.0, ge=1, le=7 * 24 * 60,
        description="App Home: keep refreshing a person's Home tab for this long after they "
                    "last opened it.")
    home_publishes_per_minute: int = Field(
        default=90, ge=1, le=1000,
        description="App Home: views.publish calls per minute and workspace at most (Slack's "
                    "Tier 4 allows 100+).")
    reply_prefixes: CommaList = Field(
        default_factory=lambda: ["/reply", "!reply"],
        description="Thread messages starting with one of these are sent to the customer; "
                    "others stay notes.")

    @property
    def configured(self) -> bool:
        """Any of the keys that turn Slack on is set (a partial set-up is an error later)."""
        return bool(self.bot_token or self.app_token or self.client_id or self.signing_secret)
