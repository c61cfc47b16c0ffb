"""Language, sentiment, priority and the dedupe keys."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.domain import Priority, Sentiment
from bot.enrich import (
    LanguageDetector,
    SentimentScore,
    canonical_url,
    priority,
    text_hash,
)
from bot.pipeline import Pipeline
from bot.settings import load_settings
from bot.store import Store
from testkit.factories import post

FRENCH = [
    "Le colis n'est toujours pas arrivé, c'est inadmissible",
    "Merci beaucoup pour votre aide, c'est parfait !",
    "Quelqu'un sait pourquoi l'appli ne marche plus depuis ce matin ?",
]


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(scope="module")
def sentiment() -> Callable[[str, str | None], Any]:
    """The default sentiment the pipeline's triage uses (bot.triage.sentiment)."""
    from bot.triage import sentiment as shipped

    return shipped


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Mein Paket ist schon wieder nicht angekommen, was ist da los?", "de"),
        ("My parcel still has not arrived, what is going on?", "en"),
        # Not configured (the default is en,de): unknown, never forced into English or German.
        ("Le colis n'est toujours pas arrivé, c'est inadmissible", None),
        ("Мой заказ до сих пор не пришёл", None),
        ("ok", None),
        ("🚀🚀🚀", None),
    ],
)
def test_language(detector: LanguageDetector, text: str, lang: str | None) -> None:
    assert detector.languages == ("en", "de")
    assert detector.detect(text) == lang


def test_only_the_configured_languages_are_detected() -> None:
    with_french = LanguageDetector(languages=["en", "de", "fr"])
    assert [with_french.detect(text) for text in FRENCH] == ["fr", "fr", "fr"]
    assert with_french.detect("My parcel still has not arrived, what is going on?") == "en"
    german_only = LanguageDetector(languages=["de"])
    assert german_only.detect("Mein Paket ist schon wieder nicht angekommen") == "de"
    assert german_only.detect("My parcel still has not arrived, what is going on?") is None
    assert german_only.detect(FRENCH[0]) is None


def test_a_french_post_is_unknown_when_the_languages_are_en_and_de(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sqlite_store: Store
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ECHTZEIT_LANGUAGES", "en,de")
    settings = load_settings()
    detector = LanguageDetector(languages=settings.languages)
    assert [detector.detect(text) for text in FRENCH] == [None, None, None]
    # Through the pipeline: stored without a language (the card shows "?"), and lang:en or
    # lang:de does not match it.
    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    sqlite_store.add_brand(name="Acme EN/DE", query="acme lang:(en OR de)", actor="t")
    pipeline = Pipeline(sqlite_store, language=detector)
    report = pipeline.ingest([post("Acme : le colis n'est toujours pas arrivé, c'est "
                                   "inadmissible", lang=None)])
    assert report.stored == 1
    view = sqlite_store.view(report.mention_ids[0])
    assert (view.brand.name, view.mention.language) == ("Acme", None)


def test_the_networks_language_wins(sqlite_store: Store) -> None:
    detector = LanguageDetector(languages=["en", "de"])
    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    pipeline = Pipeline(sqlite_store, language=detector)
    report = pipeline.ingest([
        # Stated by the network: kept, configured or not, and nothing is detected.
        post("Acme, le colis n'est toujours pas arrivé", lang="fr"),
        post("Acme, my parcel has not arrived", lang="de-AT"),
    ])
    langs = [sqlite_store.view(i).mention.language for i in report.mention_ids]
    assert langs == ["fr", "de"]
    assert not detector.loaded


def test_the_detector_is_built_on_the_first_detect_only(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: Store
) -> None:
    import lingua

    builds: list[tuple[object, ...]] = []
    real = lingua.LanguageDetectorBuilder.from_iso_codes_639_1

    def counting(*codes: object) -> lingua.LanguageDetectorBuilder:
        builds.append(codes)
        return real(*codes)

    monkeypatch.setattr(lingua.LanguageDetectorBuilder, "from_iso_codes_639_1", counting)
    detector = LanguageDetector(languages=["en", "de"])
    Pipeline(sqlite_store, language=detector)
    assert not detector.loaded
    assert builds == []
    assert detector.detect("Mein Paket ist schon wieder nicht angekommen") == "de"
    assert detector.loaded
    # The precise detector knows exactly the configured languages.
    assert sorted(str(c) for c in builds[-1]) == sorted(
        [str(lingua.IsoCode639_1.EN), str(lingua.IsoCode639_1.DE)])
    count = len(builds)
    detector.detect("My parcel still has not arrived")
    assert len(builds) == count


def test_an_unknown_language_code_is_refused() -> None:
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(languages=["en", "xx"])


@pytest.mark.parametrize(
    ("text", "lang", "label"),
    [
        ("This is the worst service ever, I am furious", "en", Sentiment.NEGATIVE),
        ("Love the new app, thank you so much!", "en", Sentiment.POSITIVE),
        ("The store opens at 9", "en", Sentiment.NEUTRAL),
        ("Das ist ein schrecklicher Service, ich bin sehr enttäuscht", "de", Sentiment.NEGATIVE),
        # German praise: bot.triage's German model rarely says positive (docs/triage.md);
        # tests/bot/test_triage.py checks that praise is never negative.
        ("Ich finde das nicht gut", "de", Sentiment.NEGATIVE),
    ],
)
def test_sentiment_in_english_and_german(
    sentiment: Callable[[str, str | None], Any], text: str, lang: str, label: Sentiment
) -> None:
    score = sentiment(text, lang)
    assert Sentiment(score.label) is label
    assert -1 <= score.score <= 1


def test_german_sentiment_scores_as_textblob_de_does() -> None:
    from textblob_de import PatternTokenizer
    from textblob_de.sentiments import PatternAnalyzer

    from bot.sentiment_de import GermanSentiment

    sample = Path(__file__).parents[2] / "integrations" / "networks" / "replay_data"
    texts = [json.loads(line)["text"] for line in
             (sample / "sample.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["Das ist ein schrecklicher Service, ich bin sehr enttäuscht",
              "Ich finde das nicht gut", "Heute gibt's viel zu tun!", "a/b gut", "", " ", ".",
              "Die Straße ist großartig. Nicht schlecht!", "Z.B. ein sehr freundlicher Barista",
              "KEIN guter Kaffee :("]
    ours, theirs = GermanSentiment(), PatternAnalyzer(tokenizer=PatternTokenizer())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        expected = [tuple(theirs.analyze(text)) for text in texts]
    assert [ours.analyze(text) for text in texts] == expected


def test_german_sentiment_needs_no_nltk() -> None:
    code = ("import sys; from bot.triage import sentiment; "
            "s = sentiment('Ich finde das nicht gut', 'de'); "
            "print(s.label, sorted(m for m in ('nltk', 'numpy', 'textblob') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).parents[2])
    assert done.stdout.split("\n")[0] == "negative []"


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
