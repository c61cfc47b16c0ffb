"""What the pipeline adds to a matched post: language, sentiment, priority, dedupe keys.

Language: lingua (Apache-2.0), limited to the languages brand teams here meet, built lazily on
first use because building it takes about a second. Sentiment: VADER (MIT) for English and for
languages without a model of their own; for German the polarity lexicon of Pattern shipped in
textblob-de (MIT/BSD). Both are published, rule-based lexicon methods: fast and explainable.
"""

from __future__ import annotations

import gc
import hashlib
import re
import threading
import unicodedata
import warnings
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.domain import Priority, Sentiment

LANGUAGES = ("ENGLISH", "GERMAN", "FRENCH", "SPANISH", "ITALIAN", "DUTCH", "PORTUGUESE", "POLISH")

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


class LanguageDetector:
    """Thread-safe, lazily built lingua detector."""

    def __init__(self, min_confidence: float = 0.5) -> None:
        self._detector: Any = None
        self._lock = threading.Lock()
        self.min_confidence = min_confidence

    def _get(self) -> Any:
        if self._detector is None:
            with self._lock:
                if self._detector is None:
                    from lingua import Language, LanguageDetectorBuilder

                    langs = [getattr(Language, name) for name in LANGUAGES]
                    builder = LanguageDetectorBuilder.from_languages(*langs)
                    # Preloading costs about a second once and halves each detection.
                    self._detector = builder.with_preloaded_language_models().build()
        return self._detector

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code, or None when the text is too short or too mixed to tell."""
        if sum(ch.isalpha() for ch in text) < 3:
            return None
        detector = self._get()
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value < self.min_confidence:
            return None
        return str(values[0].language.iso_code_639_1.name.lower())


@dataclass(frozen=True, slots=True)
class SentimentScore:
    label: Sentiment
    score: float  # -1 (very negative) .. +1 (very positive)


class SentimentAnalyzer:
    """English (and fallback) through VADER, German through textblob-de's Pattern lexicon."""

    def __init__(self, *, threshold: float = 0.05) -> None:
        self.threshold = threshold
        self._en: Any = None
        self._de: Any = None
        self._lock = threading.Lock()

    def _vader(self) -> Any:
        if self._en is None:
            with self._lock:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                self._en = SentimentIntensityAnalyzer()
        return self._en

    def _german(self) -> Any:
        if self._de is None:
            with self._lock:
                # The Pattern tokenizer needs no NLTK data download, unlike textblob-de's default.
                from textblob_de import PatternTokenizer
                from textblob_de.sentiments import PatternAnalyzer

                analyzer = PatternAnalyzer(tokenizer=PatternTokenizer())
                # Pattern loads its lexicon on first use and leaves the files to the garbage
                # collector; load it here, where that ResourceWarning is expected.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ResourceWarning)
                    analyzer.analyze("gut")
                    gc.collect()
                self._de = analyzer
        return self._de

    def score(self, text: str, language: str | None) -> SentimentScore:
        if language == "de":
            # Pattern lets a negation reach across punctuation ("liefert nicht. Furchtbar!"
            # scores positive), so score clause by clause and average the clauses that carry
            # any polarity.
            german = self._german()
            scores = [float(german.analyze(part).polarity)
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
