"""What Bluesky's search, responder (bluesky_net.py) and firehose (bluesky_jetstream.py) share:
the post record's collection, links to a post, its language, and `Profiles`, the cached follower
counts and handles of authors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from integrations.networks.http_common import JSON, ApiError

log = logging.getLogger(__name__)

NETWORK = "bluesky"
POST = "app.bsky.feed.post"
PROFILE_BATCH = 25  # app.bsky.actor.getProfiles takes at most 25 actors
PROFILE_TTL = 3600.0


def rkey(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def web_url(actor: str, uri: str) -> str:
    return f"https://bsky.app/profile/{actor}/post/{rkey(uri)}"


def count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def quoted_uri(record: JSON) -> str | None:
    """The at:// uri of the post a record quotes (app.bsky.embed.record, or the record part of
    app.bsky.embed.recordWithMedia), if any: a quote joins the quoted post's story."""
    embed = record.get("embed")
    if not isinstance(embed, dict):
        return None
    inner = embed.get("record")
    if isinstance(inner, dict) and isinstance(inner.get("record"), dict):  # recordWithMedia
        inner = inner["record"]
    uri = inner.get("uri") if isinstance(inner, dict) else None
    return uri if isinstance(uri, str) and uri.startswith("at://") else None


def lang_of(record: JSON) -> str | None:
    langs = record.get("langs")
    if isinstance(langs, list) and langs and isinstance(langs[0], str):
        return langs[0]
    return None


class Profiles:
    """Follower counts (and handles, for Jetstream's bare DIDs) via app.bsky.actor.getProfiles,
    cached for an hour so a chatty author costs one lookup."""

    def __init__(self, fetch: Callable[[str, Any], Any], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.fetch = fetch
        self.clock = clock
        self._cache: dict[str, tuple[float, int | None, str | None, str | None]] = {}

    async def lookup(self, dids: Iterable[str]) -> dict[str, tuple[int | None, str | None,
                                                                   str | None]]:
        """did -> (followers, handle, display name); unknown ones are left out."""
        now = self.clock()
        wanted = sorted({d for d in dids if d})
        missing = [d for d in wanted
                   if d not in self._cache or now - self._cache[d][0] > PROFILE_TTL]
        for start in range(0, len(missing), PROFILE_BATCH):
            chunk = missing[start:start + PROFILE_BATCH]
            try:
                body = await self.fetch("app.bsky.actor.getProfiles",
                                        [("actors", d) for d in chunk])
            except (ApiError, httpx.HTTPError, ValueError) as exc:
                log.warning("bluesky: profiles unavailable (%s); follower counts unknown", exc)
                break
            for profile in body.get("profiles", []) if isinstance(body, dict) else []:
                if isinstance(profile, dict) and isinstance(profile.get("did"), str):
                    self._cache[profile["did"]] = (
                        now, count(profile.get("followersCount")), profile.get("handle"),
                        profile.get("displayName") or None)
        return {d: self._cache[d][1:] for d in wanted if d in self._cache}
