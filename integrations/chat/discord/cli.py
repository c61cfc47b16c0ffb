"""`echtzeit discord sync|invite` and `echtzeit render discord FILE.json`.

discord.py is imported inside the commands, so the rest of the CLI starts without it.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.cards import Card
    from bot.settings import Settings
    from integrations.chat.discord.settings import DiscordSettings

app = typer.Typer(help="Discord: register the slash commands, invite the bot.",
                  no_args_is_help=True)


def _settings() -> Settings:
    """The core settings (render: languages, brands file, high reach)."""
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _discord() -> DiscordSettings:
    """Discord's settings (sync, invite)."""
    from bot.settings import SettingsError, load_model
    from integrations.chat.discord.settings import DiscordSettings

    try:
        return load_model(DiscordSettings)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _need_token(settings: DiscordSettings) -> None:
    if settings.token is None:
        typer.echo("ECHTZEIT_DISCORD_TOKEN is not set (docs/discord.md, step 2).", err=True)
        raise typer.Exit(2)


@app.command("sync")
def sync(
    guild: Annotated[list[str] | None, typer.Option(
        help="Guild (server) id to sync to; repeat for several. Default: "
             "ECHTZEIT_DISCORD_GUILD_IDS, or globally when that is empty.")] = None,
) -> None:
    """Register Echtzeit's slash commands with Discord (run once, and after an upgrade).

    In a server they appear at once; global commands can take up to an hour."""
    settings = _discord()
    _need_token(settings)
    guilds = guild or settings.guild_ids
    bad = [g for g in guilds if not g.strip().isdigit()]
    if bad:
        typer.echo(f"not a guild id: {', '.join(bad)} (right-click the server, Copy Server ID)",
                   err=True)
        raise typer.Exit(2)
    done = asyncio.run(_sync(settings, guilds))
    for where, names in done.items():
        target = "globally (may take up to an hour to show)" if where == "global" \
            else f"to server {where}"
        typer.echo(f"synced {len(names)} commands {target}: "
                   + " ".join(f"/{n}" for n in names))


async def _sync(settings: DiscordSettings, guilds: list[str]) -> dict[str, list[str]]:
    import discord

    from integrations.chat.discord.chat import DiscordChat

    chat = DiscordChat(settings, None)
    try:
        return await chat.sync_commands(guilds)
    except discord.LoginFailure:
        typer.echo("Discord refused the token (ECHTZEIT_DISCORD_TOKEN).", err=True)
        raise typer.Exit(1) from None
    except discord.HTTPException as exc:
        typer.echo(f"Discord refused the commands: {exc.status} {exc.text}", err=True)
        raise typer.Exit(1) from None
    finally:
        await chat.close()


@app.command("invite")
def invite() -> None:
    """Print the link that adds the bot to a server with exactly the permissions it needs.

    With ECHTZEIT_DISCORD_THREADS, also those for one thread per card."""
    from integrations.chat.discord.sync import invite_url

    settings = _discord()
    app_id = settings.application_id
    if not app_id:
        _need_token(settings)
        app_id = asyncio.run(_application_id(settings))
    if not app_id.isdigit():
        typer.echo(f"ECHTZEIT_DISCORD_APPLICATION_ID must be a number, not {app_id!r}", err=True)
        raise typer.Exit(2)
    typer.echo(invite_url(app_id, threads=settings.threads))


async def _application_id(settings: DiscordSettings) -> str:
    from integrations.chat.discord.chat import DiscordChat

    chat = DiscordChat(settings, None)
    try:
        await chat.login()
        return str(chat.client.application_id)
    finally:
        await chat.close()


# --- render -----------------------------------------------------------------------------------


