"""OAuth 2.0 for the e-mail tests: a strict fake token endpoint (httpx.MockTransport) and the
SASL XOAUTH2 check the fake IMAP server (testkit/fake_imap.py) and an aiosmtpd handler
(`XOAuth2Smtp`) make with the tokens it gave.

The token endpoint speaks like the two real ones:
- Microsoft identity platform v2.0, `POST /{tenant}/oauth2/v2.0/token`, client-credentials
  grant: client_id, client_secret, scope (a resource's `/.default`), grant_type; a wrong secret
  is 401 `invalid_client` (AADSTS7000215), an unknown app 400 `unauthorized_client`
  (AADSTS700016), a scope without `/.default` 400 `invalid_scope` (AADSTS1002012); the answer
  {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": ...}.
- Google, `POST /token`, refresh-token grant: client_id, client_secret, refresh_token; a
  revoked refresh token is 400 `invalid_grant` ("Token has been expired or revoked."), a wrong
  client 401 `invalid_client`; the answer {"access_token", "expires_in": 3599, "scope",
  "token_type": "Bearer"}.
Both want a form body (application/x-www-form-urlencoded) and nothing else.

A token is good for `lifetime` seconds of the injected `clock` (the same clock the client's
cache uses), for the one mailbox `mailbox`; `revoke()` makes the mail servers refuse them all.
A refused XOAUTH2 sign-in gets the error challenge Gmail sends (base64 of {"status": "401",
"schemes": "bearer", "scope": ...}), then NO / 535 after the client's empty answer.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"


@dataclass
class TokenIssuer:
    """The token endpoint's rules and the tokens it gave."""

    kind: str  # "microsoft" | "google"
    client_id: str
    client_secret: str
    mailbox: str
    clock: Callable[[], float]
    tenant: str = "contoso.onmicrosoft.com"
    refresh_token: str = ""
    lifetime: int = 3599
    issued: dict[str, float] = field(default_factory=dict)  # token -> expires at (clock)
    forms: list[dict[str, str]] = field(default_factory=list)  # every request's form
    accepted: int = 0  # XOAUTH2 sign-ins accepted (IMAP and SMTP)
    refused: int = 0  # XOAUTH2 sign-ins refused
    # Services the app may not use ("smtp": no SMTP.SendAsApp consent): refused there.
    denied: set[str] = field(default_factory=set)

    @property
    def scope(self) -> str:
        return MICROSOFT_SCOPE if self.kind == "microsoft" else GOOGLE_SCOPE

    @property
    def url(self) -> str:
        if self.kind == "microsoft":
            return f"https://login.microsoftonline.com/{self.tenant}/oauth2/v2.0/token"
        return "https://oauth2.googleapis.com/token"

    def revoke(self) -> None:
        self.issued.clear()

    # --- the token endpoint ------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) != self.url:
            return httpx.Response(404, json={"error": "not_found"})
        if request.method != "POST":
            return _error(405, "invalid_request", "The request method must be POST.")
        if request.headers.get("content-type", "").split(";")[0] != \
                "application/x-www-form-urlencoded":
            return _error(400, "invalid_request", "The request body must contain the "
                                                  "following parameter: 'grant_type'.")
        parsed = parse_qs(request.content.decode(), keep_blank_values=True, strict_parsing=True)
        if any(len(v) != 1 for v in parsed.values()):
            return _error(400, "invalid_request", "A parameter was given twice.")
        form = {k: v[0] for k, v in parsed.items()}
        self.forms.append(form)
        if "authorization" in request.headers:
            return _error(401, "invalid_client", "Use one client authentication method.")
        if self.kind == "microsoft":
            return self._microsoft(form)
        return self._google(form)

    def _microsoft(self, form: dict[str, str]) -> httpx.Response:
        if form.get("grant_type") != "client_credentials":
            return _error(400, "unsupported_grant_type", "AADSTS70003: The app requested an "
                                                         "unsupported grant type.")
        if form.get("client_id") != self.client_id:
            return _error(400, "unauthorized_client",
                          f"AADSTS700016: Application with identifier "
                          f"'{form.get('client_id')}' was not found in the directory "
                          f"'{self.tenant}'.")
        if form.get("client_secret") != self.client_secret:
            return _error(401, "invalid_client",
                          f"AADSTS7000215: Invalid client secret provided. Ensure the secret "
                          f"being sent in the request is the client secret value, not the "
                          f"client secret ID, for a secret added to app '{self.client_id}'.")
        scope = form.get("scope", "")
        if not scope.endswith("/.default") or set(form) != {
                "client_id", "client_secret", "scope", "grant_type"}:
            return _error(400, "invalid_scope",
                          f"AADSTS1002012: The provided value for scope {scope} is not valid. "
                          f"Client credential flows must have a scope value with /.default "
                          f"suffixed to the resource identifier (application ID URI).")
        # A JWT's length (header, claims, signature): 1.5 to 2.5 KB for Exchange Online.
        token = self._issue("eyJ0eXAiOiJKV1QiLCJub25jZSI6IjEyMyIsImFsZyI6IlJTMjU2In0."
                            + secrets.token_urlsafe(1200))
        return httpx.Response(200, json={"token_type": "Bearer", "expires_in": self.lifetime,
                                         "ext_expires_in": self.lifetime,
                                         "access_token": token})

    def _google(self, form: dict[str, str]) -> httpx.Response:
        if form.get("grant_type") != "refresh_token":
            return _error(400, "unsupported_grant_type", "Invalid grant_type: "
                                                         f"{form.get('grant_type')}")
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id,
                                                                  self.client_secret):
            return _error(401, "invalid_client", "Unauthorized")
        if form.get("refresh_token") != self.refresh_token or not self.refresh_token:
            return _error(400, "invalid_grant", "Token has been expired or revoked.")
        if "scope" in form and form["scope"] != GOOGLE_SCOPE:
            return _error(400, "invalid_scope", "Some requested scopes were invalid.")
        token = self._issue("ya29.")
        return httpx.Response(200, json={"access_token": token, "expires_in": self.lifetime,
                                         "scope": GOOGLE_SCOPE, "token_type": "Bearer"})

    def _issue(self, prefix: str) -> str:
        token = prefix + secrets.token_urlsafe(24)
        self.issued[token] = self.clock() + self.lifetime
        return token

    # --- XOAUTH2 ------------------------------------------------------------------------------

    def check(self, response: bytes, *, username: str, service: str = "imap") -> str | None:
        """The decoded XOAUTH2 initial response: None when it signs `username` in, else the
        JSON error the server sends back in its challenge."""
        try:
            text = response.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        fields = text.split("\x01")
        ok = False
        if len(fields) == 4 and fields[2:] == ["", ""] and fields[0].startswith("user=") \
                and fields[1].startswith("auth=Bearer "):
            user, token = fields[0][5:], fields[1][len("auth=Bearer "):]
            expires = self.issued.get(token)
            ok = (user.lower() == username.lower() == self.mailbox.lower()
                  and expires is not None and self.clock() < expires
                  and service not in self.denied)
        if ok:
            self.accepted += 1
            return None
        self.refused += 1
        return json.dumps({"status": "401", "schemes": "bearer", "scope": self.scope})


