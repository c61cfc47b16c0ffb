"""Splits query text into tokens, each with its 1-based column."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from .errors import QueryError

MAX_LENGTH = 2000
MAX_NEAR = 50
FIELDS = ("lang", "site", "network", "author")

# Straight quotes, and the curly ones that word processors put in when a query is pasted
# from a document (“English” and „German“ style).
OPEN_QUOTES = '"“”„'
CLOSE_QUOTES = '"“”'
_BARE_STOP = "()" + OPEN_QUOTES

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


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the raw text; for PHRASE the inside of the quotes, for FIELD the value
    col: int
    name: str = ""  # FIELD: the field name, lower case
    distance: int = 0  # NEAR
    ordered: bool = False  # NEAR/nf


def tokenize(query: str) -> list[Token]:
    """Tokens of `query`; raises QueryError for text that cannot be a token."""
    if len(query) > MAX_LENGTH:
        raise QueryError(MAX_LENGTH + 1, f"query is longer than {MAX_LENGTH:,} characters")
    tokens: list[Token] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        col = i + 1
        if ch.isspace():
            i += 1
        elif ch == "(":
            tokens.append(Token(Kind.LPAREN, ch, col))
            i += 1
        elif ch == ")":
            tokens.append(Token(Kind.RPAREN, ch, col))
            i += 1
        elif ch in OPEN_QUOTES:
            end = i + 1
            while end < n and query[end] not in CLOSE_QUOTES:
                end += 1
            if end >= n:
                raise QueryError(col, 'unterminated quote: a phrase needs a closing "')
            tokens.append(Token(Kind.PHRASE, query[i + 1 : end], col))
            i = end + 1
        elif ch == "-" and i + 1 < n and not query[i + 1].isspace() and query[i + 1] != ")":
            # `-word` is short for AND NOT word; inside a word (e-bike) "-" is punctuation.
            tokens.append(Token(Kind.MINUS, ch, col))
            i += 1
        else:
            end = i
            while end < n and not query[end].isspace() and query[end] not in _BARE_STOP:
                end += 1
            word = query[i:end]
            if word == "-":
                raise QueryError(
                    col, "'-' must be directly followed by what to exclude, e.g. -jobs"
                )
            tokens.append(_bare(word, col, end < n and query[end] == "("))
            i = end
    return tokens


def _bare(word: str, col: int, paren_follows: bool) -> Token:
    if word in ("AND", "OR", "NOT"):
        return Token(Kind[word], word, col)
    near = _NEAR.fullmatch(word)
    if near:
        distance = int(near.group(1))
        if not 1 <= distance <= MAX_NEAR:
            raise QueryError(col, f"NEAR distance must be between 1 and {MAX_NEAR}, not {distance}")
        return Token(Kind.NEAR, word, col, distance=distance, ordered=bool(near.group(2)))
    if _NEAR_LIKE.fullmatch(word):
        if word.startswith("NEAR"):
            raise QueryError(col, "NEAR needs a distance: NEAR/n or NEAR/nf with n from 1 to 50")
        if "/" in word:
            # Lower-case near/3 is almost certainly meant as the operator, not as the
            # phrase "near 3"; say so rather than search for it.
            raise QueryError(col, f"operators are upper case: write {word.upper()}")
    field = _FIELD.fullmatch(word)
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
