"""The queue view on demand: `queue` (bot.reporting.queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.base import Deps, Invocation, Result, Role, UsageError, quoted

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
    network (counts and the oldest), today's first-response median and who is on call.
    `queue pin` keeps the channel's queue status pinned and up to date (where the chat
    supports it: Discord); `queue unpin` stops it. Both for admins."""
    word = inv.args.strip().lower()
    if word in ("pin", "unpin"):
        return _board(inv, deps, word)
    if word:
        raise UsageError(f"expected queue, queue pin or queue unpin, not "
                         f"{quoted(inv.args.strip())}")
    from bot.reporting.queue import queue_lines

    view = queue_builder(deps).build(people=people_of(inv), now=deps.now())
    return Result(text=f"Queue for {inv.actor}:", ephemeral=True, lines=queue_lines(view))


def _board(inv: Invocation, deps: Deps, word: str) -> Result:
    if Role.ADMIN not in inv.roles:
        return Result.error(f"Sorry, {inv.actor}: only admins may use queue {word}.")
    if inv.platform not in deps.status_boards:
        raise UsageError(f"a pinned queue status is kept on "
                         f"{', '.join(sorted(deps.status_boards)) or 'no configured chat'}, "
                         f"not on {inv.platform}")
    if inv.channel is None:
        raise UsageError(f"queue {word} works in a channel")
    if word == "pin":
        deps.store.want_board(platform=inv.platform, channel=inv.channel, actor=inv.actor)
        return Result(text="The queue status will be posted and pinned here, and kept up to "
                           "date (the bot needs the Pin Messages permission in this channel).",
                      ephemeral=True)
    deps.store.drop_board(platform=inv.platform, channel=inv.channel, actor=inv.actor)
    return Result(text="The queue status here will be unpinned and no longer updated.",
                  ephemeral=True)
