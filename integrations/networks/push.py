"""Where pushed posts come in: `WebhookServer`, the one aiohttp endpoint (a `bot.chat.Service`)
on which every push route mounts (the signed webhook's, Meta's), and `PushSource`, the `Source`
a route feeds. Kept apart from the networks that use them, so that the plug-in protocol and
Meta's webhook can name a route without importing the signed webhook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from bot.domain import Post
from bot.networks import Batch

log = logging.getLogger(__name__)


class PushSource:
    """A source whose posts arrive over HTTP. `push` hands posts over and waits until the
    runner has stored them; it has no cursor (the sender keeps its own)."""

    # Fed by this process's own endpoint: every replica runs it (no lease).
    everywhere = True

    def __init__(self, name: str = "webhook", *, queue_size: int = 100) -> None:
        self.name = name
        self._queue: asyncio.Queue[tuple[list[Post], asyncio.Future[None]]] = asyncio.Queue(
            queue_size
        )

    async def push(self, posts: list[Post], *, within: float) -> bool:
        """True once the runner stored the posts; False if it did not `within` that many
        seconds or the queue is full (the sender should retry later)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            self._queue.put_nowait((posts, done))
        except asyncio.QueueFull:
            return False
        try:
            await asyncio.wait_for(asyncio.shield(done), within)
        except TimeoutError:
            return False
        return True

    async def stream(self, cursor: str | None) -> AsyncIterator[Batch]:
        while True:
            posts, done = await self._queue.get()
            yield Batch(posts=posts, cursor=None)
            # Resumed: the runner stored the batch before asking for the next one.
            if not done.done():
                done.set_result(None)


@dataclass
class WebhookRoute:
    """One route on the webhook server (the signed endpoint, Meta's webhook, ...)."""

    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class WebhookServer:
    """The HTTP endpoint for pushed posts (a `bot.chat.Service`). Port 0 picks a free port;
    `ready` is set once it listens and `port` then holds the real one."""

    host: str
    port: int
    routes: Sequence[WebhookRoute]
    name: str = "webhook-server"
    max_bytes: int = 256 * 1024
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def serve(self, stop: asyncio.Event) -> None:
        # aiohttp's own limit covers handlers that call request.read()/json() (Meta's route).
        app = web.Application(client_max_size=self.max_bytes)
        for route in self.routes:
            app.router.add_route(route.method, route.path, route.handler)
        app.router.add_get("/healthz", _healthz)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            address = runner.addresses[0]
            self.port = int(address[1])
            log.info("webhook server listening on %s:%s", self.host, self.port)
            self.ready.set()
            await stop.wait()
        finally:
            await runner.cleanup()


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})
