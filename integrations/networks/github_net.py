"""GitHub: issues (REST `GET /search/issues`) and discussions (GraphQL `search(type:
DISCUSSION)`) that name the brand, and replies as comments (REST issue comment, GraphQL
`addDiscussionComment`).

A personal access token (classic: `public_repo`; fine-grained: Issues and Discussions
read/write on the repositories to answer in) is enough. Search allows 30 requests a minute and
1,000 results per query, so polls slice by `created:>=` the newest issue already seen.

Cursor (JSON): `{"issues": {query: newest created_at}, "discussions": {query: newest}}`.
External ids: `owner/repo#123` for issues, the node id (`D_...`) for discussions.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from bot.clock import utcnow
from bot.domain import Author, Post
from bot.models import Mention
from bot.networks import Batch, PostedReply, ReplyRejected, length_problem
from integrations.networks import specs
from integrations.networks.http_common import (
    JSON,
    Api,
    ApiError,
    RateHeaders,
    Sleep,
    as_int,
    parse_time,
    pick,
    response_json,
    send_reply,
)
from integrations.networks.plugin import BuildContext, Parts, Plugin, secret
from integrations.networks.polling import PollingSource, dump_cursor, load_cursor
from integrations.networks.settings import GitHubSettings
from integrations.networks.terms import SearchTerm, TermsProvider

log = logging.getLogger(__name__)

NETWORK = "github"
PAGE = 100
MAX_PAGES = 3
# "Body is too long (maximum is 65536 characters)" (422 on REST, a GraphQL error on
# addDiscussionComment); Ruby counts code points, like len().
MAX_BODY = 65_536
RATE = RateHeaders(remaining="x-ratelimit-remaining", reset="x-ratelimit-reset",
                   reset_kind="epoch")
_ISSUE_ID = re.compile(r"^([\w.-]+/[\w.-]+)#(\d+)$")
_REPO_URL = re.compile(r"/repos/([\w.-]+/[\w.-]+)$")

DISCUSSIONS = """
query($q: String!, $after: String) {
  search(query: $q, type: DISCUSSION, first: 50, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      ... on Discussion {
        id number title url bodyText createdAt upvoteCount
        author { login url }
        repository { nameWithOwner }
        comments { totalCount }
        reactions { totalCount }
      }
    }
  }
}
"""

ADD_COMMENT = """
mutation($id: ID!, $body: String!) {
  addDiscussionComment(input: {discussionId: $id, body: $body}) {
    comment { id url }
  }
}
"""


def graphql_url(api_url: str) -> str:
    """api.github.com/graphql, or /api/graphql on GitHub Enterprise Server (/api/v3)."""
    base = api_url.rstrip("/")
    return base[: -len("/v3")] + "/graphql" if base.endswith("/api/v3") else base + "/graphql"


def api_for(client: httpx.AsyncClient, api_url: str, token: str, *, sleep: Sleep,
            now: Callable[[], datetime]) -> Api:
    return Api(client, api_url, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28"}, rate=RATE, sleep=sleep, now=now)


def search_text(term: SearchTerm) -> str:
    return f'"{term.text}"' if term.kind == "phrase" else term.text


def issue_to_post(item: JSON) -> Post:
    """A search result issue as a Post, its id `owner/repo#number`."""
    repo = _REPO_URL.search(str(item.get("repository_url") or ""))
    number = as_int(item.get("number"))
    login = pick(item, "user", "login")
    if repo is None or number is None or not isinstance(login, str):
        raise ValueError("issue without repository, number or author")
    title = str(item.get("title") or "")
    body = str(item.get("body") or "")
    text = f"{title}\n\n{body}".strip()
    if not text:
        raise ValueError("issue without text")
    url = item.get("html_url")
    if not isinstance(url, str):
        raise ValueError("issue without html_url")
    return Post(
        network=NETWORK,
        external_id=f"{repo.group(1)}#{number}",
        url=url,
        author=Author(handle=login, url=pick(item, "user", "html_url")),
        text=text,
        created_at=parse_time(item.get("created_at")),
        likes=as_int(pick(item, "reactions", "total_count")),
        replies=as_int(item.get("comments")),
        extra={"repo": repo.group(1)},
    )


def discussion_to_post(node: JSON) -> Post:
    node_id = node.get("id")
    login = pick(node, "author", "login") or "ghost"  # deleted accounts are null
    if not isinstance(node_id, str) or not node_id:
        raise ValueError("discussion without id")
    text = f"{node.get('title') or ''}\n\n{node.get('bodyText') or ''}".strip()
    url = node.get("url")
    if not text or not isinstance(url, str):
        raise ValueError("discussion without text or url")
    likes = as_int(node.get("upvoteCount"))
    return Post(
        network=NETWORK,
        external_id=node_id,
        url=url,
        author=Author(handle=str(login), url=pick(node, "author", "url")),
        text=text,
        created_at=parse_time(node.get("createdAt")),
        likes=likes if likes is not None else as_int(pick(node, "reactions", "totalCount")),
        replies=as_int(pick(node, "comments", "totalCount")),
        extra={"repo": str(pick(node, "repository", "nameWithOwner") or "")},
    )


class GitHubSource(PollingSource):
    """Issues (REST search) and discussions (GraphQL search) naming the brands' terms."""

    name = "github"

    def __init__(self, api: Api, terms: TermsProvider, *, interval: float,
                 discussions: bool = True, sleep: Sleep = asyncio.sleep) -> None:
        super().__init__(interval=interval, sleep=sleep)
        self.api = api
        self.terms = terms
        self.discussions = discussions
        self.login: str | None = None

    async def poll_once(self, cursor: str | None) -> Batch:
        state = load_cursor(cursor)
        if self.login is None:
            me = await self.api.get_json("/user")
            self.login = me.get("login") if isinstance(me, dict) else None
        queries = sorted({search_text(t) for t in await self.terms()})
        posts: list[Post] = []
        issues: dict[str, str] = {}
        talks: dict[str, str] = {}
        for query in queries:
            found, newest = await self._issues(query, (state.get("issues") or {}).get(query))
            posts += found
            if newest:
                issues[query] = newest
            if self.discussions:
                found, newest = await self._discussions(
                    query, (state.get("discussions") or {}).get(query))
                posts += found
                if newest:
                    talks[query] = newest
        own = (self.login or "").lower()
        posts = [p for p in posts if p.author.handle.lower() != own]
        return Batch(posts=_unique(posts), cursor=dump_cursor({"issues": issues,
                                                               "discussions": talks}))

    async def _issues(self, query: str, since: str | None) -> tuple[list[Post], str | None]:
        q = f"{query} in:title,body is:issue"
        if since:
            q += f" created:>={since}"
        posts: list[Post] = []
        newest = since
        for page in range(1, MAX_PAGES + 1):
            body = await self.api.get_json("/search/issues", params={
                "q": q, "sort": "created", "order": "desc", "per_page": PAGE, "page": page})
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise ValueError("search/issues answer without items")
            for item in items:
                try:
                    post = issue_to_post(item)
                except (ValueError, TypeError, AttributeError) as exc:
                    log.warning("github: skipped a malformed issue: %s", exc)
                    continue
                posts.append(post)
                stamp = _iso(post.created_at)
                newest = stamp if newest is None or stamp > newest else newest
            if since is None or len(items) < PAGE:
                break
        return posts, newest

    async def _discussions(self, query: str, since: str | None,
                           ) -> tuple[list[Post], str | None]:
        q = f"{query} sort:created-desc"
        if since:
            q += f" created:>={since}"
        posts: list[Post] = []
        newest = since
        after: str | None = None
        for _ in range(MAX_PAGES):
            body = await graphql(self.api, DISCUSSIONS, {"q": q, "after": after})
            search = pick(body, "data", "search") or {}
            for node in search.get("nodes") or []:
                if not isinstance(node, dict) or not node:
                    continue
                try:
                    post = discussion_to_post(node)
                except (ValueError, TypeError) as exc:
                    log.warning("github: skipped a malformed discussion: %s", exc)
                    continue
                posts.append(post)
                stamp = _iso(post.created_at)
                newest = stamp if newest is None or stamp > newest else newest
            info = search.get("pageInfo") or {}
            after = info.get("endCursor")
            if since is None or not info.get("hasNextPage"):
                break
        return posts, newest


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _unique(posts: list[Post]) -> list[Post]:
    by_id: dict[str, Post] = {}
    for post in posts:
        by_id.setdefault(post.external_id, post)
    return list(by_id.values())


