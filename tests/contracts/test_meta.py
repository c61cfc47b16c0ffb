"""The contract tests' own bookkeeping: every vendored file has its source named, every fixture
is either checked or said to be outside any description, every known mismatch is written up,
and the checks do fail (with service, field and spec place) on a payload that breaks a
description, so that a green run means something."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from tests.contracts.capture import FIXTURES, fixture
from tests.contracts.cases import CHECKED_FIXTURES, UNDESCRIBED, x_spec
from tests.contracts.known import KNOWN
from tests.contracts.validate import SPECS, Discovery, Lexicons, SlackWebApi

HERE = Path(__file__).resolve().parent


def test_every_vendored_file_has_its_source_named() -> None:
    sources = json.loads((SPECS / "sources.json").read_text(encoding="utf-8"))
    listed = {f for s in sources.values() for f in s["files"]}
    on_disk = {str(p.relative_to(SPECS)) for p in SPECS.rglob("*")
               if p.is_file() and p.name not in ("sources.json", "SOURCES.md")}
    assert on_disk == listed
    text = (SPECS / "SOURCES.md").read_text(encoding="utf-8")
    for service, source in sources.items():
        revision = source.get("commit") or source.get("version")
        for needed in (service, source["repository"], source["path"], revision,
                       source["licence"]):
            assert needed in text, f"SOURCES.md lacks {needed!r} of {service}"


def test_the_vendored_subset_stays_small() -> None:
    total = sum(p.stat().st_size for p in SPECS.rglob("*") if p.is_file())
    assert total < 3_000_000


def test_every_fixture_is_checked_or_said_to_be_undescribed() -> None:
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*") if p.is_file()}
    unaccounted = sorted(f for f in files if f not in CHECKED_FIXTURES
                         and not any(f == k or f.startswith(k + "/") for k in UNDESCRIBED))
    assert unaccounted == [], "map these fixtures to an operation in tests/contracts/cases.py"
    assert not CHECKED_FIXTURES & set(UNDESCRIBED)
    stale = sorted(f for f in UNDESCRIBED if not (FIXTURES / f).exists())
    assert stale == []


def test_every_known_mismatch_is_written_up() -> None:
    text = (HERE / "KNOWN_MISMATCHES.md").read_text(encoding="utf-8")
    docs = (HERE.parents[1] / "docs" / "contracts.md").read_text(encoding="utf-8")
    for entry in KNOWN:
        assert f"## {entry.id}" in text, entry.id
        assert entry.id in docs, entry.id


# --- the checks bite -------------------------------------------------------------------------


def test_an_undeclared_query_parameter_is_named_with_its_spec_place() -> None:
    problems = x_spec().check_request(
        "GET", "https://api.x.com/2/tweets/search/recent",
        query=[("query", "acme"), ("max_results", "100"), ("tweets.fields", "lang")])
    assert [str(p) for p in problems] == [
        "x: query tweets.fields: GET /2/tweets/search/recent declares no query parameter "
        "'tweets.fields' (it declares end_time, expansions, max_results, media.fields, "
        "next_token, pagination_token, place.fields, poll.fields, post.fields, query, "
        "since_id, sort_order, start_time, until_id, user.fields) "
        "[spec: x/openapi.json#/paths/~12~1tweets~1search~1recent/get/parameters]"]


def test_a_value_outside_its_schema_is_named() -> None:
    problems = x_spec().check_request(
        "GET", "/2/tweets/search/recent",
        query=[("query", "acme"), ("max_results", "500"), ("user.fields", "username,shoe_size")])
    fields = sorted(p.field for p in problems)
    assert fields == ["query max_results", "query user.fields[1]"]
    assert [p.spec for p in sorted(problems, key=lambda p: p.field)] == [
        "x/openapi.json#/paths/~12~1tweets~1search~1recent/get/parameters/1/schema",
        "x/openapi.json#/components/parameters/UserFieldsParameter/schema/items"]


def test_a_broken_answer_is_named_down_to_the_field() -> None:
    body = fixture("x", "tweet_created.json")
    body["data"]["id"] = 1859  # ids are strings
    problems = x_spec().check_response("POST", "/2/tweets", 201, body)
    assert [(p.service, p.field) for p in problems] == [("x", "body.data.id")]
    assert "x/openapi.json#/components/schemas/" in problems[0].spec


def test_a_lexicon_counts_bytes_and_graphemes() -> None:
    record = {"$type": "app.bsky.feed.post", "text": "ä" * 301,
              "createdAt": "2026-11-20T09:00:00Z"}
    problems = Lexicons().check("app.bsky.feed.post", record, "record", strict=True)
    assert {p.message for p in problems} == {"301 graphemes, at most 300"}
    assert problems[0].spec == "atproto/lexicons/app/bsky/feed/post.json" \
                               "#/defs/main/record/properties/text"
    record["text"] = "ok"
    record["langs"] = ["en"]
    record["lang"] = "en"  # not a field of the lexicon
    problems = Lexicons().check("app.bsky.feed.post", record, "record", strict=True)
    assert [p.field for p in problems] == ["record"]
    assert "not defined by the lexicon" in problems[0].message


def test_a_discovery_method_holds_parameters_and_field_types() -> None:
    youtube = Discovery("youtube", "youtube/youtube.v3.json")
    problems = youtube.check_request(
        "POST", "/youtube/v3/comments", [("part", "snippet"), ("parts", "id")],
        body={"snippet": {"parentId": 42, "textOriginal": "hi"}})
    assert sorted(p.field for p in problems) == ["body.snippet.parentId", "query parts"]
    assert youtube.check_request("GET", "/youtube/v3/commentThreads", [
        ("part", "snippet"), ("videoId", "v"), ("order", "newest")])[0].field == "query order"
    answer = copy.deepcopy(fixture("youtube", "videos.json"))
    answer["items"][0]["snippet"]["title"] = ["not", "a", "string"]
    assert [p.field for p in youtube.check_response("GET", "/youtube/v3/videos", answer)] == [
        "body.items[0].snippet.title"]


def test_slack_arguments_are_matched_by_name() -> None:
    problems = SlackWebApi().check_request("chat.postMessage",
                                           {"channel": "C0ECHTCARDS", "txet": "hi"},
                                           bearer=True)
    assert [p.field for p in problems] == ["chat.postMessage txet"]


def test_a_graphql_document_or_answer_that_breaks_githubs_schema_is_named() -> None:
    from integrations.networks import github_net
    from tests.contracts.cases import github_graphql

    schema = github_graphql()
    wrong = github_net.DISCUSSIONS.replace("upvoteCount", "likeCount")
    problems = schema.check_request({"query": wrong, "variables": {"q": "acme"}})
    assert [p.message for p in problems] == [
        "Cannot query field 'likeCount' on type 'Discussion'."]
    assert schema.check_request({"query": github_net.ADD_COMMENT,
                                 "variables": {"id": "D_1"}})  # $body: String! missing
    answer = fixture("github", "add_discussion_comment.json")
    del answer["data"]["addDiscussionComment"]["comment"]["url"]  # URI! in the schema
    [problem] = schema.check_response(github_net.ADD_COMMENT, {"id": "D_1", "body": "x"},
                                      answer)
    assert problem.field == "data addDiscussionComment.comment.url"
    assert "non-nullable" in problem.message


def test_a_slack_answer_unlike_slacks_recorded_answers_is_named() -> None:
    from tests.contracts.validate import SlackSamples

    samples = SlackSamples()
    assert samples.check_response("files.getUploadURLExternal", {
        "ok": True, "file_id": "F1", "upload_url": "https://files.slack.com/upload/v1/x"}) == []
    problems = samples.check_response("files.completeUploadExternal", {
        "ok": True, "files": [{"id": "F1", "title": 7, "link": "https://x"}]})
    assert [(p.field, p.message) for p in problems] == [
        ("files.completeUploadExternal.files[0].title", "number where Slack answers string"),
        ("files.completeUploadExternal.files[0].link",
         "a field Slack's recorded answers never have")]
