"""What the matchers see of a post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A post as far as matching is concerned.

    `lang` is the ISO 639-1 code the network gave, if any. `detect_lang` is called only when
    a query that uses `lang:` is being evaluated and `lang` is None, and at most once per
    `Matcher.match`/`evaluate` call: detection is the expensive part of matching.
    """

    text: str
    network: str = ""
    url: str | None = None
    author: str | None = None
    lang: str | None = None
    detect_lang: Callable[[], str | None] | None = None
