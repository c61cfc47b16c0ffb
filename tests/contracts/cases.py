"""The contract cases: each runs one check and returns every difference it found.

Two kinds:
- fixture cases: a sample answer under tests/fixtures/<service>/ against the operation it
  stands for (the mapping is FIXTURE_CASES; every fixture file is either mapped or named in
  UNDESCRIBED with the reason no description covers it);
- request cases: the real integration code (sources, responders, follower look-ups, the chat
  adapters) runs against a capturing transport or the project's fakes, and every request it
  built is checked against the operation it calls.

Known mismatches (tests/contracts/known.py) are not filtered here: the tests split them off,
so that each stays visible as its own strict xfail.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from slack_sdk.web.async_client import AsyncWebClient

from bot import db
from bot.cards import ACTIONS_BY_STATUS, Card
from bot.relay import Relay
from bot.reporting.chart import digest_chart
from bot.reporting.digest.builder import DigestBuilder
from bot.store import Store
from commands import Deps
from integrations.chat.discord.chat import DiscordChat
from integrations.chat.slack.chat import SlackChat
from integrations.chat.slack.chat import StaticToken as SlackStaticToken
from integrations.chat.slack.people import Directory
from integrations.networks import (
    bluesky_common,
    bluesky_net,
    github_net,
    googleplay_net,
    mastodon_net,
    x_net,
    x_oauth,
    youtube_net,
)
from integrations.networks.replay import recording_responders
from integrations.networks.settings import (
    BlueskySettings,
    GitHubSettings,
    GooglePlaySettings,
    XSettings,
    YouTubeSettings,
)
from integrations.networks.terms import SearchTerm, fixed_terms
from testkit.clock import Monotonic
from testkit.factories import new_mention
from testkit.fake_slack import BOT_TOKEN, FakeSlack
from tests.contracts.capture import FIXTURES, Recorder, Sent, fixture, mention, no_sleep
from tests.contracts.oauth2 import check_refresh_request, check_token_answer
from tests.contracts.validate import (
    Discovery,
    GraphQL,
    JsonSchemaFile,
    Lexicons,
    OpenApi,
    Problem,
    SlackSamples,
    SlackWebApi,
)
from tests.integrations.chat.discord.conftest import ANA, discord_settings
from tests.integrations.chat.discord.fake_discord import FakeDiscord

Case = Callable[[], Awaitable[list[Problem]]]
CASES: dict[str, Case] = {}

ROOT = Path(__file__).resolve().parents[2]


def case(name: str) -> Callable[[Case], Case]:
    def register(fn: Case) -> Case:
        if name in CASES:
            raise ValueError(f"case {name} registered twice")
        CASES[name] = fn
        return fn
    return register


def default(settings: Any, name: str) -> str:
    """A setting's default (the real service's address), so requests carry real paths."""
    value = settings.model_fields[name].default
    assert isinstance(value, str)
    return value


# --- the descriptions, loaded once ----------------------------------------------------------


@cache
def x_spec() -> OpenApi:
    return OpenApi("x", "x/openapi.json")


@cache
def github_spec() -> OpenApi:
    return OpenApi("github", "github/openapi.json")


@cache
def github_graphql() -> GraphQL:
    return GraphQL("github", "github/schema.graphql")


@cache
def discord_spec() -> OpenApi:
    # Discord's reference (developers/reference.mdx, Boolean Query Strings): "we support any
    # of True, true, 1, False, false, or 0" (discord.py sends 1 and 0).
    return OpenApi("discord", "discord/openapi.json", booleans=(
        frozenset({"True", "true", "1"}), frozenset({"False", "false", "0"})))


@cache
def mastodon_spec() -> OpenApi:
    return OpenApi("mastodon", "mastodon/openapi.json", rails_arrays=True)


@cache
def youtube_spec() -> Discovery:
    return Discovery("youtube", "youtube/youtube.v3.json")


@cache
def androidpublisher_spec() -> Discovery:
    return Discovery("androidpublisher", "androidpublisher/androidpublisher.v3.json")


@cache
def lexicons() -> Lexicons:
    return Lexicons()


@cache
def slack_spec() -> SlackWebApi:
    return SlackWebApi()


# --- fixtures -------------------------------------------------------------------------------

# Fixture files that no vendored description covers, and why. test_fixtures checks that every
# file under tests/fixtures/ is either here or checked by a fixture case.
UNDESCRIBED: dict[str, str] = {
    "hostile_texts.json": "test input for the renderers, not an API payload",
    "email": "RFC 5322 mails (.eml), read by the e-mail plug-in's parser; no JSON description "
             "applies to them",
    "replay/recall.jsonl": "the replay network's own format (integrations/networks/replay.py)",
    "discord/hostile_texts_discord.json": "test input for the renderers, not an API payload",
    "discord/post.json": "input of `echtzeit render`, not an API payload",
    "discord/ready.json": "a gateway event; discord-api-spec describes the HTTP API only",
    "discord/guild_create.json": "a gateway event; discord-api-spec describes the HTTP API only",
    "discord/interaction_application_command.json": "a gateway INTERACTION_CREATE event",
    "discord/interaction_autocomplete.json": "a gateway INTERACTION_CREATE event",
    "discord/interaction_message_component.json": "a gateway INTERACTION_CREATE event",
    "discord/interaction_modal_submit.json": "a gateway INTERACTION_CREATE event",
    "slack/block_actions.json": "an interactivity payload; Slack publishes no schema for it",
    "slack/view_submission.json": "an interactivity payload; Slack publishes no schema for it",
    "slack/message_shortcut.json": "an interactivity payload; Slack publishes no schema for it",
    "slack/slash_command.json": "a slash command request; Slack publishes no schema for it",
    "slack/socket_envelope_slash_command.json": "a Socket Mode envelope; no published schema",
    "slack/socket_hello.json": "a Socket Mode message; no published schema",
    "x/search_recent.json": "the search answer in API 2.166's names (tweet.fields, retweet_count), "
                            "which docs.x.com's pages still describe; the vendored description "
                            "is 2.167, checked against search_recent_posts.json",
    "x/search_recent_parameters.json": "the accepted parameters per API version, generated from "
                                       "X's descriptions for the fake X; not an API answer",
    "x/search_unknown_parameter.json": "a live-API 400 whose problem type URL "
                                       "(api.twitter.com) the description does not map (X-4)",
    "x/tweet_too_long.json": "a live-API 400 whose problem type URL (api.twitter.com) the "
                             "description does not map (X-4)",
    "x/README.md": "notes on the fixtures' sources",
    "x/twitter_text": "twitter-text's conformance cases (counting rules), not API payloads",
    "youtube/quota_exceeded.json": "Google's error envelope is not in the discovery document",
    "bluesky/jetstream_events.jsonl": "Jetstream's envelope has no lexicon; the post records in "
                                      "it are checked (case bluesky:jetstream records)",
    "reddit": "Reddit publishes no machine-readable API description",
    "facebook": "Meta publishes no machine-readable Graph API description",
    "instagram": "Meta publishes no machine-readable Graph API description",
    "lemmy": "Lemmy's API is described by Rust structs and their TypeScript exports "
             "(lemmy-js-client), not a vendored machine-readable description; the fixtures "
             "follow LemmyNet/lemmy 0.19.20 crates/db_views/src/structs.rs and api_common",
    "stackexchange": "Stack Exchange publishes no machine-readable API description; the "
                     "fixtures follow api.stackexchange.com/docs (types question, answer, "
                     "comment, info, access_token; the common wrapper) with the withbody filter",
    "threads": "Meta publishes no machine-readable Threads API description; the fixtures "
               "follow developers.facebook.com/docs/threads (media fields, keyword search, "
               "mentions, conversation, threads_publishing_limit)",
    "appstore": "Apple publishes the App Store Connect API as an OpenAPI download, which is not "
                "vendored here; the fixtures follow developer.apple.com/documentation/"
                "appstoreconnectapi (customerReviews, customerReviewResponses, apps, "
                "ErrorResponse) and its example of GET /v1/apps/{id}/customerReviews",
    "hackernews": "the HN Algolia API has no machine-readable description",
    "rss": "feeds are RSS/Atom documents, not an API",
    "webhook": "Echtzeit's own generic webhook format",
}

# (service, fixture) -> (method, path, status) of the operation the fixture is an answer of.
OPENAPI_FIXTURES: dict[tuple[str, str], tuple[str, str, int]] = {
    ("x", "search_recent_posts.json"): ("GET", "/2/tweets/search/recent", 200),
    ("x", "tweet_created.json"): ("POST", "/2/tweets", 201),
    ("x", "users_me.json"): ("GET", "/2/users/me", 200),
    ("x", "user_by_username.json"): ("GET", "/2/users/by/username/acme", 200),
    ("x", "unauthorized.json"): ("POST", "/2/tweets", 401),
    ("x", "reply_forbidden.json"): ("POST", "/2/tweets", 403),
    ("github", "search_issues.json"): ("GET", "/search/issues", 200),
    ("github", "user.json"): ("GET", "/user", 200),
    ("github", "issue_comment_created.json"):
        ("POST", "/repos/homelab-tools/sensor-bridge/issues/412/comments", 201),
    ("discord", "user_me.json"): ("GET", "/users/@me", 200),
    ("discord", "application_me.json"): ("GET", "/oauth2/applications/@me", 200),
    ("discord", "gateway_bot.json"): ("GET", "/gateway/bot", 200),
    ("discord", "rate_limited.json"): ("POST", "/channels/1300000000000000200/messages", 429),
    ("mastodon", "instance.json"): ("GET", "/api/v2/instance", 200),
    ("mastodon", "verify_credentials.json"): ("GET", "/api/v1/accounts/verify_credentials", 200),
    ("mastodon", "statuses.json"): ("GET", "/api/v1/timelines/tag/acme", 200),
    ("mastodon", "status_created.json"): ("POST", "/api/v1/statuses", 200),
}
SPEC_OF = {"x": x_spec, "github": github_spec, "discord": discord_spec,
           "mastodon": mastodon_spec}


def _openapi_fixture(service: str, name: str) -> Case:
    method, path, status = OPENAPI_FIXTURES[(service, name)]

    async def run() -> list[Problem]:
        return SPEC_OF[service]().check_response(method, path, status, fixture(service, name))
    return run


for _service, _name in OPENAPI_FIXTURES:
    case(f"{_service}:{_name}")(_openapi_fixture(_service, _name))


@case("github:user.json as GET /users/{username}")
async def _github_user_public() -> list[Problem]:
    # The GitHub tests answer the follower look-up with the same file.
    return github_spec().check_response("GET", "/users/acme-support", 200,
                                        fixture("github", "user.json"))


@case("mastodon:notification_mention.json")
async def _mastodon_notification() -> list[Problem]:
    # One element of GET /api/v1/notifications (an array).
    return mastodon_spec().check_response(
        "GET", "/api/v1/notifications", 200, [fixture("mastodon", "notification_mention.json")])


YOUTUBE_FIXTURES = {"comment_threads.json": ("GET", "/youtube/v3/commentThreads"),
                    "comment_threads_display_only.json": ("GET", "/youtube/v3/commentThreads"),
                    "comment_inserted.json": ("POST", "/youtube/v3/comments"),
                    "videos.json": ("GET", "/youtube/v3/videos"),
                    "channels.json": ("GET", "/youtube/v3/channels")}


def _youtube_fixture(name: str) -> Case:
    method, path = YOUTUBE_FIXTURES[name]

    async def run() -> list[Problem]:
        return youtube_spec().check_response(method, path, fixture("youtube", name))
    return run


for _name in YOUTUBE_FIXTURES:
    case(f"youtube:{_name}")(_youtube_fixture(_name))


REVIEWS = "androidpublisher/v3/applications/{packageName}/reviews"
GOOGLEPLAY_FIXTURES = {"reviews_page1.json": ("GET", REVIEWS),
                       "reviews_page2.json": ("GET", REVIEWS),
                       "reply.json": ("POST", REVIEWS + "/{reviewId}:reply")}


def _googleplay_fixture(name: str) -> Case:
    method, path = GOOGLEPLAY_FIXTURES[name]

    async def run() -> list[Problem]:
        return androidpublisher_spec().check_response(method, path,
                                                      fixture("googleplay", name))
    return run


for _name in GOOGLEPLAY_FIXTURES:
    case(f"googleplay:{_name}")(_googleplay_fixture(_name))


@case("googleplay:requests")
async def googleplay_requests() -> list[Problem]:
    """The token request (RFC 7523's JWT bearer grant: Google's token endpoint is not in the
    discovery document), the reviews list with paging and translation, the look-up of a
    review before a reply, the reply, and the check."""
    from tests.integrations.networks.fake_googleplay import service_account_json

    page1, page2 = fixture("googleplay", "reviews_page1.json"), fixture(
        "googleplay", "reviews_page2.json")
    rec = Recorder([
        ("POST", r"/token", (200, {"access_token": "ya29.c.contract", "expires_in": 3599,
                                   "token_type": "Bearer"})),
        ("GET", r"/androidpublisher/v3/applications/[^/]+/reviews",
         lambda r: (200, page2 if r.url.params.get("token") else page1)),
        ("GET", r"/androidpublisher/v3/applications/[^/]+/reviews/[^/]+",
         (200, page1["reviews"][0])),
        ("POST", r"/androidpublisher/v3/applications/[^/]+/reviews/[^/]+:reply",
         (200, fixture("googleplay", "reply.json")))])
    async with rec.client() as client:
        account = googleplay_net.load_service_account(service_account_json())
        source, responder, api, creds = googleplay_net.components(
            client, account=account, packages=["com.acme.app"], interval=900,
            base_url=default(GooglePlaySettings, "base_url"), translation="en",
            sleep=no_sleep)
        first = await source.poll_once(None)
        await source.poll_once(first.cursor)
        rid = page1["reviews"][0]["reviewId"]
        await responder.reply(mention=mention(
            "googleplay", f"com.acme.app/{rid}",
            f"https://play.google.com/store/apps/details?id=com.acme.app&reviewId={rid}"),
            text="Thanks! 4.10.3 fixes the scanner.")
        await googleplay_net.verify(api, creds, "com.acme.app")
    api_calls = [s for s in rec.sent if s.path.startswith("/androidpublisher/")]
    problems = called("googleplay", rec.sent, "POST /token",
                      r"GET /androidpublisher/v3/applications/com\.acme\.app/reviews",
                      r"GET /androidpublisher/v3/applications/com\.acme\.app/reviews/[^/]+",
                      r"POST /androidpublisher/v3/applications/com\.acme\.app/reviews/"
                      r"[^/]+:reply")
    problems += unrouted("googleplay", rec)
    for s in api_calls:
        problems += androidpublisher_spec().check_request(s.method, s.path, s.query, s.body)
    rfc = "RFC 7523 §2.1"
    for s in rec.sent:
        if s.path != "/token":
            continue
        body = s.body if s.form and isinstance(s.body, dict) else {}
        if not s.form:
            problems.append(Problem("googleplay", "POST /token (body)", rfc,
                                    "the grant goes form-encoded in the body"))
        if body.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            problems.append(Problem("googleplay", "POST /token form grant_type", rfc,
                                    "urn:ietf:params:oauth:grant-type:jwt-bearer"))
        if str(body.get("assertion", "")).count(".") != 2:
            problems.append(Problem("googleplay", "POST /token form assertion", rfc,
                                    "a single JWT (JWS compact serialization)"))
        extra = sorted(set(body) - {"grant_type", "assertion", "scope"})
        problems += [Problem("googleplay", f"POST /token form {k}", rfc,
                             "not a parameter of the JWT bearer grant") for k in extra]
    return problems


BLUESKY_FIXTURES = {"create_session.json": "com.atproto.server.createSession",
                    "create_record.json": "com.atproto.repo.createRecord",
                    "get_profiles.json": "app.bsky.actor.getProfiles",
                    "search_posts.json": "app.bsky.feed.searchPosts"}


def _bluesky_fixture(name: str) -> Case:
    async def run() -> list[Problem]:
        return lexicons().check_output(BLUESKY_FIXTURES[name], fixture("bluesky", name))
    return run


for _name in BLUESKY_FIXTURES:
    case(f"bluesky:{_name}")(_bluesky_fixture(_name))


@case("bluesky:jetstream records")
async def _jetstream_records() -> list[Problem]:
    """The post records inside the Jetstream commit events (the envelope has no lexicon)."""
    problems: list[Problem] = []
    lines = (FIXTURES / "bluesky" / "jetstream_events.jsonl").read_text(encoding="utf-8")
    for n, line in enumerate(lines.splitlines()):
        commit = json.loads(line).get("commit") or {}
        if commit.get("operation") in ("create", "update") and "record" in commit:
            problems += lexicons().check(commit["collection"], commit["record"],
                                         f"line {n + 1} commit.record", strict=False)
    return problems


SLACK_FIXTURES = {"auth_test.json": "auth.test", "oauth_v2_access.json": "oauth.v2.access",
                  "users_info.json": "users.info"}


def _slack_fixture(name: str) -> Case:
    async def run() -> list[Problem]:
        return slack_spec().check_response(SLACK_FIXTURES[name], fixture("slack", name))
    return run


for _name in SLACK_FIXTURES:
    case(f"slack:{_name}")(_slack_fixture(_name))


@case("slack:event_message_thread.json")
async def _slack_event() -> list[Problem]:
    return JsonSchemaFile("slack", "slack/event_wrapper.schema.json").check(
        fixture("slack", "event_message_thread.json"))


@case("slack:event_app_home_opened.json")
async def _slack_home_event() -> list[Problem]:
    """The app_home_opened envelope the fake sends (testkit.fake_slack.FakeSlack.home_opened)."""
    return JsonSchemaFile("slack", "slack/event_wrapper.schema.json").check(
        fixture("slack", "event_app_home_opened.json"))


@case("slack:manifest.yml")
async def _slack_manifest() -> list[Problem]:
    """The app manifest docs/slack.md tells people to paste into Slack."""
    manifest = yaml.safe_load((ROOT / "integrations/chat/slack/manifest.yml").read_text())
    return JsonSchemaFile("slack", "slack/manifest.schema.1.0.0.json").check(manifest)


# X's token endpoint is not in its description: RFC 6749's rules (tests/contracts/oauth2.py).
X_TOKEN_FIXTURES = {"oauth2_token.json": 200, "oauth2_token_invalid.json": 400,
                    "oauth2_unauthorized_client.json": 401}


# Every fixture file some case above checks (relative to tests/fixtures/).
CHECKED_FIXTURES = frozenset(
    [f"{service}/{name}" for service, name in OPENAPI_FIXTURES]
    + [f"youtube/{n}" for n in YOUTUBE_FIXTURES] + [f"bluesky/{n}" for n in BLUESKY_FIXTURES]
    + [f"googleplay/{n}" for n in GOOGLEPLAY_FIXTURES]
    + [f"slack/{n}" for n in SLACK_FIXTURES]
    + [f"x/{n}" for n in X_TOKEN_FIXTURES]
    + ["mastodon/notification_mention.json", "slack/event_message_thread.json",
       "slack/event_app_home_opened.json",
       "github/discussions.json", "github/add_discussion_comment.json"])


# --- requests the networks' code builds ---------------------------------------------------------


def openapi_requests(spec: OpenApi, sent: list[Sent], *, prefix: str = "") -> list[Problem]:
    """Every captured request against the description (paths as the description has them:
    `prefix` is what the service's base URL adds before them)."""
    problems: list[Problem] = []
    for s in sent:
        path = s.path.removeprefix(prefix)
        problems += spec.check_request(s.method, path, query=s.query, body=s.body)
    return problems


def called(service: str, sent: list[Sent], *wanted: str) -> list[Problem]:
    """A problem for each "METHOD path-regex" in `wanted` that no captured request matches: a
    case whose code stopped making a request would otherwise pass without checking it."""
    missing = [w for w in wanted
               if not any(f"{s.method} {s.path}" == w or re.fullmatch(w, f"{s.method} {s.path}")
                          for s in sent)]
    return [Problem(service, w, "-", "the case no longer makes this request, so it is not "
                    "checked: update the case") for w in missing]


def unrouted(service: str, recorder: Recorder) -> list[Problem]:
    return [Problem(service, what, "-", "the code called an endpoint this case does not "
                    "answer; add it to the case") for what in recorder.unrouted]


@case("x:requests")
async def x_requests() -> list[Problem]:
    """Search (first poll and a later one with since_id), /2/users/me, a reply, a follower
    look-up and the configuration check."""
    rec = Recorder([
        ("GET", r"/2/tweets/search/recent", (200, fixture("x", "search_recent_posts.json"))),
        ("GET", r"/2/users/me", (200, fixture("x", "users_me.json"))),
        ("GET", r"/2/users/by/username/[^/]+", (200, fixture("x", "user_by_username.json"))),
        ("POST", r"/2/tweets", (201, fixture("x", "tweet_created.json")))])
    async with rec.client() as client:
        source, responder, app, user = x_net.components(
            client, api_url=default(XSettings, "api_url"), bearer="app-bearer",
            user_token="user-token", interval=60, sleep=no_sleep,
            terms=fixed_terms("acme", SearchTerm("acme rockets", "phrase"),
                              SearchTerm("acme", "hashtag")))
        first = await source.poll_once(None)
        await source.poll_once(first.cursor)
        assert responder is not None
        await responder.reply(mention=mention("x", "1859000000000000001",
                                              "https://x.com/mira/status/1859000000000000001"),
                              text="Thanks, Mira! We are on it.")
        await x_net.follower_count(app, "@acme")
        await x_net.verify(app, user)
    return (called("x", rec.sent, "GET /2/tweets/search/recent", "GET /2/users/me",
                   "POST /2/tweets", r"GET /2/users/by/username/\w+")
            + unrouted("x", rec) + openapi_requests(x_spec(), rec.sent))


@case("x:oauth2 token answers")
async def _x_token_answers() -> list[Problem]:
    problems: list[Problem] = []
    for name, status in X_TOKEN_FIXTURES.items():
        problems += check_token_answer("x", status, fixture("x", name), name)
    return problems


@case("x:oauth2 token requests")
async def x_token_requests() -> list[Problem]:
    """The rotating refresh of the brand account's user token (x_oauth.py, Authlib's
    encoding), for a confidential client (HTTP Basic) and a public one (client_id in the
    form), then a reply sent with the token bought; the token requests against RFC 6749 §6 and
    §2.3 (X's description has no /2/oauth2/token), the reply against X's description."""
    api_url = default(XSettings, "api_url")
    problems: list[Problem] = []
    for secret in ("s3cr3t:with/odd chars", None):
        rec = Recorder([
            ("POST", r"/2/oauth2/token", (200, fixture("x", "oauth2_token.json"))),
            ("GET", r"/2/users/me", (200, fixture("x", "users_me.json"))),
            ("POST", r"/2/tweets", (201, fixture("x", "tweet_created.json")))])
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'x.db'}"
            db.upgrade(url)
            store = Store.from_url(url)
            try:
                async with rec.client() as client:
                    token = x_oauth.renewed_token(
                        client, api_url=api_url, store=store, seed="seed-refresh-token",
                        client_id="X-client-id", client_secret=secret, sleep=no_sleep)
                    _, responder, _, _ = x_net.components(
                        client, api_url=api_url, bearer="app-bearer", user_token=None,
                        terms=fixed_terms(), interval=60, sleep=no_sleep, token=token)
                    assert responder is not None
                    await responder.reply(mention=mention(
                        "x", "1859000000000000001",
                        "https://x.com/mira/status/1859000000000000001"), text="Thanks!")
            finally:
                store.close()
        problems += called("x", rec.sent, "POST /2/oauth2/token", "POST /2/tweets")
        problems += unrouted("x", rec)
        for sent in rec.sent:
            if sent.path == "/2/oauth2/token":
                problems += check_refresh_request("x", sent, client_id="X-client-id",
                                                  client_secret=secret)
            else:
                problems += openapi_requests(x_spec(), [sent])
    return problems


