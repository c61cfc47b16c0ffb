"""The store on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.db import current_revision
from bot.domain import DeliveryState, MentionStatus, ReplyState
from bot.store import Conflict, NotFound, Store
from testkit.factories import new_mention
from tests.conftest import Clock


def _brand(store: Store, name: str = "Acme", channels: tuple[str, ...] = ("care",)) -> int:
    b = store.add_brand(name=name, query="acme", actor="setup")
    for ch in channels:
        store.add_route(brand=name, platform="console", channel=ch, actor="setup")
    return b.id or 0


def _routes(store: Store) -> dict[int, list]:  # type: ignore[type-arg]
    out: dict[int, list] = {}  # type: ignore[type-arg]
    for r in store.routes():
        out.setdefault(r.brand_id, []).append(r)
    return out


def test_schema_is_at_head(store: Store) -> None:
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert current_revision(store.engine) == head


def test_brand_changes_bump_the_revision_and_are_logged(store: Store) -> None:
    before = store.revision()
    _brand(store)
    store.set_brand_query(name="acme", query="acme OR acmeco", actor="ana")
    assert store.revision() > before
    assert store.brand_queries() == {store.brand(name="Acme").id: "acme OR acmeco"}
    kinds = [e.kind for e in store.events()]
    assert kinds == ["brand_added", "route_set", "query_changed"]
    with pytest.raises(Conflict):
        store.add_brand(name="Acme", query="x", actor="ana")
    with pytest.raises(NotFound):
        store.set_brand_query(name="nope", query="x", actor="ana")


def test_mentions_authors_and_deliveries_are_written_together(store: Store) -> None:
    bid = _brand(store, channels=("care", "escalations"))
    ids = store.write_mentions(
        [new_mention(bid), new_mention(bid, text="acme again")], routes=_routes(store)
    )
    assert len(ids) == 2
    assert store.count_mentions() == 2
    deliveries = store.deliveries()
    assert {(d.mention_id, d.channel) for d in deliveries} == {
        (i, ch) for i in ids for ch in ("care", "escalations")
    }
    view = store.view(ids[1])
    assert view.author.mentions_count == 2
    assert view.brand.name == "Acme"
    assert [e.kind for e in store.events(kind="stored")] == ["stored", "stored"]


def test_a_failing_batch_writes_nothing(store: Store) -> None:
    bid = _brand(store)
    dup = new_mention(bid)
    with pytest.raises(sa.exc.IntegrityError):
        store.write_mentions([new_mention(bid), dup, dup], routes=_routes(store))
    assert store.count_mentions() == 0
    assert store.deliveries() == []


def test_muted_authors_are_stored_but_not_relayed(store: Store) -> None:
    bid = _brand(store)
    store.write_mentions([new_mention(bid)], routes=_routes(store))
    store.mute_author(network="mastodon", handle="@KUNDE", actor="ana")
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    assert store.view(mid).mention.muted
    assert [d.mention_id for d in store.deliveries()] != [] and all(
        d.mention_id != mid for d in store.deliveries()
    )


def test_claim_resolve_ignore_state_rules(store: Store) -> None:
    bid = _brand(store)
    a, b = store.write_mentions([new_mention(bid), new_mention(bid)], routes=_routes(store))
    m = store.claim(mention_id=a, actor="ana")
    assert (m.status, m.assignee) == (MentionStatus.CLAIMED.value, "ana")
    with pytest.raises(Conflict, match="already claimed by ana"):
        store.claim(mention_id=a, actor="ben")
    assert store.claim(mention_id=a, actor="ben", assignee="ben").assignee == "ben"
    store.resolve(mention_id=a, actor="ben")
    with pytest.raises(Conflict):
        store.resolve(mention_id=a, actor="ben")
    with pytest.raises(Conflict):
        store.claim(mention_id=a, actor="ana")
    store.ignore(mention_id=b, actor="ana", reason="spam")
    with pytest.raises(NotFound):
        store.claim(mention_id=999_999, actor="ana")
    kinds = [e.kind for e in store.events(mention_id=a)]
    assert kinds == ["stored", "claimed", "assigned", "resolved"]


def test_state_changes_mark_sent_cards_for_an_update(store: Store, clock: Clock) -> None:
    bid = _brand(store)
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    [c] = store.claim_deliveries(worker="w", limit=10, lease=timedelta(seconds=30),
                                 platforms=["console"])
    store.delivery_sent(delivery_id=c.delivery.id or 0, message_ref="care/1")
    assert store.claim_deliveries(worker="w", limit=10, lease=timedelta(seconds=30),
                                  platforms=["console"]) == []
    store.claim(mention_id=mid, actor="ana")
    [u] = store.claim_deliveries(worker="w", limit=10, lease=timedelta(seconds=30),
                                 platforms=["console"])
    assert u.delivery.state == DeliveryState.SENT.value
    assert u.delivery.message_ref == "care/1"
    assert u.view.mention.assignee == "ana"


def test_replies_are_recorded_first_and_never_doubled(store: Store) -> None:
    bid = _brand(store)
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    r = store.record_reply(mention_id=mid, text="Sorry!", by="ana")
    assert r.state == ReplyState.PENDING.value
    with pytest.raises(Conflict, match="still pending"):
        store.record_reply(mention_id=mid, text="Sorry!", by="ana")
    store.reply_failed(reply_id=r.id or 0, error="timeout", unknown=True)
    with pytest.raises(Conflict, match="still unknown"):
        store.record_reply(mention_id=mid, text="Sorry!", by="ben")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="n1", url="https://x/1")
    view = store.view(mid)
    assert view.mention.status == MentionStatus.REPLIED.value
    assert view.author.answered_count == 1
    r2 = store.record_reply(mention_id=mid, text="Anything else?", by="ana")
    store.reply_failed(reply_id=r2.id or 0, error="400 too long", unknown=False)
    assert [x.state for x in store.view(mid).replies] == ["sent", "failed"]


def test_the_replied_event_carries_the_reply_s_sent_time(store: Store) -> None:
    """The digest and the export read a mention's first reply from its `replied` event: the
    event is logged at the reply's sent_at, even when the clock moves between the two."""
    bid = _brand(store)
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    r = store.record_reply(mention_id=mid, text="Sorry!", by="ana")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    ticks = iter(range(1000))
    store.now = lambda: start + timedelta(seconds=next(ticks))  # every call a second later
    sent = store.reply_sent(reply_id=r.id or 0, network_reply_id="n1", url=None)
    [event] = store.events(mention_id=mid, kind="replied")
    assert sent.sent_at is not None and event.at == sent.sent_at


