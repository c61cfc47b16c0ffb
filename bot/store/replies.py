"""Replies to mentions: recorded before they are sent, so that none is posted twice."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.domain import MentionStatus, ReplyState
from bot.errors import Conflict, NotFound
from bot.models import Author, Draft, Mention, Reply
from bot.store.feedback import FeedbackStore


class ReplyStore(FeedbackStore):
    """Replies and their outcome on the network."""

    def record_reply(self, *, mention_id: int, text: str, by: str) -> Reply:
        """Record a reply as pending, before anything is sent.

        Refuses while another reply to the same mention is pending or unknown, so that a double
        click or a retry cannot post twice.
        """
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            return self._record(s, m, text=text, by=by)

    def _record(self, s: Session, m: Mention, *, text: str, by: str) -> Reply:
        mention_id = m.id or 0
        open_reply = s.exec(
            select(Reply).where(
                Reply.mention_id == mention_id,
                col(Reply.state).in_([ReplyState.PENDING.value, ReplyState.UNKNOWN.value]),
            )
        ).first()
        if open_reply is not None:
            raise Conflict(
                f"reply {open_reply.id} to #{mention_id} is still {open_reply.state}; "
                "check the network before answering again"
            )
        waiting = s.exec(select(Draft).where(Draft.mention_id == mention_id,
                                             Draft.state == "awaiting")).first()
        if waiting is not None:
            # A reply awaiting approval goes first (even when the brand's rule changed since):
            # approving it later must not make a second reply.
            raise Conflict(f"a reply to #{mention_id} by {waiting.by} awaits approval; "
                           "approve, edit or reject it first")
        r = Reply(mention_id=mention_id, text=text, by=by, state=ReplyState.PENDING.value,
                  created_at=self.now())
        s.add(r)
        s.flush()
        self._event(s, kind="reply_recorded", actor=by, mention=m, detail={"reply": r.id})
        return r

    def reply_sent(self, *, reply_id: int, network_reply_id: str, url: str | None) -> Reply:
        with self.session() as s:
            r = s.get(Reply, reply_id)
            if r is None:
                raise NotFound(f"no reply {reply_id}")
            r.state = ReplyState.SENT.value
            r.network_reply_id = network_reply_id
            r.url = url
            r.sent_at = self.now()
            # The event's time is the reply's: the digest reads first replies from the events.
            m = self._change(s, r.mention_id, kind="replied", actor=r.by,
                             detail={"reply": r.id, "url": url}, at=r.sent_at)
            if m.status in (MentionStatus.NEW.value, MentionStatus.CLAIMED.value):
                m.status = MentionStatus.REPLIED.value
            if m.assignee is None:
                m.assignee = r.by
            author = s.get(Author, m.author_id)
            if author is not None:
                author.answered_count += 1
            # An answer that went out: the post was about us and needed one.
            self._learn(s, m, action="replied", actor=r.by)
            return r

    def reply_failed(self, *, reply_id: int, error: str, unknown: bool) -> Reply:
        """The network refused (failed) or may or may not have taken it (unknown)."""
        with self.session() as s:
            r = s.get(Reply, reply_id)
            if r is None:
                raise NotFound(f"no reply {reply_id}")
            r.state = ReplyState.UNKNOWN.value if unknown else ReplyState.FAILED.value
            r.error = error[:2000]
            self._change(s, r.mention_id, kind="reply_unknown" if unknown else "reply_failed",
                         actor=r.by, detail={"reply": r.id, "error": error[:500]})
            return r
