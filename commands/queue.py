"""The queue view on demand: `queue` (bot.reporting.queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.base import Deps, Invocation, Result, UsageError, quoted

if TYPE_CHECKING:
    from bot.reporting.queue import QueueBuilder

# bot.reporting.queue (SQL) is imported by the command, not with `commands`.


def queue_builder(deps: Deps) -> QueueBuilder:
    """The wired builder, or one in the digest's time zone without an on-call rota."""
    from bot.reporting.queue import QueueBuilder

    if deps.queue is not None:
        return deps.queue
    zone = deps.digest.timezone if deps.digest is not None else "Europe/Berlin"
    return QueueBuilder(deps.store, timezone=zone)


def people_of(inv: Invocation) -> list[str]:
    """The names this person's claims are stored under (the store keeps the actor's name)."""
    return list(dict.fromkeys([inv.actor, inv.user]))


def queue(inv: Invocation, deps: Deps) -> Result:
    """Your queue: your claimed mentions with their SLA clocks, the open queue per brand and
    network (counts and the oldest), today's first-response median and who is on call."""
    if inv.args.strip():
        raise UsageError(f"queue takes no arguments, not {quoted(inv.args.strip())}")
    from bot.reporting.queue import queue_lines

    view = queue_builder(deps).build(people=people_of(inv), now=deps.now())
    return Result(text=f"Queue for {inv.actor}:", ephemeral=True, lines=queue_lines(view))
