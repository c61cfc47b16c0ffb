"""The brand profile's Threads token, kept alive past its 60 days.

A long-lived Threads user access token lasts 60 days. `GET /refresh_access_token?grant_type=
th_refresh_token&access_token=<token>` (on graph.threads.net, without the version) gives a new
one, valid 60 days from then (`{"access_token", "token_type", "expires_in"}`), when the token
is at least 24 hours old and has not expired; an expired token cannot be refreshed. So:

- The current token lives in the database (`credential` row "threads": `secret` is the token,
  `expires_at` its end, None while unknown; `updated_at` when it was stored, so its age is at
  least now - updated_at). Every Threads call uses the stored token.
- It is renewed when it is at least 24 hours old and within EARLY (7 days) of its end, or, when
  its end is unknown (the configured token as it was first seen), 24 hours after it was first
  seen: from then on the end is known.
- One replica renews at a time, under a short lease on the row; the new token is stored with a
  compare-and-swap on the one it replaces. The others take the stored token.
- ECHTZEIT_THREADS_ACCESS_TOKEN only seeds the row. A stored chain that started from the
  configured token wins (it is newer); a different configured token is a new authorization and
  replaces the chain (when a process starts with it).
- A refused renewal is the operator's to fix (authorize again): it is logged once, with what to
  do. When Threads says the token itself is invalid or expired (Graph code 190), every call
  fails with that instruction without asking Threads again; otherwise the token is used until
  it runs out. A renewal that got no answer (5xx, timeouts) is tried again an hour later.

The token is sent in the refresh request's query string as Threads documents it; it is never
put in a log line (bot/logs.py masks `access_token=` in URLs as well).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.clock import utcnow
from bot.models import Credential
from bot.store import Store
from integrations.networks.credential_chain import StoredCredential, origin_of
from integrations.networks.http_common import Api, ApiError, Clock, Sleep, pick
from integrations.networks.meta_common import THROTTLE_CODES
from integrations.networks.oauth import lifetime

log = logging.getLogger(__name__)

NAME = "threads"  # the credential row
REFRESH_PATH = "/refresh_access_token"  # at the host's root: no API version
LIFETIME = 60 * 86_400.0  # seconds; a long-lived token's life when an answer leaves it out
EARLY = timedelta(days=7)  # renew this long before the token runs out
MIN_AGE = timedelta(hours=24)  # Threads refreshes only tokens at least this old
LEASE = timedelta(minutes=2)  # longer than one refresh request with its retries can take
LOOK = 0.5  # seconds between looks at the row while another replica renews
LOOKS = 600  # about five minutes of looks before giving up
AGAIN = timedelta(hours=1)  # after a renewal without an answer; also how often the row is read

REAUTHORIZE = ("authorize the Threads app for the brand's profile again, exchange the code for "
               "a long-lived token (GET /access_token with grant_type=th_exchange_token), put "
               "it in ECHTZEIT_THREADS_ACCESS_TOKEN and restart Echtzeit")


class TokenRefused(ApiError):
    """Threads will not renew (or take) the stored token: only the operator can fix it.
    `dead`: Threads said the token itself is invalid or expired (Graph code 190)."""

    def __init__(self, status: int, message: str, *, dead: bool = False) -> None:
        super().__init__(status, message)
        self.dead = dead


def refresh_root(api_url: str) -> str:
    """https://graph.threads.net/v1.0 -> https://graph.threads.net (the refresh endpoint has
    no version)."""
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


def _aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back: they are UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def describe(row: Credential | None, configured: str, now: datetime) -> tuple[str, str | None]:
    """What `echtzeit networks` says about the stored token, and the token to check with
    (None: the stored token ran out, nothing to check). Without a stored chain of the
    configured token, the configured one."""
    if row is None or row.origin != origin_of(configured):
        return "token as configured (renewed in the database once the bot runs)", configured
    expires = _aware(row.expires_at)
    stored = _aware(row.updated_at)
    since = stored.date().isoformat() if stored else "?"
    if expires is None:
        return f"token as configured, first seen {since}, renewed 24 h after", row.secret
    if now >= expires:
        return (f"the stored token expired on {expires.date().isoformat()} and cannot be "
                f"renewed: {REAUTHORIZE}"), None
    return (f"token renewed by Echtzeit (stored {since}, valid until "
            f"{expires.date().isoformat()})"), row.secret


class RenewedThreadsToken(StoredCredential):
    """The stored Threads token, renewed before it runs out (see the module's docstring)."""

    def __init__(self, api: Api, store: Store, *, seed: str, name: str = NAME,
                 sleep: Sleep = asyncio.sleep, now: Clock = utcnow) -> None:
        super().__init__(store, name=name, seed=seed)
        self.api = api  # graph.threads.net's root; the refresh endpoint is REFRESH_PATH
        self.sleep = sleep
        self.now = now
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires: datetime | None = None
        self._since: datetime | None = None  # when the token was stored (its age is at least)
        self._look_at: datetime | None = None  # when the row is read again
        self._refused: str | None = None  # a token Threads would not renew: not sent again
        self._dead: str | None = None  # a token Threads called invalid: not used again
        self._retry_at: datetime | None = None  # after a renewal without an answer

    async def headers(self) -> dict[str, str]:
        async with self._lock:
            now = self.now()
            if self._token is None or (self._look_at is not None and now >= self._look_at):
                self._take(await self._row())
            if self._due(now):
                await self._renew()
            if self._token == self._dead:
                raise TokenRefused(400, f"Threads refused the stored token: {REAUTHORIZE}",
                                   dead=True)
            return {"Authorization": f"Bearer {self._token}"}

    def _take(self, row: Credential) -> None:
        self._token, self._expires = row.secret, _aware(row.expires_at)
        self._since = _aware(row.updated_at)
        self._look_at = self.now() + AGAIN

    def _due(self, now: datetime) -> bool:
        """The token is old enough to renew and near enough its end (or of unknown end)."""
        if self._token is None or self._token == self._refused or self._since is None:
            return False
        if self._retry_at is not None and now < self._retry_at:
            return False
        if now - self._since < MIN_AGE:
            return False
        return self._expires is None or now >= self._expires - EARLY

    async def _renew(self) -> None:
        for _ in range(LOOKS):
            row = await self._row()
            if row.secret != self._token or _aware(row.updated_at) != self._since:
                # Another replica renewed it (or a new authorization came): take that one.
                self._take(row)
                if not self._due(self.now()):
                    return
            leased = await asyncio.to_thread(
                self.store.lease_credential, name=self.name, secret=row.secret,
                holder=self.holder, until=self.now() + LEASE)
            if not leased:
                await self.sleep(LOOK)  # another replica is renewing: wait for its token
                continue
            current = await asyncio.to_thread(self.store.credential, name=self.name)
            if current is None or current.secret != row.secret or \
                    current.updated_at != row.updated_at:
                # Renewed by another replica between our look and our lease (Threads may
                # answer with the same token string and a new end).
                await asyncio.to_thread(self.store.release_credential, name=self.name,
                                        holder=self.holder)
                continue
            # Shielded: a cancelled call (a shutdown) must not lose the token Threads gave.
            if await asyncio.shield(self._renew_from(row)):
                return
        log.warning("threads: another replica held the renewal of the token for too long; "
                    "using the current one")
        self._retry_at = self.now() + AGAIN

    async def _renew_from(self, row: Credential) -> bool:
        """Refresh `row`'s token under our lease and store what Threads gives for it. True
        when this replica is done (renewed, or the renewal failed and was reported); False
        when the row moved on meanwhile (look again)."""
        try:
            token, expires = await self._exchange(row.secret)
        except TokenRefused as exc:
            await asyncio.to_thread(self.store.release_credential, name=self.name,
                                    holder=self.holder)
            again = await asyncio.to_thread(self.store.credential, name=self.name)
            if again is not None and again.secret != row.secret:
                return False  # another replica renewed it after our lease ran out
            self._refused = row.secret
            if exc.dead:
                self._dead = row.secret
            log.error("threads: %s", exc)
            return True
        except (ApiError, httpx.HTTPError, ValueError) as exc:
            await asyncio.to_thread(self.store.release_credential, name=self.name,
                                    holder=self.holder)
            self._retry_at = self.now() + AGAIN
            log.warning("threads: the token was not renewed (%s); trying again in an hour",
                        exc)
            return True
        except BaseException:
            await asyncio.to_thread(self.store.release_credential, name=self.name,
                                    holder=self.holder)
            raise
        saved = await asyncio.to_thread(
            self.store.save_credential, name=self.name, secret=token, access=None,
            expires_at=expires, expected=row.secret)
        if not saved:
            log.warning("threads: the stored token changed while this replica renewed it "
                        "(a new authorization?); taking the stored one")
            return False
        self._take(await self._row())
        log.info("threads: renewed the access token (valid until %s)",
                 expires.isoformat(timespec="seconds"))
        return True

    async def _exchange(self, token: str) -> tuple[str, datetime]:
        """GET /refresh_access_token with grant_type=th_refresh_token: (token, expires)."""
        try:
            answer: Any = await self.api.get_json(REFRESH_PATH, params={
                "grant_type": "th_refresh_token", "access_token": token})
        except ApiError as exc:
            if exc.status >= 500 or exc.status in (0, 429) or \
                    pick(exc.body, "error", "code") in THROTTLE_CODES:
                raise  # no answer, or not now: tried again later
            raise _refusal(exc) from exc
        fresh = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(fresh, str) or not fresh or \
                str(answer.get("token_type", "bearer")).lower() != "bearer":
            raise ValueError("the refresh answer has no bearer access token")
        return fresh, self.now() + timedelta(seconds=lifetime(answer, LIFETIME))


def _refusal(exc: ApiError) -> TokenRefused:
    """A refresh refused with a Graph error as TokenRefused with what the operator should do
    (`dead` when Threads says the token is invalid or expired)."""
    code = pick(exc.body, "error", "code")
    said = pick(exc.body, "error", "message") or exc.message
    if code == 190:
        return TokenRefused(exc.status, f"Threads will not renew the access token, it is "
                                        f"invalid or expired (Graph error 190: {said}): "
                                        f"{REAUTHORIZE}", dead=True)
    return TokenRefused(exc.status, f"Threads refused to renew the access token (Graph error "
                                    f"{code}: {said}); it works until it runs out: "
                                    f"{REAUTHORIZE}")


def renewed_token(client: httpx.AsyncClient, *, api_url: str, store: Store, seed: str,
                  sleep: Sleep = asyncio.sleep, now: Clock = utcnow) -> RenewedThreadsToken:
    """The brand profile's token, renewed at the root of `api_url`'s host."""
    api = Api(client, refresh_root(api_url), sleep=sleep, now=now, attempts=3,
              backoff_cap=10.0)
    return RenewedThreadsToken(api, store, seed=seed, sleep=sleep, now=now)
