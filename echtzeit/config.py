"""Everything Echtzeit reads from the environment and `.env`, loaded once at start-up.

Each part of the house has its own settings model: the core `bot.settings.Settings`, Slack's
`SlackSettings`, Discord's `DiscordSettings`, and the networks' (integrations/networks/settings.py:
the shared `NetworkSettings` and one model per network plug-in, gathered in `Config.networks`).
`MODELS` lists them in `.env.example`'s order (echtzeit/envfile.py writes it from them); a new
model is added by appending it there: `load_config` then builds and checks it too, and
`Config.get(Model)` hands it out.
`load_config` builds every model and reports every bad setting of every model at once, one line
each (bot.settings.setting_errors), in one SettingsError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import ValidationError

from bot.settings import EchtzeitSettings, Settings, SettingsError, setting_errors
from bot.triage.external import ClassifierSettings
from integrations.ai.settings import AiSettings
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.slack.settings import SlackSettings
from integrations.networks.settings import (
    PLUGIN_SETTINGS,
    SECTIONS,
    NetworkConfig,
    NetworkSettings,
    load_network_config,
)

# (section title in .env.example, model), in the order .env.example lists them.
MODELS: tuple[tuple[str, type[EchtzeitSettings]], ...] = (
    ("Core", Settings),
    ("Slack", SlackSettings),
    ("Discord", DiscordSettings),
    *SECTIONS,
    ("AI drafts", AiSettings),
    ("Bring your own triage model (optional)", ClassifierSettings),
)

M = TypeVar("M", bound=EchtzeitSettings)


@dataclass(frozen=True)
class Config:
    """The settings of one process: each part of the wiring takes the model it needs."""

    core: Settings
    slack: SlackSettings
    discord: DiscordSettings
    # The networks' models (the environment's, not `.env`'s, when a test leaves it out).
    networks: NetworkConfig = field(
        default_factory=lambda: load_network_config(env_file=None))
    # The models of MODELS without a field of their own, by class.
    others: Mapping[type[EchtzeitSettings], EchtzeitSettings] = field(default_factory=dict)

    def models(self) -> tuple[EchtzeitSettings, ...]:
        """Every model of this configuration, in MODELS' order (for instance to mask each
        one's secrets)."""
        return (self.core, self.slack, self.discord, *self.networks.models(),
                *self.others.values())

    def get(self, model: type[M]) -> M:
        """The loaded settings of that model."""
        for value in self.models():
            if type(value) is model:
                return value
        raise KeyError(f"{model.__name__} is not in echtzeit.config.MODELS")


def _pick(built: Mapping[type[EchtzeitSettings], EchtzeitSettings], model: type[M]) -> M:
    value = built[model]
    if not isinstance(value, model):  # built[model] is model(...): cannot happen
        raise TypeError(f"{model.__name__} built as {type(value).__name__}")
    return value


def load_config() -> Config:
    """Build every model of `MODELS`; raise one SettingsError naming every bad setting of
    every model."""
    built: dict[type[EchtzeitSettings], EchtzeitSettings] = {}
    errors: list[str] = []
    for _title, model in MODELS:
        try:
            built[model] = model()
        except ValidationError as exc:
            errors.extend(setting_errors(exc, model))
    if errors:
        raise SettingsError("\n".join(errors))
    own = (Settings, SlackSettings, DiscordSettings, NetworkSettings, *PLUGIN_SETTINGS)
    networks = NetworkConfig(shared=_pick(built, NetworkSettings),
                             plugins={m: built[m] for m in PLUGIN_SETTINGS})
    return Config(core=_pick(built, Settings), slack=_pick(built, SlackSettings),
                  discord=_pick(built, DiscordSettings), networks=networks,
                  others={m: v for m, v in built.items() if m not in own})


__all__ = ["MODELS", "Config", "SettingsError", "load_config"]
