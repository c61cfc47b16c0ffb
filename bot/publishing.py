"""Publishing prepared posts on the brand's own accounts (issue 17, item 3), for the `publish`
command and for the scheduled jobs the scheduler leader runs.

Each network's post is recorded before the network is called (bot/store/publishing.py) and
marked sent, failed or unknown by the answer: never posted twice. A network whose publisher is
not configured is reported, not skipped silently.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from bot.errors import Conflict
from bot.networks import Publisher, ReplyRejected

if TYPE_CHECKING:  # `import commands` stays free of SQLAlchemy
    from bot.chat import Notifier
    from bot.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Published:
    """The outcome of one network's post: ok (sent), or why not."""

    network: str
    ok: bool
    line: str


def publication_key(publication_id: int) -> str:
    """Stable per publication: a network with idempotency keys posts a repeated request once."""
    return f"echtzeit-publication-{publication_id}"


async def publish_prepared(store: Store, publishers: Mapping[str, Publisher], *,
                           brand_id: int, event: str, outcome: str,
                           by: str) -> list[Published]:
    """Post every prepared post of one outcome on its network (in parallel, one record each).
    Returns one line per network; raises nothing for a network's refusal."""
    views = await asyncio.to_thread(store.prepared_posts, brand_id=brand_id, event=event,
                                    outcome=outcome)
    if not views:
        return []

    async def one(view_index: int) -> Published:
        v = views[view_index]
        net = v.post.network
        publisher = publishers.get(net)
        if publisher is None:
            return Published(net, False, f"{net}: not posted: no account of the brand is "
                                         "configured for posting there")
        problem = publisher.check(v.post.text)
        if problem:  # checked when prepared; the network's limit may have changed since
            return Published(net, False, f"{net}: not posted: {problem}")
        try:
            record = await asyncio.to_thread(store.record_publication,
                                             prepared_id=v.post.id or 0, by=by)
        except Conflict as exc:
            return Published(net, False, f"{net}: not posted again: {exc}")
        pid = record.id or 0
        try:
            posted = await publisher.publish(text=v.post.text, key=publication_key(pid))
        except ReplyRejected as exc:
            await asyncio.to_thread(store.publication_failed, publication_id=pid,
                                    error=str(exc), unknown=False)
            return Published(net, False, f"{net}: refused: {exc}")
        except Exception as exc:  # ReplyUncertain, timeouts: maybe posted; never retried blindly
            log.warning("publication %s on %s: outcome unknown: %s", pid, net, exc)
            await asyncio.to_thread(store.publication_failed, publication_id=pid,
                                    error=str(exc), unknown=True)
            return Published(net, False, f"{net}: unclear whether it was posted ({exc}); "
                                         f"look at the account, then `settle-post {pid} "
                                         "posted|failed`")
        await asyncio.to_thread(store.publication_sent, publication_id=pid,
                                network_post_id=posted.id, url=posted.url)
        return Published(net, True, f"{net}: posted" + (f" {posted.url}" if posted.url else ""))

    return list(await asyncio.gather(*(one(i) for i in range(len(views)))))


class PublishMonitor:
    """Runs the scheduled publish jobs that are due (bot.scheduler, in the leader only). A job
    is taken by compare-and-set with a lease (bot.store.publishing.take_due_job); its result
    is told in the channel it was scheduled from."""

    def __init__(self, store: Store, publishers: Mapping[str, Publisher],
                 notifiers: Mapping[str, Notifier]) -> None:
        self.store = store
        self.publishers = publishers
        self.notifiers = dict(notifiers)

    async def run_due(self, now: datetime) -> int:
        ran = 0
        while True:
            job = await asyncio.to_thread(self.store.take_due_job, now=now)
            if job is None:
                return ran
            ran += 1
            results = await publish_prepared(
                self.store, self.publishers, brand_id=job.brand_id, event=job.event,
                outcome=job.outcome, by=f"scheduled by {job.created_by}")
            lines = [r.line for r in results] or [
                f"nothing is prepared for {job.event} {job.outcome}"]
            text = (f"Scheduled publish {job.id} ({job.event} {job.outcome}): "
                    + "; ".join(lines))
            await asyncio.to_thread(self.store.finish_job, job_id=job.id or 0, result=text)
            notifier = self.notifiers.get(job.platform)
            if notifier is not None and job.channel:
                try:
                    await notifier.notify(job.channel, text)
                except Exception as exc:  # the posts are out and recorded: only the notice
                    log.warning("publish job %s: notice failed: %s", job.id, exc)


__all__ = ["PublishMonitor", "Published", "publication_key", "publish_prepared"]
