"""App Store reviews against a fake App Store Connect API at the HTTP boundary: the
customerReviews list (JSON:API, `links.next` paging, include=response, sparse fieldsets), the
developer responses (one per review, an update overwrites), apps for the credential check, the
ES256 token verified with the key's public half (expired or too-long tokens: 401 in Apple's
error shape), `X-Rate-Limit` over a rolling hour and 429, with the rules of service_rules.py and
payload shapes from tests/fixtures/appstore."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bot.cards import card_for
from bot.domain import ReplyState
from bot.networks import ReplyRejected, ReplyUncertain
from bot.pipeline import Pipeline
from bot.settings import SettingsError
from bot.store import Store
from integrations.chat.console.render import render_card
from integrations.chat.discord.render import card_message
from integrations.chat.slack.render import card_blocks
from integrations.networks import appstore_net, registry
from integrations.networks.http_common import ApiError, RateLimited, parse_time
from integrations.networks.settings import load_network_config
from tests.conftest import Clock
from tests.integrations.chat.discord import discord_rules
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    Gate,
    console_reply,
    fixture,
    pump_rounds,
    stored,
    stored_mention,
)

API = "https://api.appstoreconnect.apple.com"
ISSUER = "57246542-96fe-1a63-e053-0824d011072a"
KEY_ID = "2X9R4HXF34"
APP = "1459876543"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NETWORK = appstore_net.NETWORK


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


_KEY = ec.generate_private_key(ec.SECP256R1())
PRIVATE_PEM = _pem(_KEY)  # what AuthKey_<key id>.p8 holds
PUBLIC_KEY = _KEY.public_key()
OTHER_PEM = _pem(ec.generate_private_key(ec.SECP256R1()))


class ClockSleep:
    """An injected sleep that moves the test's clock (the fake's too) and returns."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.clock.advance(seconds=seconds)


def review(rid: str, at: datetime, *, rating: int = 2, title: str = "Acme app",
           body: str = "acme review") -> dict[str, Any]:
    return {"type": "customerReviews", "id": rid,
            "attributes": {"rating": rating, "title": title, "body": body,
                           "reviewerNickname": f"n-{rid[-4:]}",
                           "createdDate": at.strftime("%Y-%m-%dT%H:%M:%S-00:00"),
                           "territory": "USA"},
            "relationships": {"response": {"links": {
                "related": f"{API}/v1/customerReviews/{rid}/response"}}},
            "links": {"self": f"{API}/v1/customerReviews/{rid}"}}


def _order(raw: dict[str, Any]) -> tuple[datetime, str]:
    """Newest first; what has no date (the malformed test's) sorts last."""
    try:
        return parse_time(raw["attributes"]["createdDate"]), str(raw["id"])
    except (KeyError, ValueError):
        return datetime.min.replace(tzinfo=UTC), str(raw.get("id"))


