"""Compiles one parsed query for the engine: its automaton triggers and its exact check.

Triggers are query words such that no post can match the query unless at least one of them
occurs; the automaton looks only for triggers, so a post that mentions no brand costs one
scan and nothing else. Of an AND the engine needs only one child's triggers and picks the
rarest (a brand name rather than "support"); of an OR it needs every branch's.

The check is a tree of closures over a `PostView`, evaluated only for queries whose
triggers fired, cheapest conditions first, `lang:` last because it may run detection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .ast import And, Field, Near, Node, Not, Or, Phrase, Term
from .candidate import Candidate
from .fields import handle, host_in_domain, post_host, post_lang

PostToken = tuple[str, str, str]  # (marker, accent-folded word, German-folded word)
Span = tuple[int, int]
Check = Callable[["PostView"], bool]

# A real hashtag/handle sign in a scan string has two spaces before it (see scan.py).
LEADS = {"": " ", "#": "  # ", "@": "  @ "}
_LOOKBEHIND = {"": "(?<= )", "#": "(?<=  # )", "@": "(?<=  @ )"}
# One token of a scan string, with its sign when the sign is a real hashtag/handle sign.
_TOKEN = re.compile(r"(?:(?<=  )([#@]) )?([^ #@]+)")


class PostView:
    """What the checks read from one post; everything beyond the scan strings is lazy."""

    __slots__ = ("_host", "_lang", "_tokens", "c", "sa", "sg")

    _UNSET = object()

    def __init__(self, c: Candidate, sa: str, sg: str) -> None:
        self.c = c
        self.sa = sa
        self.sg = sg
        self._tokens: list[PostToken] | None = None
        self._lang: object = PostView._UNSET
        self._host: object = PostView._UNSET

    def tokens(self) -> list[PostToken]:
        """Words with their sign, aligned across both foldings (for NEAR and phrases)."""
        if self._tokens is None:
            words_a = _TOKEN.findall(self.sa)
            words_g = words_a if self.sg is self.sa else _TOKEN.findall(self.sg)
            self._tokens = [(m, a, g) for (m, a), (_, g) in zip(words_a, words_g, strict=True)]
        return self._tokens

    def lang(self) -> str | None:
        if self._lang is PostView._UNSET:
            lang = post_lang(self.c.lang)
            if lang is None and self.c.detect_lang is not None:
                lang = post_lang(self.c.detect_lang())
            self._lang = lang
        return self._lang  # type: ignore[return-value]

    def host(self) -> str | None:
        if self._host is PostView._UNSET:
            self._host = post_host(self.c.url)
        return self._host  # type: ignore[return-value]


# -- triggers --------------------------------------------------------------------------

# Words so frequent in English and German posts that a query should never wait for them
# when it has a rarer word to wait for.
_COMMON = frozenset(
    """a about after all also am an and any app are as at back be because been but by can
    could day do does down get go good got great had has have he help her here him his how i
    if in into is it its just know like love make me more my new no not now of off on one
    only or our out over people please really see service she so some support than that the
    their them then there they this time to today too up us was way we well were what when
    which who why will with work would year you your aber alle als am an auch auf aus bei bin
    bis da das dass dem den der des die doch du ein eine einen einer er es für gibt hab habe
    hat heute ich ihr im in ist ja jetzt kann kein keine mal man mehr mein mit nach nicht noch
    nur oder schon sehr sich sie sind so über um und uns von vor war was wie wieder wir wird
    zu zum zur""".split()
)


def _rate(term: Term) -> float:
    """Rough share of posts containing the term: only used to rank trigger choices."""
    fold_a, _ = term.folds
    literal = re.split(r"[*?]", fold_a, maxsplit=1)[0]
    rate = 0.3 if literal in _COMMON else 0.02 * 0.6 ** max(0, len(literal) - 4)
    if term.wildcard:
        rate *= 5
    if term.marker:
        rate *= 0.1
    return min(rate, 1.0)


def _cost(terms: Sequence[Term]) -> float:
    return sum(_rate(t) for t in terms)


def _best(options: list[list[Term] | None]) -> list[Term] | None:
    usable = [o for o in options if o is not None]
    return min(usable, key=_cost) if usable else None


def triggers(node: Node) -> list[Term] | None:
    """Terms of which at least one occurs in every post the node matches (None: no such set)."""
    if isinstance(node, Term):
        return [node]
    if isinstance(node, Phrase):
        return [min(node.terms, key=_rate)]
    if isinstance(node, Near):
        return _best([triggers(node.left), triggers(node.right)])
    if isinstance(node, Field):
        return None
    if isinstance(node, Not):
        return _false_triggers(node.child)
    if isinstance(node, And):
        return _best([triggers(c) for c in node.children])
    if isinstance(node, Or):
        parts = [triggers(c) for c in node.children]
        if any(p is None for p in parts):
            return None
        return [t for p in parts if p is not None for t in p]
    raise TypeError(f"not a query node: {node!r}")


def _false_triggers(node: Node) -> list[Term] | None:
    """Terms of which one occurs in every post where the node is false (for NOT NOT x)."""
    if isinstance(node, Not):
        return triggers(node.child)
    if isinstance(node, And):
        parts = [_false_triggers(c) for c in node.children]
        if any(p is None for p in parts):
            return None
        return [t for p in parts if p is not None for t in p]
    if isinstance(node, Or):
        return _best([_false_triggers(c) for c in node.children])
    return None


def trigger_is_exact(term: Term) -> bool:
    """True when an automaton hit for the term proves the term occurs.

    Literal words, hashtags and handles are found as whole keys; a wildcard whose only
    wildcard is a final `*` is found by its prefix alone.
    """
    stem = term.text[:-1] if term.text.endswith("*") else term.text
    return "*" not in stem and "?" not in stem


def is_exact(node: Node) -> bool:
    """True when a trigger hit alone decides the query (a word, or an OR of words)."""
    if isinstance(node, Term):
        return trigger_is_exact(node)
    if isinstance(node, Or):
        return all(isinstance(c, Term) and trigger_is_exact(c) for c in node.children)
    return False


def trigger_keys(term: Term) -> tuple[str, str]:
    """Automaton keys for the term in the accent-folded and the German-folded scan string."""
    lead = LEADS[term.marker]
    keys = []
    for folded in term.folds:
        if term.wildcard:
            # Index the literal prefix (>= 2 letters, enforced by the parser); the check
            # verifies the rest of the pattern unless `trigger_is_exact`.
            keys.append(lead + re.split(r"[*?]", folded, maxsplit=1)[0])
        else:
            keys.append(lead + folded + " ")
    return keys[0], keys[1]


# -- checks ----------------------------------------------------------------------------


def _glob(pattern: str) -> str:
    out = []
    for ch in pattern:
        if ch == "*":
            out.append("[^ ]*")
        elif ch == "?":
            out.append(r"[^\W\d_]")  # one letter
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _alternatives(term: Term) -> str:
    fold_a, fold_g = term.folds
    body_a = _glob(fold_a) if term.wildcard else re.escape(fold_a)
    body_g = _glob(fold_g) if term.wildcard else re.escape(fold_g)
    return body_a if body_a == body_g else f"(?:{body_a}|{body_g})"


@dataclass(frozen=True, slots=True)
class _TokenTest:
    """Does one query word match one post token? (used for NEAR and German phrases)"""

    marker: str
    fold_a: str
    fold_g: str
    rx_a: re.Pattern[str] | None
    rx_g: re.Pattern[str] | None

    @classmethod
    def of(cls, term: Term) -> _TokenTest:
        fold_a, fold_g = term.folds
        if term.wildcard:
            return cls(
                term.marker, fold_a, fold_g, re.compile(_glob(fold_a)), re.compile(_glob(fold_g))
            )
        return cls(term.marker, fold_a, fold_g, None, None)

    def __call__(self, tok: PostToken) -> bool:
        marker, word_a, word_g = tok
        if self.marker and marker != self.marker:
            return False
        if self.rx_a is None or self.rx_g is None:
            return word_a == self.fold_a or word_g == self.fold_g
        return bool(self.rx_a.fullmatch(word_a) or self.rx_g.fullmatch(word_g))


def _spans_fn(node: Node) -> Callable[[list[PostToken]], list[Span]]:
    if isinstance(node, Or):
        parts = [_spans_fn(c) for c in node.children]
        return lambda toks: [s for p in parts for s in p(toks)]
    terms = node.terms if isinstance(node, Phrase) else (node,) if isinstance(node, Term) else ()
    if not terms:
        raise TypeError(f"not a NEAR side: {node!r}")
    tests = [_TokenTest.of(t) for t in terms]
    first, rest = tests[0], list(enumerate(tests[1:], 1))
    size = len(tests)

    def spans(toks: list[PostToken]) -> list[Span]:
        last = len(toks) - size
        return [
            (i, i + size - 1)
            for i, tok in enumerate(toks)
            if i <= last and first(tok) and all(t(toks[i + j]) for j, t in rest)
        ]

    return spans


def _term_check(term: Term) -> Check:
    if not term.wildcard:
        key_a, key_g = trigger_keys(term)
        if key_a == key_g:
            return lambda p: key_a in p.sa or (p.sg is not p.sa and key_a in p.sg)
        return lambda p: key_a in p.sa or key_g in p.sg
    fold_a, fold_g = term.folds
    look = _LOOKBEHIND[term.marker]
    rx_a = re.compile(look + _glob(fold_a) + "(?= )")
    rx_g = re.compile(look + _glob(fold_g) + "(?= )")
    return lambda p: rx_a.search(p.sa) is not None or rx_g.search(p.sg) is not None


def _phrase_check(phrase: Phrase) -> Check:
    # One regular expression over the scan string, each word allowing either folding and any
    # punctuation or signs between words. Exact when the text has a single folding (no ä, ö,
    # ü); otherwise one word may match by one folding and the next by the other, which only
    # a word-by-word comparison gets right.
    head = phrase.terms[0]
    body = "[ #@]+".join(_alternatives(t) for t in phrase.terms)
    rx = re.compile(_LOOKBEHIND[head.marker] + body + "(?= )")
    spans = _spans_fn(phrase)

    def check(p: PostView) -> bool:
        if p.sg is p.sa:
            return rx.search(p.sa) is not None
        return bool(spans(p.tokens()))

    return check


def _near_check(near: Near) -> Check:
    left, right = _spans_fn(near.left), _spans_fn(near.right)
    distance, ordered = near.distance, near.ordered

    def check(p: PostView) -> bool:
        toks = p.tokens()
        lefts = left(toks)
        if not lefts:
            return False
        rights = right(toks)
        for a_start, a_end in lefts:
            for b_start, b_end in rights:
                if a_end < b_start and b_start - a_end - 1 <= distance:
                    return True
                if not ordered and b_end < a_start and a_start - b_end - 1 <= distance:
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
    """Relative cost of checking a node, to run cheap and decisive conditions first."""
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
