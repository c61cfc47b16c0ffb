"""OAuth 2.0 sign-in for the e-mail network: an access token from the token endpoint, sent to
IMAP (`AUTHENTICATE XOAUTH2`) and SMTP (`AUTH XOAUTH2`) in the SASL XOAUTH2 format.

Microsoft 365 / Exchange Online refuses passwords for IMAP and SMTP; Google recommends OAuth.
Two grants (RFC 6749), through the networks' one token helper (integrations/networks/oauth.py:
Authlib encodes the form, `Api` sends it on the shared httpx client with its retries):

- client credentials (Microsoft 365, app-only): `POST https://login.microsoftonline.com/
  <tenant>/oauth2/v2.0/token` with client_id, client_secret, scope
  `https://outlook.office365.com/.default` and grant_type=client_credentials. The mailbox is
  named only in the XOAUTH2 string; Exchange lets the app in where its service principal was
  given access to that mailbox.
- refresh token (Google, or any provider): client_id, client_secret and refresh_token at the
  configured token URL.

The access token is kept (oauth.CachedToken) until `EARLY` seconds before it expires, so one
token serves every poll and reply of the next hour. The async side makes it ready before a
worker thread opens a connection (`MailToken.ready`); the thread only reads it. A token the
mail server refuses is dropped, so the next connection asks for a new one.

XOAUTH2 (developers.google.com/gmail/imap/xoauth2-protocol; Microsoft's "Authenticate an IMAP,
POP or SMTP connection using OAuth"): the client sends
base64("user=" <mailbox> "\\x01auth=Bearer " <token> "\\x01\\x01"). A server refusing it may
first send a challenge holding base64 of a JSON error ({"status":"401","schemes":"bearer",
"scope":"https://mail.google.com/"}), to which the client answers with an empty line, then NO
(IMAP) or 535 (SMTP); Exchange answers NO / 535 at once.
"""

from __future__ import annotations

import asyncio
import imaplib
import json
import logging
import smtplib
import time
from collections.abc import Callable
from typing import Any

import httpx

from integrations.networks.http_common import Api, ApiError, Sleep
from integrations.networks.oauth import CachedToken, TokenEndpoint, lifetime

log = logging.getLogger(__name__)

MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
LIFETIME = 3599.0  # seconds, when an answer leaves out expires_in (both providers give ~1 h)
EARLY = 300.0  # fetch a new token this long before the old one expires

MICROSOFT_ACCESS = ("for Microsoft 365: the app needs the Office 365 Exchange Online "
                    "application permissions IMAP.AccessAsApp and SMTP.SendAsApp with admin "
                    "consent, its service principal registered in Exchange "
                    "(New-ServicePrincipal) and FullAccess to the mailbox "
                    "(Add-MailboxPermission); for Google: the refresh token must have been "
                    "granted the https://mail.google.com/ scope for this mailbox")


class TokenError(Exception):
    """No access token could be had (the message names the setting to fix, never a secret)."""