@case("github:requests")
async def github_requests() -> list[Problem]:
    """Issue search (REST), a comment on an issue, a follower look-up and the check against
    the REST description; the discussion search (with paging) and a discussion comment
    against GitHub's GraphQL schema (the documents, their variables, and the fixtures that
    answer them executed over the documents)."""
    rec = Recorder([
        ("GET", r"/user", (200, fixture("github", "user.json"))),
        ("GET", r"/users/[^/]+", (200, fixture("github", "user.json"))),
        ("GET", r"/search/issues", (200, fixture("github", "search_issues.json"))),
        ("POST", r"/repos/[^/]+/[^/]+/issues/\d+/comments",
         (201, fixture("github", "issue_comment_created.json"))),
        ("POST", r"/graphql", _github_graphql_answer)])
    async with rec.client() as client:
        source, responder, api = github_net.components(
            client, api_url=default(GitHubSettings, "api_url"), token="ghp_token",
            terms=fixed_terms("acme", SearchTerm("acme hub", "phrase")), interval=60,
            sleep=no_sleep)
        first = await source.poll_once(None)
        await source.poll_once(first.cursor)
        await responder.reply(mention=mention(
            "github", "homelab-tools/sensor-bridge#412",
            "https://github.com/homelab-tools/sensor-bridge/issues/412"), text="Thanks!")
        discussion = fixture("github", "discussions.json")["data"]["search"]["nodes"][0]
        await responder.reply(mention=mention("github", discussion["id"], discussion["url"]),
                              text="Thanks, we are on it!")
        await github_net.follower_count(api, "octo-lena")
        await github_net.verify(api)
    rest = [s for s in rec.sent if s.path != "/graphql"]
    graphql = [s for s in rec.sent if s.path == "/graphql"]
    problems = called("github", rec.sent, "GET /user", "GET /search/issues",
                      r"POST /repos/[^/]+/[^/]+/issues/\d+/comments", r"GET /users/[\w-]+")
    problems += unrouted("github", rec) + openapi_requests(github_spec(), rest)
    operations = {_graphql_root(s.body) for s in graphql}
    problems += [Problem("github", f"POST /graphql {root}", "-", "the case no longer makes "
                         "this request, so it is not checked: update the case")
                 for root in ("search", "addDiscussionComment") if root not in operations]
    schema = github_graphql()
    for s in graphql:
        problems += schema.check_request(s.body)
    return problems


