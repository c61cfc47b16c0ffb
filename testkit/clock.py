"""A monotonic clock that a test advances, shared by a fake and the code under test.

The fake Slack counts its rate limits on `clock`, and the Slack adapter paces on `clock` and
waits with `sleep`: given one `Monotonic`, the adapter's waits advance the clock the fake counts
on, so a test runs at Slack's real pace (one message a second per channel) without waiting for
it, and the fake's limits stay exactly as strict as in real time."""

from __future__ import annotations

import asyncio
import time


class Monotonic:
    """Seconds on a clock that moves only when told to (`advance`) or slept on (`sleep`)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept = 0.0  # total seconds `sleep` skipped

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        self.now += seconds
        return self.now

    async def sleep(self, seconds: float) -> None:
        """What `asyncio.sleep` would wait, passed at once; other tasks still get their turn."""
        if seconds > 0:
            self.now += seconds
            self.slept += seconds
        await asyncio.sleep(0)


class Scaled:
    """Real time run `factor` times faster, the same in every process of a test (it reads the
    system's monotonic clock): for the fault tests whose bot runs in its own process, the fake
    Slack counts its limits on `Scaled(k)` and the bot paces on it (`sleep` waits 1/k of the
    time), so 10,000 cards go out at Slack's pace of one a second per channel, k times faster.

    The adapter's margin under the fake's burst (one message) then absorbs 1/k s of delay
    between pacing and arrival; a message later than that is refused with 429 as Slack would,
    and the relay sends it again after Retry-After (in real seconds: later, never sooner)."""

    def __init__(self, factor: float) -> None:
        if factor <= 0:
            raise ValueError("the factor must be positive")
        self.factor = factor

    def __call__(self) -> float:
        return time.monotonic() * self.factor

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0) / self.factor)
