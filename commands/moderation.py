"""Moderation from chat: hide or show again a comment on the brand's own posts (Facebook Page,
Instagram media), where the network's API has that action (bot.networks.Moderator)."""

from __future__ import annotations

import asyncio

from bot.networks import ModerationRefused, no_hide_line
from commands.base import Deps, Invocation, Result, UsageError, mention_id


async def hide(inv: Invocation, deps: Deps) -> Result:
    """Hide a comment on the brand's own Facebook or Instagram post: `hide <id>`. Its author
    and their friends still see it; nobody else does. Recorded in the event log."""
    return await _set_hidden(inv, deps, hidden=True)


async def unhide(inv: Invocation, deps: Deps) -> Result:
    """Show a hidden comment again: `unhide <id>`."""
    return await _set_hidden(inv, deps, hidden=False)


async def _set_hidden(inv: Invocation, deps: Deps, *, hidden: bool) -> Result:
    verb = "hide" if hidden else "unhide"
    if not inv.args.strip() or len(inv.args.split()) != 1:
        raise UsageError(f"usage: {verb} <id>")
    mid = mention_id(inv.args.strip())
    view = await asyncio.to_thread(deps.store.view, mid)
    network = view.mention.network
    moderator = deps.moderators.get(network)
    if moderator is None:
        if network in ("facebook", "instagram"):
            return Result.error(f"#{mid}: {network} is not configured to hide comments here")
        return Result.error(f"#{mid}: {no_hide_line(network)}.")
    why_not = moderator.can_hide(view.mention)
    if why_not:
        return Result.error(f"#{mid}: {why_not}")
    try:
        await moderator.set_hidden(mention=view.mention, hidden=hidden)
    except ModerationRefused as exc:
        return Result.error(f"#{mid} not {'hidden' if hidden else 'shown again'}: {exc}")
    # Hiding is idempotent on the network: a crash before this line loses the log entry,
    # never does the action twice with another effect.
    await asyncio.to_thread(deps.store.record_hidden, mention_id=mid, hidden=hidden,
                            actor=inv.actor)
    if hidden:
        return Result(text=f"#{mid} hidden on {network} by {inv.actor}.")
    return Result(text=f"#{mid} shown again on {network} by {inv.actor}.")
