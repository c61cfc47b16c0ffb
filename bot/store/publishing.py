"""Prepared posts for expected events, their publications on the brand's own accounts, and
scheduled publish jobs (issue 17, item 3).

A publication is recorded (`pending`) before the network is called, like a reply
(bot/store/replies.py): while one of a prepared post is pending, unknown or sent, no second one
is accepted, so a double click, a scheduled run next to a manual one, or a restart never posts
twice. A failed one (the network certainly refused) may be published again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.domain import ReplyState
from bot.errors import Conflict, NotFound
from bot.models import Brand, Mention, PreparedPost, Publication, PublishJob
from bot.store.base import StoreBase

# A job that a leader took and did not finish within this time is taken again (its runner
# died); the publications' records keep the second run from posting anything twice.
JOB_LEASE = timedelta(minutes=5)
# While one of these is on record for a prepared post, it is not published again.
BLOCKING = (ReplyState.PENDING.value, ReplyState.UNKNOWN.value, ReplyState.SENT.value)


@dataclass(frozen=True, slots=True)
class PreparedView:
    """A prepared post with the state of its latest publication (None: never published)."""

    post: PreparedPost
    brand: str
    publication: Publication | None


class PublishingStore(StoreBase):
    """Prepared posts, publications and publish jobs."""

    def prepare_post(self, *, brand_id: int, event: str, outcome: str, network: str,
                     text: str, actor: str) -> tuple[PreparedPost, bool]:
        """Store (or replace) the post for one outcome on one network; (post, replaced).
        Refuses to replace one that was published."""
        with self.session() as s:
            row = s.exec(select(PreparedPost).where(
                PreparedPost.brand_id == brand_id, PreparedPost.event == event,
                PreparedPost.outcome == outcome, PreparedPost.network == network)).first()
            replaced = row is not None
            if row is not None:
                done = self._blocking(s, row.id or 0)
                if done is not None:
                    raise Conflict(f"{event} {outcome} on {network} is {done.state} already; "
                                   "it cannot be changed")
                row.text, row.created_by, row.updated_at = text, actor, self.now()
            else:
                row = PreparedPost(brand_id=brand_id, event=event, outcome=outcome,
                                   network=network, text=text, created_by=actor,
                                   updated_at=self.now())
                s.add(row)
                s.flush()
            self._event(s, kind="post_prepared", actor=actor, brand_id=brand_id,
                        detail={"event": event, "outcome": outcome, "network": network,
                                "prepared": row.id, "replaced": replaced})
            return row, replaced

    def prepared_posts(self, *, brand_id: int | None = None, event: str | None = None,
                       outcome: str | None = None) -> list[PreparedView]:
        """Prepared posts (of a brand, an event, an outcome), each with its last publication."""
        with self.session() as s:
            q = select(PreparedPost, Brand).join(Brand, col(Brand.id) == PreparedPost.brand_id)
            if brand_id is not None:
                q = q.where(PreparedPost.brand_id == brand_id)
            if event is not None:
                q = q.where(PreparedPost.event == event)
            if outcome is not None:
                q = q.where(PreparedPost.outcome == outcome)
            rows = s.exec(q.order_by(col(Brand.name), col(PreparedPost.event),
                                     col(PreparedPost.outcome),
                                     col(PreparedPost.network))).all()
            ids = [p.id or 0 for p, _ in rows]
            last: dict[int, Publication] = {}
            if ids:
                for pub in s.exec(select(Publication).where(
                        col(Publication.prepared_id).in_(ids)).order_by(col(Publication.id))):
                    last[pub.prepared_id] = pub
            return [PreparedView(p, b.name, last.get(p.id or 0)) for p, b in rows]

    def events_with(self, *, brand_id: int, outcome: str) -> list[str]:
        """The brand's events that have a post prepared for `outcome` (e.g. `holding`)."""
        with self.session() as s:
            return sorted(set(s.exec(select(PreparedPost.event).where(
                PreparedPost.brand_id == brand_id, PreparedPost.outcome == outcome)).all()))

    def _blocking(self, s: Session, prepared_id: int) -> Publication | None:
        return s.exec(select(Publication).where(
            Publication.prepared_id == prepared_id,
            col(Publication.state).in_(BLOCKING)).order_by(col(Publication.id))).first()

    def record_publication(self, *, prepared_id: int, by: str) -> Publication:
        """Record a publication as pending, before anything is sent. Refuses (Conflict) while
        another publication of the same post is pending, unknown or sent."""
        with self.session() as s:
            lock = select(PreparedPost).where(PreparedPost.id == prepared_id)
            if self.is_postgres:
                lock = lock.with_for_update()
            post = s.exec(lock).first()  # serialises publishers (SQLite: BEGIN IMMEDIATE)
            if post is None:
                raise NotFound(f"no prepared post {prepared_id}")
            done = self._blocking(s, prepared_id)
            if done is not None:
                raise Conflict(
                    f"{post.event} {post.outcome} on {post.network} is {done.state} already"
                    + (f": {done.url}" if done.url else "")
                    + ("; look at the account, then `settle-post "
                       f"{done.id} posted|failed`" if done.state != ReplyState.SENT.value
                       else ""))
            pub = Publication(prepared_id=prepared_id, brand_id=post.brand_id,
                              network=post.network, text=post.text, by=by,
                              state=ReplyState.PENDING.value, created_at=self.now())
            s.add(pub)
            s.flush()
            self._event(s, kind="publish_recorded", actor=by, brand_id=post.brand_id,
                        detail={"publication": pub.id, "event": post.event,
                                "outcome": post.outcome, "network": post.network})
            return pub

    def publication_sent(self, *, publication_id: int, network_post_id: str,
                         url: str | None) -> Publication:
        with self.session() as s:
            pub = self._publication(s, publication_id)
            pub.state = ReplyState.SENT.value
            pub.network_post_id, pub.url, pub.sent_at = network_post_id, url, self.now()
            self._event(s, kind="published", actor=pub.by, brand_id=pub.brand_id,
                        detail={"publication": pub.id, "network": pub.network, "url": url,
                                "text": pub.text})
            return pub

    def publication_failed(self, *, publication_id: int, error: str,
                           unknown: bool) -> Publication:
        """The network refused (failed) or may or may not have taken it (unknown)."""
        with self.session() as s:
            pub = self._publication(s, publication_id)
            pub.state = ReplyState.UNKNOWN.value if unknown else ReplyState.FAILED.value
            pub.error = error[:2000]
            self._event(s, kind="publish_unknown" if unknown else "publish_failed",
                        actor=pub.by, brand_id=pub.brand_id,
                        detail={"publication": pub.id, "network": pub.network,
                                "error": error[:500]})
            return pub

    def _publication(self, s: Session, publication_id: int) -> Publication:
        pub = s.get(Publication, publication_id)
        if pub is None:
            raise NotFound(f"no publication {publication_id}")
        return pub

    # --- scheduled publishing ------------------------------------------------------------

    def schedule_publish(self, *, brand_id: int, event: str, outcome: str, due_at: datetime,
                         actor: str, platform: str, channel: str | None) -> PublishJob:
        with self.session() as s:
            job = PublishJob(brand_id=brand_id, event=event, outcome=outcome, due_at=due_at,
                             created_by=actor, platform=platform, channel=channel,
                             created_at=self.now())
            s.add(job)
            s.flush()
            self._event(s, kind="publish_scheduled", actor=actor, brand_id=brand_id,
                        detail={"job": job.id, "event": event, "outcome": outcome,
                                "due": due_at.isoformat()})
            return job

    def cancel_publish(self, *, job_id: int, actor: str) -> PublishJob:
        with self.session() as s:
            job = s.get(PublishJob, job_id)
            if job is None:
                raise NotFound(f"no scheduled publish {job_id}")
            if job.state != "scheduled":
                raise Conflict(f"scheduled publish {job_id} is {job.state}")
            job.state, job.finished_at = "cancelled", self.now()
            self._event(s, kind="publish_cancelled", actor=actor, brand_id=job.brand_id,
                        detail={"job": job.id})
            return job

    def publish_jobs(self, *, states: tuple[str, ...] = ("scheduled", "running"),
                     ) -> list[PublishJob]:
        with self.session() as s:
            return list(s.exec(select(PublishJob).where(col(PublishJob.state).in_(states))
                               .order_by(col(PublishJob.due_at), col(PublishJob.id))))

    def take_due_job(self, *, now: datetime) -> PublishJob | None:
        """Take one due job (scheduled, or running past its lease: its runner died) for this
        runner; None when none is due. Compare-and-set: two leaders never take the same."""
        with self.session() as s:
            q = (select(PublishJob).where(
                sa.or_(sa.and_(col(PublishJob.state) == "scheduled",
                               col(PublishJob.due_at) <= now),
                       sa.and_(col(PublishJob.state) == "running",
                               col(PublishJob.lease_until) < now)))
                 .order_by(col(PublishJob.due_at), col(PublishJob.id)).limit(1))
            if self.is_postgres:
                q = q.with_for_update(skip_locked=True)
            job = s.exec(q).first()
            if job is None:
                return None
            job.state, job.lease_until = "running", now + JOB_LEASE
            self._event(s, kind="publish_job_started", actor="scheduler",
                        brand_id=job.brand_id, detail={"job": job.id})
            return job

    def finish_job(self, *, job_id: int, result: str) -> None:
        with self.session() as s:
            job = s.get(PublishJob, job_id)
            if job is None:
                raise NotFound(f"no scheduled publish {job_id}")
            job.state, job.finished_at, job.result = "done", self.now(), result[:2000]
            self._event(s, kind="publish_job_done", actor="scheduler", brand_id=job.brand_id,
                        detail={"job": job.id, "result": result[:500]})

    # --- deleted and edited posts (issue 17, item 5) ---------------------------------------

    def mark_deleted(self, *, mention_id: int, actor: str, how: str) -> Mention:
        """The network says the post is gone: the card shows it, its SLA clock stops, replies
        are refused. Once (a second report changes nothing)."""
        with self.session() as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise NotFound(f"no mention #{mention_id}")
            if m.deleted_at is None:
                m = self._change(s, mention_id, kind="post_deleted", actor=actor,
                                 detail={"how": how})
                m.deleted_at = self.now()
            return m

    def apply_post_changes(
            self, changes: Sequence[tuple[str, str, str, str | None]
                                    | tuple[str, str, str, str | None, int | None]],
            *, actor: str) -> list[int]:
        """(network, external id, "deleted"|"edited", new text[, new stars]) as the network
        reported them, applied to the stored mentions of those posts (other posts are not
        ours: ignored). An edit changes the text, and an app-store review's stars when given
        (1..5). Returns the ids of the mentions changed."""
        if not changes:
            return []
        changed: list[int] = []
        by_network: dict[str, set[str]] = {}
        for network, ext, *_ in changes:
            by_network.setdefault(network, set()).add(ext)
        with self.session() as s:
            found: dict[tuple[str, str], list[Mention]] = {}
            for network, ids in by_network.items():
                for m in s.exec(select(Mention).where(Mention.network == network,
                                                      col(Mention.external_id).in_(ids))):
                    found.setdefault((m.network, m.external_id), []).append(m)
            for change in changes:
                network, ext, kind, text = change[:4]
                stars = change[4] if len(change) > 4 else None
                rating = stars if isinstance(stars, int) and 1 <= stars <= 5 else None
                for m in found.get((network, ext), []):
                    if kind == "deleted":
                        if m.deleted_at is not None:
                            continue
                        self._change(s, m.id or 0, kind="post_deleted", actor=actor,
                                     detail={"how": "reported by the network"})
                        m.deleted_at = self.now()
                    elif kind == "edited" and text is not None and (
                            text != m.text or (rating is not None and rating != m.rating)):
                        detail: dict[str, object] = {"before": m.text[:2000],
                                                     "after": text[:2000]}
                        if rating is not None and rating != m.rating:
                            detail.update(rating_before=m.rating, rating_after=rating)
                            m.rating = rating
                        self._change(s, m.id or 0, kind="post_edited", actor=actor,
                                     detail=detail)
                        m.text, m.edited_at = text, self.now()
                    else:
                        continue
                    changed.append(m.id or 0)
        return changed
