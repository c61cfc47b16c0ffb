"""Google Play reviews: the reviews of the brand's Android apps (Android Publisher API v3,
`GET applications/{packageName}/reviews`) as mentions, and the developer reply
(`POST applications/{packageName}/reviews/{reviewId}:reply`).

What Google documents (developers.google.com/android-publisher/api-ref/rest/v3/reviews and the
"Reply to Reviews" guide):
- the list returns only reviews that have a comment and were created or changed in the last
  seven days; older reviews are not listed (not even on a first run); pages follow
  `tokenPagination.nextPageToken` (query `token`), `maxResults` per page, `translationLanguage`
  has Google translate the text (the original is then in `originalText`);
- a Review is {reviewId, authorName, comments[]}; a comment is either {userComment: {text,
  lastModified: {seconds, nanos}, starRating, reviewerLanguage, device, androidOsVersion,
  appVersionCode, appVersionName, thumbsUpCount, thumbsDownCount, deviceMetadata,
  originalText}} or {developerComment: {text, lastModified}};
- a review has at most one developer reply; replying again replaces it ("Replies to a single
  review, or updates an existing reply"); "Replies of more than approximately 350 characters
  will be rejected. HTML tags will be stripped.";
- quotas per app: 200 GET requests an hour (list and get), 2,000 replies a day; errors are
  Google's JSON error {"error": {"code", "message", "status", "errors": [{"reason"}]}}: 429
  RESOURCE_EXHAUSTED, or 403 with reason rateLimitExceeded / userRateLimitExceeded /
  quotaExceeded / dailyLimitExceeded.

Auth: a service account's JSON key (Play Console: Users and permissions, the account with
"Reply to reviews"). We sign an RS256 JWT assertion with its private key (PyJWT) and trade it
at the token endpoint (RFC 7523, grant urn:ietf:params:oauth:grant-type:jwt-bearer, scope
androidpublisher) for an hour's access token, kept until shortly before it runs out
(oauth.CachedToken); a 401 fetches a new one, once.

A user who edits a review gives it a new `userComment.lastModified` (text and stars may both
change): the source hands it on again as a post (stored once: the pipeline drops a post it
has) and as an edit (`PostChange`), which updates the stored mention's text and stars.

Mentions are `<package>/<reviewId>`, their URL the review on the app's store page, the text
the review's followed by `(on: <package>)` so that the brand's query can match the app.

Cursor (JSON): `{"<package>": {"at": "<seconds>.<nanos:09d>", "ids": [reviews at that
time]}}`: the newest user `lastModified` handed on, and the reviews carrying it (a review
changed in the same nanosecond is still taken, none is taken twice).
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import (
    Batch,
    PostChange,
    PostedReply,
    PostGone,
    ReplyRejected,
    ReplyUncertain,
    length_problem,
)
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateLimited,
    Sleep,
    Uncertain,
    as_int,
    response_json,
    retry_after,
)
from integrations.networks.oauth import CachedToken, lifetime
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import GooglePlaySettings

log = logging.getLogger(__name__)

NETWORK = "googleplay"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_URL = "https://oauth2.googleapis.com/token"
BASE_URL = "https://androidpublisher.googleapis.com/androidpublisher/v3"
# reviews.reply: "Replies of more than approximately 350 characters will be rejected".
MAX_REPLY = specs.GOOGLEPLAY.reply_limit or 350
# Reviews per page we ask for (the reference names no maximum; Google pages with nextPageToken
# whatever it returns), and the most pages one poll reads per app (a week of reviews).
PAGE = 100
MAX_PAGES = 50
# Google's quota errors name no wait: the hourly GET quota refills within the hour, so a read
# waits this long before its next try (Api caps waits at 15 minutes).
QUOTA_WAIT = 300.0
QUOTA_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                           "dailyLimitExceeded"})
WEB = "https://play.google.com/store/apps/details"


def google_reasons(body: Any) -> set[str]:
    """The `error.errors[].reason` values of Google's JSON error body."""
    inner = body.get("error") if isinstance(body, dict) else None
    errors = inner.get("errors") if isinstance(inner, dict) else None
    if not isinstance(errors, list):
        return set()
    return {e["reason"] for e in errors if isinstance(e, dict) and isinstance(e.get("reason"), str)}


