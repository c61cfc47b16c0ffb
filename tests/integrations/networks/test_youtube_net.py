"""YouTube Data API v3 against a fake googleapis.com (and its OAuth token endpoint)."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from bot.domain import ReplyState
from bot.networks import ReplyRejected
from bot.pipeline import Pipeline
from bot.store import Store
from integrations.networks import youtube_net
from tests.integrations.networks import service_rules
from tests.integrations.networks.conftest import (
    Gate,
    NoSleep,
    console_reply,
    fixture,
    pump_rounds,
    stored,
    stored_mention,
)

API = "https://yt.example/youtube/v3"
TOKEN_URL = "https://oauth2.example/token"
KEY = "AIzaSyA-test-key"
CHANNEL = "UCacmeOfficial0000000001"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class FakeYouTube:
    def __init__(self) -> None:
        self.threads: list[dict[str, Any]] = fixture("youtube", "comment_threads.json")["items"]
        self.requests: list[httpx.Request] = []
        self.inserted: list[dict[str, Any]] = []
        self.fail: dict[str, list[httpx.Response]] = {}
        self.tokens = 0

    def add(self, n: int, text: str, video: str = "acmeK2rev01") -> str:
        thread = copy.deepcopy(self.threads[1])
        cid = f"UgyNEW{n:04d}AaABAg"
        stamp = f"2026-11-20T08:50:{n:02d}Z"
        thread["id"] = cid
        thread["snippet"]["videoId"] = video
        top = thread["snippet"]["topLevelComment"]
        top["id"] = cid
        top["snippet"].update(textOriginal=text, textDisplay=text, videoId=video,
                              publishedAt=stamp, updatedAt=stamp)
        self.threads.insert(0, thread)
        return cid

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path.removeprefix("/youtube/v3")
        if self.fail.get(path):
            return self.fail[path].pop(0)
        if request.url.host == "oauth2.example":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["refresh_token"]
            if form["refresh_token"] != ["1//refresh"]:
                return httpx.Response(400, json={"error": "invalid_grant",
                                                 "error_description": "Bad Request"})
            self.tokens += 1
            return httpx.Response(200, json={"access_token": f"ya29.fresh-{self.tokens}",
                                             "expires_in": 3599, "token_type": "Bearer",
                                             "scope": "https://www.googleapis.com/auth/"
                                                      "youtube.force-ssl"})
        params = request.url.params
        if request.method == "POST" and path == "/comments":
            if not request.headers.get("Authorization", "").startswith("Bearer ya29.fresh-"):
                return httpx.Response(401, json={"error": {"code": 401,
                                                           "message": "Invalid Credentials"}})
            body = json.loads(request.content)
            self.inserted.append({"params": dict(params), "body": body})
            # 10,000 characters; 400 commentTextTooLong / commentTextRequired
            # (developers.google.com/youtube/v3/docs/comments/insert; service_rules.py).
            refused = service_rules.youtube_comment_text(body["snippet"].get("textOriginal"))
            if refused:
                return httpx.Response(refused[0], json=refused[1])
            if not any(t["id"] == body["snippet"]["parentId"] for t in self.threads):
                return httpx.Response(404, json={"error": {
                    "code": 404, "message": "The comment identified by the request's parentId "
                                            "parameter could not be found.",
                    "errors": [{"reason": "parentNotFound"}]}})
            return httpx.Response(200, json=fixture("youtube", "comment_inserted.json"))
        if request.headers.get("X-Goog-Api-Key") != KEY and "mine" not in params:
            return httpx.Response(400, json={"error": {"code": 400,
                                                       "message": "API key not valid."}})
        if path == "/commentThreads":
            if "videoId" in params:
                hits = [t for t in self.threads if t["snippet"]["videoId"] == params["videoId"]]
            else:
                hits = [t for t in self.threads
                        if t["snippet"]["channelId"] == params["allThreadsRelatedToChannelId"]]
            start = int(params.get("pageToken", "0"))
            size = int(params["maxResults"])
            body = {"kind": "youtube#commentThreadListResponse",
                    "items": hits[start:start + size],
                    "pageInfo": {"totalResults": len(hits), "resultsPerPage": size}}
            if start + size < len(hits):
                body["nextPageToken"] = str(start + size)
            return httpx.Response(200, json=body)
        if path == "/videos":
            wanted = params["id"].split(",")
            items = [v for v in fixture("youtube", "videos.json")["items"] if v["id"] in wanted]
            return httpx.Response(200, json={"kind": "youtube#videoListResponse",
                                             "items": items})
        if path == "/channels":
            found = (params.get("forHandle") == "@acmeofficial" or params.get("id") == CHANNEL
                     or params.get("mine") == "true")
            page = fixture("youtube", "channels.json")
            return httpx.Response(200, json=page if found else dict(page, items=[]))
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not Found"}})


@pytest.fixture
def fake() -> FakeYouTube:
    return FakeYouTube()


@pytest.fixture
async def client(fake: FakeYouTube) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as c:
        yield c


def build(client: httpx.AsyncClient, *, sleep: Any = None, videos: tuple[str, ...] = (
        "acmeK2rev01",)) -> Any:
    oauth = youtube_net.OAuth(client, token_url=TOKEN_URL, refresh_token="1//refresh",
                              client_id="cid.apps.googleusercontent.com", client_secret="s")
    return youtube_net.components(client, api_url=API, api_key=KEY, channel_id=CHANNEL,
                             video_ids=videos, oauth=oauth, interval=60,
                             sleep=sleep or NoSleep(), now=lambda: NOW)


async def test_channel_and_video_threads_become_posts(client: httpx.AsyncClient,
                                                      fake: FakeYouTube) -> None:
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    # The brand's own answer in the thread is left out.
    assert list(by_id) == ["UgzWm3bV4nX9pQ2rK1d4AaABAg", "UgzWm3bV4nX9pQ2rK1d4AaABAg.AAbbCCdd001",
                           "Ugx7TnQ1aB2cD3eF4gH5AaABAg"]
    greta = by_id["UgzWm3bV4nX9pQ2rK1d4AaABAg"]
    assert greta.text == ("Mine stopped charging after the last update 😞 any fix?\n\n"
                          "(on: Acme V3 robot vacuum – setup guide)")
    assert greta.url == "https://www.youtube.com/watch?v=dQw4acmeV3x&lc=UgzWm3bV4nX9pQ2rK1d4AaABAg"
    assert (greta.author.handle, greta.likes, greta.replies) == ("gadgetgreta", 12, 2)
    tom = by_id["UgzWm3bV4nX9pQ2rK1d4AaABAg.AAbbCCdd001"]
    assert tom.in_reply_to == "UgzWm3bV4nX9pQ2rK1d4AaABAg"
    assert json.loads(batch.cursor or "") == {"threads": {
        f"channel:{CHANNEL}": "2026-11-20T08:30:00Z", "video:acmeK2rev01": "2026-11-20T07:02:11Z"}}
    listing = next(r for r in fake.requests if r.url.path.endswith("/commentThreads"))
    assert "key" not in listing.url.params  # the key travels in a header, not in the URL
    assert listing.url.params["order"] == "time"


async def test_next_poll_brings_only_new_comments(client: httpx.AsyncClient,
                                                  fake: FakeYouTube) -> None:
    source, _, _, _ = build(client)
    first = await source.poll_once(None)
    new = fake.add(1, "Does the K2 descale itself?")
    second = await source.poll_once(first.cursor)
    assert [p.external_id for p in second.posts] == [new]
    assert second.posts[0].text.endswith("(on: Acme K2 kettle review)")
    videos = [r for r in fake.requests if r.url.path.endswith("/videos")]
    assert len(videos) == 1  # titles are cached


async def test_quota_exhaustion_fails_the_poll_loudly(client: httpx.AsyncClient,
                                                      fake: FakeYouTube) -> None:
    source, _, _, _ = build(client)
    fake.fail["/commentThreads"] = [httpx.Response(403, json=fixture("youtube",
                                                                     "quota_exceeded.json"))]
    with pytest.raises(Exception, match="exceeded your"):
        await source.poll_once(None)


async def test_into_the_store_and_a_reply_from_the_console(
    client: httpx.AsyncClient, fake: FakeYouTube, pipeline: Pipeline, sqlite_store: Store,
    gate: Gate,
) -> None:
    source, responder, _, _ = build(client)
    source.sleep = gate
    await pump_rounds(source, pipeline, gate)
    views = {v.mention.external_id: v.mention for v in stored(sqlite_store)}
    # None of the comments names Acme; the video titles do.
    assert len(views) == 3
    tom = views["UgzWm3bV4nX9pQ2rK1d4AaABAg.AAbbCCdd001"]
    result = await console_reply(sqlite_store, {"youtube": responder}, tom.id,
                                 "Update 3.1.2 fixes it, sorry for the trouble!")
    assert result.ok, result.text
    assert result.text.endswith(
        "https://www.youtube.com/watch?v=dQw4acmeV3x&lc=UgzWm3bV4nX9pQ2rK1d4AaABAg.AAbbCCdd099")
    (sent,) = fake.inserted
    # A reply to a reply goes under the thread's top-level comment.
    assert sent == {"params": {"part": "snippet"}, "body": {"snippet": {
        "parentId": "UgzWm3bV4nX9pQ2rK1d4AaABAg",
        "textOriginal": "Update 3.1.2 fixes it, sorry for the trouble!"}}}
    assert fake.tokens == 1

    fake.threads.pop(1)  # Hanna's thread was deleted
    hanna = views["Ugx7TnQ1aB2cD3eF4gH5AaABAg"]
    result = await console_reply(sqlite_store, {"youtube": responder}, hanna.id, "Thanks!")
    assert not result.ok and "parentId" in result.text
    assert sqlite_store.view(hanna.id).replies[0].state == ReplyState.FAILED
    assert fake.tokens == 1  # the access token is reused until it expires


async def test_followers_verify_and_length(client: httpx.AsyncClient) -> None:
    _, responder, read, write = build(client)
    assert await youtube_net.follower_count(read, "acmeofficial") == 52100
    assert await youtube_net.follower_count(read, CHANNEL) == 52100
    assert await youtube_net.follower_count(read, "@nobody") is None
    assert await youtube_net.verify(read, write, CHANNEL) == (
        "API key works (channel: Acme Official); replies as Acme Official")
    assert responder.check("x" * 10_001) == "youtube allows 10000 characters, this reply has 10001"


async def test_comments_without_text_original_are_read_from_text_display(
    client: httpx.AsyncClient, fake: FakeYouTube,
) -> None:
    """With an API key Google only guarantees textOriginal to the comment's author; textDisplay
    (HTML) is what usually comes. It becomes plain text: entities decoded once, <br> a line
    break, tags dropped, a link's text kept."""
    fake.threads = fixture("youtube", "comment_threads_display_only.json")["items"]
    source, _, _, _ = build(client)
    batch = await source.poll_once(None)
    by_id = {p.external_id: p for p in batch.posts}
    kai = by_id["UgzKaiK2lidLeaks0001AaABAg"]
    assert kai.text == ("Tom & Jerry's favourite kettle?\nMine leaks at the lid <3 anyway\n\n"
                        "Manual: https://www.acme.example/k2/manual?lang=en&v=2\n\n"
                        "(on: Acme K2 kettle review)")
    leni = by_id["UgzKaiK2lidLeaks0001AaABAg.AEeFfGgHh01"]
    assert leni.text.startswith('Same here – see 0:42, the lid "clicks" but doesn\'t seal\n\n')
    assert leni.in_reply_to == "UgzKaiK2lidLeaks0001AaABAg"
    # Someone who typed an entity keeps it: decoded once, "&lt;b&gt;", not "<b>".
    mo = by_id["UgzKaiK2lidLeaks0001AaABAg.AEeFfGgHh02"]
    assert mo.text.startswith("I typed &lt;b&gt; on purpose <i>not bold</i>\n\n")
    listings = [r for r in fake.requests if r.url.path.endswith("/commentThreads")]
    assert {r.url.params["textFormat"] for r in listings} == {"html"}  # what we parse


