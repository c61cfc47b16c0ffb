"""Relay benchmark: ingest to chat through the real pipeline, SQLite, relay and Slack adapter.

A local fake Slack (testkit/fake_slack.py) on 127.0.0.1 answers the real
slack-sdk calls of `integrations.chat.slack.chat.SlackChat` and enforces Slack's pace of one
message per second per channel with a short burst (its default; more gets HTTP 429 +
Retry-After); the adapter paces with its shipped settings: nothing here re-tunes either.
Wired as `echtzeit/wiring.py` wires it: `Pipeline(flood=SpikeDetector)`, `Relay` over
the adapter (woken by the ingest like `bot.runner.pump`), the spike check of the scheduler
(`SpikeMonitor.run_due`, here every 5 s) and the real bolt app in HTTP mode. Real time
throughout (the adapter's pacer sleeps on the event loop), for a bounded number of seconds.

1. Steady, for `--minutes` (5): one channel (C0STEADY00, the "hot" one) gets mentions at
   `--hot-rate` a second (default 1.0: Slack's limit for a channel, so its pacer is the
   bottleneck), and `--rate` mentions/s (default 10) are spread evenly over the other
   `--channels` - 1 channels (one brand routed to each, round-robin). Latency per card = the
   moment its post was handed to the pipeline -> the moment the fake received its
   chat.postMessage (both `time.monotonic()` in this one process). Prints p50, p99, max for all
   cards and for the hot channel, and the messages per second each channel achieved (its cards
   over the steady phase) against the limit (`SLACK_PER_CHANNEL`, 1/s).
2. Burst: `--burst` mentions (10,000) within 60 s for one brand routed to one channel; the
   brand has a week of calm history, so the flood gate (bot/reporting/spikes/detector.py)
   gives it a card budget.
   Checks all are stored, counts the messages the channel got and the spike alert, and sends
   signed `/echtzeit list` slash commands (5 a second) to the bolt HTTP endpoint meanwhile,
   timing each acknowledgement (HTTP answer).

The steady phase runs without the spike check: 20 new brands (no history) with 30 mentions an
hour each are a genuine cold-start spike, and their alert threads would take the channels'
one-message-a-second slots; the check starts with the burst phase.

    python bench/relay.py [--minutes 5] [--rate 10] [--hot-rate 1] [--channels 20]
                          [--burst 10000]

The last line is one JSON object with the figures; `measure()` returns them to bench/all.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
import sqlalchemy as sa

from bot import db
from bot.clock import utcnow
from bot.domain import Author, Post
from bot.pipeline import Pipeline
from bot.relay import Relay
from bot.reporting.spikes.detector import SpikeDetector
from bot.reporting.spikes.monitor import SpikeMonitor
from bot.store import Store
from commands import Deps
from integrations.chat.slack.serve import HttpService, slack_from_settings
from integrations.chat.slack.settings import SlackSettings
from testkit.factories import new_mention
from testkit.fake_slack import SIGNING_SECRET, FakeSlack, fixture, sign

FLOOD_CHANNEL = "C0FLOOD"
SLACK_PER_CHANNEL = 1.0  # chat.postMessage: "1 message per second per channel", short bursts


class ShiftedClock:
    """The store's clock: real time, moved back while the flood brand's history is written."""

    def __init__(self) -> None:
        self.shift = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() - self.shift


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def post(external_id: str, text: str, at: datetime) -> Post:
    return Post(network="mastodon", external_id=external_id,
                url=f"https://social.example/@kunde/{external_id}",
                author=Author(handle=f"kunde{external_id}", name="Kunde", followers=120),
                text=text, created_at=at, lang="en")


def card_token(call: Any) -> int | None:
    meta = call.args.get("metadata")
    if isinstance(meta, str):
        meta = json.loads(meta)
    token = (meta or {}).get("event_payload", {}).get("delivery") if meta else None
    return int(token[2:].split(".")[0]) if token else None


def monitor_busy(fake: FakeSlack) -> bool:
    """True until the flood channel's spike alert is out (the check runs every 5 s)."""
    return not any(str(c.args.get("text", "")).startswith("Spike:")
                   for c in fake.ok_calls("chat.postMessage")
                   if c.args.get("channel") == FLOOD_CHANNEL)


