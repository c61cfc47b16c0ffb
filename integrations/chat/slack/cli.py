"""`echtzeit render slack FILE.json`: the chat.postMessage arguments of one post's card.

The post is enriched as the pipeline would (language, sentiment, priority through bot.enrich)
and rendered by the same functions the relay uses; nothing is stored and nothing is sent. The
brand is `--brand`, else the first configured brand whose query matches the post.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

# The CLI imports this module at start: what the commands need is imported when they run.
if TYPE_CHECKING:
    from bot.cards import Card
    from bot.domain import Post
    from bot.enrich import LanguageDetector


class PostError(ValueError):
    """The file does not hold a post."""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def post_from_json(data: Any, *, now: datetime) -> Post:
    """One post as `echtzeit query test` takes it: id, text, network, author, url, lang (and
    optionally author_name, followers, created_at, likes, reposts, replies)."""
    from bot.domain import Author, Post

    if not isinstance(data, dict):
        raise PostError("the file must hold one JSON object (a post)")
    text = data.get("text")
    if not isinstance(text, str):
        raise PostError("field 'text' must be a string")
    author = data.get("author") or "unknown"
    if isinstance(author, dict):
        handle = str(author.get("handle") or "unknown")
        name = author.get("name")
        followers = _int(author.get("followers"))
    else:
        handle, name, followers = str(author), data.get("author_name"), _int(data.get("followers"))
    created = now
    if isinstance(data.get("created_at"), str):
        try:
            created = datetime.fromisoformat(data["created_at"].replace("Z", "+00:00"))
        except ValueError:
            raise PostError("field 'created_at' must be an ISO date and time") from None
        if created.tzinfo is None:
            raise PostError("field 'created_at' needs a time zone (e.g. a trailing Z)")
    network = str(data.get("network") or "webhook")
    external_id = str(data.get("id") or "preview")
    return Post(
        network=network, external_id=external_id,
        url=str(data.get("url") or f"https://{network}.invalid/{external_id}"),
        author=Author(handle=handle.lstrip("@"), name=str(name) if name else None,
                      followers=followers),
        text=text, created_at=created, lang=data.get("lang") or None,
        likes=_int(data.get("likes")), reposts=_int(data.get("reposts")),
        replies=_int(data.get("replies")),
    )


def card_from_post(
    post: Post, *, brand: str, language: LanguageDetector, high_reach: int, mention_id: int = 0,
) -> Card:
    """The card a new mention of `brand` would get for `post` (no history: a first mention),
    with bot.triage's signals (the brand weighed by its name)."""
    from bot.cards import ACTIONS_BY_STATUS, Card
    from bot.domain import MentionStatus
    from bot.triage import analyze
    from bot.triage.brands import brand_terms

    lang = post.lang.lower()[:2] if post.lang else language.detect(post.text)
    signals = analyze(post.text, lang=lang or "und", network=post.network,
                      brand=brand_terms(brand, ""), followers=post.author.followers,
                      high_reach=high_reach)
    return Card(
        mention_id=mention_id, brand=brand, network=post.network,
        author_handle=post.author.handle, author_name=post.author.name,
        followers=post.author.followers, author_mentions=0, author_answered=0,
        text=post.text, url=post.url, language=lang, sentiment=signals.sentiment,
        sentiment_score=signals.sentiment_score, priority=signals.priority,
        needs_reply=signals.needs_reply, relevance=signals.relevance,
        status=MentionStatus.NEW.value, assignee=None, created_at=post.created_at, echoes=0,
        likes=post.likes, reposts=post.reposts, replies=post.replies, reply_url=None,
        reply_by=None, reply_state=None, actions=ACTIONS_BY_STATUS[MentionStatus.NEW.value],
    )


def matching_brand(post: Post, brands_file: Path, language: LanguageDetector) -> str | None:
    """The first brand of a brands.json file whose query matches the post."""
    from bot.query import Candidate, Matcher

    brands = json.loads(brands_file.read_text(encoding="utf-8"))["brands"]
    matcher = Matcher.build({i: b["query"] for i, b in enumerate(brands)})
    hits = matcher.match(Candidate(
        text=post.text, network=post.network, url=post.url, author=post.author.handle,
        lang=post.lang.lower()[:2] if post.lang else None,
        detect_lang=lambda: language.detect(post.text)))
    return str(brands[min(hits)]["name"]) if hits else None


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(message + "\n")
    return typer.Exit(1)


def render_slack(
    file: Annotated[Path, typer.Argument(
        help="A JSON file with one post: id, text, network, author, url, lang.",
        exists=True, dir_okay=False, readable=True)],
    brand: Annotated[str | None, typer.Option(
        help="The brand to render the card for (default: the brand whose query matches).")]
    = None,
    brands: Annotated[Path | None, typer.Option(
        help="brands.json to match against (default: ECHTZEIT_REPLAY_BRANDS_FILE, else the "
             "bundled brands).", exists=True, dir_okay=False)] = None,
) -> None:
    """Print, as JSON, the chat.postMessage arguments of the Slack card for the post in FILE."""
    from bot.clock import utcnow
    from bot.enrich import LanguageDetector
    from bot.query import QueryError
    from bot.settings import SettingsError, load_settings
    from integrations.chat.slack.render import card_message
    from integrations.networks.replay import bundled_brands

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    now = utcnow()
    try:
        post = post_from_json(json.loads(file.read_text(encoding="utf-8")), now=now)
    except (ValueError, UnicodeDecodeError) as exc:
        raise _fail(f"{file}: {exc}") from None
    language = LanguageDetector(languages=settings.languages)
    if brand is None:
        source = brands or settings.replay_brands_file or bundled_brands()
        try:
            brand = matching_brand(post, source, language)
        except (ValueError, KeyError, TypeError, QueryError) as exc:
            raise _fail(f"{source}: {exc}") from None
        if brand is None:
            raise _fail(f"no brand in {source} matches this post; pass --brand NAME")
    card = card_from_post(post, brand=brand, language=language,
                          high_reach=settings.high_reach_followers)
    sys.stdout.write(json.dumps(card_message(card, now), ensure_ascii=False, indent=2) + "\n")
