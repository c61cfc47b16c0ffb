"""The one composition root: the parts of a process, built from the configuration.

`build_desk` takes the loaded `echtzeit.config.Config` (each part gets the settings model it
needs: the Slack adapter SlackSettings, the Discord adapter DiscordSettings), opens the store and
builds the pipeline, relay, chat adapters, network sources and responders, scheduler and ops
server; `units` turns a desk into the supervised parts of `echtzeit.supervisor` (sources under
their leases, so that several replicas poll each once).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot import db
from bot.chat import ChatAdapter, DigestSink, DirectMessenger, Notifier, Service
from bot.drafting import Drafter
from bot.enrich import LanguageDetector
from bot.leader import Leader
from bot.leases import Exclusive, LeaseSession
from bot.networks import Publisher, Responder, Source, install_networks
from bot.ops import OpsServer
from bot.pipeline import IngestReport, Pipeline
from bot.relay import Relay, RelayPolicy
from bot.reporting.digest.builder import DigestBuilder
from bot.reporting.queue import QueueBuilder, RotaOnCall
from bot.reporting.spikes.detector import SpikeDetector
from bot.reporting.spikes.monitor import SpikeMonitor
from bot.runner import SourceService
from bot.scheduler import Scheduler
from bot.settings import Settings, SettingsError
from bot.store import Store
from bot.triage import Signals
from bot.triage.external import ClassifierSettings, build_classifier, triage_analyzer
from commands import Deps
from echtzeit.config import Config
from echtzeit.supervisor import Phase, Unit
from integrations.ai.settings import AiSettings
from integrations.chat.console.chat import ConsoleChat
from integrations.networks.registry import Networks
from integrations.networks.registry import build as build_networks
from integrations.networks.replay import recording_publishers, recording_responders
from integrations.networks.specs import SPECS

log = logging.getLogger(__name__)


def triage_function(config: Config) -> Callable[..., Signals]:
    """The analyze function of this process, for the pipeline and `echtzeit analyze` alike:
    bot.triage's shipped model, with the configured model's answer put in when
    ECHTZEIT_CLASSIFIER_KIND is not off (bot.triage.external; off by default)."""
    return triage_analyzer(build_classifier(config.get(ClassifierSettings)))


def open_store(url: str) -> Store:
    db.upgrade(url)
    return Store.from_url(url)


def seed_brands(store: Store, path: Path, *, platform: str = "console") -> int:
    """Add the brands of a brands.json file (name, query, channel) that are not there yet."""
    data = json.loads(path.read_text(encoding="utf-8"))
    have = {b.name for b in store.brands()}
    added = 0
    for entry in data["brands"]:
        if entry["name"] in have:
            continue
        store.add_brand(name=entry["name"], query=entry["query"], actor="setup")
        store.add_route(brand=entry["name"], platform=platform, channel=entry["channel"],
                        actor="setup")
        added += 1
    return added


DEMO_TEMPLATES = {
    "thanks": "Thank you so much, {name}! We are glad to hear it. - Team {brand}",
    "danke": "Vielen Dank, {name}! Das freut uns sehr. - Team {brand}",
    "dm": "Sorry to hear that, {name}. Please send us a DM with your order number and we "
          "will sort it out today.",
    "dm-de": "Das tut uns leid, {name}. Schreib uns bitte eine DM mit deiner Bestellnummer, "
             "wir kümmern uns noch heute darum.",
}


@dataclass
class Desk:
    """Everything one process runs, wired together."""

    config: Config
    store: Store
    pipeline: Pipeline
    relay: Relay
    chat: ConsoleChat
    deps: Deps
    adapters: dict[str, ChatAdapter] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    # Chat connections, push endpoints and other parts that run for the life of the process.
    services: list[Service] = field(default_factory=list)
    # Digests, SLA reminders, spike alerts: in one replica at a time (bot.leader).
    scheduler: Service | None = None
    ops: OpsServer | None = None

    @property
    def settings(self) -> Settings:
        """The core settings."""
        return self.config.core


def network_responders(settings: Settings, replies_file: Path,
                       live: Networks | None = None) -> dict[str, Responder]:
    """One responder per network that can take replies. Extension point: networks add theirs
    here when their credentials are configured; the replay network answers for the rest."""
    responders: dict[str, Responder] = dict(recording_responders(replies_file))
    if live is not None:
        # A network with a real source never gets the demo's recording responder.
        for network in live.live:
            responders.pop(network, None)
        responders.update(live.responders)
    return responders


def network_publishers(replies_file: Path, live: Networks | None = None) -> dict[str, Publisher]:
    """One publisher per network the brand can post on (prepared posts): the configured
    accounts; the demo's recording publisher for networks without a live source."""
    publishers: dict[str, Publisher] = dict(recording_publishers(replies_file))
    if live is not None:
        for network in live.live:
            publishers.pop(network, None)
        publishers.update(live.publishers)
    return publishers


