"""Turns a post's text into the strings the engine's automaton scans.

A scan string holds the text's words in folded form, each with a space on both sides, so
that an automaton key " acme " finds exactly the whole word. Hashtag and handle signs stay
visible: "#" becomes " # ", "@" becomes " @ ", and every other non-word character a space. A
real hashtag therefore reads "  # acme " (two spaces before the sign, because the character
before "#" was not part of a word) while "c#acme" reads "c # acme"; the keys "  # acme " and
"  @ acme " tell them apart without a regular expression.

The same rules as `fold.py` (which the reference evaluator uses) are applied, but organised
for speed: ASCII text, the common case, is lowered and mapped by one `bytes.translate`; only
runs of non-ASCII characters go through Python, with a cache per distinct run.
"""

from __future__ import annotations

import re
import unicodedata

from .fold import UMLAUTS, fold_char_accents, is_word_char, normalise

# ASCII byte → scan byte; UTF-8 bytes of non-ASCII characters (>= 0x80) pass untouched.
_BYTES = bytes(
    b if b >= 0x80 or chr(b) in "#@_" or chr(b).isalnum() else 0x20
    for b in (c + 0x20 if 0x41 <= c <= 0x5A else c for c in range(256))
)
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_run_cache: dict[str, str] = {}
_RUN_CACHE_MAX = 200_000


def _scan_char(ch: str) -> str:
    out = []
    for c in normalise(ch):
        if is_word_char(c):
            # ä/ö/ü stay until the end: they are the only letters whose two foldings differ.
            out.append(c if c in UMLAUTS else fold_char_accents(c))
        elif c in "#@":
            out.append(c)
        else:
            out.append(" ")
    return "".join(out)


def _fold_run(m: re.Match[str]) -> str:
    run = m.group()
    folded = _run_cache.get(run)
    if folded is None:
        folded = "".join(_scan_char(ch) for ch in run)
        if len(_run_cache) < _RUN_CACHE_MAX:
            _run_cache[run] = folded
    return folded


def prepare(text: str) -> tuple[str, str]:
    """(accent-folded, German-folded) scan strings; the same object twice when they agree."""
    if not text.isascii():
        # Whole-text NFKC first (it may compose across characters), then per-character
        # case folding and accent folding, exactly as `fold.normalise` + `fold_accents`.
        text = _NON_ASCII.sub(_fold_run, unicodedata.normalize("NFKC", text))
    s = text.encode().translate(_BYTES).decode()
    if "#" in s:
        s = s.replace("#", " # ")
    if "@" in s:
        s = s.replace("@", " @ ")
    s = " " + s + " "
    if "ä" in s or "ö" in s or "ü" in s:
        a = s.replace("ä", "a").replace("ö", "o").replace("ü", "u")
        g = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        return a, g
    return s, s