def _graphql_root(body: Any) -> str:
    """The first root field a GraphQL request body asks for ("search", ...)."""
    match = re.search(r"\{\s*(\w+)", str((body or {}).get("query", "")))
    return match.group(1) if match else ""


def _github_graphql_answer(request: Any) -> tuple[int, Any]:
    root = _graphql_root(json.loads(request.content))
    name = {"search": "discussions.json", "addDiscussionComment":
            "add_discussion_comment.json"}.get(root)
    if name is None:
        return 200, {"errors": [{"message": f"the contract case does not answer {root}"}]}
    return 200, fixture("github", name)


@case("github:discussions.json")
async def _github_discussions() -> list[Problem]:
    """The discussion search's answer, as the schema makes the result of the document
    github_net.py sends."""
    return github_graphql().check_response(
        github_net.DISCUSSIONS, {"q": "acme sort:created-desc", "after": None},
        fixture("github", "discussions.json"))


@case("github:add_discussion_comment.json")
async def _github_add_comment() -> list[Problem]:
    return github_graphql().check_response(
        github_net.ADD_COMMENT, {"id": "D_kwDOHb3xQc4AbC12", "body": "Thanks!"},
        fixture("github", "add_discussion_comment.json"))


@case("youtube:requests")
async def youtube_requests() -> list[Problem]:
    """commentThreads for a channel and a video, video titles, a reply (comments.insert),
    subscriber look-ups by handle and by id, and the check. The OAuth token endpoint is
    Google's, not the Data API's: no request goes there with a fixed access token."""
    rec = Recorder([
        ("GET", r"/youtube/v3/commentThreads", (200, fixture("youtube", "comment_threads.json"))),
        ("GET", r"/youtube/v3/videos", (200, fixture("youtube", "videos.json"))),
        ("GET", r"/youtube/v3/channels", (200, fixture("youtube", "channels.json"))),
        ("POST", r"/youtube/v3/comments", (200, fixture("youtube", "comment_inserted.json")))])
    async with rec.client() as client:
        oauth = youtube_net.OAuth(client, token_url=default(YouTubeSettings, "token_url"),
                                  access_token="ya29.access", sleep=no_sleep)
        source, responder, read, write = youtube_net.components(
            client, api_url=default(YouTubeSettings, "api_url"), api_key="AIza-key",
            channel_id="UCacmeacmeacmeacmeacme1", video_ids=["dQw4w9WgXcQ"], oauth=oauth,
            interval=60, sleep=no_sleep)
        first = await source.poll_once(None)
        await source.poll_once(first.cursor)
        assert responder is not None
        await responder.reply(mention=mention(
            "youtube", "UgzAcmeComment1", "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
            "&lc=UgzAcmeComment1"), text="Thanks for watching!")
        await youtube_net.follower_count(read, "@acme")
        await youtube_net.follower_count(read, "UCacmeacmeacmeacmeacme1")
        await youtube_net.verify(read, write, "UCacmeacmeacmeacmeacme1")
    problems = called("youtube", rec.sent, "GET /youtube/v3/commentThreads",
                      "GET /youtube/v3/videos", "GET /youtube/v3/channels",
                      "POST /youtube/v3/comments")
    problems += unrouted("youtube", rec)
    for s in rec.sent:
        problems += youtube_spec().check_request(s.method, s.path, s.query, s.body)
    return problems


