"""App Store reviews: the written customer reviews of the brand's apps, read with the App Store
Connect API (`GET /v1/apps/{id}/customerReviews`, newest first), and a developer response as
the reply (`POST /v1/customerReviewResponses`).

The API's rules this module keeps (developer.apple.com/documentation/appstoreconnectapi):
- every request carries a JSON Web Token signed with the team's API key (ES256, the `.p8`
  private key; header `kid` = key id, `typ` JWT; claims `iss` = issuer id, `iat`, `exp` at most
  20 minutes later, `aud` "appstoreconnect-v1"). We sign one for 15 minutes and renew it a
  minute before it runs out ("Generating Tokens for API Requests");
- answers are JSON:API documents: `data` (resources with `type`, `id`, `attributes`,
  `relationships`), `included` (what `include=` asked for), `links.next` (the next page, an
  absolute URL; `limit` at most 200);
- errors are `{"errors": [{"id", "status", "code", "title", "detail", "source"?}]}` ("Error
  Response"); 401 NOT_AUTHORIZED for a bad or expired token;
- every answer carries `X-Rate-Limit: user-hour-lim:3600;user-hour-rem:3121;` (requests per
  rolling hour with this key, and how many are left); past the limit Apple answers 429
  RATE_LIMIT_EXCEEDED ("Identifying Rate Limits"). A rolling hour has no reset time and Apple
  documents no Retry-After here: at `user-hour-rem` 0 or on a 429 we wait `RATE_WAIT` (or the
  Retry-After Apple may send) before the next request; a poll that still fails is retried by
  the polling loop's growing pause;
- a review has at most one developer response: `POST /v1/customerReviewResponses` creates it
  or, if one exists, overwrites it ("Create or update a response to a customer review"). Apple
  publishes a response after a while (state PENDING_PUBLISH, then PUBLISHED).

The API cannot filter reviews by date, only sort them (`sort=-createdDate`): each round reads
newest first until it reaches what the cursor has seen. Cursor (JSON):
`{"<app id>": [newest createdDate (ISO), [review ids at that instant]]}`, so reviews that share
the newest instant are neither skipped nor read twice.

Mentions are the review ids; `Post.rating` carries the stars, `Post.app` the app's App Store id,
the text is the title on its own line, then the body (both untrusted, plain text). A review has
no public page of its own: its link is the app's Ratings and Reviews page in App Store Connect
(where staff answer), with the review id as a query parameter so that each review keeps its own
link.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, ReplyUncertain, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateLimited,
    Sleep,
    Transient,
    Uncertain,
    parse_time,
    pick,
    retry_after,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import AppStoreSettings

log = logging.getLogger(__name__)

NETWORK = "appstore"
AUDIENCE = "appstoreconnect-v1"
# Apple refuses tokens that live longer than 20 minutes; ours live 15 and are renewed a minute
# before they run out.
TOKEN_LIFETIME = timedelta(minutes=15)
TOKEN_RENEW = timedelta(minutes=1)
PAGE = 200  # the largest `limit` of the customerReviews list
# Pages one app's read may take in a round: 50 pages of 200 reviews since the last poll.
MAX_PAGES = 50
# The first round of an app (no cursor yet) reads back this far, at most FIRST_PAGES pages.
FIRST_LOOKBACK = timedelta(days=7)
FIRST_PAGES = 5
# A response's `responseBody`: 5,970 characters (docs/networks.md, "App Store reviews").
MAX_RESPONSE = specs.APPSTORE.reply_limit or 5_970
# The rolling hour names no reset: at 0 left, or on a 429 without Retry-After, wait this long.
RATE_WAIT = 60.0
_RATE_PART = re.compile(r"([a-z-]+):(\d+)")
# Review and response ids are opaque ("00000028-b08c-0014-729e-fbd500000000"); app ids numeric.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,99}")
_APP_ID = re.compile(r"\d{1,20}")
REVIEW_FIELDS = "rating,title,body,reviewerNickname,createdDate,territory,response"
RESPONSE_FIELDS = "responseBody,lastModifiedDate,state"


# --- the token --------------------------------------------------------------------------------


class Signer:
    """The JWT of the API key: signed on first use, renewed before it runs out. The private
    key (PEM, the `.p8` file's content) is read when the first token is needed, so a missing or
    broken key is a clear error of the first call, never a crash at start-up."""

    def __init__(self, *, issuer_id: str, key_id: str, private_key: Callable[[], str],
                 now: Callable[[], datetime] = utcnow) -> None:
        self.issuer_id = issuer_id
        self.key_id = key_id
        self._private_key = private_key
        self.now = now
        self._token: str | None = None
        self._expires: datetime | None = None
        self.signed = 0

    def token(self) -> str:
        now = self.now()
        if self._token is None or self._expires is None or now >= self._expires - TOKEN_RENEW:
            issued = now.replace(microsecond=0)
            expires = issued + TOKEN_LIFETIME
            try:
                key = self._private_key()
                self._token = jwt.encode(
                    {"iss": self.issuer_id, "iat": int(issued.timestamp()),
                     "exp": int(expires.timestamp()), "aud": AUDIENCE},
                    key, algorithm="ES256", headers={"kid": self.key_id, "typ": "JWT"})
            except (OSError, ValueError, TypeError, jwt.PyJWTError) as exc:
                # The message names the problem, never the key.
                raise ApiError(0, f"cannot sign the App Store Connect token: "
                                  f"{type(exc).__name__}: {_first_line(exc)}") from None
            self._expires = expires
            self.signed += 1
        return self._token

    async def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {self.token()}"}


def _one_line(value: Any) -> str:
    """An untrusted name as one bounded line ("" when it is not a string)."""
    return " ".join(value.split())[:200] if isinstance(value, str) else ""


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no detail"


def key_reader(*, path: str | None, value: str | None) -> Callable[[], str]:
    """Where the private key comes from: the PEM itself (a secret) or the `.p8` file."""
    def read() -> str:
        if value:
            return value
        if not path:
            raise ValueError("no private key: set ECHTZEIT_APPSTORE_PRIVATE_KEY_PATH or "
                             "ECHTZEIT_APPSTORE_PRIVATE_KEY")
        try:
            return Path(path).expanduser().read_text(encoding="ascii")
        except FileNotFoundError:
            raise ValueError(f"the private key file {path} does not exist") from None
        except UnicodeDecodeError:
            raise ValueError(f"the private key file {path} is not a PEM (.p8) file") from None
    return read


# --- the API ----------------------------------------------------------------------------------


@dataclass
class RateWindow:
    """What the last `X-Rate-Limit` said: requests per rolling hour and how many are left."""

    limit: int | None = None
    remaining: int | None = None


def parse_rate_limit(value: str | None) -> RateWindow:
    """`user-hour-lim:3600;user-hour-rem:3121;` -> RateWindow(3600, 3121)."""
    found = dict(_RATE_PART.findall(value or ""))
    lim, rem = found.get("user-hour-lim"), found.get("user-hour-rem")
    return RateWindow(limit=int(lim) if lim else None, remaining=int(rem) if rem else None)


def apple_error(body: Any) -> str | None:
    """The first JSON:API error of an answer, as "CODE: detail" (or its title)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    if not isinstance(first, dict):
        return None
    code = first.get("code") if isinstance(first.get("code"), str) else ""
    detail = first.get("detail") or first.get("title")
    text = detail if isinstance(detail, str) else ""
    return (f"{code}: {text}" if code and text else code or text)[:300] or None


def _translated(exc: ApiError) -> ApiError:
    message = apple_error(exc.body)
    if message is None:
        return exc
    return type(exc)(exc.status, message, retry_after=exc.retry_after, body=exc.body,
                     headers=exc.headers)


class AppStoreApi(Api):
    """Api that speaks App Store Connect: the JWT on every call, Apple's error shape, and the
    rolling hour of `X-Rate-Limit` (a 429 waits RATE_WAIT unless Apple names its wait)."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, signer: Signer, *,
                 sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(client, base_url, auth=signer.headers, sleep=sleep, now=now,
                         headers={"Accept": "application/json"})
        self.signer = signer
        self.window = RateWindow()

    def _note_window(self, response: httpx.Response) -> None:
        header = response.headers.get("x-rate-limit")
        if header is None:
            return
        self.window = parse_rate_limit(header)
        if self.window.remaining is not None and self.window.remaining <= 0:
            wait = self._wait_for(response) or RATE_WAIT
            self._blocked_until = self.now() + timedelta(seconds=wait)

    def _wait_for(self, response: httpx.Response) -> float | None:
        named = retry_after(response.headers, self.now())
        return named if named is not None else RATE_WAIT

    async def _send_once(self, method: str, url: str, *, headers: dict[str, str],
                         **kwargs: Any) -> httpx.Response:
        await self._respect_window()
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Transient(0, f"{type(exc).__name__}: {exc}") from exc
        self._note_window(response)
        status = response.status_code
        if status < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        message = apple_error(body) or response.reason_phrase or "error"
        if status == 429:
            raise RateLimited(status, message, retry_after=self._wait_for(response), body=body,
                              headers=response.headers)
        if status >= 500:
            raise Transient(status, message, retry_after=retry_after(response.headers,
                                                                    self.now()))
        raise ApiError(status, message, body=body, headers=response.headers)

    async def write(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await super().write(method, path, **kwargs)
        except ApiError as exc:
            raise _translated(exc) from None

    def same_host(self, url: str) -> bool:
        """True when `url` (a `links.next`) is on the API's own host: the token goes nowhere
        else, whatever a page says."""
        return url.startswith(self.base_url + "/")


# --- parsing ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def review_url(app_id: str, review_id: str) -> str:
    """The app's Ratings and Reviews page in App Store Connect, naming the review."""
    return (f"https://appstoreconnect.apple.com/apps/{app_id}/distribution/activity/ios/"
            f"ratingsResponses?review={quote(review_id, safe='')}")


def review_to_post(raw: Any, app_id: str, responses: Mapping[str, JSON] | None = None, *,
                   app_name: str | None = None) -> Post:
    """One `customerReviews` resource as a Post; `responses`: the `included` developer
    responses by id (their state goes into `extra`); `app_name`: the app's name, added as
    `(on: ...)` so that a brand whose name is in it matches reviews that never name it."""
    if not isinstance(raw, dict) or raw.get("type") != "customerReviews":
        raise ValueError("not a customerReviews resource")
    rid = raw.get("id")
    if not isinstance(rid, str) or not _ID.fullmatch(rid):
        raise ValueError("no review id")
    if not _APP_ID.fullmatch(app_id):
        raise ValueError("not an App Store app id")
    attrs = raw.get("attributes")
    if not isinstance(attrs, dict):
        raise ValueError("no attributes")
    rating = attrs.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValueError("rating not 1..5")
    title, body = _text(attrs.get("title")), _text(attrs.get("body"))
    if not title and not body:
        raise ValueError("no text")
    nickname = _text(attrs.get("reviewerNickname")) or "App Store customer"
    extra = {"app": app_id}
    territory = attrs.get("territory")
    if isinstance(territory, str) and re.fullmatch(r"[A-Z]{3}", territory):
        extra["territory"] = territory
    response_id = _related_id(raw, "response")
    found = (responses or {}).get(response_id or "")
    if found is not None:
        state = pick(found, "attributes", "state")
        extra["response"] = state if isinstance(state, str) and state.isupper() else "yes"
    return Post(
        network=NETWORK, external_id=rid, url=review_url(app_id, rid),
        # Nicknames are not unique across the App Store; one per app is what Apple shows.
        author=Author(handle=nickname[:100], name=None, followers=None, url=None),
        text="\n".join(p for p in (title, body) if p) + (
            f"\n\n(on: {app_name})" if app_name else ""),
        created_at=parse_time(attrs.get("createdDate")),
        likes=None, reposts=None, replies=None, in_reply_to=None,
        rating=rating, app=app_id, extra=extra)


def _related_id(raw: JSON, name: str) -> str | None:
    rel = (raw.get("relationships") or {}).get(name) if isinstance(
        raw.get("relationships"), dict) else None
    data = rel.get("data") if isinstance(rel, dict) else None
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) else None


