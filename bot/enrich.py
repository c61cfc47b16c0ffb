"""What the pipeline adds to a matched post: language, sentiment, priority, dedupe keys.

Language: lingua (Apache-2.0), only for the configured languages (`ECHTZEIT_LANGUAGES`), built
lazily on first use because its models take a while to load and tens of MB each. Sentiment,
needs-reply, relevance and priority: bot.triage (`analyze`; the shipped linear models for
English and German, docs/triage.md). The lexicon methods it replaced stay as
`LexiconSentiment` for comparison (bench/triage.py): VADER (MIT) for English and other
languages, for German the polarity lexicon of Pattern shipped in textblob-de (MIT/BSD), applied
as textblob-de does but without NLTK (bot.sentiment_de).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.domain import Priority, Sentiment

if TYPE_CHECKING:
    from bot.sentiment_de import GermanSentiment

# ECHTZEIT_LANGUAGES by default: the languages detection tells apart (ISO 639-1).
DEFAULT_LANGUAGES = ("en", "de")
# Languages a post to a brand often comes in, configured or not. lingua's confidences are
# relative to the languages a detector knows, so a detector of English and German alone calls a
# French post English; a second, small detector (lingua's low-accuracy mode, trigrams only, about
# 2 MB a language against 30-40 MB in high accuracy) knows these too and tells "none of ours".
# A language missing here still mostly lands on one of them, which is just as well "other".
WIDESPREAD_LANGUAGES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "sv", "da", "cs", "ro", "id",
    # Other scripts: their models load only when a configured language shares the script.
    "ru", "uk", "el", "ar", "fa", "he", "hi", "ja", "zh", "ko",
)

# Query parameters that only track the click and never change what a URL points to.
_TRACKING = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|igshid|si|ref_src|ref|s|t)$")
_WS = re.compile(r"\s+")
_RT = re.compile(r"^(rt\s+@[\w.@-]+:?\s*)+", re.IGNORECASE)
_URL = re.compile(r"https?://\S+")
_CLAUSES = re.compile(r"[.,;:!?\n]+")


def canonical_url(url: str) -> str:
    """The form of a URL under which two links to the same post compare equal."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").lower().removeprefix("www.").removeprefix("mobile.")
    if host == "twitter.com":
        host = "x.com"
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
               if not _TRACKING.match(k))
    )
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme,
                       host, path, query, ""))


def text_hash(text: str) -> str:
    """A key under which reposts of one text collide ("RT @x:" prefixes, case, spacing, links)."""
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _RT.sub("", t.strip())
    t = _URL.sub("", t)
    t = _WS.sub(" ", t).strip()
    return hashlib.sha256(t.encode("utf-8")).hexdigest()[:32]


@cache
def supported_languages() -> frozenset[str]:
    """The ISO 639-1 codes lingua can detect (importing lingua loads no model)."""
    from lingua import Language

    return frozenset(lang.iso_code_639_1.name.lower() for lang in Language.all())


def language_codes(codes: Iterable[str]) -> tuple[str, ...]:
    """`codes` lower-cased, without blanks and repeats, in their order; ValueError names what
    lingua does not know (or that there is none)."""
    out = tuple(dict.fromkeys(c.strip().lower() for c in codes if c.strip()))
    if not out:
        raise ValueError("at least one ISO 639-1 language code, e.g. en,de")
    unknown = [c for c in out if c not in supported_languages()]
    if unknown:
        raise ValueError(f"ISO 639-1 codes of languages lingua knows (such as en,de,fr), "
                         f"not {', '.join(unknown)}")
    return out


