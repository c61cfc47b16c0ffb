"""What the polled networks share: `PollingSource` (a round of requests every `interval`
seconds, a failed round retried after a jittered, growing pause) and their cursors (JSON in the
store, read forgivingly)."""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any

from bot.networks import Batch
from integrations.networks.http_common import JSON, Sleep

log = logging.getLogger(__name__)


# --- polling ----------------------------------------------------------------------------------


class PollingSource(abc.ABC):
    """A source that asks its network every `interval` seconds.

    Subclasses implement `poll_once(cursor) -> Batch`: one round of requests after `cursor`,
    returning the new posts and the cursor to save once they are stored. `stream` loops over it;
    a failed round is logged and retried after a jittered, growing pause, so one network's
    trouble never stops the source nor any other.
    """

    name: str = "polling"

    def __init__(self, *, interval: float, sleep: Sleep = asyncio.sleep,
                 error_backoff_cap: float = 15 * 60.0) -> None:
        self.interval = interval
        self.sleep = sleep
        self.error_backoff_cap = error_backoff_cap

    @abc.abstractmethod
    async def poll_once(self, cursor: str | None) -> Batch:
        """One round of requests after `cursor` (each network module implements it)."""

    async def stream(self, cursor: str | None) -> AsyncIterator[Batch]:
        failures = 0
        while True:
            try:
                batch = await self.poll_once(cursor)
            except Exception as exc:
                failures += 1
                pause = backoff(failures, base=self.interval, cap=self.error_backoff_cap,
                                jitter=True)
                log.warning("%s: poll failed (%s); next try in %.0f s", self.name, exc, pause)
                await self.sleep(pause)
                continue
            failures = 0
            if batch.posts or (batch.cursor is not None and batch.cursor != cursor):
                yield batch
                if batch.cursor is not None:
                    cursor = batch.cursor
            await self.sleep(self.interval)


def backoff(failures: int, *, base: float, cap: float, jitter: bool = False) -> float:
    """THE pause of the networks after `failures` failed tries in a row (a poll, a stream's
    connection): base * 2^(failures - 1), at most `cap`; with `jitter` a random share of it
    (a half to all), so that sources that failed together do not retry together. Single HTTP
    calls retry inside Api, with tenacity."""
    pause = min(base * 2 ** min(max(failures, 1) - 1, 10), cap)
    return random.uniform(pause / 2, pause) if jitter else pause


# --- cursors ----------------------------------------------------------------------------------


def load_cursor(cursor: str | None) -> JSON:
    """A saved cursor as a dict; an unreadable one starts afresh (and says so)."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        log.warning("unreadable cursor %r: starting afresh", cursor[:80])
        return {}
    return value if isinstance(value, dict) else {}


def dump_cursor(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def newer_id(a: str | None, b: str | None) -> str | None:
    """The larger of two numeric string ids (snowflakes): longer is larger, then by text."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b, key=lambda s: (len(s), s))
