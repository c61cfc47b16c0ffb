"""Stories and identities through the real pipeline, store and relay (SQLite and PostgreSQL),
with the console chat as the adapter."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.domain import Author, DeliveryState
from bot.enrich import LanguageDetector
from bot.pipeline import Pipeline
from bot.relay import Relay
from bot.store import Store
from commands import Deps, Invocation, Role, dispatch
from integrations.chat.console.chat import ConsoleChat
from testkit.factories import post
from tests.conftest import Clock

LINK = "https://status.nordlicht.example/incidents/42"


@pytest.fixture(scope="module")
def language() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture
def pipeline(store: Store, clock: Clock, language: LanguageDetector) -> Pipeline:
    store.add_brand(name="Nordlicht", query='"nordlicht bank" OR nordlicht', actor="t")
    store.add_route(brand="Nordlicht", platform="console", channel="care", actor="t")
    store.add_route(brand="Nordlicht", platform="console", channel="escalations",
                    min_priority="high", actor="t")
    return Pipeline(store, language=language, now=clock,
                    story_window=timedelta(hours=24))


def story_posts() -> list:
    return [
        post(f"Nordlicht Bank login degraded, status page: {LINK}", network="hackernews",
             external_id="hn1", author="kestrel", lang="en", followers=None),
        post("Nordlicht finally admits it: "
             f"https://l.facebook.com/l.php?u={LINK.replace(':', '%3A').replace('/', '%2F')}",
             network="bluesky", external_id="bs1", author="mira.bsky.social", lang="en",
             followers=2400),
        replace(post("this. Nordlicht Bank, answer your customers", network="bluesky",
                     external_id="bs2", author="jonte.bsky.social", lang="en"), quotes="bs1"),
        post(f"Statusseite der Nordlicht Bank: {LINK}/?utm_source=masto", network="mastodon",
             external_id="m1", author="tilda", lang="de", followers=640),
        # Unrelated.
        post("Nordlicht Bank savings rate went up, nice", network="mastodon", external_id="m2",
             author="other", lang="en"),
    ]


def test_posts_sharing_a_link_or_quoting_join_one_story(pipeline: Pipeline,
                                                         store: Store) -> None:
    report = pipeline.ingest(story_posts())
    views = [store.view(i) for i in report.mention_ids]
    stories = [v.mention.story_id for v in views]
    assert stories[0] is not None
    assert stories[:4] == [stories[0]] * 4
    assert stories[4] is None
    summary, posts = store.story(story_id=stories[0])
    assert [p.mention_id for p in posts] == report.mention_ids[:4]
    assert summary.posts == 4
    assert dict(summary.networks) == {"bluesky": 2, "hackernews": 1, "mastodon": 1}
    assert summary.newest.mention_id == report.mention_ids[3]
    assert summary.most_reached.handle == "mira.bsky.social"
    assert summary.reason == "link"


def test_a_batch_with_stories_inserts_each_table_once(pipeline: Pipeline,
                                                        store: Store) -> None:
    """write_mentions stays one statement per table per batch with stories joined inside the
    batch (issue 16): the joins are decided after the mentions' INSERT, in order."""
    inserts: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"]:
            inserts.append(words[2].strip('"'))

    pipeline.refresh()
    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        report = pipeline.ingest(story_posts())
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
    assert report.stored == 5
    assert len({store.view(i).mention.story_id for i in report.mention_ids[:4]}) == 1
    for name in ("mention", "delivery", "event", "story_key", "author"):
        assert inserts.count(name) == 1, (name, inserts)
    assert inserts.count("story") == 1  # the one story the batch made


