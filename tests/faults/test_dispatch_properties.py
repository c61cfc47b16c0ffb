"""Issue 8, point 5 (commands): `commands.dispatch` meets 10,000 generated command lines.

Every example runs one or two command lines through `dispatch` against a real SQLite store
(migrated, seeded with brands, routes, templates, mentions and replies) with the replay network's
RecordingResponder answering, as a person with no role, RESPONDER, ADMIN or both. The lines are
built to reach the argument parsers: each command with a small grammar of the words it takes at
each position (good ones and bad ones: ids that exist and ids that do not, huge, negative and
non-ASCII numbers, unclosed quotes, templates, networks, brands, routes, dates that are not,
digest settings), mixed with a soup of hostile words (control characters, lone surrogates as
json.loads makes them from "\\ud800", very long words); besides command names (and unknown
ones, with or without / or !, in odd case) followed by soup only, and plain text. The properties:

- dispatch never raises; it returns a `Result` with a non-empty str text;
- a refusal or a bad argument (ok=False) is one line of bounded length;
- the store stays usable: a read afterwards works and no mention has gone.

The database is built once per module; before each example it is put back to its seeded
state (SQLite's online backup from an in-memory copy), so that an example's outcome depends on
its own lines only and Hypothesis can replay and shrink a failure. The lines of one example
share that state, so "template add x ..." followed by "reply 1 :x" is explored too.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import db
from bot.domain import MentionStatus
from bot.models import Mention
from bot.networks import PostedReply, ReplyRejected, ReplyUncertain
from bot.store import Store
from commands import COMMANDS, Deps, Invocation, Result, Role, dispatch
from integrations.networks.replay import RecordingResponder
from testkit.factories import new_mention
from tests.conftest import Clock

MANY = settings(max_examples=10_000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# The shortest message limit of the chat platforms (Discord's content, PLATFORMS.md): a refusal
# or a usage error must fit one message even when it quotes what the person typed.
ERROR_MAX = 2000

# --- the seeded desk -----------------------------------------------------------------------------

BRANDS = {"Acme": "acme", "Acme Rockets": '"acme rockets" OR acmerockets', "Café Ü": "café"}
# `template add` takes any text, so templates that are not valid format strings are seeded too.
TEMPLATES = {
    "thanks": "Thank you, {name}! - {brand}",
    "curly": "Use {curly} braces and {author}",
    "long": "sorry " * 100,  # 600 characters: too long for x and bluesky
    "brace": "Sorry {name",
    "positional": "Hi {0}, {}",
    "conversion": "Hi {name!z}",
}
# (network, author) of the seeded mentions, ids 1.. in this order
MENTIONS = (
    ("mastodon", "kunde"), ("x", "kunde"), ("bluesky", "fan"), ("reddit", "grumpy"),
    ("hackernews", "pg"), ("mastodon", "spam"), ("x", "Ümit"), ("rss", "feed"),
    ("mastodon", "kunde"), ("myspace", "tom"),
)
MENTION_IDS = tuple(range(1, len(MENTIONS) + 1))
REPLY_IDS = (1, 2, 3)  # pending on #2 (x), unknown on #9 (mastodon), sent on #1


class UnclearResponder(RecordingResponder):
    """The replay responder, but the network times out after taking the reply."""

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        await super().reply(mention=mention, text=text)
        raise ReplyUncertain("read timeout after 30 s")


class RefusingResponder(RecordingResponder):
    """The replay responder, but the network refuses every reply (e.g. the post is gone)."""

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        raise ReplyRejected("403: the post was deleted")


def seed(store: Store) -> None:
    for name, query in BRANDS.items():
        store.add_brand(name=name, query=query, actor="setup")
    store.add_route(brand="Acme", platform="console", channel="care", actor="setup")
    store.add_route(brand="Acme", platform="slack", channel="C0123", actor="setup")
    store.add_route(brand="Acme Rockets", platform="discord", channel="555", actor="setup",
                    networks=("x", "mastodon"), min_priority="high")
    for name, text in TEMPLATES.items():
        store.add_template(name=name, text=text, actor="setup")
    acme = store.brand(name="Acme").id or 0
    rockets = store.brand(name="Acme Rockets").id or 0
    ids = store.write_mentions(
        [new_mention(acme if i % 2 else rockets,
                     f"acme #{i} {handle}" + ("\n\x00\u202e @here <b>" if i == 7 else ""),
                     network=network,
                     author_handle=handle, author_name=handle.title(),
                     created_at=datetime(2026, 11, 20, 6 + i % 3, i, tzinfo=UTC))
         for i, (network, handle) in enumerate(MENTIONS)],
        routes={acme: store.routes(brand_id=acme), rockets: store.routes(brand_id=rockets)},
    )
    assert tuple(ids) == MENTION_IDS
    store.claim(mention_id=3, actor="ben")
    # what `assign 7 Zoë\nBot` stores: the rest of the line is the person
    store.claim(mention_id=7, actor="ben", assignee="Zoë\nBot")
    store.resolve(mention_id=5, actor="ben")
    store.ignore(mention_id=6, actor="ben", reason="spam")
    store.mute_author(network="mastodon", handle="spam", actor="ben")
    pending = store.record_reply(mention_id=2, text="on it", by="ben")
    unknown = store.record_reply(mention_id=9, text="sorry", by="ben")
    store.reply_failed(reply_id=unknown.id or 0, error="timeout", unknown=True)
    sent = store.record_reply(mention_id=1, text="done", by="ana")
    store.reply_sent(reply_id=sent.id or 0, network_reply_id="n1", url="https://social.example/1")
    assert (pending.id, unknown.id, sent.id) == REPLY_IDS


class Desk:
    """The seeded store, its commands' dependencies and the one event loop that runs them."""

    def __init__(self, *, store: Store, deps: Deps, loop: asyncio.AbstractEventLoop,
                 live: sqlite3.Connection, seeded: sqlite3.Connection) -> None:
        self.store = store
        self.deps = deps
        self.loop = loop
        self.live = live  # a second connection to the same file, for resetting it
        self.seeded = seeded  # an in-memory copy of the seeded database
        self.version = -1  # the live connection's data_version right after the last reset

    def reset(self) -> None:
        """Put the seeded state back, unless nothing was committed since the last reset (most
        examples are refused or rejected, and a copy costs 2 ms)."""
        if self._data_version() != self.version:
            self.seeded.backup(self.live)
            self.version = self._data_version()

    def _data_version(self) -> int:
        # Changes when ANOTHER connection (the store's) commits: SQLite's own change detector.
        return int(self.live.execute("PRAGMA data_version").fetchone()[0])

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return "<the seeded desk>"

    def say(self, line: str, inv: Invocation) -> Result:
        return self.loop.run_until_complete(dispatch(line, inv, self.deps))


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    tmp = tmp_path_factory.mktemp("dispatch")
    path = tmp / "echtzeit.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    clock = Clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    store = Store.from_url(url, now=clock)
    replies = tmp / "replies.jsonl"
    responders: dict[str, RecordingResponder] = {
        network: RecordingResponder(network=network, path=replies, now=clock)
        for network in ("mastodon", "x", "github")
    }
    responders["bluesky"] = UnclearResponder(network="bluesky", path=replies, now=clock)
    responders["reddit"] = RefusingResponder(network="reddit", path=replies, now=clock)
    loop = asyncio.new_event_loop()
    try:
        seed(store)
        with closing(sqlite3.connect(":memory:")) as seeded, \
                closing(sqlite3.connect(path, timeout=30)) as live:
            live.backup(seeded)
            yield Desk(store=store, deps=Deps(store=store, responders=responders, now=clock,
                                              publishers=responders),
                       loop=loop, live=live, seeded=seeded)
    finally:
        store.close()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


