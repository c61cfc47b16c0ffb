"""bot.triage: the shipped sentiment model, needs-reply, relevance and priority, on real text."""

from __future__ import annotations

import dataclasses
import gzip
import json
import time
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import Priority
from bot.triage import Signals, analyze, rank
from bot.triage.brands import brand_terms
from bot.triage.features import DIMENSIONS, features
from bot.triage.model import CLASSES, shipped

ACME = brand_terms("Acme Rockets", '"acme rockets" OR acme OR @acmerockets -jobs')
VOLT = brand_terms("Volt", "volt -strom -batterie -akku", context=("partei", "europa"))


def test_signals_keep_the_agreed_names() -> None:
    names = [f.name for f in dataclasses.fields(Signals)]
    assert names == ["language", "sentiment", "sentiment_score", "needs_reply", "relevance",
                     "priority"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        analyze("hi", lang="en").sentiment = "positive"  # type: ignore[misc]


def test_the_demo_complaints_are_negative_with_raised_priority() -> None:
    hold = analyze("Acme Rockets customer service: 45 min on hold, then the call drops. every. "
                   "single. time.", lang="en", brand=ACME)
    assert hold.sentiment == "negative"
    assert hold.sentiment_score < 0
    assert hold.priority in (Priority.HIGH.value, Priority.URGENT.value)
    assert hold.needs_reply >= 0.5
    assert hold.relevance is not None and hold.relevance >= 0.5
    coffee = analyze("waited 25 min for my order at Acme ... it was lukewarm", lang="en",
                     brand=ACME)
    assert coffee.sentiment == "negative"
    assert coffee.priority == Priority.HIGH.value


@pytest.mark.parametrize(("text", "lang", "label"), [
    ("This is the worst service ever, I am furious", "en", "negative"),
    ("Love the new app, thank you so much!", "en", "positive"),
    ("Das ist ein schrecklicher Service, ich bin sehr enttäuscht", "de", "negative"),
    ("Zug fällt schon wieder aus, 40 Minuten Verspätung. Danke für nichts @DB_Bahn", "de",
     "negative"),
])
def test_clear_cases_in_both_languages(text: str, lang: str, label: str) -> None:
    assert analyze(text, lang=lang).sentiment == label


@pytest.mark.parametrize("text", ["Super, danke, toller Service!",
                                  "Vielen Dank für die schnelle Hilfe, super!"])
def test_german_praise_is_never_a_complaint(text: str) -> None:
    # The German model finds few positives (GermEval's "Danke" is mostly ironic; recall of
    # positive on the held-out split in docs/triage.md), but praise must not raise an alarm.
    s = analyze(text, lang="de")
    assert s.sentiment != "negative" and s.sentiment_score > 0


@pytest.mark.parametrize("text", ["", "   ", "https://example.com/a?b=c", "@acme https://t.co/x",
                                  "12:30 4711"])
def test_nothing_to_judge_is_neutral_with_zero_scores(text: str) -> None:
    s = analyze(text, lang="en")
    assert (s.sentiment, s.sentiment_score) == ("neutral", 0.0)
    assert s.needs_reply <= 0.05
    assert s.relevance is None


def test_bad_input_gets_a_defined_answer() -> None:
    emoji = analyze("😡😡😡", lang="en")
    assert emoji.sentiment in CLASSES and -1 <= emoji.sentiment_score <= 1
    # Another language: scored (with the English model), never an error.
    french = analyze("Le service client est vraiment nul, j'attends depuis une heure",
                     lang="fr", brand=ACME)
    assert french.language == "fr" and french.sentiment in CLASSES
    assert french.relevance is not None and french.relevance < 0.3
    # 100 kB: answered, and in about the time of a short post.
    long = "Acme support never answers. " * 4000
    started = time.perf_counter()
    big = analyze(long, lang="en", brand=ACME)
    assert time.perf_counter() - started < 0.5
    assert big.sentiment == "negative"
    # Control characters, lone surrogates' replacement, NUL: still an answer.
    odd = analyze("acme\x00\x1b[31m\ufffd?", lang=None, brand=ACME)
    assert odd.sentiment in CLASSES
    assert odd.language == "und"


def test_language_is_detected_when_not_given() -> None:
    assert analyze("Der Zug ist schon wieder zu spät, das ist wirklich ärgerlich").language == "de"
    assert analyze("The train is late again and nobody tells us anything").language == "en"


def test_needs_reply_separates_questions_and_complaints_from_news_praise_and_spam() -> None:
    ask = analyze("@acmerockets how do I get a refund for order 1234?", lang="en", brand=ACME)
    complaint = analyze("@acmerockets my package is still missing after 3 weeks, unacceptable",
                        lang="en", brand=ACME)
    news = analyze("Acme Rockets announces new launch site in Texas https://news.example/a",
                   lang="en", brand=ACME)
    praise = analyze("Great evening, Acme rockets light show was lovely", lang="en", brand=ACME)
    spam = analyze("GIVEAWAY! follow me and win a free acme rocket #win #free #giveaway #acme "
                   "#rocket #follow", lang="en", brand=ACME)
    for high in (ask, complaint):
        assert high.needs_reply >= 0.7
    for low in (news, praise, spam):
        assert low.needs_reply < 0.5
    assert spam.needs_reply < 0.2


def test_relevance_tells_the_brand_from_other_senses() -> None:
    party = analyze("Volt fordert ein föderales Europa, die Partei will in den Bundestag",
                    lang="de", brand=VOLT)
    battery = analyze("Die Batterie hat nur noch 3 volt, der Akku ist hin", lang="de",
                      brand=VOLT)
    handle = analyze("@volt wann kommt euer Programm?", lang="de",
                     brand=brand_terms("Volt", "volt OR @volt_de -strom"))
    absent = analyze("Nichts davon betrifft die Marke", lang="de", brand=VOLT)
    assert party.relevance is not None and party.relevance >= 0.7
    assert battery.relevance is not None and battery.relevance < 0.3
    assert handle.relevance is not None and handle.relevance >= 0.8
    assert absent.relevance is not None and absent.relevance < 0.1


def test_brand_terms_come_from_the_query() -> None:
    terms = brand_terms("Acme Rockets", '("acme rockets" OR @acme_help) -jobs -"acme corp"')
    assert terms.terms == ("acme rockets",)
    assert terms.handles == ("acme_help", "acmerockets")
    assert terms.exclude == ("jobs", "acme corp")
    assert brand_terms("Acme", "acme site:acme.com").domains == ("acme.com",)
    broken = brand_terms("Nordlicht", "nordlicht AND (")
    assert broken.terms == () and broken.name == "nordlicht"


def test_priority_weighs_negativity_reply_relevance_and_reach() -> None:
    assert rank(sentiment="negative", needs_reply=0.9, relevance=0.9, followers=50_000) \
        is Priority.URGENT
    assert rank(sentiment="negative", needs_reply=0.2, relevance=None) is Priority.HIGH
    assert rank(sentiment="neutral", needs_reply=0.9, relevance=0.9, followers=10) \
        is Priority.NORMAL
    assert rank(sentiment="positive", needs_reply=0.1, relevance=0.9, followers=10) \
        is Priority.LOW
    assert rank(sentiment="positive", needs_reply=0.8, relevance=0.9, followers=10) \
        is Priority.NORMAL
    # Probably not about us: never raised.
    assert rank(sentiment="negative", needs_reply=0.9, relevance=0.1, followers=50_000) \
        is Priority.NORMAL
    assert rank(sentiment="neutral", needs_reply=0.1, relevance=0.1) is Priority.LOW


def test_the_shipped_models_are_small_and_complete() -> None:
    root = resources.files("bot.triage.models")
    meta = json.loads((root / "sentiment.json").read_text(encoding="utf-8"))
    assert set(meta["languages"]) == {"en", "de"}
    total = 0
    for spec in meta["languages"].values():
        blob = (root / spec["weights"]).read_bytes()
        total += len(blob)
        assert len(gzip.decompress(blob)) == DIMENSIONS * len(CLASSES)
    assert total < 5_000_000
    assert set(shipped()) == {"en", "de"}


def test_features_are_stable_and_bounded() -> None:
    text = "Acme support: 45 min on hold!"
    assert features(text) == features(text)
    assert all(0 <= i < DIMENSIONS for i in features(text))
    # Hashing is CRC-32, not Python's per-process hash: a fixed value.
    assert features("ok") == features("ok")
    assert len(features("word " * 100_000)) < 200


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=400), lang=st.sampled_from([None, "en", "de", "fr", "und", ""]))
def test_any_text_gets_a_defined_answer(text: str, lang: str | None) -> None:
    s = analyze(text, lang=lang or "und", brand=ACME)
    assert s.sentiment in CLASSES
    assert -1 <= s.sentiment_score <= 1
    assert 0 <= s.needs_reply <= 1
    assert s.relevance is not None and 0 <= s.relevance <= 1
    assert s.priority in {p.value for p in Priority}
