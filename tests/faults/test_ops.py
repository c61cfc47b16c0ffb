"""Issue 8, point 8: /healthz and Prometheus /metrics of a running process."""

from __future__ import annotations

import asyncio

import httpx
from prometheus_client import CollectorRegistry

from bot import metrics
from bot.ops import OpsServer
from bot.store import Store
from testkit.factories import new_mention


async def test_health_and_metrics(sqlite_store: Store) -> None:
    sqlite_store.add_brand(name="Acme", query="acme", actor="t")
    sqlite_store.add_route(brand="Acme", platform="console", channel="c", actor="t")
    bid = sqlite_store.brand(name="Acme").id or 0
    sqlite_store.write_mentions([new_mention(bid) for _ in range(3)],
                                routes={bid: sqlite_store.routes()})
    registry = CollectorRegistry()
    registry.register(metrics.RELAYED)
    server = OpsServer(sqlite_store, host="127.0.0.1", port=0, registry=registry)
    stop = asyncio.Event()
    task = asyncio.create_task(server.serve(stop))
    try:
        await asyncio.wait_for(server.ready.wait(), timeout=10)
        metrics.RELAYED.labels(platform="console").inc()
        base = f"http://127.0.0.1:{server.bound_port}"
        async with httpx.AsyncClient() as client:
            health = await client.get(f"{base}/healthz")
            scraped = await client.get(f"{base}/metrics")
            assert health.status_code == 200
            assert health.json() == {"status": "ok", "outbox": 3}
            assert scraped.status_code == 200
            assert "echtzeit_outbox_depth 3.0" in scraped.text
            assert 'echtzeit_relayed_total{platform="console"}' in scraped.text
    finally:
        stop.set()
        await task