BLUESKY_DID = "did:plc:k7uoclxyzq4f2bmwdy3gmx6p"


@case("bluesky:requests")
async def bluesky_requests() -> list[Problem]:
    """Sign-in, search with paging, profile look-ups, a session refresh, a reply with facets
    (link, @handle, #tag) and the public follower look-up, each XRPC call against its
    lexicon (query parameters, input) and the reply's record against app.bsky.feed.post."""
    posts = fixture("bluesky", "search_posts.json")
    profiles = fixture("bluesky", "get_profiles.json")
    rec = Recorder([
        ("POST", r"/xrpc/com\.atproto\.server\.createSession",
         (200, fixture("bluesky", "create_session.json"))),
        ("POST", r"/xrpc/com\.atproto\.server\.refreshSession",
         (200, fixture("bluesky", "create_session.json"))),
        ("GET", r"/xrpc/app\.bsky\.feed\.searchPosts", (200, posts)),
        ("GET", r"/xrpc/app\.bsky\.actor\.getProfiles", (200, profiles)),
        ("GET", r"/xrpc/app\.bsky\.actor\.getProfile", (200, profiles["profiles"][0])),
        ("GET", r"/xrpc/app\.bsky\.feed\.getPosts", (200, {"posts": posts["posts"][:1]})),
        ("GET", r"/xrpc/com\.atproto\.identity\.resolveHandle", (200, {"did": BLUESKY_DID})),
        ("POST", r"/xrpc/com\.atproto\.repo\.createRecord",
         (200, fixture("bluesky", "create_record.json")))])
    async with rec.client() as client:
        session = bluesky_net.Session(client, default(BlueskySettings, "service_url"),
                                      "acme.example.com", "abcd-efgh-ijkl-mnop", sleep=no_sleep)
        search = bluesky_net.BlueskySearch(
            session, bluesky_common.Profiles(session.get),
            fixed_terms("acme", SearchTerm("acme rockets", "phrase"),
                        SearchTerm("acme", "hashtag")), interval=60, sleep=no_sleep)
        first = await search.poll_once(None)
        await search.poll_once(first.cursor)
        await session.renew()
        await bluesky_net.BlueskyResponder(session).reply(
            mention=mention("bluesky", posts["posts"][0]["uri"], "https://bsky.app/profile/x"),
            text="Thanks @mira.bsky.social! Status: https://status.acme.example #acme")
        await bluesky_net.follower_count(client, "@mira.bsky.social",
                                         api_url=default(BlueskySettings, "public_api_url"))
    problems = called("bluesky", rec.sent, *(f"{m} /xrpc/{nsid}" for m, nsid in (
        ("POST", "com.atproto.server.createSession"), ("POST", "com.atproto.server.refreshSession"),
        ("GET", "app.bsky.feed.searchPosts"), ("GET", "app.bsky.actor.getProfiles"),
        ("GET", "app.bsky.feed.getPosts"), ("GET", "com.atproto.identity.resolveHandle"),
        ("POST", "com.atproto.repo.createRecord"), ("GET", "app.bsky.actor.getProfile"))))
    problems += unrouted("bluesky", rec)
    lex = lexicons()
    for s in rec.sent:
        nsid = s.path.removeprefix("/xrpc/")
        problems += lex.check_params(nsid, s.query)
        if s.method == "POST" and s.body is not None:
            problems += lex.check_input(nsid, s.body)
            if nsid == "com.atproto.repo.createRecord":
                problems += lex.check(s.body["collection"], s.body["record"],
                                      f"{nsid} input.record", strict=True)
    return problems


