"""How long a status is, as Mastodon counts it against `configuration.statuses.max_characters`,
so that the responder refuses exactly what the instance would refuse with 422 "Validation
failed: Text character limit of 500 exceeded".

Mastodon's rule (mastodon/mastodon app/validators/status_length_validator.rb, with
app/lib/extractor.rb, app/models/account.rb MENTION_RE and config/initializers/twitter_regex.rb):

- it counts grapheme clusters (`each_grapheme_cluster.size`), not code points: "👍🏽" or "é"
  written as e + combining accent is one character;
- every link that starts with a scheme counts as `characters_reserved_per_url` (23), however
  long or short it is. Where a link ends follows Mastodon's URL rules: it cannot end in
  ``. , ; : ! ? * ' " = $ % & | @ ~ [ ] ( < >``, so "see https://acme.com/status." is the link
  plus a "." that counts; a ")" belongs to the link only when it closes a "(" inside it;
- a mention `@user@domain` counts as `@user`: the domain is free;
- where a link and a mention overlap, the one that starts first is the one counted.

Counting code points (what this module replaced) refused replies Mastodon takes (emoji with
skin tones, combining accents) and let through replies Mastodon refuses (a link followed by
punctuation was counted as 23 with its "." or ")").

Not modelled: twitter-text gives the 23-character rate only to hosts on its list of top-level
domains; a link to `https://intranet/` or `https://acme.internal/` is counted in full by
Mastodon and as 23 here. The instance then refuses with its 422, which the responder reports.
"""

from __future__ import annotations

import regex

SCHEMES = ("https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini")

# A link starts with a scheme that does not follow a letter, digit, @, $ or # (Mastodon's
# valid_url_preceding_chars), then a host with at least one dot and an optional port.
_LINK_START = regex.compile(
    r"(?<![A-Za-z0-9@＠$#＃])(?:" + "|".join(SCHEMES) + r")://[\w-]+(?:\.[\w-]+)+(?::\d+)?",
    regex.IGNORECASE)
# A "(...)" inside a path, with one nested level (valid_url_balanced_parens).
_PATH_CHAR = r"[^\p{White_Space}<>()?]"
_PARENS = regex.compile(
    rf"\((?:{_PATH_CHAR}+|{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*)\)")
# Path characters that cannot end a link (valid_url_path_ending_chars excludes them).
_NOT_LAST = frozenset("!*\"'「」<>;:=,.$%[]~&|@")
_QUERY = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!?*'();:&=+$/%#[]-_.,~|@^")
_QUERY_LAST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_&=#/-")
_UCHARS = ((0xA0, 0xD7FF), (0xE000, 0xF8FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFEF))
_SPACE = regex.compile(r"\p{White_Space}")
# A mention: Account::MENTION_RE (a user name of ASCII letters, digits, "_", inner "." and
# "-", and an optional domain), not right after "=", "/" or a word character.
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?", regex.IGNORECASE)
# ...and not followed by "@", "://" or a Latin letter with an accent (twitter-text's
# end_mention_match), which makes the whole match plain text.
_MENTION_STOP = regex.compile(
    r"[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0300-\u036f\u1e00-\u1eff]"
    r"|://")


def _non_ascii(ch: str) -> bool:
    """twitter-text's UCHARS: characters from U+00A0 on that may sit anywhere in a query
    (not surrogates, specials or noncharacters)."""
    code = ord(ch)
    if code < 0x10000:
        return any(low <= code <= high for low, high in _UCHARS)
    return (code & 0xFFFF) <= 0xFFFD and not 0xE0000 <= code <= 0xE0FFF


def _path_end(text: str, start: int) -> int:
    """Where a path that begins with the "/" at `start` ends: the longest run of path
    characters (balanced parentheses included) that ends in a character allowed last."""
    end = start + 1  # a bare "/" is a path
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == "(":
            group = _PARENS.match(text, i)
            if group is None:
                break
            i = end = group.end()
            continue
        if ch in "<>()?" or _SPACE.match(ch):
            break
        i += 1
        if ch not in _NOT_LAST:
            end = i
    return end


def _query_end(text: str, start: int) -> int:
    """Where a query that begins with the "?" at `start` ends (`start` when there is none)."""
    end = start
    i = start + 1
    while i < len(text):
        ch = text[i]
        lower = ch.lower()
        if not (lower in _QUERY or _non_ascii(ch)):
            break
        i += 1
        if lower in _QUERY_LAST or _non_ascii(ch):
            end = i
    return end


def links(text: str) -> list[tuple[int, int]]:
    """(start, end) of every link Mastodon counts as `characters_reserved_per_url`."""
    found = []
    for match in _LINK_START.finditer(text):
        end = match.end()
        if text.startswith("/", end):
            end = _path_end(text, end)
        if text.startswith("?", end):  # right after the host, or after a whole path
            end = _query_end(text, end)
        found.append((match.start(), end))
    return found


def mentions(text: str) -> list[tuple[int, int, str]]:
    """(start, end, user name) of every mention Mastodon recognises."""
    found = []
    for match in _MENTION.finditer(text):
        if _MENTION_STOP.match(text, match.end()):
            continue
        found.append((match.start(), match.end(), match.group(1)))
    return found


def mastodon_length(text: str, url_weight: int = 23) -> int:
    """Characters as Mastodon counts them (see the module's docstring)."""
    if not text.strip():
        return 0
    entities = sorted([(s, e, "x" * url_weight) for s, e in links(text)]
                      + [(s, e, "@" + user) for s, e, user in mentions(text)])
    counted: list[str] = []
    at = 0
    for start, end, stands_for in entities:
        if start < at:
            continue  # overlaps an entity that starts earlier
        counted += [text[at:start], stands_for]
        at = end
    counted.append(text[at:])
    return len(regex.findall(r"\X", "".join(counted)))
