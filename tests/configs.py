"""A `Config` for tests that build the wiring from settings models made in the test."""

from __future__ import annotations

from bot.settings import Settings
from echtzeit.config import MODELS, Config
from integrations.chat.discord.settings import DiscordSettings
from integrations.chat.slack.settings import SlackSettings
from integrations.networks.settings import NetworkConfig, load_network_config


def config_of(*, core: Settings | None = None, slack: SlackSettings | None = None,
              discord: DiscordSettings | None = None,
              networks: NetworkConfig | None = None) -> Config:
    """The given models; the others as the environment (not `.env`) makes them, the models
    without a field of their own (AI drafts, the triage classifier) included."""
    networks = networks or load_network_config(env_file=None)
    own = {Settings, SlackSettings, DiscordSettings, *(type(m) for m in networks.models())}
    return Config(
        core=core or Settings(_env_file=None),  # type: ignore[call-arg]
        slack=slack or SlackSettings(_env_file=None),  # type: ignore[call-arg]
        discord=discord or DiscordSettings(_env_file=None),  # type: ignore[call-arg]
        networks=networks,
        others={model: model(_env_file=None)  # type: ignore[call-arg]
                for _title, model in MODELS if model not in own},
    )