@case("mastodon:requests")
async def mastodon_requests() -> list[Problem]:
    """Instance and account look-ups, search, a hashtag timeline, mentions, a reply and a
    follower look-up."""
    statuses = fixture("mastodon", "statuses.json")
    base = "https://social.example"
    rec = Recorder([
        ("GET", r"/api/v2/instance", (200, fixture("mastodon", "instance.json"))),
        ("GET", r"/api/v1/accounts/verify_credentials",
         (200, fixture("mastodon", "verify_credentials.json"))),
        ("GET", r"/api/v2/search", (200, {"accounts": [], "statuses": statuses,
                                          "hashtags": []})),
        ("GET", r"/api/v1/timelines/tag/[^/]+", (200, statuses)),
        ("GET", r"/api/v1/notifications",
         (200, [fixture("mastodon", "notification_mention.json")])),
        ("GET", r"/api/v1/statuses/\d+", (200, statuses[0])),
        ("POST", r"/api/v1/statuses", (200, fixture("mastodon", "status_created.json"))),
        ("GET", r"/api/v1/accounts/lookup", (200, statuses[0]["account"]))])
    async with rec.client() as client:
        sources, responder = mastodon_net.components(
            client, base_url=base, token="token", interval=60, hashtags=["acme"],
            streaming=False, sleep=no_sleep,
            terms=fixed_terms("acme", SearchTerm("acme rockets", "phrase")))
        first = await sources[0].poll_once(None)
        await sources[0].poll_once(first.cursor)
        await responder.reply(mention=mention("mastodon", statuses[0]["id"], statuses[0]["url"]),
                              text="Thanks for telling us!")
        await mastodon_net.follower_count(client, base, "token", "kim@fosstodon.example",
                                          sleep=no_sleep)
    return (called("mastodon", rec.sent, "GET /api/v2/instance",
                   "GET /api/v1/accounts/verify_credentials", "GET /api/v2/search",
                   "GET /api/v1/timelines/tag/acme", "GET /api/v1/notifications",
                   r"GET /api/v1/statuses/\d+", "POST /api/v1/statuses",
                   "GET /api/v1/accounts/lookup")
            + unrouted("mastodon", rec) + openapi_requests(mastodon_spec(), rec.sent))


