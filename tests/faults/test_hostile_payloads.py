"""Issue 8, point 5 (networks): every network's payload parser meets 10,000 hostile examples.

Each pure function that turns one API object into a Post gets JSON-like garbage
(st.recursive of dicts, lists, strings, numbers, None) and mutated copies of the real sample
payloads in tests/fixtures/<network>/ (keys dropped, values swapped for garbage, at any depth).
The contract: a Post, or a ValueError with a message (the source logs it and skips the item);
never TypeError, KeyError, AttributeError or anything else.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bot.domain import Post
from integrations.networks import (
    appstore_net,
    bluesky_net,
    email_mail,
    facebook_net,
    github_net,
    googleplay_net,
    hackernews_net,
    instagram_net,
    lemmy_net,
    mastodon_net,
    mastodon_statuses,
    reddit_net,
    rss_net,
    stackexchange_net,
    threads_net,
    x_net,
    youtube_net,
)

FIXTURES = Path(__file__).parents[1] / "fixtures"
MANY = settings(max_examples=10_000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def load(path: str) -> Any:
    return json.loads((FIXTURES / path).read_text(encoding="utf-8"))


def _instance() -> mastodon_statuses.Instance:
    # Never sends a request: the parser only reads the instance's host and base URL.
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    return mastodon_statuses.Instance(mastodon_net._api(client, "https://social.example", "t",
                                                   sleep=lambda s: None,  # type: ignore[arg-type,return-value]
                                                   now=lambda: NOW))


INSTANCE = _instance()
X_USERS = {u["id"]: u for u in load("x/search_recent.json")["includes"]["users"]}
IG_MEDIA = load("instagram/media.json")["data"][0]
APPSTORE = load("appstore/customer_reviews.json")
FEED = feedparser.parse((FIXTURES / "rss/blog.rss").read_bytes())


def _rss(raw: Any) -> Post:
    # A plain dict: FeedParserDict's deprecated updated->published alias would warn.
    return rss_net.entry_to_post(raw, "Feed", NOW)


# name -> (parser of one raw object, the real objects of that kind from the fixtures)
PARSERS: dict[str, tuple[Callable[[Any], Post], list[Any]]] = {
    "mastodon": (lambda raw: mastodon_statuses.status_to_post(raw, INSTANCE),
                 [*load("mastodon/statuses.json"),
                  load("mastodon/notification_mention.json")["status"]]),
    "bluesky": (bluesky_net.postview_to_post, load("bluesky/search_posts.json")["posts"]),
    "facebook": (facebook_net.graph_to_post,
                 [*load("facebook/page_feed.json")["data"], *load("facebook/tagged.json")["data"],
                  load("facebook/mentioning_post.json"),
                  *load("facebook/post_comments.json")["data"]]),
    "github-issue": (github_net.issue_to_post, load("github/search_issues.json")["items"]),
    "github-discussion": (github_net.discussion_to_post,
                          load("github/discussions.json")["data"]["search"]["nodes"]),
    "hackernews": (hackernews_net.hit_to_post, load("hackernews/search_by_date.json")["hits"]),
    "instagram-comment": (lambda raw: instagram_net.comment_to_post(raw, media=IG_MEDIA),
                          [*load("instagram/comments.json")["data"],
                           load("instagram/mentioned_comment.json")["mentioned_comment"]]),
    "instagram-media": (lambda raw: instagram_net.media_to_post(raw, external_id="tag:1"),
                        [*load("instagram/media.json")["data"],
                         load("instagram/mentioned_media.json")["mentioned_media"]]),
    "lemmy-post": (lambda raw: lemmy_net.post_view_to_post(raw, "https://lemmy.world"),
                   [*load("lemmy/search_posts.json")["posts"],
                    *load("lemmy/community_posts.json")["posts"]]),
    "lemmy-comment": (lambda raw: lemmy_net.comment_view_to_post(raw, "https://lemmy.world"),
                      [*load("lemmy/search_comments.json")["comments"],
                       *load("lemmy/community_comments.json")["comments"],
                       load("lemmy/comment_created.json")["comment_view"]]),
    "stackexchange-question": (lambda raw: stackexchange_net.question_to_post(raw, "so"),
                               load("stackexchange/questions.json")["items"]),
    "stackexchange-answer": (lambda raw: stackexchange_net.answer_to_post(raw, "so"),
                             load("stackexchange/answers.json")["items"]),
    "stackexchange-comment": (lambda raw: stackexchange_net.comment_to_post(raw, "so"),
                              [*load("stackexchange/comments.json")["items"],
                               *load("stackexchange/comment_created.json")["items"]]),
    "threads": (threads_net.media_to_post,
                [*load("threads/keyword_search.json")["data"],
                 *load("threads/mentions.json")["data"],
                 *load("threads/conversation.json")["data"]]),
    "appstore": (lambda raw: appstore_net.review_to_post(
        raw, "1459876543", {r["id"]: r for r in APPSTORE["included"]}, app_name="Acme Home"),
                 APPSTORE["data"]),
    "googleplay": (lambda raw: googleplay_net.review_to_post(raw, "com.acme.app",
                                                             translated="en").post,
                   [*load("googleplay/reviews_page1.json")["reviews"],
                    *load("googleplay/reviews_page2.json")["reviews"]]),
    "reddit": (reddit_net.thing_to_post,
               [*load("reddit/search_new.json")["data"]["children"],
                *load("reddit/subreddit_comments.json")["data"]["children"]]),
    "x": (lambda raw: x_net.tweet_to_post(raw, X_USERS), load("x/search_recent.json")["data"]),
    "youtube": (lambda raw: youtube_net.comment_to_post(raw, video_title="Launch"),
                [t["snippet"]["topLevelComment"]
                 for t in load("youtube/comment_threads.json")["items"]]
                # Comments without textOriginal: their text comes from textDisplay's HTML.
                + [c for t in load("youtube/comment_threads_display_only.json")["items"]
                   for c in [t["snippet"]["topLevelComment"], *t["replies"]["comments"]]]),
    "rss": (_rss, [dict(e) for e in FEED.entries]),
}

SCALARS: list[Any] = [None, True, False, 0, -1, 2**63, 1e308, float("nan"), "", "x", "at://x",
                      "https://x.example/a", "2026-11-20T09:00:00Z", "123", "<p>hi</p>", "t1",
                      "t3", "acme", "\u202e", "\x00", " ", [], {}]


def garbage(rng: random.Random, depth: int = 0) -> Any:
    """A JSON-like value: scalars, odd strings and numbers, lists and objects of them."""
    kind = rng.random()
    if depth >= 3 or kind < 0.5:
        pick = rng.random()
        if pick < 0.6:
            return copy.deepcopy(rng.choice(SCALARS))
        if pick < 0.8:
            return rng.randint(-(2**64), 2**64)
        return "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 12)))
    if kind < 0.75:
        return [garbage(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return garbage_object(rng, depth + 1)


def garbage_object(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    keys = ["id", "text", "uri", "author", "data", "kind", "snippet", "user", "from", "url",
            "created_at", "account", "content", "record", "name", "x", ""]
    return {rng.choice(keys): garbage(rng, depth) for _ in range(rng.randint(0, 6))}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


def mutate(rng: random.Random, originals: list[Any]) -> Any:
    """A real payload with a few of its values (at any depth) replaced by garbage or dropped."""
    value = copy.deepcopy(rng.choice(originals))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(value))
        if not path:
            value = garbage_object(rng)
            continue
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and rng.random() < 0.4:
            del parent[path[-1]]
        else:
            parent[path[-1]] = garbage(rng)
    return value


def payload(seed: int, originals: list[Any]) -> Any:
    """One hostile payload from a seed Hypothesis draws (cheap to draw, so 10,000 examples per
    parser stay fast; a failure names the seed and shows the payload). The top level is an
    object: callers skip list items that are not objects before parsing."""
    rng = random.Random(seed)
    return mutate(rng, originals) if rng.random() < 0.7 else garbage_object(rng)


def _check(parse: Callable[[Any], Post], raw: Any) -> None:
    try:
        post = parse(raw)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(post, Post) and post.external_id and post.text


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_real_fixtures_parse(name: str) -> None:
    """The seeds are real: most become Posts (some samples are deliberately deleted or
    empty items, which the parser refuses with a ValueError)."""
    parse, originals = PARSERS[name]
    parsed = 0
    for raw in originals:
        try:
            parsed += isinstance(parse(raw), Post)
        except ValueError:
            pass
    assert parsed >= 1 and parsed * 2 >= len(originals), name


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_payload_parser_fails_only_with_value_errors(name: str) -> None:
    parse, originals = PARSERS[name]

    @MANY
    @given(st.integers(0, 2**64))
    def check(seed: int) -> None:
        raw = payload(seed, originals)
        note(f"payload: {raw!r}")
        _check(parse, raw)

    check()


# --- e-mail: bytes, not JSON ----------------------------------------------------------------------

MAILS = [p.read_bytes() for p in sorted((FIXTURES / "email").glob("*.eml"))]
_MAIL_BITS = [b"\r\n", b"\n", b":", b"<", b">", b"=?utf-8?q?", b"?=", b"=?x-bad?b?", b"--",
              b"Content-Type: multipart/mixed; boundary=\"b\"\r\n", b"charset=\"nope\"",
              b"Content-Transfer-Encoding: base64\r\n", b"\xff\xfe", b"\x00", b"From: ",
              b"From: <@>", b"Message-ID: <<>>", b"References: <a> <", b"Date: 99 Foo 1",
              b"<a href=\"javascript:x\">", b"<script>", b"=\r\n", b"\t"]


def hostile_mail(seed: int) -> bytes:
    """A real mail with bytes cut, repeated or swapped for pieces of mail syntax, or garbage."""
    rng = random.Random(seed)
    if rng.random() < 0.15:
        return rng.randbytes(rng.randint(0, 400))
    raw = bytearray(rng.choice(MAILS))
    for _ in range(rng.randint(1, 6)):
        at = rng.randint(0, len(raw))
        kind = rng.random()
        if kind < 0.4:
            raw[at:at] = rng.choice(_MAIL_BITS)
        elif kind < 0.7:
            del raw[at:at + rng.randint(1, 40)]
        else:
            raw[at:at + rng.randint(0, 8)] = rng.randbytes(rng.randint(0, 8))
    return bytes(raw)


def test_mail_parser_fails_only_with_value_errors() -> None:
    def parse(raw: bytes) -> Post:
        return email_mail.mail_to_post(raw, url="imap://x", received=NOW)

    assert sum(isinstance(parse(m), Post) for m in MAILS if b"From:" in m) >= 4

    @settings(max_examples=3_000, deadline=None, database=None)
    @given(st.integers(0, 2**64))
    def check(seed: int) -> None:
        raw = hostile_mail(seed)
        note(f"mail: {raw!r}")
        _check(parse, raw)

    check()
