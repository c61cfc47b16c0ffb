"""The pipeline on real SQLite and PostgreSQL with the real query engine and enrichment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.enrich import LanguageDetector, SentimentAnalyzer
from bot.pipeline import Pipeline
from bot.store import Store
from testkit.factories import post
from tests.conftest import Clock


@pytest.fixture(scope="module")
def language() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(scope="module")
def sentiment() -> SentimentAnalyzer:
    return SentimentAnalyzer()


@pytest.fixture
def pipeline(store: Store, clock: Clock, language: LanguageDetector,
             sentiment: SentimentAnalyzer) -> Pipeline:
    store.add_brand(name="Acme", query='(acme OR "acme rockets") -jobs', actor="t")
    store.add_route(brand="Acme", platform="console", channel="acme-care", actor="t")
    store.add_brand(name="Müller", query="müller lang:de", actor="t")
    store.add_route(brand="Müller", platform="console", channel="cafe", actor="t")
    store.add_route(brand="Müller", platform="console", channel="escalations",
                    min_priority="high", actor="t")
    return Pipeline(store, language=language, sentiment=sentiment, now=clock,
                    repost_window=timedelta(hours=24))


def test_only_matching_posts_become_mentions(pipeline: Pipeline, store: Store) -> None:
    report = pipeline.ingest([
        post("I love ACME!", lang="en"),
        post("acmeco rocks", lang="en"),
        post("acme jobs in Berlin", lang="en"),
        post("Mueller liefert einfach nicht, schrecklich", lang="de"),
        post("Mueller delivers nothing, terrible", lang="en"),
    ])
    assert (report.seen, report.matched, report.stored) == (5, 2, 2)
    views = [store.view(i) for i in report.mention_ids]
    assert [v.brand.name for v in views] == ["Acme", "Müller"]
    channels = sorted((d.mention_id, d.channel) for d in store.deliveries())
    # The negative German post is high priority, so the escalations channel gets it too.
    assert channels == [
        (report.mention_ids[0], "acme-care"),
        (report.mention_ids[1], "cafe"),
        (report.mention_ids[1], "escalations"),
    ]


def test_language_is_detected_when_the_network_gives_none(
    pipeline: Pipeline, store: Store
) -> None:
    report = pipeline.ingest([
        post("Bei Müller gab es heute tollen Kuchen, super lecker, danke!", lang=None),
        post("Müller has the best cake in town, thanks!", lang=None),
    ])
    assert report.stored == 1
    m = store.view(report.mention_ids[0]).mention
    assert (m.language, m.sentiment) == ("de", "positive")


def test_sentiment_and_priority(pipeline: Pipeline, store: Store) -> None:
    report = pipeline.ingest([
        post("acme is the worst, my order never arrived and support ignores me", lang="en",
             followers=250_000, author="bigvoice"),
        post("acme store opens at nine", lang="en", author="quiet", followers=40),
    ])
    loud, quiet = (store.view(i).mention for i in report.mention_ids)
    assert (loud.sentiment, loud.priority) == ("negative", "urgent")
    assert quiet.sentiment == "neutral"


def test_duplicates_by_id_url_and_repost(pipeline: Pipeline, store: Store, clock: Clock) -> None:
    first = pipeline.ingest([
        post("acme app is down again", external_id="1", lang="en", author="a"),
        post("acme app is down again", external_id="1", lang="en", author="a"),
        post("RT @a: acme app is down again", external_id="2", lang="en", author="b"),
    ])
    assert (first.stored, first.duplicates, first.echoes) == (1, 1, 1)
    second = pipeline.ingest([
        post("acme app is down again", external_id="1", lang="en", author="a"),
        post("acme  app is DOWN again", external_id="3", lang="en", author="c"),
        post("acme shared link", external_id="4", url="https://social.example/@a/1?utm_source=x",
             lang="en", author="d"),
    ])
    assert (second.stored, second.duplicates, second.echoes) == (0, 2, 1)
    [mid] = first.mention_ids
    assert store.view(mid).mention.echoes == 2
    # After the window the same text is news again.
    clock.advance(hours=25)
    third = pipeline.ingest([post("acme app is down again", external_id="5", lang="en")])
    assert third.stored == 1


def test_muted_authors_are_kept_but_not_relayed(pipeline: Pipeline, store: Store) -> None:
    pipeline.ingest([post("acme spam spam", author="spammer", lang="en")])
    store.mute_author(network="mastodon", handle="spammer", actor="ana")
    report = pipeline.ingest([post("acme more spam", author="spammer", lang="en")])
    assert report.stored == 1
    assert store.view(report.mention_ids[0]).mention.muted
    assert all(d.mention_id != report.mention_ids[0] for d in store.deliveries())


def test_a_changed_query_applies_at_once_in_every_process(
    pipeline: Pipeline, store: Store, database_url: str, clock: Clock
) -> None:
    assert pipeline.ingest([post("rocketco launches", lang="en")]).stored == 0
    other_process = Store.from_url(database_url, now=clock)
    try:
        other_process.set_brand_query(name="Acme", query="acme OR rocketco", actor="ana")
    finally:
        other_process.close()
    assert pipeline.ingest([post("rocketco launches again", lang="en")]).stored == 1


def test_an_empty_batch_and_no_brands(store: Store, clock: Clock) -> None:
    pipeline = Pipeline(store, now=clock)
    assert pipeline.ingest([]).stored == 0
    assert pipeline.ingest([post("acme")]).matched == 0


def test_a_post_another_replica_stores_meanwhile_is_stored_once(
    pipeline: Pipeline, store: Store, database_url: str, clock: Clock,
    language: LanguageDetector, sentiment: SentimentAnalyzer,
) -> None:
    """Replica B stores the same pushed post between replica A's dedupe and its write: A's
    write meets the unique key, A takes the batch again, and its dedupe drops the post."""
    other_store = Store.from_url(database_url, now=clock)
    other = Pipeline(other_store, language=language, sentiment=sentiment, now=clock)
    pushed = post("acme support never called back", lang="en")

    class MeanwhileB:
        calls = 0

        def card_budget(self, brand_id: int, now: object, arriving: object) -> int | None:
            MeanwhileB.calls += 1
            if MeanwhileB.calls == 1:  # after A's dedupe, before A's write
                assert other.ingest([pushed]).stored == 1
            return None

    racing = Pipeline(store, language=language, sentiment=sentiment, now=clock,
                      flood=MeanwhileB())  # type: ignore[arg-type]
    try:
        report = racing.ingest([pushed, post("acme rockets rock", lang="en")])
    finally:
        other_store.close()
    assert report.stored == 1 and report.duplicates == 1
    texts = sorted(v.mention.text for v in store.list_mentions(limit=10))
    assert texts == ["acme rockets rock", "acme support never called back"]
