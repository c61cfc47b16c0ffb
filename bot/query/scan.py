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

import codecs
import re
import unicodedata
from functools import lru_cache

from .fold import UMLAUTS, fold_char_accents, is_word_char, normalise_char

# ASCII byte → scan byte (A-Z lowered, letters, digits, _, # and @ kept, the rest a space);
# UTF-8 bytes of non-ASCII characters (>= 0x80) pass untouched.
_BYTES = bytes(
    b if b >= 0x80 or chr(b) in "#@_" or chr(b).isalnum() else 0x20
    for b in (c + 0x20 if 0x41 <= c <= 0x5A else c for c in range(256))
)
_ASCII = bytes(range(0x80))


# non-ASCII character → its scan form (the character itself when it stays as it is)
_char_cache: dict[str, str] = {}
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


def _form(ch: str) -> str:
    try:
        return _char_cache[ch]
    except KeyError:
        form = _scan_char(ch)
        if len(_char_cache) < _CHAR_CACHE_MAX:
            _char_cache[ch] = form
        return form


@lru_cache(maxsize=512)
def _any_of(chars: tuple[bytes, ...]) -> re.Pattern[bytes]:
    return re.compile(b"|".join(map(re.escape, chars)))


# In a batch, ä/ö/ü become these control bytes (otherwise spaces, like every control
# character) until the two foldings are written out by bytes.translate and single-byte
# replaces: far quicker than replacing their two-byte UTF-8, whose lead byte is so common.
_MARKS = {"ä".encode(): b"\x01", "ö".encode(): b"\x02", "ü".encode(): b"\x03"}
_MARKS_GONE = {b"\x01": b" ", b"\x02": b" ", b"\x03": b" "}


def _fold_non_ascii(nfkc: str, marks: bool = False) -> bytes:
    """The UTF-8 of NFKC text with each non-ASCII character replaced by its scan form (case
    and accent folding, as `fold.normalise` + `fold_accents` do), all in one pass: one
    character's form may be another character that is replaced itself ("ǣ" → "æ", while "æ"
    → "ae"). Working on UTF-8 keeps it in C: deleting the ASCII bytes leaves just the few
    distinct non-ASCII characters, and UTF-8 sequences are never a prefix of one another.
    `marks`: ä/ö/ü as the bytes of `_MARKS`, and those bytes of the text as spaces.

    "surrogatepass": a lone surrogate (from a badly decoded API payload) must not raise.
    """
    data = nfkc.encode("utf-8", "surrogatepass")
    forms: dict[bytes, bytes] = {}
    for ch in set(data.translate(None, _ASCII).decode("utf-8", "surrogatepass")):
        form = _form(ch)
        if form != ch or (marks and ch in UMLAUTS):
            utf8 = form.encode("utf-8", "surrogatepass")
            if marks:
                for umlaut, mark in _MARKS.items():
                    utf8 = utf8.replace(umlaut, mark)
            forms[ch.encode("utf-8", "surrogatepass")] = utf8
    if marks:
        forms.update((m, s) for m, s in _MARKS_GONE.items() if m in data)
    if not forms:
        return data
    if not marks and len(forms) <= 4 and not any(k in v for k in forms for v in forms.values()):
        # A text or two: a replace per character is quickest, and the same as one pass
        # when no character's form holds another replaced character.
        for old, new in forms.items():
            data = data.replace(old, new)
        return data
    # A batch: one pass with a callback per replaced character, measured quicker than a
    # replace of the whole batch per character.
    return _any_of(tuple(sorted(forms))).sub(lambda m: forms[m.group()], data)


def _spaced(s: str) -> str:
    if "#" in s:
        s = s.replace("#", " # ")
    if "@" in s:
        s = s.replace("@", " @ ")
    return s


def _german_pair(s: str) -> tuple[str, str]:
    a = s.replace("ä", "a").replace("ö", "o").replace("ü", "u")
    g = s.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
    return a, g


def prepare(text: str) -> tuple[str, str]:
    """(accent-folded, German-folded) scan strings; the same object twice when they agree."""
    plain = text.isascii()
    if plain:
        data = text.encode()
    else:
        # Whole-text NFKC first: it may compose across characters.
        data = _fold_non_ascii(unicodedata.normalize("NFKC", text))
    s = " " + _spaced(data.translate(_BYTES).decode("utf-8", "surrogatepass")) + " "
    if not plain and ("ä" in s or "ö" in s or "ü" in s):
        return _german_pair(s)
    return s, s


# For a batch: NUL stays (it separates the texts), and in texts with non-ASCII characters the
# marks of ä/ö/ü stay too (`_finish` writes them out as each folding does).
_BYTES_BATCH_ASCII = b"\x00" + _BYTES[1:]
_BYTES_BATCH = b"\x00\x01\x02\x03" + _BYTES[4:]


def prepare_batch(texts: list[str]) -> tuple[bytes, bytes] | None:
    """The scan strings of many texts, as `prepare` makes them, transformed together in a few
    C calls: the UTF-8 of the accent-folded ones joined by NUL, and of the German-folded ones;
    the same object twice when no text has ä/ö/ü (then each text has a single folding).

    Returns None when a text holds a NUL character, which this batch form uses as its
    separator.
    """
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return None
    plain = joined.isascii()
    if plain:
        data = joined.encode()
    else:
        # NFKC text by text: it is quick on a text that is normalised already, and one that
        # is not would cost the whole batch the slow path.
        nfkc = "\x00".join([unicodedata.normalize("NFKC", t) for t in texts])
        data = _fold_non_ascii(nfkc, marks=True)
    return _finish(data.translate(_BYTES_BATCH_ASCII if plain else _BYTES_BATCH), plain)