class MailToken:
    """The mailbox's OAuth 2.0 access token, fetched by one grant and cached."""

    def __init__(self, client: httpx.AsyncClient, *, token_url: str, client_id: str,
                 client_secret: str, refresh_token: str | None = None,
                 scope: str | None = None, sleep: Sleep = asyncio.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.grant = "refresh_token" if refresh_token else "client_credentials"
        self.scope = scope if scope is not None else (
            None if refresh_token else MICROSOFT_SCOPE)
        self._refresh = refresh_token
        # Both Microsoft and Google take the client's id and secret in the form.
        self.endpoint = TokenEndpoint(Api(client, token_url, sleep=sleep, attempts=3,
                                          backoff_cap=10.0), token_url,
                                      client_id=client_id, client_secret=client_secret,
                                      method="client_secret_post")
        self._cache = CachedToken(self._fetch, early=EARLY, clock=clock)

    def __repr__(self) -> str:
        return f"MailToken({self.grant} at {self.token_url})"

    async def ready(self) -> str:
        """A token valid for at least EARLY seconds more (fetched when needed)."""
        token = await self._cache.get()
        assert token is not None  # CachedToken with a fetch always has one
        return token

    @property
    def access(self) -> str | None:
        """The token made ready last (None: none yet, or the server refused it)."""
        return self._cache.access

    def forget(self) -> None:
        """The mail server refused the token: fetch a new one next time."""
        self._cache.forget()

    async def _fetch(self) -> tuple[str, float]:
        params: dict[str, str] = {}
        if self._refresh:
            params["refresh_token"] = self._refresh
        if self.scope:
            params["scope"] = self.scope
        try:
            response = await self.endpoint.request(self.grant, headers=None, **params)
        except ApiError as exc:
            raise TokenError(self._refusal(exc)) from None
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        access = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(access, str) or not access or \
                str(answer.get("token_type", "")).lower() != "bearer":
            raise TokenError(f"the token endpoint {self.token_url} answered without a bearer "
                             "access token")
        seconds = lifetime(answer, LIFETIME)
        log.info("email: got an OAuth access token (%s grant), valid for %.0f s", self.grant,
                 seconds)
        return access, seconds

    def _refusal(self, exc: ApiError) -> str:
        body = exc.body if isinstance(exc.body, dict) else {}
        error = str(body.get("error") or "")
        said = ": ".join(str(p) for p in (error, body.get("error_description")) if p) \
            or exc.message
        said = said.split("\r\n")[0].split("\n")[0][:300]
        where = f"the token endpoint {self.token_url} refused the {self.grant} grant ({said})"
        if error in ("invalid_client", "unauthorized_client"):
            return (f"{where}: check ECHTZEIT_EMAIL_OAUTH_CLIENT_ID and "
                    "ECHTZEIT_EMAIL_OAUTH_CLIENT_SECRET (the secret's value, not its id; "
                    "secrets expire)" + ("" if self._refresh else
                                         " and ECHTZEIT_EMAIL_OAUTH_TENANT"))
        if error == "invalid_grant":
            return (f"{where}: the refresh token was revoked or has expired; authorize the "
                    "mailbox again and put the new one in ECHTZEIT_EMAIL_OAUTH_REFRESH_TOKEN")
        if error == "invalid_scope":
            return f"{where}: check ECHTZEIT_EMAIL_OAUTH_SCOPE"
        if exc.status == 404 or error == "invalid_request":
            return (f"{where}: check ECHTZEIT_EMAIL_OAUTH_TENANT and "
                    "ECHTZEIT_EMAIL_OAUTH_TOKEN_URL")
        return where


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial client response, before base64."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _said(challenge: bytes | None) -> str:
    """The JSON error a server put in its challenge, shortened ("" when none)."""
    if not challenge:
        return ""
    try:
        body = json.loads(challenge)
    except ValueError:
        return challenge.decode("utf-8", "replace")[:200]
    if isinstance(body, dict):
        return ", ".join(f"{k} {v}" for k, v in body.items())[:200]
    return str(body)[:200]


class Refused(Exception):
    """The mail server refused the XOAUTH2 sign-in."""


def imap_sign_in(imap: imaplib.IMAP4, user: str, token: str) -> None:
    """AUTHENTICATE XOAUTH2; raises Refused (what the server said) or imaplib's error."""
    if "AUTH=XOAUTH2" not in imap.capabilities:
        raise Refused(f"the server does not offer AUTH=XOAUTH2 (it offers "
                      f"{' '.join(imap.capabilities)[:200]}): use ECHTZEIT_EMAIL_AUTH=password")
    challenges: list[bytes] = []

    def respond(challenge: bytes) -> bytes:
        challenges.append(challenge)
        # First the XOAUTH2 string (to the empty "+ "), then the empty answer to an error
        # challenge (the server says NO after it).
        return xoauth2(user, token).encode() if len(challenges) == 1 else b""

    try:
        imap.authenticate("XOAUTH2", respond)
    except imaplib.IMAP4.abort:
        raise  # the connection broke: not a refusal
    except imaplib.IMAP4.error as exc:
        error = _said(challenges[-1] if len(challenges) > 1 else None)
        raise Refused(f"{exc}" + (f" ({error})" if error else "")) from None


def smtp_sign_in(smtp: smtplib.SMTP, user: str, token: str) -> None:
    """AUTH XOAUTH2 with the initial response; raises Refused or smtplib's errors."""
    smtp.ehlo_or_helo_if_needed()
    offered = smtp.esmtp_features.get("auth", "").upper().split()
    if "XOAUTH2" not in offered:
        raise Refused(f"the server does not offer AUTH XOAUTH2 (it offers "
                      f"{' '.join(offered) or 'no AUTH'}): use ECHTZEIT_EMAIL_AUTH=password")
    challenges: list[bytes] = []

    def respond(challenge: bytes | None = None) -> str:
        if challenge is None:
            return xoauth2(user, token)
        challenges.append(challenge)
        return ""

    try:
        smtp.auth("XOAUTH2", respond, initial_response_ok=True)
    except smtplib.SMTPAuthenticationError as exc:
        error = _said(challenges[-1] if challenges else None)
        said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        raise Refused(f"{exc.smtp_code} {said[:200]}"
                      + (f" ({error})" if error else "")) from None