# --- the lines -----------------------------------------------------------------------------------
# Each command gets a small grammar: per argument position the words it understands, good and
# bad, mixed with the soup. Plain soup after a command name and plain text come besides.

NAMES = [c.name for c in COMMANDS]
UNKNOWN = ["frobnicate", "replyy", "lis", "", "re ply", "h\u0435lp", "claim\x00", "ünknown"]
PREFIXES = ["", "", "/", "!", "//", "!/", " /", "/ ", "\t!"]
CASES: list[Callable[[str], str]] = [str, str, str.upper, str.title, str.swapcase]

HOSTILE = ["", " ", '"', '"unclosed', '""', "\x00", "\n", "a\nb", "\r\n", "\t", "\u202e",
           "\u200b", "\ufeff", "\x1b[31m", "😀", "👩‍👩‍👧", "İ", "ﬃ", "\ud800", "\udfff",
           "x" * 300, "ü" * 1200, "word " * 400, "9" * 5000]
IDS = [*(str(i) for i in (*MENTION_IDS, *MENTION_IDS)), *(f"#{i}" for i in MENTION_IDS), "0",
       "11", "999", "-1",
       "-0", "+3", "#", "##3", "1.0", "1e3", "0x10", "007", "1_000", "9223372036854775807",
       "9223372036854775808", "-9223372036854775809", "18446744073709551616", "9" * 40,
       "²", "³", "①", "٣", "०", "１２", "𝟙", "Ⅻ", "½"]
