"""Learning from the team: labelled examples and each brand's learnt correction, in the store
(SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from bot.store import Conflict, NotFound, Store
from bot.triage.learn import TeamModels, Weights, features
from testkit.factories import new_mention

NOISE = "Volt the band plays tonight at the club, tickets at the door"
COMPLAINT = "@volt my charger stopped working again, nobody answers the hotline"


def _brand(store: Store, name: str = "Volt") -> int:
    b = store.add_brand(name=name, query=name.lower(), actor="setup")
    store.add_route(brand=name, platform="console", channel="care", actor="setup")
    return b.id or 0


def _mention(store: Store, bid: int, text: str) -> int:
    [mid] = store.write_mentions([new_mention(bid, text=text)],
                                 routes={bid: store.routes(brand_id=bid)})
    return mid


def test_not_about_us_labels_closes_and_teaches_the_brand(store: Store) -> None:
    bid = _brand(store)
    mid = _mention(store, bid, NOISE)
    models = store.team_models()
    assert models.adjust(bid, NOISE, relevance=0.8, needs_reply=0.6) == (0.8, 0.6)

    m = store.give_feedback(mention_id=mid, action="notus", actor="ana",
                            base={"relevance": 0.8, "needs_reply": 0.6})
    assert m.status == "ignored"
    labels = {(f.target, f.label, f.source, f.explicit, f.base) for f in store.feedback()}
    assert labels == {("relevance", "0", "notus", True, 0.8),
                      ("needs_reply", "0", "notus", True, 0.6)}
    kinds = [e.kind for e in store.events(mention_id=mid)]
    assert kinds == ["stored", "feedback", "ignored"]
    # Its cards are redrawn (closed, without buttons).
    assert [d.needs_update for d in store.deliveries() if d.mention_id == mid] == [True]
    assert store.team_model_versions() == {(bid, "relevance"): 1, (bid, "needs_reply"): 1}

    models.refresh()
    relevance, needs_reply = models.adjust(bid, NOISE, relevance=0.8, needs_reply=0.6)
    assert relevance < 0.8 and needs_reply < 0.6
    # Another brand learnt nothing: its scores pass through.
    other = _brand(store, "Nordlicht")
    assert models.adjust(other, NOISE, relevance=0.8, needs_reply=0.6) == (0.8, 0.6)


def test_replied_ignored_and_resolved_teach_without_a_button(store: Store) -> None:
    bid = _brand(store)
    answered = _mention(store, bid, COMPLAINT)
    r = store.record_reply(mention_id=answered, text="Sorry! DM us", by="ana")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="9", url=None)
    ignored = _mention(store, bid, "volt tickets for sale cheap")
    store.ignore(mention_id=ignored, actor="ben", reason="spam")
    resolved = _mention(store, bid, "volt charger works again, thanks")
    store.resolve(mention_id=resolved, actor="ana")
    got = {(f.mention_id, f.target, f.label, f.source, f.explicit) for f in store.feedback()}
    assert got == {
        (answered, "relevance", "1", "replied", False),
        (answered, "needs_reply", "1", "replied", False),
        (ignored, "needs_reply", "0", "ignored", False),
        (resolved, "relevance", "1", "resolved", False),
    }
    assert store.team_model_versions() == {(bid, "relevance"): 2, (bid, "needs_reply"): 2}


def test_what_a_person_said_outweighs_what_their_action_implies(store: Store) -> None:
    bid = _brand(store)
    mid = _mention(store, bid, NOISE)
    store.give_feedback(mention_id=mid, action="noreply", actor="ana")
    # The mention is closed; ignoring it again is refused (already ignored) and teaches nothing.
    with pytest.raises(Conflict):
        store.ignore(mention_id=mid, actor="ben", reason="")
    [row] = store.feedback(mention_id=mid)
    assert (row.target, row.label, row.source, row.explicit) == ("needs_reply", "0",
                                                                 "noreply", True)
    # A reply sent later does not overwrite the person's "no reply needed"; it still says
    # the post was about us.
    r = store.record_reply(mention_id=mid, text="thanks", by="ben")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="1", url=None)
    got = {(f.target, f.label, f.source) for f in store.feedback(mention_id=mid)}
    assert got == {("needs_reply", "0", "noreply"), ("relevance", "1", "replied")}
    # The same label again is no new example: the model is not updated twice.
    before = store.team_model_versions()[(bid, "needs_reply")]
    store.give_feedback(mention_id=mid, action="noreply", actor="ana")
    assert store.team_model_versions()[(bid, "needs_reply")] == before
    # A person changing their mind is a new example.
    store.give_feedback(mention_id=mid, action="notus", actor="ana")
    got = {(f.target, f.label, f.source) for f in store.feedback(mention_id=mid)}
    assert got == {("needs_reply", "0", "notus"), ("relevance", "0", "notus")}
    assert store.team_model(bid, "relevance").examples == 2  # type: ignore[union-attr]


def test_a_sentiment_correction_is_stored_shown_and_logged(store: Store) -> None:
    bid = _brand(store)
    mid = _mention(store, bid, "45 min on hold, then the call drops. every. single. time.")
    m = store.correct_sentiment(mention_id=mid, sentiment="negative", actor="ana")
    assert (m.sentiment, m.sentiment_score, m.sentiment_by) == ("negative", -1.0, "ana")
    view = store.view(mid)
    assert (view.mention.sentiment, view.mention.sentiment_by) == ("negative", "ana")
    [event] = store.events(mention_id=mid, kind="sentiment_corrected")
    assert '"from": "negative"' in event.detail and '"to": "negative"' in event.detail
    store.correct_sentiment(mention_id=mid, sentiment="neutral", actor="ben")
    [row] = store.feedback(mention_id=mid)
    assert (row.target, row.label, row.actor, row.base) == ("sentiment", "neutral", "ben", -0.5)
    assert store.team_model_versions() == {}  # sentiment labels are kept, not learnt online
    with pytest.raises(NotFound):
        store.correct_sentiment(mention_id=99999, sentiment="neutral", actor="ben")
    with pytest.raises(NotFound):
        store.give_feedback(mention_id=99999, action="notus", actor="ben")


def test_replicas_read_the_same_learnt_weights(store: Store, database_url: str) -> None:
    bid = _brand(store)
    ids = [_mention(store, bid, f"{NOISE} {i}") for i in range(4)]
    other = Store.from_url(database_url)
    try:
        mine, theirs = store.team_models(), other.team_models()
        mine.refresh()
        theirs.refresh()
        # Feedback given through two replicas at once: both updates land, none is lost.
        threads = [threading.Thread(target=s.give_feedback,
                                    kwargs={"mention_id": mid, "action": "notus", "actor": "x"})
                   for s, mid in zip((store, other, store, other), ids, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert store.team_model(bid, "relevance").examples == 4  # type: ignore[union-attr]
        mine.refresh()
        theirs.refresh()
        assert (mine.adjust(bid, NOISE, relevance=0.7, needs_reply=0.5)
                == theirs.adjust(bid, NOISE, relevance=0.7, needs_reply=0.5))
    finally:
        other.close()


def test_weights_round_trip_and_a_bad_blob_is_refused() -> None:
    w = Weights()
    x = features("Volt the band live tonight", network="mastodon")
    for _ in range(10):
        w.learn(x, 0.9, False)
    back = Weights.load(w.dump())
    assert back.bias == w.bias
    assert back.predict(x, 0.9) == pytest.approx(w.predict(x, 0.9), abs=1e-6)
    assert back.predict(x, 0.9) < 0.5
    with pytest.raises(ValueError, match="format"):
        Weights.load(b"\x09" + w.dump()[1:])
    assert Weights.load(b"").predict(x, 0.3) == 0.3


def test_a_small_correction_leaves_the_base_score_alone() -> None:
    """The dead zone: a learnt shift smaller than DEAD_ZONE is no evidence against the base
    model; a larger one applies less DEAD_ZONE. The bias is not learnt, but a stored one
    still applies."""
    from bot.triage.learn import DEAD_ZONE, logit, sigmoid

    x = features("Volt the band live tonight")
    w = Weights()
    w.learn(x, 0.5, False)  # one step from an undecided base: 0.6 * 0.5 = 0.3 in logit
    assert w.bias == 0.0
    assert abs(w.raw_shift(x)) < DEAD_ZONE + 0.1
    assert w.predict(x, 0.7) == pytest.approx(
        sigmoid(logit(0.7) + min(0.0, w.raw_shift(x) + DEAD_ZONE)))
    unrelated = features("opening hours on sunday")
    assert w.predict(unrelated, 0.42) == 0.42
    old = Weights.load(Weights(bias=1.0, w={1: 0.5}).dump())
    assert old.predict({2: 1.0}, 0.5) == pytest.approx(sigmoid(1.0 - DEAD_ZONE))


def test_odd_text_has_defined_features() -> None:
    assert features("") == {}
    assert features("🙂🙂🙂") == {}
    assert len(features("https://volt.example/x @volt")) == 3  # <url>, <handle>, bigram
    huge = features("volt " * 50_000)
    assert sum(v * v for v in huge.values()) == pytest.approx(1.0)
    models = TeamModels(versions=dict, load=lambda b, t: None)
    assert models.adjust(1, "", relevance=0.2, needs_reply=0.9) == (0.2, 0.9)


def test_the_store_learns_what_the_bench_replays(store: Store) -> None:
    """bench/triage_learning.py replays feedback with `Weights.learn`; the store applies the
    same update in each feedback's transaction."""
    from bot.triage.learn import replay

    bid = _brand(store)
    texts = [NOISE, "volt the party wins seats", COMPLAINT, "Volt tour dates announced"]
    for text in texts:
        mid = _mention(store, bid, text)
        store.give_feedback(mention_id=mid, action="notus", actor="ana",
                            base={"relevance": 0.7, "needs_reply": 0.4})
    stored = Weights.load(store.team_model(bid, "relevance").weights)  # type: ignore[union-attr]
    replayed = replay(((t, 0.7, False) for t in texts), network="mastodon")
    probe = features("Volt live at the club", network="mastodon")
    assert stored.predict(probe, 0.7) == pytest.approx(replayed.predict(probe, 0.7), abs=1e-5)
    assert set(stored.w) == set(replayed.w)


def test_the_feedback_migration_goes_down_and_up_again(database_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    from bot.db import alembic_config

    cfg = alembic_config(database_url)
    engine = sa.create_engine(database_url)
    try:
        def shape() -> tuple[set[str], set[str]]:
            inspector = sa.inspect(engine)
            return (set(inspector.get_table_names()),
                    {c["name"] for c in inspector.get_columns("mention")})

        tables, columns = shape()
        assert {"feedback", "team_model"} <= tables and "sentiment_by" in columns
        command.downgrade(cfg, "0008_triage")  # below 0009_feedback (and what follows it)
        tables, columns = shape()
        assert not {"feedback", "team_model"} & tables and "sentiment_by" not in columns
        command.upgrade(cfg, "head")
        tables, columns = shape()
        assert {"feedback", "team_model"} <= tables and "sentiment_by" in columns
    finally:
        engine.dispose()
