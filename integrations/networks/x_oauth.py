"""The brand account's X user token, kept alive past X's two hours.

An OAuth 2.0 user access token of X lasts two hours (`expires_in` 7200). Authorized with the
`offline.access` scope, the app also holds a refresh token, and `POST /2/oauth2/token` with
`grant_type=refresh_token` buys a new pair with it. X ROTATES the refresh token: the one just
used stops working (400 `invalid_request`, "Value passed for the token was invalid."). So:

- The current refresh token lives in the database (`credential` row "x"); the new one is stored
  (compare-and-swap on the one it replaces) before the access token it came with is used.
- One replica renews at a time, under a short lease on that row. The others wait, then take
  the access token it stored: nobody sends a refresh token another replica already spent.
- ECHTZEIT_X_REFRESH_TOKEN only seeds the row. A stored chain that started from the configured
  token wins (the configured one is spent by then); a different configured token is a new
  authorization and replaces the chain (when a process starts with it).
- A refused renewal is the operator's to fix (authorize again): it is logged once and every
  reply fails with that instruction until then, without asking X again.

The token request is the networks' one OAuth helper (integrations/networks/oauth.py): Authlib
encodes the grant's form (RFC 6749 section 6) and the client's authentication (HTTP Basic
`client_id:client_secret` for confidential clients, `client_id` in the form for public ones).
The request goes through `Api`, like every call to X, on the one shared httpx client with
tenacity's retries; Authlib's own httpx client does not fit that (docs/networks.md, "X").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from bot.clock import utcnow
from bot.models import Credential
from bot.store import Store
from integrations.networks.credential_chain import StoredCredential
from integrations.networks.http_common import Api, ApiError, Clock, Sleep
from integrations.networks.oauth import TokenEndpoint, lifetime

log = logging.getLogger(__name__)

NAME = "x"  # the credential row
TOKEN_PATH = "/oauth2/token"  # under the API base: https://api.x.com/2/oauth2/token
LIFETIME = 7200.0  # seconds; X's access token lifetime, when an answer leaves out expires_in
EARLY = timedelta(minutes=5)  # renew this long before the access token runs out
LEASE = timedelta(minutes=2)  # longer than one token request with its retries can take
LOOK = 0.5  # seconds between looks at the row while another replica renews
LOOKS = 600  # about five minutes of looks before giving up

REAUTHORIZE = ("authorize the X app for the brand account again (OAuth 2.0 with the "
               "offline.access scope), put the new refresh token in ECHTZEIT_X_REFRESH_TOKEN "
               "and restart Echtzeit")


class TokenRefused(ApiError):
    """X will not give a user access token for what we hold: only the operator can fix it."""


class UserToken(Protocol):
    """What the X responder needs of the brand account's user token."""

    async def headers(self) -> dict[str, str]:
        """The Authorization header to send now."""

    async def rejected(self, headers: Mapping[str, str]) -> None:
        """X answered 401 to a request sent with `headers`: get another token, or raise
        TokenRefused when there is no way to."""


class StaticToken:
    """ECHTZEIT_X_USER_TOKEN as it is: X lets it expire after two hours, and nothing renews it."""

    def __init__(self, token: str) -> None:
        self._authorization = f"Bearer {token}"

    async def headers(self) -> dict[str, str]:
        return {"Authorization": self._authorization}

    async def rejected(self, headers: Mapping[str, str]) -> None:
        raise TokenRefused(401, "X no longer accepts ECHTZEIT_X_USER_TOKEN (user access tokens "
                                "expire after two hours): set ECHTZEIT_X_CLIENT_ID and "
                                "ECHTZEIT_X_REFRESH_TOKEN so that Echtzeit renews it")