REPLY_REFS = [*(str(i) for i in (*REPLY_IDS, 0, 4, 99)), "-1", "#1", "²", "٢", "9" * 30]
TEXTS = ["Thanks, we are on it!", ":thanks", ":curly", ":long", ":brace", ":positional",
         ":conversion", ":nope", ":", "::", ":thanks extra", ":{0}", "{name}", "x" * 600,
         "@here <!channel> hi", "Danke 😀", "%s %d"]
PEOPLE = ["ben", "@ben", "ana", "<@U123>", "@", "@@", "Zoë\nBot", "x" * 300]
REASONS = ["spam", "not about us", "a\nb", "🙈"]
NETWORKS = ["mastodon", "x", "bluesky", "reddit", "hackernews", "rss", "github", "myspace"]
NETWORKS += [n.upper() for n in NETWORKS[:2]]  # names in odd case
AUTHORS = ["kunde", "@kunde", "KUNDE", "Ümit", "@spam", "nobody", "@", "@@kunde"]
LIST_WHAT = ["open", "mine", "all", "OPEN", "Acme", "acme", "ACME ROCKETS", "Acme Rockets",
             '"Acme Rockets"', "Café Ü", "café ü", "Nobody", "open mine"]
BRAND_NAMES = ["Acme", "acme", '"Acme Rockets"', '"Café Ü"', "Café", "New", '"New Co"',
               "Nobody", "\"Acme\"x", "'Acme'"]
QUERIES = ["acme", "acme OR acmeco", "(acme", "acme)", '"acme', "NOT", "NOT acme", "AND",
           "lang:de acme", "network:x acme", "acme NEAR/3 down", "NEAR/", "*", "a*", "#tag",
           "@who", "-acme", '"a b" OR (c AND NOT d)']
TARGETS = ["console:care", "slack:C0123", "discord:555", "discord:#general", "slack:", ":",
           "a:", ":b", "x:y:z", "care", "slack:C0123:x"]
ROUTE_OPTIONS = ["networks=x,mastodon", "networks=X", "networks=", "networks=,", "min=high",
                 "min=urgent", "min=low", "min=bogus", "min=", "=", "foo=bar", "networks",
                 "relevance=0.4", "relevance=1.5", "relevance=-0", "relevance=x",
                 "quiet=22:00-07:00", "quiet=bogus", "tz=Europe/Berlin", "tz=Mars/Base"]
TEMPLATE_NAMES = ["thanks", "new", "x-1", "a_b", "-", "_", "ü", "١", ":x", "a.b", "brace"]
TEMPLATE_TEXTS = ["Hi {name}, thanks from {brand}", "Sorry {", "Hi {0}", "{}", "{name!z}",
                  "{name.upper}", "{name[0]}", "{name:>99999999999999999999}", "{{literal}}",
                  "}", "%(name)s", "Hi {author} {unknown}"]
