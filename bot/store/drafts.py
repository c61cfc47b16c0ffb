"""Drafts: replies that wait for a second person, and replies an AI endpoint suggested.

At most one open draft (suggested or awaiting) per mention. An approval turns the draft into a
pending `Reply` in the same transaction (bot/store/replies.py: recorded before it is sent, so it
is never sent twice); only a draft still awaiting can be approved, so two approvers clicking at
once yield one reply. Every step writes its event with who, when and the text.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.approvals import OPEN_DRAFT_STATES, Approval, DraftState
from bot.domain import PRIORITY_ORDER
from bot.errors import Conflict, NotFound
from bot.models import Brand, Draft, Mention, Reply
from bot.store.replies import ReplyStore


class DraftStore(ReplyStore):
    """Drafts of replies and the brands' approval rules."""

    # --- the brand's rule and voice ----------------------------------------------------------

    def set_brand_approval(self, *, name: str, approval: str, networks: list[str],
                           min_priority: str, actor: str) -> Brand:
        """Set who must approve a brand's replies: `approval` required|none, only on
        `networks` (empty: all) and for mentions at or above `min_priority` (empty: all)."""
        if approval not in {a.value for a in Approval}:
            raise ValueError(f"approval must be required or none, not {approval!r}")
        if min_priority and min_priority not in PRIORITY_ORDER:
            raise ValueError(f"unknown priority {min_priority!r}")
        with self.session() as s:
            brand = s.exec(select(Brand).where(
                sa.func.lower(Brand.name) == name.lower())).first()
            if brand is None:
                raise NotFound(f"no brand named {name!r}")
            brand.approval = approval
            brand.approval_networks = ",".join(networks)
            brand.approval_min_priority = min_priority
            brand.updated_at = self.now()
            self._event(s, kind="approval_changed", actor=actor, brand_id=brand.id,
                        detail={"approval": approval, "networks": networks,
                                "min_priority": min_priority})
            return brand

    def set_brand_voice(self, *, name: str, voice: str, actor: str) -> Brand:
        """The brand's voice guide for AI-drafted replies (empty: none)."""
        with self.session() as s:
            brand = s.exec(select(Brand).where(
                sa.func.lower(Brand.name) == name.lower())).first()
            if brand is None:
                raise NotFound(f"no brand named {name!r}")
            brand.voice = voice
            brand.updated_at = self.now()
            self._event(s, kind="voice_changed", actor=actor, brand_id=brand.id,
                        detail={"voice": voice})
            return brand

    # --- drafts ------------------------------------------------------------------------------

    def _open_draft(self, s: Session, mention_id: int) -> Draft | None:
        return s.exec(select(Draft).where(
            Draft.mention_id == mention_id, col(Draft.state).in_(OPEN_DRAFT_STATES),
        ).order_by(col(Draft.id).desc())).first()

    def open_draft(self, *, mention_id: int) -> Draft | None:
        """The mention's draft that is suggested or awaiting approval, if any."""
        with self.session() as s:
            return self._open_draft(s, mention_id)

    def draft(self, *, draft_id: int) -> Draft:
        with self.session() as s:
            d = s.get(Draft, draft_id)
            if d is None:
                raise NotFound(f"no draft {draft_id}")
            return d

    def drafts(self, *, mention_id: int) -> list[Draft]:
        with self.session() as s:
            return list(s.exec(select(Draft).where(Draft.mention_id == mention_id)
                               .order_by(col(Draft.id))))

    def _no_reply_in_flight(self, s: Session, mention_id: int) -> None:
        open_reply = s.exec(select(Reply).where(
            Reply.mention_id == mention_id,
            col(Reply.state).in_(["pending", "unknown"]),
        )).first()
        if open_reply is not None:
            raise Conflict(f"reply {open_reply.id} to #{mention_id} is still "
                           f"{open_reply.state}; check the network before answering again")

    def _drop(self, s: Session, d: Draft, *, actor: str, why: str) -> None:
        d.state = DraftState.DROPPED.value
        d.decided_by = actor
        d.decided_at = self.now()
        self._change(s, d.mention_id, kind="draft_dropped", actor=actor,
                     detail={"draft": d.id, "why": why})

    def submit_draft(self, *, mention_id: int, text: str, by: str, by_user: str,
                     origin: str = "person") -> Draft:
        """A reply that waits for approval. Refused while another draft awaits approval or a
        reply is in flight; an AI suggestion nobody took is dropped (the person wrote their
        own). `by_user` is "<platform>:<user id>": the author, who may not approve it."""
        with self.session() as s:
            if s.get(Mention, mention_id) is None:
                raise NotFound(f"no mention #{mention_id}")
            self._no_reply_in_flight(s, mention_id)
            current = self._open_draft(s, mention_id)
            if current is not None and current.state == DraftState.AWAITING.value:
                raise Conflict(f"a reply to #{mention_id} by {current.by} awaits approval "
                               f"already; approve, edit or reject it first")
            if current is not None:
                self._drop(s, current, actor=by, why="replaced by a reply for approval")
            platform = by_user.partition(":")[0]
            d = Draft(mention_id=mention_id, text=text, state=DraftState.AWAITING.value,
                      origin=origin, by=by, by_platform=platform, by_user=by_user,
                      created_at=self.now())
            s.add(d)
            s.flush()
            self._change(s, mention_id, kind="draft_submitted", actor=by,
                         detail={"draft": d.id, "text": text, "origin": origin})
            return d

    def suggest_draft(self, *, mention_id: int, text: str, by: str, by_user: str,
                      model: str) -> Draft:
        """An AI endpoint's draft, asked for by `by`: shown on the card, sent by nobody until
        a person takes it (`take_suggestion`)."""
        with self.session() as s:
            if s.get(Mention, mention_id) is None:
                raise NotFound(f"no mention #{mention_id}")
            current = self._open_draft(s, mention_id)
            if current is not None and current.state == DraftState.AWAITING.value:
                raise Conflict(f"a reply to #{mention_id} by {current.by} awaits approval; "
                               "approve, edit or reject it first")
            if current is not None:
                self._drop(s, current, actor=by, why="replaced by a new AI draft")
            d = Draft(mention_id=mention_id, text=text, state=DraftState.SUGGESTED.value,
                      origin="ai", by=by, by_platform=by_user.partition(":")[0],
                      by_user=by_user, created_at=self.now())
            s.add(d)
            s.flush()
            self._change(s, mention_id, kind="draft_suggested", actor=by,
                         detail={"draft": d.id, "text": text, "model": model})
            return d

    def edit_draft(self, *, mention_id: int, text: str, actor: str, actor_user: str) -> Draft:
        """Change the open draft's text. A draft awaiting approval must then be approved by
        someone other than `actor`."""
        with self.session() as s:
            d = self._open_draft(s, mention_id)
            if d is None:
                raise NotFound(f"#{mention_id} has no draft to edit")
            old = d.text
            d.text = text
            d.edited_by = actor
            d.edited_by_user = actor_user
            self._change(s, mention_id, kind="draft_edited", actor=actor,
                         detail={"draft": d.id, "text": text, "old": old})
            return d

    def take_suggestion(self, *, mention_id: int, by: str, by_user: str,
                        needs_approval: bool) -> tuple[Draft, Reply | None]:
        """A person takes up the AI's draft as their own reply: it waits for approval when
        the brand wants one (`needs_approval`), else it becomes a pending reply at once (the
        caller sends it). The person, not the AI, is its author from here on."""
        with self.session() as s:
            d = self._open_draft(s, mention_id)
            if d is None or d.state != DraftState.SUGGESTED.value:
                raise NotFound(f"#{mention_id} has no AI draft to send"
                               + (f"; the reply by {d.by} awaits approval" if d else ""))
            self._no_reply_in_flight(s, mention_id)
            d.by, d.by_user, d.by_platform = by, by_user, by_user.partition(":")[0]
            d.edited_by = d.edited_by_user = None  # the taker vouches for the whole text
            if needs_approval:
                d.state = DraftState.AWAITING.value
                d.created_at = self.now()
                self._change(s, mention_id, kind="draft_submitted", actor=by,
                             detail={"draft": d.id, "text": d.text, "origin": d.origin})
                return d, None
            m = s.get(Mention, mention_id)
            assert m is not None
            reply = self._record(s, m, text=d.text, by=by)
            d.state = DraftState.APPROVED.value
            d.decided_by, d.decided_at, d.reply_id = by, self.now(), reply.id
            self._change(s, mention_id, kind="draft_sent", actor=by,
                         detail={"draft": d.id, "reply": reply.id, "text": d.text})
            return d, reply

    def approve_draft(self, *, mention_id: int, actor: str, actor_user: str
                      ) -> tuple[Draft, Reply]:
        """Approve the draft awaiting approval: it becomes a pending reply (the caller sends
        it) in this transaction. Refused to whoever wrote its current text: the author, or
        its last editor."""
        with self.session() as s:
            d = self._open_draft(s, mention_id)
            if d is None or d.state != DraftState.AWAITING.value:
                raise NotFound(f"#{mention_id} has no reply awaiting approval")
            writer = d.edited_by_user or d.by_user
            if actor_user == writer:
                what = "edited" if d.edited_by_user else "wrote"
                raise Conflict(f"you {what} this reply to #{mention_id}; someone else must "
                               "approve it")
            self._no_reply_in_flight(s, mention_id)
            # Only one approver wins, however many click at once (the row is re-checked
            # under the write: PostgreSQL's row lock, SQLite's database lock).
            won = cast("sa.CursorResult[Any]", s.execute(sa.update(Draft).where(
                col(Draft.id) == d.id, col(Draft.state) == DraftState.AWAITING.value,
            ).values(state=DraftState.APPROVED.value, decided_by=actor,
                     decided_at=self.now()))).rowcount
            if not won:
                raise Conflict(f"the reply to #{mention_id} was decided meanwhile")
            m = s.get(Mention, mention_id)
            assert m is not None
            reply = self._record(s, m, text=d.text, by=d.by)
            s.execute(sa.update(Draft).where(col(Draft.id) == d.id).values(reply_id=reply.id))
            s.refresh(d)
            self._change(s, mention_id, kind="draft_approved", actor=actor,
                         detail={"draft": d.id, "reply": reply.id, "text": d.text,
                                 "author": d.by, "waited_seconds": round(
                                     (self.now() - d.created_at).total_seconds(), 3)})
            return d, reply

    def reject_draft(self, *, mention_id: int, actor: str, reason: str) -> Draft:
        """Say no to the open draft, with the reason its author is told."""
        with self.session() as s:
            d = self._open_draft(s, mention_id)
            if d is None:
                raise NotFound(f"#{mention_id} has no draft to reject")
            d.state = DraftState.REJECTED.value
            d.decided_by, d.decided_at, d.reason = actor, self.now(), reason
            self._change(s, mention_id, kind="draft_rejected", actor=actor,
                         detail={"draft": d.id, "reason": reason, "text": d.text,
                                 "author": d.by})
            return d
