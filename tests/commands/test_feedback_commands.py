"""The team's feedback commands through the whole bot: notus, noreply, sentiment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.store import Store
from commands import Role
from testkit.factories import post
from tests.commands.test_commands import DeskBot
from tests.conftest import Clock


@pytest.fixture
def bot(store: Store, clock: Clock, tmp_path: Path) -> DeskBot:
    store.add_brand(name="Volt", query="volt", actor="setup")
    store.add_route(brand="Volt", platform="console", channel="care", actor="setup")
    return DeskBot(store, clock, tmp_path)


async def test_not_about_us_closes_the_card_and_teaches(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("Volt the band live tonight", lang="en"))
    card = bot.chat.sent[-1][1]
    assert card.feedback == ("notus", "noreply", "sentiment_negative", "sentiment_positive")
    assert (f"teach: notus {mid} · noreply {mid}" in bot.out.getvalue()
            and f"sentiment {mid} negative|positive" in bot.out.getvalue())
    result = await bot.say(f"/notus {mid}")
    assert (result.ok, result.text) == (True, f"#{mid}: noted as not about us (ignored).")
    assert bot.store.view(mid).mention.status == "ignored"
    assert {(f.target, f.label) for f in bot.store.feedback(mention_id=mid)} == {
        ("relevance", "0"), ("needs_reply", "0")}
    assert f"updated #{mid} · Volt · mastodon · IGNORED" in bot.out.getvalue()


async def test_no_reply_needed(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("volt charger works great", lang="en"))
    result = await bot.say(f"/noreply #{mid}")
    assert result.ok and result.text == f"#{mid}: noted as needing no reply (ignored)."
    [row] = bot.store.feedback(mention_id=mid)
    assert (row.target, row.label, row.actor) == ("needs_reply", "0", "ana")


async def test_a_sentiment_correction_shows_on_the_card(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("volt: 45 min on hold, then the call drops", lang="en"))
    result = await bot.say(f"/sentiment {mid} neg")
    assert (result.ok, result.text) == (True, f"#{mid} is negative now (set by ana).")
    shown = await bot.say(f"/show {mid}")
    [card] = shown.cards
    assert (card.sentiment, card.sentiment_score, card.sentiment_by) == ("negative", -1.0, "ana")
    assert card.feedback == ("notus", "noreply", "sentiment_neutral", "sentiment_positive")
    [event] = bot.store.events(mention_id=mid, kind="sentiment_corrected")
    assert event.actor == "ana"


async def test_bad_feedback_gets_one_clear_line(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("volt?", lang="en"))
    cases = {
        "/notus": "notus: usage: notus <id>",
        "/noreply x": "noreply: expected a mention id such as 42 or #42, not 'x'",
        "/notus 99999": "no mention #99999",
        f"/sentiment {mid}": "sentiment: usage: sentiment <id> negative|neutral|positive",
        f"/sentiment {mid} angry": "sentiment: expected negative, neutral, positive, not "
                                   "'angry'",
        f"/sentiment {mid} ne": "sentiment: expected negative, neutral, positive, not 'ne'",
        f"/sentiment {mid} negative very": "sentiment: usage: sentiment <id> "
                                           "negative|neutral|positive",
    }
    for line, expected in cases.items():
        result = await bot.say(line)
        assert (result.ok, result.text) == (False, expected), line
    refused = await bot.say(f"/notus {mid}", user="guest", roles=frozenset())
    assert not refused.ok and "only people allowed to answer customers" in refused.text
    assert (await bot.say(f"/sentiment {mid} positive", roles=frozenset({Role.ADMIN}))).ok


CONCERTS = (
    "Volt the band live tonight at the arena, what a gig",
    "Volt played their new album live at the club tonight",
    "saw Volt live tonight, the band was amazing on stage",
    "Volt the band announce a tour, tickets for the gig on sale",
    "the band Volt live on stage tonight, great concert",
    "Volt drummer was on fire at the gig tonight",
    "Volt new single from the band is out, live tour next",
    "Volt concert tonight, the band sounded great live",
)


async def test_not_about_us_lowers_the_relevance_of_the_next_similar_post_below_a_route(
    store: Store, clock: Clock, tmp_path: Path
) -> None:
    """The pipeline applies what the team taught before it stores and routes: after "not about
    us" on posts about a band of the same name, the next such post is stored with a lower
    relevance, under the route's minimum: hidden as noise, and `list noise` shows it."""
    from bot.triage import analyze
    from bot.triage.brands import brand_terms

    store.add_brand(name="Volt", query="volt", actor="setup")
    store.add_route(brand="Volt", platform="console", channel="care", min_relevance=0.4,
                    actor="setup")
    bot = DeskBot(store, clock, tmp_path)
    taught = await bot.ingest(*(post(t, lang="en") for t in CONCERTS))
    assert len(taught) == len(CONCERTS)
    # Before any feedback the base relevance is above the route's minimum: all are carded.
    assert {c.mention_id for _, c in bot.chat.sent} >= set(taught)
    for mid in taught:
        assert (await bot.say(f"/notus {mid}")).ok

    text = "Volt the band play a live gig at the festival tonight"
    base = analyze(text, lang="en", network="mastodon", brand=brand_terms("Volt", "volt"))
    assert base.relevance is not None and base.relevance >= 0.4
    sent_before = len(bot.chat.sent)
    [gig] = await bot.ingest(post(text, lang="en"))
    stored = store.view(gig).mention
    assert stored.relevance is not None and stored.relevance < base.relevance - 0.1
    assert stored.relevance < 0.4
    assert gig not in [c.mention_id for _, c in bot.chat.sent[sent_before:]]
    noise = await bot.say("/list noise Volt")
    assert [c.mention_id for c in noise.cards] == [gig]
    assert noise.cards[0].relevance == stored.relevance


async def test_a_sentiment_correction_recomputes_the_priority(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("volt charger works great, love it", lang="en", followers=20))
    before = bot.store.view(mid).mention
    assert (before.sentiment, before.priority) == ("positive", "low")
    assert (await bot.say(f"/sentiment {mid} negative")).ok
    after = bot.store.view(mid).mention
    assert (after.sentiment, after.priority) == ("negative", "high")
