"""What the fields lang:, site:, network: and author: compare, on the query and the post side.

Shared by the parser (to validate and normalise query values), the reference evaluator and
the engine, so that both evaluators read a post's metadata the same way.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.networks import queryable_networks

from .fold import normalise

_LANG = re.compile(r"[a-z]{2}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}")


def _idna(host: str) -> str | None:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def query_lang(value: str) -> str | None:
    """The query's ISO 639-1 code, or None if `value` is not a two-letter code."""
    value = value.lower()
    return value if _LANG.fullmatch(value) else None


def query_site(value: str) -> str | None:
    """The query's domain in ASCII lower case, or None if `value` is not a domain name."""
    domain = _idna(value.lower().rstrip("."))
    return domain if domain and _DOMAIN.fullmatch(domain) else None


def query_network(value: str) -> str | None:
    """The network a query names (one of the installed list's queryable ones), or None."""
    value = value.lower()
    return value if value in queryable_networks() else None


def handle(value: str | None) -> str:
    """A handle compared case-insensitively, with or without its leading "@"."""
    if not value:
        return ""
    return normalise(value.strip()).lstrip("@")


def post_lang(value: str | None) -> str | None:
    """The primary language subtag of a post's language tag ("de-AT" → "de")."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary or None


def post_host(url: str | None) -> str | None:
    """The host of a post's URL in ASCII lower case, or None when there is none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    return _idna(host.rstrip("."))


def host_in_domain(host: str | None, domain: str) -> bool:
    """True when `host` is `domain` or one of its subdomains."""
    if host is None:
        return False
    return host == domain or host.endswith("." + domain)
