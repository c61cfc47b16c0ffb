"""Compiles a query into an exact check over a `PostView`, run only after a trigger hit.

The check is a tree of closures, built for a query when a post first hits one of its
triggers (engine.py) and kept from then on. Children of AND/OR run cheapest
first, and `lang:` last because it may call language detection. Words are tested by
substring search on the scan string, phrases by one regular expression, wildcards by a
linear matcher (wildcard.py); only NEAR, and some phrases, look at word positions.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from functools import lru_cache

from .ast import And, Field, Near, Node, Not, Or, Phrase, Term
from .fields import handle, host_in_domain
from .triggers import LEADS, literal_prefix, trigger_keys
from .view import PostView
from .wildcard import WordPattern

Check = Callable[[PostView], bool]


@lru_cache(maxsize=100_000)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


class _Regex:
    """A regular expression compiled on first use.

    Some patterns serve rare cases only (the one-folding phrase patterns are for texts with
    ä/ö/ü), and equal patterns of different brands share one compilation.
    """

    __slots__ = ("_rx", "pattern")

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self._rx: re.Pattern[str] | None = None

    def search(self, text: str) -> re.Match[str] | None:
        rx = self._rx
        if rx is None:
            rx = self._rx = _compiled(self.pattern)
        return rx.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        rx = self._rx
        if rx is None:
            rx = self._rx = _compiled(self.pattern)
        return rx.finditer(text)


Span = tuple[int, int]  # first and last word index, inclusive
WordTest = Callable[[str, str], bool]  # (accent-folded word, German-folded word)


def _lead(term: Term) -> str:
    # The lead is consumed rather than looked behind: a pattern starting with a literal
    # lets the regex engine skip ahead quickly (a lookbehind made searches ~5x slower).
    return re.escape(LEADS[term.marker])


def _either(term: Term) -> str:
    fold_a, fold_g = term.folds
    return re.escape(fold_a) if fold_a == fold_g else f"(?:{re.escape(fold_a)}|{re.escape(fold_g)})"


# -- words and phrases ---------------------------------------------------------------------


def _term_check(term: Term) -> Check:
    if not term.wildcard:
        key_a, key_g = trigger_keys(term)
        if key_a == key_g:
            return lambda p: key_a in p.sa or (p.sg is not p.sa and key_a in p.sg)
        return lambda p: key_a in p.sa or key_g in p.sg
    # A regex finds the words that start right (a possessive run: no backtracking), and the
    # linear WordPattern decides on each of them.
    lead = _lead(term)
    fold_a, fold_g = term.folds
    cand_a = _Regex(lead + "(" + re.escape(literal_prefix(fold_a)) + "[^ ]*+)")
    pat_a = WordPattern(fold_a)
    if fold_g == fold_a:
        return lambda p: (
            _any_word(cand_a, pat_a, p.sa) or (p.sg is not p.sa and _any_word(cand_a, pat_a, p.sg))
        )
    cand_g = _Regex(lead + "(" + re.escape(literal_prefix(fold_g)) + "[^ ]*+)")
    pat_g = WordPattern(fold_g)
    return lambda p: _any_word(cand_a, pat_a, p.sa) or _any_word(cand_g, pat_g, p.sg)


def _any_word(candidates: _Regex, pattern: WordPattern, scan: str) -> bool:
    return any(pattern.fullmatch(m.group(1)) for m in candidates.finditer(scan))


def _word_test(term: Term) -> WordTest:
    fold_a, fold_g = term.folds
    if not term.wildcard:
        return lambda a, g: a == fold_a or g == fold_g
    pattern_a, pattern_g = WordPattern(fold_a), WordPattern(fold_g)
    return lambda a, g: pattern_a.fullmatch(a) or pattern_g.fullmatch(g)


def _indexes(words: list[str], word: str) -> list[int]:
    out: list[int] = []
    try:
        while True:
            out.append(words.index(word, out[-1] + 1 if out else 0))
    except ValueError:
        return out


def _spans_fn(node: Node) -> Callable[[PostView], list[Span]]:
    """Where a NEAR side (or a phrase) occurs in the post, as word index spans."""
    if isinstance(node, Or):
        parts = [_spans_fn(c) for c in node.children]
        return lambda p: [s for part in parts for s in part(p)]
    if isinstance(node, Phrase):
        terms = node.terms
    elif isinstance(node, Term):
        terms = (node,)
    else:
        raise TypeError(f"not a NEAR side: {node!r}")
    head = terms[0]
    marker = head.marker
    rest = [(j, _word_test(t)) for j, t in enumerate(terms) if j]
    size = len(terms)
    fold_a, fold_g = head.folds
    starts: Callable[[list[str], list[str]], list[int]]
    if head.wildcard:
        head_test = _word_test(head)
        pre_a, pre_g = literal_prefix(fold_a), literal_prefix(fold_g)

        def starts(words_a: list[str], words_g: list[str]) -> list[int]:
            return [
                i
                for i, (a, g) in enumerate(zip(words_a, words_g, strict=True))
                if (a.startswith(pre_a) or g.startswith(pre_g)) and head_test(a, g)
            ]

    else:

        def starts(words_a: list[str], words_g: list[str]) -> list[int]:
            found = _indexes(words_a, fold_a)
            if words_g is words_a and fold_g == fold_a:
                return found
            return sorted({*found, *_indexes(words_g, fold_g)})

    def spans(p: PostView) -> list[Span]:
        words_a, words_g = p.words()
        last = len(words_a) - size
        marks = p.markers() if marker else None
        return [
            (i, i + size - 1)
            for i in starts(words_a, words_g)
            if i <= last
            and (marks is None or marks.get(i) == marker)
            and all(test(words_a[i + j], words_g[i + j]) for j, test in rest)
        ]

    return spans


def _phrase_check(phrase: Phrase) -> Check:
    spans = _spans_fn(phrase)
    occurs = [_term_check(t) for t in phrase.terms]
    if any(t.wildcard for t in phrase.terms):
        # Word by word (linear); a regex would backtrack over the wildcards.
        return lambda p: all(o(p) for o in occurs) and bool(spans(p))
    head, sep = phrase.terms[0], "[ #@]+"  # any punctuation or signs between the words
    # Texts without ä/ö/ü have one spelling, so one regex with either folding per word is
    # exact. Otherwise each word may match by a different folding: try each folding alone
    # (cheap, and usually enough), and compare word by word only if all words occur.
    either = _Regex(_lead(head) + sep.join(_either(t) for t in phrase.terms) + "(?= )")
    only_a = _Regex(_lead(head) + sep.join(re.escape(t.folds[0]) for t in phrase.terms) + "(?= )")
    only_g = _Regex(_lead(head) + sep.join(re.escape(t.folds[1]) for t in phrase.terms) + "(?= )")

    def check(p: PostView) -> bool:
        if p.sg is p.sa:
            return either.search(p.sa) is not None
        if only_a.search(p.sa) is not None or only_g.search(p.sg) is not None:
            return True
        return all(o(p) for o in occurs) and bool(spans(p))

    return check


def _near_check(near: Near) -> Check:
    # Both sides must occur at all before positions are worth computing; those two checks
    # are substring or regex searches on the scan string.
    left_occurs, right_occurs = compile_check(near.left), compile_check(near.right)
    left, right = _spans_fn(near.left), _spans_fn(near.right)
    distance, ordered = near.distance, near.ordered

    def check(p: PostView) -> bool:
        if not (left_occurs(p) and right_occurs(p)):
            return False
        # Distinct, non-overlapping occurrences; "between" counts the words strictly between
        # the end of one and the start of the other. Bisection keeps a post that repeats
        # both sides many times from costing (left x right) comparisons.
        rights = right(p)
        starts = sorted(s for s, _ in rights)
        ends = sorted(e for _, e in rights)
        for a_start, a_end in left(p):
            i = bisect_left(starts, a_end + 1)  # first right side starting after a
            if i < len(starts) and starts[i] - a_end - 1 <= distance:
                return True
            if not ordered:
                j = bisect_left(ends, a_start) - 1  # last right side ending before a
                if j >= 0 and a_start - ends[j] - 1 <= distance:
                    return True
        return False

    return check


def _field_check(node: Field) -> Check:
    value = node.value
    if node.name == "lang":
        return lambda p: p.lang() == value
    if node.name == "site":
        return lambda p: host_in_domain(p.host(), value)
    if node.name == "network":
        return lambda p: p.c.network.strip().lower() == value
    if node.name == "author":
        return lambda p: handle(p.c.author) == value
    raise ValueError(f"unknown field {node.name}")


def cost(node: Node) -> float:
    """Relative cost of checking a node, so that cheap and decisive conditions run first."""
    if isinstance(node, Term):
        return 3.0 if node.wildcard else 1.0
    if isinstance(node, Phrase):
        return 4.0
    if isinstance(node, Near):
        return 10.0
    if isinstance(node, Field):
        # lang: may call language detection: keep it for last.
        return {"lang": 1000.0, "site": 3.0}.get(node.name, 2.0)
    if isinstance(node, Not):
        return cost(node.child)
    if isinstance(node, And | Or):
        return sum(cost(c) for c in node.children)
    raise TypeError(f"not a query node: {node!r}")


def compile_check(node: Node) -> Check:
    """An exact check of `node` against a post, as a closure over a PostView."""
    if isinstance(node, Term):
        return _term_check(node)
    if isinstance(node, Phrase):
        return _phrase_check(node)
    if isinstance(node, Near):
        return _near_check(node)
    if isinstance(node, Field):
        return _field_check(node)
    if isinstance(node, Not):
        inner = compile_check(node.child)
        return lambda p: not inner(p)
    if isinstance(node, And | Or):
        parts = [compile_check(c) for c in sorted(node.children, key=cost)]
        if isinstance(node, And):
            if len(parts) == 2:
                a, b = parts
                return lambda p: a(p) and b(p)
            return lambda p: all(f(p) for f in parts)
        if len(parts) == 2:
            a, b = parts
            return lambda p: a(p) or b(p)
        return lambda p: any(f(p) for f in parts)
    raise TypeError(f"not a query node: {node!r}")
