"""The features of a post for the shipped linear models: hashed words, word pairs, character
n-grams and a few care patterns (a wait, a dropped call, "every single time", "immer noch").

Training (scripts/train_triage.py) and scoring use this one function, so a model never sees
other features than it was trained on. Hashing is CRC-32 (stable across processes and Python
versions, unlike `hash`), folded into `DIMENSIONS` buckets.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from functools import lru_cache

from bot.triage.lexicon import polarity

DIMENSIONS = 1 << 17
# The longest text scored: a post past this length is a paste or an article; its opening
# carries the care signal and the cost stays bounded (100 kB of text costs no more).
MAX_CHARS = 2000
MAX_TOKENS = 160

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_USER = re.compile(r"(?<![\w@])@[\w.]+")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_REPEAT = re.compile(r"(\w)\1{2,}")
# Words, emoticons, single symbols that carry tone (! ? …) and emoji (one per token).
_TOKEN = re.compile(
    r"[:;=]-?[()\[\]dDpP/\\|*]|<3|[^\W\d_]+(?:['’-][^\W\d_]+)*|0|[!?]+|…|\.{3,}|[\U0001F000-\U0001FAFF\u2600-\u27BF]",
)
_NEGATORS = frozenset({
    "not", "no", "never", "nothing", "nobody", "cannot", "can't", "cant", "don't", "dont",
    "doesn't", "doesnt", "didn't", "didnt", "isn't", "isnt", "wasn't", "wasnt", "won't", "wont",
    "aren't", "arent", "haven't", "havent", "hasn't", "hasnt", "couldn't", "couldnt",
    "wouldn't", "wouldnt", "shouldn't", "nor", "without",
    "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals",
    "nichts", "niemand", "ohne", "weder",
})
_PLACEHOLDERS = frozenset({"url", "user", "0"})
_CLAUSE_END = frozenset({"!", "?", ".", "…", "but", "aber", "doch", "jedoch", "however"})
# Care patterns: complaints that carry no strongly negative word. Each fires one feature.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("P:wait", re.compile(
        r"\b(?:waited|waiting|wait(?:ing)? for|on hold|hold for|gewartet|"
        r"warte(?:n|t)? (?:seit|schon)|"
        r"seit \d+ (?:min|minuten|stunden|std|tagen|wochen))\b|\b\d+\s*(?:min|mins|minutes|minuten|"
        r"hours|hrs|stunden|std|days|tage)\b", re.IGNORECASE)),
    ("P:again", re.compile(
        r"\b(?:every\s*\.?\s*single\s*\.?\s*time|again(?:\s+and\s+again)?|yet again|"
        r"still (?:no|not|waiting|nothing)|schon wieder|immer noch|mal wieder|jedes mal|wieder mal|"
        r"noch immer)\b", re.IGNORECASE)),
    ("P:broken", re.compile(
        r"\b(?:drops?|dropped|cancel(?:l?ed)?|delay(?:ed)?|broken|stuck|refund|lost|missing|"
        r"charged|overcharged|down|outage|ausgefallen|ausfall|verspätung|verspätet|verpasst|"
        r"gestrichen|kaputt|defekt|storniert|erstattung|fällt aus|funktioniert nicht|geht nicht|"
        r"klappt nicht)\b", re.IGNORECASE)),
    ("P:lukewarm", re.compile(
        r"\b(?:lukewarm|cold|stale|soggy|dirty|rude|unfriendly|lauwarm|kalt|dreckig|schmutzig|"
        r"unfreundlich|überfüllt|voll)\b", re.IGNORECASE)),
    ("P:ask", re.compile(
        r"\?|\b(?:why|how come|when will|wann|warum|wieso|weshalb)\b", re.IGNORECASE)),
)


_CUES = frozenset({"P:wait", "P:again", "P:broken", "P:lukewarm"})


def complaint_cues(text: str) -> int:
    """How many different kinds of care complaint the text shows (a wait, a repetition,
    something broken or cancelled, cold food or rude staff): 0..4."""
    norm = normalize(text)
    return sum(1 for name, pattern in _PATTERNS if name in _CUES and pattern.search(norm))


def normalize(text: str) -> str:
    """Casefolded, NFKC, links/handles/numbers reduced to placeholders, long repeats cut."""
    t = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    t = _URL.sub(" URL ", t)
    t = _USER.sub(" @USER ", t)
    t = _NUMBER.sub("0", t)
    t = t.casefold()
    return _REPEAT.sub(r"\1\1", t)


def tokens(normalized: str) -> list[str]:
    return _TOKEN.findall(normalized)[:MAX_TOKENS]


def _bucket(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (DIMENSIONS - 1)


@lru_cache(maxsize=1 << 16)
def _token(tok: str) -> tuple[int, int, tuple[int, ...], float]:
    """What a token contributes wherever it stands (cached: words repeat across posts): its
    word bucket, its negated word bucket, its character n-gram buckets, its prior polarity."""
    grams: set[int] = set()
    alpha = tok.isalpha()
    if len(tok) > 3 and alpha:
        padded = f"<{tok}>"
        for n in (3, 4, 5):
            for i in range(len(padded) - n + 1):
                grams.add(_bucket(f"C:{padded[i:i + n]}"))
    return (_bucket(f"W:{tok}"), _bucket(f"W:N:{tok}"), tuple(grams),
            polarity(tok) if alpha else 0.0)


def features(text: str) -> list[int]:
    """The distinct hashed feature indices of `text` (possibly empty)."""
    return features_and_cues(text)[0]


def features_and_cues(text: str) -> tuple[list[int], int]:
    """`features(text)`, and `complaint_cues(text)` from the same pass."""
    norm = normalize(text)
    toks = tokens(norm)
    if all(t in _PLACEHOLDERS for t in toks):
        return [], 0  # nothing but links, handles and numbers: nothing to judge
    out: set[int] = set()
    named: set[str] = set()
    negated = 0
    prev = "<s>"
    pos = neg = 0.0
    for tok in toks:
        if tok in _CLAUSE_END or tok.startswith(("!", "?")):
            negated = 0
        word, negword, grams, prior = _token(tok)
        out.add(negword if negated else word)
        out.update(grams)
        named.add(f"B:{prev} {tok}")
        if prior:
            if negated:
                prior = -prior
            if prior > 0:
                pos += prior
            else:
                neg -= prior
            named.add(f"L:{'+' if prior > 0 else '-'}{'2' if abs(prior) >= 0.5 else '1'}")
        if tok in _NEGATORS:
            negated = 3
        elif negated:
            negated -= 1
        prev = tok
    if toks:
        named.add(f"B:{prev} </s>")
    # The lexicon's balance over the text, in coarse steps.
    balance = pos - neg
    step = 0 if abs(balance) < 0.25 else (1 if abs(balance) < 1 else 2)
    named.add(f"L:balance{'+' if balance > 0 else '-'}{step}")
    if neg >= 1:
        named.add("L:neg-many")
    if pos >= 1:
        named.add("L:pos-many")
    cues = 0
    for name, pattern in _PATTERNS:
        if pattern.search(norm):
            named.add(name)
            cues += name in _CUES
    if "!" in norm:
        named.add("P:exclaim")
    if text.isupper() and len(text) > 8:
        named.add("P:shout")
    out.update(_bucket(f) for f in named)
    return sorted(out), cues