# --- requests the chat adapters make -------------------------------------------------------


def _card(**changes: Any) -> Card:
    card = Card(
        mention_id=42, brand="Acme", network="mastodon", author_handle="kunde",
        author_name="Kunde", followers=1200, author_mentions=2, author_answered=1,
        text="acme is down", url="https://social.example/@kunde/1", language="de",
        sentiment="negative", sentiment_score=-0.6, priority="urgent", status="new",
        assignee=None, created_at=datetime(2026, 11, 20, 8, 30, tzinfo=UTC), echoes=0,
        likes=3, reposts=1, replies=0, reply_url=None, reply_by=None, reply_state=None,
        actions=ACTIONS_BY_STATUS["new"])
    return replace(card, **changes)


CHANNEL = "C0ECHTCARDS"


@case("slack:requests")
async def slack_requests() -> list[Problem]:
    """SlackChat (cards with their delivery token, edits, the history look-up that finds a
    card sent before a crash, a notice with its thread) and the people directory (user
    names, user groups), against the project's fake Slack: each Web API call's arguments
    against the method's description, and the fake's answer against the described answer
    (a fake that answers what Slack would not is a fake that misleads)."""
    # Channel ids as long as Slack's (the fake's default C0CARDS is shorter than any real one).
    clock = Monotonic()  # Slack's pace, waited for by advancing the clock the fake counts on
    fake = await FakeSlack(channels=(CHANNEL,), clock=clock).start()
    try:
        fake.groups["S0CARE"] = ["U0ANA"]
        chat = SlackChat(SlackStaticToken(BOT_TOKEN), api_url=fake.api_url, clock=clock,
                         sleep=clock.sleep)
        ref = await chat.send_card_with_token(CHANNEL, _card(), token="delivery-1")
        await chat.update_card(CHANNEL, ref, _card(status="claimed", assignee="ana",
                                                     actions=ACTIONS_BY_STATUS["claimed"]))
        await chat.find_sent(CHANNEL, ["delivery-1"],
                             since=datetime.now(UTC) - timedelta(minutes=5))
        await chat.notify(CHANNEL, "SLA: mention 42 is due in 10 minutes",
                          thread=["#42 acme is down", "#43 acme app crashes"])
        web = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        people = Directory.from_lists(admins=["S0CARE"], responders=[])
        await people.roles(web, "U0ANA")
        await people.display_name(web, "U0BEN")
    finally:
        await fake.stop()
    spec = slack_spec()
    problems = [Problem("slack", v, "testkit/fake_slack.py", "the fake Slack reported a "
                        "violation") for v in fake.violations]
    seen = {c.method for c in fake.calls}
    problems += [Problem("slack", m, "-", "the case no longer makes this call, so it is "
                         "not checked: update the case")
                 for m in ("chat.postMessage", "chat.update", "conversations.history",
                           "usergroups.users.list", "users.info") if m not in seen]
    for call in fake.calls:
        problems += spec.check_request(call.method, call.args, bearer=call.token is not None)
        problems += spec.check_response(call.method, call.answer)
    return problems


