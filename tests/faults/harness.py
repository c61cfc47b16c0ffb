"""A bot process for the fault tests: `python -m tests.faults.harness <mode> ...`.

It wires the real parts the way `echtzeit run` does (store, pipeline, relay, the real Slack
adapter, the leader around the scheduler) against a fake chat given by URL, so that a test can
kill it with SIGKILL and start it again. Modes:

* ``burst``: replay a JSONL file of posts into the pipeline and relay every card; exits 0 when
  the source is done and the outbox is empty.
* ``replica``: relay whatever is due and run the scheduler under the leader election until
  SIGTERM; prints ``LEADER <name>`` when it becomes the leader and ``DIGEST <channel> <day>``
  for each digest it posts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from bot.chat import Service
from bot.leader import Leader
from bot.networks import install_networks
from bot.pipeline import Pipeline
from bot.relay import Relay, RelayPolicy
from bot.reporting.digest.builder import DigestBuilder
from bot.reporting.digest.model import Digest
from bot.runner import pump
from bot.scheduler import Scheduler
from bot.store import Store
from integrations.chat.slack.chat import SlackChat, StaticToken
from integrations.networks.replay import ReplaySource
from integrations.networks.specs import SPECS
from testkit.clock import Scaled
from testkit.fake_slack import BOT_TOKEN

PACE_SCALE = 1.0  # --pace-scale: the shipped pacer on testkit.clock.Scaled, as the fake counts


def _slack(api_url: str) -> SlackChat:
    """The shipped Slack adapter with its shipped pace (one message a second per channel, a
    burst of two), on the test's scaled clock."""
    clock = Scaled(PACE_SCALE)
    return SlackChat(StaticToken(BOT_TOKEN), api_url=api_url, timeout=5, clock=clock,
                     sleep=clock.sleep)


async def burst(store: Store, api_url: str, posts: Path, lease: float) -> None:
    pipeline = Pipeline(store)  # no flood gate: every mention becomes a card here
    relay = Relay(store, {"slack": _slack(api_url)}, worker="burst",
                  policy=RelayPolicy(lease=timedelta(seconds=lease)))
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop, poll=0.2))
    await pump(ReplaySource(posts, speed=0, batch=250), pipeline, wake=relay.wakeup)
    # The outbox is in the database, not in this process: poll it.
    while await asyncio.to_thread(store.outbox_depth):  # noqa: ASYNC110
        await asyncio.sleep(0.2)
    stop.set()
    await relaying


class PrintedDigests:
    """A DigestSink that prints each digest it is given (the test counts the lines)."""

    platform = "console"

    async def send_digest(self, channel: str, digest: Digest, chart_png: bytes) -> str:
        print(f"DIGEST {channel} {digest.periods[0].label}", flush=True)
        return f"{channel}/digest"


class Announce:
    """Wraps the scheduler to print when this process starts leading."""

    def __init__(self, inner: Service, me: str) -> None:
        self.inner = inner
        self.me = me
        self.name = inner.name

    async def serve(self, stop: asyncio.Event) -> None:
        print(f"LEADER {self.me}", flush=True)
        await self.inner.serve(stop)


async def replica(store: Store, api_url: str, me: str, poll: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    relay = Relay(store, {"slack": _slack(api_url)}, worker=me,
                  policy=RelayPolicy(lease=timedelta(seconds=5), batch=50))
    builder = DigestBuilder(store, timezone="UTC", digest_hour=0)
    scheduler = Scheduler(store, builder, sinks={"console": PrintedDigests()}, notifiers={})
    leader = Leader(store, Announce(scheduler, me), poll=poll, me=me)
    print(f"READY {me}", flush=True)
    await asyncio.gather(relay.run(stop, poll=0.2), leader.serve(stop))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=("burst", "replica"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--posts", type=Path)
    parser.add_argument("--lease", type=float, default=2.0)
    parser.add_argument("--name", default="replica")
    parser.add_argument("--poll", type=float, default=0.5)
    parser.add_argument("--pace-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    global PACE_SCALE
    PACE_SCALE = args.pace_scale
    install_networks(SPECS)  # as the `echtzeit` command does at start-up
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    store = Store.from_url(args.db)
    with contextlib.suppress(KeyboardInterrupt):
        if args.mode == "burst":
            asyncio.run(burst(store, args.api, args.posts, args.lease))
        else:
            asyncio.run(replica(store, args.api, args.name, args.poll))
    store.close()


if __name__ == "__main__":
    main()
