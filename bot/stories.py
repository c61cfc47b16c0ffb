"""What makes posts one story: the links they share, the posts they quote or answer, and texts
that are nearly the same (bot.store's write_mentions joins them, docs/stories.md).

Everything here is pure and local: a link is unwrapped only where the wrapper carries its target
in the URL itself (l.facebook.com?u=, Reddit's out links, youtu.be), never by asking the network.
Near-duplicates: Jaccard similarity of the texts' word pairs (links, handles and tags left out)
at least `NEAR_DUPLICATE_JACCARD`. Candidates are found by MinHash locality-sensitive hashing
(Broder 1997; bands as in Leskovec, Rajaraman, Ullman, "Mining of Massive Datasets" ch. 3):
BANDS bands of ROWS MinHash values each, a band being a story key; two texts of similarity s
share a band with probability 1 - (1 - s^ROWS)^BANDS (0.997 at s = 0.8, 0.86 at 0.6, 0.06 at
0.2, 0.008 at 0.1), and the candidates' texts are then compared exactly. (SimHash over
character shingles was tried first: on the bundled sample's short posts different pairs came
as close as 12 bits and light edits as far as 22, no threshold between.)
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from urllib.parse import parse_qs, urlsplit

from bot.enrich import canonical_url

# Tested on pairs of near-duplicate and different posts (tests/bot/test_stories.py).
NEAR_DUPLICATE_JACCARD = 0.5
BANDS, ROWS = 8, 3
# A text shorter than this says too little to call it a duplicate.
MIN_TEXT_CHARS, MIN_WORDS = 30, 6
_DIGEST = 4 * BANDS * ROWS  # bytes
_WORDS = struct.Struct(f">{BANDS * ROWS}I")

_LINK = re.compile(r"https?://[^\s<>\"'\]\)]+", re.IGNORECASE)
_TRAILING = ".,;:!?…»"
_NOISE = re.compile(r"https?://\S+|[@#][\w.@-]+|^(rt\s+)+", re.IGNORECASE)
_NON_WORD = re.compile(r"[^\w]+")

# Wrappers that carry their target in a query parameter (host -> parameter).
_WRAPPER_PARAM = {
    "l.facebook.com": "u", "lm.facebook.com": "u", "l.messenger.com": "u",
    "l.instagram.com": "u", "out.reddit.com": "url", "www.google.com": "q", "google.com": "q",
    "href.li": "", "t.umblr.com": "z", "away.vk.com": "to", "slack-redir.net": "url",
    "www.youtube.com": "q", "youtube.com": "q",
}


def unwrap(url: str) -> str:
    """The target of a known redirect wrapper whose URL holds the target, else `url`.

    t.co and other opaque shorteners keep their form: only a network call would tell where they
    lead, and the pipeline makes none (X gives expanded URLs in its entities anyway)."""
    for _ in range(3):  # a wrapped wrapper
        try:
            parts = urlsplit(url)
        except ValueError:
            return url
        host = (parts.hostname or "").lower()
        if host == "youtu.be" and parts.path.strip("/"):
            return f"https://youtube.com/watch?v={parts.path.strip('/').split('/')[0]}"
        param = _WRAPPER_PARAM.get(host)
        if param is None or (host.endswith("youtube.com") and parts.path != "/redirect") or (
                host.endswith("google.com") and parts.path != "/url"):
            return url
        if param == "":  # href.li/?https://target
            target = parts.query
        else:
            values = parse_qs(parts.query).get(param)
            target = values[0] if values else ""
        if not target.lower().startswith(("http://", "https://")):
            return url
        url = target
    return url


def link_targets(text: str, *, own_url: str = "") -> list[str]:
    """The canonical targets of the links in a post's text (wrappers unwrapped, tracking
    parameters dropped), without the post's own URL."""
    own = canonical_url(own_url) if own_url else ""
    out: list[str] = []
    for match in _LINK.finditer(text):
        target = canonical_url(unwrap(match.group(0).rstrip(_TRAILING)))
        if target != own and target not in out:
            out.append(target)
    return out


def shingles(text: str) -> frozenset[str]:
    """The word pairs of the normalised text (links, @handles, #tags and "RT" dropped); empty
    when the text is too short to compare."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _NOISE.sub(" ", t)
    words = _NON_WORD.sub(" ", t).split()
    if sum(len(w) for w in words) < MIN_TEXT_CHARS or len(words) < MIN_WORDS:
        return frozenset()
    return frozenset(f"{a} {b}" for a, b in pairwise(words))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def near_duplicates(a: str, b: str) -> bool:
    """Whether two texts are near-duplicates: Jaccard similarity of their word pairs at least
    NEAR_DUPLICATE_JACCARD."""
    return jaccard(shingles(a), shingles(b)) >= NEAR_DUPLICATE_JACCARD


def minhash_bands(shingled: frozenset[str]) -> list[str]:
    """The story keys a text is looked up by: its MinHash signature (BANDS x ROWS values) in
    BANDS bands ("m<band>:<hex>")."""
    if not shingled:
        return []
    # BANDS x ROWS independent 32-bit hash functions: the 4-byte words of one SHAKE-128 output
    # of the shingle (uniform, any length; one C call per shingle), minimum per function.
    rows = [_WORDS.unpack(hashlib.shake_128(b"echtzeit:" + s.encode("utf-8")).digest(_DIGEST))
            for s in shingled]
    signature = [min(column) for column in zip(*rows, strict=True)]
    return [f"m{i}:" + hashlib.blake2b(repr(signature[i * ROWS:(i + 1) * ROWS]).encode(),
                                       digest_size=8).hexdigest()
            for i in range(BANDS)]


@dataclass(frozen=True, slots=True)
class StoryHints:
    """What the pipeline finds in one post for clustering (bot.store.write_mentions)."""

    links: tuple[str, ...] = ()  # canonical link targets: keys "u:<url>"
    bands: tuple[str, ...] = ()  # MinHash bands of the text
    refs: tuple[str, ...] = ()  # external ids on the same network it answers, quotes, reposts

    def keys(self) -> list[str]:
        return [f"u:{u}"[:400] for u in self.links] + list(self.bands)


def hints(text: str, *, own_url: str, refs: Iterable[str | None]) -> StoryHints:
    return StoryHints(links=tuple(link_targets(text, own_url=own_url)),
                      bands=tuple(minhash_bands(shingles(text))),
                      refs=tuple(dict.fromkeys(r for r in refs if r)))
