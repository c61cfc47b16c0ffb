"""A fake Google Play Developer API at the HTTP boundary: Google's OAuth 2.0 token endpoint
(the JWT bearer grant of a service account, the assertion's RS256 signature verified with the
test key's public half), and the Android Publisher API v3 reviews resource: list (pages through
`token`/`tokenPagination.nextPageToken`, only reviews changed in the last seven days), get, and
reply (the 350-character rule of service_rules.py; one developer reply per review, a new one
replaces it), with the per-app quota of 200 GETs an hour and Google's error shapes.

Payload shapes: tests/fixtures/googleplay (developers.google.com/android-publisher/api-ref/
rest/v3/reviews: Review, Comment, UserComment, DeveloperComment, Timestamp, TokenPagination,
PageInfo, ReviewReplyResult)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import parse_qs, unquote

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import fixture

TOKEN_URL = "https://oauth2.googleapis.com/token"
API_HOST = "androidpublisher.googleapis.com"
PREFIX = "/androidpublisher/v3/applications/"
PACKAGE = "com.acme.app"
EMAIL = "echtzeit-reviews@acme-play.iam.gserviceaccount.com"
GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"


@cache
def test_key() -> RSAPrivateKey:
    """The test service account's RSA key (made once per test run, never stored)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_of(key: RSAPrivateKey) -> str:
    """The private key in PKCS#8 PEM, as in Google's JSON keys."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def service_account_json(*, key: RSAPrivateKey | None = None, token_uri: str = TOKEN_URL) -> str:
    """A service-account JSON key in the layout Google Cloud downloads."""
    key = key or test_key()
    return json.dumps({
        "type": "service_account", "project_id": "acme-play",
        "private_key_id": "5d2f2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c",
        "private_key": pem_of(key),
        "client_email": EMAIL, "client_id": "104881207452312345678",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                "echtzeit-reviews%40acme-play.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"})


def google_error(code: int, status: str, message: str, reason: str | None = None) -> Any:
    """Google's JSON error body (AIP-193 with the legacy `errors` list)."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if reason:
        error["errors"] = [{"message": message, "domain": "global", "reason": reason}]
    return {"error": error}


def review_stamp(at: datetime) -> dict[str, Any]:
    return {"seconds": str(int(at.timestamp())), "nanos": at.microsecond * 1000}


def _stamp_time(raw: dict[str, Any]) -> float:
    return int(raw["seconds"]) + int(raw.get("nanos", 0)) / 1e9


