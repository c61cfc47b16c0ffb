"""The parsed form of a query: immutable nodes, their canonical text and static analyses.

Node columns (`col`, 1-based) point into the query text for error messages; they do not take
part in equality, so two parses of equivalent text compare equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from .fold import fold_accents, fold_german

WILDCARDS = "*?"


@lru_cache(maxsize=65536)
def _folds(text: str) -> tuple[str, str]:
    return fold_accents(text), fold_german(text)


@dataclass(frozen=True, slots=True)
class Term:
    """One word of the text: plain (`marker` ""), hashtag ("#") or handle ("@").

    `text` is normalised (NFKC, case-folded) but not accent-folded, and may hold the
    wildcards `*` (any run of word characters) and `?` (exactly one letter).
    """

    text: str
    marker: str = ""
    col: int = field(default=0, compare=False)

    @property
    def wildcard(self) -> bool:
        return "*" in self.text or "?" in self.text

    @property
    def folds(self) -> tuple[str, str]:
        """(accent-folded, German-folded) spelling; wildcard characters pass through."""
        return _folds(self.text)


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words, in order; punctuation between them in the text is ignored."""

    terms: tuple[Term, ...]
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Field:
    """A condition on the post rather than its text: lang, site, network or author."""

    name: str
    value: str
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Not:
    child: Node
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]
    col: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides occur with at most `distance` words between them (`ordered`: left first).

    A side is a Term, a Phrase, or an Or of those.
    """

    left: Node
    right: Node
    distance: int
    ordered: bool = False
    col: int = field(default=0, compare=False)


Node = Term | Phrase | Field | Not | And | Or | Near
Leaf = Term | Phrase


def describe(node: Node) -> str:
    """The canonical, fully parenthesised form of a parsed query.

    Every operator is written out in upper case and every compound is wrapped in parentheses,
    e.g. `acme -jobs lang:(de OR en)` → `(acme AND (NOT jobs) AND (lang:de OR lang:en))`.
    Parsing the result gives the same tree again.
    """
    match node:
        case Term(text=text, marker=marker):
            return marker + text
        case Phrase(terms=terms):
            if all(not t.marker and not t.wildcard for t in terms):
                return '"' + " ".join(t.text for t in terms) + '"'
            # Quotes would turn `#` and wildcards into punctuation: write it as one bare word
            # whose parts are joined by "-", which parses back to the same phrase.
            return "-".join(describe(t) for t in terms)
        case Field(name=name, value=value):
            return f"{name}:{value}"
        case Not(child=child):
            return f"(NOT {describe(child)})"
        case And(children=children):
            return "(" + " AND ".join(describe(c) for c in children) + ")"
        case Or(children=children):
            return "(" + " OR ".join(describe(c) for c in children) + ")"
        case Near(left=left, right=right, distance=distance, ordered=ordered):
            op = f"NEAR/{distance}{'f' if ordered else ''}"
            return f"({describe(left)} {op} {describe(right)})"
    raise TypeError(f"not a query node: {node!r}")


def uses_lang(node: Node) -> bool:
    """True when evaluating the query may need the post's language."""
    match node:
        case Field(name=name):
            return name == "lang"
        case Not(child=child):
            return uses_lang(child)
        case And(children=children) | Or(children=children):
            return any(uses_lang(c) for c in children)
    return False


def needs_positive(node: Node) -> bool:
    """True when the node can only be true if some word, phrase, hashtag or handle occurs.

    A query for which this is False would match posts that contain none of its words (say
    `NOT acme` or `lang:de`), i.e. nearly every post on a network.
    """
    match node:
        case Term() | Phrase() | Near():
            return True
        case Field():
            return False
        case Not(child=child):
            return _false_needs_positive(child)
        case And(children=children):
            return any(needs_positive(c) for c in children)
        case Or(children=children):
            return all(needs_positive(c) for c in children)
    raise TypeError(f"not a query node: {node!r}")


def _false_needs_positive(node: Node) -> bool:
    """True when the node can only be *false* if some positive word occurs (NOT NOT x...)."""
    match node:
        case Not(child=child):
            return needs_positive(child)
        case And(children=children):
            return all(_false_needs_positive(c) for c in children)
        case Or(children=children):
            return any(_false_needs_positive(c) for c in children)
    return False
