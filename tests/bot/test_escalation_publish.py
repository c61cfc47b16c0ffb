"""The escalation ladder and scheduled publishing with an injected clock, on SQLite and
PostgreSQL (issue 17, items 3 and 4): the pings and the jobs are recorded before anything is
sent, so a second runner (a restart, another leader) sends nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.networks import PostedReply, ReplyUncertain
from bot.publishing import PublishMonitor
from bot.reporting.sla.escalation import EscalationMonitor
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock


class Chat:
    """A chat that takes notices and direct messages (bot.chat.Notifier, DirectMessenger)."""

    platform = "console"

    def __init__(self) -> None:
        self.notices: list[tuple[str, str, str | None]] = []
        self.dms: list[tuple[str, str]] = []

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        self.notices.append((channel, text, person))
        return f"{channel}/{len(self.notices)}"

    async def direct(self, person: str, text: str) -> str:
        self.dms.append((person, text))
        return f"dm/{len(self.dms)}"


class Account:
    """The brand's account on a network, as a bot.networks.Publisher (the network modules
    are tested against their fakes in tests/integrations/networks/test_publishers.py)."""

    network = "mastodon"

    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []
        self.fail: list[Exception] = []

    def check(self, text: str) -> str | None:
        return "too long" if len(text) > 500 else None

    async def publish(self, *, text: str, key: str) -> PostedReply:
        if self.fail:
            raise self.fail.pop(0)
        self.posts.append((text, key))
        return PostedReply(id=str(len(self.posts)), url=f"https://social.example/{key}")


def _brand(store: Store) -> int:
    b = store.add_brand(name="Acme", query="acme", actor="t")
    return b.id or 0


async def test_the_ladder_pings_level_1_then_level_2_and_stops_when_claimed(
        store: Store, clock: Clock) -> None:
    bid = _brand(store)
    created = clock.value = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    [mid, other] = store.write_mentions([new_mention(bid, created_at=created),
                                          new_mention(bid, created_at=created)], routes={})
    store.set_oncall(brand_id=bid, level=1, platform="console", person="ana", hours=None,
                     timezone="UTC", actor="t")
    store.set_oncall(brand_id=bid, level=2, platform="console", person="ben",
                     hours="mon-fri 09:00-18:00", timezone="Europe/Berlin", actor="t")
    store.set_oncall(brand_id=bid, level=2, platform="console", person="cem",
                     hours="sat-sun 09:00-18:00", timezone="Europe/Berlin", actor="t")
    chat = Chat()
    monitor = EscalationMonitor(store, {"console": chat}, {"console": chat})
    second = EscalationMonitor(store, {"console": chat}, {"console": chat})  # another leader
    target = timedelta(minutes=60)  # mastodon's default first-response target
    assert await monitor.run_due(created + target * 0.74) == 0
    clock.value = created + target * 0.75
    assert await monitor.run_due(clock.value) == 2
    assert await second.run_due(clock.value) == 0  # recorded: never twice
    # One message per person and run, naming each mention.
    [(person, text)] = chat.dms
    assert person == "ana"
    assert text.startswith("Escalation (level 1): nobody has claimed 2 mentions: ")
    assert f"#{mid} for Acme on mastodon is due in 15 min" in text and f"#{other} " in text
    store.claim(mention_id=other, actor="ana")  # someone claims: the ladder stops for it
    clock.value = created + target  # Friday 10:00 in Berlin: ben is on duty, cem is not
    assert await monitor.run_due(clock.value) == 1
    assert chat.dms[-1][0] == "ben" and f"#{mid} " in chat.dms[-1][1]
    assert "breaches its SLA now" in chat.dms[-1][1]
    assert await second.run_due(clock.value) == 0
    # A target later: the top level again, then a claim ends it.
    clock.value = created + 2 * target
    assert await monitor.run_due(clock.value) == 1
    store.claim(mention_id=mid, actor="ben")
    clock.value = created + 3 * target
    assert await monitor.run_due(clock.value) == 0
    pings = list(store.events(kind="escalation_ping"))
    assert [(e.mention_id, e.actor) for e in pings] == [
        (mid, "scheduler"), (other, "scheduler"), (mid, "scheduler"), (mid, "scheduler")]


async def test_a_deleted_post_is_not_escalated(store: Store, clock: Clock) -> None:
    bid = _brand(store)
    created = clock.value
    [mid] = store.write_mentions([new_mention(bid, created_at=created)], routes={})
    store.set_oncall(brand_id=bid, level=1, platform="console", person="ana", hours=None,
                     timezone="UTC", actor="t")
    store.mark_deleted(mention_id=mid, actor="mastodon", how="stream")
    chat = Chat()
    monitor = EscalationMonitor(store, {"console": chat}, {"console": chat})
    assert await monitor.run_due(created + timedelta(hours=2)) == 0 and chat.dms == []


async def test_a_scheduled_publish_goes_out_once_when_due(store: Store, clock: Clock) -> None:
    bid = _brand(store)
    _row, _ = store.prepare_post(brand_id=bid, event="final", outcome="win", network="mastodon",
                                text="We won!", actor="ana")
    due = clock.value + timedelta(hours=1)
    job = store.schedule_publish(brand_id=bid, event="final", outcome="win", due_at=due,
                                 actor="ana", platform="console", channel="care")
    account, chat = Account(), Chat()
    monitor = PublishMonitor(store, {"mastodon": account}, {"console": chat})
    other = PublishMonitor(store, {"mastodon": account}, {"console": chat})
    assert await monitor.run_due(due - timedelta(seconds=1)) == 0
    assert await monitor.run_due(due) == 1
    assert await other.run_due(due) == 0
    assert account.posts == [("We won!", "echtzeit-publication-1")]
    assert chat.notices[0][0] == "care" and "mastodon: posted" in chat.notices[0][1]
    [done] = store.publish_jobs(states=("done",))
    assert done.id == job.id and done.result is not None
    # Publishing it again by hand is refused (sent already).
    with_hand = store.prepared_posts()[0].publication
    assert with_hand is not None and with_hand.state == "sent"


async def test_a_runner_that_died_leaves_its_job_to_the_next_without_a_double_post(
        store: Store, clock: Clock) -> None:
    bid = _brand(store)
    store.prepare_post(brand_id=bid, event="final", outcome="win", network="mastodon",
                       text="We won!", actor="ana")
    store.schedule_publish(brand_id=bid, event="final", outcome="win", due_at=clock.value,
                           actor="ana", platform="console", channel="care")
    # A leader took the job, recorded the post and died before it heard the network's answer.
    job = store.take_due_job(now=clock.value)
    assert job is not None
    [view] = store.prepared_posts()
    pub = store.record_publication(prepared_id=view.post.id or 0, by="scheduled by ana")
    assert store.take_due_job(now=clock.value) is None  # leased to the dead runner
    account, chat = Account(), Chat()
    monitor = PublishMonitor(store, {"mastodon": account}, {"console": chat})
    assert await monitor.run_due(clock.value + timedelta(minutes=6)) == 1  # lease ran out
    assert account.posts == []  # pending on record: maybe posted, so not posted again
    assert "pending already" in chat.notices[0][1]
    assert pub.id is not None


async def test_an_unclear_outcome_is_not_retried(store: Store, clock: Clock) -> None:
    bid = _brand(store)
    store.prepare_post(brand_id=bid, event="final", outcome="win", network="mastodon",
                       text="We won!", actor="ana")
    store.schedule_publish(brand_id=bid, event="final", outcome="win", due_at=clock.value,
                           actor="ana", platform="console", channel="care")
    account, chat = Account(), Chat()
    account.fail.append(ReplyUncertain("timeout"))
    assert await PublishMonitor(store, {"mastodon": account}, {"console": chat}).run_due(
        clock.value) == 1
    assert "unclear whether it was posted" in chat.notices[0][1]
    assert store.prepared_posts()[0].publication.state == "unknown"  # type: ignore[union-attr]
