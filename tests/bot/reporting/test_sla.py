"""SLA clocks: targets, overrides, business hours, and the time left on a card."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.cards import card_for
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.sla.hours import BusinessHours, BusinessHoursError
from bot.reporting.sla.rule import (
    SlaTargets,
    default_target,
    due_at,
)
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock

BERLIN = ZoneInfo("Europe/Berlin")


def test_defaults_follow_customer_expectations() -> None:
    assert default_target("x") == timedelta(hours=1)
    assert default_target("facebook") == timedelta(hours=2)
    assert default_target("some-new-network") == timedelta(hours=4)


def test_brand_overrides_win_over_defaults() -> None:
    targets = SlaTargets({(1, "x"): 15})
    t0 = datetime(2026, 11, 20, 9, tzinfo=UTC)
    assert targets.due_at(1, "x", t0) == t0 + timedelta(minutes=15)
    assert targets.due_at(2, "x", t0) == t0 + timedelta(hours=1)
    assert targets.warn_at(1, "x", t0) == t0 + timedelta(minutes=15) * 0.75
    assert due_at(t0, "facebook", None) == t0 + timedelta(hours=2)


def test_business_hours_count_only_open_time() -> None:
    hours = BusinessHours.parse("mon-fri 09:00-17:00", BERLIN)
    fri_5pm = datetime(2026, 11, 20, 17, tzinfo=BERLIN)  # a Friday
    mon_10am = datetime(2026, 11, 23, 10, tzinfo=BERLIN)
    assert hours.elapsed(fri_5pm - timedelta(hours=1), mon_10am) == timedelta(hours=2)
    assert hours.elapsed(mon_10am, mon_10am - timedelta(hours=1)) == timedelta(0)
    assert hours.is_open(mon_10am) and not hours.is_open(fri_5pm)
    assert hours.open_hours(0) == set(range(9, 17)) and hours.open_hours(6) == set()


def test_business_hours_across_a_dst_change_and_midnight_closing() -> None:
    hours = BusinessHours.parse("sat-sun 20:00-00:00", BERLIN)
    # 2026-10-25 is the Sunday the clocks go back in Berlin.
    sat = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    mon = datetime(2026, 10, 26, 12, tzinfo=BERLIN)
    assert hours.elapsed(sat, mon) == timedelta(hours=8)


@pytest.mark.parametrize("text", ["", "someday 09:00-10:00", "mon 10:00-09:00", "mon 25:00-26:00"])
def test_bad_business_hours_are_refused(text: str) -> None:
    with pytest.raises(BusinessHoursError):
        BusinessHours.parse(text, BERLIN)


def test_cards_show_when_the_first_reply_is_due(store: Store, clock: Clock) -> None:
    b = store.add_brand(name="Acme", query="acme", actor="t")
    created = clock() - timedelta(minutes=10)
    [mid] = store.write_mentions([new_mention(b.id or 0, network="x", created_at=created)],
                                 routes={})
    assert card_for(store.view(mid)).sla_due_at == created + timedelta(hours=1)
    DigestQueries(store).set_sla(brand="acme", network="x", minutes=30, actor="ana")
    assert card_for(store.view(mid)).sla_due_at == created + timedelta(minutes=30)
    assert [e.kind for e in store.events(kind="sla_set")] == ["sla_set"]
    r = store.record_reply(mention_id=mid, text="hi", by="ana")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="1", url=None)
    assert card_for(store.view(mid)).sla_due_at is None