class LanguageDetector:
    """Thread-safe lingua detection of the configured `languages`, built on the first `detect`.

    A text in none of them, or too short or mixed to tell, gets None: the same "unknown" that a
    card shows as "?" and that no `lang:` query matches; it is never forced into a configured
    language. Two lingua detectors decide together: a precise one (high accuracy) that knows
    only the configured languages, and a small one (low accuracy) that also knows
    WIDESPREAD_LANGUAGES. When the small one is sure of a language that is not configured, the
    answer is None; otherwise the configured language with the best sum of both confidences
    counts if their mean reaches `min_confidence`.
    """

    # The small detector's confidence from which its non-configured choice decides "other".
    OTHER_CONFIDENCE = 0.9

    def __init__(self, languages: Iterable[str] = DEFAULT_LANGUAGES, *,
                 min_confidence: float = 0.5) -> None:
        self.languages = language_codes(languages)
        self.min_confidence = min_confidence
        self._detector: Any = None
        self._others: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether lingua's detectors are built (they are on the first `detect`)."""
        return self._detector is not None

    def _get(self) -> tuple[Any, Any]:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    self._build()
        return self._detector, self._others

    def _build(self) -> None:
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        def builder(names: Iterable[str]) -> Any:
            return LanguageDetectorBuilder.from_iso_codes_639_1(
                *(getattr(IsoCode639_1, name.upper()) for name in names))

        wide = tuple(dict.fromkeys((*self.languages, *WIDESPREAD_LANGUAGES)))
        # Its models load per script, when a text needs them (a few MB each).
        others = builder(wide).with_low_accuracy_mode().build() if wide != self.languages else None
        # Preloading takes about a second once and halves each detection. lingua decompresses
        # a model through buffers about its size and keeps the models it loaded for every
        # detector of the process: one language at a time, with the freed buffers given back,
        # keeps the peak about 30 MB lower than loading all at once.
        for name in self.languages:
            builder([name]).with_preloaded_language_models().build()
            _trim_heap()
        self._others = others
        self._detector = builder(self.languages).with_preloaded_language_models().build()

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of one of the configured languages, or None: another language, or
        too short or too mixed to tell."""
        if sum(ch.isalpha() for ch in text) < 3:
            return None
        precise, others = self._get()
        mine = _confidences(precise, text)
        if not mine:  # no configured language writes this script
            return None
        wide = _confidences(others, text) if others is not None else {}
        if wide:
            top = max(wide, key=wide.__getitem__)
            if top not in mine and wide[top] >= self.OTHER_CONFIDENCE:
                return None
        if others is None:
            wide = mine
        best = max(mine, key=lambda code: mine[code] + wide.get(code, 0.0))
        if (mine[best] + wide.get(best, 0.0)) / 2 < self.min_confidence:
            return None
        return best


def _trim_heap() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim; elsewhere a no-op)."""
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # not glibc; Windows takes no CDLL(None)
        return
    trim(0)


def _confidences(detector: Any, text: str) -> dict[str, float]:
    """lingua's confidence for each language it gives any."""
    return {str(v.language.iso_code_639_1.name.lower()): float(v.value)
            for v in detector.compute_language_confidence_values(text) if v.value > 0}


@dataclass(frozen=True, slots=True)
class SentimentScore:
    label: Sentiment
    score: float  # -1 (very negative) .. +1 (very positive)


class LexiconSentiment:
    """The former default, kept as a baseline: English (and fallback) through VADER, German
    through textblob-de's Pattern lexicon."""

    def __init__(self, *, threshold: float = 0.05) -> None:
        self.threshold = threshold
        self._en: Any = None
        self._de: GermanSentiment | None = None
        self._lock = threading.Lock()

    # Each model is loaded when the first post that needs it is scored.
    def _vader(self) -> Any:
        if self._en is None:
            with self._lock:
                if self._en is None:
                    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                    self._en = SentimentIntensityAnalyzer()
        return self._en

    def _german(self) -> GermanSentiment:
        if self._de is None:
            with self._lock:
                if self._de is None:
                    # textblob-de's lexicon and parser without NLTK (bot.sentiment_de).
                    from bot.sentiment_de import GermanSentiment

                    self._de = GermanSentiment()
        return self._de

    def score(self, text: str, language: str | None) -> SentimentScore:
        if language == "de":
            # Pattern lets a negation reach across punctuation ("liefert nicht. Furchtbar!"
            # scores positive), so score clause by clause and average the clauses that carry
            # any polarity.
            german = self._german()
            scores = [german.analyze(part)[0]
                      for part in _CLAUSES.split(text) if part.strip()]
            polar = [v for v in scores if v]
            value = sum(polar) / len(polar) if polar else 0.0
        else:
            value = float(self._vader().polarity_scores(text)["compound"])
        if value <= -self.threshold:
            label = Sentiment.NEGATIVE
        elif value >= self.threshold:
            label = Sentiment.POSITIVE
        else:
            label = Sentiment.NEUTRAL
        return SentimentScore(label=label, score=max(-1.0, min(1.0, value)))


def priority(*, followers: int | None, sentiment: SentimentScore, high_reach: int) -> Priority:
    """Reach and negativity decide: a negative post by a big account is urgent."""
    big = (followers or 0) >= high_reach
    negative = sentiment.label is Sentiment.NEGATIVE
    if negative and big:
        return Priority.URGENT
    if negative or big:
        return Priority.HIGH
    if sentiment.label is Sentiment.POSITIVE and (followers or 0) < 100:
        return Priority.LOW
    return Priority.NORMAL
