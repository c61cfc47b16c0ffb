"""Issue 8: the signed webhook (integrations/networks/webhook_net.py) under generated requests.

1. `check_signed` (the pure checks: size, headers, timestamp window, HMAC) with 10,000
   examples each: a request passes iff its signature is exactly the HMAC of that timestamp and
   body under the right secret, the timestamp is within MAX_SKEW_SECONDS of now and the body is
   within the size limit. Every single change to a good request (a bit of the body, a byte more
   or less, a character of the timestamp or the signature, another secret, a timestamp outside
   the window, an oversized body) is refused with the documented status; header garbage
   (missing, non-numeric, huge, negative, non-ASCII digits, undecodable bytes, no `sha256=`,
   non-hex, very long) gets a clean 400/401/413, never an exception.
2. End to end, a few hundred requests through the real aiohttp server (fake clock injected),
   real httpx, the real runner, pipeline and SQLite store: the same, and nothing refused is
   stored.
3. Replays: the endpoint keeps no record of requests it has seen, so the same signed request
   sent again within the window is accepted again (200). It is harmless: the pipeline drops
   the repeat by (network, id), and the store holds the post once. After the window the copy
   is refused (401).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.pipeline import IngestReport, Pipeline
from bot.runner import pump
from bot.store import Store
from integrations.networks.push import PushSource, WebhookServer
from integrations.networks.webhook_net import (
    MAX_SKEW_SECONDS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Refusal,
    check_signed,
    sign,
    signed_route,
)
from tests.conftest import Clock

MANY = settings(max_examples=10_000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
THROUGH_HTTP = settings(max_examples=300, deadline=None, database=None,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.function_scoped_fixture])
LIMIT = 24  # the size limit in the pure tests (any value works; small keeps them fast)
HTTP_LIMIT = 2048
SECRET = b"s3cret-webhook-key"
BAD_SIGNATURE = Refusal(401, "bad signature")
STALE = Refusal(401, "timestamp older than 5 minutes (or in the future)")
NOT_SECONDS = Refusal(400, f"{TIMESTAMP_HEADER} must be Unix seconds")
MISSING = Refusal(401, f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
_DIGITS = re.compile(r"[0-9]+")


def too_big(limit: int) -> Refusal:
    return Refusal(413, f"body larger than {limit} bytes")


# --- requests and single changes to them ---------------------------------------------------------

@dataclass(frozen=True)
class Request:
    """What the server sees: a body and the two header values."""

    body: bytes
    timestamp: str
    signature: str


@dataclass(frozen=True)
class Case:
    """A request built from a good one by at most one change, and the answer it must get."""

    change: str
    now: datetime
    secret: bytes
    request: Request
    expected: Refusal | None


def within(now: datetime, timestamp: str) -> bool:
    return abs(now.timestamp() - int(timestamp)) <= MAX_SKEW_SECONDS


def other_char(char: str, old: str) -> str:
    """`char`, or a fixed different one where it happens to equal `old` (no filter: the draws
    must not depend on earlier values, or Hypothesis cannot replay them)."""
    return char if char != old else ("g" if old != "g" else "h")


CHANGES = ("none", "body_bit", "body_insert", "body_delete", "timestamp_other",
           "timestamp_digit", "timestamp_zero", "timestamp_junk", "signature_char",
           "signature_case", "signature_cut", "signature_extra", "signature_bare",
           "secret", "stale", "oversized")
# 2001..2100 in microseconds: one draw (st.datetimes draws each field).
instants = st.integers(978_307_200_000_000, 4_102_444_800_000_000).map(
    lambda us: datetime.fromtimestamp(us / 1e6, UTC))
secrets = st.binary(min_size=1, max_size=24)


@st.composite
def cases(draw: st.DrawFn, *, limit: int, now: datetime | None = None,
          secret: bytes | None = None, body: bytes | None = None) -> Case:
    """A good request (signed, in the window, within `limit`) and one change to it."""
    when = now if now is not None else draw(instants)
    key = secret if secret is not None else draw(secrets)
    if body is None:
        body = draw(st.binary(max_size=limit))
    # Whole offsets in [-299, 300] from the second `now` falls in stay within 300 s of a
    # fractional `now` (the exact edges have a test of their own).
    ts = str(int(when.timestamp()) + draw(st.integers(-MAX_SKEW_SECONDS + 1, MAX_SKEW_SECONDS)))
    sig = sign(key, ts, body)
    change = draw(st.sampled_from(CHANGES))
    expected: Refusal | None = BAD_SIGNATURE
    if change == "none":
        expected = None
    elif change == "body_bit":
        bit = draw(st.integers(0, max(len(body) * 8 - 1, 0)))
        flipped = bytearray(body or b"\x00")
        flipped[bit // 8] ^= 1 << (bit % 8)
        body = bytes(flipped) if body else b"\x00"
    elif change == "body_insert":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + bytes([draw(st.integers(0, 255))]) + body[at:]
        expected = too_big(limit) if len(body) > limit else BAD_SIGNATURE
    elif change == "body_delete":
        at = draw(st.integers(0, max(len(body) - 1, 0)))
        body = body[:at] + body[at + 1:] if body else b" "
    elif change == "timestamp_other":
        # Another timestamp, with the signature made for the first one.
        delta = draw(st.integers(1, 2 * MAX_SKEW_SECONDS)) * draw(st.sampled_from([-1, 1]))
        ts = str(int(ts) + delta)
        expected = BAD_SIGNATURE if within(when, ts) else STALE
    elif change == "timestamp_digit":
        at = draw(st.integers(0, len(ts) - 1))
        step = draw(st.integers(1, 9))  # another digit
        ts = ts[:at] + str((int(ts[at]) + step) % 10) + ts[at + 1:]
        expected = BAD_SIGNATURE if within(when, ts) else STALE
    elif change == "timestamp_zero":
        ts = "0" + ts  # the same number, but not the text that was signed
    elif change == "timestamp_junk":
        at = draw(st.integers(0, len(ts)))
        junk = draw(st.characters(codec="utf-8"))
        ts = ts[:at] + other_char(junk, "0") + ts[at:]
        expected = BAD_SIGNATURE if _DIGITS.fullmatch(ts) and within(when, ts) else (
            STALE if _DIGITS.fullmatch(ts) else NOT_SECONDS)
    elif change == "signature_char":
        at = draw(st.integers(0, len(sig) - 1))
        sig = sig[:at] + other_char(draw(st.characters(codec="utf-8")), sig[at]) + sig[at + 1:]
    elif change == "signature_case":
        sig = sig.upper()  # the same bytes in upper-case hex: not what `sign` sends
    elif change == "signature_cut":
        sig = sig[:draw(st.integers(1, len(sig) - 1))]
    elif change == "signature_extra":
        sig += draw(st.text(min_size=1, max_size=3))
    elif change == "signature_bare":
        sig = sig.removeprefix("sha256=")
    elif change == "secret":
        # HMAC pads keys up to its block size with zero bytes: b"k" and b"k\x00" are the same
        # key. Another secret differs beyond that padding.
        other = draw(secrets)
        if other.rstrip(b"\x00") == key.rstrip(b"\x00"):
            other = key.rstrip(b"\x00") + b"!"
        sig = sign(other, ts, body)
    elif change == "stale":
        off = draw(st.integers(MAX_SKEW_SECONDS + 1, 10 * 365 * 86400))
        ts = str(int(when.timestamp()) + off * draw(st.sampled_from([-1, 1])))
        sig = sign(key, ts, body)
        expected = STALE
    elif change == "oversized":
        body += b"x" * (limit - len(body) + draw(st.integers(1, 8)))
        sig = sign(key, ts, body)
        expected = too_big(limit)
    return Case(change, when, key, Request(body, ts, sig), expected)


@MANY
@given(cases(limit=LIMIT))
def test_a_request_passes_iff_signed_in_time_and_small_enough(case: Case) -> None:
    event(case.change)
    r = case.request
    result = check_signed(secret=case.secret, max_bytes=LIMIT, now=case.now,
                          timestamp=r.timestamp, signature=r.signature, body=r.body)
    assert result == case.expected, case


def test_the_window_edges_are_five_minutes_either_way() -> None:
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    for offset, expected in ((-300, None), (300, None), (-301, STALE), (301, STALE)):
        ts = str(int(now.timestamp()) + offset)
        assert check_signed(secret=SECRET, max_bytes=10, now=now, timestamp=ts,
                            signature=sign(SECRET, ts, b"{}"), body=b"{}") == expected, offset
    # Exactly the limit passes, one byte more does not.
    ts = str(int(now.timestamp()))
    assert check_signed(secret=SECRET, max_bytes=2, now=now, timestamp=ts,
                        signature=sign(SECRET, ts, b"{}"), body=b"{}") is None
    assert check_signed(secret=SECRET, max_bytes=1, now=now, timestamp=ts,
                        signature=sign(SECRET, ts, b"{}"), body=b"{}") == too_big(1)


# --- header garbage ------------------------------------------------------------------------------

def undecodable(raw: bytes) -> str:
    """A header value as aiohttp hands it over: UTF-8, undecodable bytes as lone surrogates."""
    return raw.decode("utf-8", "surrogateescape")


NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
NOW_S = int(NOW.timestamp())
timestamps = st.one_of(
    st.just(""),
    st.integers(NOW_S - 400, NOW_S + 400).map(str),  # mostly in the window
    st.integers(NOW_S - 400, NOW_S + 400).map(str),
    st.integers(-(10 ** 30), 10 ** 30).map(str),  # negative, far off
    st.integers(0, 9).map(lambda n: "9" * (300 + n)),  # past float's range
    st.integers(0, 9).map(lambda n: "1" * (4300 + n)),  # past int()'s digit limit
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    st.integers(NOW_S - 400, NOW_S + 400).map(  # Arabic-Indic digits, in the window
        lambda n: str(n).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))),
    st.sampled_from(["²", "1e9", "0x6a", " 1795165200", "1795165200 ", "+1795165200",
                     "1_795_165_200", "1795165200.0", "-0", "NaN", "\u0000",
                     "0" * 15 + "1795165200"]),
    st.text(max_size=30),
    st.binary(max_size=30).map(undecodable),
)
signatures = st.one_of(
    st.just(""),
    st.text(max_size=80),
    st.text(max_size=70).map("sha256=".__add__),
    st.text(alphabet="0123456789abcdefABCDEF", min_size=64, max_size=64),  # no prefix
    st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz", min_size=64, max_size=64)
    .map("sha256=".__add__),
    st.binary(max_size=80).map(undecodable),
    st.binary(max_size=80).map(lambda b: "sha256=" + undecodable(b)),
    st.text(min_size=1, max_size=8).map(lambda s: s * 2000),  # very long
)
bodies = st.binary(max_size=LIMIT + 2)


def documented(timestamp: str, signature: str, body: bytes) -> Refusal | None:
    """The module's documented answer, written out plainly: size, then both headers, then
    Unix seconds (ASCII digits, at most 20), then the window, then the exact signature."""
    if len(body) > LIMIT:
        return too_big(LIMIT)
    if not timestamp or not signature:
        return MISSING
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 20:
        return NOT_SECONDS
    if abs(NOW.timestamp() - int(timestamp)) > MAX_SKEW_SECONDS:
        return STALE
    return None if signature == sign(SECRET, timestamp, body) else BAD_SIGNATURE


@MANY
@given(timestamp=timestamps, signature=signatures, body=bodies)
def test_header_garbage_gets_a_clean_refusal(timestamp: str, signature: str,
                                             body: bytes) -> None:
    result = check_signed(secret=SECRET, max_bytes=LIMIT, now=NOW, timestamp=timestamp,
                          signature=signature, body=body)
    assert result == documented(timestamp, signature, body)
    assert result is not None and result.status in (400, 401, 413)


# --- end to end: the real server, runner, pipeline and store ------------------------------------

class Desk:
    """The webhook server on 127.0.0.1 with a fake clock, feeding the real runner and pipeline
    into SQLite; a real httpx client."""

    def __init__(self, server: WebhookServer, store: Store, clock: Clock,
                 report: IngestReport) -> None:
        self.server = server
        self.store = store
        self.clock = clock
        self.report = report
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}")
        self.posts = 0

    def payload(self) -> bytes:
        """A post that matches the brand, with an id never used before (always the same length:
        Hypothesis replays draws whose bounds depend on it)."""
        self.posts += 1
        return json.dumps({"network": "trustpilot", "id": f"p{self.posts:06d}",
                           "text": f"acme order {self.posts:06d} arrived late", "lang": "en",
                           "created_at": "2026-11-20T08:00:00Z"}).encode()

    async def send(self, body: bytes, headers: dict[str, str | bytes]) -> httpx.Response:
        """POST the body with these headers (a bytes value goes out as those very bytes)."""
        raw = {k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in headers.items()}
        return await self.client.post("/webhook", content=body, headers=raw)


@pytest.fixture
async def desk(sqlite_store: Store, clock: Clock) -> AsyncIterator[Desk]:
    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    sqlite_store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    source = PushSource()
    server = WebhookServer(host="127.0.0.1", port=0, max_bytes=HTTP_LIMIT, routes=[
        signed_route(source, secret=SECRET.decode(), max_bytes=HTTP_LIMIT, now=clock,
                     store_timeout=10),
    ])
    stop = asyncio.Event()
    serving = asyncio.create_task(server.serve(stop))
    await asyncio.wait_for(server.ready.wait(), 10)
    report = IngestReport()
    feeding = asyncio.create_task(pump(source, Pipeline(sqlite_store, now=clock),
                                       report=report))
    d = Desk(server, sqlite_store, clock, report)
    try:
        yield d
    finally:
        await d.client.aclose()
        feeding.cancel()
        stop.set()
        await asyncio.gather(feeding, serving, return_exceptions=True)


def header_bytes(raw: bytes) -> bytes:
    """Arbitrary bytes an HTTP client can put in a header value (h11: no NUL, no CR/LF, no
    whitespace at the ends)."""
    return re.sub(rb"[\x00\s]+", b" ", raw).strip(b" ")


_FIELD = re.compile(r"[^\x00-\x20\x7f]+(?: [^\x00-\x20\x7f]+)*")


def sendable(case: Case) -> bool:
    """Header values that reach the server as they are: HTTP forbids control characters in
    them and strips blanks at their ends (so `sha256=<hex> ` arrives as the good signature)."""
    r = case.request
    return all(_FIELD.fullmatch(v) for v in (r.timestamp, r.signature))


async def test_e2e_desk_is_wired(desk: Desk) -> None:
    """The harness itself: a good request is stored, so refusals below mean something."""
    body = desk.payload()
    ts = str(int(desk.clock().timestamp()))
    response = await desk.send(body, {TIMESTAMP_HEADER: ts,
                                      SIGNATURE_HEADER: sign(SECRET, ts, body)})
    assert response.status_code == 200 and response.json() == {"stored": 1}
    assert desk.store.count_mentions() == 1


@THROUGH_HTTP
@given(data=st.data())
async def test_e2e_only_good_requests_are_stored(desk: Desk, data: st.DataObject) -> None:
    before = desk.store.count_mentions()
    case = data.draw(cases(limit=HTTP_LIMIT, now=desk.clock(), secret=SECRET,
                           body=desk.payload()).filter(sendable))
    event(case.change)
    r = case.request
    response = await desk.send(r.body, {TIMESTAMP_HEADER: r.timestamp.encode(),
                                        SIGNATURE_HEADER: r.signature.encode()})
    after = desk.store.count_mentions()
    if case.expected is None:
        assert response.status_code == 200, (case, response.text)
        assert response.json() == {"stored": 1}
        assert after == before + 1
    else:
        assert response.status_code == case.expected.status, (case, response.text)
        assert response.json() == {"error": case.expected.message}
        assert after == before, case


@THROUGH_HTTP
@given(timestamp=st.binary(max_size=40).map(header_bytes),
       signature=st.one_of(st.binary(max_size=90).map(header_bytes),
                           st.binary(max_size=80).map(lambda b: b"sha256=" + header_bytes(b))),
       drop=st.sampled_from(["none", "timestamp", "signature", "both"]))
async def test_e2e_header_garbage_is_a_clean_4xx(desk: Desk, timestamp: bytes, signature: bytes,
                                                 drop: str) -> None:
    before = desk.store.count_mentions()
    headers: dict[str, str | bytes] = {}
    if drop not in ("timestamp", "both"):
        headers[TIMESTAMP_HEADER] = timestamp
    if drop not in ("signature", "both"):
        headers[SIGNATURE_HEADER] = signature
    response = await desk.send(desk.payload(), headers)
    assert 400 <= response.status_code < 500, (headers, response.text)
    assert desk.store.count_mentions() == before


async def test_e2e_oversized_bodies_and_huge_headers(desk: Desk) -> None:
    ts = str(int(desk.clock().timestamp()))
    big = desk.payload() + b" " * HTTP_LIMIT
    too_large = await desk.send(big, {TIMESTAMP_HEADER: ts,
                                      SIGNATURE_HEADER: sign(SECRET, ts, big)})
    assert too_large.status_code == 413
    for timestamp in ("9" * 400, "1" * 5000, "-1795165200", "²".encode(), "١٧٩٥١٦٥٢٠٠".encode()):
        response = await desk.send(desk.payload(), {TIMESTAMP_HEADER: timestamp,
                                                    SIGNATURE_HEADER: "sha256=00"})
        assert response.status_code == 400, (timestamp, response.text)
    body = desk.payload()
    undecodable_sig = await desk.send(body, {TIMESTAMP_HEADER: ts,
                                             SIGNATURE_HEADER: b"sha256=\xff\xfe"})
    assert undecodable_sig.status_code == 401
    long_sig = await desk.send(body, {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: "a" * 7000})
    assert long_sig.status_code == 401
    assert desk.store.count_mentions() == 0


async def test_a_replayed_request_is_accepted_but_stored_once(desk: Desk) -> None:
    body = desk.payload()
    ts = str(int(desk.clock().timestamp()))
    headers: dict[str, str | bytes] = {TIMESTAMP_HEADER: ts,
                                       SIGNATURE_HEADER: sign(SECRET, ts, body)}
    first = await desk.send(body, headers)
    desk.clock.advance(seconds=MAX_SKEW_SECONDS)
    again = await desk.send(body, headers)  # within the window: no replay cache refuses it
    assert first.status_code == again.status_code == 200
    assert desk.store.count_mentions() == 1
    assert (desk.report.stored, desk.report.duplicates) == (1, 1)
    desk.clock.advance(seconds=1)
    late = await desk.send(body, headers)
    assert late.status_code == 401 and late.json() == {"error": STALE.message}
    assert desk.store.count_mentions() == 1
