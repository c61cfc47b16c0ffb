"""`echtzeit query check|test`: the query language from the terminal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.enrich import LanguageDetector
    from bot.query import Candidate

app = typer.Typer(help="Check brand queries and try them on posts.", no_args_is_help=True)


def _parsed(query: str) -> str:
    from bot.query import QueryError, describe, parse

    try:
        return describe(parse(query))
    except QueryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("check")
def check(query: Annotated[str, typer.Argument(help="The query, quoted for the shell.")]) -> None:
    """Print the parsed form of QUERY, or its error with the column (exit code 2)."""
    typer.echo(_parsed(query))


def _candidate(raw: dict[str, Any], detector: LanguageDetector) -> Candidate:
    from bot.query import Candidate

    text = raw.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    lang = raw.get("lang")
    return Candidate(
        text=text,
        network=str(raw.get("network") or ""),
        url=raw.get("url") if isinstance(raw.get("url"), str) else None,
        author=raw.get("author") if isinstance(raw.get("author"), str) else None,
        lang=lang if isinstance(lang, str) and lang else None,
        detect_lang=lambda: detector.detect(text),
    )


@app.command("test")
def test(
    query: Annotated[str, typer.Argument(help="The query, quoted for the shell.")],
    file: Annotated[Path, typer.Argument(help='JSON Lines: {"id", "text"} and optionally '
                                              '"lang", "url", "network", "author".',
                                         exists=True, dir_okay=False, readable=True)],
) -> None:
    """Print the ids of the posts in FILE that QUERY matches, one per line, in file order.

    A post without "lang" gets its language detected when the query asks for one."""
    from bot.enrich import LanguageDetector
    from bot.query import Matcher
    from bot.settings import SettingsError, load_settings

    _parsed(query)
    matcher = Matcher.build({1: query})
    try:  # detect the configured languages, as the running bot does
        detector = LanguageDetector(languages=load_settings().languages)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    bad = 0
    with file.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict) or "id" not in raw:
                    raise ValueError('each line must be an object with "id" and "text"')
                candidate = _candidate(raw, detector)
            except ValueError as exc:
                typer.echo(f"{file}:{number}: skipped: {exc}", err=True)
                bad += 1
                continue
            if matcher.match(candidate):
                typer.echo(str(raw["id"]))
    if bad:
        raise typer.Exit(1)
