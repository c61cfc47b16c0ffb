"""Discord's settings (prefix `ECHTZEIT_DISCORD_`): the bot token, where the commands are
synced, and which roles may answer or administer (docs/discord.md)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from bot.settings import ENV_PREFIX, CommaList, EchtzeitSettings


class DiscordSettings(EchtzeitSettings):
    """Discord's part of the configuration; every key is ECHTZEIT_DISCORD_<FIELD>. A token
    turns Discord on."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX + "DISCORD_")

    token: SecretStr | None = Field(
        default=None, description="Bot token from the Discord developer portal.")
    application_id: str | None = Field(
        default=None, description="Application id (for the invite URL and command sync).")
    api_url: str = Field(
        default="https://discord.com/api/v10",
        description="HTTP API base URL (a test server may stand in).")
    guild_ids: CommaList = Field(
        default_factory=list,
        description="Guild (server) ids to sync the application commands to, comma-separated.")
    responder_role: str | None = Field(
        default=None,
        description='Role name, role id or permission name ("Manage Messages") whose members '
                    "may answer customers; empty: members with Manage Messages.")
    admin_role: str | None = Field(
        default=None,
        description="Role name or id whose members administer (Administrator and Manage Server "
                    "always do).")
    approver_role: str | None = Field(
        default=None,
        description="Role name or id whose members approve, edit and reject others' replies "
                    "where a brand wants approval (admins always may).")
    threads: bool = Field(default=False, description="true: open one thread per mention card.")
    status_refresh_seconds: float = Field(
        default=60.0, ge=5, le=3600,
        description="Pinned queue status (queue pin): edited at most once per this many "
                    "seconds per channel when the queue changes.")