class RenewedToken(StoredCredential):
    """The user access token, bought with the stored refresh token and renewed before it
    expires or when X answers 401 (see the module's docstring for the rules)."""

    def __init__(self, api: Api, store: Store, *, seed: str, client_id: str,
                 client_secret: str | None = None, name: str = NAME,
                 sleep: Sleep = asyncio.sleep, now: Clock = utcnow) -> None:
        super().__init__(store, name=name, seed=seed)
        self.api = api  # X's API base; the token endpoint is TOKEN_PATH under it
        self.sleep = sleep
        self.now = now
        # Confidential clients (they have a secret) authenticate with HTTP Basic; public
        # clients name themselves with client_id in the form.
        self.endpoint = TokenEndpoint(api, TOKEN_PATH, client_id=client_id,
                                      client_secret=client_secret,
                                      method="client_secret_basic" if client_secret else "none")
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self._expires: datetime | None = None
        self._bad: str | None = None  # an access token X answered 401 to
        self._refused: str | None = None  # a stored refresh token X refused: not sent again

    async def headers(self) -> dict[str, str]:
        async with self._lock:
            if not self._fresh(self._access, self._expires):
                await self._renew()
            return {"Authorization": f"Bearer {self._access}"}

    async def rejected(self, headers: Mapping[str, str]) -> None:
        async with self._lock:
            if self._access is not None and \
                    headers.get("Authorization") == f"Bearer {self._access}":
                log.info("x: X answered 401 to the user access token; renewing it")
                self._bad, self._access, self._expires = self._access, None, None

    def _fresh(self, access: str | None, expires: datetime | None) -> bool:
        return (access is not None and access != self._bad and expires is not None
                and self.now() < expires - EARLY)

    async def _renew(self) -> None:
        for _ in range(LOOKS):
            row = await self._row()
            if self._fresh(row.access, row.expires_at):
                # Another replica (or this one before a restart) renewed it: take that one.
                self._access, self._expires = row.access, row.expires_at
                return
            if row.secret == self._refused:
                raise TokenRefused(400, f"X refused the stored refresh token: {REAUTHORIZE}")
            leased = await asyncio.to_thread(
                self.store.lease_credential, name=self.name, secret=row.secret,
                holder=self.holder, until=self.now() + LEASE)
            if not leased:
                await self.sleep(LOOK)  # another replica is renewing: wait for its token
                continue
            # Shielded: once X has rotated the token, a cancelled reply (a shutdown) must not
            # stop the new one from being stored.
            if await asyncio.shield(self._renew_from(row)):
                return
        raise ApiError(0, "x: another replica held the renewal of the user token for too long")

    async def _renew_from(self, row: Credential) -> bool:
        """Spend `row`'s refresh token under our lease and store what X gives for it. False
        when the row moved on meanwhile (look again)."""
        try:
            access, refresh, expires = await self._exchange(row.secret)
        except TokenRefused as exc:
            await asyncio.to_thread(self.store.release_credential, name=self.name,
                                    holder=self.holder)
            if exc.status == 400:
                again = await asyncio.to_thread(self.store.credential, name=self.name)
                if again is not None and again.secret != row.secret:
                    return False  # another replica renewed with it after our lease ran out
                self._refused = row.secret
            log.error("x: %s", exc)
            raise
        except BaseException:
            await asyncio.to_thread(self.store.release_credential, name=self.name,
                                    holder=self.holder)
            raise
        # Stored before anything uses the new access token: the old refresh token is spent.
        saved = await asyncio.to_thread(
            self.store.save_credential, name=self.name, secret=refresh, access=access,
            expires_at=expires, expected=row.secret)
        if not saved:
            log.warning("x: the stored refresh token changed while this replica renewed it "
                        "(a new authorization?); taking the stored one")
            return False
        self._access, self._expires = access, expires
        log.info("x: renewed the user access token (valid until %s); the next refresh token "
                 "is stored", expires.isoformat(timespec="seconds"))
        return True

    async def _exchange(self, refresh: str) -> tuple[str, str, datetime]:
        """POST /2/oauth2/token with grant_type=refresh_token: (access, refresh, expires)."""
        try:
            response = await self.endpoint.request("refresh_token", refresh_token=refresh)
        except ApiError as exc:
            raise _refusal(exc) from exc
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ApiError(response.status_code, "x: the token endpoint's answer is not JSON")
        access = answer.get("access_token")
        if not isinstance(access, str) or not access or \
                str(answer.get("token_type", "")).lower() != "bearer":
            raise ApiError(response.status_code,
                           "x: the token endpoint answered without a bearer access token")
        rotated = answer.get("refresh_token")
        if not isinstance(rotated, str) or not rotated:
            rotated = refresh  # X always rotates; RFC 6749 lets a server keep the old one
        return access, rotated, self.now() + timedelta(seconds=lifetime(answer, LIFETIME))


def _refusal(exc: ApiError) -> ApiError:
    """The token endpoint's 400 (the refresh token is revoked or spent) and 401 (the app's
    client credentials are wrong) as TokenRefused with what the operator should do."""
    error = exc.body.get("error") if isinstance(exc.body, dict) else None
    description = exc.body.get("error_description") if isinstance(exc.body, dict) else None
    said = ": ".join(str(p) for p in (error, description) if p) or exc.message
    if exc.status == 400:
        return TokenRefused(400, f"X refused the refresh token ({said}); it was revoked or "
                                 f"already used: {REAUTHORIZE}")
    if exc.status == 401:
        return TokenRefused(401, f"X refused the app's client credentials ({said}): check "
                                 "ECHTZEIT_X_CLIENT_ID and ECHTZEIT_X_CLIENT_SECRET (the OAuth "
                                 "2.0 Client ID and Secret of the app that was authorized)")
    return exc


def renewed_token(client: httpx.AsyncClient, *, api_url: str, store: Store, seed: str,
                  client_id: str, client_secret: str | None = None,
                  sleep: Sleep = asyncio.sleep, now: Clock = utcnow) -> RenewedToken:
    """The brand account's user token, renewed through X's token endpoint under `api_url`."""
    api = Api(client, api_url, sleep=sleep, now=now, attempts=3, backoff_cap=10.0)
    return RenewedToken(api, store, seed=seed, client_id=client_id, client_secret=client_secret,
                        sleep=sleep, now=now)