def _quota_error(status: int, body: Any) -> bool:
    inner = body.get("error") if isinstance(body, dict) else None
    state = inner.get("status") if isinstance(inner, dict) else None
    return status == 429 or (status == 403 and (
        state == "RESOURCE_EXHAUSTED" or bool(google_reasons(body) & QUOTA_REASONS)))


class GoogleApi(Api):
    """Api that knows Google's quota answers (429, and 403 with a rate-limit reason) and waits
    QUOTA_WAIT where Google names no wait."""

    async def _send_once(self, method: str, url: str, *, headers: dict[str, str],
                         **kwargs: Any) -> httpx.Response:
        try:
            return await super()._send_once(method, url, headers=headers, **kwargs)
        except RateLimited as exc:
            if exc.retry_after is None:
                exc.retry_after = QUOTA_WAIT
            raise
        except ApiError as exc:
            if _quota_error(exc.status, exc.body):
                wait = retry_after(exc.headers, self.now())
                raise RateLimited(exc.status, exc.message, body=exc.body, headers=exc.headers,
                                  retry_after=wait if wait is not None else QUOTA_WAIT) from exc
            raise


# --- the service account --------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceAccount:
    """The parts of a service account's JSON key that the token request needs."""

    client_email: str
    key_id: str | None
    token_uri: str
    private_key: RSAPrivateKey

    def __repr__(self) -> str:  # the private key never reaches a log
        return f"ServiceAccount({self.client_email!r})"


