"""Approvals and AI drafts through the whole bot (store, commands, relay, console chat), with the
AI endpoint faked at its HTTP boundary (testkit/fake_openai.py, a local chat-completions server)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bot.store import Store
from commands import Role
from integrations.ai.chat_completions import ChatCompletionsDrafter
from integrations.ai.settings import AiSettings
from testkit.factories import post
from testkit.fake_openai import FakeChatCompletions, Fault
from tests.commands.test_commands import DeskBot
from tests.conftest import Clock

RESPONDER = frozenset({Role.RESPONDER})
APPROVER = frozenset({Role.RESPONDER, Role.APPROVER})
KEY = "sk-test-0123456789abcdef"


@pytest.fixture
def bot(store: Store, clock: Clock, tmp_path: Path) -> Iterator[DeskBot]:
    store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="console", channel="care", actor="setup")
    store.set_brand_approval(name="Acme", approval="required", networks=[], min_priority="",
                             actor="setup")
    yield DeskBot(store, clock, tmp_path)


@pytest.fixture
async def fake_ai() -> AsyncIterator[FakeChatCompletions]:
    fake = await FakeChatCompletions(key=KEY, hang_seconds=5).start()
    yield fake
    await fake.stop()


@pytest.fixture
async def ai_bot(bot: DeskBot, fake_ai: FakeChatCompletions) -> AsyncIterator[DeskBot]:
    settings = AiSettings(base_url=fake_ai.base_url, model="fake-care-1",
                          api_key=SecretStr(KEY), timeout_seconds=0.5)
    async with httpx.AsyncClient() as client:
        bot.deps.drafter = ChatCompletionsDrafter(settings, client)
        yield bot


def kinds(store: Store, mid: int) -> list[str]:
    return [e.kind for e in store.events(mention_id=mid)]


async def test_a_reply_waits_for_a_second_person_and_is_sent_once(bot: DeskBot,
                                                                 clock: Clock) -> None:
    [mid] = await bot.ingest(post("acme lost my parcel", lang="en"))
    waiting = await bot.say(f"reply {mid} Sorry, we are on it!", user="ana")
    assert waiting.ok and "waits for approval" in waiting.text
    assert bot.sent_replies() == []
    card = bot.store.view(mid)
    assert card.replies == [] and card.draft is not None and card.draft.state == "awaiting"
    shown = bot.deps.card(card)
    assert shown.actions[:3] == ("approve", "edit", "reject") and "reply" not in shown.actions
    assert "awaiting approval" in (shown.draft_line or "")
    assert "Draft by ana: awaiting approval" in bot.out.getvalue()  # the card was redrawn

    # The author cannot approve their own reply, even as an approver.
    own = await bot.say(f"approve {mid}", user="ana", roles=APPROVER)
    assert not own.ok and "someone else must approve it" in own.text
    # A responder without the approver role may not approve.
    plain = await bot.say(f"approve {mid}", user="cem", roles=RESPONDER)
    assert not plain.ok and "only approvers" in plain.text
    assert bot.sent_replies() == []

    clock.advance(minutes=4)
    ok = await bot.say(f"approve {mid}", user="bea", roles=APPROVER)
    assert ok.ok and "Approved the reply by ana" in ok.text, ok.text
    sent = bot.sent_replies()
    assert [r["text"] for r in sent] == ["Sorry, we are on it!"]
    again = await bot.say(f"approve {mid}", user="dan", roles=APPROVER)
    assert not again.ok and "no reply awaiting approval" in again.text
    assert len(bot.sent_replies()) == 1
    view = bot.store.view(mid)
    assert [(r.by, r.state) for r in view.replies] == [("ana", "sent")]
    assert view.draft is not None and view.draft.decided_by == "bea"
    events = {e.kind: e for e in bot.store.events(mention_id=mid)}
    approved = json.loads(events["draft_approved"].detail)
    assert events["draft_approved"].actor == "bea"
    assert approved["text"] == "Sorry, we are on it!" and approved["waited_seconds"] == 240
    assert kinds(bot.store, mid)[-4:] == ["draft_submitted", "reply_recorded", "draft_approved",
                                          "replied"]


async def test_two_approvers_at_once_send_one_reply(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme app crashes", lang="en"))
    await bot.say(f"reply {mid} We are fixing it.", user="ana")
    results = await asyncio.gather(bot.say(f"approve {mid}", user="bea", roles=APPROVER),
                                   bot.say(f"approve {mid}", user="cem", roles=APPROVER))
    assert sorted(r.ok for r in results) == [False, True]
    assert len(bot.sent_replies()) == 1


async def test_an_edited_reply_is_approved_by_someone_other_than_the_editor(
        bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme charged me twice", lang="en"))
    await bot.say(f"reply {mid} Sorry about that", user="ana")
    # Only approvers edit another person's reply awaiting approval.
    refused = await bot.say(f"edit {mid} hacked", user="cem", roles=RESPONDER)
    assert not refused.ok and "only approvers" in refused.text
    edited = await bot.say(f"edit {mid} Sorry about that; a refund is on its way.", user="bea",
                           roles=APPROVER)
    assert edited.ok and "someone other than you" in edited.text
    assert bot.deps.card(bot.store.view(mid)).draft_edited_by == "bea"
    mine = await bot.say(f"approve {mid}", user="bea", roles=APPROVER)
    assert not mine.ok and "you edited this reply" in mine.text
    assert bot.sent_replies() == []
    ok = await bot.say(f"approve {mid}", user="dan", roles=APPROVER)
    assert ok.ok
    assert [r["text"] for r in bot.sent_replies()] == [
        "Sorry about that; a refund is on its way."]
    edit_event = next(e for e in bot.store.events(mention_id=mid) if e.kind == "draft_edited")
    assert edit_event.actor == "bea"
    assert json.loads(edit_event.detail)["text"] == "Sorry about that; a refund is on its way."


async def test_a_rejection_carries_its_reason_to_the_author(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme support is useless", lang="en"))
    await bot.say(f"reply {mid} lol", user="ana")
    missing = await bot.say(f"reject {mid}", user="bea", roles=APPROVER)
    assert not missing.ok and "reason" in missing.text
    no = await bot.say(f"reject {mid} Too flippant; apologise and offer a DM <!channel>",
                       user="bea", roles=APPROVER)
    assert no.ok
    [notice] = no.notices
    assert (notice.platform, notice.user) == ("console", "ana")
    assert "rejected by bea: Too flippant" in notice.text
    assert bot.sent_replies() == []
    view = bot.store.view(mid)
    assert view.draft is not None and view.draft.state == "rejected"
    assert "rejected by bea" in (bot.deps.card(view).draft_line or "")
    assert "reply" in bot.deps.card(view).actions  # she may write a better one
    again = await bot.say(f"reply {mid} We are sorry; please DM us your order number.",
                          user="ana")
    assert "waits for approval" in again.text


async def test_no_reply_passes_one_awaiting_approval_even_after_the_rule_changed(
        bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme refund please", lang="en"))
    await bot.say(f"reply {mid} We will check.", user="ana")
    bot.store.set_brand_approval(name="Acme", approval="none", networks=[], min_priority="",
                                 actor="setup")
    direct = await bot.say(f"reply {mid} Refund done!", user="cem")
    assert not direct.ok and "awaits approval" in direct.text
    assert (await bot.say(f"approve {mid}", user="bea", roles=APPROVER)).ok
    assert [r["text"] for r in bot.sent_replies()] == ["We will check."]


async def test_the_rule_may_cover_some_networks_and_priorities(bot: DeskBot) -> None:
    bot.store.set_brand_approval(name="Acme", approval="required", networks=["x"],
                                 min_priority="", actor="setup")
    [m1] = await bot.ingest(post("acme is fine", lang="en", network="mastodon"))
    direct = await bot.say(f"reply {m1} Thanks!", user="ana")
    assert direct.ok and direct.text.startswith("Replied to")
    [m2] = await bot.ingest(post("acme on x is fine too", lang="en", network="x", external_id="x1"))
    held = await bot.say(f"reply {m2} Thanks!", user="ana")
    assert "waits for approval" in held.text
    bot.store.set_brand_approval(name="Acme", approval="required", networks=[],
                                 min_priority="urgent", actor="setup")
    [m3] = await bot.ingest(post("acme is nice", lang="en", external_id="m3"))
    assert (await bot.say(f"reply {m3} Thanks!", user="ana")).text.startswith("Replied to")


async def test_brand_commands_set_the_rule_and_the_voice(bot: DeskBot) -> None:
    admin = frozenset({Role.ADMIN})
    r = await bot.say("brand approval Acme required networks=x,bluesky min=high", roles=admin)
    assert r.ok and r.text == "Acme: approval required on x, bluesky for high priority and up."
    bad = await bot.say("brand approval Acme sometimes", roles=admin)
    assert not bad.ok and "usage: brand approval" in bad.text
    v = await bot.say("brand voice Acme Warm, brief, first names, no emoji.", roles=admin)
    assert v.ok and bot.store.brand(name="Acme").voice == "Warm, brief, first names, no emoji."
    listed = await bot.say("brand list", roles=admin)
    assert "approval required on x, bluesky" in listed.lines[0]


# --- AI drafts ---------------------------------------------------------------------------------


async def test_without_an_endpoint_ai_drafts_say_they_are_not_configured(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme help", lang="en"))
    r = await bot.say(f"draft {mid}")
    assert not r.ok and "AI drafts are not configured" in r.text
    assert "draft" not in bot.deps.card(bot.store.view(mid)).actions


async def test_an_ai_draft_is_shown_then_sent_by_a_person_through_approval(
        ai_bot: DeskBot, fake_ai: FakeChatCompletions, caplog: pytest.LogCaptureFixture) -> None:
    bot = ai_bot
    caplog.set_level(logging.DEBUG)
    bot.store.set_brand_voice(name="Acme", voice="Warm and brief. Sign with ^A.", actor="x")
    bot.store.add_template(name="sorry", text="So sorry, {name}! DM us please.", actor="x")
    [first] = await bot.ingest(post("acme order 123 never came", lang="en", external_id="p1"))
    [mid] = await bot.ingest(post("acme still nothing?! <@U999> @everyone", lang="en",
                                  external_id="p2"))
    bot.store.engine.dispose()
    with bot.store.session() as s:  # the second post answers the first (as stored by sources)
        from bot.models import Mention

        m = s.get(Mention, mid)
        assert m is not None
        m.in_reply_to = "p1"
    assert "draft" in bot.deps.card(bot.store.view(mid)).actions
    fake_ai.replies.append("Hi! We're so sorry @everyone <!here> - DM us your order. ^A")
    r = await bot.say(f"draft {mid}", user="ana")
    assert r.ok and r.ephemeral and "not sent" in r.text, r.text
    [card] = r.cards
    assert card.draft_state == "suggested" and card.draft_origin == "ai"
    assert card.draft_text == "Hi! We're so sorry @everyone <!here> - DM us your order. ^A"
    assert card.actions[:2] == ("send", "edit")
    assert bot.sent_replies() == []
    # What the endpoint was asked: the rules, the voice, the templates, the thread, the
    # author's history, the language and the network's length.
    [body] = fake_ai.requests
    assert body["model"] == "fake-care-1" and body["max_tokens"] == 600
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "Warm and brief" in system and "So sorry, {name}!" in system
    assert "(language code en)" in system and "at most 450 characters" in system  # mastodon
    assert "> acme order 123 never came" in user
    assert "acme still nothing?!" in user
    assert fake_ai.headers[0]["Authorization"] == f"Bearer {KEY}"
    assert KEY not in caplog.text

    sent = await bot.say(f"send {mid}", user="ana")
    assert "waits for approval" in sent.text and bot.sent_replies() == []
    approved = await bot.say(f"approve {mid}", user="bea", roles=APPROVER)
    assert approved.ok
    assert [r["text"] for r in bot.sent_replies()] == [card.draft_text]
    ev = [e.kind for e in bot.store.events(mention_id=mid)]
    assert ev.index("draft_suggested") < ev.index("draft_submitted") < ev.index(
        "draft_approved") < ev.index("replied")
    assert first != mid


async def test_without_approval_send_posts_the_draft_once(ai_bot: DeskBot,
                                                          fake_ai: FakeChatCompletions) -> None:
    bot = ai_bot
    bot.store.set_brand_approval(name="Acme", approval="none", networks=[], min_priority="",
                                 actor="x")
    [mid] = await bot.ingest(post("acme where is my parcel", lang="en"))
    fake_ai.replies.append("We are checking, one moment!")
    await bot.say(f"draft {mid}", user="ana")
    edited = await bot.say(f"edit {mid} We are checking; one moment, please!", user="ana")
    assert edited.ok and "send it with" in edited.text
    r = await bot.say(f"send {mid}", user="ana")
    assert r.ok and r.text.startswith("Replied to"), r.text
    again = await bot.say(f"send {mid}", user="ana")
    assert not again.ok
    assert [x["text"] for x in bot.sent_replies()] == ["We are checking; one moment, please!"]


async def test_a_long_draft_is_cut_to_the_networks_length(ai_bot: DeskBot,
                                                          fake_ai: FakeChatCompletions) -> None:
    bot = ai_bot
    [mid] = await bot.ingest(post("acme is slow", lang="en", network="x", external_id="x9"))
    fake_ai.replies.append("word " * 200)
    r = await bot.say(f"draft {mid}", user="ana")
    assert r.ok and "cut to the network's length" in r.text
    text = r.cards[0].draft_text or ""
    assert len(text) <= 280 and text.endswith("…")


@pytest.mark.parametrize(("fault", "line"), [
    ("http500", "refused (HTTP 500): server_error: The server had an error"),
    ("429", "rate-limited (HTTP 429); try again in 20 s"),
    ("malformed", "answer was not JSON"),
    ("no_choices", "has no choices"),
    ("content_filter", "content filter withheld the draft"),
    ("refusal", "the model refused to draft this reply"),
    ("empty", "returned an empty draft"),
    ("length", "cut off at its token limit"),
    ("hang", "did not answer within 0.5 s"),
])
async def test_endpoint_failures_get_a_clear_line_and_nothing_is_stored(
        ai_bot: DeskBot, fake_ai: FakeChatCompletions, fault: str, line: str) -> None:
    bot = ai_bot
    [mid] = await bot.ingest(post("acme broke", lang="en"))
    fake_ai.replies.extend([Fault(fault)])
    r = await bot.say(f"draft {mid}", user="ana")
    assert not r.ok and line in r.text, r.text
    assert r.text.startswith(f"No AI draft for #{mid}: ")
    assert bot.store.view(mid).draft is None and bot.sent_replies() == []


async def test_a_wrong_key_is_refused_and_never_shown(bot: DeskBot, fake_ai: FakeChatCompletions,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    settings = AiSettings(base_url=fake_ai.base_url, model="fake-care-1",
                          api_key=SecretStr("sk-wrong-secret"), timeout_seconds=2)
    [mid] = await bot.ingest(post("acme hi", lang="en"))
    async with httpx.AsyncClient() as client:
        bot.deps.drafter = ChatCompletionsDrafter(settings, client)
        r = await bot.say(f"draft {mid}")
    assert not r.ok and "HTTP 401" in r.text and "invalid_api_key" in r.text
    assert "sk-wrong-secret" not in r.text and "sk-wrong-secret" not in caplog.text


async def test_an_unknown_model_and_an_unreachable_endpoint(bot: DeskBot,
                                                            fake_ai: FakeChatCompletions) -> None:
    [mid] = await bot.ingest(post("acme hi", lang="en"))
    async with httpx.AsyncClient() as client:
        bot.deps.drafter = ChatCompletionsDrafter(AiSettings(
            base_url=fake_ai.base_url, model="nope", api_key=SecretStr(KEY)), client)
        r = await bot.say(f"draft {mid}")
        assert not r.ok and "HTTP 404" in r.text and "model_not_found" in r.text
        bot.deps.drafter = ChatCompletionsDrafter(AiSettings(
            base_url="http://127.0.0.1:9/v1", model="fake-care-1"), client)
        r = await bot.say(f"draft {mid}")
        assert not r.ok and "could not be reached (ConnectError)" in r.text


async def test_no_draft_while_a_reply_awaits_approval(ai_bot: DeskBot) -> None:
    bot = ai_bot
    [mid] = await bot.ingest(post("acme hello", lang="en"))
    await bot.say(f"reply {mid} Hello!", user="ana")
    r = await bot.say(f"draft {mid}", user="cem")
    assert not r.ok and "awaits approval" in r.text


def test_fake_faults_are_known() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Fault("nonsense")
    assert deque([Fault("hang")])


async def test_the_digest_shows_approval_times(bot: DeskBot, clock: Clock) -> None:
    from bot.reporting.digest.builder import DigestBuilder
    from bot.reporting.digest.text import digest_lines

    for i, wait in enumerate((4, 10, 30)):
        [mid] = await bot.ingest(post(f"acme problem number {i}", lang="en",
                                      external_id=f"d{i}"))
        await bot.say(f"reply {mid} On it ({i})", user="ana")
        clock.advance(minutes=wait)
        assert (await bot.say(f"approve {mid}", user="bea", roles=APPROVER)).ok
    clock.advance(minutes=1)
    digest = DigestBuilder(bot.store, timezone="UTC").build("console", "care", now=clock(),
                                                           kind="today")
    assert digest.approvals.now == 3
    assert digest.approval_median.now == 600  # 4, 10 and 30 minutes
    assert any(line.startswith("Approvals: 3 (0 / 0); time to approval: median 10m")
               for line in digest_lines(digest)), digest_lines(digest)


async def test_a_prepared_post_of_a_brand_with_approval_needs_a_second_approver(
        bot: DeskBot) -> None:
    """Issue 17: prepared posts are published "after approval where required": the person who
    publishes (or schedules) them is an approver other than whoever prepared them."""
    from integrations.networks.replay import recording_publishers

    bot.deps.publishers = recording_publishers(bot.replies)
    prepared = await bot.say('prepare Acme/launch go mastodon We are live!', user="ana")
    assert prepared.ok, prepared.text
    refused = await bot.say("publish Acme/launch go", user="ana")
    assert not refused.ok and "second person" in refused.text
    assert refused.lines == ["mastodon: needs approval; an approver publishes it"]
    own = await bot.say("publish Acme/launch go", user="ana", roles=APPROVER)
    assert own.lines == ["mastodon: you prepared it; another approver publishes it"]
    scheduled = await bot.say("publish Acme/launch go at 20:15", user="ana", roles=APPROVER)
    assert not scheduled.ok and not bot.store.publish_jobs()
    assert not bot.replies.exists() or "We are live" not in bot.replies.read_text()
    published = await bot.say("publish Acme/launch go", user="bea", roles=APPROVER)
    assert published.ok, (published.text, published.lines)
    assert "We are live!" in bot.replies.read_text()
    # Without the rule, whoever may publish does.
    bot.store.set_brand_approval(name="Acme", approval="none", networks=[], min_priority="",
                                 actor="setup")
    await bot.say("prepare Acme/launch later mastodon Later!", user="ana")
    assert (await bot.say("publish Acme/launch later", user="ana")).ok