@pytest.mark.parametrize(("display", "text"), [
    ('<script>alert("x")</script>thanks', "thanks"),
    ('<img src=x onerror="alert(1)">nice <a href="javascript:alert(1)">click</a>', "nice click"),
    ("<b><i>unclosed <u>tags", "unclosed tags"),
    ("a<!-- hidden -->b<![CDATA[c]]>d", "abd"),
    ("&#0;&#x110000;&bogus; &amp;amp; &#39;", "\ufffd\ufffd&bogus; &amp; '"),
    ("</p></br><br/>x<br><br><br><br>y", "x\n\ny"),
    ("<div>" * 5_000 + "deep" + "</div>" * 5_000, "deep"),
    ("&lt;script&gt;alert(1)&lt;/script&gt;", "<script>alert(1)</script>"),
    ("\u202eevil\u202c &nbsp;x", "\u202eevil\u202c  x"),
])
def test_hostile_markup_in_text_display_becomes_plain_text(display: str, text: str) -> None:
    comment = copy.deepcopy(fixture("youtube", "comment_threads_display_only.json")
                            ["items"][0]["snippet"]["topLevelComment"])
    comment["snippet"]["textDisplay"] = display
    post = youtube_net.comment_to_post(comment, video_title=None)
    assert post.text == text
    # Markup the author escaped stays text; nothing YouTube sent as markup survives as a tag.
    assert "<img" not in post.text and "<a " not in post.text and "<div" not in post.text


