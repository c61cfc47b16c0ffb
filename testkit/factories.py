"""Small builders for test data."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from bot.domain import Author, Post
from bot.store import NewMention

_ids = itertools.count(1000)


def post(
    text: str,
    *,
    network: str = "mastodon",
    external_id: str | None = None,
    url: str | None = None,
    author: str = "kunde",
    followers: int | None = 120,
    lang: str | None = None,
    created_at: datetime | None = None,
) -> Post:
    pid = external_id or str(next(_ids))
    return Post(
        network=network,
        external_id=pid,
        url=url or f"https://social.example/@{author}/{pid}",
        author=Author(handle=author, name=author.title(), followers=followers),
        text=text,
        created_at=created_at or datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
        lang=lang,
    )


def new_mention(brand_id: int, text: str = "acme is down", **overrides: object) -> NewMention:
    pid = str(next(_ids))
    values: dict[str, object] = {
        "brand_id": brand_id, "network": "mastodon", "external_id": pid,
        "url": f"https://social.example/@kunde/{pid}",
        "canonical_url": f"https://social.example/@kunde/{pid}", "author_handle": "kunde",
        "author_name": "Kunde", "author_followers": 10, "text": text, "text_hash": pid,
        "language": "en", "sentiment": "negative", "sentiment_score": -0.5,
        "priority": "high", "created_at": datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    }
    values.update(overrides)
    return NewMention(**values)  # type: ignore[arg-type]
