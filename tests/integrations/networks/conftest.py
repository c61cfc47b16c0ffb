"""Shared helpers for the network tests: a store with a brand and the real pipeline, a sleep
that never waits, a gate that lets a source's loop run exactly one round, and the console's
`/reply` command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.enrich import LanguageDetector
from bot.networks import Responder, Source
from bot.pipeline import Pipeline
from bot.runner import pump
from bot.store import Store
from commands import dispatch
from commands.base import Deps, Invocation, Result, Role
from testkit.factories import new_mention
from tests.conftest import Clock

FIXTURES = Path(__file__).parents[2] / "fixtures"


def fixture(network: str, name: str) -> Any:
    """A sample payload from tests/fixtures/<network>/<name>."""
    return json.loads((FIXTURES / network / name).read_text(encoding="utf-8"))


class NoSleep:
    """An injected sleep that records how long the code wanted to wait, and returns."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        await asyncio.sleep(0)


class Gate:
    """A source's interval sleep: signals each completed round, then waits to be released."""

    def __init__(self) -> None:
        self.rounds = 0
        self._polled = asyncio.Event()
        self._release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.rounds += 1
        self._polled.set()
        await self._release.wait()
        self._release.clear()

    async def next_round(self) -> None:
        """Wait until the source finished one more round (its batch stored)."""
        await asyncio.wait_for(self._polled.wait(), 10)
        self._polled.clear()

    def release(self) -> None:
        self._release.set()


@pytest.fixture(scope="session")
def language() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture
def pipeline(sqlite_store: Store, clock: Clock, language: LanguageDetector) -> Pipeline:
    """The real pipeline over SQLite, with brand Acme routed to the console channel `care`."""
    sqlite_store.add_brand(name="Acme", query="acme OR #acme OR @acme -jobs", actor="t")
    sqlite_store.add_route(brand="Acme", platform="console", channel="care", actor="t")
    return Pipeline(sqlite_store, language=language, now=clock,
                    repost_window=timedelta(hours=24))


async def pump_rounds(source: Source, pipeline: Pipeline, gate: Gate, rounds: int = 1) -> None:
    """Run the real runner over `source` for `rounds` polling rounds, then stop it."""
    task = asyncio.create_task(pump(source, pipeline))
    try:
        for n in range(rounds):
            if n:
                gate.release()
            await gate.next_round()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def console_reply(store: Store, responders: Mapping[str, Responder], mention_id: int,
                        text: str) -> Result:
    """`/reply <id> <text>` typed at the console by a responder."""
    inv = Invocation(user="ana", platform="console", roles=frozenset({Role.RESPONDER}))
    return await dispatch(f"/reply {mention_id} {text}", inv,
                          Deps(store=store, responders=responders))


def stored_mention(store: Store, network: str, external_id: str, *, url: str | None = None,
                   in_reply_to: str | None = None) -> int:
    """A mention on `network` written straight into the store (no source, no pipeline), for
    tests that only need something to reply to; its id."""
    brand = next((b for b in store.brands() if b.name == "Acme"), None) or store.add_brand(
        name="Acme", query="acme", actor="t")
    link = url or f"https://{network}.example/{external_id}"
    (mid,) = store.write_mentions([new_mention(
        brand.id or 0, network=network, external_id=external_id, url=link,
        canonical_url=link, in_reply_to=in_reply_to)], routes={})
    return mid


Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


@pytest.fixture
def no_sleep() -> NoSleep:
    return NoSleep()


@pytest.fixture
def gate() -> Iterator[Gate]:
    yield Gate()


def stored(store: Store) -> list[Any]:
    """Every stored mention's view, oldest first."""
    views = store.list_mentions(statuses=("new", "claimed", "replied", "resolved", "ignored"),
                                limit=10_000)
    return list(reversed(views))
