"""Runs the sources into the pipeline and keeps the relay going: the bot's main loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from bot import metrics
from bot.networks import Source
from bot.pipeline import IngestReport, Pipeline
from bot.relay import Relay

log = logging.getLogger(__name__)


async def pump(source: Source, pipeline: Pipeline, *, wake: asyncio.Event | None = None,
               report: IngestReport | None = None, stop: asyncio.Event | None = None) -> None:
    """Feed one source into the pipeline; the cursor is saved only after its posts are stored,
    so a crash repeats at most one batch (which dedupe then drops) and never skips one.

    With `stop`, returns once it is set: a batch being stored is stored and its cursor saved
    first (the wait for the next batch is what gets interrupted)."""
    store = pipeline.store
    cursor = await asyncio.to_thread(store.cursor, source=source.name)
    batches = aiter(source.stream(cursor))
    halt = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        while True:
            nxt = asyncio.ensure_future(anext(batches))
            if halt is not None:
                await asyncio.wait([nxt, halt], return_when=asyncio.FIRST_COMPLETED)
                if not nxt.done():
                    nxt.cancel()
                    await asyncio.gather(nxt, return_exceptions=True)
                    return
            try:
                batch = await nxt
            except StopAsyncIteration:
                return
            done = await asyncio.to_thread(pipeline.ingest, batch.posts)
            changed: list[int] = []
            if batch.changes:  # deleted and edited posts: the cards are marked and updated
                changed = await asyncio.to_thread(
                    store.apply_post_changes,
                    [(c.network, c.external_id, c.kind, c.text, c.rating) for c in batch.changes],
                    actor=source.name)
            if batch.cursor is not None:
                await asyncio.to_thread(store.save_cursor, source=source.name,
                                        cursor=batch.cursor)
            metrics.MENTIONS_IN.inc(done.stored)
            if report is not None:
                report.add(done)
            if (done.stored or changed) and wake is not None:
                wake.set()
    finally:
        if halt is not None:
            halt.cancel()
        closing = getattr(batches, "aclose", None)
        if closing is not None:
            with contextlib.suppress(Exception):
                await closing()


class SourceService:
    """bot.chat.Service running one source into the pipeline until `stop` (or until a finite
    source, a replay, has given everything)."""

    def __init__(self, source: Source, pipeline: Pipeline, *, wake: asyncio.Event | None = None,
                 report: IngestReport | None = None) -> None:
        self.source = source
        self.pipeline = pipeline
        self.wake = wake
        self.report = report
        self.name = f"source:{source.name}"

    async def serve(self, stop: asyncio.Event) -> None:
        await pump(self.source, self.pipeline, wake=self.wake, report=self.report, stop=stop)


async def pump_all(sources: Sequence[Source], pipeline: Pipeline, relay: Relay | None,
                   report: IngestReport | None = None) -> None:
    """Run every source; one failing source is logged and does not stop the others."""

    async def guarded(source: Source) -> None:
        try:
            await pump(source, pipeline, wake=relay.wakeup if relay else None, report=report)
        except Exception:
            log.exception("source %s stopped with an error", source.name)

    await asyncio.gather(*(guarded(s) for s in sources))


async def drain(relay: Relay, *, rounds: int = 1000) -> None:
    """Relay until nothing is due (used by scripted console runs and tests)."""
    for _ in range(rounds):
        if await relay.run_once() == 0:
            return
