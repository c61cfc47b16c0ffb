"""What a Mastodon status becomes: the instance and the account Echtzeit uses there
(`Instance`: limits, own account id, streaming URL), `status_to_post` and `to_posts` (without the
brand account's own statuses), shared by the polled source and responder (mastodon_net.py) and
the streaming source (mastodon_stream.py).
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from bot.domain import Author, Post
from integrations.networks.http_common import (
    JSON,
    Api,
    html_to_text,
    parse_time,
    pick,
    require_str,
)

log = logging.getLogger(__name__)

NETWORK = "mastodon"
DEFAULT_LIMIT = 500
URL_WEIGHT = 23  # every link counts as 23 characters (configuration.statuses)


class Instance:
    """The instance and the account Echtzeit uses there, looked up once and shared by the
    source and the responder (limits, own account id, streaming URL)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.host = urlsplit(api.base_url).hostname or "mastodon"
        self.max_characters = DEFAULT_LIMIT
        self.url_weight = URL_WEIGHT
        self.streaming_url: str | None = None
        self.account_id: str | None = None
        self.acct: str | None = None
        self._loaded = False
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        """Read /api/v2/instance and verify_credentials once (cheap, cached)."""
        async with self._lock:
            if self._loaded:
                return
            info = await self.api.get_json("/api/v2/instance")
            statuses = pick(info, "configuration", "statuses") or {}
            if isinstance(statuses.get("max_characters"), int):
                self.max_characters = statuses["max_characters"]
            if isinstance(statuses.get("characters_reserved_per_url"), int):
                self.url_weight = statuses["characters_reserved_per_url"]
            streaming = pick(info, "configuration", "urls", "streaming")
            self.streaming_url = streaming if isinstance(streaming, str) else None
            me = await self.api.get_json("/api/v1/accounts/verify_credentials")
            self.account_id = str(me.get("id")) if isinstance(me, dict) else None
            self.acct = me.get("acct") if isinstance(me, dict) else None
            self._loaded = True

    def handle(self, acct: str) -> str:
        """Accounts of this instance come without a domain; make every handle global."""
        return acct if "@" in acct else f"{acct}@{self.host}"


def status_to_post(status: JSON, instance: Instance) -> Post:
    """A Mastodon Status entity as a Post (a boost becomes the boosted status)."""
    if isinstance(status.get("reblog"), dict):
        status = status["reblog"]
    sid = require_str(status, "id")
    account = status.get("account")
    if not isinstance(account, dict):
        raise ValueError("status without an account")
    acct = require_str(account, "acct")
    content = status.get("content")
    text = html_to_text(content if isinstance(content, str) else "")
    warning = status.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():
        text = f"[CW: {warning.strip()}]\n{text}"
    if not text:
        raise ValueError("status without text")
    url = status.get("url") or status.get("uri")
    if not isinstance(url, str) or not url.startswith("http"):
        url = f"{instance.api.base_url}/statuses/{sid}"
    lang = status.get("language")
    reply_to = status.get("in_reply_to_id")
    return Post(
        network=NETWORK,
        external_id=sid,
        url=url,
        author=Author(
            handle=instance.handle(acct),
            name=account.get("display_name") or None,
            followers=count(account.get("followers_count")),
            url=account.get("url") if isinstance(account.get("url"), str) else None,
            proofs=verified_links(account),
        ),
        text=text,
        created_at=parse_time(status.get("created_at")),
        lang=lang if isinstance(lang, str) and lang else None,
        likes=count(status.get("favourites_count")),
        reposts=count(status.get("reblogs_count")),
        replies=count(status.get("replies_count")),
        in_reply_to=str(reply_to) if reply_to else None,
    )


_HREF = re.compile(r"""href=["'](https?://[^"']+)["']""")


def verified_links(account: dict[str, Any]) -> tuple[str, ...]:
    """The links of the account's profile fields that the instance verified (rel=me: the linked
    page links back; `verified_at` set), which bot.identities takes as proofs. A field's value
    is HTML: its link's href, else the text when it is a bare URL."""
    out: list[str] = []
    fields = account.get("fields")
    for f in fields if isinstance(fields, list) else []:
        if not isinstance(f, dict) or not f.get("verified_at"):
            continue
        value = f.get("value")
        if not isinstance(value, str):
            continue
        found = _HREF.search(value)
        url = html.unescape(found.group(1)) if found else html.unescape(value.strip())
        if url.startswith(("https://", "http://")):
            out.append(url)
    return tuple(out)


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def to_posts(statuses: Iterable[Any], instance: Instance) -> list[Post]:
    """Posts of the statuses that parse, without the brand account's own; the others are
    logged and skipped."""
    posts = []
    for status in statuses:
        try:
            if not isinstance(status, dict):
                raise ValueError("not an object")
            post = status_to_post(status, instance)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("mastodon: skipped a malformed status: %s", exc)
            continue
        own = pick(status, "account", "id")
        if instance.account_id is not None and str(own) == instance.account_id:
            continue  # our own replies mention the brand too; they are not mentions
        posts.append(post)
    return posts


def unique(posts: list[Post]) -> list[Post]:
    seen: set[str] = set()
    out = []
    for p in posts:
        if p.external_id not in seen:
            seen.add(p.external_id)
            out.append(p)
    return out
