"""Working a mention: claim, assign, reply, resolve, ignore, mute, list, show."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

from bot.approvals import approval_needed
from bot.domain import OPEN_STATUSES, MentionStatus
from bot.errors import NotFound
from bot.networks import PostGone, ReplyRejected, ReplyUncertain

if TYPE_CHECKING:  # annotations only: importing commands needs no SQLAlchemy
    from bot.models import Reply
    from bot.networks import Responder
    from bot.store.views import MentionView
from commands.base import (
    Deps,
    HistoryItem,
    Invocation,
    Result,
    UsageError,
    first_token,
    mention_id,
    one_line,
    parse_id,
    quoted,
)

log = logging.getLogger(__name__)


PLACEHOLDERS = frozenset({"author", "name", "brand"})
_PLACEHOLDER = re.compile(r"\{(author|name|brand)\}")


def fill_template(text: str, view: MentionView) -> str:
    """A template with {author}, {name} and {brand} filled in. Only these three are
    placeholders: any other brace, "{0}" or an unclosed "{name", stays as it was written."""
    values = {"author": "@" + view.author.handle,
              "name": view.author.name or view.author.handle, "brand": view.brand.name}
    return _PLACEHOLDER.sub(lambda m: values[m[1]], text)


async def reply(inv: Invocation, deps: Deps) -> Result:
    """Answer a mention on its network: `reply <id> <text>` or `reply <id> :template`.

    The reply is recorded before it is sent and is never sent twice. A template may use
    {author}, {name} and {brand}.
    """
    token, text = first_token(inv.args)
    if not token or not text:
        raise UsageError("usage: reply <id> <text>  or  reply <id> :template-name")
    mid = mention_id(token)
    # The store work runs in a worker thread (see commands.base.Handler); only the network
    # call is awaited here.
    prepared = await asyncio.to_thread(_prepare_reply, mid, text, inv, deps)
    if isinstance(prepared, Result):
        return prepared
    view, text, record, responder = prepared
    return await send_recorded(view, record, responder, deps)


def person_key(inv: Invocation) -> str:
    """Who acted, as drafts remember it: "<platform>:<user id>" (names may repeat)."""
    return f"{inv.platform}:{inv.user}"


async def send_recorded(view: MentionView, record: Reply, responder: Responder, deps: Deps, *,
                        done: str = "Replied to") -> Result:
    """Send a reply already recorded as pending, and record what the network answered."""
    mid = view.mention.id or 0
    try:
        posted = await responder.reply(mention=view.mention, text=record.text)
    except PostGone as exc:
        await asyncio.to_thread(deps.store.reply_failed, reply_id=record.id or 0,
                                error=str(exc), unknown=False)
        await asyncio.to_thread(deps.store.mark_deleted, mention_id=mid, actor=record.by,
                                how=f"found gone before a reply: {exc}")
        return Result.error(f"Not sent: the post #{mid} was deleted on "
                            f"{view.mention.network} ({exc}); the card is marked deleted.")
    except ReplyRejected as exc:
        await asyncio.to_thread(deps.store.reply_failed, reply_id=record.id or 0,
                                error=str(exc), unknown=False)
        return Result.error(f"{view.mention.network} refused the reply to #{mid}: {exc}")
    except (ReplyUncertain, Exception) as exc:
        # We cannot tell whether the network took it: never retry blindly, ask the person.
        log.warning("reply %s to mention %s: outcome unknown: %s", record.id, mid, exc)
        await asyncio.to_thread(deps.store.reply_failed, reply_id=record.id or 0,
                                error=str(exc), unknown=True)
        return Result(
            ok=False,
            text=(
                f"It is unclear whether {view.mention.network} posted reply {record.id} to "
                f"#{mid} ({exc}). Look at {view.mention.url}, then say "
                f"`settle {record.id} posted` or `settle {record.id} failed`."
            ),
        )
    await asyncio.to_thread(deps.store.reply_sent, reply_id=record.id or 0,
                            network_reply_id=posted.id, url=posted.url)
    where = f": {posted.url}" if posted.url else ""
    note = f" ({posted.note})" if posted.note else ""
    return Result(text=f"{done} #{mid} on {view.mention.network}{where}{note}")


def _prepare_reply(mid: int, text: str, inv: Invocation,
                   deps: Deps) -> Result | tuple[MentionView, str, Reply, Responder]:
    """The reply's checks and its record, before anything goes to the network."""
    view = deps.store.view(mid)
    if view.mention.deleted_at is not None:
        return Result.error(f"Not sent: the post #{mid} was deleted on {view.mention.network} "
                            f"at {view.mention.deleted_at:%Y-%m-%d %H:%M} UTC; there is "
                            "nothing to answer any more.")
    if text.startswith(":") and " " not in text.strip():
        text = fill_template(deps.store.template(name=text[1:]).text, view)
    responder = deps.responders.get(view.mention.network)
    if responder is None:
        return Result.error(
            f"Echtzeit cannot post replies on {view.mention.network}; answer there: "
            f"{view.mention.url}"
        )
    problem = responder.check(text)
    if problem:
        return Result.error(f"not sent: {problem}")
    m = view.mention
    if approval_needed(view.brand, network=m.network, priority=m.priority):
        d = deps.store.submit_draft(mention_id=mid, text=text, by=inv.actor,
                                    by_user=person_key(inv))
        return Result(text=f"Your reply to #{mid} waits for approval by a second person "
                           f"(draft {d.id}); nothing is sent until then.")
    record = deps.store.record_reply(mention_id=mid, text=text, by=inv.actor)
    return view, text, record, responder