# "today", "yesterday", "week" and good dates are in the soup only: each digest that is built
# renders its chart (~0.4 s, a week's 1.4 s), so 10,000 examples build a dozen or so.
PERIODS = ["2026-13-45", "2026-02-30", "0001-01-01", "0001-01-07",
           "9999-12-31", "9999-12-25", "2026-11-20T10:00", "tomorrow", "-1", "²"]
CHANNELS = ["slack:C0123", "console:care", "discord:555", "#care", "care", "slack:", ":x",
            "a:b:c", "slack:#", "-:x", "\ud800", "slack:\udfff"]
DIGEST_SETTINGS = ["on", "off", "ON", "tz=Europe/Berlin", "tz=UTC", "tz=Mars/Base",
                   "tz=../../etc/passwd", "tz=/etc/localtime", "tz=", "tz=Europe/", "hour=8",
                   "hour=23", "hour=24", "hour=-1", "hour=²", "hour=٣", "hour=", "hours=calendar",
                   'hours="mon-fri 09:00-18:00"', "hours=", "hours=bogus",
                   'hours="mon 18:00-09:00"', 'hours="sun-sat 25:00-26:00"', 'hours="', "bogus"]
MINUTES = ["1", "60", "43200", "43201", "0", "-5", "²", "٣", "99999999999999999999", "9" * 5000]

# network:handle as `link` and `unlink` take them, and what is not.
ACCOUNTS = ["mastodon:kunde", "x:@kunde", "bluesky:lena-berg.example", "reddit:", ":kunde",
            "kunde", "x:y:z", "mastodon:@a@b.example", "ü:ö", "x:" + "a" * 5000, "\ud800:x"]
EVENTS = ["final", "Acme/final", '"Acme Rockets/launch"', "Nobody/x", '"a b"', "ü", "x" * 200,
          "/", "Acme/", "Acme/ü", "recall"]
OUTCOMES = ["win", "holding", "lose", "WIN", "ü", "x" * 150, "-", "a.b"]
AT_TIMES = ["20:15", "20:15:30", "00:00", "24:00", "9:5", "23:59:60", "noon", "²:00", "٢٠:١٥"]
LEVELS = ["1", "2", "9", "0", "10", "-1", "²", "x", "#1"]
ONCALL_HOURS = ["mon-fri 09:00-18:00", "tz=Europe/Berlin", "tz=Mars/Base", "weekdays", "tz=",
                "sat 25:00-26:00", "tz=../../etc/passwd"]

GRAMMAR: dict[str, list[list[list[str]]]] = {
    "reply": [[IDS, TEXTS]],
    "claim": [[IDS]],
    "assign": [[IDS, PEOPLE]],
    "resolve": [[IDS]],
    "ignore": [[IDS, REASONS]],
    "mute": [[NETWORKS, AUTHORS]],
    "settle": [[REPLY_REFS, ["posted", "failed", "POSTED", "maybe"],
                ["https://social.example/1", "not a url", "javascript:alert(1)"]]],
    "list": [[LIST_WHAT]],
    "show": [[IDS]],
    "story": [[IDS]],
    "link": [[ACCOUNTS, ACCOUNTS, ACCOUNTS]],
    "unlink": [[ACCOUNTS, ACCOUNTS]],
    "hide": [[IDS]],
    "unhide": [[IDS, REASONS]],
    "brand": [[["list", "LIST"]], [["add", "query"], BRAND_NAMES, QUERIES],
              [["route", "unroute"], BRAND_NAMES, TARGETS, ROUTE_OPTIONS, ROUTE_OPTIONS],
              [["approval"], BRAND_NAMES, ["required", "none", "maybe", ""],
               ["networks=x,mastodon", "min=high", "min=bogus", "foo"]],
              [["voice"], BRAND_NAMES, [*TEXTS, "-"]]],
    "template": [[["list"]], [["add"], TEMPLATE_NAMES, TEMPLATE_TEXTS]],
    "digest": [[PERIODS, CHANNELS], [["set"], CHANNELS, DIGEST_SETTINGS, DIGEST_SETTINGS]],
    "sla": [[["list", ""], BRAND_NAMES], [["set", "clear"], BRAND_NAMES, NETWORKS, MINUTES]],
    "prepare": [[EVENTS, OUTCOMES, NETWORKS, TEXTS]],
    "prepared": [[EVENTS]],
    "publish": [[EVENTS, OUTCOMES, ["at", "AT", "", "when"], AT_TIMES], [["cancel"], IDS]],
    "settle-post": [[REPLY_REFS, ["posted", "failed", "POSTED", "maybe"],
                     ["https://social.example/1", "not a url"]]],
    "oncall": [[["", "set", "remove", "SET", "list"], BRAND_NAMES, LEVELS, PEOPLE, ONCALL_HOURS,
                ONCALL_HOURS]],
    "approve": [[IDS]],
    "edit": [[IDS, TEXTS]],
    "reject": [[IDS, REASONS]],
    "draft": [[IDS]],
    "send": [[IDS]],
    "queue": [[["", "pin", "unpin", "PIN", "bogus"]]],
    "notus": [[IDS]],
    "noreply": [[IDS]],
    "sentiment": [[IDS, ["negative", "neutral", "positive", "NEG", "pos", "neu", "ne", "angry",
                         "négatif", ""]]],
    "help": [[[*NAMES, "/reply", "nope", "HELP", "x" * 3000]]],
}
assert set(GRAMMAR) == set(NAMES), "a new command needs its grammar here"