def test_a_later_batch_joins_within_the_window_only(pipeline: Pipeline, store: Store,
                                                     clock: Clock) -> None:
    first = pipeline.ingest(story_posts()[:1]).mention_ids[0]
    assert store.view(first).mention.story_id is None  # alone so far
    clock.advance(hours=2)
    second = pipeline.ingest([post(f"nordlicht down? {LINK}", external_id="x1", network="x",
                                   author="a", lang="en")]).mention_ids[0]
    sid = store.view(first).mention.story_id
    assert sid is not None and store.view(second).mention.story_id == sid
    clock.advance(hours=30)
    late = pipeline.ingest([post(f"nordlicht again {LINK}", external_id="x2", network="x",
                                 author="b", lang="en")]).mention_ids[0]
    assert store.view(late).mention.story_id is None


def test_near_duplicates_on_two_networks_join(pipeline: Pipeline, store: Store) -> None:
    text = ("Nordlicht Bank my transfer has been pending for three days and nobody at the "
            "hotline picks up the phone, what is going on")
    report = pipeline.ingest([
        post(text, network="x", external_id="x9", author="paula", lang="en"),
        post(text.replace("three", "four") + " #nordlichtdown", network="mastodon",
             external_id="m9", author="paula@mastodon.example", lang="en"),
        post("Nordlicht Bank my card works again after three days, thanks to the hotline",
             network="reddit", external_id="r9", author="zed", lang="en"),
    ])
    a, b, c = (store.view(i).mention for i in report.mention_ids)
    assert a.story_id is not None and a.story_id == b.story_id
    assert c.story_id is None
    assert store.story(story_id=a.story_id)[0].reason == "text"


async def test_one_parent_card_per_channel_and_members_in_its_thread(
        pipeline: Pipeline, store: Store, clock: Clock) -> None:
    out = io.StringIO()
    chat = ConsoleChat(Console(file=out, width=200), now=clock)
    relay = Relay(store, {"console": chat}, now=clock)
    ids = pipeline.ingest(story_posts()).mention_ids
    while await relay.run_once():
        pass
    text = out.getvalue()
    # The parent card (the oldest member) shows the story; the other three are threaded.
    assert text.count("Story ") >= 1
    assert text.count("↳ in the thread of message") == 3
    sent = {(d.mention_id, d.channel): d for d in store.deliveries()}
    parent = sent[(ids[0], "care")]
    assert parent.state == DeliveryState.SENT.value
    assert all(sent[(i, "care")].state == DeliveryState.SENT.value for i in ids)
    # Claiming a member edits the story's parent card (and the member's own card).
    store.claim(mention_id=ids[2], actor="ana")
    flagged = {d.mention_id for d in store.deliveries() if d.needs_update}
    assert {ids[0], ids[2]} <= flagged
    out.truncate(0)
    out.seek(0)
    while await relay.run_once():
        pass
    assert "1 claimed" in out.getvalue()
    # Nothing was sent twice.
    assert len(chat.sent) == len(store.deliveries())


def test_claimed_cards_know_their_place_in_the_story(pipeline: Pipeline, store: Store) -> None:
    ids = pipeline.ingest(story_posts()).mention_ids
    claimed = store.claim_deliveries(worker="w", limit=50, lease=timedelta(seconds=30),
                                     platforms=["console"])
    care = {c.view.mention.id: c for c in claimed if c.delivery.channel == "care"}
    assert care[ids[0]].story is not None and care[ids[0]].story.posts == 4
    assert all(care[i].parent_mention_id == ids[0] and care[i].story is None
               for i in ids[1:4])
    assert care[ids[4]].story is None and care[ids[4]].parent_mention_id is None