def _post(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8").strip()
    try:
        raw = json.loads(text)
    except ValueError:
        # A JSON Lines file as `echtzeit query test` takes: its first post.
        raw = json.loads(text.splitlines()[0]) if text else None
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
        raise ValueError('expected one post: {"id", "text", "network", "author", "url", "lang"}')
    return raw


def _brand_for(raw: dict[str, Any], settings: Settings) -> str:
    """The first brand of the configured brands file whose query matches the post."""
    from bot.query import Candidate, Matcher
    from integrations.networks.replay import bundled_brands

    path = settings.replay_brands_file or bundled_brands()
    brands = json.loads(path.read_text(encoding="utf-8"))["brands"]
    matcher = Matcher.build({i: b["query"] for i, b in enumerate(brands)})
    hits = matcher.match(Candidate(text=raw["text"], network=str(raw.get("network") or ""),
                                   url=raw.get("url"), author=raw.get("author"),
                                   lang=raw.get("lang") or None))
    return str(brands[min(hits)]["name"]) if hits else "(no brand matches)"


def preview_card(raw: dict[str, Any], *, brand: str, settings: Settings,
                 mention_id: int = 0) -> Card:
    """The card a new mention of this post would get: enriched like the pipeline does
    (language and bot.triage's signals, the brand weighed by its name), without a database."""
    from bot.cards import ACTIONS_BY_STATUS, Card
    from bot.domain import MentionStatus
    from bot.enrich import LanguageDetector
    from bot.triage import analyze
    from bot.triage.brands import brand_terms

    text = raw["text"]
    author = raw.get("author")
    handle, name, followers = "unknown", None, None
    if isinstance(author, dict):
        handle = str(author.get("handle") or handle)
        name = author.get("name")
        followers = author.get("followers")
    elif isinstance(author, str) and author:
        handle = author
    handle = handle.lstrip("@")
    if isinstance(raw.get("followers"), int):
        followers = raw["followers"]
    lang = raw.get("lang") or LanguageDetector(languages=settings.languages).detect(text)
    network = str(raw.get("network") or "unknown")
    signals = analyze(text, lang=lang or "und", network=network,
                      brand=brand_terms(brand, ""),
                      followers=followers if isinstance(followers, int) else None,
                      high_reach=settings.high_reach_followers)
    created = raw.get("created_at")
    return Card(
        mention_id=mention_id, brand=brand, network=network, author_handle=handle,
        author_name=name if isinstance(name, str) else None,
        followers=followers if isinstance(followers, int) else None,
        author_mentions=0, author_answered=0, text=text,
        url=str(raw.get("url") or f"replay://{network}/{raw.get('id', '')}"),
        language=lang, sentiment=signals.sentiment, sentiment_score=signals.sentiment_score,
        priority=signals.priority, needs_reply=signals.needs_reply,
        relevance=signals.relevance, status=MentionStatus.NEW.value, assignee=None,
        created_at=(datetime.fromisoformat(created.replace("Z", "+00:00"))
                    if isinstance(created, str) else datetime.now(UTC)),
        echoes=0, likes=None, reposts=None, replies=None, reply_url=None, reply_by=None,
        reply_state=None, actions=ACTIONS_BY_STATUS[MentionStatus.NEW.value],
    )


def render_discord(
    file: Annotated[Path, typer.Argument(help='One post as JSON: "id", "text", "network", '
                                              '"author", "url", "lang".',
                                         exists=True, dir_okay=False, readable=True)],
    brand: Annotated[str | None, typer.Option(help="Brand name on the card (default: the "
                                                   "first configured brand that matches).")] = None,
    mention_id: Annotated[int, typer.Option("--id", help="Mention id on the card.")] = 0,
) -> None:
    """Print the Discord message for the card of the post in FILE, as JSON.

    That is the body (content, embeds, components, allowed_mentions) the adapter would send."""
    from integrations.chat.discord.render import card_message

    settings = _settings()
    try:
        raw = _post(file)
    except ValueError as exc:
        typer.echo(f"{file}: {exc}", err=True)
        raise typer.Exit(2) from None
    card = preview_card(raw, brand=brand or _brand_for(raw, settings), settings=settings,
                        mention_id=mention_id)
    typer.echo(json.dumps(card_message(card), ensure_ascii=False, indent=2))
