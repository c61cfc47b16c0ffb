"""What each source asks its network for, derived from the brands' queries.

A network's search is coarser than our query language, so a source searches for a *cover* of
each query: a few words, phrases, hashtags and handles such that every post the query matches
contains at least one of them. The pipeline then matches exactly; the search only has to be
broad enough. Sources read the brands through `Store.brand_queries()` on every poll, so a
changed query applies without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.query import And, Field, Near, Node, Not, Or, Phrase, QueryError, Term, parse
from bot.query.ast import WILDCARDS
from bot.query.fold import fold_accents, fold_german
from bot.store import Store

log = logging.getLogger(__name__)

Kind = Literal["word", "phrase", "hashtag", "handle"]


@dataclass(frozen=True, slots=True, order=True)
class SearchTerm:
    """One thing to search for. `text` holds no marker: ("acme", "hashtag") is #acme."""

    text: str
    kind: Kind = "word"

    @property
    def key(self) -> str:
        """A stable name for cursors: `acme`, `"acme rocket"`, `#acme`, `@acme`."""
        if self.kind == "phrase":
            return f'"{self.text}"'
        if self.kind == "hashtag":
            return f"#{self.text}"
        if self.kind == "handle":
            return f"@{self.text}"
        return self.text

    @property
    def plain(self) -> str:
        """The words alone (what full-text search engines want)."""
        return self.text


TermsProvider = Callable[[], Awaitable[Sequence[SearchTerm]]]


def _strip_wildcard(text: str) -> str | None:
    """A wildcard word searched as its literal prefix (`acme*` -> `acme`); the search is
    broader for it, or misses forms a word search cannot find, which the docs say."""
    cut = min((text.index(w) for w in WILDCARDS if w in text), default=len(text))
    prefix = text[:cut]
    return prefix if len(prefix) >= 2 else None


_UMLAUTS = (("ae", "ä"), ("oe", "ö"), ("ue", "ü"))


def spellings(text: str) -> set[str]:
    """The spellings a network's search needs to find what our matching finds: the query
    matches accent-folded and German-transliterated forms (`müller` ~ Mueller ~ Muller), while
    most search engines compare literally."""
    found = {text, fold_accents(text), fold_german(text)}
    umlauted = text
    for plain, umlaut in _UMLAUTS:
        umlauted = umlauted.replace(plain, umlaut)
    found.add(umlauted)
    return {s for s in found if s}


def _leaves(node: Term | Phrase) -> frozenset[SearchTerm] | None:
    if isinstance(node, Term):
        text = _strip_wildcard(node.text)
        if text is None:
            return None
        kind: Kind = "hashtag" if node.marker == "#" else "handle" if node.marker == "@" else "word"
        return frozenset(SearchTerm(s, kind) for s in spellings(text))
    words = [w for w in (_strip_wildcard(t.text) for t in node.terms) if w]
    if not words:
        return None
    first = node.terms[0]
    if first.marker:
        # `@acme.bsky.social` parses as a phrase starting with a handle: search the handle.
        kind = "hashtag" if first.marker == "#" else "handle"
        return frozenset(SearchTerm(s, kind) for s in spellings(words[0]))
    kind = "word" if len(words) == 1 else "phrase"
    return frozenset(SearchTerm(s, kind) for s in spellings(" ".join(words)))


def _impossible(node: Node, network: str | None) -> bool:
    """True when `network:` fields make the node false for every post of `network`."""
    if network is None:
        return False
    match node:
        case Field(name="network", value=value):
            return value != network
        case And(children=children):
            return any(_impossible(c, network) for c in children)
        case Or(children=children):
            return all(_impossible(c, network) for c in children)
    return False


def cover(node: Node, network: str | None = None) -> frozenset[SearchTerm] | None:
    """Leaves of which at least one occurs in every post the node matches; None when the
    node can be true without any (a field, a negation); empty when it cannot be true at all
    for posts of `network`."""
    if _impossible(node, network):
        return frozenset()
    match node:
        case Term() | Phrase():
            return _leaves(node)
        case Near(left=left, right=right):
            options = [c for c in (cover(left, network), cover(right, network)) if c is not None]
            return min(options, key=len) if options else None
        case And(children=children):
            covers = [c for c in (cover(ch, network) for ch in children) if c is not None]
            # Any one child's cover will do: take the smallest (fewest searches).
            return min(covers, key=lambda c: (len(c), sorted(c))) if covers else None
        case Or(children=children):
            union: set[SearchTerm] = set()
            for child in children:
                if _impossible(child, network):
                    continue
                part = cover(child, network)
                if part is None:
                    return None
                union |= part
            return frozenset(union)
        case Not(child=Not(child=inner)):
            return cover(inner, network)
    return None


def terms_for(query: str, network: str | None = None) -> frozenset[SearchTerm]:
    """The search terms for one query (empty for one that cannot match on `network`)."""
    found = cover(parse(query), network)
    return found if found is not None else frozenset()


def search_terms(queries: Mapping[int, str] | Iterable[str],
                 network: str | None = None) -> list[SearchTerm]:
    """The union of every query's terms, sorted; a query that does not parse is logged and
    left out (it cannot match anything in the pipeline either)."""
    texts = queries.values() if isinstance(queries, Mapping) else queries
    found: set[SearchTerm] = set()
    for text in texts:
        try:
            found |= terms_for(text, network)
        except QueryError as exc:
            log.warning("query %r gives no search terms: %s", text[:80], exc)
    return sorted(found)


def store_terms(store: Store, network: str | None = None) -> TermsProvider:
    """Terms read from the store's brands on each call (so query changes apply at once)."""

    async def provide() -> Sequence[SearchTerm]:
        queries = await asyncio.to_thread(store.brand_queries)
        return search_terms(queries, network)

    return provide


def fixed_terms(*terms: SearchTerm | str) -> TermsProvider:
    """A constant list of terms (for a source configured by hand, and for tests)."""
    chosen = [t if isinstance(t, SearchTerm) else SearchTerm(t) for t in terms]

    async def provide() -> Sequence[SearchTerm]:
        return chosen

    return provide


def or_query(terms: Sequence[SearchTerm], *, limit: int,
             render: Callable[[SearchTerm], str]) -> list[str]:
    """The terms joined with OR into as few queries as fit in `limit` characters each."""
    queries: list[str] = []
    current: list[str] = []
    for term in terms:
        piece = render(term)
        if len(piece) > limit:
            log.warning("search term %r is longer than %s characters; skipped", piece, limit)
            continue
        candidate = " OR ".join([*current, piece])
        if current and len(candidate) > limit:
            queries.append(" OR ".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        queries.append(" OR ".join(current))
    return queries