def settle(inv: Invocation, deps: Deps) -> Result:
    """Settle a reply whose outcome was unknown: `settle <reply-id> posted [url]` or
    `settle <reply-id> failed`, after looking at the network."""
    token, rest = first_token(inv.args)
    outcome, url = first_token(rest)
    if not token or outcome not in ("posted", "failed"):
        raise UsageError("usage: settle <reply-id> posted [url]  or  settle <reply-id> failed")
    reply_id = parse_id(token, "reply")
    if outcome == "posted":
        deps.store.reply_sent(reply_id=reply_id, network_reply_id="", url=url or None)
        return Result(text=f"Reply {reply_id} marked as posted.")
    deps.store.reply_failed(reply_id=reply_id, error=f"settled as failed by {inv.actor}",
                            unknown=False)
    return Result(text=f"Reply {reply_id} marked as failed; you may reply again.")


def claim(inv: Invocation, deps: Deps) -> Result:
    """Take a mention: `claim <id>`, or `claim` for the oldest open one nobody has."""
    if inv.args.strip():
        mid = mention_id(inv.args)
    else:
        free = [v for v in deps.store.list_mentions(statuses=(MentionStatus.NEW.value,), limit=500)
                if v.mention.assignee is None]
        if not free:
            return Result(text="Nothing left to claim.", ephemeral=True)
        mid = min(v.mention.id or 0 for v in free)
    m = deps.store.claim(mention_id=mid, actor=inv.actor)
    return Result(text=f"#{m.id} is yours, {inv.actor}.")


def assign(inv: Invocation, deps: Deps) -> Result:
    """Give a mention to someone: `assign <id> <person>`."""
    token, person = first_token(inv.args)
    if not token or not person:
        raise UsageError("usage: assign <id> <person>")
    # A person's name is one line on a card, however it was typed.
    person = one_line(person.lstrip("@"), 100)
    m = deps.store.claim(mention_id=mention_id(token), actor=inv.actor, assignee=person)
    return Result(text=f"#{m.id} is assigned to {m.assignee}.")


def resolve(inv: Invocation, deps: Deps) -> Result:
    """Close a mention as done: `resolve <id>`."""
    if not inv.args.strip():
        raise UsageError("usage: resolve <id>")
    m = deps.store.resolve(mention_id=mention_id(inv.args), actor=inv.actor)
    return Result(text=f"#{m.id} resolved.")


def ignore(inv: Invocation, deps: Deps) -> Result:
    """Close a mention without an answer: `ignore <id> [reason]` (spam, not about us, ...)."""
    token, reason = first_token(inv.args)
    if not token:
        raise UsageError("usage: ignore <id> [reason]")
    m = deps.store.ignore(mention_id=mention_id(token), actor=inv.actor, reason=reason)
    return Result(text=f"#{m.id} ignored" + (f" ({reason})." if reason else "."))


def mute(inv: Invocation, deps: Deps) -> Result:
    """Stop relaying an author: `mute <network> <author>`. Their posts are still stored."""
    network, handle = first_token(inv.args)
    if not network or not handle:
        raise UsageError("usage: mute <network> <author>")
    a = deps.store.mute_author(network=network.lower(), handle=handle, actor=inv.actor)
    return Result(text=f"@{a.handle} on {a.network} is muted.")


