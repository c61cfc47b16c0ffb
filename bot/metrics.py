"""Prometheus instruments of the process (prometheus-client's default registry).

Counters and histograms are per process, as Prometheus expects (it sums the replicas); what is
shared state (the outbox depth) is read from the store at scrape time by `StoreCollector`.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.store import Store

MENTIONS_IN = Counter("echtzeit_mentions_in", "Mentions stored by this process's pipeline.")
RELAYED = Counter("echtzeit_relayed", "Cards the chat accepted.", ["platform"])
CHAT_ERRORS = Counter("echtzeit_chat_api_errors", "Failed chat API calls of the relay.",
                      ["platform"])
RELAY_LATENCY = Histogram(
    "echtzeit_relay_latency_seconds", "From a mention's ingest to its card in the chat.",
    ["platform"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
LEADER = Gauge("echtzeit_scheduler_leader", "1 while this process runs the scheduler.")


class StoreCollector(Collector):
    """The outbox depth (pending cards of every process), read when Prometheus scrapes."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("echtzeit_outbox_depth", "Cards waiting to be relayed.")
        depth.add_metric([], float(self.store.outbox_depth()))
        yield depth

    def describe(self) -> Iterator[GaugeMetricFamily]:
        # Without describe() registering would call collect(), i.e. query the database.
        yield GaugeMetricFamily("echtzeit_outbox_depth", "Cards waiting to be relayed.")
