"""People across networks: the keys an author is known by, and the community value.

An author's own key names its account ("acct:bluesky:jane.example"). A proof is a key the network
has verified the author controls: a Mastodon profile field whose link the instance verified
(rel=me, `verified_at` set), a Bluesky handle that is a domain (Bluesky checks it by DNS or
/.well-known), a GitHub profile's blog and X account, a `mailto:` link (the e-mail network's
author of that address: its own key is `acct:email:<address>`). Two authors sharing a key
are one person (bot.store.identities links them as they are stored); no network is asked for
this.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

# Profile URLs of the networks, as people put them in profile fields: host -> (network, the
# path's pattern whose first group is the handle).
_PROFILES: dict[str, tuple[str, re.Pattern[str]]] = {
    "bsky.app": ("bluesky", re.compile(r"^/profile/([^/]+)/?$")),
    "github.com": ("github", re.compile(r"^/([A-Za-z0-9-]+)/?$")),
    "x.com": ("x", re.compile(r"^/(\w{1,15})/?$")),
    "twitter.com": ("x", re.compile(r"^/(\w{1,15})/?$")),
    "reddit.com": ("reddit", re.compile(r"^/u(?:ser)?/([\w-]+)/?$")),
    "youtube.com": ("youtube", re.compile(r"^/@([\w.-]+)/?$")),
    "instagram.com": ("instagram", re.compile(r"^/([\w.]+)/?$")),
}
_MASTODON_PATH = re.compile(r"^/@([\w.]+)/?$")
# Bluesky handles under the service's own domains prove nothing beyond the account.
_BLUESKY_HOSTED = (".bsky.social", ".bsky.app", ".bsky.team")


def account_key(network: str, handle: str) -> str:
    return f"acct:{network}:{handle.strip().lstrip('@').casefold()}"


_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]]+@[^@\s<>(),;:\"\[\]]+\.[^@\s<>(),;:\"\[\]]+$")


def link_key(url: str) -> str | None:
    """The key a verified profile link proves: another account, a domain, or an e-mail
    address (`mailto:`, the key of that address's author on the e-mail network)."""
    if url.strip().lower().startswith("mailto:"):
        address = unquote(url.strip()[len("mailto:"):].split("?", 1)[0]).strip()
        return account_key("email", address) if _ADDRESS.match(address) else None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").casefold().removeprefix("www.").removeprefix("m.")
    if parts.scheme not in ("http", "https") or "." not in host:
        return None
    profile = _PROFILES.get(host)
    if profile is not None:
        found = profile[1].match(parts.path)
        return account_key(profile[0], found.group(1)) if found else None
    mastodon = _MASTODON_PATH.match(parts.path)
    if mastodon:  # https://instance/@user: a Mastodon (or other fediverse) account
        return account_key("mastodon", f"{mastodon.group(1)}@{host}")
    if parts.path.strip("/"):
        return None  # a page on a site proves the site only when it is the site itself
    return f"domain:{host}"


def author_keys(network: str, handle: str,
                proofs: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """("own"|"proof", key) pairs of an author: its account, a Bluesky domain handle, and the
    keys of the verified links `proofs` (URLs) of its profile."""
    keys = [("own", account_key(network, handle))]
    h = handle.strip().lstrip("@").casefold()
    if network == "bluesky" and "." in h and not h.endswith(_BLUESKY_HOSTED):
        keys.append(("proof", f"domain:{h}"))
    for url in proofs:
        key = link_key(url)
        if key is not None and ("proof", key) not in keys:
            keys.append(("proof", key))
    return tuple(keys)


def community_value(*, followers: int, engagement: float, mentions: int) -> float:
    """reach × engagement × history (docs/stories.md): log10(1 + followers across the person's
    accounts) × (1 + log10(1 + mean likes, reposts and replies per mention)) × (1 + log10(1 +
    mentions)), rounded to one decimal. Logarithms, so that no one factor drowns the others:
    a first-time poster with 100 followers and no engagement is 2.6; a regular with 10,000
    followers, 20 interactions a post and 9 mentions is 4 × 2.3 × 2 = 18.6."""
    value = (math.log10(1 + max(followers, 0)) * (1 + math.log10(1 + max(engagement, 0.0)))
             * (1 + math.log10(1 + max(mentions, 0))))
    return round(value, 1)
