"""Turns a post's text into the strings the engine's automaton scans.

A scan string holds the text's words in folded form, each with a space on both sides, so
that an automaton key " acme " finds exactly the whole word. Hashtag and handle signs stay
visible: "#" becomes " # ", "@" becomes " @ ", and every other non-word character a space. A
real hashtag therefore reads "  # acme " (two spaces before the sign, because the character
before "#" was not part of a word) while "c#acme" reads "c # acme"; the keys "  # acme " and
"  @ acme " tell them apart without a regular expression.

The same rules as `fold.py` (which the reference evaluator uses) are applied, but organised
for speed: ASCII text, the common case, is lowered and mapped by one `bytes.translate`; only
the distinct non-ASCII characters of a text go through Python, each cached once.
"""

from __future__ import annotations

import unicodedata

from .fold import UMLAUTS, fold_char_accents, is_word_char, normalise_char

# ASCII byte → scan byte (A-Z lowered, letters, digits, _, # and @ kept, the rest a space);
# UTF-8 bytes of non-ASCII characters (>= 0x80) pass untouched.
_BYTES = bytes(
    b if b >= 0x80 or chr(b) in "#@_" or chr(b).isalnum() else 0x20
    for b in (c + 0x20 if 0x41 <= c <= 0x5A else c for c in range(256))
)
_ASCII = bytes(range(0x80))
# The same, but NUL stays NUL: it separates the texts of a batch (see prepare_ascii_batch).
_BYTES_KEEP_NUL = b"\x00" + _BYTES[1:]
# non-ASCII character → (its UTF-8, its folded form in UTF-8), or None when it stays as is
_char_cache: dict[str, tuple[bytes, bytes] | None] = {}
_CHAR_CACHE_MAX = 100_000


def _scan_char(ch: str) -> str:
    # Not fold.normalise: its per-character table would grow with every character any post
    # ever contained; _char_cache below is bounded.
    out = []
    for c in normalise_char(ch):
        if is_word_char(c):
            # ä/ö/ü stay until the end: they are the only letters whose two foldings differ.
            out.append(c if c in UMLAUTS else fold_char_accents(c))
        elif c in "#@":
            out.append(c)
        else:
            out.append(" ")
    return "".join(out)


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogatepass")


def _fold_non_ascii(text: str) -> bytes:
    # Whole-text NFKC first (it may compose across characters), then per character case
    # folding and accent folding, exactly as `fold.normalise` + `fold_accents` do. Working
    # on UTF-8 keeps it in C: deleting the ASCII bytes leaves just the few distinct
    # non-ASCII characters to replace (a UTF-8 sequence cannot match mid-character).
    # "surrogatepass": a lone surrogate (from a badly decoded API payload) must not raise.
    data = unicodedata.normalize("NFKC", text).encode("utf-8", "surrogatepass")
    for ch in set(data.translate(None, _ASCII).decode("utf-8", "surrogatepass")):
        try:
            pair = _char_cache[ch]
        except KeyError:
            folded = _scan_char(ch)
            pair = None if folded == ch else (_utf8(ch), _utf8(folded))
            if len(_char_cache) < _CHAR_CACHE_MAX:
                _char_cache[ch] = pair
        if pair is not None:
            data = data.replace(*pair)
    return data


def prepare(text: str) -> tuple[str, str]:
    """(accent-folded, German-folded) scan strings; the same object twice when they agree."""
    plain = text.isascii()
    data = text.encode() if plain else _fold_non_ascii(text)
    s = data.translate(_BYTES).decode("utf-8", "surrogatepass")
    if "#" in s:
        s = s.replace("#", " # ")
    if "@" in s:
        s = s.replace("@", " @ ")
    s = " " + s + " "
    if not plain and ("ä" in s or "ö" in s or "ü" in s):
        a = s.replace("ä", "a").replace("ö", "o").replace("ü", "u")
        g = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        return a, g
    return s, s


def prepare_ascii_batch(texts: list[str]) -> list[str] | None:
    """`prepare(t)[0]` for each of many ASCII texts, transformed together in a few C calls.

    ASCII texts have a single folding, so one scan string each. Returns None when a text
    holds a NUL character, which this batch form uses as its separator.
    """
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return None
    s = joined.encode().translate(_BYTES_KEEP_NUL).decode()
    if "#" in s:
        s = s.replace("#", " # ")
    if "@" in s:
        s = s.replace("@", " @ ")
    # Padding each text with a space on both sides, as prepare does.
    return (" " + s.replace("\x00", " \x00 ") + " ").split("\x00")
