"""`echtzeit analyze FILE.jsonl [--brand NAME]`: the triage signals of each post, as JSON lines.

The same function as the pipeline's enrichment (bot.triage.analyze). A post of the replay
format (at least "id" and "text"; optionally "lang", "network", "followers") gives one object:
id, language, sentiment, sentiment_score, needs_reply, relevance, priority (and "brand" when
one was weighed). With --brand the brand's name and query come from the database, as the
pipeline reads them; without it, a post that one of the stored brands' queries matches gets
that brand's relevance (when there is a database with brands), otherwise relevance is null.
A line that is not a JSON object with a text gives {"line": N, "error": ...}; the others go on.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.enrich import LanguageDetector
    from bot.query import Matcher
    from bot.settings import Settings
    from bot.store import Store
    from bot.triage import BrandTerms, Signals

# A post's text is read up to this many characters (bot.triage reads 2,000 of them anyway);
# a longer line is still answered.
MAX_TEXT = 100_000


def analyze_lines(
    lines: Iterable[str],
    *,
    brand: BrandTerms | None = None,
    brands: dict[int, BrandTerms] | None = None,
    matcher: Matcher | None = None,
    detector: LanguageDetector | None = None,
    high_reach: int = 10_000,
    triage: Callable[..., Signals] | None = None,
) -> Iterator[dict[str, Any]]:
    """One result object per non-blank line, in order. `brand`: the brand to weigh every post
    against; else `matcher` over `brands` picks the brand a post matches (if any). `triage`:
    the pipeline's analyze function (echtzeit.wiring.triage_function; default bot.triage's)."""
    from bot.triage import UNKNOWN, analyze

    run = triage or analyze

    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield {"line": number, "error": f"not JSON: {str(exc)[:120]}"}
            continue
        if not isinstance(raw, dict):
            yield {"line": number, "error": 'expected an object with "id" and "text"'}
            continue
        post_id = raw.get("id")
        text = raw.get("text")
        if not isinstance(text, str):
            yield {"line": number, "id": post_id,
                   "error": '"text" is missing or not a string'}
            continue
        text = text[:MAX_TEXT]
        lang = raw.get("lang") if isinstance(raw.get("lang"), str) else None
        network = raw.get("network") if isinstance(raw.get("network"), str) else None
        followers = raw.get("followers")
        if not isinstance(followers, int) or isinstance(followers, bool):
            followers = None
        if lang is None and detector is not None:
            lang = detector.detect(text) or UNKNOWN
        weighed = brand if brand is not None else _matched(text, lang, network, raw,
                                                            brands, matcher)
        signals = run(text, lang=lang, network=network, brand=weighed,
                      followers=followers, high_reach=high_reach)
        out: dict[str, Any] = {
            "id": post_id, "language": signals.language, "sentiment": signals.sentiment,
            "sentiment_score": signals.sentiment_score, "needs_reply": signals.needs_reply,
            "relevance": signals.relevance, "priority": signals.priority,
        }
        if weighed is not None:
            out["brand"] = weighed.name
        yield out


def _matched(text: str, lang: str | None, network: str | None, raw: dict[str, Any],
             brands: dict[int, BrandTerms] | None, matcher: Matcher | None) -> BrandTerms | None:
    if not brands or matcher is None:
        return None
    from bot.query import Candidate

    url = raw.get("url") if isinstance(raw.get("url"), str) else None
    author = raw.get("author") if isinstance(raw.get("author"), str) else None
    known = lang if lang and lang != "und" else None
    hits = matcher.match(Candidate(text=text, network=network or "", url=url, author=author,
                                   lang=known, detect_lang=lambda: known))
    for brand_id in sorted(hits):
        if brand_id in brands:
            return brands[brand_id]
    return None


def register(app: typer.Typer, *, settings: Callable[[], Settings],
             open_store: Callable[[str], Store],
             triage: Callable[[], Callable[..., Signals]] | None = None) -> None:
    """Add `echtzeit analyze` to the CLI."""

    @app.command("analyze")
    def analyze_cmd(
        file: Annotated[Path, typer.Argument(
            help='JSON Lines of posts: "id" and "text", optionally "lang", "network", '
                 '"followers".', exists=True, dir_okay=False, readable=True)],
        brand: Annotated[str, typer.Option(
            help="Weigh every post's relevance against this brand (its name and query as "
                 "stored).")] = "",
    ) -> None:
        """Print the triage signals of each post of FILE, one JSON object a line: language,
        sentiment and its score, needs_reply and relevance (0..1) and the priority the pipeline
        would give."""
        from bot.enrich import LanguageDetector
        from bot.query import Matcher
        from bot.store import NotFound
        from bot.triage.brands import brand_terms

        s = settings()
        url = s.effective_database_url
        weighed = None
        brands: dict[int, BrandTerms] = {}
        queries: dict[int, str] = {}
        matcher = None
        if brand or _has_database(url):
            store = open_store(url)
            try:
                if brand:
                    try:
                        b = store.brand(name=brand)
                    except NotFound:
                        typer.echo(f"no brand named {brand!r} (echtzeit cmd brand list)",
                                   err=True)
                        raise typer.Exit(2) from None
                    weighed = brand_terms(b.name, b.query)
                else:
                    brands = {int(b.id): brand_terms(b.name, b.query)
                              for b in store.brands() if b.id}
                    queries = store.brand_queries()
            finally:
                store.close()
            if not brand and queries:
                try:
                    matcher = Matcher.build(queries)
                except ValueError as exc:  # a stored query that no longer compiles
                    typer.echo(f"brand queries not usable, relevance left out: {exc}", err=True)
        detector = LanguageDetector(languages=s.languages)
        with file.open(encoding="utf-8", errors="replace") as fh:
            for result in analyze_lines(fh, brand=weighed, brands=brands, matcher=matcher,
                                        detector=detector,
                                        high_reach=s.high_reach_followers,
                                        triage=triage() if triage is not None else None):
                typer.echo(json.dumps(result, ensure_ascii=False))


def _has_database(url: str) -> bool:
    """Whether a database is configured or already there (never creates a SQLite file)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return True
    database = parsed.database
    return bool(database) and Path(database or "").is_file()
