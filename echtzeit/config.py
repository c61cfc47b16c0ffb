"""Everything Echtzeit reads from the environment and `.env`, loaded once at start-up.

Each part of the house has its own settings model: the core `bot.settings.Settings`, Slack's
`SlackSettings`, Discord's `DiscordSettings` (the networks' fields are still core Settings').
`MODELS` lists them in `.env.example`'s order (echtzeit/envfile.py writes it from them); a new
model (a network's) is added by appending it there, and a `Config` field if the wiring needs it.
`load_config` builds every model and reports every bad setting of every model at once, one line
each (bot.settings.setting_errors), in one SettingsError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from pydantic import ValidationError

from bot.settings import EchtzeitSettings, Settings, SettingsError, setting_errors
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.slack.settings import SlackSettings

# (section title in .env.example, model), in the order .env.example lists them.
MODELS: tuple[tuple[str, type[EchtzeitSettings]], ...] = (
    ("Core", Settings),
    ("Slack", SlackSettings),
    ("Discord", DiscordSettings),
)

M = TypeVar("M", bound=EchtzeitSettings)


@dataclass(frozen=True)
class Config:
    """The settings of one process: each part of the wiring takes the model it needs."""

    core: Settings
    slack: SlackSettings
    discord: DiscordSettings

    @property
    def networks(self) -> Settings:
        """The networks' settings: for now fields of the core Settings."""
        return self.core

    def models(self) -> tuple[EchtzeitSettings, ...]:
        """Every model of this configuration (for instance to mask each one's secrets)."""
        return self.core, self.slack, self.discord


def _pick(built: Mapping[type[EchtzeitSettings], EchtzeitSettings], model: type[M]) -> M:
    value = built[model]
    if not isinstance(value, model):  # built[model] is model(...): cannot happen
        raise TypeError(f"{model.__name__} built as {type(value).__name__}")
    return value


def load_config(**core: object) -> Config:
    """Build every model of `MODELS` (keyword arguments override core settings); raise one
    SettingsError naming every bad setting of every model."""
    built: dict[type[EchtzeitSettings], EchtzeitSettings] = {}
    errors: list[str] = []
    for _title, model in MODELS:
        try:
            built[model] = model(**(core if model is Settings else {}))  # type: ignore[arg-type]
        except ValidationError as exc:
            errors.extend(setting_errors(exc, model))
    if errors:
        raise SettingsError("\n".join(errors))
    return Config(core=_pick(built, Settings), slack=_pick(built, SlackSettings),
                  discord=_pick(built, DiscordSettings))


__all__ = ["MODELS", "Config", "SettingsError", "load_config"]