def _created(raw: Any) -> datetime | None:
    attrs = raw.get("attributes") if isinstance(raw, dict) else None
    try:
        return parse_time(attrs.get("createdDate")) if isinstance(attrs, dict) else None
    except ValueError:
        return None


# --- the source -------------------------------------------------------------------------------


class AppStoreSource(PollingSource):
    """The new written reviews of each app, newest first back to the cursor."""

    def __init__(self, api: AppStoreApi, *, app_ids: Sequence[str], interval: float,
                 sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.app_ids = [a.strip() for a in app_ids if a.strip()]
        self.now = now
        self.name = f"appstore:{','.join(self.app_ids)}"
        self.app_names: dict[str, str] = {}

    async def app_name(self, app_id: str) -> str:
        """The app's name on the App Store (`GET /v1/apps/{id}`), once per app."""
        if app_id not in self.app_names:
            body = await self.api.get_json(f"/v1/apps/{app_id}", params={"fields[apps]": "name"})
            name = pick(body, "data", "attributes", "name")
            # Untrusted like the reviews: one line, bounded.
            self.app_names[app_id] = _one_line(name) or app_id
        return self.app_names[app_id]

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        posts: list[Post] = []
        marks: dict[str, Any] = {}
        for app_id in self.app_ids:
            found, marks[app_id] = await self._read(app_id, state.get(app_id))
            posts += found
        return Batch(posts=posts, cursor=dump_cursor(marks))

    @staticmethod
    def _saved(saved: Any) -> tuple[datetime, set[str]] | None:
        if (isinstance(saved, list) and len(saved) == 2 and isinstance(saved[0], str)
                and isinstance(saved[1], list)):
            try:
                return parse_time(saved[0]), {i for i in saved[1] if isinstance(i, str)}
            except ValueError:
                return None
        return None

    async def _read(self, app_id: str, saved: Any) -> tuple[list[Post], list[Any]]:
        """Newest first until the saved instant; the new mark [newest instant, its ids]."""
        start = self._saved(saved)
        first = start is None
        since, ids_then = start if start is not None else (
            self.now() - FIRST_LOOKBACK, set())
        newest, ids_newest = (since, set(ids_then)) if not first else (None, set())
        horizon = self.now() + timedelta(days=1)
        posts: list[Post] = []
        url: str | None = f"/v1/apps/{app_id}/customerReviews"
        params: dict[str, str] | None = {
            "sort": "-createdDate", "limit": str(PAGE), "include": "response",
            "fields[customerReviews]": REVIEW_FIELDS,
            "fields[customerReviewResponses]": RESPONSE_FIELDS}
        pages = FIRST_PAGES if first else MAX_PAGES
        app_name = await self.app_name(app_id)
        reached = False
        for _ in range(pages):
            assert url is not None
            body = await self.api.get_json(url, params=params)
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ApiError(200, f"no data in the customerReviews of app {app_id}")
            included = body.get("included") if isinstance(body.get("included"), list) else []
            responses = {str(r.get("id")): r for r in included if isinstance(r, dict)
                         and r.get("type") == "customerReviewResponses"}
            for raw in data:
                at = _created(raw)
                rid = raw.get("id") if isinstance(raw, dict) else None
                if at is None or not isinstance(rid, str):
                    log.warning("appstore: skipped a malformed review of app %s", app_id)
                    continue
                if at < since:
                    reached = True  # newest first: everything after this is older
                    break
                if at == since and rid in ids_then:
                    continue  # read in an earlier round, at the cursor's instant
                if at > horizon:
                    log.warning("appstore: skipped a review of app %s dated in the future",
                                app_id)
                    continue  # a bogus date must not carry the cursor past everything
                if newest is None or at > newest:
                    newest, ids_newest = at, set()
                if at == newest:
                    ids_newest.add(rid)
                try:
                    posts.append(review_to_post(raw, app_id, responses, app_name=app_name))
                except (ValueError, TypeError) as exc:
                    log.warning("appstore: skipped a malformed review of app %s: %s", app_id,
                                exc)
            if reached:
                break
            links = body.get("links") if isinstance(body.get("links"), dict) else {}
            following = links.get("next")
            if not isinstance(following, str) or not following:
                break
            if not self.api.same_host(following):
                log.warning("appstore: links.next of app %s leaves the API host; not followed",
                            app_id)
                break
            url, params = following, None  # the link carries the query and Apple's cursor
        else:
            if not first:
                log.warning("appstore: more than %d new reviews of app %s since the last "
                            "poll; the older ones are skipped", pages * PAGE, app_id)
        if newest is None:  # nothing new (the first time: nothing in the lookback either)
            return posts, [since.isoformat(), sorted(ids_then)]
        return posts, [newest.isoformat(), sorted(ids_newest)]


# --- the responder ----------------------------------------------------------------------------


class AppStoreResponder:
    """The developer response to a review. Apple keeps one per review: a second reply replaces
    the first (the answer says so)."""

    network = NETWORK
    max_chars = MAX_RESPONSE

    def __init__(self, api: AppStoreApi) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        problem = length_problem(NETWORK, text, MAX_RESPONSE)
        if problem is not None and text.strip():
            return (f"{problem} (App Store review responses may have at most {MAX_RESPONSE} "
                    f"characters)")
        return problem

    async def _existing(self, review_id: str) -> JSON | bool | None:
        """The review's current developer response (its resource), None when it has none,
        True when the look-up failed: that is no reason to hold the reply back, and the answer
        then says "any earlier one". A 401/403 (the key cannot answer reviews) refuses."""
        try:
            body = await self.api.get_json(
                f"/v1/customerReviews/{review_id}/response",
                params={"fields[customerReviewResponses]": RESPONSE_FIELDS})
        except ApiError as exc:
            if exc.status == 404:
                return None
            if exc.status in (401, 403):
                raise ReplyRejected(str(exc)) from exc
            log.info("appstore: no look-up of the response to review %s: %s", review_id, exc)
            return True
        except httpx.HTTPError as exc:
            log.info("appstore: no look-up of the response to review %s: %s", review_id, exc)
            return True
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        review_id = mention.external_id
        if not isinstance(review_id, str) or not _ID.fullmatch(review_id):
            raise ReplyRejected(f"not an App Store review: {review_id}")
        earlier = await self._existing(review_id)
        payload = {"data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": text},
            "relationships": {"review": {"data": {"type": "customerReviews",
                                                  "id": review_id}}}}}
        try:
            response = await self.api.write("POST", "/v1/customerReviewResponses",
                                            json_body=payload)
        except Uncertain as exc:
            raise ReplyUncertain(str(exc)) from exc
        except ApiError as exc:
            if exc.status == 429:
                raise ReplyRejected(
                    "rate limited by App Store Connect (the API key's requests per hour are "
                    f"used up; nothing was posted, try again in a few minutes): {exc.message}"
                ) from exc
            raise ReplyRejected(str(exc)) from exc
        try:
            created = response.json()
        except ValueError as exc:
            raise ReplyUncertain(f"HTTP {response.status_code} without a JSON body") from exc
        data = created.get("data") if isinstance(created, dict) else None
        new_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(new_id, str) or not new_id:
            raise ReplyUncertain("App Store Connect answered without the response's id")
        state = pick(data, "attributes", "state")
        note = "Apple publishes it on the App Store after a while"
        if state == "PUBLISHED":
            note = "published on the App Store"
        if isinstance(earlier, dict):
            note += ("; it replaced the earlier developer response to this review (Apple "
                     "keeps one per review)")
        elif earlier is True:
            note += ("; Apple keeps one developer response per review, so it replaced any "
                     "earlier one")
        return PostedReply(id=new_id, url=mention.url, note=note)