@pytest.mark.parametrize("display", ["<script>alert(1)</script>", "<br><br>", "<p> </p>", ""])
def test_text_display_with_no_words_is_a_malformed_comment(display: str) -> None:
    comment = copy.deepcopy(fixture("youtube", "comment_threads_display_only.json")
                            ["items"][0]["snippet"]["topLevelComment"])
    comment["snippet"]["textDisplay"] = display
    with pytest.raises(ValueError, match="comment without text"):
        youtube_net.comment_to_post(comment, video_title="Acme K2 kettle review")


async def test_youtube_refuses_an_over_long_reply_and_it_is_rejected(
    client: httpx.AsyncClient, fake: FakeYouTube, sqlite_store: Store,
) -> None:
    """reply() sends what it is given (the length check is responder.check, run by /reply);
    comments.insert's 400 commentTextTooLong comes back as ReplyRejected with its reason."""
    _, responder, _, _ = build(client)
    mention = sqlite_store.view(stored_mention(
        sqlite_store, "youtube", "Ugx7TnQ1aB2cD3eF4gH5AaABAg",
        url="https://www.youtube.com/watch?v=acmeK2rev01&lc=Ugx7TnQ1aB2cD3eF4gH5AaABAg")).mention
    with pytest.raises(ReplyRejected, match=r"^HTTP 400: The comment resource that is being "
                                            r"inserted contains too many characters in the "
                                            r"snippet.textOriginal property. "
                                            r"\(commentTextTooLong\)$"):
        await responder.reply(mention=mention, text="x" * 10_001)
    assert len(fake.inserted) == 1  # it reached YouTube, which said no
    await responder.reply(mention=mention, text="x" * 10_000)
    assert len(fake.inserted) == 2


async def test_the_check_refuses_an_over_long_reply_before_sending(
    client: httpx.AsyncClient, fake: FakeYouTube, sqlite_store: Store,
) -> None:
    _, responder, _, _ = build(client)
    mid = stored_mention(sqlite_store, "youtube", "Ugx7TnQ1aB2cD3eF4gH5AaABAg")
    result = await console_reply(sqlite_store, {"youtube": responder}, mid, "x" * 10_001)
    assert not result.ok
    assert "not sent: youtube allows 10000 characters, this reply has 10001" in result.text
    assert fake.inserted == [] and fake.tokens == 0 and not sqlite_store.view(mid).replies
