"""The one OAuth 2.0 token helper of the networks: the token request, the lifetime of its
answer, and an access token cached until shortly before it runs out.

`TokenEndpoint`: Authlib encodes the grant's form (RFC 6749) and the client's authentication
(HTTP Basic `client_id:client_secret` for `client_secret_basic`, both in the form for
`client_secret_post`, `client_id` alone for public clients); the request goes through `Api`,
like every call to a network, on the one shared httpx client with tenacity's retries.
`CachedToken`: one fetch at a time (a lock), kept until `early` seconds before it expires.

Used by Reddit (password or client-credentials grant), YouTube (refresh grant) and X (the
rotated refresh token of x_oauth.RenewedToken, which keeps its chain in the store).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal
from urllib.parse import quote_plus

import httpx
from authlib.common.urls import url_decode
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from integrations.networks.http_common import Api

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
# (access token, its lifetime in seconds)
Fetch = Callable[[], Awaitable[tuple[str, float]]]


class TokenEndpoint:
    """A token endpoint (`path` under `api`) and the client that asks it."""

    def __init__(self, api: Api, path: str = "", *, client_id: str,
                 client_secret: str | None = None,
                 method: AuthMethod = "client_secret_basic") -> None:
        self.api = api
        self.path = path
        if method == "client_secret_basic" and client_secret is not None:
            # RFC 6749 §2.3.1: id and secret are each form-urlencoded (appendix B) before they
            # are joined by ":" and Base64-encoded; Authlib joins them as they are, which
            # breaks a secret holding ":" and differs from a compliant server for any of
            # `%&+/:=?` or a space (for the [A-Za-z0-9_.-] of X's, Reddit's and Google's
            # credentials the two agree).
            client_id, client_secret = quote_plus(client_id), quote_plus(client_secret)
        self._client = ClientAuth(client_id, client_secret, method)

    async def request(self, grant_type: str, *, headers: Mapping[str, str] | None = None,
                      **params: str) -> httpx.Response:
        """POST the grant; raises ApiError as `Api.request` does."""
        form = prepare_token_request(grant_type, **params)
        _, auth, body = self._client.prepare("POST", self.api.url(self.path), {}, form)
        return await self.api.request("POST", self.path, data=dict(url_decode(body)),
                                      headers={**auth, **(headers or {})})


def lifetime(answer: Mapping[str, Any], default: float) -> float:
    """The answer's `expires_in` in seconds, or `default` when it is missing or not positive."""
    value = answer.get("expires_in")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return default
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


class CachedToken:
    """An access token, fetched again by `fetch` `early` seconds before it expires. Without
    `fetch` the given `access` token is kept as it is (it may be None: nothing configured)."""

    def __init__(self, fetch: Fetch | None, *, access: str | None = None, early: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self.access = access
        self.early = early
        self.clock = clock
        self._expires = 0.0 if fetch is not None else float("inf")
        self._lock = asyncio.Lock()

    async def get(self) -> str | None:
        async with self._lock:
            if self._fetch is not None and (self.access is None
                                            or self.clock() >= self._expires):
                access, seconds = await self._fetch()
                self.access = access
                self._expires = self.clock() + seconds - self.early
        return self.access

    def forget(self) -> None:
        """Fetch a new one next time (the network refused this one)."""
        self.access = None