SOUP = sorted({*IDS, *REPLY_REFS, *TEXTS, *PEOPLE, *REASONS, *NETWORKS, *AUTHORS, *LIST_WHAT,
               *BRAND_NAMES, *QUERIES, *TARGETS, *ROUTE_OPTIONS, *TEMPLATE_NAMES,
               *TEMPLATE_TEXTS, *PERIODS, *CHANNELS, *DIGEST_SETTINGS, *MINUTES, *HOSTILE,
               *EVENTS, *OUTCOMES, *AT_TIMES, *LEVELS, *ONCALL_HOURS,
               *NAMES, "list", "add", "query", "route", "unroute", "set", "clear", "posted",
               "failed", "today", "yesterday", "week", "2026-11-19", "20261120", "2026-W47-1",
               *(str(n) for n in (-(2**63), 2**63 - 1, 2**64, -(10**30), 10**100))})

# Each draw costs Hypothesis about a tenth of a millisecond, which at 10,000 examples is most of
# the run time: a line's head (prefix, name, case) is one draw from a prepared list, and so is
# the person and place of an invocation. Strategies are built once, here (building one inside
# a composite costs its label on every draw).
def heads_for(names: list[str]) -> list[str]:
    return sorted({prefix + case(name) for prefix in PREFIXES for case in CASES
                   for name in names})


tokens = st.sampled_from(SOUP) | st.text(max_size=12)
JOINS = [(" ", " "), (" ", " "), (" ", "  "), ("\t", " "), ("\n", " "), (" ", "\n"),
         ("", " "), (" ", "\t"), ("  ", " \u00a0")]
joins = st.sampled_from(JOINS)


def assemble(parts: tuple[str, tuple[str, str], list[str]]) -> str:
    head, (after_name, between), words = parts
    return head + after_name + between.join(words) if words else head


# more soup after a grammar line, one time in three (a word more changes how e.g. a
# ":template" reply is read)
tails: st.SearchStrategy[list[str]] = st.one_of(st.just([]), st.just([]),
                                               st.lists(tokens, min_size=1, max_size=2))


def grammar_lines(name: str, positions: list[list[str]]) -> st.SearchStrategy[str]:
    """`name` with, at each position, one of its words (two times in three) or soup."""
    slots = [st.one_of(st.sampled_from(words), st.sampled_from(words), tokens)
             for words in positions]
    words = st.tuples(*slots, tails).map(lambda t: [*t[:-1], *t[-1]])
    return st.tuples(st.sampled_from(heads_for([name])), joins, words).map(assemble)


# A bare "digest" (or one with a blank first word) builds the digest and its chart: soup lines
# after "digest" start with a word that is not blank, so that happens now and then only.
first_words = st.sampled_from([w for w in SOUP if w.strip()]) | st.text(min_size=1, max_size=12)
soup_words = st.lists(tokens, max_size=6)
digest_soup_words = st.tuples(first_words, st.lists(tokens, max_size=5)).map(
    lambda t: [t[0], *t[1]])