async def graphql(api: Api, query: str, variables: dict[str, Any]) -> Any:
    """A GraphQL read; GitHub reports query errors with 200 and `errors`."""
    body = await api.post_json(graphql_url(api.base_url), {"query": query,
                                                           "variables": variables})
    if isinstance(body, dict) and body.get("errors") and not body.get("data"):
        raise ApiError(200, "; ".join(str(e.get("message")) for e in body["errors"]))
    return body


class GitHubResponder:
    """Comments on the issue (REST) or the discussion (GraphQL)."""

    network = NETWORK

    def __init__(self, api: Api) -> None:
        self.api = api

    def check(self, text: str) -> str | None:
        return length_problem(NETWORK, text, MAX_BODY)

    async def reply(self, *, mention: Mention, text: str) -> PostedReply:
        issue = _ISSUE_ID.match(mention.external_id)

        async def post() -> PostedReply:
            if issue is not None:
                repo, number = issue.groups()
                response = await self.api.write(
                    "POST", f"/repos/{repo}/issues/{number}/comments", json_body={"body": text})
                created = response_json(response)
                return PostedReply(id=str(created.get("id")), url=created.get("html_url"))
            response = await self.api.write("POST", graphql_url(self.api.base_url), json_body={
                "query": ADD_COMMENT, "variables": {"id": mention.external_id, "body": text}})
            body = response_json(response)
            if body.get("errors"):
                raise ReplyRejected("; ".join(str(e.get("message")) for e in body["errors"]))
            comment = pick(body, "data", "addDiscussionComment", "comment") or {}
            return PostedReply(id=str(comment.get("id")), url=comment.get("url"))

        result: PostedReply = await send_reply(post)
        return result