def load_service_account(raw: str, *, token_url: str = TOKEN_URL) -> ServiceAccount:
    """A service account from its JSON key. ValueError says what is wrong without quoting the
    key."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("the Google service-account key is not JSON (use the key file "
                         "Google Cloud downloads for the service account)") from None
    if not isinstance(data, dict) or data.get("type") != "service_account":
        raise ValueError('the Google key is not a service-account key ("type": '
                         '"service_account" missing)')
    email, pem = data.get("client_email"), data.get("private_key")
    if not isinstance(email, str) or "@" not in email:
        raise ValueError("the Google service-account key has no client_email")
    if not isinstance(pem, str) or "PRIVATE KEY" not in pem:
        raise ValueError("the Google service-account key has no private_key")
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("the Google service-account key's private_key is not a private "
                         "key in PEM") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the Google service-account key's private_key is not an RSA key")
    kid = data.get("private_key_id")
    uri = data.get("token_uri")
    return ServiceAccount(
        client_email=email, key_id=kid if isinstance(kid, str) and kid else None,
        token_uri=uri if isinstance(uri, str) and uri.startswith("https://") else token_url,
        private_key=key)


def assertion(account: ServiceAccount, *, now: float, scope: str = SCOPE) -> str:
    """The signed JWT (RS256) that asks Google's token endpoint for an access token: issued
    by the service account, for `scope`, to the token endpoint, valid for an hour (Google's
    maximum)."""
    header: dict[str, Any] = {"typ": "JWT"}
    if account.key_id:
        header["kid"] = account.key_id
    issued = int(now)
    claims = {"iss": account.client_email, "scope": scope, "aud": account.token_uri,
              "iat": issued, "exp": issued + 3600}
    return jwt.encode(claims, account.private_key, algorithm="RS256", headers=header)


class Credentials:
    """The service account's access token: fetched with a signed assertion, kept until a
    minute before it runs out, fetched again after a 401."""

    def __init__(self, token_api: Api, account: ServiceAccount, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.token_api = token_api
        self.account = account
        self.clock = clock
        self.fetches = 0
        self.token = CachedToken(self._fetch, clock=clock)

    async def _fetch(self) -> tuple[str, float]:
        self.fetches += 1
        form = {"grant_type": GRANT, "assertion": assertion(self.account, now=self.clock())}
        try:
            response = await self.token_api.request("POST", self.account.token_uri, data=form)
        except ApiError as exc:
            raise ApiError(exc.status, f"Google refused the service account's token: "
                                       f"{exc.message}") from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "Google's token answer is not JSON") from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ApiError(response.status_code, "Google's token answer has no access_token")
        return token, lifetime(body, 3600.0)

    async def headers(self) -> Mapping[str, str]:
        return {"Authorization": f"Bearer {await self.token.get()}"}

    def forget(self) -> None:
        self.token.forget()


async def authorized(creds: Credentials, call: Callable[[], Any]) -> Any:
    """`await call()`, and once more with a new token when Google answers 401 (an expired or
    revoked token: nothing was done)."""
    try:
        return await call()
    except ApiError as exc:
        if exc.status != 401:
            raise
        log.info("googleplay: the access token was not accepted; fetching a new one")
        creds.forget()
        return await call()


# --- parsing ----------------------------------------------------------------------------------


def _stamp(raw: Any) -> tuple[int, int]:
    """A Timestamp {seconds (int64, sent as a string), nanos} as (seconds, nanos)."""
    if not isinstance(raw, dict):
        raise ValueError("no lastModified")
    seconds = as_int(raw.get("seconds"))
    nanos = raw.get("nanos", 0)
    if seconds is None or seconds <= 0 or seconds > 32_503_680_000:
        raise ValueError("lastModified without seconds")
    if isinstance(nanos, bool) or not isinstance(nanos, int) or not 0 <= nanos < 10**9:
        nanos = 0
    return seconds, nanos


def stamp_text(stamp: tuple[int, int]) -> str:
    return f"{stamp[0]}.{stamp[1]:09d}"


def _parse_stamp_text(value: Any) -> tuple[int, int] | None:
    if not isinstance(value, str) or "." not in value:
        return None
    seconds, _, nanos = value.partition(".")
    if not (seconds.isdigit() and nanos.isdigit()):
        return None
    return int(seconds), int(nanos)


def _text(value: Any, limit: int = 20_000) -> str:
    """A review's plain text as Google gives it (not HTML: "<3" and "&amp;" stay as typed;
    the renderers escape it). It is "<title>\t<body>" (an empty title: a leading tab): the
    title becomes its own line."""
    if not isinstance(value, str):
        return ""
    return value[:limit].replace("\t", "\n").strip()


def _str(value: Any, limit: int = 200) -> str | None:
    return value.strip()[:limit] if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True, slots=True)
class Review:
    """One review as the source sees it: the post, when its user comment last changed, and
    the developer reply it has (if any)."""

    post: Post
    modified: tuple[int, int]
    reply: str | None


def user_comment(raw: Any) -> JSON | None:
    comments = raw.get("comments") if isinstance(raw, dict) else None
    if not isinstance(comments, list):
        return None
    for c in comments:
        user = c.get("userComment") if isinstance(c, dict) else None
        if isinstance(user, dict):
            return user
    return None


def developer_comment(raw: Any) -> JSON | None:
    comments = raw.get("comments") if isinstance(raw, dict) else None
    for c in comments if isinstance(comments, list) else []:
        dev = c.get("developerComment") if isinstance(c, dict) else None
        if isinstance(dev, dict):
            return dev
    return None


def review_to_post(raw: Any, package: str, *, translated: str | None = None) -> Review:
    """A Review resource as a Post of `package`; ValueError for one without a user comment or
    id. Every field is the network's: checked for type and cut to size."""
    if not isinstance(raw, dict):
        raise ValueError("not a review")
    rid = raw.get("reviewId")
    if not isinstance(rid, str) or not rid.strip() or len(rid) > 300 or any(
            ch.isspace() or ch == "/" for ch in rid):
        raise ValueError("no reviewId")
    user = user_comment(raw)
    if user is None:
        raise ValueError("no user comment")
    text = _text(user.get("text"))
    if not text:
        raise ValueError("no text")
    modified = _stamp(user.get("lastModified"))
    stars = user.get("starRating")
    rating = stars if isinstance(stars, int) and not isinstance(stars, bool) \
        and 1 <= stars <= 5 else None
    name = _str(raw.get("authorName"), 200)
    extra: dict[str, str] = {}
    for key in ("device", "androidOsVersion", "appVersionName", "reviewerLanguage"):
        value = user.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            extra[key] = str(value).strip()[:100]
    original = _text(user.get("originalText"))
    if original and original != text:
        extra["original"] = original[:5000]
    language = _str(user.get("reviewerLanguage"), 16)
    lang = translated if translated and original else language
    dev = developer_comment(raw)
    reply = _text(dev.get("text"), 2000) if dev is not None else None
    if reply:
        extra["developer_reply"] = reply
    post = Post(
        network=NETWORK, external_id=f"{package}/{rid}",
        url=f"{WEB}?id={quote(package, safe='.')}&reviewId={quote(rid, safe=':')}",
        # Play shows reviewers by name only; the review id keeps two "A Google user"s apart.
        author=Author(handle=name or "A Google user", name=name, followers=None, url=None),
        text=f"{text}\n\n(on: {package})",
        created_at=datetime.fromtimestamp(modified[0] + modified[1] / 1e9, tz=UTC),
        lang=lang.replace("_", "-") if lang else None,
        likes=as_int(user.get("thumbsUpCount")), reposts=None,
        replies=1 if reply else 0, rating=rating, app=package, extra=extra)
    return Review(post=post, modified=modified, reply=reply or None)