class FakeAppStoreConnect:
    """api.appstoreconnect.apple.com, as strict as Apple about what this client uses."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        raw = fixture("appstore", "customer_reviews.json")
        self.reviews: dict[str, list[dict[str, Any]]] = {APP: raw["data"]}
        self.responses: dict[str, dict[str, Any]] = {}  # review id -> its one response
        for resp in raw["included"]:
            self.responses["00000041-7c2e-0033-1c8a-4fe100000001"] = resp
        self.requests: list[httpx.Request] = []
        self.posted: list[dict[str, Any]] = []  # every POST body that reached the API
        self.tokens: set[str] = set()
        self.limit = 3600
        self.used: list[datetime] = []  # answered requests, for the rolling hour
        self.retry_after: str | None = None
        self.fail_writes = 0  # next POSTs answer 500 (after taking them)
        self.created = 0
        self.on_post: Any = None  # called as each POST arrives (what the store holds then)
        self.broken_pages = 0  # next `links.next` pages answer 503
        self.none_as_null = False  # "no response yet" as 200 {"data": null} instead of a 404
        self.broken_lookups = 0  # next response look-ups answer 503

    # -- helpers

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None,
                ) -> httpx.Response:
        remaining = max(self.limit - len(self._hour()), 0)
        h = {"X-Rate-Limit": f"user-hour-lim:{self.limit};user-hour-rem:{remaining};",
             "Content-Type": "application/json", **(headers or {})}
        return httpx.Response(status, json=body, headers=h)

    def _refuse(self, refusal: service_rules.Refusal) -> httpx.Response:
        return self._answer(*refusal)

    def _hour(self) -> list[datetime]:
        start = self.clock() - timedelta(hours=1)
        self.used = [t for t in self.used if t > start]
        return self.used

    def _authorized(self, request: httpx.Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return False
        token = auth.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            # The fake's clock, not the machine's: exp and iat are checked below.
            claims = jwt.decode(token, PUBLIC_KEY, algorithms=["ES256"],
                                audience=service_rules.APPSTORE_AUDIENCE,
                                options={"verify_exp": False, "verify_iat": False,
                                         "require": ["iss", "iat", "exp", "aud"]})
        except jwt.PyJWTError:
            return False
        now = self.clock().timestamp()
        if header.get("kid") != KEY_ID or header.get("typ") != "JWT":
            return False
        if claims["iss"] != ISSUER or claims["exp"] <= now:
            return False
        if claims["exp"] - now > service_rules.APPSTORE_MAX_TOKEN_SECONDS:
            return False  # "greater than 20 minutes into the future"
        self.tokens.add(token)
        return True

    def _reviews_page(self, app_id: str, params: dict[str, str]) -> httpx.Response:
        if params.get("sort") != "-createdDate":
            return self._refuse(service_rules.appstore_error(
                400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value",
                "this fake serves sort=-createdDate only"))
        limit = int(params.get("limit", "50"))
        if not 1 <= limit <= 200:
            return self._refuse(service_rules.appstore_error(
                400, "PARAMETER_ERROR.INVALID", "A parameter has an invalid value",
                f"'{limit}' is not a valid value for the parameter 'limit'"))
        items = sorted(self.reviews.get(app_id, []), reverse=True, key=_order)
        if "cursor" in params and self.broken_pages:
            self.broken_pages -= 1
            return self._answer(503, {"errors": [{
                "status": "503", "code": "SERVICE_UNAVAILABLE", "title": "Service Unavailable",
                "detail": "The service is temporarily unavailable."}]})
        offset = int(base64.b64decode(params["cursor"]).decode()) if "cursor" in params else 0
        page = [copy.deepcopy(r) for r in items[offset:offset + limit]]
        fields = params.get("fields[customerReviews]")
        included = []
        for r in page:
            resp = self.responses.get(r["id"])
            rel = r.setdefault("relationships", {}).setdefault("response", {})
            if resp is not None:
                rel["data"] = {"type": "customerReviewResponses", "id": resp["id"]}
                if params.get("include") == "response":
                    included.append(copy.deepcopy(resp))
            else:
                rel.pop("data", None)
            if fields is not None:
                keep = set(fields.split(","))
                r["attributes"] = {k: v for k, v in r.get("attributes", {}).items()
                                   if k in keep}
                if "response" not in keep:
                    r.pop("relationships")
        body: dict[str, Any] = {
            "data": page, "links": {"self": f"{API}/v1/apps/{app_id}/customerReviews"},
            "meta": {"paging": {"total": len(items), "limit": limit}}}
        if included:
            body["included"] = included
        if offset + limit < len(items):
            query = {k: v for k, v in params.items() if k != "cursor"}
            query["cursor"] = base64.b64encode(str(offset + limit).encode()).decode()
            body["links"]["next"] = f"{API}/v1/apps/{app_id}/customerReviews?{urlencode(query)}"
        return self._answer(200, body)

    def _create_response(self, request: httpx.Request) -> httpx.Response:
        try:
            payload = json.loads(request.content)
            data = payload["data"]
            assert data["type"] == "customerReviewResponses"
            review_ref = data["relationships"]["review"]["data"]
            assert review_ref["type"] == "customerReviews"
            body = data["attributes"]["responseBody"]
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._refuse(service_rules.appstore_error(
                422, "ENTITY_UNPROCESSABLE", "The request entity is not valid",
                "The request body is not a customerReviewResponses create request"))
        self.posted.append({"review": review_ref["id"], "responseBody": body})
        if self.on_post is not None:
            self.on_post()
        if not any(r["id"] == review_ref["id"] for rs in self.reviews.values() for r in rs):
            return self._refuse(service_rules.appstore_error(
                409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "The provided entity is invalid",
                f"There is no customerReviews with id '{review_ref['id']}'",
                pointer="/data/relationships/review"))
        refusal = service_rules.appstore_response_body(body)
        if refusal is not None:
            return self._refuse(refusal)
        # One response per review: an update overwrites the existing one.
        current = self.responses.get(review_ref["id"])
        if current is None:
            self.created += 1
            current = fixture("appstore", "response_created.json")["data"]
            current["id"] = f"00000041-7c2e-0033-1c8a-4fe10000{self.created:04d}"
        current["attributes"] = {"responseBody": body, "state": "PENDING_PUBLISH",
                                 "lastModifiedDate": self.clock().isoformat()}
        current["relationships"] = {"review": {"data": {"type": "customerReviews",
                                                        "id": review_ref["id"]}}}
        self.responses[review_ref["id"]] = current
        if self.fail_writes:
            self.fail_writes -= 1
            return self._answer(500, {"errors": [{"status": "500", "code": "UNEXPECTED_ERROR",
                                                  "title": "An unexpected error occurred.",
                                                  "detail": "try again later"}]})
        return self._answer(201, {"data": copy.deepcopy(current),
                                  "links": {"self": f"{API}/v1/customerReviewResponses"}})

    # -- the API

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host != "api.appstoreconnect.apple.com":
            raise AssertionError(f"the token went to {request.url.host}")
        if not self._authorized(request):
            return self._refuse(service_rules.appstore_not_authorized())
        if len(self._hour()) >= self.limit:
            extra = {"Retry-After": self.retry_after} if self.retry_after else None
            status, body = service_rules.appstore_rate_limited(self.limit)
            return self._answer(status, body, extra)
        self.used.append(self.clock())
        path, params = request.url.path, dict(request.url.params)
        parts = path.strip("/").split("/")
        if request.method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "apps"] \
                and parts[3] == "customerReviews":
            return self._reviews_page(parts[2], params)
        if request.method == "GET" and parts[:2] == ["v1", "apps"] and len(parts) == 3:
            if parts[2] not in self.reviews:
                return self._refuse(service_rules.appstore_error(
                    404, "NOT_FOUND", "The specified resource does not exist",
                    f"There is no resource of type 'apps' with id '{parts[2]}'"))
            app = fixture("appstore", "app.json")
            app["data"]["id"] = parts[2]
            return self._answer(200, app)
        if request.method == "GET" and len(parts) == 4 and parts[:2] == [
                "v1", "customerReviews"] and parts[3] == "response":
            if self.broken_lookups:
                self.broken_lookups -= 1
                return self._answer(503, {"errors": [{
                    "status": "503", "code": "SERVICE_UNAVAILABLE",
                    "title": "Service Unavailable", "detail": "try again later"}]})
            resp = self.responses.get(parts[2])
            if resp is not None or self.none_as_null:
                return self._answer(200, {"data": copy.deepcopy(resp),
                                          "links": {"self": f"{API}{path}"}})
        if request.method == "POST" and path == "/v1/customerReviewResponses":
            return self._create_response(request)
        return self._refuse(service_rules.appstore_error(
            404, "NOT_FOUND", "The specified resource does not exist",
            f"The path provided does not match a defined resource type. ({path})"))


@pytest.fixture
def fake(clock: Clock) -> FakeAppStoreConnect:
    return FakeAppStoreConnect(clock)


@pytest.fixture
async def client(fake: FakeAppStoreConnect) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, clock: Clock, *, sleep: Any = None,
          key: str = PRIVATE_PEM, apps: tuple[str, ...] = (APP,)) -> Any:
    return appstore_net.components(
        client, base_url=API, issuer_id=ISSUER, key_id=KEY_ID,
        private_key=appstore_net.key_reader(path=None, value=key), app_ids=apps,
        interval=600, sleep=sleep or ClockSleep(clock), now=clock)


async def test_reviews_become_posts_with_stars_app_and_title_line(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, clock: Clock,
) -> None:
    source, _, api = build(client, clock)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    assert list(by_id) == ["00000041-7c2e-0033-1c8a-4fe100000001",
                           "00000041-7c2e-0033-1c8a-4fe100000000",
                           "00000041-7c2e-0033-1c8a-4fe100000002"]
    crash = by_id["00000041-7c2e-0033-1c8a-4fe100000000"]
    # The title on its own line, then the body; both kept as the customer wrote them (the
    # adapters' render defuses the pings and the disguised link).
    assert crash.text == ("Crashes since 4.2 @everyone\nAcme Home crashes every time I open "
                          "the camera tab since the 4.2 update. <@U012AB3CD> "
                          "[support](https://evil.example) did not help.\n\n(on: Acme Home)")
    assert (crash.rating, crash.app, crash.network) == (1, APP, "appstore")
    assert crash.created_at == datetime(2026, 11, 20, 8, 40, tzinfo=UTC)
    assert crash.author.handle == "@here Wendy K." and crash.author.followers is None
    assert crash.url == ("https://appstoreconnect.apple.com/apps/1459876543/distribution/"
                         "activity/ios/ratingsResponses?review="
                         "00000041-7c2e-0033-1c8a-4fe100000000")
    assert crash.extra == {"app": APP, "territory": "USA"}
    answered = by_id["00000041-7c2e-0033-1c8a-4fe100000001"]
    assert answered.extra["response"] == "PUBLISHED" and answered.rating == 5
    # A review without a title is its body alone (and the app it is about).
    assert by_id["00000041-7c2e-0033-1c8a-4fe100000002"].text == (
        "Sync is slow on iPad.\n\n(on: Acme Home)")
    # Two reviews share the newest instant (08:40 UTC, one written as -08:00): both in the mark.
    assert json.loads(batch.cursor or "") == {APP: [
        "2026-11-20T08:40:00+00:00", ["00000041-7c2e-0033-1c8a-4fe100000000",
                                      "00000041-7c2e-0033-1c8a-4fe100000001"]]}
    app, request = fake.requests
    assert (app.url.path, dict(app.url.params)) == (f"/v1/apps/{APP}", {"fields[apps]": "name"})
    assert dict(request.url.params) == {
        "sort": "-createdDate", "limit": "200", "include": "response",
        "fields[customerReviews]": appstore_net.REVIEW_FIELDS,
        "fields[customerReviewResponses]": appstore_net.RESPONSE_FIELDS}
    assert api.window.limit == 3600 and api.window.remaining == 3598
    again = await source.poll_once(batch.cursor)
    assert again.posts == [] and json.loads(again.cursor or "") == json.loads(batch.cursor or "")
    assert len(fake.tokens) == 1  # one token for both rounds
    # An app without reviews in the first week still gets a mark: later rounds read back to it.
    fake.reviews["1500000001"] = []
    other, _, _ = build(client, clock, apps=("1500000001",))
    empty = await other.poll_once(None)
    assert json.loads(empty.cursor or "") == {"1500000001": ["2026-11-13T09:00:00+00:00", []]}


async def test_pages_and_equal_timestamps_neither_skip_nor_repeat(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, clock: Clock,
) -> None:
    source, _, _ = build(client, clock)
    first = await source.poll_once(None)
    assert len(first.posts) == 3
    # 450 new reviews, three to a second, newest at 08:54:59: three pages of 200.
    base = datetime(2026, 11, 20, 8, 52, 30, tzinfo=UTC)
    for n in range(450):
        fake.reviews[APP].append(review(f"r-{n:04d}", base + timedelta(seconds=n // 3)))
    second = await source.poll_once(first.cursor)
    got = [p.external_id for p in second.posts]
    assert len(got) == 450 and len(set(got)) == 450
    assert sum(1 for r in fake.requests if "cursor" in r.url.params) == 2
    newest = json.loads(second.cursor or "")[APP]
    assert newest == ["2026-11-20T08:54:59+00:00", ["r-0447", "r-0448", "r-0449"]]
    # Two more in that very second, one later: only those three next time.
    fake.reviews[APP].append(review("r-late-1", base + timedelta(seconds=149)))
    fake.reviews[APP].append(review("r-late-2", base + timedelta(seconds=149)))
    fake.reviews[APP].append(review("r-later", base + timedelta(seconds=150)))
    third = await source.poll_once(second.cursor)
    assert sorted(p.external_id for p in third.posts) == ["r-late-1", "r-late-2", "r-later"]
    assert json.loads(third.cursor or "")[APP] == ["2026-11-20T08:55:00+00:00", ["r-later"]]
    assert (await source.poll_once(third.cursor)).posts == []

    # A round that fails on its second page delivers nothing and keeps the cursor: the next
    # round reads all of it again, nothing skipped (and nothing was handed on twice).
    for n in range(250):
        fake.reviews[APP].append(review(f"s-{n:04d}", base + timedelta(seconds=200 + n)))
    fake.broken_pages = 5  # more than the read's five attempts
    with pytest.raises(ApiError, match="HTTP 503: SERVICE_UNAVAILABLE"):
        await source.poll_once(third.cursor)
    fourth = await source.poll_once(third.cursor)
    assert sorted(p.external_id for p in fourth.posts) == [f"s-{n:04d}" for n in range(250)]


async def test_malformed_reviews_are_skipped_and_hostile_links_not_followed(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, clock: Clock,
) -> None:
    bad_rating = review("r-bad-rating", NOW - timedelta(minutes=5), rating=7)
    no_text = review("r-no-text", NOW - timedelta(minutes=4), title=" ", body="")
    no_date = review("r-no-date", NOW - timedelta(minutes=3))
    no_date["attributes"]["createdDate"] = "yesterday"
    future = review("r-future", NOW + timedelta(days=30))
    fake.reviews[APP] += [bad_rating, no_text, no_date, future, {"type": "apps", "id": 5}]
    source, _, _ = build(client, clock)
    batch = await source.poll_once(None)
    assert len(batch.posts) == 3
    assert json.loads(batch.cursor or "")[APP][0] == "2026-11-20T08:56:00+00:00"
    with pytest.raises(ValueError):
        appstore_net.review_to_post({**bad_rating, "id": "../../v1/apps"}, APP)

    # A `links.next` off Apple's host is never followed (the token would go with it).
    async def leaky(request: httpx.Request) -> httpx.Response:
        assert request.url.host == "api.appstoreconnect.apple.com"
        if request.url.path == f"/v1/apps/{APP}":  # a hostile answer here too: no name
            return httpx.Response(200, json={"data": [{"attributes": {"name": 5}}]})
        body = fixture("appstore", "customer_reviews.json")
        body["links"]["next"] = "https://evil.example/steal"
        return httpx.Response(200, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(leaky)) as other:
        leak_source, _, _ = build(other, clock)
        leaked = await leak_source.poll_once(None)
        assert len(leaked.posts) == 3 and leaked.posts[0].text.endswith(f"(on: {APP})")


async def test_tokens_are_es256_renewed_and_apple_refuses_bad_ones(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, _, api = build(client, clock)
    await source.poll_once(None)
    clock.advance(minutes=14, seconds=30)  # within a minute of exp: a new token
    await source.poll_once(None)
    assert api.signer.signed == 2 and len(fake.tokens) == 2
    token = next(iter(fake.tokens))
    # The fake's 401 is Apple's, as recorded in the fixture (but for the request id).
    status, refusal = service_rules.appstore_not_authorized()
    recorded = fixture("appstore", "not_authorized.json")["errors"][0]
    assert status == 401 and {**refusal["errors"][0], "id": recorded["id"]} == recorded
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": KEY_ID, "typ": "JWT"}

    # Another key's signature: Apple's 401, in its error shape, not retried.
    wrong, _, _ = build(client, clock, key=OTHER_PEM)
    sent = len(fake.requests)
    with pytest.raises(ApiError, match="HTTP 401: NOT_AUTHORIZED: Provide a properly "
                                       "configured and signed bearer token"):
        await wrong.poll_once(None)
    assert len(fake.requests) == sent + 1
    # A token for longer than 20 minutes is refused too.
    monkeypatch.setattr(appstore_net, "TOKEN_LIFETIME", timedelta(minutes=30))
    greedy, _, _ = build(client, clock)
    with pytest.raises(ApiError, match="NOT_AUTHORIZED"):
        await greedy.poll_once(None)
    # An unreadable key is a clear error, without the key in it.
    broken, _, _ = build(client, clock, key="-----BEGIN PRIVATE KEY-----\nnope\n")
    with pytest.raises(ApiError, match="cannot sign the App Store Connect token") as caught:
        await broken.poll_once(None)
    assert "nope" not in str(caught.value)
    missing = appstore_net.key_reader(path="/nonexistent/AuthKey_X.p8", value=None)
    with pytest.raises(ValueError, match="does not exist"):
        missing()


async def test_the_rolling_hour_is_honoured_and_429_waited_out(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, clock: Clock,
) -> None:
    sleep = ClockSleep(clock)
    source, _, api = build(client, clock, sleep=sleep)
    fake.limit = 3
    await source.poll_once(None)  # the app's name, then its reviews
    assert api.window.remaining == 1 and sleep.calls == []
    await source.poll_once(None)
    assert api.window.remaining == 0
    # None left: the next request waits first; the hour is still full, so Apple says 429
    # RATE_LIMIT_EXCEEDED and each retry waits again, until the read gives up.
    with pytest.raises(RateLimited, match="HTTP 429: RATE_LIMIT_EXCEEDED"):
        await source.poll_once(None)
    assert sleep.calls[0] == appstore_net.RATE_WAIT
    assert all(60 <= s < 61 for s in sleep.calls[1:]) and len(sleep.calls) == 5
    # An hour after the first three, the window has room again.
    clock.value = NOW + timedelta(hours=1, seconds=1)
    assert len((await source.poll_once(None)).posts) == 3
    # Apple's Retry-After, when it names one, wins over our minute.
    fake.limit, fake.retry_after = 1, "5"
    sleep.calls.clear()
    with pytest.raises(RateLimited):
        await source.poll_once(None)
    assert all(5 <= s < 6 for s in sleep.calls[1:]), sleep.calls


async def test_into_the_store_a_card_a_restart_and_replies(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, pipeline: Pipeline,
    sqlite_store: Store, gate: Gate, clock: Clock,
) -> None:
    # Every review of the app matches the brand, whether it names Acme or not: the app's name
    # ("Acme Home") comes with it.
    source, responder, _ = build(client, clock)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v for v in stored(sqlite_store)}
    assert set(views) == {"00000041-7c2e-0033-1c8a-4fe100000000",
                          "00000041-7c2e-0033-1c8a-4fe100000001",
                          "00000041-7c2e-0033-1c8a-4fe100000002"}
    crash = views["00000041-7c2e-0033-1c8a-4fe100000000"]
    card = card_for(crash, reply_networks={NETWORK})
    assert card.network == NETWORK and card.brand == "Acme" and "reply" in card.actions
    assert card.text.startswith("Crashes since 4.2 @everyone\nAcme Home crashes")
    # The stars and the app are stored (0014_rating) and on the card in every renderer.
    assert (crash.mention.rating, crash.mention.app) == (1, APP)
    assert card.rating_line is not None and card.rating_line.startswith("★☆☆☆☆ 1/5")
    assert card.rating_line in render_card(card, NOW)
    assert "★☆☆☆☆ 1/5" in json.dumps(card_blocks(card, NOW), ensure_ascii=False)
    assert "★☆☆☆☆ 1/5" in json.dumps(card_message(card), ensure_ascii=False)
    # Untrusted text pings nobody and disguises no link in Slack and Discord (the console has
    # no pings).
    assert "Crashes since 4.2" in render_card(card, NOW)
    slack = json.dumps(card_blocks(card, NOW))
    assert "Crashes since 4.2" in slack
    assert "<@U012AB3CD>" not in slack and "<https://evil.example|support>" not in slack
    message = card_message(card)
    assert message["allowed_mentions"] == {"parse": []}
    (embed,) = message["embeds"]
    assert "Crashes since 4.2" in embed["description"]
    assert discord_rules.hazards(embed["description"]) == []
    saved = sqlite_store.cursor(source=source.name)
    assert saved is not None and json.loads(saved)[APP][0] == "2026-11-20T08:40:00+00:00"

    # A restart resumes from the stored cursor: the new review only, nothing twice.
    fake.reviews[APP].append(review("r-after-restart", NOW - timedelta(minutes=1),
                                    title="Login loop", body="acme login loops"))
    again, responder, _ = build(client, clock)
    again.sleep = gate
    await pump_rounds(again, pipeline, gate)
    assert len(stored(sqlite_store)) == 4

    # /reply: the developer response, recorded before it is sent.
    mid = crash.mention.id or 0
    seen_by_apple: list[list[str]] = []
    fake.on_post = lambda: seen_by_apple.append(
        [r.state for r in sqlite_store.view(mid).replies])
    text = "Sorry! 4.2.1 fixes the camera crash; it is in review now."
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid, text)
    assert result.ok, result.text
    assert "Apple publishes it on the App Store after a while" in result.text
    assert fake.posted == [{"review": crash.mention.external_id, "responseBody": text}]
    assert seen_by_apple == [[ReplyState.PENDING]]  # in the store before Apple had it
    (reply,) = sqlite_store.view(mid).replies
    assert reply.state == ReplyState.SENT
    first_id = reply.network_reply_id
    # A second reply replaces the first (one response per review), and says so.
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid,
                                 "Update: 4.2.1 is out now.")
    assert result.ok and "replaced the earlier developer response" in result.text
    assert fake.responses[crash.mention.external_id]["attributes"]["responseBody"] == (
        "Update: 4.2.1 is out now.")
    assert [r.network_reply_id for r in sqlite_store.view(mid).replies] == [first_id, first_id]
    # Too long: refused before anything is recorded or sent.
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid, "x" * 5971)
    assert not result.ok and "appstore allows 5970 characters, this reply has 5971" in (
        result.text)
    assert len(fake.posted) == 2 and len(sqlite_store.view(mid).replies) == 2


async def test_an_uncertain_response_is_never_sent_twice(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    mid = stored_mention(sqlite_store, NETWORK, "00000041-7c2e-0033-1c8a-4fe100000002")
    fake.fail_writes = 1
    result = await console_reply(sqlite_store, {NETWORK: responder}, mid, "We are on it.")
    assert not result.ok and "settle" in result.text
    (reply,) = sqlite_store.view(mid).replies
    assert reply.state == ReplyState.UNKNOWN
    # Until someone settles it, a second /reply is refused before it reaches Apple.
    again = await console_reply(sqlite_store, {NETWORK: responder}, mid, "We are on it.")
    assert not again.ok
    assert len(fake.posted) == 1


@pytest.mark.parametrize("none_as_null", [False, True])
async def test_the_answer_says_whether_an_earlier_response_was_replaced(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, sqlite_store: Store, clock: Clock,
    none_as_null: bool,
) -> None:
    fake.none_as_null = none_as_null  # Apple's "none yet": a 404, or data null
    _, responder, _ = build(client, clock)
    mention = sqlite_store.view(stored_mention(
        sqlite_store, NETWORK, "00000041-7c2e-0033-1c8a-4fe100000002")).mention
    first = await responder.reply(mention=mention, text="Thanks, we are looking into it.")
    assert first.note == "Apple publishes it on the App Store after a while"
    second = await responder.reply(mention=mention, text="Fixed in 4.2.1.")
    assert second.id == first.id and second.note is not None
    assert "it replaced the earlier developer response" in second.note
    # When the look-up fails, the reply still goes, and the answer hedges.
    fake.broken_lookups = 1
    third = await responder.reply(mention=mention, text="One more update.")
    assert third.note is not None and "so it replaced any earlier one" in third.note
    assert [p["responseBody"] for p in fake.posted] == [
        "Thanks, we are looking into it.", "Fixed in 4.2.1.", "One more update."]


async def test_apple_refuses_what_the_check_would_have(
    client: httpx.AsyncClient, fake: FakeAppStoreConnect, sqlite_store: Store, clock: Clock,
) -> None:
    _, responder, _ = build(client, clock)
    assert responder.check("x" * 5970) is None
    assert "5970" in (responder.check("x" * 5971) or "")
    assert responder.check("  ") == "the reply is empty"
    mention = sqlite_store.view(stored_mention(
        sqlite_store, NETWORK, "00000041-7c2e-0033-1c8a-4fe100000002")).mention
    with pytest.raises(ReplyRejected, match=r"HTTP 409: ENTITY_ERROR\.ATTRIBUTE\.INVALID: The "
                                            "attribute 'responseBody' must be at most 5970"):
        await responder.reply(mention=mention, text="x" * 5971)
    gone = sqlite_store.view(stored_mention(sqlite_store, NETWORK, "no-such-review")).mention
    with pytest.raises(ReplyRejected, match=r"ENTITY_ERROR\.RELATIONSHIP\.INVALID"):
        await responder.reply(mention=gone, text="Thanks!")
    fake.limit = 0
    with pytest.raises(ReplyRejected, match="rate limited by App Store Connect"):
        await responder.reply(mention=mention, text="Thanks!")
    fake.limit = 3600
    fake.fail_writes = 1
    with pytest.raises(ReplyUncertain, match="HTTP 500"):
        await responder.reply(mention=mention, text="Thanks!")


async def test_networks_report_lists_app_store(client: httpx.AsyncClient,
                                               fake: FakeAppStoreConnect,
                                               tmp_path: Path) -> None:
    def config(**values: Any) -> Any:
        return load_network_config(values, env_file=None)

    off = {s.network: s for s in await registry.report(config(), client)}[NETWORK]
    assert off.on is False and off.detail.startswith("set ECHTZEIT_APPSTORE_ISSUER_ID")
    key_file = tmp_path / f"AuthKey_{KEY_ID}.p8"
    key_file.write_text(PRIVATE_PEM, encoding="ascii")
    # The real clock signs these tokens: the fake checks them against the same time.
    fake.clock.value = datetime.now(UTC)
    on = {s.network: s for s in await registry.report(config(
        appstore_issuer_id=ISSUER, appstore_key_id=KEY_ID,
        appstore_private_key_path=str(key_file), appstore_app_ids=APP), client)}[NETWORK]
    assert on.ok is True, on.detail
    assert on.detail == (f"written reviews of app {APP}; developer responses; signed in as "
                         f"key {KEY_ID} for Acme Home (com.acme.home), 3599/3600 requests "
                         "left this hour")
    wrong = {s.network: s for s in await registry.report(config(
        appstore_issuer_id=ISSUER, appstore_key_id=KEY_ID, appstore_private_key=OTHER_PEM,
        appstore_app_ids=APP), client)}[NETWORK]
    assert wrong.ok is False and "NOT_AUTHORIZED" in wrong.detail
    assert "PRIVATE KEY" not in wrong.detail
    unknown = {s.network: s for s in await registry.report(config(
        appstore_issuer_id=ISSUER, appstore_key_id=KEY_ID,
        appstore_private_key_path=str(key_file), appstore_app_ids=f"{APP},1999999999"),
        client)}[NETWORK]
    assert unknown.ok is False and "There is no resource of type 'apps' with id " \
        "'1999999999'" in unknown.detail
    # A bad app id stops at the settings, with one line naming the variable.
    with pytest.raises(SettingsError, match="ECHTZEIT_APPSTORE_APP_IDS") as caught:
        config(appstore_app_ids="1459876543, com.acme.home")
    assert "App Store ids are numbers" in str(caught.value)
