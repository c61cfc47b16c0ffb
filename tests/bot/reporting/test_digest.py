"""The digest's figures from real rows, its command, its chart and the console's rendering."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console

from bot.reporting.digest.builder import DigestBuilder, percentile
from bot.reporting.digest.text import digest_lines, safe_handle
from bot.store import Store
from commands import Deps, Invocation, Role, dispatch
from integrations.chat.console.chat import ConsoleChat
from testkit.factories import new_mention
from tests.conftest import Clock

BERLIN = ZoneInfo("Europe/Berlin")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _world(store: Store, clock: Clock) -> int:
    clock.value = at(1, 9)
    b = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    bid = b.id or 0
    routes = {bid: store.routes()}
    # The 19th: 4 mentions (2 x, 2 mastodon), the 18th: 2, the 12th (a week earlier): 1.
    day = [new_mention(bid, network="x", created_at=at(19, 10), sentiment="negative", likes=3,
                       author_handle="@here", author_followers=5000),
           new_mention(bid, network="x", created_at=at(19, 11), sentiment="positive", likes=1),
           new_mention(bid, network="mastodon", created_at=at(19, 12), sentiment="neutral"),
           new_mention(bid, network="mastodon", created_at=at(19, 13), sentiment="negative")]
    clock.value = at(19, 10, 1)
    ids = store.write_mentions(day, routes=routes)
    for d in store.deliveries():
        store.delivery_sent(delivery_id=d.id or 0, message_ref="m")  # relayed at 10:01
    clock.value = at(19, 10, 11)
    store.claim(mention_id=ids[0], actor="ana")  # team: 10 min after the relay
    clock.value = at(19, 10, 30)
    r = store.record_reply(mention_id=ids[0], text="sorry", by="ana")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="1", url=None)  # 30 min: in SLA
    clock.value = at(19, 13, 0)
    r = store.record_reply(mention_id=ids[1], text="thanks", by="ben")
    store.reply_sent(reply_id=r.id or 0, network_reply_id="2", url=None)  # 2 h: breached
    store.ignore(mention_id=ids[2], actor="ben", reason="spam")
    store.write_mentions([new_mention(bid, created_at=at(18, 9)),
                          new_mention(bid, created_at=at(18, 9, 30))], routes={})
    store.write_mentions([new_mention(bid, created_at=at(12, 9))], routes={})
    store.record_followers(brand_id=bid, network="x", handle="@acme", day=at(18, 12).date(),
                           followers=990)
    store.record_followers(brand_id=bid, network="x", handle="acme", day=at(19, 12).date(),
                           followers=1000)
    return bid


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([], 0.5) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([10.0, 20.0], 0.9) == 19.0


def test_the_day_against_the_day_before_and_a_week_earlier(store: Store, clock: Clock) -> None:
    _world(store, clock)
    now = at(20, 8)
    d = DigestBuilder(store).build("console", "care", now=now)
    assert d.periods[0].label == "2026-11-19"
    assert (d.mentions.now, d.mentions.prev, d.mentions.earlier) == (4, 2, 1)
    assert d.by_network["x"].now == 2 and d.by_network["mastodon"].now == 2
    assert d.by_sentiment["negative"].now == 2
    assert d.likes.now == 4 and d.reposts.now is None  # no network gave reposts
    assert (d.replies.now, d.claims.now, d.resolves.now) == (2, 1, 0)
    assert d.response_median.now == (30 * 60 + 120 * 60) / 2
    assert d.response_p90.now == 30 * 60 + 0.9 * 90 * 60
    # Relayed at 10:01; claimed at 10:11, replied to and ignored at 13:00.
    assert (d.team_median.now, d.team_p90.now) == (179 * 60, 179 * 60)
    # The ignored mention needed no answer: 2 of 3 answered, 1 of 3 within its SLA.
    assert d.response_rate.now == 2 / 3 and d.sla_rate.now == 1 / 3
    assert {(s.network, s.met, s.breached) for s in d.sla} == {("x", 1, 1), ("mastodon", 0, 1)}
    assert [(p.person, p.replies, p.claims) for p in d.people] == [("ana", 1, 1), ("ben", 1, 0)]
    assert d.overdue_total == 3  # the mastodon one of the 19th and both of the 18th
    assert {o.network for o in d.overdue} == {"mastodon"}
    assert d.top_authors[0].followers == 5000
    [f] = d.followers
    assert (f.handle, f.followers, f.change_prev) == ("acme", 1000, 10)
    assert sum(d.hourly["negative"]) == 2 and len(d.hour_labels) == 24
    lines = digest_lines(d)
    assert "Mentions: 4 (2 / 1)" in lines
    assert not any("@here" in line for line in lines)  # a handle can never ping
    assert safe_handle("@@everyone") == "everyone"


def test_complaints_and_noise_are_counted(store: Store, clock: Clock) -> None:
    clock.value = at(1, 9)
    b = store.add_brand(name="Volt", query="volt", actor="t")
    store.add_route(brand="Volt", platform="console", channel="care", min_relevance=0.4,
                    actor="t")
    bid = b.id or 0
    clock.value = at(19, 9)
    rows = [new_mention(bid, created_at=at(19, 10), sentiment="negative", needs_reply=0.9,
                        relevance=0.9),
            new_mention(bid, created_at=at(19, 10), sentiment="negative", needs_reply=0.1,
                        relevance=0.9),
            new_mention(bid, created_at=at(19, 11), sentiment="neutral", needs_reply=0.9,
                        relevance=0.2),
            new_mention(bid, created_at=at(19, 12), sentiment="negative", needs_reply=0.8,
                        relevance=0.1),
            new_mention(bid, created_at=at(18, 12), sentiment="negative", needs_reply=0.8,
                        relevance=None)]
    ids = store.write_mentions(rows, routes={bid: store.routes()})
    d = DigestBuilder(store).build("console", "care", now=at(20, 8))
    assert (d.complaints.now, d.complaints.prev) == (2, 1)
    assert (d.noise.now, d.noise.prev) == (2, 0)
    # Noise got no card, and nothing is lost: stored, and in `list noise`.
    assert {dl.mention_id for dl in store.deliveries()} == {ids[0], ids[1], ids[4]}
    assert {v.mention.id for v in store.list_noise()} == {ids[2], ids[3]}
    # Hidden from every channel, nobody waits on them: closed at once, so neither overdue nor
    # unanswered in the response rate (the day after, the others are overdue; they are not).
    assert [store.view(i).mention.status for i in ids] == [
        "new", "new", "ignored", "ignored", "new"]
    late = DigestBuilder(store).build("console", "care", now=at(21, 8))
    assert ids[2] not in {o.mention_id for o in late.overdue}
    assert ids[3] not in {o.mention_id for o in late.overdue}
    assert ids[0] in {o.mention_id for o in late.overdue}
    lines = digest_lines(d)
    assert "  complaints (negative, needing a reply): 2 (1 / 0), 50% of mentions" in lines
    assert ("  hidden as noise: 2 (0 / 0) (below the route's minimum relevance; list noise)"
            in lines)


def test_today_so_far_compares_the_same_span(store: Store, clock: Clock) -> None:
    _world(store, clock)
    d = DigestBuilder(store).build("console", "care", now=at(19, 11, 30), kind="today")
    # Until 11:30 on each day: the 19th had 2, the 18th 2 (09:00, 09:30), the 12th 1.
    assert (d.mentions.now, d.mentions.prev, d.mentions.earlier) == (2, 2, 1)
    week = DigestBuilder(store).build("console", "care", now=at(20, 8), kind="week",
                                      day=at(19, 12).date())
    assert week.mentions.now == 6 and week.compare_labels[0] == "week before"


async def test_the_digest_command_returns_lines_cards_and_the_chart(
        store: Store, clock: Clock, tmp_path: Path) -> None:
    _world(store, clock)
    clock.value = at(20, 9)
    deps = Deps(store=store, now=clock)
    inv = Invocation(user="ana", platform="console", channel="care",
                     roles=frozenset({Role.RESPONDER}))
    result = await dispatch("/digest yesterday", inv, deps)
    assert result.ok and result.text.startswith("Digest for Acme")
    assert result.attachments[0].data[:4] == b"\x89PNG" and result.cards
    refused = await dispatch("/sla set Acme x 15", inv, deps)
    assert not refused.ok
    admin = Invocation(user="root", platform="console", roles=frozenset({Role.ADMIN}))
    assert (await dispatch("/sla set Acme x 15", admin, deps)).ok
    assert "Acme: x 15 min" in (await dispatch("/sla list", admin, deps)).lines
    chat = ConsoleChat(Console(record=True, width=200), now=clock, files_dir=tmp_path)
    chat.show(result)
    assert (tmp_path / result.attachments[0].filename).read_bytes()[:4] == b"\x89PNG"
    await chat.send_digest("care", DigestBuilder(store).build("console", "care", now=clock()),
                           result.attachments[0].data)
    out = chat.console.export_text()
    # With x at 15 minutes now, both x mentions of the 18th are overdue too.
    assert "Unanswered past their SLA: 3" in out and "[chart] saved to" in out


def test_the_digest_names_who_is_on_call_now(store: Store, clock: Clock) -> None:
    bid = _world(store, clock)
    d = DigestBuilder(store).build("console", "care", now=at(19, 11, 30))
    assert d.oncall == () and not any(line.startswith("On call") for line in digest_lines(d))
    store.set_oncall(brand_id=bid, level=1, platform="console", person="ana",
                     hours="mon-fri 09:00-17:00", timezone="Europe/Berlin", actor="t")
    store.set_oncall(brand_id=bid, level=2, platform="console", person="ben", hours=None,
                     timezone="UTC", actor="t")
    d = DigestBuilder(store).build("console", "care", now=at(19, 11, 30))
    assert "On call now: Acme: level 1 ana; level 2 ben" in digest_lines(d)
    late = DigestBuilder(store).build("console", "care", now=at(19, 22, 0))
    assert late.oncall == ("Acme: level 2 ben",)


def test_rating_trend_per_app(store: Store, clock: Clock) -> None:
    """App-store reviews (any network that sets rating and app): per app, the count and the
    average stars of the day against the day before; channels without them show no line."""
    clock.value = at(1, 9)
    b = store.add_brand(name="Acme", query="acme", actor="t")
    store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    bid = b.id or 0
    clock.value = at(19, 9)
    play = {"network": "googleplay", "app": "com.acme.app"}
    store.write_mentions([
        new_mention(bid, created_at=at(19, 10), rating=1, **play),
        new_mention(bid, created_at=at(19, 11), rating=2, **play),
        new_mention(bid, created_at=at(19, 12), rating=5, network="appstore", app="1459783120"),
        new_mention(bid, created_at=at(19, 12)),  # a post without stars: not counted
        new_mention(bid, created_at=at(18, 10), rating=4, **play),
        new_mention(bid, created_at=at(18, 11), rating=5, **play),
        new_mention(bid, created_at=at(12, 10), rating=3, **play),
    ], routes={})
    d = DigestBuilder(store).build("console", "care", now=at(20, 8))
    by_app = {(r.network, r.app): r for r in d.ratings}
    assert list(by_app) == [("googleplay", "com.acme.app"), ("appstore", "1459783120")]
    play_trend = by_app[("googleplay", "com.acme.app")]
    assert (play_trend.count.now, play_trend.count.prev, play_trend.count.earlier) == (2, 2, 1)
    assert (play_trend.average.now, play_trend.average.prev,
            play_trend.average.earlier) == (1.5, 4.5, 3.0)
    apple = by_app[("appstore", "1459783120")]
    assert (apple.count.now, apple.count.prev, apple.average.prev) == (1, 0, None)
    lines = digest_lines(d)
    assert ("Ratings: com.acme.app on googleplay 1.5★ from 2 (4.5★ from 2 / 3.0★ from 1), "
            "down 3.0★; 1459783120 on appstore 5.0★ from 1 (- from 0 / - from 0)") in lines
    # A channel whose brands have no rated mentions: no ratings line.
    store.add_brand(name="Volt", query="volt", actor="t")
    store.add_route(brand="Volt", platform="console", channel="volt", actor="t")
    quiet = DigestBuilder(store).build("console", "volt", now=at(20, 8))
    assert quiet.ratings == () and not any(x.startswith("Ratings") for x in digest_lines(quiet))
