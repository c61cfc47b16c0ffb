"""The network plug-in protocol: every network module declares one `PLUGIN`, and the registry
builds them all the same way.

    PLUGIN = Plugin(spec=specs.MASTODON, settings=MastodonSettings, build=build)

`build(ctx)` gets the shared HTTP client, the terms of the brands, the store (None for
`echtzeit networks`), the shared network settings and the plug-in's own, and returns the
network's `Parts`, or None when its settings leave it off. A network is on when its parts carry
a `check` (what it does, for `echtzeit networks`); parts without one only count followers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import SecretStr

from bot.chat import Service
from bot.clock import utcnow
from bot.networks import Moderator, NetworkSpec, Publisher, Responder, Source
from bot.settings import EchtzeitSettings

if TYPE_CHECKING:  # httpx, aiohttp: only for the annotations
    import httpx

    from bot.models import Credential
    from bot.store import Store
    from integrations.networks.meta_common import MetaWebhook
    from integrations.networks.push import WebhookRoute
    from integrations.networks.settings import NetworkSettings
    from integrations.networks.terms import TermsProvider

S = TypeVar("S", bound=EchtzeitSettings)

# A cheap authenticated call that names the account (None: nothing to check).
Verify = Callable[[], Awaitable[str]]
# Followers of one of the brand's accounts on this network, or None (unknown, no such thing).
FollowerCounter = Callable[[str], Awaitable[int | None]]


def secret(value: SecretStr | None) -> str:
    """A secret setting's value, "" when unset."""
    return value.get_secret_value() if value is not None else ""


@dataclass
class BuildContext(Generic[S]):
    """What a plug-in's `build` gets."""

    client: httpx.AsyncClient
    terms: Callable[[str], TermsProvider]  # network name -> the brands' search terms
    store: Store | None
    shared: NetworkSettings
    settings: S
    # Meta's webhook endpoint, one for Facebook and Instagram, made on first use (None when
    # ECHTZEIT_META_APP_SECRET or ECHTZEIT_META_VERIFY_TOKEN is missing).
    meta: Callable[[], MetaWebhook | None]
    # `echtzeit networks` only (it has no store): the stored credential of a name, read only,
    # so that a check can use and describe a token the bot renews (None: not available).
    credentials: Callable[[str], Credential | None] | None = None
    now: Callable[[], datetime] = utcnow  # the clock of those descriptions


@dataclass
class Parts:
    """What one network contributes to a process."""

    sources: list[Source] = field(default_factory=list)
    responder: Responder | None = None
    # Posts on the brand's own account (prepared posts; bot.networks.Publisher).
    publisher: Publisher | None = None
    moderator: Moderator | None = None  # hides comments on the brand's own posts
    services: list[Service] = field(default_factory=list)
    routes: list[WebhookRoute] = field(default_factory=list)
    # (what the network does, the credential check); None: the network is off.
    check: tuple[str, Verify | None] | None = None
    followers: FollowerCounter | None = None


@dataclass(frozen=True)
class Plugin(Generic[S]):
    """One network: its spec (bot.networks), its settings model and its builder."""

    spec: NetworkSpec
    settings: type[S]
    build: Callable[[BuildContext[S]], Parts | None]

    @property
    def name(self) -> str:
        return self.spec.name
