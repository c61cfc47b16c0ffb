"""Commands through the whole bot: store, pipeline, relay and the console chat."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from rich.console import Console

from bot.domain import Post
from bot.networks import ReplyUncertain
from bot.pipeline import Pipeline
from bot.relay import Relay
from bot.reporting.digest.builder import DigestBuilder
from bot.runner import drain
from bot.store import Store
from commands import BY_NAME, COMMANDS, Deps, Invocation, Result, Role, dispatch
from integrations.chat.console.chat import ConsoleChat
from integrations.networks.replay import RecordingResponder
from testkit.factories import post
from tests.conftest import Clock


class FlakyResponder(RecordingResponder):
    """The replay responder, but the network times out after taking the reply."""

    async def reply(self, *, mention, text):  # type: ignore[no-untyped-def]
        await super().reply(mention=mention, text=text)
        raise ReplyUncertain("read timeout after 30 s")


class DeskBot:
    """errbot's testbot idea: talk to the whole bot, look at what the chat and store hold."""

    def __init__(self, store: Store, clock: Clock, tmp: Path) -> None:
        self.store = store
        self.out = io.StringIO()
        self.chat = ConsoleChat(Console(file=self.out, width=200), now=clock)
        self.pipeline = Pipeline(store, now=clock)
        self.clock = clock
        self.relay = Relay(store, {"console": self.chat}, now=clock)
        self.replies = tmp / "replies.jsonl"
        self.deps = Deps(store=store, now=clock, responders={
            "mastodon": RecordingResponder(network="mastodon", path=self.replies, now=clock),
            "x": RecordingResponder(network="x", path=self.replies, now=clock),
            "bluesky": FlakyResponder(network="bluesky", path=self.replies, now=clock),
        })

    async def ingest(self, *posts: Post) -> list[int]:
        report = self.pipeline.ingest(list(posts))
        await drain(self.relay)
        return report.mention_ids

    async def say(self, line: str, *, user: str = "ana",
                  roles: frozenset[Role] = frozenset({Role.RESPONDER})) -> Result:
        result = await dispatch(line, Invocation(user=user, platform="console",
                                                 display_name=user, roles=roles), self.deps)
        await drain(self.relay)
        return result

    def sent_replies(self) -> list[dict[str, str]]:
        if not self.replies.exists():
            return []
        return [json.loads(x) for x in self.replies.read_text().splitlines()]


@pytest.fixture
def bot(store: Store, clock: Clock, tmp_path: Path) -> Iterator[DeskBot]:
    store.add_brand(name="Acme", query="acme", actor="setup")
    store.add_route(brand="Acme", platform="console", channel="care", actor="setup")
    yield DeskBot(store, clock, tmp_path)


