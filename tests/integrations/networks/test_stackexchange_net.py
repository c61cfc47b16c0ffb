"""Stack Exchange against a fake API 2.3 at the HTTP boundary: /search/advanced, /answers,
/comments, /posts/{id}/comments/add, /info and /access-tokens, gzip-compressed wrapper objects
with payload shapes from tests/fixtures/stackexchange, and the API's rules from service_rules.py
(backoff per method, throttle_violation, bad_parameter, the comment's length)."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.cards import card_for
from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.chat.console.render import render_card
from integrations.chat.discord.render import card_components as discord_components
from integrations.chat.slack.render import card_blocks
from integrations.networks import registry, stackexchange_net
from integrations.networks.http_common import ApiError
from integrations.networks.settings import load_network_config
from integrations.networks.terms import SearchTerm, fixed_terms, store_terms
from tests.conftest import Clock
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    Gate,
    console_reply,
    fixture,
    pump_rounds,
    stored,
    stored_mention,
)

API = "https://api.stackexchange.com/2.3"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = "U4DMV*8nvpm3EOpvf69Rxw(("
TOKEN = "acme-token-(write)"


class ClockSleep:
    """An injected sleep that moves the test's clock (the fake's too) and returns."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds=seconds)


class FakeStackExchange:
    """api.stackexchange.com 2.3, as strict as the API about what this client uses."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.items: dict[tuple[str, str], list[Any]] = {
            ("stackoverflow", "questions"): fixture("stackexchange", "questions.json")["items"],
            ("stackoverflow", "answers"): fixture("stackexchange", "answers.json")["items"],
            ("stackoverflow", "comments"): fixture("stackexchange", "comments.json")["items"],
        }
        self.requests: list[httpx.Request] = []
        self.comments: list[dict[str, Any]] = []
        self.quota = 10_000
        self.backoff: dict[str, int] = {}  # method -> backoff to send with its next answer
        self.blocked: dict[str, datetime] = {}  # method -> not before
        self.violations = 0
        self.throttled: list[int] = []  # next reads answer throttle_violation ("in N seconds")

    def _answer(self, status: int, body: Any) -> httpx.Response:
        # The API always compresses (api.stackexchange.com/docs/compression).
        return httpx.Response(status, content=gzip.compress(json.dumps(body).encode()),
                              headers={"Content-Encoding": "gzip",
                                       "Content-Type": "application/json; charset=utf-8"})

    def _error(self, refusal: service_rules.Refusal) -> httpx.Response:
        return self._answer(*refusal)

    def _wrap(self, method: str, items: list[Any], has_more: bool = False) -> httpx.Response:
        self.quota -= 1
        body: dict[str, Any] = {"items": items, "has_more": has_more, "quota_max": 10_000,
                                "quota_remaining": self.quota}
        if method in self.backoff:
            seconds = self.backoff.pop(method)
            body["backoff"] = seconds
            self.blocked[method] = self.clock() + timedelta(seconds=seconds)
        return self._answer(200, body)

    def add(self, site: str, what: str, raw: dict[str, Any]) -> None:
        self.items.setdefault((site, what), []).append(raw)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/2.3")
        params = dict(request.url.params)
        if request.method == "POST":
            params.update({k: v[0] for k, v in parse_qs(request.content.decode()).items()})
        method = "/posts/{id}/comments/add" if path.endswith("/comments/add") else path
        if params.get("key") != KEY:
            return self._error(service_rules.stackexchange_error(
                400, "bad_parameter", "key is not valid for passed access_token"))
        if method in self.blocked and self.clock() < self.blocked[method]:
            self.violations += 1
            return self._error(service_rules.stackexchange_backoff_violation(method))
        if self.throttled:
            wait = self.throttled.pop(0)
            return self._error(service_rules.stackexchange_error(
                502, "throttle_violation",
                f"too many requests from this IP, more requests available in {wait} seconds"))
        if self.quota <= 0:
            return self._error(service_rules.stackexchange_error(
                502, "throttle_violation", "out of quota"))
        if method == "/info":
            return self._wrap(method, fixture("stackexchange", "info.json")["items"])
        if path.startswith("/access-tokens/"):
            token = fixture("stackexchange", "access_token.json")["items"][0]
            token["access_token"] = path.rsplit("/", 1)[1]
            if token["access_token"] != TOKEN:
                token["scope"] = []
            return self._wrap("/access-tokens", [token])
        if method == "/posts/{id}/comments/add":
            if params.get("access_token") != TOKEN:
                return self._error(service_rules.stackexchange_error(
                    403, "access_denied", "write_access scope required"))
            self.comments.append({"post": int(path.split("/")[2]), "site": params["site"],
                                  "body": params.get("body")})
            refusal = service_rules.stackexchange_comment_body(params.get("body"))
            if refusal is not None:
                return self._error(refusal)
            created = fixture("stackexchange", "comment_created.json")["items"]
            created[0].update(post_id=int(path.split("/")[2]), body=params["body"],
                              creation_date=int(self.clock().timestamp()))
            return self._wrap(method, created)
        kinds = {"/search/advanced": "questions", "/answers": "answers", "/comments": "comments"}
        if method not in kinds:
            return self._error(service_rules.stackexchange_error(
                404, "no_method", "this method cannot be found"))
        size, page = int(params.get("pagesize", "30")), int(params.get("page", "1"))
        if not 0 <= size <= 100:
            return self._error(service_rules.stackexchange_error(
                400, "bad_parameter", "pagesize"))
        assert params["sort"] == "creation" and params["order"] == "asc"
        items = [copy.deepcopy(i) for i in self.items.get((params["site"], kinds[method]), [])
                 if i["creation_date"] >= int(params.get("fromdate", "0"))]
        if method == "/search/advanced":
            q = params["q"].strip('"').lower()
            items = [i for i in items
                     if q in (i.get("title", "") + " " + i.get("body", "")).lower()]
        if params.get("filter") != "withbody":
            for i in items:
                i.pop("body", None)
        id_field = {"questions": "question_id", "answers": "answer_id",
                    "comments": "comment_id"}[kinds[method]]
        items.sort(key=lambda i: (i["creation_date"], i[id_field]))
        chunk = items[(page - 1) * size:page * size]
        return self._wrap(method, chunk, has_more=page * size < len(items))


@pytest.fixture
def fake(clock: Clock) -> FakeStackExchange:
    return FakeStackExchange(clock)


@pytest.fixture
async def client(fake: FakeStackExchange) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, clock: Clock, *, terms: Any = None, sleep: Any = None,
          token: str | None = TOKEN) -> Any:
    return stackexchange_net.components(
        client, base_url=API, sites=["stackoverflow", "unix"], key=KEY, access_token=token,
        terms=terms or fixed_terms("acme", SearchTerm("acme hub", "phrase")), interval=300,
        sleep=sleep or ClockSleep(clock), now=clock)


async def test_questions_answers_and_comments_become_posts(
    client: httpx.AsyncClient, fake: FakeStackExchange, clock: Clock,
) -> None:
    source, _, api = build(client, clock)
    batch = await source.poll_once(None)
    ids = [p.external_id for p in batch.posts]
    # Per site: questions for "acme" and "acme hub" (as a phrase), then every new answer and
    # comment (the pipeline's matching keeps those about a brand).
    assert ids == ["stackoverflow:q:79211001", "stackoverflow:q:79211044",
                   "stackoverflow:q:79211001", "stackoverflow:a:79211020",
                   "stackoverflow:a:79211021", "stackoverflow:a:79211050",
                   "stackoverflow:c:139870001", "stackoverflow:c:139870002"]
    by_id = {p.external_id: p for p in batch.posts}
    hub = by_id["stackoverflow:q:79211001"]
    # HTML-encoded title and HTML body decoded once; the disguised link keeps its text only.
    assert hub.text.startswith('Acme Hub & Zigbee: "device lost" after firmware 4.2\n\n'
                               "Since the 4.2 firmware my Acme Hub drops every Zigbee device "
                               "overnight. I tried <reset> twice.")
    assert "evil.example" not in hub.text
    assert hub.url == "https://stackoverflow.com/q/79211001"
    assert (hub.author.handle, hub.author.name) == ("1693102@stackoverflow", 'Wendy "W" Kraus')
    assert hub.author.url == "https://stackoverflow.com/users/1693102/wendy-w-kraus"
    assert hub.created_at == datetime.fromtimestamp(1795160000, tz=UTC)
    assert (hub.likes, hub.replies) == (3, 1)
    assert by_id["stackoverflow:q:79211044"].author.handle == "user92001@stackoverflow"
    answer = by_id["stackoverflow:a:79211020"]
    assert answer.text == ("Downgrade the Acme Hub to 4.1 until they fix it; Acme's changelog "
                           "says so.")
    assert (answer.url, answer.in_reply_to) == ("https://stackoverflow.com/a/79211020",
                                                "stackoverflow:q:79211001")
    comment = by_id["stackoverflow:c:139870001"]
    assert comment.text == "Acme support told me the same \u2013 still broken on 4.1 <sigh>"
    assert comment.in_reply_to == "stackoverflow:p:79211020"
    assert comment.url == "https://stackoverflow.com/posts/comments/139870001"
    first = int((NOW - timedelta(hours=24)).timestamp())
    assert json.loads(batch.cursor or "") == {
        'stackoverflow:questions:"acme hub"': [1795160000, [79211001]],
        "stackoverflow:questions:acme": [1795162800, [79211044]],
        "stackoverflow:answers": [1795163000, [79211050]],
        "stackoverflow:comments": [1795161200, [139870001, 139870002]],
        'unix:questions:"acme hub"': [first, []], "unix:questions:acme": [first, []],
        "unix:answers": [first, []], "unix:comments": [first, []]}
    # Every call: the key, the documented body filter, oldest first from the cursor.
    assert all(r.url.params["key"] == KEY and r.url.params["filter"] == "withbody"
               and r.url.params["order"] == "asc" for r in fake.requests)
    assert api.quota.remaining == 10_000 - len(fake.requests)
    # Nothing new: the same second is not read twice.
    again = await source.poll_once(batch.cursor)
    assert again.posts == [] and json.loads(again.cursor or "") == json.loads(batch.cursor or "")


async def test_malformed_items_are_skipped(client: httpx.AsyncClient, fake: FakeStackExchange,
                                           clock: Clock) -> None:
    fake.add("stackoverflow", "answers", {"answer_id": 1, "question_id": 2,
                                          "creation_date": 1795164000, "body": "acme"})
    fake.add("stackoverflow", "answers", {"answer_id": "x", "creation_date": 1795164001})
    fake.add("stackoverflow", "comments", {"comment_id": 5, "post_id": 6, "creation_date":
                                           1795164002, "owner": {"display_name": "a"},
                                           "body": 7})
    source, _, _ = build(client, clock, terms=fixed_terms("acme"))
    batch = await source.poll_once(None)
    ids = [p.external_id for p in batch.posts]
    assert "stackoverflow:a:1" not in ids and "stackoverflow:c:5" not in ids
    assert len(ids) == 7
    # The malformed ones still move the cursor past them (not read again and again).
    assert json.loads(batch.cursor or "")["stackoverflow:answers"] == [1795164000, [1]]


async def test_backoff_is_honoured_per_method(client: httpx.AsyncClient,
                                              fake: FakeStackExchange, clock: Clock) -> None:
    sleep = ClockSleep(clock)
    source, _, _ = build(client, clock, sleep=sleep, terms=fixed_terms("acme"))
    fake.backoff["/answers"] = 10
    fake.backoff["/search/advanced"] = 3
    batch = await source.poll_once(None)
    # The second site's search waits for the first one's backoff; /answers waits when it is
    # next called (the unix site's), /comments never (it was not told to).
    assert sleep.calls == [3.0, 10.0 - 3.0]
    assert fake.violations == 0
    await source.poll_once(batch.cursor)
    assert fake.violations == 0


async def test_a_throttle_violation_is_waited_out(client: httpx.AsyncClient,
                                                  fake: FakeStackExchange,
                                                  clock: Clock) -> None:
    sleep = ClockSleep(clock)
    source, _, _ = build(client, clock, sleep=sleep, terms=fixed_terms("acme"))
    fake.throttled = [17]
    batch = await source.poll_once(None)
    assert len(batch.posts) == 7
    assert 17 <= sleep.calls[0] < 18


async def test_a_used_up_quota_stops_the_reads_until_midnight(
    client: httpx.AsyncClient, fake: FakeStackExchange, clock: Clock,
) -> None:
    source, _, api = build(client, clock, terms=fixed_terms("acme"))
    fake.quota = 1  # the next answer says quota_remaining 0
    with pytest.raises(ApiError, match="daily quota is used up until 2026-11-21 00:00 UTC"):
        await source.poll_once(None)
    sent = len(fake.requests)
    with pytest.raises(ApiError, match="daily quota"):
        await source.poll_once(None)
    assert len(fake.requests) == sent  # nothing asked while the quota is out
    clock.value = datetime(2026, 11, 21, 0, 0, 1, tzinfo=UTC)
    fake.quota = 10_000
    assert len((await source.poll_once(None)).posts) == 7
    assert api.quota.remaining is not None and api.quota.remaining > 0


async def test_pages_go_on_next_round_without_skip_or_repeat(
    client: httpx.AsyncClient, fake: FakeStackExchange, clock: Clock,
) -> None:
    owner = {"user_id": 1, "display_name": "bulk", "user_type": "registered"}
    # 350 comments, three to a second: more than the three pages one round reads.
    for n in range(350):
        fake.add("unix", "comments", {"comment_id": 500_000 + n, "post_id": 9,
                                      "creation_date": 1795164000 + n // 3, "owner": owner,
                                      "body": f"acme comment {n}"})
    source, _, _ = build(client, clock, terms=fixed_terms("acme"))
    first = await source.poll_once(None)
    got = [p.external_id for p in first.posts if p.external_id.startswith("unix:c:")]
    assert len(got) == 300
    assert json.loads(first.cursor or "")["unix:comments"] == [1795164099, [500297, 500298,
                                                                            500299]]
    second = await source.poll_once(first.cursor)
    rest = [p.external_id for p in second.posts if p.external_id.startswith("unix:c:")]
    assert len(rest) == 50 and not set(rest) & set(got)
    assert sorted(got + rest) == sorted(f"unix:c:{500_000 + n}" for n in range(350))


async def test_into_the_store_a_card_a_restart_and_replies(
    client: httpx.AsyncClient, fake: FakeStackExchange, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate, clock: Clock,
) -> None:
    source, responder, _ = build(client, clock, terms=store_terms(sqlite_store, NETWORK))
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    # The answer and comment that never say acme are dropped by the pipeline's matching.
    assert set(views) == {"stackoverflow:q:79211001", "stackoverflow:q:79211044",
                          "stackoverflow:a:79211020", "stackoverflow:a:79211050",
                          "stackoverflow:c:139870001"}
    hub = views["stackoverflow:q:79211001"]
    card = card_for(hub, reply_networks={NETWORK})
    assert card.network == NETWORK and card.brand == "Acme"
    assert card.text.startswith('Acme Hub & Zigbee: "device lost"')
    assert "reply" in card.actions
    assert not card.answer_on_site
    # Read mode (no write access): no Reply button; the link says to answer on the site, in
    # every chat; /reply points there too.
    link_only = card_for(hub, reply_networks=set())
    assert "reply" not in link_only.actions and link_only.answer_on_site
    slack_buttons = [e for b in card_blocks(link_only, NOW) if b["type"] == "actions"
                     for e in b["elements"]]
    assert [(e["text"]["text"], e.get("url")) for e in slack_buttons if "url" in e] == [
        ("Answer on the site · stackoverflow.com", "https://stackoverflow.com/q/79211001")]
    assert "answer on the site: https://stackoverflow.com/q/79211001" in render_card(
        link_only, NOW)
    [link_row] = [r for r in discord_components(link_only) if r["components"][0]["style"] == 5]
    assert link_row["components"][0]["label"] == "Answer on stackexchange"
    result = await console_reply(sqlite_store, {}, hub.mention.id or 0, "Please try 4.2.1")
    assert not result.ok
    assert "answer there: https://stackoverflow.com/q/79211001" in result.text
    saved = sqlite_store.cursor(source=source.name)
    assert saved is not None and json.loads(saved)["stackoverflow:comments"][0] == 1795161200

    # A restart resumes from the stored cursor: the one new comment, nothing twice.
    fake.add("stackoverflow", "comments", {
        "comment_id": 139870100, "post_id": 79211044, "creation_date": 1795161200,
        "owner": {"user_id": 3, "display_name": "late", "user_type": "registered"},
        "body": "Same acme timeout here, in the same second as the last one"})
    again, responder, _ = build(client, clock, terms=store_terms(sqlite_store, NETWORK))
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    assert len(stored(sqlite_store)) == 6

    # Write mode: a comment on the question; for a comment, on the post it is under.
    text = "Sorry about that! A fix is in firmware 4.2.1, out today."
    result = await console_reply(sqlite_store, {NETWORK: responder}, hub.mention.id or 0, text)
    assert result.ok, result.text
    assert result.text.endswith("https://stackoverflow.com/posts/comments/139870777")
    assert fake.comments == [{"post": 79211001, "site": "stackoverflow", "body": text}]
    (reply,) = sqlite_store.view(hub.mention.id or 0).replies
    assert (reply.state, reply.network_reply_id) == (ReplyState.SENT,
                                                     "stackoverflow:c:139870777")
    comment = views["stackoverflow:c:139870001"].mention
    result = await console_reply(sqlite_store, {NETWORK: responder}, comment.id or 0,
                                 "Thanks Wendy, we are on it.")
    assert result.ok, result.text
    assert fake.comments[-1]["post"] == 79211020

    # Too short for a comment: refused before anything is recorded or sent.
    result = await console_reply(sqlite_store, {NETWORK: responder}, hub.mention.id or 0,
                                 "Thanks!")
    assert not result.ok and "at least 15 characters" in result.text
    assert len(fake.comments) == 2 and len(sqlite_store.view(hub.mention.id or 0).replies) == 1


async def test_the_api_refuses_a_comment_out_of_bounds(
    client: httpx.AsyncClient, fake: FakeStackExchange, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    assert responder.check("x" * 600) is None
    assert responder.check("x" * 601) == (
        "stackexchange allows 600 characters, this reply has 601")
    assert "at least 15" in (responder.check("   short    ") or "")
    mention = sqlite_store.view(stored_mention(sqlite_store, NETWORK,
                                               "stackoverflow:a:79211020")).mention
    with pytest.raises(ReplyRejected, match="HTTP 400: bad_parameter: body cannot be longer"):
        await responder.reply(mention=mention, text="x" * 601)
    with pytest.raises(ReplyRejected, match="bad_parameter: body must be at least 15"):
        await responder.reply(mention=mention, text="short")
    assert len(fake.comments) == 2  # both reached the API, which said no
    orphan = sqlite_store.view(stored_mention(sqlite_store, NETWORK,
                                              "stackoverflow:c:5")).mention
    with pytest.raises(ReplyRejected, match="answer on the site"):
        await responder.reply(mention=orphan, text="x" * 20)
    # A throttle on the write: refused (nothing posted), not left uncertain.
    fake.throttled = [42]
    with pytest.raises(ReplyRejected, match=r"throttle_violation: .* try again in 42 s"):
        await responder.reply(mention=mention, text="x" * 20)
    # Without write access the API says so.
    _, writer, _ = build(client, clock, token="read-only")
    with pytest.raises(ReplyRejected, match="access_denied"):
        await writer.reply(mention=mention, text="x" * 20)


async def test_networks_report_lists_stack_exchange(client: httpx.AsyncClient,
                                                    fake: FakeStackExchange) -> None:
    def config(**values: Any) -> Any:
        return load_network_config(values, env_file=None)

    off = {s.network: s for s in await registry.report(config(), client)}[NETWORK]
    assert off.on is False and off.detail.startswith("set ECHTZEIT_STACKEXCHANGE_SITES")
    read = {s.network: s for s in await registry.report(config(
        stackexchange_sites="stackoverflow,unix", stackexchange_key=KEY),
        client)}[NETWORK]
    assert read.ok is True
    assert read.detail == ("questions, answers and comments on stackoverflow, unix; "
                           "link-only replies; signed in as the app key, quota 9999/10000 "
                           "left today")
    write = {s.network: s for s in await registry.report(config(
        stackexchange_sites="stackoverflow", stackexchange_key=KEY,
        stackexchange_access_token=TOKEN), client)}[NETWORK]
    assert write.ok is True and write.detail.endswith(
        "replies as comments; signed in as account 4040 with write_access, quota 9998/10000 "
        "left today")
    wrong = {s.network: s for s in await registry.report(config(
        stackexchange_sites="stackoverflow", stackexchange_key=KEY,
        stackexchange_access_token="read-only"), client)}[NETWORK]
    assert wrong.ok is False and "write_access" in wrong.detail
    badkey = {s.network: s for s in await registry.report(config(
        stackexchange_sites="stackoverflow", stackexchange_key="nope"), client)}[NETWORK]
    assert badkey.ok is False and "bad_parameter" in badkey.detail


NETWORK = stackexchange_net.NETWORK
