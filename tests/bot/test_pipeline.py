"""The pipeline on real SQLite and PostgreSQL with the real query engine and enrichment."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.enrich import LanguageDetector
from bot.pipeline import Pipeline
from bot.store import Store
from testkit.factories import post
from tests.conftest import Clock


@pytest.fixture(scope="module")
def language() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture
def pipeline(store: Store, clock: Clock, language: LanguageDetector) -> Pipeline:
    store.add_brand(name="Acme", query='(acme OR "acme rockets") -jobs', actor="t")
    store.add_route(brand="Acme", platform="console", channel="acme-care", actor="t")
    store.add_brand(name="Müller", query="müller lang:de", actor="t")
    store.add_route(brand="Müller", platform="console", channel="cafe", actor="t")
    store.add_route(brand="Müller", platform="console", channel="escalations",
                    min_priority="high", actor="t")
    return Pipeline(store, language=language, now=clock, repost_window=timedelta(hours=24))


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
    assert m.language == "de"
    assert m.sentiment != "negative"


def test_sentiment_and_priority(pipeline: Pipeline, store: Store) -> None:
    report = pipeline.ingest([
        post("acme is the worst, my order never arrived and support ignores me", lang="en",
             followers=250_000, author="bigvoice"),
        post("acme store opens at nine", lang="en", author="quiet", followers=40),
    ])
    loud, quiet = (store.view(i).mention for i in report.mention_ids)
    assert (loud.sentiment, loud.priority) == ("negative", "urgent")
    assert quiet.sentiment == "neutral"


def test_the_demo_complaint_is_negative_high_and_scored(pipeline: Pipeline,
                                                        store: Store) -> None:
    report = pipeline.ingest([
        post("Acme Rockets customer service: 45 min on hold, then the call drops. every. "
             "single. time.", lang="en", followers=300),
        post("waited 25 min for my acme order ... it was lukewarm", lang="en", followers=20),
    ])
    hold, coffee = (store.view(i).mention for i in report.mention_ids)
    assert (hold.sentiment, hold.priority) == ("negative", "high")
    assert hold.needs_reply is not None and hold.needs_reply >= 0.5
    assert hold.relevance is not None and hold.relevance >= 0.5
    assert coffee.sentiment == "negative"


def test_below_a_routes_minimum_relevance_a_mention_is_stored_not_carded(
    store: Store, clock: Clock, language: LanguageDetector
) -> None:
    store.add_brand(name="Volt", query="volt -strom -batterie", actor="t")
    store.add_route(brand="Volt", platform="console", channel="volt-care", min_relevance=0.4,
                    actor="t")
    store.add_route(brand="Volt", platform="console", channel="volt-all", actor="t")
    pipeline = Pipeline(store, language=language, now=clock)
    report = pipeline.ingest([
        post("Volt fordert ein föderales Europa, die Partei tritt zur Wahl an", lang="de"),
        post("Die Lampe braucht 230 volt, das Kabel ist kaputt", lang="de"),
    ])
    party, lamp = report.mention_ids
    assert store.view(lamp).mention.relevance < 0.4 <= store.view(party).mention.relevance
    channels = sorted((d.mention_id, d.channel) for d in store.deliveries())
    # Nothing is lost: the lamp post is stored and carded where no minimum is set.
    assert channels == [(party, "volt-all"), (party, "volt-care"), (lamp, "volt-all")]
    assert [v.mention.id for v in store.list_noise()] == [lamp]
    stored = [json.loads(e.detail) for e in store.events() if e.kind == "stored"]
    assert [(d["channels"], d["noise"]) for d in stored] == [(2, 0), (1, 1)]


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
    language: LanguageDetector,
) -> None:
    """Replica B stores the same pushed post between replica A's dedupe and its write: A's
    write meets the unique key, A takes the batch again, and its dedupe drops the post."""
    other_store = Store.from_url(database_url, now=clock)
    other = Pipeline(other_store, language=language, now=clock)
    pushed = post("acme support never called back", lang="en")

    class MeanwhileB:
        calls = 0

        def card_budget(self, brand_id: int, now: object, arriving: object) -> int | None:
            MeanwhileB.calls += 1
            if MeanwhileB.calls == 1:  # after A's dedupe, before A's write
                assert other.ingest([pushed]).stored == 1
            return None

    racing = Pipeline(store, language=language, now=clock,
                      flood=MeanwhileB())  # type: ignore[arg-type]
    try:
        report = racing.ingest([pushed, post("acme rockets rock", lang="en")])
    finally:
        other_store.close()
    assert report.stored == 1 and report.duplicates == 1
    texts = sorted(v.mention.text for v in store.list_mentions(limit=10))
    assert texts == ["acme rockets rock", "acme support never called back"]


def test_app_store_reviews_keep_their_stars_and_are_never_folded(pipeline: Pipeline,
                                                                 store: Store) -> None:
    """Post.rating/app (any app-store network) are stored; two reviews with the same short
    text are two reviews (not a repost folded into the first), and stars out of 1..5 are
    dropped."""
    from dataclasses import replace

    first = replace(post("Acme app: great", network="googleplay", lang="en"), rating=5,
                    app="com.acme.app")
    second = replace(post("Acme app: great", network="googleplay", lang="en"), rating=4,
                     app="com.acme.app")
    odd = replace(post("acme app crashes", network="googleplay", lang="en"), rating=0,
                  app="com.acme.app")
    plain = post("Acme app: great", lang="en")
    echo = post("acme app: GREAT", lang="en")
    report = pipeline.ingest([first, second, odd, plain, echo])
    # Reviews neither fold nor are folded into: only the second public post is a repost (of
    # the first public one, not of a review).
    assert report.stored == 4 and report.echoes == 1
    by_id = {v.mention.external_id: v.mention for v in store.list_mentions(limit=10)}
    assert (by_id[first.external_id].rating, by_id[first.external_id].app) == (
        5, "com.acme.app")
    assert by_id[second.external_id].rating == 4
    assert (by_id[odd.external_id].rating, by_id[odd.external_id].app) == (None,
                                                                           "com.acme.app")


def test_two_customers_mailing_the_same_words_are_two_mentions(pipeline: Pipeline,
                                                               store: Store) -> None:
    """A mail is one customer's own message (NetworkSpec.private): the same text from two
    senders is two mentions to answer, never a repost folded into the first; the same words
    posted publicly are."""
    mails = [post("Acme: where is my order?", network="email", lang="en", author=who,
                  external_id=f"m{i}@mail.example")
             for i, who in enumerate(("kim@mail.example", "lou@mail.example"))]
    later = post("Acme: where is my order?", network="email", lang="en",
                 author="max@mail.example", external_id="m3@mail.example")
    public = [post("acme: where is my order?", lang="en", author=a, external_id=a)
              for a in ("p1", "p2")]
    first = pipeline.ingest([*mails, *public])
    assert (first.stored, first.echoes) == (3, 1)
    again = pipeline.ingest([later])  # across batches too
    assert (again.stored, again.echoes) == (1, 0)


def test_the_rating_migration_goes_down_and_up_again(database_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    from bot.db import alembic_config, upgrade

    upgrade(database_url)
    cfg = alembic_config(database_url)
    engine = sa.create_engine(database_url)
    try:
        def columns() -> set[str]:
            return {c["name"] for c in sa.inspect(engine).get_columns("mention")}

        assert {"rating", "app"} <= columns()
        command.downgrade(cfg, "0009_feedback")
        assert not {"rating", "app"} & columns()
        command.upgrade(cfg, "head")
        assert {"rating", "app"} <= columns()
    finally:
        engine.dispose()
