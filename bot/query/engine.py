"""The matching engine: every brand's query in one Aho–Corasick automaton.

Building: each query is parsed, its trigger words (see triggers.py) become automaton keys,
and each key's value is a precomputed triple of brand-id tuples (for the accent-folded scan
string, for the German-folded one, and for both when a text has a single folding).

Matching a post: prepare its scan string(s) once (scan.py), run the automaton, and only if
something was found look at the few brands it names. A brand whose query is a word or an OR
of words is decided by the hit itself; any other runs its compiled check. Per post the work
is therefore one C-level scan plus work proportional to the brands actually hit, whatever
the number of brands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import ahocorasick

from .ast import Node, uses_lang
from .candidate import Candidate
from .compile import Check, compile_check
from .errors import QueryError
from .parser import parse
from .scan import prepare
from .triggers import is_exact, shared_rate, trigger_keys, triggers
from .view import PostView

# automaton value: (brands via accent folding, via German folding, via either)
_Hit = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class _Compiled:
    node: Node
    check: Check | None  # None: a trigger hit is a match


@dataclass(slots=True)
class Matcher:
    """Matches posts against all brands' queries at once. Build it with `Matcher.build`."""

    queries: Mapping[int, Node]
    needs_lang: frozenset[int]
    _automaton: ahocorasick.Automaton | None = field(repr=False)
    _checks: dict[int, Check | None] = field(repr=False)

    @classmethod
    def build(cls, queries: Mapping[int, str]) -> Matcher:
        """Compile `{brand id: query text}`; raises QueryError with `.key` set on a bad query."""
        nodes: dict[int, Node] = {}
        for brand, text in queries.items():
            try:
                nodes[brand] = parse(text)
            except QueryError as e:
                raise QueryError(e.column, e.message, key=brand) from None
        rate = shared_rate(nodes.values())
        compiled: dict[int, _Compiled] = {}
        keys: dict[str, tuple[set[int], set[int]]] = {}
        for brand, node in nodes.items():
            found = triggers(node, rate)
            if found is None:  # pragma: no cover - parse() rejects such queries
                raise QueryError(1, "query has no word that must occur", key=brand)
            for term in found:
                key_a, key_g = trigger_keys(term)
                keys.setdefault(key_a, (set(), set()))[0].add(brand)
                keys.setdefault(key_g, (set(), set()))[1].add(brand)
            compiled[brand] = _Compiled(node, None if is_exact(node) else compile_check(node))
        automaton: ahocorasick.Automaton | None = None
        if keys:
            automaton = ahocorasick.Automaton()
            for key, (via_a, via_g) in keys.items():
                value: _Hit = (
                    tuple(sorted(via_a)),
                    tuple(sorted(via_g)),
                    tuple(sorted(via_a | via_g)),
                )
                automaton.add_word(key, value)
            automaton.make_automaton()
        return cls(
            queries={b: c.node for b, c in compiled.items()},
            needs_lang=frozenset(b for b, c in compiled.items() if uses_lang(c.node)),
            _automaton=automaton,
            _checks={b: c.check for b, c in compiled.items()},
        )

    def __len__(self) -> int:
        return len(self.queries)

    def match(self, c: Candidate) -> list[int]:
        """Sorted brand ids whose query matches the post."""
        if self._automaton is None:
            return []
        sa, sg = prepare(c.text)
        scan = self._automaton.iter
        if sa is sg:
            found = [v[2] for _, v in scan(sa)]
        else:
            found = [v[0] for _, v in scan(sa)]
            found += [v[1] for _, v in scan(sg)]
        if not found:
            return []
        return self._resolve(c, sa, sg, found)

    def match_many(self, cs: Sequence[Candidate]) -> list[list[int]]:
        """`match` for each post, in order."""
        match = self.match
        return [match(c) for c in cs]

    def _resolve(self, c: Candidate, sa: str, sg: str, found: list[tuple[int, ...]]) -> list[int]:
        brands: set[int] = set()
        for hit in found:
            brands.update(hit)
        checks = self._checks
        view: PostView | None = None
        out = []
        for brand in brands:
            check = checks[brand]
            if check is None:
                out.append(brand)
                continue
            if view is None:
                view = PostView(c, sa, sg)
            if check(view):
                out.append(brand)
        out.sort()
        return out
