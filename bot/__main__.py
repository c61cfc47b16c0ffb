"""The `echtzeit` command, and the one place where adapters and sources are wired in."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot import db, digest_cli, query_cli
from bot.chat import ChatAdapter, DigestSink, Notifier, Service
from bot.digest import DigestBuilder
from bot.leader import Leader
from bot.logs import setup_logging
from bot.networks import Responder, Source
from bot.ops import OpsServer
from bot.pipeline import IngestReport, Pipeline
from bot.relay import Relay, RelayPolicy
from bot.runner import drain, pump_all
from bot.scheduler import Scheduler
from bot.settings import Settings, SettingsError, load_settings
from bot.spikes import SpikeDetector, SpikeMonitor
from bot.store import Store
from commands import Deps
from integrations.chat import discord_cli, slack_cli
from integrations.chat.console_app import ConsoleChat, command_loop, start_reader
from integrations.networks.registry import Networks, networks_command
from integrations.networks.registry import build as build_networks
from integrations.networks.replay import (
    ReplaySource,
    bundled_brands,
    bundled_sample,
    recording_responders,
)

app = typer.Typer(help="Echtzeit: brand mentions from the social web in your team's chat.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(query_cli.app, name="query")
app.command("networks")(networks_command)
app.add_typer(discord_cli.app, name="discord")
render_app = typer.Typer(help="Print what a chat platform would be sent for a post.",
                         no_args_is_help=True)
app.add_typer(render_app, name="render")
render_app.command("discord")(discord_cli.render_discord)
render_app.command("slack")(slack_cli.render_slack)

err = Console(stderr=True, highlight=False)
log = logging.getLogger("echtzeit")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(2) from None


def _logging(settings: Settings, *, quiet: bool = False) -> None:
    # Plain or JSON lines (ECHTZEIT_LOG_JSON); every secret of the settings is masked.
    setup_logging(settings, quiet=quiet)


def _open_store(url: str) -> Store:
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

    settings: Settings
    store: Store
    pipeline: Pipeline
    relay: Relay
    chat: ConsoleChat
    deps: Deps
    adapters: dict[str, ChatAdapter] = field(default_factory=dict)
    sources: list[Source] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    # Digests, SLA reminders, spike alerts: runs beside the relay (never keeps a script up).
    scheduler: Service | None = None


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


def network_sources(settings: Settings, live: Networks | None = None) -> list[Source]:
    """Every configured network source. Extension point: one line per network module."""
    sources: list[Source] = list(live.sources) if live is not None else []
    return sources


def chat_adapters(settings: Settings, deps: Deps) -> tuple[list[ChatAdapter], list[Service]]:
    """The configured chat platforms besides the console, and what they must keep running.
    Extension point: one block per chat platform."""
    adapters: list[ChatAdapter] = []
    services: list[Service] = []
    if settings.discord_token is not None:
        from integrations.chat.discord_app import DiscordChat  # discord.py only when used

        discord_chat = DiscordChat(settings, deps)
        adapters.append(discord_chat)
        services.append(discord_chat)
    if (settings.slack_bot_token or settings.slack_app_token or settings.slack_client_id
            or settings.slack_signing_secret):
        from integrations.chat.slack_serve import slack_from_settings  # bolt only when used

        try:
            slack = slack_from_settings(settings, deps)  # Socket Mode or HTTP mode
        except SettingsError as exc:
            err.print(str(exc), markup=False)
            raise typer.Exit(2) from None
        if slack is not None:
            adapters.append(slack[0])
            services.extend(slack[1])
    return adapters, services


def build_desk(settings: Settings, url: str, *, replies_file: Path,
               networks: bool = True) -> Desk:
    store = _open_store(url)
    chat = ConsoleChat(files_dir=settings.data_dir / "files")
    spikes = SpikeDetector(store)
    pipeline = Pipeline(
        store,
        repost_window=timedelta(minutes=settings.repost_window_minutes),
        high_reach_followers=settings.high_reach_followers,
        flood=spikes,
    )
    # The demo replays invented posts: it must never reach (or reply on) a real network.
    live = build_networks(settings, store) if networks else None
    digests = DigestBuilder(store, timezone=settings.timezone, digest_hour=settings.digest_hour,
                            business_hours=settings.business_hours)
    deps = Deps(store=store, responders=network_responders(settings, replies_file, live),
                digest=digests)
    adapters, services = chat_adapters(settings, deps)
    services = [*services, *(live.services if live is not None else [])]
    by_platform: dict[str, ChatAdapter] = {chat.platform: chat}
    by_platform.update({a.platform: a for a in adapters})
    relay = Relay(store, by_platform, policy=RelayPolicy(
        max_attempts=settings.relay_max_attempts,
        backoff_base=settings.relay_backoff_base_seconds,
        backoff_cap=settings.relay_backoff_cap_seconds,
        lease=timedelta(seconds=settings.relay_lease_seconds),
    ), reply_networks=frozenset(deps.responders))
    notifiers = {p: a for p, a in by_platform.items() if isinstance(a, Notifier)}
    scheduler = Scheduler(store, digests, notifiers=notifiers,
                          sinks={p: a for p, a in by_platform.items() if isinstance(a, DigestSink)},
                          spikes=SpikeMonitor(spikes, notifiers))
    if settings.http_port:
        services.append(OpsServer(store, host=settings.http_host, port=settings.http_port))
    return Desk(settings=settings, store=store, pipeline=pipeline, relay=relay, chat=chat,
                deps=deps, adapters=by_platform, sources=network_sources(settings, live),
                services=services, scheduler=Leader(store, scheduler))


async def serve_console(desk: Desk, sources: list[Source], *, user: str,
                        interactive: bool) -> IngestReport:
    """Feed the sources into the store, relay to every chat, read console commands until
    input ends; the other services (chat connections, scheduler) run alongside."""
    report = IngestReport()
    stop = asyncio.Event()
    lines = start_reader(sys.stdin)
    background: list[asyncio.Task[None]] = []

    def start_background() -> None:
        background.append(asyncio.create_task(
            desk.relay.run(stop, poll=desk.settings.relay_poll_seconds)))
        background.extend(asyncio.create_task(s.serve(stop)) for s in desk.services)
        if desk.scheduler is not None:
            background.append(asyncio.create_task(desk.scheduler.serve(stop)))

    try:
        if interactive:
            start_background()
            feeding = asyncio.create_task(pump_all(sources, desk.pipeline, desk.relay, report))
            desk.chat.console.print("Type /help for commands, /quit to leave.", markup=False)
            await command_loop(desk.chat, desk.deps, lines, user=user, prompt=True)
            feeding.cancel()
        else:
            # Scripted: play the sources and relay what they gave before the first command
            # runs, so that ids in the script refer to cards that were shown; this task is
            # the only relay until the script ends.
            await pump_all(sources, desk.pipeline, desk.relay, report)
            await drain(desk.relay)
            await command_loop(desk.chat, desk.deps, lines, user=user, prompt=False,
                               after_each=lambda: drain(desk.relay))
            if desk.services:
                # A chat connection keeps the bot up until it is stopped.
                start_background()
                await asyncio.gather(*background[1:])
    finally:
        stop.set()
        await asyncio.gather(*background, return_exceptions=True)
    return report


@app.command()
def demo(
    speed: Annotated[float, typer.Option(help="Replay speed factor; 0 = as fast as possible.",
                                         min=0)] = 120.0,
    user: Annotated[str, typer.Option(help="Your name at the console.")] = "",
    file: Annotated[Path | None, typer.Option(help="A JSON Lines file of posts to replay "
                                              "instead of the bundled sample.")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the previous demo database.")] = False,
) -> None:
    """Try Echtzeit with no account: replay sample mentions into SQLite and this console."""
    settings = _settings()
    _logging(settings, quiet=True)
    path = settings.data_dir / "demo.db"
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    desk = build_desk(settings, url, replies_file=settings.data_dir / "demo-replies.jsonl",
                      networks=False)
    seed_brands(desk.store, bundled_brands())
    for name, text in DEMO_TEMPLATES.items():
        desk.store.add_template(name=name, text=text, actor="setup")
    desk.pipeline.language.detect("warm up the language model")
    source = ReplaySource(file or bundled_sample(), speed=speed)
    name = user or getpass.getuser() or "you"
    report = asyncio.run(serve_console(desk, [source], user=name,
                                       interactive=sys.stdin.isatty()))
    err.print(f"replayed {report.seen} posts: {report.stored} mentions stored, "
              f"{report.duplicates} duplicates and {report.echoes} reposts folded; "
              f"database {path}", markup=False)


@app.command()
def run(
    user: Annotated[str, typer.Option(help="Your name at the console.")] = "",
) -> None:
    """Run the bot with the configured database, chats and sources.

    With nothing configured: SQLite in the data directory, this console as the chat, and the
    bundled replay as the only network (its brands are added on first start)."""
    settings = _settings()
    _logging(settings, quiet=True)
    url = settings.effective_database_url
    desk = build_desk(settings, url, replies_file=settings.data_dir / "replies.jsonl")
    sources = list(desk.sources)
    if not sources or settings.replay_file:
        # Nothing configured: the bundled replay stands in for the networks.
        sources.append(ReplaySource(settings.replay_file or bundled_sample(),
                                    speed=settings.replay_speed))
        if not desk.store.brands():
            seed_brands(desk.store, settings.replay_brands_file or bundled_brands())
    name = user or getpass.getuser() or "you"
    asyncio.run(serve_console(desk, sources, user=name, interactive=sys.stdin.isatty()))


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (ECHTZEIT_DATABASE_URL, default SQLite)."""
    settings = _settings()
    url = settings.effective_database_url
    db.upgrade(url, revision)
    err.print(f"database at {_safe_url(url)} is at revision {revision}", markup=False)


digest_cli.register(app, settings=_settings, open_store=_open_store)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
