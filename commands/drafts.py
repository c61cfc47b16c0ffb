"""Replies that need a second person, and replies an AI endpoint drafts (issue 17):
approve, edit, reject, draft, send.

A reply to a brand whose rule wants approval (bot.approvals) becomes a draft on the card
instead of going out (commands/mentions.py: reply); only `approve` by someone other than the
person who wrote its text sends it, through the reply path (recorded, then sent once). `draft`
asks the AI endpoint for a reply; it is shown on the card and sent by nobody until a person
sends it (`send`), through approval where needed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.approvals import DraftState, approval_needed
from bot.drafting import DraftFailed, DraftRequest
from bot.errors import NotFound
from bot.networks import reply_limit
from bot.untrusted import clean, truncate
from commands.base import (
    Deps,
    Invocation,
    Notice,
    Result,
    Role,
    UsageError,
    first_token,
    mention_id,
    one_line,
)
from commands.mentions import person_key, send_recorded

if TYPE_CHECKING:
    from bot.networks import Responder
    from bot.store.views import MentionView

log = logging.getLogger(__name__)

NOT_CONFIGURED = ("AI drafts are not configured: set ECHTZEIT_AI_BASE_URL and "
                  "ECHTZEIT_AI_MODEL (docs/workflow.md).")
REASON_LIMIT = 500


def _responder(deps: Deps, view: MentionView) -> Responder:
    responder = deps.responders.get(view.mention.network)
    if responder is None:
        raise NotFound(f"Echtzeit cannot post replies on {view.mention.network}; answer "
                       f"there: {view.mention.url}")
    return responder


async def approve(inv: Invocation, deps: Deps) -> Result:
    """Approve the reply awaiting approval on a mention and send it: `approve <id>`.
    Whoever wrote its text (its author, or its last editor) cannot approve it."""
    if not inv.args.strip():
        raise UsageError("usage: approve <id>")
    mid = mention_id(first_token(inv.args)[0])

    def prepare() -> tuple[MentionView, Responder, object, object]:
        view = deps.store.view(mid)
        responder = _responder(deps, view)
        draft, reply = deps.store.approve_draft(mention_id=mid, actor=inv.actor,
                                                actor_user=person_key(inv))
        return view, responder, draft, reply

    view, responder, draft, reply = await asyncio.to_thread(prepare)
    from bot.models import Draft, Reply

    assert isinstance(draft, Draft) and isinstance(reply, Reply)
    return await send_recorded(view, reply, responder, deps,
                               done=f"Approved the reply by {draft.by}; replied to")


def edit(inv: Invocation, deps: Deps) -> Result:
    """Change a draft's text: `edit <id> <text>`. An edited reply awaiting approval must be
    approved by someone other than the editor; only approvers edit others' drafts."""
    token, text = first_token(inv.args)
    if not token or not text:
        raise UsageError("usage: edit <id> <text>")
    mid = mention_id(token)
    view = deps.store.view(mid)
    draft = deps.store.open_draft(mention_id=mid)
    if draft is None:
        raise NotFound(f"#{mid} has no draft to edit; reply with: reply {mid} <text>")
    own = draft.by_user == person_key(inv)
    if (draft.state == DraftState.AWAITING.value and not own
            and not ({Role.APPROVER, Role.ADMIN} & inv.roles)):
        return Result.error(f"Sorry, {inv.actor}: only approvers may edit another person's "
                            "reply awaiting approval.")
    problem = _responder(deps, view).check(text)
    if problem:
        return Result.error(f"not changed: {problem}")
    d = deps.store.edit_draft(mention_id=mid, text=text, actor=inv.actor,
                              actor_user=person_key(inv))
    after = ("it needs approval by someone other than you" if d.state == "awaiting"
             else f"send it with: send {mid}")
    return Result(text=f"Draft of the reply to #{mid} changed; {after}.",
                  cards=[deps.card(deps.store.view(mid))], ephemeral=True)


def reject(inv: Invocation, deps: Deps) -> Result:
    """Reject a draft with the reason its author is told: `reject <id> <reason>`."""
    token, reason = first_token(inv.args)
    if not token or not reason.strip():
        raise UsageError("usage: reject <id> <reason>  (the author is told the reason)")
    mid = mention_id(token)
    reason = one_line(reason, REASON_LIMIT)
    d = deps.store.reject_draft(mention_id=mid, actor=inv.actor, reason=reason)
    notices = []
    platform, _, user = d.by_user.partition(":")
    if user and d.by_user != person_key(inv):
        notices.append(Notice(platform=platform, user=user, mention_id=mid,
                              text=f"Your reply to #{mid} was rejected by {inv.actor}: "
                                   f"{reason}"))
    return Result(text=f"Rejected the reply by {d.by} to #{mid}: {reason}", notices=notices)


