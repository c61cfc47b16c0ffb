"""The reference evaluator: slow, plain and obviously correct.

It tokenises the post the way QUERY.md describes it and checks the query tree term by term
with regular expressions and list scans. The engine must agree with it on every query and
post; the property tests use it as their oracle. Nothing here is tuned for speed, nor hardened
against hostile posts (its NEAR is quadratic, its wildcards backtrack): production matching
goes through `Matcher`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from .ast import And, Field, Near, Node, Not, Or, Phrase, Term
from .candidate import Candidate
from .fields import handle, host_in_domain, post_host, post_lang
from .fold import fold_accents, fold_german, is_word_char, normalise

# (marker, accent-folded word, German-folded word); marker is "", "#" or "@"
Token = tuple[str, str, str]
Span = tuple[int, int]  # first and last word index, inclusive


def evaluate(node: Node, c: Candidate) -> bool:
    """True when the parsed query `node` matches the post `c`."""
    return _eval(node, _Post(c))


def evaluate_each(nodes: Mapping[int, Node], c: Candidate) -> list[int]:
    """The sorted keys of `nodes` whose query matches the post `c` (the post is cut into
    words once for all of them; `evaluate` for each otherwise)."""
    post = _Post(c)
    return sorted(key for key, node in nodes.items() if _eval(node, post))


def tokenize(text: str) -> list[Token]:
    """The words of a post with their hashtag/handle marker, in both foldings."""
    normal = normalise(text)
    words_a = _words(fold_accents(normal))
    words_g = _words(fold_german(normal))
    # Folding maps letters to letters, so both foldings cut the text in the same places.
    assert [m for m, _ in words_a] == [m for m, _ in words_g]
    return [(m, a, g) for (m, a), (_, g) in zip(words_a, words_g, strict=True)]


def _words(folded: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i, n = 0, len(folded)
    while i < n:
        if not is_word_char(folded[i]):
            i += 1
            continue
        j = i
        while j < n and is_word_char(folded[j]):
            j += 1
        # "#acme" is a hashtag and "@acme" a handle unless the sign is glued to a word
        # before it: "c#acme", "bob@acme.com", "@a@acme" (the instance part).
        marker = ""
        if i >= 1 and folded[i - 1] in "#@" and (i == 1 or not is_word_char(folded[i - 2])):
            marker = folded[i - 1]
        out.append((marker, folded[i:j]))
        i = j
    return out


@lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        if ch == "*":
            parts.append(".*")
        elif ch == "?":
            parts.append(r"[^\W\d_]")  # exactly one letter
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts))


class _Post:
    def __init__(self, c: Candidate) -> None:
        self.c = c
        self._tokens: list[Token] | None = None
        self._lang: str | None = None
        self._lang_known = False

    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = tokenize(self.c.text)
        return self._tokens

    def lang(self) -> str | None:
        if not self._lang_known:
            self._lang_known = True
            self._lang = post_lang(self.c.lang)
            if self._lang is None and self.c.detect_lang is not None:
                self._lang = post_lang(self.c.detect_lang())
        return self._lang


def term_matches(term: Term, token: Token) -> bool:
    """Does one query word match one text word (either folding, marker respected)?"""
    marker, word_a, word_g = token
    if term.marker and marker != term.marker:
        return False
    fold_a, fold_g = term.folds
    if term.wildcard:
        return bool(_glob(fold_a).fullmatch(word_a) or _glob(fold_g).fullmatch(word_g))
    return word_a == fold_a or word_g == fold_g


def _spans(node: Node, tokens: list[Token]) -> list[Span]:
    if isinstance(node, Term):
        return [(i, i) for i, tok in enumerate(tokens) if term_matches(node, tok)]
    if isinstance(node, Phrase):
        size = len(node.terms)
        return [
            (i, i + size - 1)
            for i in range(len(tokens) - size + 1)
            if all(term_matches(t, tokens[i + j]) for j, t in enumerate(node.terms))
        ]
    if isinstance(node, Or):
        return [span for child in node.children for span in _spans(child, tokens)]
    raise TypeError(f"not a NEAR side: {node!r}")


def _near(node: Near, tokens: list[Token]) -> bool:
    lefts, rights = _spans(node.left, tokens), _spans(node.right, tokens)
    for a in lefts:
        for b in rights:
            # Two distinct occurrences: the spans may not overlap; "between" counts the
            # words strictly between the end of the first and the start of the second.
            if a[1] < b[0] and b[0] - a[1] - 1 <= node.distance:
                return True
            if not node.ordered and b[1] < a[0] and a[0] - b[1] - 1 <= node.distance:
                return True
    return False


def _field(node: Field, post: _Post) -> bool:
    c = post.c
    if node.name == "lang":
        return post.lang() == node.value
    if node.name == "site":
        return host_in_domain(post_host(c.url), node.value)
    if node.name == "network":
        return c.network.strip().lower() == node.value
    if node.name == "author":
        return handle(c.author) == node.value
    raise ValueError(f"unknown field {node.name}")


def _eval(node: Node, post: _Post) -> bool:
    if isinstance(node, Term | Phrase):
        return bool(_spans(node, post.tokens()))
    if isinstance(node, Near):
        return _near(node, post.tokens())
    if isinstance(node, Field):
        return _field(node, post)
    if isinstance(node, Not):
        return not _eval(node.child, post)
    if isinstance(node, And):
        return all(_eval(child, post) for child in node.children)
    if isinstance(node, Or):
        return any(_eval(child, post) for child in node.children)
    raise TypeError(f"not a query node: {node!r}")
