"""Everything staff can do, once, for every chat platform.

`COMMANDS` is the whole command surface; each chat adapter loops over it. `dispatch` parses one
command line, checks who may run it, and turns known failures into a one-line answer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import cast

from bot.errors import Conflict, NotFound
from commands import (
    admin,
    digest,
    drafts,
    feedback,
    mentions,
    moderation,
    people,
    publishing,
    queue,
)
from commands.base import (
    CommandSpec,
    Deps,
    Invocation,
    Notice,
    Result,
    Role,
    UsageError,
    first_token,
    quoted,
)

log = logging.getLogger(__name__)


def help_(inv: Invocation, deps: Deps) -> Result:
    """List the commands, or explain one: `help [command]`."""
    name = inv.args.strip().lstrip("/")
    if name:
        spec = BY_NAME.get(name)
        if spec is None:
            raise UsageError(f"no command {quoted(name)}; try help")
        return Result(text=f"{spec.usage}\n{spec.help}", ephemeral=True)
    return Result(text="Commands:", ephemeral=True,
                  lines=[f"{c.usage} - {c.summary}" for c in COMMANDS])


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("reply", "reply <id> <text|:template>", mentions.reply, Role.RESPONDER),
    CommandSpec("approve", "approve <id>", drafts.approve, Role.APPROVER),
    CommandSpec("reject", "reject <id> <reason>", drafts.reject, Role.APPROVER),
    CommandSpec("edit", "edit <id> <text>", drafts.edit, Role.RESPONDER),
    CommandSpec("draft", "draft <id>", drafts.draft, Role.RESPONDER),
    CommandSpec("send", "send <id>", drafts.send, Role.RESPONDER),
    CommandSpec("claim", "claim [id]", mentions.claim, Role.RESPONDER),
    CommandSpec("assign", "assign <id> <person>", mentions.assign, Role.RESPONDER),
    CommandSpec("resolve", "resolve <id>", mentions.resolve, Role.RESPONDER),
    CommandSpec("ignore", "ignore <id> [reason]", mentions.ignore, Role.RESPONDER),
    CommandSpec("mute", "mute <network> <author>", mentions.mute, Role.RESPONDER),
    CommandSpec("notus", "notus <id>", feedback.notus, Role.RESPONDER),
    CommandSpec("noreply", "noreply <id>", feedback.noreply, Role.RESPONDER),
    CommandSpec("sentiment", "sentiment <id> negative|neutral|positive", feedback.sentiment,
                Role.RESPONDER),
    CommandSpec("hide", "hide <id>", moderation.hide, Role.RESPONDER),
    CommandSpec("unhide", "unhide <id>", moderation.unhide, Role.RESPONDER),
    CommandSpec("settle", "settle <reply-id> posted|failed", mentions.settle, Role.RESPONDER),
    CommandSpec("list", "list [open|mine|all|noise|<brand>]", mentions.list_),
    CommandSpec("show", "show <id>", mentions.show),
    CommandSpec("queue", "queue [pin|unpin]", queue.queue),
    CommandSpec("story", "story <id>", people.story),
    CommandSpec("link", "link <network:handle> <network:handle>", people.link, Role.RESPONDER),
    CommandSpec("unlink", "unlink <network:handle>", people.unlink, Role.RESPONDER),
    CommandSpec("brand", "brand list|add|query|route|unroute ...", admin.brand, Role.ADMIN),
    CommandSpec("template", "template list|add ...", admin.template, Role.RESPONDER),
    CommandSpec("digest", "digest [today|yesterday|week|YYYY-MM-DD] [channel]", digest.digest),
    CommandSpec("sla", "sla list|set|clear ...", digest.sla),
    CommandSpec("prepare", "prepare <event> <outcome> <network> <text>", publishing.prepare,
                Role.RESPONDER),
    CommandSpec("prepared", "prepared [event]", publishing.prepared),
    CommandSpec("publish", "publish <event> <outcome> [at HH:MM] | cancel <id>",
                publishing.publish, Role.RESPONDER),
    CommandSpec("settle-post", "settle-post <id> posted|failed", publishing.settle_post,
                Role.RESPONDER),
    CommandSpec("oncall", "oncall [set|remove ...]", publishing.oncall),
    CommandSpec("help", "help [command]", help_),
)
BY_NAME = {c.name: c for c in COMMANDS}

_REFUSAL = {
    Role.RESPONDER: "Sorry, {user}: only people allowed to answer customers may use {cmd}. "
                    "Ask an admin to add you.",
    Role.APPROVER: "Sorry, {user}: only approvers may use {cmd}. Ask an admin to add you.",
    Role.ADMIN: "Sorry, {user}: only admins may use {cmd}.",
}


def parse_line(line: str) -> tuple[str, str]:
    """"/reply 3 Danke" -> ("reply", "3 Danke"). A leading / or ! is optional."""
    name, args = first_token(line.strip().lstrip("/!"))
    return name.lower(), args


async def run(spec: CommandSpec, inv: Invocation, deps: Deps) -> Result:
    """Run one command with its permission check and error handling."""
    deps.in_flight.track()  # until the task that runs it ends (its answer sent)
    if spec.role is not None and spec.role not in inv.roles and Role.ADMIN not in inv.roles:
        return Result.error(_REFUSAL[spec.role].format(user=inv.actor, cmd=spec.name))
    try:
        if inspect.iscoroutinefunction(spec.handler):
            return await cast(Awaitable[Result], spec.handler(inv, deps))
        return await asyncio.to_thread(cast(Callable[[Invocation, Deps], Result], spec.handler),
                                       inv, deps)
    except UsageError as exc:
        return Result.error(f"{spec.name}: {exc}")
    except (NotFound, Conflict) as exc:
        return Result.error(str(exc).strip("'\""))


async def dispatch(line: str, inv: Invocation, deps: Deps) -> Result:
    """Run a typed command line such as "/claim 42" for the person in `inv`."""
    # Lone surrogates (JSON "\ud800" from a chat API) cannot be stored or sent on: replaced.
    line = line.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    try:
        name, args = parse_line(line)
    except UsageError as exc:
        return Result.error(str(exc))
    spec = BY_NAME.get(name)
    if spec is None:
        return Result.error(f"unknown command {quoted(name)}; try /help")
    return await run(spec, Invocation(user=inv.user, platform=inv.platform, args=args,
                                      channel=inv.channel, display_name=inv.display_name,
                                      roles=inv.roles), deps)


__all__ = ["BY_NAME", "COMMANDS", "CommandSpec", "Deps", "Invocation", "Notice", "Result", "Role",
           "dispatch", "run"]
