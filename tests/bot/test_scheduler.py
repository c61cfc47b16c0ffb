"""The scheduler's jobs with an injected clock, and its APScheduler wiring."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.chat import ChatError
from bot.reporting.digest.builder import DigestBuilder
from bot.reporting.digest.model import Digest
from bot.reporting.digest.poster import DigestPoster
from bot.reporting.digest.queries import DigestQueries
from bot.reporting.sla.monitor import SlaMonitor
from bot.scheduler import Scheduler
from bot.store import Store
from testkit.factories import new_mention
from tests.conftest import Clock


class Chat:
    """A chat that takes digests and notices (bot.chat.DigestSink, bot.chat.Notifier)."""

    platform = "console"

    def __init__(self) -> None:
        self.digests: list[tuple[str, Digest, bytes]] = []
        self.notices: list[tuple[str, str, str | None]] = []
        self.fail: list[Exception] = []

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str:
        if self.fail:
            raise self.fail.pop(0)
        self.digests.append((channel, digest, chart_png))
        return f"{channel}/{len(self.digests)}"

    async def notify(self, channel: str, text: str, *, person: str | None = None,
                     thread: Sequence[str] = ()) -> str:
        self.notices.append((channel, text, person))
        return f"{channel}/n{len(self.notices)}"


def _setup(store: Store, clock: Clock) -> int:
    clock.value = datetime(2026, 11, 10, 9, tzinfo=UTC)
    b = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    return b.id or 0


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


async def test_the_digest_is_posted_once_at_the_local_hour_even_across_a_restart(
        store: Store, clock: Clock) -> None:
    bid = _setup(store, clock)
    store.write_mentions([new_mention(bid, created_at=berlin(2026, 11, 19, 14))], routes={})
    chat = Chat()
    poster = DigestPoster(store, DigestBuilder(store), {"console": chat})
    # Before 08:00 the latest due day is the 18th (the 19th is due at 08:00 on the 20th).
    assert [p.day.isoformat() for p in await poster.run_due(berlin(2026, 11, 20, 7, 59))] == \
        ["2026-11-18"]
    [posted] = await poster.run_due(berlin(2026, 11, 20, 8, 0))
    assert (posted.channel, posted.day.isoformat()) == ("care", "2026-11-19")
    assert chat.digests[1][1].mentions.now == 1 and chat.digests[1][2][:4] == b"\x89PNG"
    assert await poster.run_due(berlin(2026, 11, 20, 8, 0)) == []  # the job fired twice
    restarted = DigestPoster(store, DigestBuilder(store), {"console": chat})
    assert await restarted.run_due(berlin(2026, 11, 20, 9, 30)) == []
    assert len(chat.digests) == 2
    runs = DigestQueries(store).digest_runs()
    assert [(r.day.isoformat(), r.state, r.message_ref) for r in runs] == [
        ("2026-11-18", "sent", "care/1"), ("2026-11-19", "sent", "care/2")]


async def test_a_missed_digest_is_caught_up_and_a_refused_one_retried(
        store: Store, clock: Clock) -> None:
    _setup(store, clock)
    chat = Chat()
    chat.fail.append(ChatError("rate limited", retry_after=3))
    poster = DigestPoster(store, DigestBuilder(store), {"console": chat})
    # Down from the 19th until the 22nd at 10:00: only the latest missed day is posted.
    assert await poster.run_due(berlin(2026, 11, 22, 10, 0)) == []
    [run] = DigestQueries(store).digest_runs()
    assert run.state == "failed" and "rate limited" in (run.error or "")
    [posted] = await poster.run_due(berlin(2026, 11, 22, 10, 5))
    assert posted.day.isoformat() == "2026-11-21" and len(chat.digests) == 1
    [run] = DigestQueries(store).digest_runs()
    assert (run.state, run.attempts) == ("sent", 2)


async def test_no_digest_for_a_day_before_the_channel_existed(store: Store,
                                                              clock: Clock) -> None:
    clock.value = berlin(2026, 11, 20, 12, 0)
    store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    chat = Chat()
    poster = DigestPoster(store, DigestBuilder(store), {"console": chat})
    assert await poster.run_due(berlin(2026, 11, 20, 12, 5)) == []
    assert [p.day.isoformat() for p in await poster.run_due(berlin(2026, 11, 21, 8, 0))] == \
        ["2026-11-20"]


def test_two_runners_race_for_one_digest_and_one_wins(store: Store, clock: Clock) -> None:
    _setup(store, clock)
    q = DigestQueries(store)
    day = date(2026, 11, 19)
    first = q.claim_digest("console", "care", day)
    assert first is not None and q.claim_digest("console", "care", day) is None


async def test_the_channel_time_zone_and_hour_drive_the_cron_trigger(store: Store,
                                                                     clock: Clock) -> None:
    _setup(store, clock)
    DigestQueries(store).set_prefs("console", "care", timezone="America/New_York",
                                   digest_hour=7)
    chat = Chat()
    sched = Scheduler(store, DigestBuilder(store), sinks={"console": chat},
                      notifiers={"console": chat}, now=clock)
    sched.configure()
    jobs = {j.id: j for j in sched.aps.get_jobs()}
    assert set(jobs) == {"digest:console:care", "sla", "escalation", "publish", "refresh"}
    trigger = jobs["digest:console:care"].trigger
    assert isinstance(trigger, CronTrigger) and str(trigger.timezone) == "America/New_York"
    after = datetime(2026, 11, 20, 13, 0, tzinfo=UTC)  # 08:00 in New York
    fire = trigger.get_next_fire_time(None, after)
    assert fire == datetime(2026, 11, 21, 7, 0, tzinfo=ZoneInfo("America/New_York"))


async def test_sla_reminders_before_and_at_the_breach_once_each(store: Store,
                                                                 clock: Clock) -> None:
    bid = _setup(store, clock)
    t0 = clock()
    ids = store.write_mentions([new_mention(bid, network="x", created_at=t0),
                                new_mention(bid, network="x", created_at=t0)],
                               routes={bid: store.routes()})
    for d in store.deliveries():
        store.delivery_sent(delivery_id=d.id or 0, message_ref="m")
    store.claim(mention_id=ids[0], actor="ana")
    chat = Chat()
    sla = SlaMonitor(store, {"console": chat})
    assert await sla.run_due(t0 + timedelta(minutes=40)) == 0
    assert await sla.run_due(t0 + timedelta(minutes=46)) == 2
    assert sorted(p or "-" for _, _, p in chat.notices) == ["-", "ana"]
    assert "due in 14 min" in chat.notices[0][1]
    assert await sla.run_due(t0 + timedelta(minutes=50)) == 0
    assert await sla.run_due(t0 + timedelta(minutes=61)) == 2
    assert len(store.events(kind="sla_warning")) == len(store.events(kind="sla_breach")) == 2
    assert await SlaMonitor(store, {"console": chat}).run_due(t0 + timedelta(minutes=90)) == 0