def test_postgres_sessions_keep_time_in_utc(database_url: str, store: Store) -> None:
    """bot.db sets PostgreSQL's session TimeZone to UTC: timestamps come back in UTC from
    either database, whatever the server's own time zone."""
    if database_url.startswith("postgresql"):
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "UTC"
    bid = _brand(store)
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    created = store.view(mid).mention.created_at
    assert created.tzinfo is UTC


def test_outbox_lease_backoff_and_order_per_channel(store: Store, clock: Clock) -> None:
    bid = _brand(store, channels=("one", "two"))
    ids = store.write_mentions([new_mention(bid) for _ in range(3)], routes=_routes(store))
    lease = timedelta(seconds=30)
    first = store.claim_deliveries(worker="w1", limit=100, lease=lease, platforms=["console"])
    assert len(first) == 6
    # Leased rows are invisible to a second worker.
    assert store.claim_deliveries(worker="w2", limit=100, lease=lease, platforms=["console"]) == []
    one = [c for c in first if c.delivery.channel == "one"]
    # The oldest card of channel "one" fails and waits; the rest is given back.
    store.delivery_failed(delivery_id=one[0].delivery.id or 0, error="500",
                          retry_at=clock() + timedelta(seconds=10))
    store.release(delivery_ids=[c.delivery.id or 0 for c in first if c is not one[0]])
    again = store.claim_deliveries(worker="w2", limit=100, lease=lease, platforms=["console"])
    # Channel "two" goes on; channel "one" holds back until its oldest card is out.
    assert {c.delivery.channel for c in again} == {"two"}
    store.release(delivery_ids=[c.delivery.id or 0 for c in again])
    clock.advance(seconds=11)
    later = store.claim_deliveries(worker="w3", limit=100, lease=lease, platforms=["console"])
    assert [c.view.mention.id for c in later if c.delivery.channel == "one"] == ids
    # A lease that runs out (a crashed worker) makes the rows due again.
    clock.advance(seconds=31)
    assert len(store.claim_deliveries(worker="w4", limit=100, lease=lease,
                                      platforms=["console"])) == 6
    assert store.outbox_depth() == 6