soup_lines = st.one_of(
    st.tuples(st.sampled_from(heads_for([n for n in NAMES if n != "digest"] + UNKNOWN)), joins,
              soup_words).map(assemble),
    st.tuples(st.sampled_from(heads_for(["digest"])), joins, digest_soup_words).map(assemble),
)
grammar = st.one_of([grammar_lines(name, positions)
                     for name, alternatives in GRAMMAR.items() for positions in alternatives])
lines = st.one_of(
    grammar,
    grammar,
    grammar,
    soup_lines,
    soup_lines,
    st.text(max_size=200),
    st.tuples(st.sampled_from([n for n in NAMES if n != "digest"]),
              st.text(max_size=200)).map(" ".join),
)
invocations = st.sampled_from([
    Invocation(user=user, platform=platform, channel=channel, display_name=display, roles=roles)
    for roles in (frozenset(), frozenset({Role.RESPONDER}), frozenset({Role.ADMIN}),
                  frozenset({Role.ADMIN, Role.RESPONDER}))
    for user, display in (("ana", "ana"), ("ben", None), ("U0AB12", "Zoë"))
    for platform, channel in (("console", None), ("console", "care"), ("slack", "C0123"),
                              ("slack", None), ("discord", "555"), ("discord", "999"))
])


# --- the property ------------------------------------------------------------------------------

def check(line: str, result: object) -> None:
    assert isinstance(result, Result), (line, result)
    assert isinstance(result.text, str) and result.text.strip(), (line, result)
    if not result.ok:
        assert "\n" not in result.text and "\r" not in result.text, (line, result.text)
        assert len(result.text) <= ERROR_MAX, (line, len(result.text))


@MANY
@given(steps=st.lists(st.tuples(lines, invocations), min_size=1, max_size=2))
def test_dispatch_answers_every_line_cleanly(desk: Desk,
                                             steps: list[tuple[str, Invocation]]) -> None:
    desk.reset()
    for line, inv in steps:
        check(line, desk.say(line, inv))
    # The store still works, and no command lost a mention.
    assert desk.store.count_mentions() == len(MENTIONS)


def test_the_reset_restores_the_seeded_desk(desk: Desk) -> None:
    """The reset really undoes an example's changes (else examples would not be independent)."""
    admin = Invocation(user="ana", platform="console", roles=frozenset({Role.ADMIN}))
    assert desk.say('brand add "New Co" newco', admin).ok
    assert desk.say("resolve 1", admin).ok
    assert len(desk.store.brands()) == len(BRANDS) + 1
    desk.reset()
    assert [b.name for b in desk.store.brands()] == sorted(BRANDS)
    assert desk.store.view(1).mention.status == MentionStatus.REPLIED.value
    assert desk.say("resolve 1", admin).ok  # not "resolved already"


def test_seeded_ids_reach_the_handlers(desk: Desk) -> None:
    """The soup's ids and names are the seeded ones: these lines do their real work."""
    desk.reset()
    ana = Invocation(user="ana", platform="console", display_name="ana",
                     roles=frozenset({Role.RESPONDER}))
    assert desk.say("/reply 1 :thanks", ana).text.startswith("Replied to #1 on mastodon")
    assert "unclear" in desk.say("reply 3 hi", ana).text
    assert "refused the reply" in desk.say("reply 4 hi", ana).text
    assert "still unknown" in desk.say("reply 9 hi", ana).text
    assert desk.say("!SETTLE 1 failed", ana).ok  # the pending reply to #2
    assert desk.say("reply 2 :curly", ana).ok
    assert desk.say("settle 2 posted https://social.example/9", ana).ok  # the unknown one
    assert desk.say("list Acme", ana).cards
    assert desk.say("show #7", ana).ok
    assert desk.say("sentiment #7 neg", ana).text == "#7 is negative now (set by ana)."
    assert desk.say("noreply 7", ana).ok and desk.say("notus 7", ana).ok
    built = desk.say("digest 2026-11-20 console:care", ana)
    assert built.ok and built.attachments, built.text
