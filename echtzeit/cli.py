"""The `echtzeit` command.

Only typer is imported here at start: every command imports what it needs when it runs, so
that `echtzeit --help` and light commands start in a fraction of a second.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from echtzeit import admin, analyze_cli, digest_cli, query_cli
from integrations.chat.discord import cli as discord_cli
from integrations.chat.slack import cli as slack_cli

if TYPE_CHECKING:
    from collections.abc import Callable

    from bot.models import Credential
    from bot.networks import Source
    from bot.pipeline import IngestReport
    from bot.settings import Settings
    from bot.store import Store
    from bot.triage import Signals
    from echtzeit.config import Config
    from echtzeit.wiring import Desk

app = typer.Typer(help="Echtzeit: brand mentions from the social web in your team's chat.",
                  no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(query_cli.app, name="query")
app.add_typer(discord_cli.app, name="discord")
render_app = typer.Typer(help="Print what a chat platform would be sent for a post.",
                         no_args_is_help=True)
app.add_typer(render_app, name="render")
render_app.command("discord")(discord_cli.render_discord)
render_app.command("slack")(slack_cli.render_slack)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to standard error; the caller raises what this returns."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def _config() -> Config:
    """Every settings model, loaded once; every bad setting stops with one line each."""
    from echtzeit.config import SettingsError, load_config

    try:
        return load_config()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def _settings() -> Settings:
    return _config().core


def _triage() -> Callable[..., Signals]:
    """The pipeline's analyze function (echtzeit.wiring.triage_function)."""
    from echtzeit.wiring import triage_function

    return triage_function(_config())


def _logging(config: Config, *, quiet: bool = False) -> None:
    from bot.logs import setup_logging

    # Plain or JSON lines (ECHTZEIT_LOG_JSON); every secret of every model is masked.
    setup_logging(config.core, quiet=quiet, also=config.models())


