"""What staff do to a mention: claim, assign, resolve, ignore, mute its author, note; and
the event log that records it."""

from __future__ import annotations

import json

from sqlmodel import Session, col, select

from bot.domain import MentionStatus
from bot.errors import Conflict, NotFound
from bot.models import Author, Event, Mention
from bot.store.base import handle_key
from bot.store.feedback import FeedbackStore


class WorkflowStore(FeedbackStore):
    """State changes of mentions, each with its event (and the labels they teach the brand's
    models: bot/triage/feedback.py)."""

    def events(self, *, mention_id: int | None = None, kind: str | None = None) -> list[Event]:
        with self.session() as s:
            q = select(Event).order_by(col(Event.id))
            if mention_id is not None:
                q = q.where(Event.mention_id == mention_id)
            if kind is not None:
                q = q.where(Event.kind == kind)
            return list(s.exec(q))

    def claim(self, *, mention_id: int, actor: str, assignee: str | None = None) -> Mention:
        """Claim a mention for `assignee` (default: the actor). Refuses a taken or closed one."""
        who = assignee or actor
        with self.session() as s:
            m = self._change(s, mention_id, kind="assigned" if assignee else "claimed",
                             actor=actor, detail={"assignee": who})
            if m.status == MentionStatus.IGNORED.value and self._closed_as_noise(s, mention_id):
                m.status = MentionStatus.NEW.value  # taken out of the noise: open again
            if m.status in (MentionStatus.RESOLVED.value, MentionStatus.IGNORED.value):
                raise Conflict(f"#{mention_id} is {m.status}")
            if assignee is None and m.assignee and m.assignee != actor:
                raise Conflict(f"#{mention_id} is already claimed by {m.assignee}")
            m.assignee = who
            if m.status == MentionStatus.NEW.value:
                m.status = MentionStatus.CLAIMED.value
            return m

    @staticmethod
    def _closed_as_noise(s: Session, mention_id: int) -> bool:
        """Ignored by the pipeline as noise (bot.store.brands.noise_everywhere), not by staff:
        no "ignored" event."""
        staff = select(Event.id).where(Event.mention_id == mention_id, Event.kind == "ignored")
        return s.exec(staff.limit(1)).first() is None

    def resolve(self, *, mention_id: int, actor: str) -> Mention:
        with self.session() as s:
            m = self._change(s, mention_id, kind="resolved", actor=actor)
            if m.status == MentionStatus.RESOLVED.value:
                raise Conflict(f"#{mention_id} is resolved already")
            m.status = MentionStatus.RESOLVED.value
            self._learn(s, m, action="resolved", actor=actor)
            return m

    def ignore(self, *, mention_id: int, actor: str, reason: str) -> Mention:
        with self.session() as s:
            m = self._change(s, mention_id, kind="ignored", actor=actor, detail={"reason": reason})
            if m.status in (MentionStatus.RESOLVED.value, MentionStatus.IGNORED.value):
                raise Conflict(f"#{mention_id} is {m.status} already")
            m.status = MentionStatus.IGNORED.value
            self._learn(s, m, action="ignored", actor=actor)
            return m

    def mute_author(self, *, network: str, handle: str, actor: str) -> Author:
        with self.session() as s:
            a = s.exec(
                select(Author).where(
                    Author.network == network, Author.handle_key == handle_key(handle)
                )
            ).first()
            if a is None:
                raise NotFound(f"no author @{handle.lstrip('@')} on {network}")
            a.muted = True
            self._event(s, kind="author_muted", actor=actor,
                        detail={"network": network, "handle": a.handle})
            return a

    def add_note(self, *, mention_id: int, actor: str, text: str, ref: str | None = None) -> bool:
        """Record an internal note on a mention's history (kind "note"); it is never sent to
        the network. `ref` names the note's chat message: a note already recorded under the same
        ref is not recorded twice (a chat platform may deliver a message again). Returns whether
        the note was new."""
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            if ref is not None:
                for e in s.exec(select(Event).where(Event.mention_id == mention_id,
                                                    Event.kind == "note")):
                    if json.loads(e.detail or "{}").get("ref") == ref:
                        return False
            self._event(s, kind="note", actor=actor, mention=m,
                        detail={"text": text[:4000], "ref": ref})
            return True

    def record_hidden(self, *, mention_id: int, hidden: bool, actor: str) -> Mention:
        """Log that `actor` hid (or showed again) the comment on its network: event "hidden"
        or "unhidden", which cards read as "hidden by <actor>"."""
        with self.session() as s:
            # _change also marks the mention's cards for an update.
            return self._change(s, mention_id, kind="hidden" if hidden else "unhidden",
                                actor=actor)
