"""A `Config` for tests that build the wiring from settings models made in the test."""

from __future__ import annotations

from bot.settings import Settings
from echtzeit.config import MODELS, Config
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.slack.settings import SlackSettings
from integrations.networks.settings import (
    PLUGIN_SETTINGS,
    NetworkConfig,
    NetworkSettings,
    load_network_config,
)

OWN = (Settings, SlackSettings, DiscordSettings, NetworkSettings, *PLUGIN_SETTINGS)


def config_of(*, core: Settings | None = None, slack: SlackSettings | None = None,
              discord: DiscordSettings | None = None,
              networks: NetworkConfig | None = None) -> Config:
    """The given models; the others (every other model of MODELS too) as the environment (not
    `.env`) makes them."""
    return Config(
        core=core or Settings(_env_file=None),  # type: ignore[call-arg]
        slack=slack or SlackSettings(_env_file=None),  # type: ignore[call-arg]
        discord=discord or DiscordSettings(_env_file=None),  # type: ignore[call-arg]
        networks=networks or load_network_config(env_file=None),
        others={model: model(_env_file=None)  # type: ignore[call-arg]
                for _title, model in MODELS if model not in OWN},
    )
