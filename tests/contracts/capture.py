"""A capturing stand-in for a network's HTTP API: the real client code runs against it, every
request it builds is recorded for the contract checks, and it answers with the fixtures (which
the fixture cases hold to the same descriptions).

Deliberately dumb: routes are (method, path regex) -> (status, JSON), so whatever the client
sends, it is recorded as sent, not as a fake would accept it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.models import Mention

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Answer = tuple[int, Any] | Callable[[httpx.Request], tuple[int, Any]]


def fixture(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / name).read_text(encoding="utf-8"))


@dataclass
class Sent:
    """One request as it left the client."""

    method: str
    url: str
    path: str
    query: list[tuple[str, str]]
    body: Any  # parsed JSON, a dict for a form, or None
    form: bool = False
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names


@dataclass
class Recorder:
    """An httpx MockTransport handler with fixed answers per route."""

    routes: list[tuple[str, str, Answer]]
    sent: list[Sent] = field(default_factory=list)
    unrouted: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body: Any = None
        form = False
        if request.content:
            kind = request.headers.get("content-type", "")
            if "json" in kind:
                body = json.loads(request.content)
            elif "x-www-form-urlencoded" in kind:
                body = dict(httpx.QueryParams(request.content.decode()).multi_items())
                form = True
            else:
                body = request.content
        self.sent.append(Sent(request.method, str(request.url), request.url.path,
                              list(request.url.params.multi_items()), body, form,
                              {k.lower(): v for k, v in request.headers.items()}))
        for method, pattern, answer in self.routes:
            if method == request.method and re.fullmatch(pattern, request.url.path):
                status, payload = answer(request) if callable(answer) else answer
                return httpx.Response(status, json=payload)
        self.unrouted.append(f"{request.method} {request.url.path}")
        return httpx.Response(404, json={"error": "not routed by the contract test"})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


async def no_sleep(seconds: float) -> None:
    """Back-off and polling sleeps return at once: the checks look at requests, not time."""


def mention(network: str, external_id: str, url: str, *,
            in_reply_to: str | None = None) -> Mention:
    """A stored mention as a responder receives it (not written to any database)."""
    return Mention(id=42, brand_id=1, network=network, external_id=external_id, url=url,
                   canonical_url=url, author_id=1, text="the customer's post",
                   text_hash="0" * 64, in_reply_to=in_reply_to,
                   created_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
                   seen_at=datetime(2026, 11, 20, 8, 1, tzinfo=UTC))