def _error(status: int, error: str, description: str) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "error_description": description})


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


class XOAuth2Smtp:
    """An aiosmtpd handler mix-in: AUTH XOAUTH2 (RFC 4954 with an initial response or after an
    empty 334), checked by `issuer`; a refusal is the 334 error challenge, then 535."""

    issuer: TokenIssuer
    smtp_user: str

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> Any:
        from aiosmtpd.smtp import MISSING, AuthResult

        if len(args) == 1:
            blob = await server.challenge_auth("")
            if blob is MISSING:
                return AuthResult(success=False, handled=True)
        else:
            try:
                blob = base64.b64decode(args[1].encode(), validate=True)
            except ValueError:
                await server.push("501 5.5.2 Can't decode base64")
                return AuthResult(success=False, handled=True)
        error = self.issuer.check(blob, username=self.smtp_user, service="smtp")
        if error is None:
            return AuthResult(success=True, auth_data=self.smtp_user)
        answer = await server.challenge_auth(error)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        if answer != b"":
            await server.push("501 5.5.2 expected an empty answer to the error challenge")
            return AuthResult(success=False, handled=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.3 Authentication unsuccessful")


def rfc4954_controller(handler: Any, **kwargs: Any) -> Any:
    """An aiosmtpd Controller whose server takes AUTH lines of up to 12,288 octets (RFC 4954
    section 4), as Exchange Online and Gmail do: an XOAUTH2 initial response carrying a
    Microsoft access token (a JWT of 1.5 to 2.5 KB) is longer than aiosmtpd's 512-octet
    command default."""
    import collections

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class Server(SMTP):
        line_length_limit = AUTH_LINE + 2

        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            # aiosmtpd keeps the limits in a class-wide dict: give this server its own.
            self.command_size_limits = collections.defaultdict(
                lambda: SMTP.command_size_limit)
            self.command_size_limits["AUTH"] = AUTH_LINE

    class RfcController(Controller):
        def factory(self) -> Any:
            return Server(self.handler, **self.SMTP_kwargs)

    return RfcController(handler, **kwargs)


AUTH_LINE = 12_288