def network_sources(settings: Settings, live: Networks | None = None) -> list[Source]:
    """Every configured network source. Extension point: one line per network module."""
    sources: list[Source] = list(live.sources) if live is not None else []
    return sources


def chat_adapters(config: Config, deps: Deps) -> tuple[list[ChatAdapter], list[Service]]:
    """The configured chat platforms besides the console, and what they must keep running.
    Extension point: one block per chat platform. Raises SettingsError for a partial setup."""
    adapters: list[ChatAdapter] = []
    services: list[Service] = []
    if config.discord.token is not None:
        from integrations.chat.discord.chat import DiscordChat  # discord.py only when used
        from integrations.chat.discord.status import StatusBoards

        discord_chat = DiscordChat(config.discord, deps, admins=config.core.admins,
                                   responders=config.core.responders,
                                   approvers=config.core.approvers)
        adapters.append(discord_chat)
        services.append(discord_chat)
        # `queue pin`: the channel's queue status, pinned and kept up to date.
        services.append(StatusBoards(discord_chat,
                                     every=config.discord.status_refresh_seconds))
        deps.status_boards = deps.status_boards | {discord_chat.platform}
    if config.slack.configured:
        from integrations.chat.slack.serve import slack_from_settings  # bolt only when used

        slack = slack_from_settings(config.slack, deps)  # Socket Mode or HTTP mode
        if slack is not None:
            adapters.append(slack[0])
            services.extend(slack[1])
    return adapters, services


def build_drafter(config: Config) -> Drafter | None:
    """The AI endpoint that drafts replies, when ECHTZEIT_AI_BASE_URL and _MODEL are set."""
    try:
        ai = config.get(AiSettings)
    except KeyError:  # a Config built by hand (tests) without the AI model
        return None
    if not ai.enabled:
        return None
    import httpx

    from integrations.ai.chat_completions import ChatCompletionsDrafter

    return ChatCompletionsDrafter(ai, httpx.AsyncClient(follow_redirects=False))