def test_verified_links_and_domain_handles_stitch_a_person(pipeline: Pipeline,
                                                            store: Store) -> None:
    masto = post("Nordlicht Bank app is great since the update", network="mastodon",
                 external_id="lm1", author="lena@mastodon.example", lang="en", followers=5200)
    masto = replace(masto, author=replace(masto.author, proofs=("https://lena-berg.example",)))
    bsky = post("Nordlicht Bank logged me out again, standing in the rain", network="bluesky",
                external_id="lb1", author="lena-berg.example", lang="en", followers=8100)
    other = post("Nordlicht Bank is fine", network="bluesky", external_id="ob1",
                 author="lena.bsky.social", lang="en")
    ids = pipeline.ingest([masto]).mention_ids + pipeline.ingest([bsky, other]).mention_ids
    a, b, c = (store.view(i) for i in ids)
    assert a.person is not None and b.person is not None
    assert a.person.identity_id == b.person.identity_id
    assert set(a.person.accounts) == {("mastodon", "lena@mastodon.example"),
                                      ("bluesky", "lena-berg.example")}
    assert c.person is None
    history = store.person_history(author_id=b.author.id or 0)
    assert history is not None
    assert dict(history.per_network) == {"bluesky": 1, "mastodon": 1}
    assert history.unanswered == 2 and history.last_contact is None
    assert len(history.sentiment) == 2 and history.sentiment[0] > history.sentiment[1]


def test_link_and_unlink_by_hand_stick(pipeline: Pipeline, store: Store) -> None:
    ids = pipeline.ingest([
        post("Nordlicht Bank hotline was kind", network="x", external_id="k1", author="kai",
             lang="en"),
        post("Nordlicht Bank app crashed", network="reddit", external_id="k2", author="kai_r",
             lang="en"),
    ]).mention_ids
    identity = store.link_authors(a=("x", "@Kai"), b=("reddit", "kai_r"), actor="ana")
    assert store.view(ids[0]).person is not None
    assert store.view(ids[0]).person.identity_id == identity  # type: ignore[union-attr]
    store.unlink_author(author=("reddit", "kai_r"), actor="ana")
    assert store.view(ids[0]).person is None and store.view(ids[1]).person is None
    assert [e.kind for e in store.events() if e.kind.startswith("identity")] == [
        "identity_linked", "identity_unlinked"]


async def test_commands_story_link_unlink_show(pipeline: Pipeline, store: Store) -> None:
    ids = pipeline.ingest(story_posts()).mention_ids
    deps = Deps(store=store)
    inv = Invocation(user="ana", platform="console", roles=frozenset({Role.RESPONDER}))
    sid = store.view(ids[0]).mention.story_id
    res = await dispatch(f"story {sid}", inv, deps)
    assert res.ok and res.text == f"Story {sid}"
    assert [h.mention_id for h in res.history] == ids[:4]
    assert "4 posts on 3 network(s)" in res.lines[0]
    assert not (await dispatch("story 999", inv, deps)).ok
    assert not (await dispatch("story x", inv, deps)).ok
    res = await dispatch("link hackernews:kestrel bluesky:mira.bsky.social", inv, deps)
    assert res.ok, res.text
    shown = await dispatch(f"show {ids[0]}", inv, deps)
    assert any(line.startswith("Person ") for line in shown.lines)
    assert any("community value" in line for line in shown.lines)
    assert shown.cards[0].person is not None
    assert not (await dispatch("link nobody", inv, deps)).ok
    assert not (await dispatch("link x:ghost bluesky:mira.bsky.social", inv, deps)).ok
    assert (await dispatch("unlink bluesky:mira.bsky.social", inv, deps)).ok
    assert not (await dispatch("unlink bluesky:mira.bsky.social", inv, deps)).ok
    guest = Invocation(user="gus", platform="console")
    assert not (await dispatch("link a:b c:d", guest, deps)).ok


def test_same_handle_on_two_networks_is_not_a_proof(pipeline: Pipeline, store: Store) -> None:
    """Only keys the networks verified link people: the same name elsewhere does not."""
    ids = pipeline.ingest([
        post("Nordlicht Bank ok", network="mastodon", external_id="z1", author="zoe"),
        post("Nordlicht Bank fine", network="x", external_id="z2", author="zoe"),
    ]).mention_ids
    assert [store.view(i).person for i in ids] == [None, None]
    assert Author(handle="zoe").proofs == ()
