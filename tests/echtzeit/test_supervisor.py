"""The supervisor: failed parts come back after a growing pause, /healthz sees each part, and
stopping goes phase by phase within the grace period."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from bot.store import Store
from commands.base import InFlight
from echtzeit.supervisor import Phase, State, Supervisor, Unit


def fast(units: list[Unit]) -> Supervisor:
    return Supervisor(units, backoff_base=0.01, backoff_cap=0.05)


async def test_a_failing_part_is_logged_restarted_and_reported(
        caplog: pytest.LogCaptureFixture) -> None:
    attempts = 0
    up = asyncio.Event()

    async def flaky(stop: asyncio.Event) -> None:
        nonlocal attempts
        attempts += 1
        if attempts <= 3:
            raise ConnectionError(f"refused #{attempts}")
        up.set()
        await stop.wait()

    sup = fast([Unit("flaky", flaky)])
    task = asyncio.create_task(sup.run())
    await asyncio.wait_for(up.wait(), 5)
    healthy, report = sup.health()
    assert healthy
    assert report["flaky"] == {"state": "running", "required": True, "restarts": 3,
                               "last_error": "ConnectionError: refused #3"}
    assert caplog.text.count("flaky failed") == 3
    sup.request_stop()
    await asyncio.wait_for(task, 5)
    assert sup.health()[1]["flaky"]["state"] == "stopped"


async def test_the_process_is_unhealthy_while_a_required_part_is_down() -> None:
    calls = 0
    seen: list[bool] = []

    async def down(stop: asyncio.Event) -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("no connection")

    async def optional(stop: asyncio.Event) -> None:
        raise RuntimeError("the network is away")

    async def watch(stop: asyncio.Event) -> None:
        for _ in range(500):
            if calls >= 3:
                break
            await asyncio.sleep(0.01)
        seen.append(sup.health()[0])
        sup.request_stop()
        await stop.wait()

    sup = Supervisor([Unit("slack", down), Unit("source:x", optional, required=False),
                      Unit("watch", watch, required=False)],
                     backoff_base=0.01, backoff_cap=0.02)
    await asyncio.wait_for(sup.run(), 5)
    assert seen == [False]
    alone = fast([Unit("source:x", optional, required=False)])
    assert alone.health()[0]  # an optional part does not make the process unhealthy


async def test_back_off_grows_with_jitter_and_is_capped() -> None:
    sup = Supervisor([], backoff_base=1.0, backoff_cap=60.0)
    pauses = [[sup._pause(n) for n in range(1, 12)] for _ in range(50)]
    for run in pauses:
        assert all(0 <= p <= 60 for p in run)
    means = [sum(run[n] for run in pauses) / 50 for n in range(11)]
    assert means[0] < means[3] < means[6]  # grows
    assert len({run[5] for run in pauses}) > 40  # jittered, not in lock step


async def test_stop_goes_intake_first_then_delivery_then_ops() -> None:
    order: list[str] = []

    def part(name: str) -> Unit:
        async def serve(stop: asyncio.Event) -> None:
            await stop.wait()
            await asyncio.sleep(0.02)
            order.append(name)
        phase = {"source": Phase.INTAKE, "relay": Phase.DELIVERY, "ops": Phase.OPS}[name]
        return Unit(name, serve, phase)

    sup = fast([part("ops"), part("relay"), part("source")])
    task = asyncio.create_task(sup.run())
    await asyncio.sleep(0.05)
    sup.request_stop()
    await asyncio.wait_for(task, 5)
    assert order == ["source", "relay", "ops"]


async def test_a_part_that_ignores_the_stop_is_cancelled_at_the_deadline() -> None:
    cancelled = asyncio.Event()

    async def stubborn(stop: asyncio.Event) -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    sup = fast([Unit("stubborn", stubborn)])
    task = asyncio.create_task(sup.run(grace=0.3))
    await asyncio.sleep(0.05)
    began = time.monotonic()
    sup.request_stop()
    await asyncio.wait_for(task, 5)
    assert cancelled.is_set()
    assert time.monotonic() - began < 2.0


async def test_a_finite_part_is_done_and_an_ending_part_stops_the_process() -> None:
    replayed = 0

    async def replay(stop: asyncio.Event) -> None:
        nonlocal replayed
        replayed += 1

    async def console(stop: asyncio.Event) -> None:
        await asyncio.sleep(0.1)  # /quit

    async def relay(stop: asyncio.Event) -> None:
        await stop.wait()

    sup = fast([Unit("replay", replay, Phase.INTAKE, finite=True),
                Unit("console", console, Phase.INTAKE, required=False, ends_process=True),
                Unit("relay", relay)])
    await asyncio.wait_for(sup.run(), 5)
    assert replayed == 1
    report = sup.health()[1]
    assert report["replay"]["state"] == State.DONE.value
    assert report["relay"]["state"] == State.STOPPED.value


def test_two_parts_cannot_share_a_name() -> None:
    async def serve(stop: asyncio.Event) -> None:
        await stop.wait()

    with pytest.raises(ValueError, match="two parts share a name: relay"):
        Supervisor([Unit("relay", serve), Unit("relay", serve)])


async def test_a_command_still_running_gets_to_finish_before_the_chat_closes() -> None:
    in_flight = InFlight()
    events: list[str] = []

    async def answer() -> None:  # what bolt or discord.py runs for one slash command
        in_flight.track()
        await asyncio.sleep(0.2)
        events.append("answered")

    async def chat(stop: asyncio.Event) -> None:
        handlers.append(asyncio.create_task(answer()))
        await stop.wait()
        events.append("chat closed")

    handlers: list[asyncio.Task[None]] = []
    sup = Supervisor([Unit("slack", chat)], settle=in_flight.settle)
    task = asyncio.create_task(sup.run())
    await asyncio.sleep(0.01)
    sup.request_stop()
    await asyncio.wait_for(task, 5)
    assert events == ["answered", "chat closed"]


async def test_healthz_answers_503_naming_the_required_part_that_is_down(
        sqlite_store: Store) -> None:
    from prometheus_client import CollectorRegistry

    from bot.ops import OpsServer

    slack_up = asyncio.Event()
    fail = True

    async def slack(stop: asyncio.Event) -> None:
        if fail:
            raise ConnectionError("Socket Mode refused")
        slack_up.set()
        await stop.wait()

    server = OpsServer(sqlite_store, host="127.0.0.1", port=0, registry=CollectorRegistry())
    sup = Supervisor([Unit("slack-socket-mode", slack), Unit("ops", server.serve, Phase.OPS)],
                     backoff_base=0.2, backoff_cap=0.2)
    server.health = sup.health
    task = asyncio.create_task(sup.run())
    try:
        await asyncio.wait_for(server.ready.wait(), 10)
        url = f"http://127.0.0.1:{server.bound_port}/healthz"
        async with httpx.AsyncClient() as client:
            down = await client.get(url)
            assert down.status_code == 503
            body = down.json()
            assert body["status"] == "down: slack-socket-mode"
            assert body["services"]["slack-socket-mode"]["last_error"] == (
                "ConnectionError: Socket Mode refused")
            fail = False
            await asyncio.wait_for(slack_up.wait(), 10)
            up = await client.get(url)
            assert up.status_code == 200
            assert up.json()["services"]["slack-socket-mode"]["state"] == "running"
    finally:
        sup.request_stop()
        await asyncio.wait_for(task, 10)
