"""`echtzeit run` and the demo as running processes: the supervisor, signals, the console.

The process runs the same way whether or not standard input is a terminal (systemd, a
container, nohup): every part starts at once under the supervisor. The console is a chat
adapter like the others; it reads commands only when standard input is a terminal.

SIGTERM or SIGINT: stop taking new work, finish what is in flight (the supervisor's phases),
exit 0 within 10 s. A second signal exits at once (status 130). SIGKILL stays safe: what
the process did is in the store (outbox leases expire, cursors follow stored posts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Sequence

from bot.leases import LeaseSession
from bot.networks import Source
from bot.pipeline import IngestReport
from echtzeit.supervisor import Phase, Supervisor, Unit
from echtzeit.wiring import Desk, units
from integrations.chat.console.listeners import command_loop, start_reader

log = logging.getLogger(__name__)

# Seconds from the first signal to the last part stopped: the process exits within 10 s
# (the rest is for cancelled parts to unwind and the interpreter to end).
GRACE = 8.0


def _console_unit(desk: Desk, user: str) -> Unit:
    """Commands typed at the terminal; /quit or the end of input stops the process."""

    async def serve(stop: asyncio.Event) -> None:
        lines = start_reader(sys.stdin)
        desk.chat.console.print("Type /help for commands, /quit to leave.", markup=False)
        reading = asyncio.create_task(command_loop(desk.chat, desk.deps, lines, user=user,
                                                   prompt=True))
        halt = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait([reading, halt], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reading, halt):
                task.cancel()
            await asyncio.gather(reading, halt, return_exceptions=True)

    return Unit("console", serve, Phase.INTAKE, required=False, ends_process=True)


def _install_signals(supervisor: Supervisor) -> list[signal.Signals]:
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(signum: int) -> None:
        if supervisor.stopping:
            log.warning("second %s: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(130)
        log.info("%s: stopping", signal.Signals(signum).name)
        supervisor.request_stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
    return installed


async def serve(desk: Desk, sources: Sequence[Source], *, console_user: str | None = None,
                report: IngestReport | None = None, grace: float = GRACE) -> Supervisor:
    """Run the bot until a signal (or the console's /quit); returns the stopped supervisor."""
    leases = LeaseSession(desk.store) if desk.store.is_postgres else None
    parts = units(desk, list(sources), report=report, leases=leases)
    if console_user is not None:
        parts.append(_console_unit(desk, console_user))
    supervisor = Supervisor(parts, settle=desk.deps.in_flight.settle)
    if desk.ops is not None:
        desk.ops.health = supervisor.health
    installed = _install_signals(supervisor)
    log.info("running: %s", ", ".join(u.name for u in parts))
    try:
        await supervisor.run(grace=grace)
    finally:
        loop = asyncio.get_running_loop()
        for signum in installed:
            loop.remove_signal_handler(signum)
        if leases is not None:
            await asyncio.to_thread(leases.close)
    log.info("stopped")
    return supervisor