def _unreachable(url: str, exc: Exception) -> typer.Exit:
    """A database that does not answer (not up yet, wrong host): one line, exit 1, so that a
    service manager starts the process again later."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return fail(f"database error: {_safe_url(url)}: {reason[0] if reason else type(exc).__name__}",
                1)


def _open_store(url: str) -> Store:
    from sqlalchemy.exc import DBAPIError

    from echtzeit.wiring import open_store

    try:
        return open_store(url)
    except DBAPIError as exc:
        raise _unreachable(url, exc) from None


def _desk(config: Config, url: str, *, replies_file: Path, networks: bool = True) -> Desk:
    from sqlalchemy.exc import DBAPIError

    from bot.settings import SettingsError
    from echtzeit.wiring import build_desk

    try:
        return build_desk(config, url, replies_file=replies_file, networks=networks)
    except SettingsError as exc:
        raise fail(str(exc)) from None
    except DBAPIError as exc:
        raise _unreachable(url, exc) from None


def _stored_credentials(url: str) -> Callable[[str], Credential | None]:
    """Read-only look-ups of the credentials the bot renews itself (the Threads token), for
    `echtzeit networks`: None when the database is not there or does not answer (the checks
    then take the configured tokens). Nothing is created, migrated or renewed."""

    def read(name: str) -> Credential | None:
        import sqlalchemy as sa

        from bot.store import Store

        if url.startswith("sqlite"):
            path = sa.engine.make_url(url).database
            if not path or path == ":memory:" or not Path(path).expanduser().is_file():
                return None
        try:
            store = Store.from_url(url)
            try:
                return store.credential(name=name)
            finally:
                store.close()
        except sa.exc.SQLAlchemyError:
            return None

    return read


@app.command("networks")
def networks() -> None:
    """List each network: on or off, and whether its credentials work (one cheap call each);
    then the scanner the query engine matches posts with."""
    from bot.query.scanner import auto_scanner
    from integrations.networks.registry import networks_command

    try:
        config = _config()  # every bad setting stops it, as every command
        networks_command(config.networks,
                         credentials=_stored_credentials(config.core.effective_database_url))
    finally:
        fallback = "" if auto_scanner() == "pyahocorasick" else \
            " (pyahocorasick where Hyperscan's wheel does not install)"
        typer.echo(f"query engine: {auto_scanner()}{fallback}")


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
    import asyncio
    import getpass

    from echtzeit.wiring import DEMO_TEMPLATES, seed_brands
    from integrations.networks.replay import ReplaySource, bundled_brands, bundled_sample

    config = _config()
    settings = config.core
    _logging(config, quiet=True)
    path = settings.data_dir / "demo.db"
    if not keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    desk = _desk(config, f"sqlite:///{path}",
                 replies_file=settings.data_dir / "demo-replies.jsonl", networks=False)
    seed_brands(desk.store, bundled_brands())
    for name, text in DEMO_TEMPLATES.items():
        desk.store.add_template(name=name, text=text, actor="setup")
    desk.pipeline.language.detect("warm up the language model")
    source = ReplaySource(file or bundled_sample(), speed=speed)
    name = user or getpass.getuser() or "you"
    if sys.stdin.isatty():
        from bot.pipeline import IngestReport
        from echtzeit.runtime import serve

        report = IngestReport()
        asyncio.run(serve(desk, [source], console_user=name, report=report))
    else:
        report = asyncio.run(_scripted_demo(desk, source, user=name))
    stories, across = desk.store.story_counts()
    typer.echo(f"replayed {report.seen} posts: {report.stored} mentions stored, "
               f"{report.duplicates} duplicates and {report.echoes} reposts folded; "
               f"{stories} stories ({across} across networks), "
               f"{desk.store.count_people()} person(s) linked across networks; "
               f"database {path}", err=True)


async def _scripted_demo(desk: Desk, source: Source, *, user: str) -> IngestReport:
    """The demo with commands from a pipe: play the whole replay and relay what it gave before
    the first command runs, so that ids in the script refer to cards that were shown."""
    from bot.pipeline import IngestReport
    from bot.runner import drain, pump_all
    from bot.scheduler import Scheduler
    from integrations.chat.console.listeners import command_loop, start_reader

    report = IngestReport()
    await pump_all([source], desk.pipeline, desk.relay, report)
    await drain(desk.relay)
    scheduler = getattr(desk.scheduler, "inner", None)

    async def after_each() -> None:
        # What the scheduler leader would do meanwhile: scheduled publishing and the on-call
        # escalation ladder (the digests and SLA reminders stay with `echtzeit run`).
        if isinstance(scheduler, Scheduler):
            await scheduler.publish.run_due(scheduler.now())
            await scheduler.escalation.run_due(scheduler.now())
        await drain(desk.relay)

    await command_loop(desk.chat, desk.deps, start_reader(sys.stdin), user=user, prompt=False,
                       after_each=after_each)
    return report


@app.command()
def run(
    user: Annotated[str, typer.Option(help="Your name at the console (when it is a "
                                           "terminal).")] = "",
) -> None:
    """Run the bot with the configured database, chats and sources, until SIGTERM or SIGINT.

    Runs the same under systemd, in a container or at a terminal; at a terminal it also reads
    commands. With nothing configured: SQLite in the data directory, the console as the chat,
    and the bundled replay as the only network (its brands are added on first start)."""
    import asyncio
    import getpass

    from echtzeit.runtime import serve
    from echtzeit.wiring import seed_brands
    from integrations.networks.replay import ReplaySource, bundled_brands, bundled_sample

    config = _config()
    settings = config.core
    _logging(config, quiet=sys.stdin.isatty())
    url = settings.effective_database_url
    if settings.brands_file is not None:
        _apply_brands_file(settings.brands_file, url)
    desk = _desk(config, url, replies_file=settings.data_dir / "replies.jsonl")
    sources = list(desk.sources)
    if not sources or settings.replay_file:
        # Nothing configured: the bundled replay stands in for the networks.
        sources.append(ReplaySource(settings.replay_file or bundled_sample(),
                                    speed=settings.replay_speed))
        if not desk.store.brands():
            seed_brands(desk.store, settings.replay_brands_file or bundled_brands())
    name = (user or getpass.getuser() or "you") if sys.stdin.isatty() else None
    asyncio.run(serve(desk, sources, console_user=name))


def _apply_brands_file(path: Path, url: str) -> None:
    """Apply ECHTZEIT_BRANDS_FILE before anything starts; a bad file stops with one line."""
    store = _open_store(url)
    try:
        for line in admin.apply_file(store, path, actor="brands-file"):
            typer.echo(line, err=True)
    except admin.SetupError as exc:
        raise fail(str(exc)) from None
    finally:
        store.close()


@app.command("env-example")
def env_example() -> None:
    """Print .env.example: every setting with its description and default."""
    from echtzeit.envfile import render

    sys.stdout.write(render())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the database schema (ECHTZEIT_DATABASE_URL, default SQLite)."""
    from bot import db

    settings = _settings()
    url = settings.effective_database_url
    db.upgrade(url, revision)
    typer.echo(f"database at {_safe_url(url)} is at revision {revision}", err=True)


digest_cli.register(app, settings=_settings, open_store=_open_store)
admin.register(app, settings=_settings, open_store=_open_store)
analyze_cli.register(app, settings=_settings, open_store=_open_store, triage=_triage)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def install_networks() -> None:
    """The list of networks the core reads (query language, SLA defaults, reply limits)."""
    from bot.networks import install_networks as install
    from integrations.networks.specs import SPECS

    install(SPECS)


def main() -> None:
    install_networks()
    app()