def list_(inv: Invocation, deps: Deps) -> Result:
    """Show mentions: `list` (open), `list mine`, `list all`, `list <brand>`, or `list noise
    [brand]` (stored but not carded: below a route's minimum relevance)."""
    what = inv.args.strip()
    sub, rest = first_token(what)
    if sub == "noise":
        return _noise(rest.strip(), deps)
    statuses: tuple[str, ...] = OPEN_STATUSES
    assignee = None
    brand_id = None
    if what == "mine":
        assignee = inv.actor
    elif what == "all":
        statuses = tuple(s.value for s in MentionStatus)
    elif what not in ("", "open"):
        try:
            brand_id = deps.store.brand(name=what).id
        except NotFound:
            raise UsageError(
                f"expected open, mine, all or a brand name; no brand named {quoted(what)}"
            ) from None
    views = deps.store.list_mentions(statuses=statuses, assignee=assignee, brand_id=brand_id)
    if not views:
        return Result(text="No mentions.", ephemeral=True)
    return Result(text=f"{len(views)} mention(s), newest first:", ephemeral=True,
                  cards=[deps.card(v) for v in views])


def _person_history(deps: Deps, view: MentionView, identity_id: int) -> list[HistoryItem]:
    """Earlier mentions of the person on every network, newest first."""
    return [
        HistoryItem(mention_id=m.id or 0, created_at=m.created_at, status=m.status,
                    text=f"{m.network}: {m.text}")
        for m in deps.store.identity_history(identity_id=identity_id, limit=9)
        if m.id != view.mention.id
    ][:8]


def _noise(brand: str, deps: Deps) -> Result:
    brand_id = None
    if brand:
        try:
            brand_id = deps.store.brand(name=brand).id
        except NotFound:
            raise UsageError(f"no brand named {quoted(brand)}") from None
    views = deps.store.list_noise(brand_id=brand_id)
    if not views:
        return Result(text="No mentions hidden as noise.", ephemeral=True)
    return Result(text=f"{len(views)} mention(s) hidden as noise (below a route's minimum "
                       "relevance), newest first:", ephemeral=True,
                  cards=[deps.card(v) for v in views])


def show(inv: Invocation, deps: Deps) -> Result:
    """Show one mention with its author's history: `show <id>`."""
    if not inv.args.strip():
        raise UsageError("usage: show <id>")
    view = deps.store.view(mention_id(inv.args))
    earlier = [
        HistoryItem(mention_id=m.id or 0, created_at=m.created_at, status=m.status, text=m.text)
        for m in deps.store.author_history(author_id=view.author.id or 0, limit=6)
        if m.id != view.mention.id
    ][:5]
    a = view.author
    lines = [
        f"Author @{a.handle} on {a.network}: wrote to us {a.mentions_count} time(s), "
        f"answered {a.answered_count} time(s), first seen {a.first_seen:%Y-%m-%d}"
        + (", muted" if a.muted else ""),
    ]
    lines += [f"Reply {r.id} by {r.by}: {r.state}" + (f" {r.url}" if r.url else "")
              for r in view.replies]
    if view.draft is not None and view.draft.state != "dropped":
        d = view.draft
        lines.append(f"Draft {d.id} ({d.origin}) by {d.by}: {d.state}"
                     + (f", edited by {d.edited_by}" if d.edited_by else "")
                     + (f", decided by {d.decided_by}" if d.decided_by else ""))
    person = deps.store.person_history(author_id=a.id or 0)
    if person is not None:
        p = person.summary
        lines += [
            f"Person {p.identity_id} across networks: "
            + ", ".join(f"{n}:@{h}" for n, h in p.accounts),
            "  mentions: " + ", ".join(f"{n} {c}" for n, c in person.per_network)
            + f"; answered {person.answered}, unanswered {person.unanswered}",
            "  sentiment trend (oldest to newest): "
            + " → ".join(f"{v:+.2f}" for v in person.sentiment),
            "  last mention " + (f"{person.last_mention:%Y-%m-%d %H:%M}"
                                 if person.last_mention else "never")
            + ", last contact " + (f"{person.last_contact:%Y-%m-%d %H:%M}"
                                   if person.last_contact else "never"),
            f"  community value {p.value:.1f} (reach × engagement × history)",
        ]
        earlier = _person_history(deps, view, person.summary.identity_id) or earlier
    if view.mention.story_id is not None:
        lines.append(f"Part of story {view.mention.story_id}: `story {view.mention.story_id}`")
    return Result(text=f"Mention #{view.mention.id}", ephemeral=True,
                  cards=[deps.card(view)],
                  history=earlier, lines=lines,
                  history_title="Earlier from this person, on every network"
                  if person is not None else "Earlier from this author")
