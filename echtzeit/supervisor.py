"""The one runtime of a process: every long-running part as a supervised task.

`echtzeit run` hands the supervisor its parts (sources, relay, chat connections, the scheduler
leader, the webhook server, the ops server, the console). Each runs as a task of one
`asyncio.TaskGroup`; a part that fails (or returns while the bot runs) is logged and started
again after a jittered, growing pause (tenacity's exponential back-off), never silently gone.
`health()` reports every part's state for `/healthz`.

Stopping goes by phases, so that nothing in flight is lost: first what takes new work in
(sources, push endpoints, the scheduler: a batch being stored is stored and its cursor saved),
then what delivers (the relay finishes the card it is sending; chat connections close after
the commands they are running), then the ops endpoints. The whole stop is bounded: what has
not ended by the deadline is cancelled (leases left behind expire; a reply cut short is
settled as the relay and the replies' outbox already handle a crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

from tenacity import RetryCallState, wait_random_exponential

log = logging.getLogger(__name__)

CANCEL_WAIT = 0.5  # seconds for a cancelled part to unwind


class Phase(IntEnum):
    """The order in which parts are stopped."""

    INTAKE = 0  # sources, push endpoints, scheduler, console input
    DELIVERY = 1  # relay, chat connections
    OPS = 2  # /healthz and /metrics, last, so that an orchestrator sees the shutdown


# By when each phase must have stopped, as a share of the grace period.
PHASE_SHARE = {Phase.INTAKE: 0.5, Phase.DELIVERY: 0.85, Phase.OPS: 1.0}


class State(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"  # failed; started again after a pause
    DONE = "done"  # a finite part (a replay) that has given everything
    STOPPED = "stopped"


@dataclass
class Unit:
    """One supervised part. `serve(stop)` runs it until `stop` is set.

    `required`: while it is not running, the process is unhealthy (/healthz answers 503).
    `finite`: it may end by itself (then it is done, not restarted); `ends_process`: when it
    ends, the whole process stops (the console's /quit). `detail`: a word for /healthz (e.g.
    whether this replica holds a source's lease)."""

    name: str
    serve: Callable[[asyncio.Event], Awaitable[None]]
    phase: Phase = Phase.DELIVERY
    required: bool = True
    finite: bool = False
    ends_process: bool = False
    detail: Callable[[], str] | None = None
    state: State = State.STARTING
    restarts: int = 0
    last_error: str | None = None


@dataclass
class Supervisor:
    units: list[Unit]
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    # A part that ran this long before failing starts over from the shortest pause.
    healthy_after: float = 120.0
    # Waits up to the given seconds for the commands that are running; returns how many are
    # left (commands.base.InFlight.settle). Called before the chat connections stop.
    settle: Callable[[float], Awaitable[int]] | None = None
    settle_grace: float = 3.0
    clock: Callable[[], float] = time.monotonic
    _stops: dict[Phase, asyncio.Event] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        names = [u.name for u in self.units]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"two parts share a name: {', '.join(duplicated)}")
        self._stops = {phase: asyncio.Event() for phase in Phase}
        self._wait = wait_random_exponential(multiplier=self.backoff_base, max=self.backoff_cap)

    # --- health ---------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, dict[str, object]]]:
        """(healthy, per-part report): healthy while every required part runs (or is done)."""
        report: dict[str, dict[str, object]] = {}
        healthy = True
        for unit in self.units:
            entry: dict[str, object] = {"state": unit.state.value, "required": unit.required}
            if unit.detail is not None:
                entry["detail"] = unit.detail()
            if unit.restarts:
                entry["restarts"] = unit.restarts
            if unit.last_error:
                entry["last_error"] = unit.last_error
            report[unit.name] = entry
            if unit.required and unit.state not in (State.RUNNING, State.DONE):
                healthy = False
        return healthy, report

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def request_stop(self) -> None:
        """Stop taking new work and wind down (see the module's docstring)."""
        self._stopping.set()

    # --- running --------------------------------------------------------------------------

    async def run(self, *, grace: float = 8.0) -> None:
        """Run every part until `request_stop()`; then stop them phase by phase within
        `grace` seconds, and cancel what is left."""
        tasks: dict[Phase, list[asyncio.Task[None]]] = {phase: [] for phase in Phase}
        try:
            async with asyncio.TaskGroup() as group:
                for unit in self.units:
                    tasks[unit.phase].append(group.create_task(self._keep(unit),
                                                               name=unit.name))
                group.create_task(self._wind_down(tasks, grace), name="shutdown")
        finally:
            for unit in self.units:
                if unit.state is not State.DONE:
                    unit.state = State.STOPPED

    async def _wind_down(self, tasks: dict[Phase, list[asyncio.Task[None]]],
                         grace: float) -> None:
        await self._stopping.wait()
        log.info("stopping: finishing what is in flight (at most %.0f s)", grace)
        began = self.clock()
        for phase in Phase:
            # Each phase may use the grace period up to its share, so that a hung intake (a
            # client holding a request open) leaves the relay its time to finish its card.
            deadline = began + grace * PHASE_SHARE[phase]
            if phase is Phase.DELIVERY and self.settle is not None:
                # Commands still running (a /reply being posted, its answer being sent) finish
                # while the chat connections are still open.
                left = await self.settle(min(max(deadline - self.clock(), 0), self.settle_grace))
                if left:
                    log.warning("%d command(s) still running as the chats close", left)
            self._stops[phase].set()
            pending = [t for t in tasks[phase] if not t.done()]
            if pending:
                _, late = await asyncio.wait(pending, timeout=max(deadline - self.clock(), 0))
                for task in late:
                    log.warning("%s did not stop in time; cancelled", task.get_name())
                    task.cancel()
                if late:
                    await asyncio.wait(late, timeout=CANCEL_WAIT)

    async def _keep(self, unit: Unit) -> None:
        stop = self._stops[unit.phase]
        failures = 0
        while not stop.is_set():
            unit.state = State.RUNNING
            started = self.clock()
            try:
                await unit.serve(stop)
            except Exception as exc:  # a failed part is restarted, never lost
                unit.last_error = f"{type(exc).__name__}: {exc}"[:300]
                log.exception("%s failed", unit.name)
            else:
                if stop.is_set():
                    break
                if unit.finite or unit.ends_process:
                    unit.state = State.DONE
                    if unit.ends_process:
                        self.request_stop()
                    return
                unit.last_error = "returned while the bot runs"
                log.error("%s ended by itself; starting it again", unit.name)
            if self.clock() - started >= self.healthy_after:
                failures = 0
            failures += 1
            unit.restarts += 1
            unit.state = State.RESTARTING
            pause = self._pause(failures)
            log.warning("%s starts again in %.1f s", unit.name, pause)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
        unit.state = State.STOPPED

    def _pause(self, failures: int) -> float:
        state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        state.attempt_number = failures
        return float(self._wait(state))