async def verify(api: AppStoreApi, app_ids: Sequence[str]) -> str:
    """Each app's name and bundle id (`GET /v1/apps/{id}`), and the hour's requests left."""
    api.attempts = 1
    names = []
    for app_id in app_ids:
        body = await api.get_json(f"/v1/apps/{app_id}",
                                  params={"fields[apps]": "name,bundleId"})
        name, bundle = (pick(body, "data", "attributes", "name"),
                        pick(body, "data", "attributes", "bundleId"))
        names.append(f"{_one_line(name) or app_id} ({_one_line(bundle) or app_id})")
    left = ""
    if api.window.limit is not None and api.window.remaining is not None:
        left = f", {api.window.remaining}/{api.window.limit} requests left this hour"
    return f"key {api.signer.key_id} for {', '.join(names)}{left}"


def components(client: httpx.AsyncClient, *, base_url: str, issuer_id: str, key_id: str,
               private_key: Callable[[], str], app_ids: Iterable[str], interval: float,
               sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
               ) -> tuple[AppStoreSource, AppStoreResponder, AppStoreApi]:
    """The source, the responder and the API they share (one token)."""
    signer = Signer(issuer_id=issuer_id, key_id=key_id, private_key=private_key, now=now)
    api = AppStoreApi(client, base_url, signer, sleep=sleep, now=now)
    source = AppStoreSource(api, app_ids=list(app_ids), interval=interval, sleep=sleep,
                            now=now)
    # The responder's calls are not retried (a /reply does not wait out a rate limit).
    writer = AppStoreApi(client, base_url, signer, sleep=sleep, now=now)
    writer.attempts = 1
    return source, AppStoreResponder(writer), api


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[AppStoreSettings]) -> Parts | None:
    s = ctx.settings
    app_ids = [a.strip() for a in s.app_ids if a.strip()]
    key = secret(s.private_key) or None
    if not (s.issuer_id and s.key_id and (key or s.private_key_path) and app_ids):
        return None
    source, responder, api = components(
        ctx.client, base_url=s.base_url, issuer_id=s.issuer_id, key_id=s.key_id,
        private_key=key_reader(path=s.private_key_path, value=key), app_ids=app_ids,
        interval=s.poll_seconds)
    what = f"written reviews of app {', '.join(app_ids)}; developer responses"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(api, app_ids)))


PLUGIN = Plugin(spec=specs.APPSTORE, settings=AppStoreSettings, build=build)

