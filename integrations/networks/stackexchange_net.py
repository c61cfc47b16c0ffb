"""Stack Exchange: questions found by the brands' terms (`/search/advanced` with `q`), and the
new answers and comments of each configured site (`/answers`, `/comments`; the pipeline's
matching keeps those that name a brand), over API 2.3. Replies are comments
(`POST /posts/{id}/comments/add`) when an access token with the write_access scope is set;
otherwise Stack Exchange is link-only (no responder: the card has no Reply button and `/reply`
answers with the link to answer on the site).

The API's rules this module keeps (api.stackexchange.com/docs):
- every answer is a wrapper object {items, has_more, quota_max, quota_remaining, backoff?},
  gzip-compressed (httpx decodes it);
- `backoff`: seconds to wait before calling the SAME method again; the client must honour it
  (docs/throttle). We keep a "not before" time per method;
- `quota_remaining` of the daily quota (10,000 with an app key, 300 per IP without); at 0 the
  reads stop until the quota resets (UTC midnight);
- errors are {error_id, error_message, error_name}: 400 bad_parameter, 401/403 access_token_*,
  502 throttle_violation ("... more requests available in N seconds"), which we wait out;
- text is HTML-encoded (titles) or HTML (bodies with the built-in `withbody` filter): decoded
  once, by html_to_text;
- dates are unix seconds.

Mentions are `<site>:q:<id>`, `<site>:a:<id>` and `<site>:c:<id>`. An answer's `in_reply_to`
is `<site>:q:<question id>`, a comment's `<site>:p:<post id>` (the post it is under, where a
reply to it is commented).

Cursor (JSON): `{"<site>:<what>[:<term>]": [last creation_date, [ids at that second]]}`. Reads
go oldest first from that second (`fromdate` is inclusive), so a round cut short by the page
cap goes on where it stopped next time (no skip), and the ids of that second are not repeated.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateLimited,
    Sleep,
    Transient,
    Uncertain,
    as_int,
    html_to_text,
    response_json,
    send_reply,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import StackExchangeSettings
from integrations.networks.terms import SearchTerm, TermsProvider

log = logging.getLogger(__name__)

NETWORK = "stackexchange"
PAGE = 100  # the API's largest pagesize
MAX_PAGES = 3  # per read and round; the rest comes next round (the cursor is exact)
# Comments: at least 15 and at most 600 characters (Stack Exchange's comment rules, as the
# site's comment box and /posts/{id}/comments/add enforce them).
MIN_COMMENT = 15
MAX_COMMENT = specs.STACKEXCHANGE.reply_limit or 600
# The built-in filter that adds `body` (HTML) to questions, answers and comments.
FILTER = "withbody"
# How far back the first round reads.
FIRST_LOOKBACK = timedelta(hours=24)
# throttle_violation names its wait in the message; without a number, this.
THROTTLE_WAIT = 60.0
_SECONDS = re.compile(r"available in (\d+) seconds?")

# Sites whose domain is not <site>.stackexchange.com.
_DOMAINS = {"stackoverflow": "stackoverflow.com", "superuser": "superuser.com",
            "serverfault": "serverfault.com", "askubuntu": "askubuntu.com",
            "mathoverflow": "mathoverflow.net", "stackapps": "stackapps.com"}


def site_host(site: str) -> str:
    """The web host of an API site name (`unix` -> unix.stackexchange.com)."""
    if "." in site:
        return site
    if site.endswith(".meta"):
        return f"meta.{site_host(site.removesuffix('.meta'))}"
    return _DOMAINS.get(site, f"{site}.stackexchange.com")


def error_of(body: Any) -> tuple[int | None, str, str]:
    """(error_id, error_name, error_message) of an error wrapper."""
    if not isinstance(body, dict):
        return None, "", ""
    eid = body.get("error_id")
    return (eid if isinstance(eid, int) else None, str(body.get("error_name") or ""),
            str(body.get("error_message") or ""))


@dataclass
class Quota:
    """What the API said about our budget: the daily quota left, and when each method may
    be called again (`backoff`)."""

    now: Callable[[], datetime]
    remaining: int | None = None
    maximum: int | None = None
    not_before: dict[str, datetime] = field(default_factory=dict)
    exhausted_until: datetime | None = None

    def note(self, method: str, body: Any) -> None:
        if not isinstance(body, dict):
            return
        remaining, maximum = as_int(body.get("quota_remaining")), as_int(body.get("quota_max"))
        if remaining is not None:
            self.remaining = remaining
            if remaining <= 0:
                tomorrow = (self.now() + timedelta(days=1)).date()
                self.exhausted_until = datetime(tomorrow.year, tomorrow.month, tomorrow.day,
                                                tzinfo=UTC)
        if maximum is not None:
            self.maximum = maximum
        backoff = body.get("backoff")
        if isinstance(backoff, (int, float)) and not isinstance(backoff, bool) and backoff > 0:
            self.not_before[method] = self.now() + timedelta(seconds=float(backoff))

    def wait_for(self, method: str) -> float:
        at = self.not_before.get(method)
        return max((at - self.now()).total_seconds(), 0.0) if at else 0.0


class StackExchangeApi(Api):
    """Api that speaks Stack Exchange's wrapper: the key on every call, the error shape, the
    throttle (502 throttle_violation), `backoff` per method and the daily quota."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, *, key: str | None,
                 access_token: str | None, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(client, base_url, sleep=sleep, now=now,
                         headers={"Accept-Encoding": "gzip"})
        self.key = key
        self.access_token = access_token
        self.quota = Quota(now=now)

    def _auth(self) -> dict[str, str]:
        found = {}
        if self.key:
            found["key"] = self.key
        if self.access_token:
            found["access_token"] = self.access_token
        return found

    async def _send_once(self, method: str, url: str, *, headers: dict[str, str],
                         **kwargs: Any) -> httpx.Response:
        await self._respect_window()
        try:
            response = await self.client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise Transient(0, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            error = self._translate(ApiError(response.status_code, response.reason_phrase,
                                             body=body, headers=response.headers))
            if isinstance(error, RateLimited):
                raise error
            if response.status_code >= 500:
                raise Transient(response.status_code, error.message, body=body)
            raise error
        return response

    def _translate(self, exc: ApiError) -> ApiError:
        eid, name, message = error_of(exc.body)
        if name == "throttle_violation" or eid == 502:
            found = _SECONDS.search(message)
            wait = float(found.group(1)) if found else THROTTLE_WAIT
            return RateLimited(exc.status, f"throttle_violation: {message}",
                               retry_after=wait, body=exc.body, headers=exc.headers)
        if name:
            return ApiError(exc.status, f"{name}: {message}", body=exc.body,
                            headers=exc.headers)
        return exc

    async def _before(self, method: str) -> None:
        if self.quota.exhausted_until is not None:
            if self.now() < self.quota.exhausted_until:
                raise ApiError(0, "the Stack Exchange daily quota is used up until "
                                  f"{self.quota.exhausted_until:%Y-%m-%d %H:%M} UTC")
            self.quota.exhausted_until = None
        wait = self.quota.wait_for(method)
        if wait > 0:
            log.info("stackexchange: backoff on %s, waiting %.0f s", method, wait)
            await self.sleep(wait)

    async def read(self, method: str, path: str, params: dict[str, str]) -> JSON:
        """GET `path`, `method` naming it for its backoff (e.g. "/search/advanced")."""
        await self._before(method)
        response = await self.request("GET", path, params={**params, **self._auth()})
        try:
            body = response.json()
        except ValueError as exc:
            raise ApiError(response.status_code, "the answer is not JSON") from exc
        self.quota.note(method, body)
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ApiError(response.status_code, f"{path}: no items in the answer")
        return body

    async def add_comment(self, post_id: int, site: str, text: str) -> JSON:
        """POST /posts/{id}/comments/add, sent once. A throttle_violation (502) is a refusal
        (nothing was posted), any other 5xx or a connection lost after sending is Uncertain."""
        method = "/posts/{id}/comments/add"
        await self._before(method)
        try:
            response = await self.client.request(
                "POST", self.url(f"/posts/{post_id}/comments/add"),
                headers=await self._headers(None),
                data={"body": text, "site": site, **self._auth()})
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ApiError(0, f"could not connect: {exc}") from exc
        except httpx.TransportError as exc:
            raise Uncertain(f"{type(exc).__name__} after sending: {exc}") from exc
        if response.status_code >= 400:
            try:
                error_body = response.json()
            except ValueError:
                error_body = None
            error = self._translate(ApiError(response.status_code, response.reason_phrase,
                                             body=error_body, headers=response.headers))
            if isinstance(error, RateLimited):
                raise ApiError(error.status, f"{error.message} (nothing was posted; try "
                                             f"again in {error.retry_after or 0:.0f} s)",
                               body=error_body) from error
            if response.status_code >= 500:
                raise Uncertain(f"HTTP {response.status_code}: {error.message}")
            raise error
        body = response_json(response)
        self.quota.note(method, body)
        return body if isinstance(body, dict) else {}


# --- parsing ----------------------------------------------------------------------------------


def _positive(raw: JSON, key: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"no {key}")
    return value


def _created(raw: JSON) -> datetime:
    try:
        return datetime.fromtimestamp(_positive(raw, "creation_date"), tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("creation_date out of range") from exc


def _author(raw: JSON, site: str) -> Author:
    owner = raw.get("owner")
    if not isinstance(owner, dict):
        raise ValueError("no owner")
    name = owner.get("display_name")
    name = html_to_text(name) if isinstance(name, str) and name.strip() else None
    uid = owner.get("user_id")
    link = owner.get("link")
    url = link if isinstance(link, str) and link.startswith("https://") else None
    if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0:
        handle = f"{uid}@{site}"
    elif name:  # user_type "does_not_exist": a deleted account keeps only its name
        handle = f"{name}@{site}"
    else:
        raise ValueError("no owner")
    return Author(handle=handle, name=name, followers=None, url=url)


def _body(raw: JSON) -> str:
    body = raw.get("body")
    return html_to_text(body) if isinstance(body, str) else ""


def question_to_post(raw: Any, site: str) -> Post:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    qid = _positive(raw, "question_id")
    title = raw.get("title")
    title = html_to_text(title) if isinstance(title, str) else ""
    if not title:
        raise ValueError("no title")
    body = _body(raw)
    listed = raw.get("tags")
    tags = [t for t in listed if isinstance(t, str)] if isinstance(listed, list) else []
    return Post(
        network=NETWORK, external_id=f"{site}:q:{qid}",
        url=f"https://{site_host(site)}/q/{qid}", author=_author(raw, site),
        text="\n\n".join(p for p in (title, body) if p), created_at=_created(raw),
        likes=as_int(raw.get("score")), reposts=None, replies=as_int(raw.get("answer_count")),
        in_reply_to=None, extra={"site": site, "tags": ",".join(tags)[:300]})


def answer_to_post(raw: Any, site: str) -> Post:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    aid, qid = _positive(raw, "answer_id"), _positive(raw, "question_id")
    text = _body(raw)
    if not text:
        raise ValueError("no body")
    return Post(
        network=NETWORK, external_id=f"{site}:a:{aid}",
        url=f"https://{site_host(site)}/a/{aid}", author=_author(raw, site), text=text,
        created_at=_created(raw), likes=as_int(raw.get("score")), reposts=None, replies=None,
        in_reply_to=f"{site}:q:{qid}", extra={"site": site})


def comment_to_post(raw: Any, site: str) -> Post:
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    cid, pid = _positive(raw, "comment_id"), _positive(raw, "post_id")
    text = _body(raw)
    if not text:
        raise ValueError("no body")
    return Post(
        network=NETWORK, external_id=f"{site}:c:{cid}",
        url=f"https://{site_host(site)}/posts/comments/{cid}", author=_author(raw, site),
        text=text, created_at=_created(raw), likes=as_int(raw.get("score")), reposts=None,
        replies=None, in_reply_to=f"{site}:p:{pid}", extra={"site": site})


# --- the source -------------------------------------------------------------------------------


def _q(term: SearchTerm) -> str:
    return f'"{term.plain}"' if term.kind == "phrase" else term.plain


_PARSERS: dict[str, tuple[str, str, Callable[[Any, str], Post]]] = {
    # what: (method, id field, parser)
    "questions": ("/search/advanced", "question_id", question_to_post),
    "answers": ("/answers", "answer_id", answer_to_post),
    "comments": ("/comments", "comment_id", comment_to_post),
}


class StackExchangeSource(PollingSource):
    """Per site: questions matching each term, and every new answer and comment."""

    def __init__(self, api: StackExchangeApi, terms: TermsProvider, *,
                 sites: Sequence[str], interval: float, sleep: Sleep = asyncio.sleep,
                 now: Callable[[], datetime] = utcnow) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.terms = terms
        self.sites = [s.strip() for s in sites if s.strip()]
        self.now = now
        self.name = f"stackexchange:{','.join(self.sites)}"

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        terms = sorted({t for t in await self.terms() if t.plain.strip()})
        posts: list[Post] = []
        seen: dict[str, Any] = {}
        for site in self.sites:
            reads: list[tuple[str, str, dict[str, str]]] = [
                (f"{site}:questions:{t.key}", "questions", {"q": _q(t)}) for t in terms]
            reads += [(f"{site}:answers", "answers", {}), (f"{site}:comments", "comments", {})]
            for key, what, extra in reads:
                found, mark = await self._read(site, what, extra, state.get(key))
                posts += found
                seen[key] = mark
        return Batch(posts=posts, cursor=dump_cursor(seen))

    def _start(self, saved: Any) -> tuple[int, set[int]]:
        if (isinstance(saved, list) and len(saved) == 2 and isinstance(saved[0], int)
                and isinstance(saved[1], list)):
            return saved[0], {i for i in saved[1] if isinstance(i, int)}
        return int((self.now() - FIRST_LOOKBACK).timestamp()), set()

    async def _read(self, site: str, what: str, extra: dict[str, str], saved: Any,
                    ) -> tuple[list[Post], list[Any]]:
        """Oldest first from the saved second; the new mark [second, ids at that second]."""
        method, id_field, parse = _PARSERS[what]
        since, ids_then = self._start(saved)
        last, ids_last = since, set(ids_then)
        posts: list[Post] = []
        horizon = int((self.now() + timedelta(days=1)).timestamp())
        for page in range(1, MAX_PAGES + 1):
            body = await self.api.read(method, method, {
                **extra, "site": site, "sort": "creation", "order": "asc",
                "fromdate": str(since), "pagesize": str(PAGE), "page": str(page),
                "filter": FILTER})
            for raw in body["items"]:
                at = raw.get("creation_date") if isinstance(raw, dict) else None
                iid = raw.get(id_field) if isinstance(raw, dict) else None
                if (not isinstance(at, int) or isinstance(at, bool) or not isinstance(iid, int)
                        or isinstance(iid, bool)):
                    log.warning("stackexchange: skipped a malformed %s", what[:-1])
                    continue
                if at < since or (at == since and iid in ids_then):
                    continue  # before the cursor, or already read at its second
                if at > horizon:
                    log.warning("stackexchange: skipped a %s dated in the future", what[:-1])
                    continue  # a bogus date must not carry the cursor past everything
                if at > last:
                    last, ids_last = at, set()
                if at == last:
                    ids_last.add(iid)
                try:
                    posts.append(parse(raw, site))
                except (ValueError, TypeError) as exc:
                    log.warning("stackexchange: skipped a malformed %s: %s", what[:-1], exc)
            if body.get("has_more") is not True:
                break
        return posts, [last, sorted(ids_last)]


# --- the responder ----------------------------------------------------------------------------


def _parts(value: str | None) -> tuple[str, str, int] | None:
    """`<site>:<kind>:<id>` -> (site, kind, id)."""
    if not value:
        return None
    site, _, rest = value.rpartition(":")
    site, _, kind = site.rpartition(":")
    if not site or kind not in ("q", "a", "c", "p") or not rest.isdigit():
        return None
    return site, kind, int(rest)


class StackExchangeResponder:
    """A comment as the brand's account: on the question or answer itself, and for a comment
    on the post it is under (Stack Exchange comments do not nest)."""

    network = NETWORK

    def __init__(self, api: StackExchangeApi) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        problem = length_problem(NETWORK, text, MAX_COMMENT)
        if problem is None and len(text.strip()) < MIN_COMMENT:
            return (f"Stack Exchange comments need at least {MIN_COMMENT} characters, this "
                    f"reply has {len(text.strip())}")
        return problem

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        own = _parts(mention.external_id)
        if own is None:
            raise ReplyRejected(f"not a Stack Exchange post: {mention.external_id}")
        site, kind, number = own
        if kind == "c":
            parent = _parts(mention.in_reply_to)
            if parent is None:
                raise ReplyRejected("the post of this Stack Exchange comment is unknown; "
                                    f"answer on the site: {mention.url}")
            number = parent[2]

        async def post() -> PostedReply:
            body = await self.api.add_comment(number, site, text)
            items = body.get("items")
            first = items[0] if isinstance(items, list) and items else None
            cid = first.get("comment_id") if isinstance(first, dict) else None
            if not isinstance(cid, int):
                raise ReplyRejected("Stack Exchange answered without the new comment")
            return PostedReply(id=f"{site}:c:{cid}",
                               url=f"https://{site_host(site)}/posts/comments/{cid}")

        result: PostedReply = await send_reply(post)
        return result


async def verify(api: StackExchangeApi, sites: Sequence[str]) -> str:
    """One cheap read (`/info` of the first site) for the quota; with a token, its scope
    (`/access-tokens/{token}`) and account."""
    api.attempts = 1
    await api.read("/info", "/info", {"site": sites[0]})
    who = "the app key" if api.key else "no key"
    quota = f"quota {api.quota.remaining}/{api.quota.maximum} left today"
    if not api.access_token:
        return f"{who}, {quota}"
    token = await api.read("/access-tokens", f"/access-tokens/{api.access_token}", {})
    items = token["items"]
    found = items[0] if items and isinstance(items[0], dict) else {}
    scope = found.get("scope")
    if not isinstance(scope, list) or "write_access" not in scope:
        raise ApiError(403, "the access token lacks the write_access scope (replies need it)")
    return f"account {found.get('account_id')} with write_access, {quota}"


def components(client: httpx.AsyncClient, *, base_url: str, sites: Iterable[str],
               key: str | None, access_token: str | None, terms: TermsProvider,
               interval: float, sleep: Sleep = asyncio.sleep,
               now: Callable[[], datetime] = utcnow,
               ) -> tuple[StackExchangeSource, StackExchangeResponder | None, StackExchangeApi]:
    """The source, the responder (only with an access token) and the API they share."""
    api = StackExchangeApi(client, base_url, key=key, access_token=access_token, sleep=sleep,
                           now=now)
    source = StackExchangeSource(api, terms, sites=list(sites), interval=interval,
                                 sleep=sleep, now=now)
    responder = StackExchangeResponder(api) if access_token else None
    return source, responder, api


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[StackExchangeSettings]) -> Parts | None:
    s = ctx.settings
    sites = [x.strip() for x in s.sites if x.strip()]
    if not sites:
        return None
    source, responder, api = components(
        ctx.client, base_url=s.base_url, sites=sites, key=secret(s.key) or None,
        access_token=secret(s.access_token) or None, terms=ctx.terms(NETWORK),
        interval=s.poll_seconds)
    what = f"questions, answers and comments on {', '.join(sites)}"
    what += "; replies as comments" if responder else "; link-only replies"
    return Parts(sources=[source], responder=responder,
                 check=(what, lambda: verify(api, sites)))


PLUGIN = Plugin(spec=specs.STACKEXCHANGE, settings=StackExchangeSettings, build=build)