async def follower_count(api: Api, handle: str) -> int | None:
    """Followers of a GitHub user or organisation."""
    try:
        body = await api.get_json(f"/users/{handle.lstrip('@')}")
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("github: followers of %s unknown: %s", handle, exc)
        return None
    return as_int(body.get("followers")) if isinstance(body, dict) else None


async def verify(api: Api) -> str:
    api.attempts = 1
    me = await api.get_json("/user")
    return f"@{me.get('login')}"


def components(client: httpx.AsyncClient, *, api_url: str, token: str, terms: TermsProvider,
          interval: float, sleep: Sleep = asyncio.sleep, now: Callable[[], datetime] = utcnow,
          ) -> tuple[GitHubSource, GitHubResponder, Api]:
    api = api_for(client, api_url, token, sleep=sleep, now=now)
    return GitHubSource(api, terms, interval=interval, sleep=sleep), GitHubResponder(api), api


# --- the plug-in --------------------------------------------------------------------------------


def build(ctx: BuildContext[GitHubSettings]) -> Parts | None:
    token = secret(ctx.settings.token)
    if not token:
        return None
    source, responder, api = components(
        ctx.client, api_url=ctx.settings.api_url, token=token, terms=ctx.terms(NETWORK),
        interval=ctx.shared.poll_seconds)
    return Parts(sources=[source], responder=responder,
                 check=("issue and discussion search; comments", lambda: verify(api)),
                 followers=lambda handle: follower_count(api, handle))


PLUGIN = Plugin(spec=specs.GITHUB, settings=GitHubSettings, build=build)