def test_giving_up_after_the_last_attempt(store: Store) -> None:
    bid = _brand(store)
    store.write_mentions([new_mention(bid)], routes=_routes(store))
    [c] = store.claim_deliveries(worker="w", limit=1, lease=timedelta(seconds=5),
                                 platforms=["console"])
    store.delivery_failed(delivery_id=c.delivery.id or 0, error="channel_not_found",
                          retry_at=None)
    [d] = store.deliveries()
    assert d.state == DeliveryState.FAILED.value
    assert d.last_error == "channel_not_found"
    assert store.outbox_depth() == 0


def test_cursors_and_templates(store: Store) -> None:
    assert store.cursor(source="replay") is None
    store.save_cursor(source="replay", cursor="10")
    store.save_cursor(source="replay", cursor="20")
    assert store.cursor(source="replay") == "20"
    store.add_template(name="thanks", text="Thank you, {name}!", actor="ana")
    store.add_template(name="thanks", text="Thanks a lot, {name}!", actor="ana")
    assert [t.text for t in store.templates()] == ["Thanks a lot, {name}!"]
    with pytest.raises(NotFound):
        store.template(name="nope")


def test_times_come_back_aware_in_utc(store: Store, clock: Clock) -> None:
    bid = _brand(store)
    [mid] = store.write_mentions([new_mention(bid)], routes=_routes(store))
    m = store.view(mid).mention
    assert m.seen_at == clock()
    assert m.created_at.tzinfo is not None


def test_migrations_build_the_schema_the_models_describe(store: Store) -> None:
    """Alembic's autogenerate finds nothing to change: the models (and the Slack adapter's
    installation tables, which live with it) and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from integrations.chat.slack import install as slack_install

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "target_metadata": [SQLModel.metadata, slack_install.metadata]})
        diff = compare_metadata(context, context.opts["target_metadata"])
    assert diff == []


def test_an_inbound_event_is_taken_once_by_any_process(store: Store, database_url: str,
                                                       clock: Clock) -> None:
    other = Store.from_url(database_url, now=clock)  # another replica on the same database
    try:
        assert store.first_delivery(key="slack:T1:Ev1") is True
        assert other.first_delivery(key="slack:T1:Ev1") is False
        assert store.first_delivery(key="slack:T1:Ev1") is False
        assert other.first_delivery(key="slack:T1:Ev2") is True
        clock.advance(days=1, seconds=1)  # Slack retries within minutes; a day later: forgotten
        assert store.first_delivery(key="slack:T1:Ev3") is True
        assert other.first_delivery(key="slack:T1:Ev1") is True
    finally:
        other.close()


def test_times_come_back_aware_utc_to_the_microsecond(store: Store) -> None:
    from bot.models import Event

    at = datetime(2026, 3, 29, 1, 59, 59, 123456, tzinfo=ZoneInfo("Europe/Berlin"))
    t = Event.__table__  # type: ignore[attr-defined]
    with store.engine.begin() as conn:
        conn.execute(t.insert(), {"kind": "relayed", "at": at, "actor": "x", "detail": ""})
        got = (conn.execute(sa.select(t.c.at)).scalar_one(),
               conn.execute(sa.select(sa.func.min(t.c.at))).scalar_one())
    assert got == (at, at)
    assert all(v.tzinfo is UTC for v in got)
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        with store.engine.begin() as conn:
            conn.execute(t.insert(), {"kind": "relayed", "at": datetime(2026, 1, 1),  # noqa: DTZ001
                                      "actor": "x", "detail": ""})
