"""/healthz and Prometheus /metrics over HTTP (a bot.chat.Service on settings.http_host and
settings.http_port; port 0 in the settings means off).

/healthz answers 200 with {"status": "ok", "outbox": n, "services": {...}} when the database
answers and every required part of the process runs (the supervisor's report: each part's state,
restarts and last error), else 503 with the same report, so a load balancer or an orchestrator
restarts or drains a replica that lost its database or a chat connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

from bot.metrics import StoreCollector
from bot.store import Store

log = logging.getLogger(__name__)

# (healthy, per-part report) of the process's supervisor.
Health = Callable[[], tuple[bool, dict[str, dict[str, object]]]]


class OpsServer:
    """bot.chat.Service: the operations endpoints."""

    name = "ops"

    def __init__(self, store: Store, *, host: str, port: int,
                 registry: CollectorRegistry = DEFAULT_REGISTRY,
                 health: Health | None = None) -> None:
        self.store = store
        self.health = health
        self.host = host
        self.port = port
        self.registry = registry
        self.bound_port: int | None = None
        self.ready = asyncio.Event()
        self._collector = StoreCollector(store)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, request: web.Request) -> web.Response:
        healthy, services = self.health() if self.health is not None else (True, {})
        body: dict[str, object] = {"services": services} if self.health is not None else {}
        try:
            depth = await asyncio.to_thread(self.store.outbox_depth)
        except Exception as exc:  # the database is away: this replica is not healthy
            log.warning("health check: database unreachable: %s", type(exc).__name__)
            return self._json({**body, "status": "database unreachable"}, 503)
        if not healthy:
            down = sorted(name for name, s in services.items()
                          if s.get("required") and s.get("state") not in ("running", "done"))
            return self._json({**body, "status": f"down: {', '.join(down)}",
                               "outbox": depth}, 503)
        return self._json({**body, "status": "ok", "outbox": depth}, 200)

    @staticmethod
    def _json(value: dict[str, object], status: int) -> web.Response:
        return web.json_response(value, status=status,
                                 dumps=lambda v: json.dumps(v, sort_keys=True))

    async def metrics(self, request: web.Request) -> web.Response:
        body = await asyncio.to_thread(generate_latest, self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def serve(self, stop: asyncio.Event) -> None:
        self.registry.register(self._collector)
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            addresses = runner.addresses
            self.bound_port = int(addresses[0][1]) if addresses else self.port
            log.info("ops endpoints on http://%s:%s/healthz and /metrics", self.host,
                     self.bound_port)
            self.ready.set()
            await stop.wait()
        finally:
            self.registry.unregister(self._collector)
            await runner.cleanup()
