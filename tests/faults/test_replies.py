"""Issue 8, point 3: a reply is never posted twice, whatever the network does.

1,000 replies go through `/reply` (commands.dispatch) and the real Mastodon responder
(`integrations/networks/mastodon_net.py`, real httpx client) to a fake instance behind
httpx.MockTransport. For every `POST /api/v1/statuses` the fake picks, seeded, one of: accept;
accept and then time out (the status exists, the client gets httpx.ReadTimeout); 500 (nothing
created, but the client cannot know that); 422 (refused); drop the connection before
accepting (ReadError: unclear) or refuse the connection (ConnectError: certainly not sent).

The fake deliberately ignores Idempotency-Key: the guarantee tested here is Echtzeit's own
(record before sending, `unknown` on an unclear outcome, a person settles), not Mastodon's.

Staff behaviour: when the answer says the outcome is unclear, a person looks at the network
(does the fake show a status in reply to that mention?) and runs `/settle <reply> posted` or
`/settle <reply> failed`; after a refusal or a settled failure they run `/reply` again.
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter
from datetime import UTC, datetime

import httpx

from bot.domain import MentionStatus, ReplyState
from bot.store import Store
from commands import Deps, Invocation, Role, dispatch
from integrations.networks import mastodon_net
from integrations.networks.terms import fixed_terms
from testkit.factories import new_mention
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import NoSleep, fixture

BASE = "https://social.example"
MENTIONS = 600  # about 1.8 attempts each: well over 1,000 replies in all
REPLIES = 1_000
OUTCOMES = ("accept", "accept_then_timeout", "http_500", "http_422", "drop_before", "refuse")
WEIGHTS = (40, 15, 15, 10, 10, 10)


class FlakyMastodon:
    """A Mastodon instance whose status-creating endpoint misbehaves at random (seeded)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.instance = fixture("mastodon", "instance.json")
        self.me = fixture("mastodon", "verify_credentials.json")
        self.template = fixture("mastodon", "statuses.json")[0]
        self.created: Counter[str] = Counter()  # in_reply_to_id -> statuses created
        self.outcomes: Counter[str] = Counter()
        self.next_id = 113600000000000000

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/api/v2/instance":
            return httpx.Response(200, json=self.instance)
        if path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json=self.me)
        if path.startswith("/api/v1/statuses/") and request.method == "GET":
            status = copy.deepcopy(self.template)
            status["id"] = path.rsplit("/", 1)[1]
            return httpx.Response(200, json=status)
        if path == "/api/v1/statuses" and request.method == "POST":
            return self._create(request)
        return httpx.Response(404, json={"error": "Record not found"})

    def _create(self, request: httpx.Request) -> httpx.Response:
        outcome = self.rng.choices(OUTCOMES, WEIGHTS)[0]
        self.outcomes[outcome] += 1
        body = json.loads(request.content)
        if outcome == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if outcome == "drop_before":
            raise httpx.ReadError("connection reset by peer", request=request)
        # What reaches the instance is validated as Mastodon does (service_rules.py); an
        # over-long status is refused whatever else would have happened.
        refused = service_rules.mastodon_status(body.get("status"))
        if refused:
            return httpx.Response(refused[0], json=refused[1])
        if outcome == "http_500":
            return httpx.Response(500, json={"error": "Internal server error"})
        if outcome == "http_422":
            return httpx.Response(422, json={"error": "Validation failed: try again"})
        self.next_id += 1
        self.created[body["in_reply_to_id"]] += 1
        created = fixture("mastodon", "status_created.json")
        created.update(id=str(self.next_id), in_reply_to_id=body["in_reply_to_id"],
                       url=f"{BASE}/@acme/{self.next_id}")
        if outcome == "accept_then_timeout":
            raise httpx.ReadTimeout("timed out reading the answer", request=request)
        return httpx.Response(200, json=created)


async def test_no_reply_is_posted_twice_over_a_thousand_faulty_attempts(
    sqlite_store: Store,
) -> None:
    rng = random.Random(20261123)
    fake = FlakyMastodon(rng)
    bid = sqlite_store.add_brand(name="Acme", query="acme", actor="t").id or 0
    ids = sqlite_store.write_mentions([new_mention(bid) for _ in range(MENTIONS)], routes={})
    external = {mid: sqlite_store.view(mid).mention.external_id for mid in ids}
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as client:
        _, responder = mastodon_net.components(
            client, base_url=BASE, token="t", terms=fixed_terms("acme"), interval=60,
            streaming=False, sleep=NoSleep(), now=lambda: datetime(2026, 11, 20, tzinfo=UTC))
        deps = Deps(store=sqlite_store, responders={"mastodon": responder})
        staff = Invocation(user="ana", platform="console", roles=frozenset({Role.RESPONDER}))
        answers: Counter[str] = Counter()
        attempts = 0
        pending = list(ids)
        while pending:
            # Round-robin, so a failed reply is retried later, not at once.
            mid = pending[attempts % len(pending)]
            attempts += 1
            result = await dispatch(f"/reply {mid} Sorry, we are on it.", staff, deps)
            if result.ok:
                answers["replied"] += 1
                pending.remove(mid)
                continue
            unclear = re.search(r"posted reply (\d+) to", result.text)
            if unclear is None:
                answers["refused"] += 1  # certainly not posted: staff try again later
                continue
            answers["unclear"] += 1
            looked = fake.created[external[mid]] > 0  # a person looks at the thread
            settled = await dispatch(
                f"/settle {unclear.group(1)} {'posted' if looked else 'failed'}", staff, deps)
            assert settled.ok, settled.text
            if looked:
                pending.remove(mid)
            # A settled failure is retried by the loop like a refusal.
            assert attempts < 20 * REPLIES, "replies never get through"

    assert attempts >= REPLIES
    for mid in ids:
        assert fake.created[external[mid]] == 1, f"mention {mid}: {fake.created[external[mid]]}"
        view = sqlite_store.view(mid)
        assert view.mention.status == MentionStatus.REPLIED
        states = Counter(r.state for r in view.replies)
        assert states[ReplyState.SENT] == 1
        assert states[ReplyState.PENDING] == states[ReplyState.UNKNOWN] == 0
    # Every kind of fault actually happened, many times.
    assert min(fake.outcomes[o] for o in OUTCOMES) >= 50, fake.outcomes
    assert answers["unclear"] >= 200 and answers["refused"] >= 100, answers