async def draft(inv: Invocation, deps: Deps) -> Result:
    """Ask the AI for a reply in the brand's voice: `draft <id>`. The draft is shown, never
    sent by itself: send it with `send <id>` or change it with `edit <id> <text>`."""
    if not inv.args.strip():
        raise UsageError("usage: draft <id>")
    mid = mention_id(first_token(inv.args)[0])
    drafter = deps.drafter
    if drafter is None:
        return Result.error(NOT_CONFIGURED)
    request, limit, responder = await asyncio.to_thread(_draft_request, mid, deps)
    try:
        answer = await drafter.draft(request)
    except DraftFailed as exc:
        return Result.error(f"No AI draft for #{mid}: {exc}")
    except Exception:  # a bug in a drafter must not leave the person without an answer
        log.exception("AI draft for mention %s failed", mid)
        return Result.error(f"No AI draft for #{mid}: the drafter failed; see the log.")
    text = clean(answer.text)
    cut = False
    if responder.check(text) and limit is not None and len(text) > limit:
        text, cut = truncate(text, limit), True
    problem = responder.check(text)
    if problem:
        return Result.error(f"No AI draft for #{mid}: the draft does not fit: {problem}")

    def store() -> Result:
        deps.store.suggest_draft(mention_id=mid, text=text, by=inv.actor,
                                 by_user=person_key(inv), model=answer.model)
        view = deps.store.view(mid)
        m = view.mention
        then = ("it then waits for approval" if approval_needed(
            view.brand, network=m.network, priority=m.priority) else "it is then sent")
        return Result(text=f"AI draft for #{mid} ({answer.model})"
                           + (", cut to the network's length" if cut else "")
                           + f": not sent. Send it with `send {mid}` ({then}), or change it "
                             f"with `edit {mid} <text>`.",
                      cards=[deps.card(view)], ephemeral=True)

    return await asyncio.to_thread(store)


def _draft_request(mid: int, deps: Deps) -> tuple[DraftRequest, int | None, Responder]:
    view = deps.store.view(mid)
    responder = _responder(deps, view)
    current = deps.store.open_draft(mention_id=mid)
    if current is not None and current.state == DraftState.AWAITING.value:
        raise NotFound(f"the reply by {current.by} to #{mid} awaits approval; approve, edit "
                       "or reject it")
    m, a = view.mention, view.author
    history = [h.text for h in deps.store.author_history(author_id=a.id or 0, limit=6)
               if h.id != m.id][:5]
    limit = reply_limit(responder)
    request = DraftRequest(
        brand=view.brand.name, network=m.network, post=m.text, author=a.handle,
        language=m.language, limit=limit, voice=view.brand.voice,
        examples=[t.text for t in deps.store.templates()],
        thread=deps.store.thread_context(network=m.network, external_id=m.in_reply_to),
        history=history)
    return request, limit, responder


async def send(inv: Invocation, deps: Deps) -> Result:
    """Send the AI's draft as your reply: `send <id>` (through approval where the brand
    wants one). You are its author from here on."""
    if not inv.args.strip():
        raise UsageError("usage: send <id>")
    mid = mention_id(first_token(inv.args)[0])

    def prepare() -> Result | tuple[MentionView, Responder, object]:
        view = deps.store.view(mid)
        responder = _responder(deps, view)
        current = deps.store.open_draft(mention_id=mid)
        if current is not None and current.state == DraftState.SUGGESTED.value:
            problem = responder.check(current.text)
            if problem:
                return Result.error(f"not sent: {problem}; change it with edit {mid} <text>")
        m = view.mention
        needed = approval_needed(view.brand, network=m.network, priority=m.priority)
        d, reply = deps.store.take_suggestion(mention_id=mid, by=inv.actor,
                                              by_user=person_key(inv), needs_approval=needed)
        if reply is None:
            return Result(text=f"Your reply to #{mid} waits for approval by a second person "
                               f"(draft {d.id}); nothing is sent until then.")
        return view, responder, reply

    prepared = await asyncio.to_thread(prepare)
    if isinstance(prepared, Result):
        return prepared
    view, responder, reply = prepared
    from bot.models import Reply

    assert isinstance(reply, Reply)
    return await send_recorded(view, reply, responder, deps)