class Bench:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.url = f"sqlite:///{workdir / 'echtzeit.db'}"
        db.upgrade(self.url)
        self.clock = ShiftedClock()
        self.store = Store.from_url(self.url, now=self.clock)
        self.channels = [f"C0STEADY{i:02d}" for i in range(args.channels)]
        self.fake = FakeSlack(channels=(*self.channels, FLOOD_CHANNEL))
        # Slack: "1 message per second per channel" with a short burst; the fake answers more
        # with 429 (its default, testkit/fake_slack.py).
        self.handed: dict[str, float] = {}
        self.stop = asyncio.Event()

    def seed(self) -> None:
        for i, channel in enumerate(self.channels):
            self.store.add_brand(name=f"Steady{i:02d}", query=f"steady{i:02d}", actor="bench")
            self.store.add_route(brand=f"Steady{i:02d}", platform="slack", channel=channel,
                                 actor="bench")
        # The flood brand is eight days old with a calm week: 2-6 mentions in this hour a day.
        self.clock.shift = timedelta(days=8)
        brand = self.store.add_brand(name="Floodco", query="floodco", actor="bench")
        self.clock.shift = timedelta(0)
        self.store.add_route(brand="Floodco", platform="slack", channel=FLOOD_CHANNEL,
                             actor="bench")
        now = utcnow()
        history = [new_mention(brand.id or 0, "floodco is fine",
                               created_at=now - timedelta(days=d, minutes=10 + k))
                   for d, n in zip(range(1, 8), (3, 5, 4, 6, 2, 5, 4), strict=True)
                   for k in range(n)]
        self.store.write_mentions(history, routes={})

    async def ingest(self, pipeline: Pipeline, relay: Relay, posts: list[Post]) -> None:
        at = time.monotonic()
        for p in posts:
            self.handed[p.external_id] = at
        report = await asyncio.to_thread(pipeline.ingest, posts)
        if report.stored:
            relay.wakeup.set()

    def schedule(self) -> list[tuple[float, int]]:
        """(seconds after the start, channel index) of each steady mention, in time order: the
        hot channel at `--hot-rate`, the others round-robin at `--rate` in all."""
        seconds = self.args.minutes * 60
        events = [(k / self.args.hot_rate, 0)
                  for k in range(int(seconds * self.args.hot_rate))] if self.args.hot_rate else []
        others = len(self.channels) - 1
        if others and self.args.rate:
            events += [(k / self.args.rate, 1 + k % others)
                       for k in range(int(seconds * self.args.rate))]
        return sorted(events)

    async def steady(self, pipeline: Pipeline, relay: Relay) -> dict[str, Any]:
        events = self.schedule()
        total = len(events)
        start = time.monotonic()
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[None]] = set()
        for n, (offset, i) in enumerate(events):
            delay = start + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            p = post(f"s{n}", f"steady{i:02d} app is slow today ({n})", datetime.now(UTC))
            task = loop.create_task(self.ingest(pipeline, relay, [p]))
            pending.add(task)
            task.add_done_callback(pending.discard)
        await asyncio.gather(*pending)
        handed_in = time.monotonic() - start
        # Wait for every card to arrive.
        deadline = time.monotonic() + 120
        while len(self._cards(prefix="C0STEADY")) < total and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        cards = self._cards(prefix="C0STEADY")
        ids = self._external_ids()
        latency = {d: c.at - self.handed[ids[d]] for d, c in cards.items() if d in ids}
        hot = self.channels[0]
        hot_latencies = [latency[d] for d, c in cards.items()
                         if d in latency and c.args.get("channel") == hot]
        # Messages each channel got while mentions were handed in: what it achieved against
        # Slack's limit (the hot channel is offered `--hot-rate`).
        rates = {ch: sum(1 for c in cards.values()
                         if c.args.get("channel") == ch and c.at - start <= handed_in)
                 / handed_in for ch in self.channels}
        offered = {ch: sum(1 for _, i in events if i == k) / (self.args.minutes * 60)
                   for k, ch in enumerate(self.channels)}
        values = list(latency.values())
        return {"steady_mentions": total, "steady_cards": len(cards),
                "steady_seconds": round(time.monotonic() - start, 1),
                "p50_ms": round(percentile(values, 50) * 1000, 1),
                "p99_ms": round(percentile(values, 99) * 1000, 1),
                "max_ms": round(max(values, default=float("nan")) * 1000, 1),
                "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else None,
                "hot_channel": hot,
                "hot_p50_ms": round(percentile(hot_latencies, 50) * 1000, 1),
                "hot_p99_ms": round(percentile(hot_latencies, 99) * 1000, 1),
                "limit_per_channel": SLACK_PER_CHANNEL,
                "offered_per_s": {ch: round(v, 3) for ch, v in offered.items()},
                "achieved_per_s": {ch: round(v, 3) for ch, v in rates.items()},
                "hot_achieved_per_s": round(rates[hot], 3),
                "max_achieved_per_s": round(max(rates.values(), default=0.0), 3)}

    def _cards(self, *, prefix: str) -> dict[int, Any]:
        """First accepted chat.postMessage per delivery, for channels starting with prefix."""
        found: dict[int, Any] = {}
        for call in self.fake.ok_calls("chat.postMessage"):
            if not str(call.args.get("channel", "")).startswith(prefix):
                continue
            token = card_token(call)
            if token is not None and token not in found:
                found[token] = call
        return found

    def _external_ids(self) -> dict[int, str]:
        q = sa.text("SELECT d.id, m.external_id FROM delivery d JOIN mention m "
                    "ON m.id = d.mention_id")
        with self.store.engine.connect() as conn:
            return {int(i): str(e) for i, e in conn.execute(q)}

    async def spike_checks(self, monitor: SpikeMonitor) -> None:
        while not self.stop.is_set():
            await monitor.run_due(utcnow())
            try:
                await asyncio.wait_for(self.stop.wait(), 5)
            except TimeoutError:
                pass

    async def commands(self, service: HttpService, done: asyncio.Event) -> list[float]:
        url = f"http://127.0.0.1:{service.port}/slack/events"
        acks: list[float] = []
        failures = 0
        async with aiohttp.ClientSession() as session:
            while not done.is_set():
                payload = fixture("slash_command.json")
                # Slack issues a response_url per command (at most 5 uses each).
                payload.update(text="list", channel_id=FLOOD_CHANNEL,
                               response_url=self.fake.response_url(f"bench-{len(acks)}"))
                body = urlencode(payload)
                headers = {"Content-Type": "application/x-www-form-urlencoded",
                           **sign(body, secret=SIGNING_SECRET)}
                t0 = time.monotonic()
                async with session.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                acks.append(time.monotonic() - t0)
                await asyncio.sleep(0.2)
        if failures:
            print(f"slash commands not acknowledged with 200: {failures}", file=sys.stderr)
        return acks

    async def burst(self, pipeline: Pipeline, relay: Relay, monitor: SpikeMonitor,
                    service: HttpService) -> dict[str, Any]:
        n = self.args.burst
        checks = asyncio.create_task(self.spike_checks(monitor))
        done = asyncio.Event()
        commands = asyncio.create_task(self.commands(service, done))
        before = len(self.fake.ok_calls("chat.postMessage"))
        batch = 100
        spread = 55.0  # seconds over which the burst is handed in
        start = time.monotonic()
        for k in range(0, n, batch):
            delay = start + spread * k / n - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            now = datetime.now(UTC)
            await self.ingest(pipeline, relay, [
                post(f"f{j}", f"floodco outage everywhere ({j})", now)
                for j in range(k, min(k + batch, n))])
        ingest_seconds = time.monotonic() - start
        # Let the relay (1 message/s in this channel) and the spike check catch up, with
        # commands still coming in.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            await asyncio.sleep(1)
            with self.store.engine.connect() as conn:
                left = conn.execute(sa.text(
                    "SELECT count(*) FROM delivery WHERE channel = :c AND state = 'pending'"),
                    {"c": FLOOD_CHANNEL}).scalar_one()
            if not left and not monitor_busy(self.fake):
                break
        done.set()
        acks = await commands
        self.stop.set()
        await checks
        with self.store.engine.connect() as conn:
            stored = conn.execute(sa.text(
                "SELECT count(*) FROM mention m JOIN brand b ON b.id = m.brand_id "
                "WHERE b.name = 'Floodco' AND m.external_id LIKE 'f%'")).scalar_one()
            states = dict(conn.execute(sa.text(
                "SELECT state, count(*) FROM delivery WHERE channel = :c GROUP BY state"),
                {"c": FLOOD_CHANNEL}).all())
        flood_calls = [c for c in self.fake.ok_calls("chat.postMessage")[before:]
                       if c.args.get("channel") == FLOOD_CHANNEL]
        alerts = [c for c in flood_calls if str(c.args.get("text", "")).startswith("Spike:")
                  and not c.args.get("thread_ts")]
        return {"burst_mentions": n, "burst_ingest_seconds": round(ingest_seconds, 1),
                "burst_stored": int(stored),
                "burst_deliveries": {str(k): int(v) for k, v in states.items()},
                "burst_channel_messages": len(flood_calls),
                "burst_cards": sum(1 for c in flood_calls if card_token(c) is not None),
                "burst_spike_alerts": len(alerts),
                "burst_alert_thread_messages": sum(1 for c in flood_calls
                                                   if c.args.get("thread_ts")),
                "slash_commands": len(acks),
                "slash_ack_p50_ms": round(percentile(acks, 50) * 1000, 1),
                "slash_ack_p99_ms": round(percentile(acks, 99) * 1000, 1),
                "slash_ack_max_ms": round(max(acks, default=float("nan")) * 1000, 1)}

    async def run(self) -> dict[str, Any]:
        await self.fake.start()
        try:
            self.seed()
            detector = SpikeDetector(self.store)
            pipeline = Pipeline(self.store, flood=detector)
            settings = SlackSettings(_env_file=None,  # type: ignore[call-arg]
                                     bot_token=next(iter(self.fake.tokens)),
                                     signing_secret=SIGNING_SECRET,
                                     api_url=self.fake.api_url, http_host="127.0.0.1")
            built = slack_from_settings(settings, Deps(store=self.store))
            assert built is not None
            chat, services, _app = built
            service = services[0]
            assert isinstance(service, HttpService)
            service.port = 0
            serving = asyncio.create_task(service.serve(self.stop))
            await asyncio.wait_for(service.started.wait(), 10)
            relay = Relay(self.store, {"slack": chat})
            relaying = asyncio.create_task(relay.run(self.stop))
            monitor = SpikeMonitor(detector, {"slack": chat})
            figures = await self.steady(pipeline, relay)
            print(f"steady: {figures}", file=sys.stderr)
            if self.args.burst:
                figures |= await self.burst(pipeline, relay, monitor, service)
            else:  # --burst 0: the steady phase only (bench/all.py --quick)
                self.stop.set()
            await asyncio.gather(serving, relaying)
            figures["http_429"] = sum(1 for c in self.fake.calls if c.status == 429)
            figures["slack_violations"] = len(self.fake.violations)
            for c in self.fake.calls:
                if c.status == 429:
                    print(f"429: {c.method} {c.args.get('channel')}", file=sys.stderr)
            for v in self.fake.violations[:5]:
                print(f"fake Slack: {v}", file=sys.stderr)
            return figures
        finally:
            self.stop.set()
            await self.fake.stop()
            self.store.close()


def measure(*, minutes: float = 5.0, rate: float = 10.0, hot_rate: float = SLACK_PER_CHANNEL,
            channels: int = 20, burst: int = 10_000) -> dict[str, Any]:
    """Run the benchmark (real time: about `minutes` plus the burst and its drain)."""
    from bot.networks import install_networks
    from integrations.networks.specs import SPECS

    install_networks(SPECS)  # the list of networks the core reads, as `echtzeit` installs it
    args = argparse.Namespace(minutes=minutes, rate=rate, hot_rate=hot_rate,
                              channels=max(channels, 2), burst=burst)
    with tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(Bench(args, Path(tmp)).run())
    figures["args"] = vars(args)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=10.0,
                        help="mentions/s over the channels other than the hot one")
    parser.add_argument("--hot-rate", type=float, default=SLACK_PER_CHANNEL,
                        help="mentions/s for the hot channel (default: Slack's limit)")
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--burst", type=int, default=10_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    figures = measure(minutes=args.minutes, rate=args.rate, hot_rate=args.hot_rate,
                      channels=args.channels, burst=args.burst)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
