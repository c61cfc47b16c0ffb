"""The OAuth 2.0 token endpoint's contract, for services whose machine-readable description
leaves it out (X: xdevplatform/xdk's openapi.json has no /2/oauth2/token). No service publishes
one for it; the rules are those of RFC 6749, section by section, with what X's documentation
adds (docs.x.com, OAuth 2.0 Authorization Code Flow with PKCE: "POST
https://api.x.com/2/oauth2/token", Content-Type application/x-www-form-urlencoded,
`refresh_token`, `grant_type=refresh_token`, and `client_id` for a public client; a
confidential client authenticates with HTTP Basic). Each problem names the section."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote_plus

from tests.contracts.capture import Sent
from tests.contracts.validate import Problem

RFC = "RFC 6749"
# §6 (refresh) and §2.3.1 (client_secret in the body, discouraged) and X's client_id.
REFRESH_PARAMS = frozenset({"grant_type", "refresh_token", "scope", "client_id",
                            "client_secret"})
ERRORS = frozenset({"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                    "unsupported_grant_type", "invalid_scope"})  # §5.2


def check_refresh_request(service: str, sent: Sent, *, client_id: str,
                          client_secret: str | None) -> list[Problem]:
    """A refresh-token grant as RFC 6749 §6 and §2.3 have it."""
    what = f"{sent.method} {sent.path}"
    problems: list[Problem] = []
    if sent.method != "POST":
        problems.append(Problem(service, what, f"{RFC} §3.2", "the token endpoint takes POST"))
    if not sent.form or not isinstance(sent.body, dict):
        return [*problems, Problem(service, f"{what} (body)", f"{RFC} §6 and appendix B",
                                   "the parameters go form-encoded "
                                   "(application/x-www-form-urlencoded) in the body")]
    body: dict[str, Any] = sent.body
    problems += [Problem(service, f"{what} form {name}", f"{RFC} §6",
                         "not a parameter of a refresh-token request")
                 for name in sorted(set(body) - REFRESH_PARAMS)]
    if body.get("grant_type") != "refresh_token":
        problems.append(Problem(service, f"{what} form grant_type", f"{RFC} §6",
                                "must be refresh_token"))
    if not body.get("refresh_token"):
        problems.append(Problem(service, f"{what} form refresh_token", f"{RFC} §6", "required"))
    if sent.query:
        problems.append(Problem(service, f"{what} query", f"{RFC} §3.2",
                                "the token request's parameters belong in the body"))
    auth = sent.headers.get("authorization", "")
    if client_secret is not None:
        # §2.3.1: client_id and secret form-urlencoded, then joined by ":" and Base64-encoded.
        expected = base64.b64encode(
            f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()).decode()
        if auth != f"Basic {expected}":
            problems.append(Problem(service, f"{what} header Authorization", f"{RFC} §2.3.1",
                                    "a confidential client authenticates with HTTP Basic "
                                    "(client_id:client_secret, each form-urlencoded)"))
        if "client_secret" in body:
            problems.append(Problem(service, f"{what} form client_secret", f"{RFC} §2.3.1",
                                    "the secret is sent twice (Basic and the body)"))
    else:
        if auth:
            problems.append(Problem(service, f"{what} header Authorization", f"{RFC} §3.2.1",
                                    "a public client has no credentials to send"))
        if body.get("client_id") != client_id:
            problems.append(Problem(service, f"{what} form client_id", f"{RFC} §3.2.1",
                                    "a public client names itself with client_id"))
    return problems


def check_token_answer(service: str, status: int, body: Any, what: str) -> list[Problem]:
    """A successful answer (§5.1) or an error (§5.2)."""
    if not isinstance(body, dict):
        return [Problem(service, what, f"{RFC} §5.1", "the answer is a JSON object")]
    problems: list[Problem] = []
    if status == 200:
        problems += [Problem(service, f"{what}.{name}", f"{RFC} §5.1", "required string")
                     for name in ("access_token", "token_type")
                     if not isinstance(body.get(name), str) or not body[name]]
        if "expires_in" in body and (not isinstance(body["expires_in"], int)
                                     or isinstance(body["expires_in"], bool)
                                     or body["expires_in"] <= 0):
            problems.append(Problem(service, f"{what}.expires_in", f"{RFC} §5.1",
                                    "seconds, a positive number"))
        problems += [Problem(service, f"{what}.{name}", f"{RFC} §5.1", "a string")
                     for name in ("refresh_token", "scope")
                     if name in body and not isinstance(body[name], str)]
        return problems
    if status != 400 and status != 401:
        problems.append(Problem(service, what, f"{RFC} §5.2",
                                f"an error answers 400 (401 for client authentication), not "
                                f"{status}"))
    if body.get("error") not in ERRORS:
        problems.append(Problem(service, f"{what}.error", f"{RFC} §5.2",
                                f"{body.get('error')!r} is not one of {sorted(ERRORS)}"))
    if "error_description" in body and not isinstance(body["error_description"], str):
        problems.append(Problem(service, f"{what}.error_description", f"{RFC} §5.2",
                                "a string"))
    return problems
