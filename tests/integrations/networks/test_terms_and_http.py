"""Search terms from brand queries, and the shared HTTP layer's rules for reads and writes."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from bot.networks import Batch, ReplyRejected, ReplyUncertain
from integrations.networks.http_common import (
    Api,
    RateHeaders,
    retry_after,
    seconds_until_reset,
    send_reply,
)
from integrations.networks.polling import PollingSource
from integrations.networks.terms import SearchTerm, or_query, search_terms, terms_for
from tests.integrations.networks.conftest import NoSleep

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def keys(query: str, network: str | None = None) -> list[str]:
    return [t.key for t in sorted(terms_for(query, network))]


def test_terms_cover_every_way_a_query_can_match() -> None:
    assert keys("acme -jobs") == ["acme"]
    assert keys('"acme rocket" OR #acme OR @acme') == ["@acme", "#acme", '"acme rocket"']
    # AND needs only one side: the smaller cover is searched.
    assert keys("(acme OR acmeco) rocket") == ["rocket"]
    assert keys("acme NEAR/2 (broken OR down)") == ["acme"]
    assert keys("lang:de acme") == ["acme"]
    # Umlauts: every spelling the matcher accepts.
    assert keys("müller") == ["mueller", "muller", "müller"]
    assert keys("acme*") == ["acme"]


def test_network_fields_narrow_the_terms() -> None:
    query = "(acme network:reddit) OR (rocketco network:x)"
    assert keys(query, "x") == ["rocketco"]
    assert keys(query, "reddit") == ["acme"]
    assert keys(query, "mastodon") == []
    assert keys(query) == ["acme", "rocketco"]


def test_bad_queries_give_no_terms_and_others_still_do(caplog: pytest.LogCaptureFixture) -> None:
    found = search_terms({1: "acme", 2: "((", 3: "#rocket"})
    assert [t.key for t in found] == ["acme", "#rocket"]
    assert "gives no search terms" in caplog.text


def test_or_queries_fit_the_limit() -> None:
    terms = [SearchTerm(f"word{n}") for n in range(10)]
    queries = or_query(terms, limit=30, render=lambda t: t.text)
    assert all(len(q) <= 30 for q in queries)
    assert " OR ".join(queries).split(" OR ") == [t.text for t in terms]


def test_rate_limit_headers() -> None:
    now = NOW
    epoch = httpx.Headers({"x-rate-limit-reset": str(int(now.timestamp()) + 90)})
    assert seconds_until_reset(epoch, RateHeaders(reset="x-rate-limit-reset"), now) == 90
    seconds = httpx.Headers({"x-ratelimit-reset": "42"})
    assert seconds_until_reset(seconds, RateHeaders(reset_kind="seconds"), now) == 42
    iso = httpx.Headers({"x-ratelimit-reset": "2026-11-20T09:05:00.000Z"})
    assert seconds_until_reset(iso, RateHeaders(reset_kind="iso"), now) == 300
    assert retry_after(httpx.Headers({"Retry-After": "Fri, 20 Nov 2026 09:01:00 GMT"}),
                       now) == 60
    assert retry_after(httpx.Headers({"Retry-After": "7"}), now) == 7
    assert retry_after(httpx.Headers({}), now) is None


async def test_reads_give_up_after_the_attempts_and_say_why() -> None:
    calls = 0

    def down(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"message": "maintenance"})

    sleep = NoSleep()
    async with httpx.AsyncClient(transport=httpx.MockTransport(down)) as client:
        api = Api(client, "https://api.example", sleep=sleep, attempts=3)
        with pytest.raises(Exception, match="HTTP 503: maintenance"):
            await api.get_json("/x")
    assert calls == 3 and len(sleep.calls) == 2


@pytest.mark.parametrize(("failure", "expected"), [
    (httpx.ReadTimeout("timed out"), ReplyUncertain),  # sent; the answer never came
    (httpx.RemoteProtocolError("dropped"), ReplyUncertain),
    (httpx.ConnectError("refused"), ReplyRejected),  # never left: certainly not posted
])
async def test_a_write_is_sent_once_and_its_failures_classified(
    failure: Exception, expected: type[Exception]
) -> None:
    calls = 0

    def broken(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise failure

    async with httpx.AsyncClient(transport=httpx.MockTransport(broken)) as client:
        api = Api(client, "https://api.example", sleep=NoSleep())
        with pytest.raises(expected):
            await send_reply(lambda: api.write("POST", "/reply", json_body={"text": "hi"}))
    assert calls == 1


@pytest.mark.parametrize(("status", "expected"), [(500, ReplyUncertain), (503, ReplyUncertain),
                                                  (400, ReplyRejected), (429, ReplyRejected)])
async def test_write_status_codes(status: int, expected: type[Exception]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": "nope"}, headers={"Retry-After": "30"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        api = Api(client, "https://api.example", sleep=NoSleep())
        with pytest.raises(expected) as raised:
            await send_reply(lambda: api.write("POST", "/reply"))
    if status == 429:
        assert "try again in 30 s" in str(raised.value)


async def test_polling_backs_off_on_errors_and_keeps_going() -> None:
    class Flaky(PollingSource):
        name = "flaky"
        rounds = 0

        async def poll_once(self, cursor: str | None) -> Batch:
            self.rounds += 1
            if self.rounds <= 3:
                raise RuntimeError("network down")
            return Batch(posts=[], cursor=f"c{self.rounds}")

    sleep = NoSleep()
    source = Flaky(interval=10, sleep=sleep)
    batches = source.stream(None)
    batch = await anext(batches)
    await batches.aclose()
    assert batch.cursor == "c4"
    # Jittered and growing: between half and all of 10, 20, 40 seconds.
    assert [5 <= sleep.calls[0] <= 10, 10 <= sleep.calls[1] <= 20, 20 <= sleep.calls[2] <= 40] \
        == [True, True, True]