class FakeGooglePlay:
    """Google's token endpoint and the reviews resource of the apps in `reviews`."""

    def __init__(self, now: Callable[[], datetime], *, public_key: RSAPublicKey | None = None,
                 page_cap: int = 2) -> None:
        self.now = now
        self.public_key = public_key or test_key().public_key()
        self.page_cap = page_cap  # Google may return fewer than maxResults; pages follow
        self.reviews: dict[str, list[dict[str, Any]]] = {PACKAGE: [
            *fixture("googleplay", "reviews_page1.json")["reviews"],
            *fixture("googleplay", "reviews_page2.json")["reviews"]]}
        self.requests: list[httpx.Request] = []
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self.assertions: list[dict[str, Any]] = []
        self.replies: list[tuple[str, str, str]] = []  # (package, review id, text) accepted
        self.refused: list[tuple[str, str, str]] = []
        self.gets: dict[str, list[datetime]] = {}
        self.gets_per_hour = 200  # "GET requests: 200 per hour" per app
        self.quota_style = 429  # or 403 (rateLimitExceeded), as Google answers either
        self.fail_reply_with: httpx.Response | None = None
        # Reviews reviews.get answers 404 for while :reply still takes them: Google does not
        # say whether get reaches reviews older than the list's week; a test can assume not.
        self.unseen_by_get: set[str] = set()

    # --- helpers for tests ----------------------------------------------------------------

    def review(self, rid: str, package: str = PACKAGE) -> dict[str, Any]:
        return next(r for r in self.reviews[package] if r["reviewId"] == rid)

    def add_review(self, rid: str, text: str, stars: int, at: datetime, *,
                   author: str = "Mia Sommer", package: str = PACKAGE) -> dict[str, Any]:
        review = copy.deepcopy(self.reviews[PACKAGE][0])
        review.update(reviewId=rid, authorName=author)
        review["comments"] = [{"userComment": {
            **review["comments"][0]["userComment"], "text": f"\t{text}",
            "lastModified": review_stamp(at), "starRating": stars}}]
        self.reviews.setdefault(package, []).insert(0, review)
        return review

    def edit(self, rid: str, text: str, stars: int, at: datetime) -> None:
        """The user edits the review: new text, stars and lastModified."""
        user = next(c["userComment"] for c in self.review(rid)["comments"]
                    if "userComment" in c)
        user.update(text=f"\t{text}", starRating=stars, lastModified=review_stamp(at))

    def expire_tokens(self) -> None:
        self.tokens.clear()

    # --- the endpoints ----------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if str(request.url.copy_with(query=None)) == TOKEN_URL:
            return self._token(request)
        if request.url.host != API_HOST or not request.url.path.startswith(PREFIX):
            return httpx.Response(404, json=google_error(404, "NOT_FOUND", "Not Found"))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
        if token is None or self.tokens.get(token, self.now()) <= self.now():
            return httpx.Response(401, json=google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. "
                "Expected OAuth 2 access token, login cookie or other valid authentication "
                "credential."), headers={"WWW-Authenticate": 'Bearer realm="https://accounts'
                                                            '.google.com/"'})
        rest = request.url.raw_path.decode().split("?")[0][len(PREFIX):]
        package, _, tail = rest.partition("/")
        package = unquote(package)
        if package not in self.reviews:
            return httpx.Response(403, json=google_error(
                403, "PERMISSION_DENIED", "The caller does not have permission",
                "forbidden"))
        if request.method == "GET":
            refusal = self._quota(package)
            if refusal is not None:
                return refusal
        if tail == "reviews" and request.method == "GET":
            return self._list(package, request.url.params)
        if tail.startswith("reviews/") and request.method == "GET":
            return self._get(package, unquote(tail.removeprefix("reviews/")))
        if tail.startswith("reviews/") and tail.endswith(":reply") and request.method == "POST":
            return self._reply(package, unquote(tail.removeprefix("reviews/")
                                                .removesuffix(":reply")), request)
        return httpx.Response(404, json=google_error(404, "NOT_FOUND", "Not Found"))

    def _token(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.headers.get(
                "content-type", "").startswith("application/x-www-form-urlencoded"):
            return httpx.Response(400, json={"error": "invalid_request",
                                             "error_description": "Bad Request"})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("grant_type") != GRANT:
            return httpx.Response(400, json={"error": "unsupported_grant_type",
                                             "error_description": "Invalid grant_type: "
                                                                  f"{form.get('grant_type')}"})
        try:
            assertion = form.get("assertion", "")
            header = jwt.get_unverified_header(assertion)
            # The signature here; audience, issuer and lifetime below, on the fake's clock.
            claims = jwt.decode(assertion, self.public_key, algorithms=["RS256"],
                                options={"verify_exp": False, "verify_iat": False,
                                         "verify_nbf": False, "verify_aud": False})
        except jwt.PyJWTError:
            return httpx.Response(400, json={"error": "invalid_grant",
                                             "error_description": "Invalid JWT Signature."})
        now = self.now().timestamp()
        self.assertions.append({"header": header, "claims": claims})
        if claims.get("aud") != TOKEN_URL:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description":
                                             "Invalid JWT: Failed audience check."})
        if claims.get("iss") != EMAIL:
            return httpx.Response(400, json={"error": "invalid_grant",
                                             "error_description": "Invalid JWT Signature."})
        iat, exp = claims.get("iat"), claims.get("exp")
        if (not isinstance(iat, int) or not isinstance(exp, int) or exp - iat > 3600
                or exp <= now or iat > now + 300):
            return httpx.Response(400, json={"error": "invalid_grant", "error_description":
                                             "Invalid JWT: Token must be a short-lived token "
                                             "(60 minutes) and in a reasonable timeframe. "
                                             "Check your iat and exp values in the JWT "
                                             "claim."})
        if SCOPE not in str(claims.get("scope", "")).split():
            return httpx.Response(400, json={"error": "invalid_scope",
                                             "error_description": "Invalid OAuth scope"})
        access = f"ya29.c.fake-{len(self.tokens) + len(self.assertions)}"
        self.tokens[access] = self.now() + timedelta(seconds=3599)
        return httpx.Response(200, json={"access_token": access, "expires_in": 3599,
                                         "token_type": "Bearer"})

    def _quota(self, package: str) -> httpx.Response | None:
        hour_ago = self.now() - timedelta(hours=1)
        recent = [t for t in self.gets.get(package, []) if t > hour_ago]
        if len(recent) >= self.gets_per_hour:
            self.gets[package] = recent
            message = ("Quota exceeded for quota metric 'Reviews GET requests' and limit "
                       "'per hour per app' of service 'androidpublisher.googleapis.com'")
            if self.quota_style == 403:
                return httpx.Response(403, json=google_error(
                    403, "PERMISSION_DENIED", message, "rateLimitExceeded"))
            return httpx.Response(429, json=google_error(
                429, "RESOURCE_EXHAUSTED", message, "rateLimitExceeded"))
        self.gets[package] = [*recent, self.now()]
        return None

    def _visible(self, package: str) -> list[dict[str, Any]]:
        """Reviews whose user comment changed in the last seven days (what the list shows),
        newest first."""
        week_ago = (self.now() - timedelta(days=7)).timestamp()
        out = []
        for review in self.reviews[package]:
            comments = review.get("comments", []) if isinstance(review, dict) else []
            user = next((c["userComment"] for c in comments
                         if isinstance(c, dict) and "userComment" in c), None)
            try:
                at = _stamp_time(user["lastModified"]) if user else 0.0
            except (KeyError, TypeError, ValueError):
                at = self.now().timestamp()  # a malformed one is shown (tests send them)
            if at >= week_ago:
                out.append((at, review))
        return [r for _, r in sorted(out, key=lambda x: -x[0])]

    def _list(self, package: str, params: httpx.QueryParams) -> httpx.Response:
        try:
            asked = int(params.get("maxResults", "10"))
            start = int(params["token"].removeprefix("page-")) if params.get("token") else 0
        except ValueError:
            return httpx.Response(400, json=google_error(400, "INVALID_ARGUMENT",
                                                         "Invalid value", "invalid"))
        if asked <= 0:
            return httpx.Response(400, json=google_error(400, "INVALID_ARGUMENT",
                                                         "Invalid maxResults", "invalid"))
        size = min(asked, self.page_cap)
        visible = self._visible(package)
        page = copy.deepcopy(visible[start:start + size])
        if params.get("translationLanguage"):
            for review in page:
                for c in review.get("comments", []) if isinstance(review, dict) else []:
                    user = c.get("userComment") if isinstance(c, dict) else None
                    if isinstance(user, dict) and user.get("reviewerLanguage") != params[
                            "translationLanguage"]:
                        user["originalText"] = user["text"]
                        user["text"] = f"[{params['translationLanguage']}] {user['text']}"
        body: dict[str, Any] = {"reviews": page, "pageInfo": {
            "totalResults": len(visible), "resultPerPage": size, "startIndex": start}}
        if start + size < len(visible):
            body["tokenPagination"] = {"nextPageToken": f"page-{start + size}"}
        return httpx.Response(200, json=body)

    def _get(self, package: str, rid: str) -> httpx.Response:
        found = [r for r in self.reviews[package]
                 if isinstance(r, dict) and r.get("reviewId") == rid]
        if not found or rid in self.unseen_by_get:
            return httpx.Response(404, json=google_error(404, "NOT_FOUND", "No review found.",
                                                         "notFound"))
        return httpx.Response(200, json=found[0])

    def _reply(self, package: str, rid: str, request: httpx.Request) -> httpx.Response:
        if self.fail_reply_with is not None:
            answer, self.fail_reply_with = self.fail_reply_with, None
            return answer
        found = [r for r in self.reviews[package]
                 if isinstance(r, dict) and r.get("reviewId") == rid]
        if not found:
            return httpx.Response(404, json=google_error(404, "NOT_FOUND", "No review found.",
                                                         "notFound"))
        try:
            body = json.loads(request.content)
        except ValueError:
            body = None
        text = body.get("replyText") if isinstance(body, dict) else None
        refusal = service_rules.googleplay_reply_text(text)
        if refusal is not None:
            self.refused.append((package, rid, str(text)))
            return httpx.Response(refusal[0], json=refusal[1])
        assert isinstance(text, str)
        self.replies.append((package, rid, text))
        edited = review_stamp(self.now())
        review = found[0]
        # One developer reply per review: a new one replaces it.
        review["comments"] = [c for c in review["comments"] if "developerComment" not in c]
        review["comments"].append({"developerComment": {"text": text, "lastModified": edited}})
        return httpx.Response(200, json={"result": {"replyText": text, "lastEdited": edited}})