# --- the source -------------------------------------------------------------------------------


class GooglePlaySource(PollingSource):
    """Every review of each app that was written or edited since the cursor (Google lists
    those of the last seven days)."""

    def __init__(self, api: Api, creds: Credentials, packages: Sequence[str], *,
                 interval: float, translation: str | None = None,
                 sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.creds = creds
        self.packages = list(dict.fromkeys(p.strip() for p in packages if p.strip()))
        self.translation = translation
        self.now = now
        self.name = "googleplay:" + ",".join(self.packages)

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        posts: list[Post] = []
        changes: list[PostChange] = []
        for package in self.packages:
            saved = state.get(package)
            mark: JSON = saved if isinstance(saved, dict) else {}
            since = _parse_stamp_text(mark.get("at"))
            ids = mark.get("ids")
            done = {i for i in ids if isinstance(i, str)} \
                if since and isinstance(ids, list) else set()
            reviews = await self._reviews(package)
            fresh = [r for r in reviews
                     if since is None or r.modified > since
                     or (r.modified == since and r.post.external_id not in done)]
            fresh.sort(key=lambda r: r.modified)
            for r in fresh:
                posts.append(r.post)
                # An edit of a review we stored: its text and stars are taken over (a new
                # review's "edit" changes nothing: the text is the one just stored).
                changes.append(PostChange(NETWORK, r.post.external_id, "edited", self.now(),
                                          r.post.text, r.post.rating))
            if fresh:
                newest = fresh[-1].modified
                ids = sorted(r.post.external_id for r in fresh if r.modified == newest)
                if since == newest:
                    ids = sorted(done | set(ids))
                state[package] = {"at": stamp_text(newest), "ids": ids}
        return Batch(posts=posts, cursor=dump_cursor(state), changes=changes)

    async def _reviews(self, package: str) -> list[Review]:
        """All pages of the app's review list (each review once)."""
        found: dict[str, Review] = {}
        token: str | None = None
        for _ in range(MAX_PAGES):
            params = {"maxResults": str(PAGE)}
            if token:
                params["token"] = token
            if self.translation:
                params["translationLanguage"] = self.translation

            async def get(params: dict[str, str] = params) -> Any:
                return await self.api.get_json(
                    f"/applications/{quote(package, safe='.')}/reviews", params=params)

            body = await authorized(self.creds, get)
            if not isinstance(body, dict):
                raise ValueError("reviews.list: the answer is not an object")
            items = body.get("reviews", [])
            if not isinstance(items, list):
                raise ValueError("reviews.list: reviews is not a list")
            for raw in items:
                try:
                    review = review_to_post(raw, package, translated=self.translation)
                except ValueError as exc:
                    log.warning("googleplay: skipped a malformed review of %s: %s", package, exc)
                    continue
                found.setdefault(review.post.external_id, review)
            paging = body.get("tokenPagination")
            nxt = paging.get("nextPageToken") if isinstance(paging, dict) else None
            if not isinstance(nxt, str) or not nxt or nxt == token:
                break
            token = nxt
        else:
            log.warning("googleplay: %s has more than %d pages of reviews; the rest waits for "
                        "the next poll", package, MAX_PAGES)
        return list(found.values())


# --- the responder ----------------------------------------------------------------------------


def split_id(external_id: str) -> tuple[str, str] | None:
    """(package, reviewId) of a mention's id `<package>/<reviewId>`."""
    package, sep, rid = external_id.partition("/")
    if not sep or not package or not rid:
        return None
    return package, rid


class _Unseen(enum.Enum):
    UNSEEN = "unseen"


UNSEEN = _Unseen.UNSEEN  # the review could not be read before the reply (reviews.get: 404)


class GooglePlayResponder:
    """The developer reply to a review. A review has one: replying again replaces it (and
    the result says so)."""

    network = NETWORK
    max_chars = MAX_REPLY

    def __init__(self, api: Api, creds: Credentials) -> None:
        self.api = api
        self.creds = creds

    def check(self, text: str) -> str | None:
        problem = length_problem(NETWORK, text, MAX_REPLY)
        if problem and "allows" in problem:
            return (f"{problem}: Google Play rejects replies longer than about {MAX_REPLY} "
                    "characters; shorten it")
        return problem

    async def _existing(self, package: str, rid: str) -> str | _Unseen | None:
        """The review's developer reply now (None: none yet). UNSEEN when Google does not
        show the review: deleted by its author, or (Google does not say) only out of the API's
        reach; the reply itself then decides (its 404 is PostGone), so an old review's card is
        never marked deleted on a guess."""
        path = f"/applications/{quote(package, safe='.')}/reviews/{quote(rid, safe='')}"
        try:
            raw = await authorized(self.creds, lambda: self.api.get_json(path))
        except ApiError as exc:
            if exc.status == 404:
                return UNSEEN
            if isinstance(exc, RateLimited):
                raise ReplyRejected("Google Play's hourly quota of review reads is used "
                                    "up; try again later") from exc
            raise ReplyRejected(f"the review could not be read: {exc}") from exc
        except httpx.HTTPError as exc:
            raise ReplyRejected(f"the review could not be read: {exc}") from exc
        dev = developer_comment(raw)
        text = _text(dev.get("text"), 2000) if dev is not None else ""
        return text or None

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        parts = split_id(mention.external_id)
        if parts is None:
            raise ReplyRejected(f"not a Google Play review: {mention.external_id}")
        package, rid = parts
        problem = self.check(text)
        if problem:
            raise ReplyRejected(problem)
        before = await self._existing(package, rid)
        path = (f"/applications/{quote(package, safe='.')}/reviews/{quote(rid, safe='')}"
                ":reply")
        try:
            response = await authorized(self.creds, lambda: self.api.write(
                "POST", path, json_body={"replyText": text}))
        except Uncertain as exc:
            raise _uncertain(exc) from exc
        except ApiError as exc:
            if exc.status == 404:
                raise PostGone("Google Play does not find the review any more") from exc
            if _quota_error(exc.status, exc.body):
                raise ReplyRejected("Google Play's quota of 2,000 replies a day for this app "
                                    "is used up; try again tomorrow") from exc
            raise ReplyRejected(str(exc)) from exc
        body = response_json(response)
        result = body.get("result") if isinstance(body, dict) else None
        if not isinstance(result, dict):
            raise _uncertain(Uncertain("Google Play answered without the reply's result"))
        note = None
        if before is UNSEEN:
            note = ("Google Play did not show the review to check for an earlier developer "
                    "reply; if it had one, this replaced it")
        elif before is not None:
            shown = before if len(before) <= 80 else before[:79] + "…"
            note = (f"this replaced the earlier developer reply (\"{shown}\"): a Google Play "
                    "review has one reply")
        url = mention.url or None
        return PostedReply(id=f"{package}/{rid}#reply", url=url, note=note)


def _uncertain(exc: Exception) -> ReplyUncertain:
    return ReplyUncertain(str(exc))


# --- wiring ---------------------------------------------------------------------------------


def read_key(settings: GooglePlaySettings) -> str:
    """The service-account key's JSON: the secret setting, else the key file. ValueError
    when neither gives one."""
    raw = secret(settings.service_account_key).strip()
    if raw:
        return raw
    path = (settings.service_account_key_file or "").strip()
    if not path:
        raise ValueError("set ECHTZEIT_GOOGLEPLAY_SERVICE_ACCOUNT_KEY or _KEY_FILE")
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"ECHTZEIT_GOOGLEPLAY_SERVICE_ACCOUNT_KEY_FILE: cannot read {path}: "
                         f"{exc.strerror}") from None


