"""Language, sentiment, priority and the dedupe keys."""

from __future__ import annotations

import pytest

from bot.domain import Priority, Sentiment
from bot.enrich import (
    LanguageDetector,
    SentimentAnalyzer,
    SentimentScore,
    canonical_url,
    priority,
    text_hash,
)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(scope="module")
def sentiment() -> SentimentAnalyzer:
    return SentimentAnalyzer()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Mein Paket ist schon wieder nicht angekommen, was ist da los?", "de"),
        ("My parcel still has not arrived, what is going on?", "en"),
        ("Le colis n'est toujours pas arrivé, c'est inadmissible", "fr"),
        ("ok", None),
        ("🚀🚀🚀", None),
    ],
)
def test_language(detector: LanguageDetector, text: str, lang: str | None) -> None:
    assert detector.detect(text) == lang


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("This is the worst service ever, I am furious", "en", Sentiment.NEGATIVE),
        ("Love the new app, thank you so much!", "en", Sentiment.POSITIVE),
        ("The store opens at 9", "en", Sentiment.NEUTRAL),
        ("Das ist ein schrecklicher Service, ich bin sehr enttäuscht", "de", Sentiment.NEGATIVE),
        ("Super, danke, toller Service!", "de", Sentiment.POSITIVE),
        ("Ich finde das nicht gut", "de", Sentiment.NEGATIVE),
    ],
)
def test_sentiment_in_english_and_german(
    sentiment: SentimentAnalyzer, text: str, lang: str, label: Sentiment
) -> None:
    score = sentiment.score(text, lang)
    assert score.label is label
    assert -1 <= score.score <= 1


def test_priority_from_reach_and_negativity() -> None:
    neg = SentimentScore(Sentiment.NEGATIVE, -0.7)
    pos = SentimentScore(Sentiment.POSITIVE, 0.7)
    neutral = SentimentScore(Sentiment.NEUTRAL, 0.0)
    assert priority(followers=50_000, sentiment=neg, high_reach=10_000) is Priority.URGENT
    assert priority(followers=10, sentiment=neg, high_reach=10_000) is Priority.HIGH
    assert priority(followers=50_000, sentiment=neutral, high_reach=10_000) is Priority.HIGH
    assert priority(followers=10, sentiment=pos, high_reach=10_000) is Priority.LOW
    assert priority(followers=None, sentiment=neutral, high_reach=10_000) is Priority.NORMAL


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.example.com/a/?utm_source=x&b=1", "http://example.com/a?b=1"),
        ("https://twitter.com/acme/status/1?s=20", "https://x.com/acme/status/1"),
        ("https://mobile.x.com/acme/status/1#frag", "https://x.com/acme/status/1/"),
    ],
)
def test_canonical_urls_collide(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b)


def test_canonical_urls_keep_what_matters() -> None:
    assert canonical_url("https://x.com/a/status/1") != canonical_url("https://x.com/a/status/2")
    assert canonical_url("https://e.com/?id=1") != canonical_url("https://e.com/?id=2")


def test_reposts_share_a_text_hash() -> None:
    original = "Acme app is down again!! https://t.co/abc"
    assert text_hash(original) == text_hash("RT @someone: acme app is   down again!!")
    assert text_hash(original) != text_hash("Acme app is up again")
