"""What each network's server enforces on the text of a reply, and how it says no, as the fakes
apply it (issue 14: the fakes are as strict as the services).

Written from the services' own sources and documentation, NOT from Echtzeit's client code: a
fake that reused the client's counting could never catch the client counting wrong. Each rule
names its source; docs/networks.md ("Reply limits and how the fakes enforce them") has the same
table for readers. Every function returns None when the server would accept the text, else
the (HTTP status, JSON body) the server answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import regex

Refusal = tuple[int, Any]

# --- Mastodon ---------------------------------------------------------------------------------
# mastodon/mastodon app/validators/status_length_validator.rb: a local status may have
# MAX_CHARS (500; what /api/v2/instance reports as configuration.statuses.max_characters)
# grapheme clusters (`each_grapheme_cluster.size`) after `countable_text` replaced each link
# with a scheme by URL_PLACEHOLDER ("x" * 23, characters_reserved_per_url) and each mention by
# "@" + its user name. Links as config/initializers/twitter_regex.rb defines valid_url (path
# characters, the characters a path may end with, one level of balanced parentheses, the query);
# mentions as app/models/account.rb MENTION_RE and app/lib/extractor.rb (not followed by "@", a
# Latin accented letter or "://"); overlapping entities: the earlier one stays (twitter-text
# remove_overlapping_entities). Refusal: 422 {"error": "Validation failed: Text character limit
# of 500 exceeded"} (config/locales/en.yml statuses.over_character_limit, through
# ActiveRecord::RecordInvalid). The fake does not know twitter-text's TLD list: any host with a
# dot counts as a link.
MASTODON_LIMIT = 500
MASTODON_URL_WEIGHT = 23

_GENERAL = r"[^\p{White_Space}<>()?]"
_BALANCED = rf"\((?:{_GENERAL}+|{_GENERAL}*\({_GENERAL}+\){_GENERAL}*)\)"
_PATH_END = rf"(?:[^\p{{White_Space}}()?!*\"'「」<>;:=,.$%\[\]~&|@]|{_BALANCED})"
_PATH = rf"(?:{_GENERAL}*(?:{_BALANCED}{_GENERAL}*)*{_PATH_END}|{_GENERAL}+/)"
_UCHARS = (r"\u00a0-\ud7ff\ue000-\uf8ff\uf900-\ufdcf\ufdf0-\uffef"
           r"\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd"
           r"\U00040000-\U0004fffd\U00050000-\U0005fffd\U00060000-\U0006fffd"
           r"\U00070000-\U0007fffd\U00080000-\U0008fffd\U00090000-\U0009fffd"
           r"\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
           r"\U000d0000-\U000dfffd\U000e1000-\U000efffd\U000f0000-\U000ffffd"
           r"\U00100000-\U0010fffd")
_QUERY = (rf"\?[a-z0-9!?*'();:&=+$/%#\[\]\-_.,~|@^{_UCHARS}]*"
          rf"[a-z0-9_&=#/\-{_UCHARS}]")
_VALID_URL = regex.compile(
    r"(?<![A-Z0-9@＠$#＃])"
    r"(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
    r"[\w-]+(?:\.[\w-]+)+(?::[0-9]+)?"
    rf"(?:/{_PATH}*)?(?:{_QUERY})?",
    regex.IGNORECASE)
_MENTION_RE = regex.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w.-]+\w+)?)",
    regex.IGNORECASE)
_END_MENTION = regex.compile(
    r"[@＠\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f\u0300-\u036f\u1e00-\u1eff]|://")


def mastodon_counted(text: str, url_weight: int = MASTODON_URL_WEIGHT) -> int:
    """The length StatusLengthValidator compares with the limit."""
    if not text.strip():
        return 0
    entities = [(m.start(), m.end(), "x" * url_weight) for m in _VALID_URL.finditer(text)]
    entities += [(m.start(), m.end(), "@" + m.group(1).split("@")[0])
                 for m in _MENTION_RE.finditer(text) if not _END_MENTION.match(text, m.end())]
    entities.sort(key=lambda e: e[0])
    kept: list[tuple[int, int, str]] = []
    for entity in entities:
        if kept and kept[-1][1] > entity[0]:
            continue
        kept.append(entity)
    out, at = "", 0
    for start, end, replacement in kept:
        out += text[at:start] + replacement
        at = end
    out += text[at:]
    return len(regex.findall(r"\X", out))


def mastodon_status(text: Any, limit: int = MASTODON_LIMIT,
                    url_weight: int = MASTODON_URL_WEIGHT) -> Refusal | None:
    if not isinstance(text, str) or not text.strip():
        return 422, {"error": "Validation failed: Text can't be blank"}
    if mastodon_counted(text, url_weight) > limit:
        return 422, {"error": f"Validation failed: Text character limit of {limit} exceeded"}
    return None


# --- Bluesky ----------------------------------------------------------------------------------
# bluesky-social/atproto lexicons/app/bsky/feed/post.json: "text": {"type": "string",
# "maxLength": 3000, "maxGraphemes": 300}. A lexicon string's maxLength counts UTF-8 bytes
# (atproto's lexicon validator: utf8Len), maxGraphemes grapheme clusters; the byte limit is
# checked first. The PDS refuses the createRecord with 400 {"error": "InvalidRequest",
# "message": "Invalid app.bsky.feed.post record: Record/text must not be longer than 300
# graphemes"} (packages/pds repo/prepare.ts wraps the lexicon's ValidationError in
# InvalidRecordError, which createRecord answers as InvalidRequest).
BLUESKY_MAX_BYTES = 3000
BLUESKY_MAX_GRAPHEMES = 300


def bluesky_post_text(text: Any) -> Refusal | None:
    def invalid(why: str) -> Refusal:
        return 400, {"error": "InvalidRequest",
                     "message": f"Invalid app.bsky.feed.post record: Record/text {why}"}

    if not isinstance(text, str):
        return invalid("must be a string")
    if len(text.encode("utf-8")) > BLUESKY_MAX_BYTES:
        return invalid(f"must not be longer than {BLUESKY_MAX_BYTES} characters")
    if len(regex.findall(r"\X", text)) > BLUESKY_MAX_GRAPHEMES:
        return invalid(f"must not be longer than {BLUESKY_MAX_GRAPHEMES} graphemes")
    return None


# --- Reddit -----------------------------------------------------------------------------------
# reddit-archive/reddit r2/r2/controllers/api.py POST_comment validates
# `VMarkdownLength(['text', 'comment'], max_length=10000)`; r2/r2/lib/validator/validator.py
# VLength: empty or only whitespace -> NO_TEXT, `len(text) > max_length` (code points of the
# decoded form field) -> TOO_LONG; r2/r2/lib/errors.py: "we need something here", "this is too
# long (max: %(max_length)s)". `api_type=json` answers HTTP 200 with the errors as
# {"json": {"errors": [[code, message, field]]}}.
REDDIT_MAX_COMMENT = 10_000


def reddit_comment_errors(text: str) -> list[list[str]]:
    if not text or not text.strip():
        return [["NO_TEXT", "we need something here", "text"]]
    if len(text) > REDDIT_MAX_COMMENT:
        return [["TOO_LONG", f"this is too long (max: {REDDIT_MAX_COMMENT})", "text"]]
    return []


# --- GitHub -----------------------------------------------------------------------------------
# An issue or discussion comment body may have 65,536 characters: GitHub's validation message
# names it ("Body is too long (maximum is 65536 characters)"), e.g. in the 422s quoted by
# danger/danger#424, telia-oss/github-pr-resource#259 and docker/scout-action#66. REST answers
# 422 {"message": "Validation Failed", "errors": [{"resource": "IssueComment", "code":
# "unprocessable", "field": "data", "message": "Body is too long (maximum is 65536
# characters)"}], "documentation_url": ..., "status": "422"}; GraphQL answers 200 with the
# mutation's field null and the message in `errors` (type UNPROCESSABLE). Counted in characters
# (Ruby String#length: code points). Some measurements (dead-claudia/github-limits#13) suggest
# github.com now accepts up to 262,144 UTF-8 bytes; 65,536 code points never exceed that.
GITHUB_MAX_BODY = 65_536
GITHUB_TOO_LONG = f"Body is too long (maximum is {GITHUB_MAX_BODY} characters)"


def github_issue_comment(body: Any) -> Refusal | None:
    if isinstance(body, str) and len(body) <= GITHUB_MAX_BODY:
        return None
    return 422, {"message": "Validation Failed",
                 "errors": [{"resource": "IssueComment", "code": "unprocessable",
                             "field": "data", "message": GITHUB_TOO_LONG}],
                 "documentation_url": "https://docs.github.com/rest/issues/comments"
                                      "#create-an-issue-comment",
                 "status": "422"}


def github_discussion_comment(body: Any) -> Refusal | None:
    if isinstance(body, str) and len(body) <= GITHUB_MAX_BODY:
        return None
    return 200, {"data": {"addDiscussionComment": None},
                 "errors": [{"type": "UNPROCESSABLE", "path": ["addDiscussionComment"],
                             "locations": [{"line": 3, "column": 3}],
                             "message": GITHUB_TOO_LONG}]}


# --- YouTube ----------------------------------------------------------------------------------
# https://developers.google.com/youtube/v3/docs/comments/insert, "Errors": badRequest (400)
# commentTextRequired ("...must specify a value for the snippet.textOriginal property. Comments
# cannot be empty.") and commentTextTooLong ("The comment resource that is being inserted
# contains too many characters in the snippet.textOriginal property."), in Google's error shape
# {"error": {"code", "message", "errors": [{"message", "domain", "reason"}]}}. The reference
# names no number: 10,000 characters is YouTube's comment limit as commonly reported, counted
# here in code points (Google does not say how it counts).
YOUTUBE_MAX_COMMENT = 10_000


def _google_error(code: int, reason: str, message: str) -> Refusal:
    return code, {"error": {"code": code, "message": message, "errors": [
        {"message": message, "domain": "youtube.comment", "reason": reason}]}}


def youtube_comment_text(text: Any) -> Refusal | None:
    if not isinstance(text, str) or not text.strip():
        return _google_error(400, "commentTextRequired",
                             "The comment resource that is being inserted must specify a "
                             "value for the snippet.textOriginal property. Comments cannot "
                             "be empty.")
    if len(text) > YOUTUBE_MAX_COMMENT:
        return _google_error(400, "commentTextTooLong",
                             "The comment resource that is being inserted contains too many "
                             "characters in the snippet.textOriginal property.")
    return None


# --- Facebook and Instagram (Graph API) ------------------------------------------------------
# Meta's Graph API reference for POST /{object-id}/comments, /{ig-comment-id}/replies and
# /{ig-user-id}/mentions names no length for `message`. Facebook: 8,000 characters (the
# comment box's limit as commonly reported); Instagram: 2,200 (Instagram's limit for captions
# and comments). A bad parameter is refused with 400 and Graph's error object {"error":
# {"message": "(#100) ...", "type": "OAuthException", "code": 100, "fbtrace_id": ...}}
# (developers.facebook.com/docs/graph-api/guides/error-handling: code 100, invalid parameter);
# the wording of the message is the fake's. Counted in code points.
FACEBOOK_MAX_COMMENT = 8_000
# A Page post's message (POST /{page-id}/feed): 63,206 characters, the limit Facebook states for
# a post (Meta Help Center, "character limit for a post"); refused like a comment, 400 code 100.
FACEBOOK_MAX_POST = 63_206
INSTAGRAM_MAX_COMMENT = 2_200


def graph_message(text: Any, limit: int) -> Refusal | None:
    if isinstance(text, str) and text.strip() and len(text) <= limit:
        return None
    why = (f"must be at most {limit} characters long" if isinstance(text, str)
           and text.strip() else "is required")
    return 400, {"error": {"message": f"(#100) Param message {why}", "type": "OAuthException",
                           "code": 100, "fbtrace_id": "AbCdEfGhIjK"}}


# --- Lemmy ------------------------------------------------------------------------------------
# LemmyNet/lemmy 0.19.x crates/api_crud/src/comment/create.rs checks the content with
# crates/utils/src/utils/validation.rs is_valid_body_field(content, false): BODY_MAX_LENGTH =
# 10000, counted by max_length_check in UTF-16 code units (`item.encode_utf16().count()`, as
# an HTML maxlength counts), refused with LemmyErrorType::InvalidBodyField. Errors are
# serialized `#[serde(tag = "error", content = "message", rename_all = "snake_case")]`
# (crates/utils/src/error.rs) with HTTP 400 (401 for incorrect_login, 404 for not found):
# 400 {"error": "invalid_body_field"}. The rate limiter (crates/utils/src/rate_limit/mod.rs)
# answers with the same error shape: 400 {"error": "rate_limit_error"}, no Retry-After; the
# default buckets (migrations/2022-10-06-183632_move_blocklist_to_db: local_site_rate_limit) are
# comment 6 per 600 s, search 60 per 600 s, message (the other API calls) 180 per 60 s,
# register (which login shares) 3 per 3600 s.
LEMMY_MAX_COMMENT = 10_000
LEMMY_RATE_LIMITED: Refusal = (400, {"error": "rate_limit_error"})


def lemmy_comment_content(content: Any) -> Refusal | None:
    if not isinstance(content, str):
        return 400, {"error": "invalid_body_field"}
    if len(content.encode("utf-16-le")) // 2 > LEMMY_MAX_COMMENT:
        return 400, {"error": "invalid_body_field"}
    return None


# --- Stack Exchange ---------------------------------------------------------------------------
# api.stackexchange.com/docs/error-handling: every error is {"error_id", "error_message",
# "error_name"}; 400 bad_parameter, 502 throttle_violation (HTTP status = error_id).
# api.stackexchange.com/docs/throttle: a response may carry `backoff` (seconds); calling the
# same method before it has passed is a throttle violation. A comment (the site's comment rules,
# which /posts/{id}/comments/add applies) has at least 15 and at most 600 characters (counted
# here in code points after trimming the ends); the error_message wording is the fake's.
STACKEXCHANGE_MIN_COMMENT = 15
STACKEXCHANGE_MAX_COMMENT = 600


def stackexchange_error(error_id: int, name: str, message: str) -> Refusal:
    return error_id, {"error_id": error_id, "error_message": message, "error_name": name}


def stackexchange_comment_body(body: Any) -> Refusal | None:
    text = body.strip() if isinstance(body, str) else ""
    if len(text) < STACKEXCHANGE_MIN_COMMENT:
        return stackexchange_error(
            400, "bad_parameter",
            f"body must be at least {STACKEXCHANGE_MIN_COMMENT} characters")
    if len(text) > STACKEXCHANGE_MAX_COMMENT:
        return stackexchange_error(
            400, "bad_parameter",
            f"body cannot be longer than {STACKEXCHANGE_MAX_COMMENT} characters")
    return None


def stackexchange_backoff_violation(method: str) -> Refusal:
    return stackexchange_error(502, "throttle_violation",
                               f"Violation of backoff parameter on {method}")


# --- Meta: hiding comments ----------------------------------------------------------------
# Facebook: POST /{comment-id} with is_hidden=true|false, a Page access token with
# pages_manage_engagement (developers.facebook.com/docs/graph-api/reference/comment, "Updating").
# Instagram: POST /{ig-comment-id} with hide=true|false, instagram_manage_comments
# (developers.facebook.com/docs/instagram-api/guides/comment-moderation; reference
# ig-comment, "Updating"); both answer {"success": true}. A missing permission is a permission
# error (developers.facebook.com/docs/graph-api/guides/error-handling: code 10 "Application
# does not have permission for this action", codes 200-299 "Permission error"), e.g. 403
# {"error": {"message": "(#200) ...", "type": "OAuthException", "code": 200, "fbtrace_id"}}.
# Comments their own account wrote cannot be hidden (the API refuses, code 100 here; the
# wording of the messages is the fake's).


def graph_permission_error(permission: str, code: int = 200) -> Refusal:
    return 403, {"error": {
        "message": f"(#{code}) Requires {permission} permission to manage the object",
        "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEfGhIjK"}}


def graph_hide_param(form: dict[str, list[str]], param: str) -> Refusal | None:
    value = (form.get(param) or [""])[0]
    if value in ("true", "false"):
        return None
    return 400, {"error": {"message": f"(#100) Param {param} must be a boolean",
                           "type": "OAuthException", "code": 100, "fbtrace_id": "AbCdEfGhIjK"}}


# --- Threads ----------------------------------------------------------------------------------
# Threads API reference, "Publishing" (POST /{threads-user-id}/threads): `text` "Uses UTF-8
# encoding"; the post character limit is 500 ("Post to Threads": text posts "limited to 500
# characters") and "for the post character limit, emojis are counted as the number of UTF-8
# bytes". Here: grapheme clusters that carry an emoji (an Extended_Pictographic code point or a
# regional-indicator flag) weigh their UTF-8 bytes, every other code point one. A bad parameter
# is a Graph error 400 code 100 (the wording is the fake's). Replies: 1,000 published in a
# moving 24 hours per profile ("Reply Management", rate limits; GET /{user-id}/
# threads_publishing_limit shows reply_quota_usage and reply_config). Threads names no error for
# the used-up quota: the fake answers with Instagram's content-publishing limit error (code 9,
# subcode 2207042). Keyword search: 2,200 queries per user in a rolling 24 hours across apps,
# a query without results not counted ("Keyword and Topic Tag Search", limitations, updated
# January 2026; earlier versions said 500 in a rolling 7 days); Threads names no error for it:
# the fake answers code 613 ("Calls to this api have exceeded the rate limit", Graph's
# documented code). Publishing a container that is not there yet is 400 code 24 subcode
# 4279009 "The requested resource does not exist" / "Media Not Found" (as live answers quoted
# in fbsamples/threads_api#70 and trypostit/trypost#280 show).
THREADS_MAX_TEXT = 500
THREADS_MAX_REPLIES = 1_000
THREADS_SEARCH_QUOTA = 2_200
_THREADS_EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")


def threads_counted(text: str) -> int:
    return sum(len(cluster.encode("utf-8")) if _THREADS_EMOJI.search(cluster) else len(cluster)
               for cluster in regex.findall(r"\X", text))


def graph_error(status: int, code: int, message: str, *, subcode: int | None = None,
                kind: str = "OAuthException") -> Refusal:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code,
                             "fbtrace_id": "AqTQ9bLw0Xr"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return status, {"error": error}


def threads_text(text: Any) -> Refusal | None:
    if not isinstance(text, str) or not text.strip():
        return graph_error(400, 100, "(#100) The parameter text is required for a TEXT post")
    if threads_counted(text) > THREADS_MAX_TEXT:
        return graph_error(400, 100, f"(#100) The parameter text must be at most "
                                     f"{THREADS_MAX_TEXT} characters long")
    return None


THREADS_MEDIA_NOT_FOUND = graph_error(400, 24, "The requested resource does not exist",
                                      subcode=4279009)
THREADS_REPLY_QUOTA = graph_error(400, 9, "Application request limit reached: the profile "
                                          "published its 1000 replies in 24 hours",
                                  subcode=2207042)
THREADS_SEARCH_LIMIT = graph_error(400, 613, "Calls to this api have exceeded the rate limit.")
# Calls: "Calls within 24 hours = 4800 * Number of Impressions" per user (Threads overview,
# "Rate Limits"); Threads names no error for it: the fake answers Graph's user-level throttling
# code 17 ("User request limit reached").
THREADS_CALLS_PER_IMPRESSION = 4_800
THREADS_CALL_LIMIT = graph_error(400, 17, "User request limit reached")
THREADS_INVALID_TOKEN = graph_error(400, 190, "Invalid OAuth access token - Cannot parse "
                                              "access token")
# Long-lived tokens ("Long-Lived Access Tokens"): valid for 60 days; GET /refresh_access_token
# (grant_type=th_refresh_token) refreshes one "at least 24 hours old but not expired", the new
# one valid for 60 days from then; "tokens that have not been refreshed in 60 days will expire
# and can no longer be refreshed". Threads names no error for a token refreshed too early: the
# fake answers Graph's invalid-parameter code 100. An expired token is Graph's code 190 with
# subcode 463 ("Session has expired").
THREADS_TOKEN_LIFETIME = timedelta(days=60)
THREADS_REFRESH_MIN_AGE = timedelta(hours=24)
THREADS_TOKEN_TOO_YOUNG = graph_error(400, 100, "(#100) The access token must be at least 24 "
                                                "hours old to be refreshed")


def threads_token_expired(at: datetime) -> Refusal:
    return graph_error(400, 190, "Error validating access token: Session has expired on "
                                 f"{at:%A, %d-%b-%y %H:%M:%S} UTC.", subcode=463)


# --- App Store Connect --------------------------------------------------------------------
# developer.apple.com/documentation/appstoreconnectapi: errors are an ErrorResponse {"errors":
# [{"id", "status", "code", "title", "detail", "source"?}]} ("Interpreting and Handling
# Errors"). Tokens ("Generating Tokens for API Requests"): ES256, header kid (the key id) and
# typ JWT, claims iss (issuer id), iat, exp, aud "appstoreconnect-v1"; "tokens that have an
# expiration time greater than 20 minutes into the future are not valid"; a bad, expired or
# too-long token is 401 NOT_AUTHORIZED (title and detail as in
# tests/fixtures/appstore/not_authorized.json). Rate limits ("Identifying Rate Limits"): every
# answer has `X-Rate-Limit: user-hour-lim:<n>;user-hour-rem:<n>;` over a rolling hour; past it,
# 429 RATE_LIMIT_EXCEEDED. A review has at most one developer response; POST
# /v1/customerReviewResponses creates it or overwrites the existing one ("Create or update a
# response to a customer review"). The reference gives `responseBody` no maxLength; App Store
# Connect takes 5,970 characters (counted here in code points); the refusal is the documented
# 409 ENTITY_ERROR shape with a source pointer, its wording is the fake's.
APPSTORE_AUDIENCE = "appstoreconnect-v1"
APPSTORE_MAX_TOKEN_SECONDS = 20 * 60
APPSTORE_MAX_RESPONSE = 5_970


def appstore_error(status: int, code: str, title: str, detail: str,
                   pointer: str | None = None) -> Refusal:
    error: dict[str, Any] = {"id": f"fake-{status}-{code.lower()}", "status": str(status),
                             "code": code, "title": title, "detail": detail}
    if pointer is not None:
        error["source"] = {"pointer": pointer}
    return status, {"errors": [error]}


def appstore_not_authorized() -> Refusal:
    return appstore_error(
        401, "NOT_AUTHORIZED", "Authentication credentials are missing or invalid.",
        "Provide a properly configured and signed bearer token, and make sure that it has not "
        "expired. Learn more about Generating Tokens for API Requests "
        "https://developer.apple.com/go/?id=api-generating-tokens")


def appstore_rate_limited(limit: int) -> Refusal:
    return appstore_error(
        429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.",
        f"We've received too many requests for this API. Please wait and try again or slow "
        f"down your request rate. The limit is {limit} requests per hour.")


def appstore_response_body(body: Any) -> Refusal | None:
    if isinstance(body, str) and body.strip() and len(body) <= APPSTORE_MAX_RESPONSE:
        return None
    why = (f"must be at most {APPSTORE_MAX_RESPONSE} characters" if isinstance(body, str)
           and body.strip() else "must not be empty")
    return appstore_error(409, "ENTITY_ERROR.ATTRIBUTE.INVALID",
                          "An attribute value is invalid.",
                          f"The attribute 'responseBody' {why}.",
                          pointer="/data/attributes/responseBody")
# --- Google Play --------------------------------------------------------------------------
# developers.google.com/android-publisher/api-ref/rest/v3/reviews/reply: replyText, "Replies of
# more than approximately 350 characters will be rejected. HTML tags will be stripped." The
# fake takes "approximately" at its word and refuses more than 350 code points (and an empty
# text), in Google's error shape {"error": {"code": 400, "message", "status":
# "INVALID_ARGUMENT", "errors": [{"reason": "badRequest"}]}}; the message wording is the
# fake's. A review has one developer reply: a new reply replaces it (the reference: "Replies to
# a single review, or updates an existing reply").
GOOGLEPLAY_MAX_REPLY = 350


def googleplay_reply_text(text: Any) -> Refusal | None:
    def bad(message: str) -> Refusal:
        return 400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT",
                               "errors": [{"message": message, "domain": "global",
                                           "reason": "badRequest"}]}}

    if not isinstance(text, str) or not text.strip():
        return bad("Reply text is required.")
    if len(text) > GOOGLEPLAY_MAX_REPLY:
        return bad("Reply text is too long.")
    return None
