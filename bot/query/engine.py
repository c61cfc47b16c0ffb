"""The matching engine: every brand's query in one Aho–Corasick automaton.

Building: each query is parsed, its trigger words (see triggers.py) become automaton keys,
and each key's value is precomputed: the brands it decides outright and the brands whose
check must run, for the accent-folded scan string, the German-folded one, and for texts
where both are the same.

Matching a post: prepare its scan string(s) once (scan.py), scan them for every key at once
(scanner.py: Hyperscan where its native wheel installs, else pyahocorasick), and only if
something was found look at the few brands it names. A brand whose query is a word or an OR
of words is decided by the hit itself; any other runs its compiled check (compile.py). Per
post the work is one C-level scan plus work proportional to the brands actually hit,
whatever the number of brands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from .ast import Node, uses_lang
from .candidate import Candidate
from .compile import Check, compile_check
from .errors import QueryError
from .parser import parse
from .scan import prepare, prepare_batch, scan_batch
from .scanner import Scanner, build_scanner
from .triggers import is_exact, shared_rate, trigger_keys, triggers
from .view import PostView

# Automaton value, by index: brands decided by the hit / brands to check, for a hit in the
# accent-folded scan string (0, 1), in the German-folded one (2, 3), and in the one scan
# string of a text without ä/ö/ü (4, 5). Tuples are sorted and shared, never copied.
_Brands = tuple[int, ...]
_Hit = tuple[_Brands, _Brands, _Brands, _Brands, _Brands, _Brands]
_BATCH = 1000  # posts per scan in match_many: measured best between 256 and 2,000
_DEL = "\x7f"  # scan_batch's stand-in for a letter beyond ASCII
log = logging.getLogger(__name__)
_told: set[str] = set()  # scanners named in the log already

# pyahocorasick searches a trie node's children linearly in insertion order, so keys go in
# an order that puts frequent letters first at every node: a few percent faster scans.
_LETTER_RANK = {ch: i for i, ch in enumerate(" etaoinsrhldcumwfgypbvkjxqz#@0123456789_")}


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


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
    _scanner: Scanner | None = field(repr=False)
    _values: list[_Hit] = field(repr=False)  # per scanner key
    _checks: dict[int, Check] = field(repr=False)  # filled lazily by _resolve
    # prepare_batch, or scan_batch (quicker) when every key is ASCII
    _batch: Callable[[list[str]], tuple[bytes, bytes] | None] = field(repr=False)

    @property
    def scanner(self) -> str:
        """The name of the multi-pattern scanner in use ("" when there is no query)."""
        return self._scanner.name if self._scanner else ""

    @classmethod
    def build(cls, queries: Mapping[int, str], scanner: str = "auto") -> Matcher:
        """Compile `{brand id: query text}`; raises QueryError with `.key` set on a bad query.

        `scanner`: "auto" (Hyperscan if installed, else pyahocorasick), or either by name.
        """
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
        found_scanner: Scanner | None = None
        values: list[_Hit] = []
        if keys:
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

            names = list(keys)
            for key in names:
                via_a, via_g = keys[key]
                values.append((*split(via_a), *split(via_g), *split(via_a | via_g)))
            found_scanner = build_scanner(names, _key_order, scanner)
            if found_scanner.name not in _told:
                _told.add(found_scanner.name)
                log.info("query engine: scanning with %s", found_scanner.name)
        return cls(
            queries=nodes,
            needs_lang=frozenset(b for b, n in nodes.items() if uses_lang(n)),
            _scanner=found_scanner,
            _values=values,
            _checks={},
            _batch=(
                scan_batch if all(k.isascii() and _DEL not in k for k in keys) else prepare_batch
            ),
        )

    def __len__(self) -> int:
        return len(self.queries)

    def match(self, c: Candidate) -> list[int]:
        """Sorted brand ids whose query matches the post."""
        if self._scanner is None:
            return []
        sa, sg = prepare(c.text)  # never holds NUL, the scanners' separator
        values = self._values
        if sa is sg:
            hits = [values[key] for _, key in self._scanner.find(_utf8(sa))]
            if not hits:
                return []
            if len(hits) == 1 and not hits[0][5]:
                return list(hits[0][4])  # the common case: one word, no check to run
            return self._resolve(c, sa, sa, [(h[4], h[5]) for h in hits])
        found = self._scanner.find(_utf8(sa + "\x00" + sg))
        pairs = [(values[key][2 * seg], values[key][2 * seg + 1]) for seg, key in found]
        if not pairs:
            return []
        return self._resolve(c, sa, sg, pairs)

    def match_many(self, cs: Sequence[Candidate]) -> list[list[int]]:
        """`match` for each post, in order; faster per post than calling `match` in a loop."""
        out: list[list[int]] = [[] for _ in cs]
        for i, brands in self.match_texts([c.text for c in cs], cs.__getitem__).items():
            out[i] = brands
        return out

    def match_texts(
        self, texts: Sequence[str], candidate: Callable[[int], Candidate]
    ) -> dict[int, list[int]]:
        """The posts among `texts` that match some brand: {index: sorted brand ids}.

        What the pipeline calls: it needs no `Candidate` per post and no list per post that
        matches nothing (about 99 % of them). `candidate(i)` must give post `i` whole (network,
        URL, author, language); it is asked for only when a hit needs a brand's check (a field,
        NOT, NEAR, a phrase, `lang:`), so for a few posts at most. The indexes come in no
        particular order.

        The scan strings of up to `_BATCH` posts are prepared together (scan_batch when every
        key is ASCII, else prepare_batch) and scanned at once; each hit is traced back to its
        post and to the folding its scan string came from.
        """
        if self._scanner is None or not texts:
            return {}
        if len(texts) <= _BATCH:
            return self._match_batch(texts, candidate, 0)
        # Larger joined strings fall out of the CPU caches and get slower per post.
        hits: dict[int, list[int]] = {}
        for start in range(0, len(texts), _BATCH):
            hits.update(self._match_batch(texts[start : start + _BATCH], candidate, start))
        return hits

    def _match_batch(
        self, texts: Sequence[str], candidate: Callable[[int], Candidate], offset: int
    ) -> dict[int, list[int]]:
        texts = list(texts)
        found = self._scan(texts)
        hits: dict[int, list[int]] = {}
        for post, pairs in found.items():
            if len(pairs) == 1 and not pairs[0][1]:
                brands = list(pairs[0][0])
            else:
                # Few posts get here; preparing them again is cheaper than keeping all.
                sa, sg = prepare(texts[post])
                brands = self._resolve(candidate(offset + post), sa, sg, pairs)
            if brands:
                hits[offset + post] = brands
        return hits

    def _scan(self, texts: list[str]) -> dict[int, list[tuple[_Brands, _Brands]]]:
        """Scan the texts together: each hit's (decided, to check), by post index.

        The whole batch is one scan string (two when some text has ä/ö/ü): splitting off
        the ASCII texts to scan them once was measured slower than scanning all twice."""
        assert self._scanner is not None
        found: dict[int, list[tuple[_Brands, _Brands]]] = {}
        prepared = self._batch(texts)
        if prepared is None:  # a NUL in some text: prepare each post on its own
            for i, text in enumerate(texts):
                sa, sg = prepare(text)
                self._add(found, i, sa, sg)
            return found
        accent, german = prepared
        values, find = self._values, self._scanner.find
        if accent is german:  # one folding each: the hit counts for both (value 4, 5)
            for post, key in find(accent):
                value = values[key]
                found.setdefault(post, []).append((value[4], value[5]))
            return found
        # Both foldings of every text: for a text without ä/ö/ü the two scan strings are
        # equal, and the union of a key's brands via either folding is its value 4, 5.
        for at, scans in ((0, accent), (2, german)):
            for post, key in find(scans):
                value = values[key]
                found.setdefault(post, []).append((value[at], value[at + 1]))
        return found

    def _add(
        self, found: dict[int, list[tuple[_Brands, _Brands]]], post: int, sa: str, sg: str
    ) -> None:
        assert self._scanner is not None
        values = self._values
        if sa is sg:
            pairs = [(values[key][4], values[key][5]) for _, key in self._scanner.find(_utf8(sa))]
        else:
            pairs = [
                (values[key][2 * seg], values[key][2 * seg + 1])
                for seg, key in self._scanner.find(_utf8(sa + "\x00" + sg))
            ]
        if pairs:
            found.setdefault(post, []).extend(pairs)

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