async def verify(api: Api, creds: Credentials, package: str) -> str:
    """A token and one review read of the first app: names the service account."""
    api.attempts = creds.token_api.attempts = 1
    creds.forget()
    await authorized(creds, lambda: api.get_json(
        f"/applications/{quote(package, safe='.')}/reviews", params={"maxResults": "1"}))
    return f"{creds.account.client_email} (reviews of {package} readable)"


def components(client: httpx.AsyncClient, *, account: ServiceAccount, packages: Sequence[str],
               interval: float, base_url: str = BASE_URL,
               translation: str | None = None, sleep: Sleep = asyncio.sleep,
               now: Callable[[], datetime] = utcnow, clock: Callable[[], float] = time.time,
               ) -> tuple[GooglePlaySource, GooglePlayResponder, Api, Credentials]:
    """The source, the responder and the API and credentials they share."""
    token_api = GoogleApi(client, account.token_uri, sleep=sleep, now=now)
    creds = Credentials(token_api, account, clock=clock)
    api = GoogleApi(client, base_url, auth=creds.headers, sleep=sleep, now=now)
    source = GooglePlaySource(api, creds, packages, interval=interval,
                              translation=translation, sleep=sleep, now=now)
    return source, GooglePlayResponder(api, creds), api, creds


def build(ctx: BuildContext[GooglePlaySettings]) -> Parts | None:
    s = ctx.settings
    packages = [p.strip() for p in s.packages if p.strip()]
    if not packages:
        return None
    try:
        account = load_service_account(read_key(s), token_url=s.token_url)
    except ValueError as exc:
        log.error("googleplay is off: %s", exc)
        return None
    source, responder, api, creds = components(
        ctx.client, account=account, packages=packages, base_url=s.base_url,
        interval=max(s.poll_seconds, ctx.shared.poll_seconds),
        translation=(s.translation_language or "").strip() or None)
    what = f"reviews of {', '.join(packages)} (the last 7 days); replies"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(api, creds, packages[0])))


PLUGIN = Plugin(spec=specs.GOOGLEPLAY, settings=GooglePlaySettings, build=build)