def build_desk(config: Config, url: str, *, replies_file: Path,
               networks: bool = True) -> Desk:
    """The desk of one process; with `networks` False (the demo) no network is built."""
    settings = config.core
    install_networks(SPECS)  # the list the core reads; also for callers other than the CLI
    store = open_store(url)
    chat = ConsoleChat(files_dir=settings.data_dir / "files")
    spikes = SpikeDetector(store)
    pipeline = Pipeline(
        store,
        repost_window=timedelta(minutes=settings.repost_window_minutes),
        story_window=timedelta(minutes=settings.story_window_minutes),
        high_reach_followers=settings.high_reach_followers,
        # Models of the configured languages only, loaded on the first post that needs one.
        language=LanguageDetector(languages=settings.languages),
        flood=spikes,
        triage=triage_function(config),
    )
    # The demo replays invented posts: it must never reach (or reply on) a real network.
    live = (build_networks(config.networks, store, zone=settings.timezone) if networks
            else None)
    digests = DigestBuilder(store, timezone=settings.timezone, digest_hour=settings.digest_hour,
                            business_hours=settings.business_hours)
    # The queue view's "today" is the digest's; who is on call comes from the escalation rota.
    deps = Deps(store=store, responders=network_responders(settings, replies_file, live),
                moderators=dict(live.moderators) if live is not None else {},
                digest=digests, drafter=build_drafter(config),
                queue=QueueBuilder(store, timezone=settings.timezone,
                                   on_call=RotaOnCall(store)),
                publishers=network_publishers(replies_file, live),
                high_reach=settings.high_reach_followers)
    adapters, services = chat_adapters(config, deps)
    services = [*services, *(live.services if live is not None else [])]
    by_platform: dict[str, ChatAdapter] = {chat.platform: chat}
    by_platform.update({a.platform: a for a in adapters})
    relay = Relay(store, by_platform, policy=RelayPolicy(
        max_attempts=settings.relay_max_attempts,
        backoff_base=settings.relay_backoff_base_seconds,
        backoff_cap=settings.relay_backoff_cap_seconds,
        lease=timedelta(seconds=settings.relay_lease_seconds),
        backlog=settings.relay_backlog_cards,
        backlog_age=timedelta(seconds=settings.relay_backlog_age_seconds),
    ), reply_networks=frozenset(deps.responders), ai_drafts=deps.drafter is not None,
        moderators=deps.moderators)
    notifiers = {p: a for p, a in by_platform.items() if isinstance(a, Notifier)}
    scheduler = Scheduler(store, digests, notifiers=notifiers,
                          sinks={p: a for p, a in by_platform.items() if isinstance(a, DigestSink)},
                          spikes=SpikeMonitor(spikes, notifiers), publishers=deps.publishers,
                          check_seconds=settings.scheduler_check_seconds,
                          publish_seconds=min(15.0, settings.scheduler_check_seconds),
                          messengers={p: a for p, a in by_platform.items()
                                      if isinstance(a, DirectMessenger)})
    ops = (OpsServer(store, host=settings.http_host, port=settings.http_port)
           if settings.http_port else None)
    return Desk(config=config, store=store, pipeline=pipeline, relay=relay, chat=chat,
                deps=deps, adapters=by_platform, sources=network_sources(settings, live),
                services=services, scheduler=Leader(store, scheduler), ops=ops)


# Services that must run once across replicas, like sources (their `name`s).
_ONCE = frozenset({"follower-counts"})


def units(desk: Desk, sources: list[Source], *, report: IngestReport | None = None,
          leases: LeaseSession | None = None) -> list[Unit]:
    """The supervised parts of a running bot: each source (under its lease, unless it is fed
    inside this process, like a push endpoint's), the relay, every service, the scheduler's
    leader election and the ops endpoints."""
    settings = desk.settings
    out: list[Unit] = []
    seen: dict[str, int] = {}
    for source in sources:
        feeder = SourceService(source, desk.pipeline, wake=desk.relay.wakeup, report=report)
        name = feeder.name
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:  # two sources of one name (two replays): keep both, apart
            feeder.name = name = f"{name}#{seen[name]}"
        finite = bool(getattr(source, "finite", False))
        if getattr(source, "everywhere", False):
            out.append(Unit(name, feeder.serve, Phase.INTAKE, required=False, finite=finite))
            continue
        held = Exclusive(desk.store, feeder, session=leases, poll=settings.lease_poll_seconds)
        out.append(Unit(name, held.serve, Phase.INTAKE, required=False, finite=finite,
                        detail=lambda held=held: held.state))  # type: ignore[misc]
    out.append(Unit("relay", lambda stop: desk.relay.run(stop, poll=settings.relay_poll_seconds),
                    Phase.DELIVERY))
    for service in desk.services:
        if service.name in _ONCE:
            held = Exclusive(desk.store, service, session=leases,
                             poll=settings.lease_poll_seconds)
            out.append(Unit(service.name, held.serve, Phase.INTAKE, required=False,
                            detail=lambda held=held: held.state))  # type: ignore[misc]
            continue
        intake = service.name.startswith("webhook") or service.name == "meta-webhook"
        out.append(Unit(service.name, service.serve,
                        Phase.INTAKE if intake else Phase.DELIVERY))
    if desk.scheduler is not None:
        leader = desk.scheduler
        out.append(Unit(leader.name, leader.serve, Phase.INTAKE, required=False,
                        detail=lambda: "leading" if getattr(leader, "leading", False)
                        else "standby"))
    if desk.ops is not None:
        out.append(Unit(desk.ops.name, desk.ops.serve, Phase.OPS))
    return out


__all__ = ["DEMO_TEMPLATES", "Desk", "SettingsError", "build_desk", "chat_adapters",
           "network_publishers", "network_responders", "network_sources", "open_store",
           "seed_brands", "units"]
