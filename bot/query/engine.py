"""The matching engine: every brand's query in one Aho–Corasick automaton.

Building: each query is parsed, its trigger words (see triggers.py) become automaton keys,
and each key's value is precomputed: the brands it decides outright and the brands whose
check must run, for the accent-folded scan string, the German-folded one, and for texts
where both are the same.

Matching a post: prepare its scan string(s) once (scan.py), run the automaton, and only if
something was found look at the few brands it names. A brand whose query is a word or an OR
of words is decided by the hit itself; any other runs its compiled check (compile.py). Per
post the work is one C-level scan plus work proportional to the brands actually hit,
whatever the number of brands.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter

import ahocorasick

from .ast import Node, uses_lang
from .candidate import Candidate
from .compile import Check, compile_check
from .errors import QueryError
from .parser import parse
from .scan import prepare, prepare_ascii_batch
from .triggers import is_exact, shared_rate, trigger_keys, triggers
from .view import PostView

# Automaton value, by index: brands decided by the hit / brands to check, for a hit in the
# accent-folded scan string (0, 1), in the German-folded one (2, 3), and in the one scan
# string of a text without ä/ö/ü (4, 5). Tuples are sorted and shared, never copied.
_Brands = tuple[int, ...]
_Hit = tuple[_Brands, _Brands, _Brands, _Brands, _Brands, _Brands]
_value = itemgetter(1)
_BATCH = 1000  # posts per scan in match_many: measured best between 256 and 2,000

# Automaton children are searched linearly in insertion order, so keys are added in an
# order that puts frequent letters first at every trie node: a few percent faster scans.
_LETTER_RANK = {ch: i for i, ch in enumerate(" etaoinsrhldcumwfgypbvkjxqz#@0123456789_")}


def _key_order(key: str) -> list[int]:
    return [_LETTER_RANK.get(ch, 100 + ord(ch)) for ch in key]


@dataclass(slots=True)
class Matcher:
    """Matches posts against all brands' queries at once. Build it with `Matcher.build`.

    `queries` holds each brand's parsed query; `needs_lang` the brands whose query uses
    `lang:`, for which a post's language may be needed (it is only detected when such a
    query is evaluated).
    """

    queries: Mapping[int, Node]
    needs_lang: frozenset[int]
    _automaton: ahocorasick.Automaton | None = field(repr=False)
    _checks: dict[int, Check] = field(repr=False)  # filled lazily by _resolve

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
        needs_check: set[int] = set()
        keys: dict[str, tuple[set[int], set[int]]] = {}
        for brand, node in nodes.items():
            found = triggers(node, rate)
            if found is None:  # pragma: no cover - parse() rejects such queries
                raise QueryError(1, "query has no word that must occur", key=brand)
            for term in found:
                key_a, key_g = trigger_keys(term)
                keys.setdefault(key_a, (set(), set()))[0].add(brand)
                keys.setdefault(key_g, (set(), set()))[1].add(brand)
            if not is_exact(node):
                needs_check.add(brand)
        automaton: ahocorasick.Automaton | None = None
        if keys:
            automaton = ahocorasick.Automaton()
            shared: dict[frozenset[int], tuple[_Brands, _Brands]] = {}

            def split(group: set[int]) -> tuple[_Brands, _Brands]:
                # (decided by the hit, to check); most keys name one brand, many the same.
                frozen = frozenset(group)
                if frozen not in shared:
                    shared[frozen] = (
                        tuple(sorted(b for b in group if b not in needs_check)),
                        tuple(sorted(b for b in group if b in needs_check)),
                    )
                return shared[frozen]

            for key in sorted(keys, key=_key_order):
                via_a, via_g = keys[key]
                value = (*split(via_a), *split(via_g), *split(via_a | via_g))
                automaton.add_word(key, value)
            automaton.make_automaton()
        return cls(
            queries=nodes,
            needs_lang=frozenset(b for b, n in nodes.items() if uses_lang(n)),
            _automaton=automaton,
            _checks={},
        )

    def __len__(self) -> int:
        return len(self.queries)

    def match(self, c: Candidate) -> list[int]:
        """Sorted brand ids whose query matches the post."""
        if self._automaton is None:
            return []
        sa, sg = prepare(c.text)
        scan = self._automaton.iter
        hits: list[_Hit] = list(map(_value, scan(sa)))
        if sa is sg:
            if not hits:
                return []
            if len(hits) == 1 and not hits[0][5]:
                return list(hits[0][4])  # the common case: one word, no check to run
            return self._resolve(c, sa, sa, [(h[4], h[5]) for h in hits])
        pairs = [(h[0], h[1]) for h in hits]
        pairs += [(h[2], h[3]) for h in map(_value, scan(sg))]
        if not pairs:
            return []
        return self._resolve(c, sa, sg, pairs)

    def match_many(self, cs: Sequence[Candidate]) -> list[list[int]]:
        """`match` for each post, in order; faster per post than calling `match` in a loop.

        ASCII texts are normalised together, and the scan strings of up to `_BATCH` posts
        are joined (by NUL, which no key contains) and scanned at once; each hit is traced
        back to its post and to the folding its scan string came from.
        """
        if len(cs) <= _BATCH:
            return self._match_batch(cs)
        # Larger joined strings fall out of the CPU caches and get slower per post.
        return [r for i in range(0, len(cs), _BATCH) for r in self._match_batch(cs[i : i + _BATCH])]

    def _match_batch(self, cs: Sequence[Candidate]) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in cs]
        if self._automaton is None or not cs:
            return out
        texts = [c.text for c in cs]
        simple = [i for i, t in enumerate(texts) if t.isascii()]
        ascii_scans = prepare_ascii_batch([texts[i] for i in simple]) if simple else []
        if ascii_scans is None:  # a NUL in some text: prepare each post on its own
            simple, ascii_scans = [], []
        segments: list[str] = list(ascii_scans)
        origin: list[tuple[int, int]] = [(i, 4) for i in simple]  # (post, offset in value)
        if len(simple) < len(texts):
            done = set(simple)
            for i, text in enumerate(texts):
                if i in done:
                    continue
                sa, sg = prepare(text)
                segments.append(sa)
                if sa is sg:
                    origin.append((i, 4))
                else:
                    origin.append((i, 0))
                    segments.append(sg)
                    origin.append((i, 2))
        hits = list(self._automaton.iter("\x00".join(segments)))
        if not hits:
            return out
        ends = list(accumulate(len(s) + 1 for s in segments))
        found: dict[int, list[tuple[_Brands, _Brands]]] = {}
        for end, value in hits:
            post, at = origin[bisect_right(ends, end)]
            found.setdefault(post, []).append((value[at], value[at + 1]))
        for post, pairs in found.items():
            if len(pairs) == 1 and not pairs[0][1]:
                out[post] = list(pairs[0][0])
            else:
                # Few posts get here; preparing them again is cheaper than keeping all.
                sa, sg = prepare(texts[post])
                out[post] = self._resolve(cs[post], sa, sg, pairs)
        return out

    def _resolve(
        self,
        c: Candidate,
        sa: str,
        sg: str,
        pairs: list[tuple[_Brands, _Brands]],
    ) -> list[int]:
        decided: set[int] = set()
        to_check: set[int] = set()
        for exact, checked in pairs:
            decided.update(exact)
            to_check.update(checked)
        if to_check:
            view = PostView(c, sa, sg)
            checks = self._checks
            for brand in to_check:
                check = checks.get(brand)
                if check is None:
                    # Compiled on first use: most brands' checks never run in a given
                    # process, and compiling all of them dominated build time.
                    check = checks[brand] = compile_check(self.queries[brand])
                if check(view):
                    decided.add(brand)
        return sorted(decided)
