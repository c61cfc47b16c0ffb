"""Text normalisation shared by the query parser, the reference evaluator and the engine.

Every rule about characters lives here, so the reference evaluator and the compiled engine
cannot disagree about what a word is or how it folds:

- `normalise`: NFKC, then case folding (each character case-folded and NFKC-normalised again,
  because case folding can produce decomposed sequences such as "i̇").
- `is_word_char`: letters, digits, `_` and combining marks (marks belong to the letter they
  follow; scripts such as Devanagari would otherwise be cut into pieces).
- two foldings of a word, applied after `normalise`:
  `fold_accents` strips Latin diacritics (ä→a, é→e, ø→o, æ→ae; ß already became "ss" in
  case folding) and `fold_german` writes ä/ö/ü out as ae/oe/ue and otherwise strips as above.

Folding never turns a word character into a separator or the reverse, so both folded forms of
a text have the same words in the same places; only their spelling differs.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

# Latin letters that carry a diacritic but have no Unicode decomposition; analysts expect
# "Søren" to match `soren` and "Łódź" to match `lodz`.
_UNDECOMPOSABLE = {"ø": "o", "ł": "l", "đ": "d", "ı": "i", "æ": "ae", "œ": "oe"}
GERMAN = {"ä": "ae", "ö": "oe", "ü": "ue"}
UMLAUTS = "äöü"

# Blocks of combining diacritics used on Latin, Greek and Cyrillic letters. Marks of other
# scripts (Devanagari vowel signs, Arabic harakat, ...) change the letter and are kept.
_DIACRITIC_BLOCKS = (
    (0x0300, 0x036F),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE20, 0xFE2F),
)


def _is_diacritic(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _DIACRITIC_BLOCKS)


def is_word_char(ch: str) -> bool:
    """True for a character that belongs to a word: letter, digit, `_` or combining mark."""
    if ch.isalnum() or ch == "_":
        return True
    return unicodedata.category(ch).startswith("M")


def _strip_accents(ch: str) -> str:
    if ch in _UNDECOMPOSABLE:
        return _UNDECOMPOSABLE[ch]
    if _is_diacritic(ch):
        return ""
    decomposed = unicodedata.normalize("NFD", ch)
    if len(decomposed) == 1 or not any(_is_diacritic(c) for c in decomposed):
        return ch
    base = "".join(c for c in decomposed if not _is_diacritic(c))
    return unicodedata.normalize("NFC", base)


def normalise_char(ch: str) -> str:
    """Case folding of one character of NFKC text, NFKC-normalised again."""
    return unicodedata.normalize("NFKC", ch.casefold())


def fold_char_accents(ch: str) -> str:
    """Accent folding of one normalised character; non-word characters come back unchanged."""
    if not is_word_char(ch):
        return ch
    return "".join(c for c in _strip_accents(ch) if is_word_char(c))


def fold_char_german(ch: str) -> str:
    """German transliteration of one normalised character (ä→ae, ö→oe, ü→ue, else accents)."""
    return GERMAN.get(ch) or fold_char_accents(ch)


class _CharTable(dict[int, str]):
    """A `str.translate` table that computes and remembers each code point on first use.

    Texts draw on a few hundred distinct characters, so caching per code point keeps
    translation in C after warm-up without precomputing all of Unicode.
    """

    def __init__(self, fn: Callable[[str], str]) -> None:
        super().__init__()
        self._fn = fn

    def __missing__(self, cp: int) -> str:
        value = self._fn(chr(cp))
        self[cp] = value
        return value


NORM_TABLE = _CharTable(normalise_char)
ACCENT_TABLE = _CharTable(fold_char_accents)
GERMAN_TABLE = _CharTable(fold_char_german)


def normalise(text: str) -> str:
    """NFKC + case folding, character by character after a first NFKC of the whole text, and
    NFKC again where case folding left a sequence that composes ("ß\u0301" folds to "ss" and a
    combining acute, which is "sś"): so that normalising twice changes nothing, and a query
    written back by `describe` parses to the same tree. Both foldings strip such marks, so
    the engine, which skips this last step, matches the same words."""
    if text.isascii():
        return text.lower()
    folded = unicodedata.normalize("NFKC", text).translate(NORM_TABLE)
    if unicodedata.is_normalized("NFKC", folded):
        return folded
    return unicodedata.normalize("NFKC", folded)


def fold_accents(normalised: str) -> str:
    """Accent folding of a `normalise`d string (word characters only are changed)."""
    return normalised.translate(ACCENT_TABLE)


def fold_german(normalised: str) -> str:
    """German transliteration of a `normalise`d string (word characters only are changed)."""
    return normalised.translate(GERMAN_TABLE)