async def test_reply_posts_back_and_updates_the_card(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme lost my parcel", lang="en", external_id="777"))
    assert [c.mention_id for _, c in bot.chat.sent] == [mid]
    result = await bot.say(f"/reply {mid} Sorry! DM us your order number, please.")
    assert result.ok, result.text
    assert "https://replies.echtzeit.invalid/mastodon/" in result.text
    [sent] = bot.sent_replies()
    assert (sent["in_reply_to"], sent["text"]) == ("777", "Sorry! DM us your order number, please.")
    view = bot.store.view(mid)
    assert view.mention.status == "replied"
    assert view.author.answered_count == 1
    assert f"updated #{mid} · Acme · mastodon · REPLIED (ana)" in bot.out.getvalue()


async def test_reply_with_a_template(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme is great", lang="en", author="fan"))
    await bot.say("/template add thanks Thank you, {name}! - {brand}")
    result = await bot.say(f"/reply #{mid} :thanks")
    assert result.ok, result.text
    assert bot.sent_replies()[0]["text"] == "Thank you, Fan! - Acme"


async def test_reply_rules_of_the_network(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme?", network="x", lang="en"))
    result = await bot.say(f"/reply {mid} " + "x" * 281)
    assert not result.ok
    assert result.text == "not sent: x allows 280 characters, this reply has 281"
    assert bot.sent_replies() == []
    [hn] = await bot.ingest(post("acme on hn", network="hackernews", lang="en"))
    result = await bot.say(f"/reply {hn} thanks")
    assert not result.ok and "cannot post replies on hackernews" in result.text


async def test_an_unclear_reply_is_never_sent_twice(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme down?", network="bluesky", lang="en"))
    first = await bot.say(f"/reply {mid} We are on it")
    assert not first.ok and "unclear" in first.text
    again = await bot.say(f"/reply {mid} We are on it")
    assert not again.ok and "still unknown" in again.text
    assert len(bot.sent_replies()) == 1
    reply_id = bot.store.view(mid).replies[0].id
    settled = await bot.say(f"/settle {reply_id} posted https://bsky.app/x")
    assert settled.ok
    assert bot.store.view(mid).mention.status == "replied"


async def test_claim_assign_resolve_ignore_and_list(bot: DeskBot) -> None:
    a, b, c = await bot.ingest(post("acme one", lang="en"), post("acme two", lang="en"),
                               post("acme three", lang="en"))
    assert (await bot.say("/claim")).text == f"#{a} is yours, ana."
    assert (await bot.say(f"/claim {a}", user="ben")).text == f"#{a} is already claimed by ana"
    assert (await bot.say(f"/assign {b} @ben")).text == f"#{b} is assigned to ben."
    mine = await bot.say("/list mine", user="ben")
    assert [x.mention_id for x in mine.cards] == [b]
    assert (await bot.say(f"/resolve {a}")).ok
    assert (await bot.say(f"/ignore {c} spam")).text == f"#{c} ignored (spam)."
    open_ = await bot.say("/list")
    assert [x.mention_id for x in open_.cards] == [b]
    everything = await bot.say("/list all")
    assert {x.mention_id for x in everything.cards} == {a, b, c}
    assert [x.mention_id for x in (await bot.say("/list Acme")).cards] == [b]


async def test_show_gives_the_author_history(bot: DeskBot) -> None:
    first, second = await bot.ingest(post("acme hello", author="kim", lang="en"),
                                     post("acme again me", author="kim", lang="en"))
    result = await bot.say(f"/show {second}")
    assert result.ok
    assert [h.mention_id for h in result.history] == [first]
    assert result.lines[0].startswith("Author @kim on mastodon: wrote to us 2 time(s)")


async def test_mute_stops_relaying(bot: DeskBot) -> None:
    await bot.ingest(post("acme buy followers", author="spam", lang="en"))
    assert (await bot.say("/mute mastodon @spam")).text == "@spam on mastodon is muted."
    before = len(bot.chat.sent)
    await bot.ingest(post("acme buy more followers", author="spam", lang="en"))
    assert len(bot.chat.sent) == before


async def test_bad_arguments_get_one_clear_line(bot: DeskBot) -> None:
    cases = {
        "/reply": "reply: usage: reply <id> <text>  or  reply <id> :template-name",
        "/reply abc hi": "reply: expected a mention id such as 42 or #42, not 'abc'",
        "/reply 999 hi": "no mention #999",
        "/claim 12x": "claim: expected a mention id such as 42 or #42, not '12x'",
        "/frobnicate": "unknown command 'frobnicate'; try /help",
        "/list nonsense": "list: expected open, mine, all or a brand name; no brand named "
                          "'nonsense'",
        "/mute x": "mute: usage: mute <network> <author>",
    }
    for line, expected in cases.items():
        result = await bot.say(line, roles=frozenset({Role.ADMIN}))
        assert (result.ok, result.text) == (False, expected), line


async def test_who_may_do_what(bot: DeskBot) -> None:
    [mid] = await bot.ingest(post("acme", lang="en"))
    refused = await bot.say(f"/claim {mid}", user="guest", roles=frozenset())
    assert not refused.ok and refused.ephemeral
    assert "only people allowed to answer customers" in refused.text
    assert (await bot.say("/list", user="guest", roles=frozenset())).ok
    refused = await bot.say('/brand add "New Co" newco', roles=frozenset({Role.RESPONDER}))
    assert refused.text == "Sorry, ana: only admins may use brand."
    admin = frozenset({Role.ADMIN})
    assert (await bot.say('/brand add "New Co" newco', roles=admin)).ok
    assert (await bot.say('/brand route "New Co" console:newco', roles=admin)).ok
    listing = await bot.say("/brand list", roles=admin)
    assert any(line.startswith("New Co: newco  ->  console:newco") for line in listing.lines)


async def test_brand_query_uses_the_query_checks(bot: DeskBot) -> None:
    admin = frozenset({Role.ADMIN})
    bad = await bot.say("/brand query Acme (acme OR", roles=admin)
    assert not bad.ok
    assert bad.text.startswith("brand: query error at column")
    good = await bot.say("/brand query Acme acme OR acmeco", roles=admin)
    assert good.ok
    [mid] = await bot.ingest(post("acmeco rocks", lang="en"))
    assert mid


async def test_a_minimum_relevance_hides_noise_that_list_noise_shows(bot: DeskBot) -> None:
    admin = frozenset({Role.ADMIN})
    assert (await bot.say("/brand add Volt volt -batterie", roles=admin)).ok
    routed = await bot.say("/brand route Volt console:volt relevance=0.4", roles=admin)
    assert routed.text == ("Volt goes to console:volt; below relevance 0.4 a mention is "
                           "stored, not carded (list noise).")
    listing = await bot.say("/brand list", roles=admin)
    assert "Volt: volt -batterie  ->  console:volt (relevance >= 0.4)" in listing.lines
    bad = await bot.say("/brand route Volt console:volt relevance=2", roles=admin)
    assert (bad.ok, bad.text) == (False, "brand: relevance must be a number from 0 to 1, "
                                         "not '2'")
    party, lamp = await bot.ingest(
        post("Volt fordert ein föderales Europa, die Partei tritt an", lang="de"),
        post("die Lampe braucht 230 volt", lang="de"))
    carded = [c.mention_id for _, c in bot.chat.sent]
    assert party in carded and lamp not in carded
    noise = await bot.say("/list noise")
    assert [c.mention_id for c in noise.cards] == [lamp]
    assert noise.cards[0].relevance is not None and noise.cards[0].relevance < 0.4
    assert [c.mention_id for c in (await bot.say("/list noise Volt")).cards] == [lamp]
    assert (await bot.say("/list noise Acme")).text == "No mentions hidden as noise."
    # No channel shows it, so it is closed at once (not in the open list, no reminders); a
    # claim takes it out of the noise and opens it again; one ignored by staff stays closed.
    assert lamp not in [c.mention_id for c in (await bot.say("/list")).cards]
    claimed = await bot.say(f"/claim {lamp}")
    assert claimed.ok, claimed.text
    assert lamp in [c.mention_id for c in (await bot.say("/list")).cards]
    assert (await bot.say(f"/ignore {lamp} spam")).ok
    again = await bot.say(f"/claim {lamp}")
    assert (again.ok, again.text) == (False, f"#{lamp} is ignored")
    # The card shows what triage found.
    assert "relevance" in bot.out.getvalue() and "needs reply" in bot.out.getvalue()


async def test_help_lists_every_command() -> None:
    deps = Deps(store=None)  # type: ignore[arg-type]
    result = await dispatch("/help", Invocation(user="x", platform="console"), deps)
    assert len(result.lines) == len(COMMANDS)
    one = await dispatch("/help reply", Invocation(user="x", platform="console"), deps)
    assert one.text.startswith(BY_NAME["reply"].usage)


async def test_no_command_touches_the_database_on_the_event_loop(bot: DeskBot) -> None:
    """Commands run their store work in worker threads, so a slow query never delays the
    acknowledgement of someone else's click (Slack's 3 s, the bench's 200 ms)."""
    on_loop: list[str] = []

    def before_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread: fine
        on_loop.append(statement.split("\n")[0][:80])

    [mid] = await bot.ingest(post("acme lost my parcel", lang="en", external_id="778"))
    await bot.say('/template add thanks Danke, {name}!')
    bot.deps.digest = DigestBuilder(bot.store)  # `publish ... at` reads the channel's zone
    bot.deps.publishers = {n: r for n, r in bot.deps.responders.items() if n != "bluesky"}
    sa.event.listen(bot.store.engine, "before_cursor_execute", before_execute)
    try:
        for line in (f"/show {mid}", "/list", "/list all", "/list Acme", f"/claim {mid}",
                     f"/assign {mid} bo", f"/reply {mid} :thanks", "/template list",
                     "/brand list", "/digest", "/sla list", f"/resolve {mid}",
                     f"/ignore {mid} spam", "/mute mastodon someone", "/settle 1 failed",
                     "/prepare final win mastodon We won!", "/prepared", "/prepared final",
                     "/publish final win at 20:15", "/publish cancel 1", "/publish final win",
                     "/settle-post 1 failed", "/oncall set Acme 1 ana", "/oncall",
                     "/oncall remove Acme ana", "/help"):
            result = await bot.say(line, roles=frozenset({Role.ADMIN}))
            assert result.text, line
    finally:
        sa.event.remove(bot.store.engine, "before_cursor_execute", before_execute)
    assert on_loop == []


async def test_cards_offer_reply_only_where_echtzeit_can_post_replies(bot: DeskBot) -> None:
    """Hacker News takes no replies from Echtzeit: its card has no Reply button, in the
    channel (relay) as in /show and /list, while the others keep theirs."""
    bot.relay = Relay(bot.store, {"console": bot.chat}, now=bot.clock,
                      reply_networks=bot.deps.responders)
    [hn, social] = await bot.ingest(post("acme broke prod", network="hackernews"),
                                    post("acme broke prod too", network="mastodon"))
    relayed = {c.mention_id: c.actions for _, c in bot.chat.sent}
    assert "reply" not in relayed[hn] and "claim" in relayed[hn]
    assert "reply" in relayed[social]
    [shown] = (await bot.say(f"/show {hn}")).cards
    assert "reply" not in shown.actions
    listed = {c.mention_id: c.actions for c in (await bot.say("/list")).cards}
    assert "reply" not in listed[hn] and "reply" in listed[social]
    refused = await bot.say(f"/reply {hn} thanks")
    assert not refused.ok and "cannot post replies on hackernews" in refused.text


async def test_templates_take_only_their_three_placeholders(bot: DeskBot) -> None:
    refused = await bot.say("/template add oops Hi {nmae}, {0} and {name.upper}!")
    assert not refused.ok and "unknown placeholder '{0}'" in refused.text
    assert (await bot.say("/template add ok Hi {name} {author} from {brand} :-{ }")).ok
    [mid] = await bot.ingest(post("acme hilfe", lang="de", external_id="779", author="kunde"))
    assert (await bot.say(f"/reply {mid} :ok")).ok
    assert bot.sent_replies()[-1]["text"] == "Hi Kunde @kunde from Acme :-{ }"