def _finish(data: bytes, plain: bool, padded: bool = False) -> tuple[bytes, bytes]:
    """The batch's two scan strings from its translated bytes (ä/ö/ü as marks unless `plain`;
    each text padded with a space on both sides already if `padded`)."""
    if b"#" in data:
        data = data.replace(b"#", b" # ")
    if b"@" in data:
        data = data.replace(b"@", b" @ ")
    if not padded:  # each text with a space on both sides, as prepare does
        data = b" " + data.replace(b"\x00", b" \x00 ") + b" "
    if plain or not (b"\x01" in data or b"\x02" in data or b"\x03" in data):
        return data, data
    # Replacing a byte by one byte is a memchr and a copy, quicker than bytes.translate.
    accent = data.replace(b"\x01", b"a").replace(b"\x02", b"o").replace(b"\x03", b"u")
    german = data.replace(b"\x01", b"ae").replace(b"\x02", b"oe").replace(b"\x03", b"ue")
    return accent, german


# -- batches for ASCII keys -------------------------------------------------------------------
#
# When every key is ASCII (all brand words in Latin letters), a scan string need not spell out
# a letter beyond ASCII: any byte that is neither a space nor in a key may stand for it. Then a
# batch is encoded to Latin-1 in one C call, an error handler writing the scan forms of the
# few characters beyond Latin-1 (emoji, typographic quotes, "ł"), and one byte table folds the
# rest: ä/ö/ü to their marks, and every other letter that stays non-ASCII ("ð", Greek,
# Cyrillic, a variation selector) to DEL, which no scan string holds otherwise (it is a
# control character: a space). The handler writes such letters as "ª", a Latin-1 character
# that NFKC text never holds (it is "a" in NFKC), and the table turns "ª" into DEL.

_OTHER = "\xaa"
_ASCII_ERRORS = "echtzeit.query.scan"
_ascii_cache: dict[str, str] = {}


def _ascii_form(ch: str) -> str:
    """The scan form of `ch` in Latin-1: ASCII and ä/ö/ü as they are, other characters as
    `_OTHER`."""
    try:
        return _ascii_cache[ch]
    except KeyError:
        form = "".join(c if c.isascii() or c in UMLAUTS else _OTHER for c in _form(ch))
        if len(_ascii_cache) < _CHAR_CACHE_MAX:
            _ascii_cache[ch] = form
        return form


def _beyond_latin(error: UnicodeError) -> tuple[str, int]:
    """Encoding error handler: the `_ascii_form` of a run of characters beyond Latin-1."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join([_ascii_form(ch) for ch in error.object[error.start : error.end]]), error.end


codecs.register_error(_ASCII_ERRORS, _beyond_latin)


def _latin_tables() -> tuple[bytes, tuple[tuple[bytes, bytes], ...]]:
    """(Latin-1 byte → scan byte: ASCII as `_BYTES` maps it, the text's own control bytes as
    spaces, ä/ö/ü as their marks, `_OTHER` as DEL; and the Latin-1 bytes whose form is
    longer than one byte (ß, æ), with that form)."""
    forms = bytearray(_BYTES_BATCH)  # a form's characters → scan bytes
    forms[ord(_OTHER)] = 0x7F
    marks = {"ä": "\x01", "ö": "\x02", "ü": "\x03"}
    table = bytearray(_BYTES_BATCH_ASCII[:0x80])
    longer: list[tuple[bytes, bytes]] = []
    for b in range(0x80, 0x100):
        form = "".join(marks.get(c, c) for c in _ascii_form(chr(b))).encode("latin-1")
        if len(form) == 1:
            table.extend(form.translate(forms))
        else:
            longer.append((bytes([b]), form.translate(forms)))
            table.append(0x20)  # never used: the byte is replaced before the table
    table[ord(_OTHER)] = 0x7F
    return bytes(table), tuple(longer)


def scan_batch(texts: list[str]) -> tuple[bytes, bytes] | None:
    """Like `prepare_batch`, for keys that are all ASCII and hold no DEL, and quicker: each
    text's scan strings are `prepare`'s with every character beyond ASCII written as DEL
    (they are ASCII).

    Returns None when a text holds a NUL character, which the batch uses as its separator.
    """
    # NFKC text by text, as prepare_batch does, and each text encoded on its own: a text of
    # ASCII or Latin-1 is copied as it is, where joining first would give every text the
    # four bytes a character of one with emoji.
    normalize, errors = unicodedata.normalize, _ASCII_ERRORS
    parts = [(t if t.isascii() else normalize("NFKC", t)).encode("latin-1", errors) for t in texts]
    if b"\x00" in b"".join(parts):
        return None
    # Each text with a space on both sides, as prepare does; the table keeps " " and NUL.
    data = b" " + b" \x00 ".join(parts) + b" "
    for byte, form in _LATIN_LONGER:  # ß, æ: written out (in ASCII) first
        if byte in data:
            data = data.replace(byte, form)
    return _finish(data.translate(_LATIN_TABLE), plain=False, padded=True)


_LATIN_TABLE, _LATIN_LONGER = _latin_tables()