# --- Discord: what discord.py sends for DiscordChat, against the fake Discord ----------------


DISCORD_API = "/api/v10"


async def _discord_flow(tmp: Path) -> FakeDiscord:
    """DiscordChat connected to the fake Discord (command registration), a card relayed
    (with its nonce) and edited after a slash command, autocomplete, the Reply button's modal
    and its submission (callback, follow-up, edit of the original), a notice with its thread,
    and the digest with its chart (multipart)."""
    url = f"sqlite:///{tmp / 'discord.db'}"
    db.upgrade(url)
    store = Store.from_url(url)
    fake = FakeDiscord()
    await fake.start()
    chat: DiscordChat | None = None
    stop = asyncio.Event()
    task: asyncio.Task[None] | None = None
    try:
        store.add_brand(name="Acme", query="acme", actor="setup")
        store.add_route(brand="Acme", platform="discord", channel=fake.channel_id, actor="setup")
        store.add_template(name="thanks", text="Thank you, {name}! - Team {brand}", actor="setup")
        deps = Deps(store=store, responders=recording_responders(tmp / "replies.jsonl"),
                    now=store.now)
        chat = DiscordChat(discord_settings(fake.api_url, threads=True), deps,
                           guild_ready_timeout=0.05)
        await chat.login()
        await chat.sync_commands([fake.guild_id])
        task = asyncio.create_task(chat.serve(stop))
        await asyncio.wait_for(chat.ready.wait(), 10)
        await fake.wait_for(lambda: fake.connected == 1)
        brand = store.brand(name="Acme")
        assert brand.id is not None
        [mid] = store.write_mentions(
            [new_mention(brand.id, "acme app is down", created_at=store.now()
                         - timedelta(hours=1))],
            routes={brand.id: store.routes(brand_id=brand.id)})
        relay = Relay(store, {"discord": chat})
        assert await relay.run_once() == 1
        message = fake.channel_messages()[-1]
        claim = await fake.interact(fake.command("claim", {"id": str(mid)}, ANA))
        await fake.answered(claim, lambda: claim.callback is not None and not claim.loading
                            and len(claim.followups) >= 1)
        await relay.run_once()  # the card drawn again: claimed
        typed = await fake.interact(fake.autocomplete("reply", {"id": ""}, "id", ANA))
        await fake.answered(typed)
        click = await fake.interact(fake.click(message, f"ez:reply:{mid}", ANA))
        await fake.answered(click)
        assert click.callback is not None
        submit = await fake.interact(fake.submit(click.callback["data"], {"text": ":thanks"},
                                                 ANA, message))
        await fake.answered(submit, lambda: submit.callback is not None
                            and not submit.loading and len(submit.followups) >= 1)
        await chat.notify(fake.channel_id, "SLA: mention 42 is due in 10 minutes",
                          person=ANA.user_id, thread=["#42 acme is down", "#43 acme app crashes"])
        digest = DigestBuilder(store).build("discord", fake.channel_id, now=store.now(),
                                            kind="today")
        await chat.send_digest(fake.channel_id, digest, digest_chart(digest))
    finally:
        stop.set()
        if task is not None:
            await asyncio.wait_for(task, 10)
        if chat is not None:
            await chat.close()
        await fake.close()
        store.close()
    return fake


