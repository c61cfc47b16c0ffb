"""One word against a wildcard pattern, in time linear in the word's length.

Regular expressions with several `*` backtrack: `ab*c*d*e` against a hostile post holding
one very long "word" takes time polynomial in its length. A glob needs no backtracking:
its `*`-separated pieces have fixed lengths, and matching each middle piece at its earliest
possible place is always right (a later place only leaves less room for the rest).
"""

from __future__ import annotations

import re

LETTER = r"[^\W\d_]"  # what `?` stands for: one letter (not a digit or "_")


class _Piece:
    """A fixed-length run of literal characters and `?`."""

    __slots__ = ("literal", "rx", "size")

    def __init__(self, text: str) -> None:
        self.size = len(text)
        self.literal: str | None = text if "?" not in text else None
        self.rx = re.compile("".join(LETTER if ch == "?" else re.escape(ch) for ch in text))

    def at(self, word: str, i: int) -> bool:
        if self.literal is not None:
            return word.startswith(self.literal, i)
        return self.rx.match(word, i) is not None

    def find(self, word: str, start: int, stop: int) -> int:
        """First position >= start where the piece fits entirely before `stop`, or -1."""
        if self.literal is not None:
            return word.find(self.literal, start, stop)
        m = self.rx.search(word, start, stop)
        return m.start() if m else -1


class WordPattern:
    """A folded word pattern: `*` is any run of word characters, `?` exactly one letter."""

    __slots__ = ("_first", "_last", "_middle", "_star")

    def __init__(self, pattern: str) -> None:
        parts = pattern.split("*")
        self._star = len(parts) > 1
        self._first = _Piece(parts[0])
        self._last = _Piece(parts[-1])
        self._middle = [_Piece(p) for p in parts[1:-1] if p]

    def fullmatch(self, word: str) -> bool:
        first, last = self._first, self._last
        if not self._star:
            return len(word) == first.size and first.at(word, 0)
        end = len(word) - last.size
        if end < first.size or not first.at(word, 0):
            return False
        pos = first.size
        for piece in self._middle:
            found = piece.find(word, pos, end)
            if found < 0:
                return False
            pos = found + piece.size
        return last.at(word, end)
