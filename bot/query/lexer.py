"""Splits query text into tokens, each with its 1-based column."""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from .errors import QueryError

MAX_LENGTH = 2000
MAX_NEAR = 50
FIELDS = ("lang", "site", "network", "author")

# Straight quotes, and the curly ones that word processors put in when a query is pasted
# from a document (“English” and „German“ style).
OPEN_QUOTES = '"“”„'
CLOSE_QUOTES = '"“”'

_NEAR = re.compile(r"NEAR/(\d+)([fF]?)")
_NEAR_LIKE = re.compile(r"near(/.*)?", re.IGNORECASE | re.DOTALL)
_FIELD = re.compile(r"([A-Za-z]+):(.*)", re.DOTALL)


class Kind(Enum):
    LPAREN = "("
    RPAREN = ")"
    AND = "AND"
    OR = "OR"
    NOT = "NOT"
    MINUS = "-"
    NEAR = "NEAR"
    PHRASE = "phrase"
    TERM = "term"
    FIELD = "field"


class Token(NamedTuple):
    kind: Kind
    text: str  # the raw text; for PHRASE the inside of the quotes, for FIELD the value
    col: int
    name: str = ""  # FIELD: the field name, lower case
    distance: int = 0  # NEAR
    ordered: bool = False  # NEAR/nf


_LEXEME = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<paren>[()])"
    rf"|(?P<quote>[{OPEN_QUOTES}](?P<inner>[^{CLOSE_QUOTES}]*)(?P<close>[{CLOSE_QUOTES}])?)"
    # "-" directly before something is the NOT shorthand; inside a word (e-bike) it is
    # punctuation, and a "-" standing alone is reported by _bare.
    r"|(?P<minus>-)(?=[^\s)])"
    rf"|(?P<bare>[^\s(){OPEN_QUOTES}]+)"
)
_LONE_MINUS = "'-' must be directly followed by what to exclude, e.g. -jobs"


def tokenize(query: str) -> list[Token]:
    """Tokens of `query`; raises QueryError for text that cannot be a token."""
    if len(query) > MAX_LENGTH:
        raise QueryError(MAX_LENGTH + 1, f"query is longer than {MAX_LENGTH:,} characters")
    tokens: list[Token] = []
    for m in _LEXEME.finditer(query):
        kind = m.lastgroup  # the outermost group of the alternative that matched
        if kind == "space":
            continue
        col = m.start() + 1
        if kind == "bare":
            word = m.group()
            if word == "-":
                raise QueryError(col, _LONE_MINUS)
            tokens.append(_bare(word, col, query.startswith("(", m.end())))
        elif kind == "paren":
            paren = m.group()
            tokens.append(Token(Kind.LPAREN if paren == "(" else Kind.RPAREN, paren, col))
        elif kind == "quote":
            if m.group("close") is None:
                raise QueryError(col, 'unterminated quote: a phrase needs a closing "')
            tokens.append(Token(Kind.PHRASE, m.group("inner"), col))
        else:
            tokens.append(Token(Kind.MINUS, "-", col))
    return tokens


def _bare(word: str, col: int, paren_follows: bool) -> Token:
    if word in ("AND", "OR", "NOT"):
        return Token(Kind[word], word, col)
    # The regular expressions below run only on words that can concern them: most words are
    # plain, and a build parses thousands of queries.
    if word[:4].lower() == "near":
        near = _NEAR.fullmatch(word)
        if near:
            distance = int(near.group(1))
            if not 1 <= distance <= MAX_NEAR:
                raise QueryError(
                    col, f"NEAR distance must be between 1 and {MAX_NEAR}, not {distance}"
                )
            return Token(Kind.NEAR, word, col, distance=distance, ordered=bool(near.group(2)))
        if _NEAR_LIKE.fullmatch(word):
            if word.startswith("NEAR"):
                raise QueryError(
                    col, "NEAR needs a distance: NEAR/n or NEAR/nf with n from 1 to 50"
                )
            if "/" in word:
                # Lower-case near/3 is almost certainly meant as the operator, not as the
                # phrase "near 3"; say so rather than search for it.
                raise QueryError(col, f"operators are upper case: write {word.upper()}")
    field = _FIELD.fullmatch(word) if ":" in word else None
    if field:
        name, value = field.group(1).lower(), field.group(2)
        if name not in FIELDS:
            raise QueryError(
                col,
                f"unknown field '{field.group(1)}:' (fields are lang:, site:, network:, "
                'author:; put text with a colon in quotes: "...")',
            )
        if not value and not paren_follows:
            raise QueryError(col, f"{name}: needs a value, e.g. {_EXAMPLE[name]}")
        return Token(Kind.FIELD, value, col, name=name)
    return Token(Kind.TERM, word, col)


_EXAMPLE = {
    "lang": "lang:de or lang:(de OR en)",
    "site": "site:reddit.com",
    "network": "network:mastodon",
    "author": "author:acme_official",
}