@case("discord:requests")
async def discord_requests() -> list[Problem]:
    """Every HTTP request discord.py made for DiscordChat in `_discord_flow`, against the
    operation it calls in discord-api-spec: query parameters, path parameters and the JSON
    body (for a multipart upload: its payload_json, and the file parts' names), and the fake
    Discord's answer against the answer described for its status. The fake Discord's own
    rules and violations stay with it; an operation the description lacks is a mismatch
    here."""
    with tempfile.TemporaryDirectory() as tmp:
        fake = await _discord_flow(Path(tmp))
    spec = discord_spec()
    problems = [Problem("discord", v, "tests/integrations/chat/discord/fake_discord.py",
                        "the fake Discord reported a violation")
                for v in [*fake.violations, *fake.errors]]
    sent = [r for r in fake.requests if r.path.startswith(DISCORD_API)]
    seen = {f"{r.method} {r.path.removeprefix(DISCORD_API)}" for r in sent}
    wanted = (r"PUT /applications/\d+/guilds/\d+/commands", r"POST /channels/\d+/messages",
              r"PATCH /channels/\d+/messages/\d+", r"POST /channels/\d+/messages/\d+/threads",
              r"POST /interactions/\d+/[^/]+/callback", r"POST /webhooks/\d+/[^/]+",
              r"PATCH /webhooks/\d+/[^/]+/messages/@original")
    problems += [Problem("discord", w, "-", "the case no longer makes this request, so it is "
                         "not checked: update the case")
                 for w in wanted if not any(re.fullmatch(w, s) for s in seen)]
    for r in sent:
        path = r.path.removeprefix(DISCORD_API)
        problems += spec.check_request(r.method, path, query=list(r.query.items()),
                                       body=r.body)
        if r.status and r.answer is not None:  # and the fake's answer as Discord describes it
            problems += spec.check_response(r.method, path, r.status, r.answer)
        for name in r.files:
            if not re.fullmatch(r"files\[\d\]", name):  # files[0] .. files[9]
                problems.append(Problem("discord", f"{r.method} {path} part {name}",
                                        "discord/openapi.json", "a file part the description "
                                        "does not name (files[0] to files[9])"))
    return problems


@case("slack:upload and socket mode")
async def slack_upload_and_socket() -> list[Problem]:
    """The digest's chart through SlackChat.send_digest (slack_sdk's files_upload_v2:
    files.getUploadURLExternal, the upload, files.completeUploadExternal into the digest's
    thread) and Socket Mode's apps.connections.open with the app token, against the fake
    Slack: the fake's answers against the answers Slack's SDK team recorded from the live API
    (specs/slack/samples/), and the fake's own checks of the requests (announced length, file
    name, alt text, token type). No machine-readable description of these requests exists
    (slack-api-specs stopped in 2021); slack_sdk, Slack's own client, builds them."""
    clock = Monotonic()
    fake = await FakeSlack(channels=(CHANNEL,), clock=clock).start()
    try:
        chat = SlackChat(SlackStaticToken(BOT_TOKEN), api_url=fake.api_url, clock=clock,
                         sleep=clock.sleep)
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'digest.db'}"
            db.upgrade(url)
            store = Store.from_url(url)
            try:
                store.add_brand(name="Acme", query="acme", actor="setup")
                store.add_route(brand="Acme", platform="slack", channel=CHANNEL, actor="setup")
                digest = DigestBuilder(store).build("slack", CHANNEL, now=store.now(),
                                                    kind="today")
                await chat.send_digest(CHANNEL, digest, digest_chart(digest))
            finally:
                store.close()
        # As slack_sdk's Socket Mode client opens its connection (the app-level token).
        await AsyncWebClient(base_url=fake.api_url).apps_connections_open(
            app_token=fake.app_token)
    finally:
        await fake.stop()
    problems = [Problem("slack", v, "testkit/fake_slack.py", "the fake Slack reported a "
                        "violation") for v in fake.violations]
    methods = ("files.getUploadURLExternal", "files.completeUploadExternal",
               "apps.connections.open")
    seen = {c.method for c in fake.calls if c.answer.get("ok")}
    problems += [Problem("slack", m, "-", "the case no longer makes this call, so it is not "
                         "checked: update the case") for m in methods if m not in seen]
    samples = SlackSamples()
    for call in fake.calls:
        if call.method in methods:
            problems += samples.check_response(call.method, call.answer)
    return problems
