"""App Home: each person's queue view (bot.reporting.queue) on the app's Home tab.

`app_home_opened` (tab "home") publishes the person's view at once; afterwards, while the
person opened Home within `recent` seconds, the view is published again when the queue
changed (the store's newest event moved), at most once per person per `every` seconds (the
debounce). views.publish is Tier 4 (100+ calls a minute per workspace): the publisher keeps
below `per_minute` per workspace and, on a 429, waits for Slack's Retry-After before it
publishes in that workspace again. A person waiting for the budget is published at the next
round; nothing is queued without bound (one pending flag per person).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from commands.queue import people_of, queue_builder
from integrations.chat.slack.desk import SlackDesk, Who
from integrations.chat.slack.render import home_view

log = logging.getLogger(__name__)


@dataclass
class Viewer:
    who: Who
    client: AsyncWebClient  # bound to the person's workspace (bolt's context client)
    opened: float  # monotonic, last app_home_opened
    published: float | None = None  # monotonic, last views.publish that Slack took
    marker: int = -1  # the store's newest event id the published view showed
    stale: bool = True


class HomeTabs:
    """Publishes App Home views; runs as a Service (`serve`) for the refreshes."""

    name = "slack-home"

    def __init__(self, desk: SlackDesk, *, every: float = 30.0, recent: float = 3600.0,
                 per_minute: int = 90, poll: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.desk = desk
        self.every = every
        self.recent = recent
        self.per_minute = per_minute
        self.poll = poll
        self.clock = clock
        self.viewers: dict[tuple[str | None, str], Viewer] = {}
        self._sent: dict[str | None, deque[float]] = {}  # per workspace: recent publishes
        self._paused: dict[str | None, float] = {}  # per workspace: no publish before
        self._lock = asyncio.Lock()
        self.published = 0

    async def opened(self, client: AsyncWebClient, who: Who) -> None:
        """The person opened the Home tab: publish now unless published within `every`."""
        now = self.clock()
        key = (who.team, who.user)
        viewer = self.viewers.get(key)
        if viewer is None:
            viewer = self.viewers[key] = Viewer(who=who, client=client, opened=now)
        viewer.opened, viewer.client, viewer.stale = now, client, True
        await self._publish_due(viewer, await asyncio.to_thread(
            self.desk.deps.store.last_event_id))

    async def refresh(self) -> int:
        """One round: publish the recent viewers whose queue changed; returns how many."""
        marker = await asyncio.to_thread(self.desk.deps.store.last_event_id)
        now = self.clock()
        done = 0
        for key, viewer in list(self.viewers.items()):
            if now - viewer.opened > self.recent:
                del self.viewers[key]  # not looked at lately: no more publishes
                continue
            if viewer.marker != marker:
                viewer.stale = True
            done += await self._publish_due(viewer, marker)
        return done

    async def _publish_due(self, viewer: Viewer, marker: int) -> int:
        now = self.clock()
        if not viewer.stale:
            return 0
        if viewer.published is not None and now - viewer.published < self.every:
            return 0  # debounced: the next round after `every` publishes it
        team = viewer.who.team
        if self._paused.get(team, 0.0) > now:
            return 0
        sent = self._sent.setdefault(team, deque())
        while sent and now - sent[0] >= 60.0:
            sent.popleft()
        if len(sent) >= self.per_minute:
            return 0
        sent.append(now)
        async with self._lock:
            return await self._publish(viewer, marker)

    async def _publish(self, viewer: Viewer, marker: int) -> int:
        inv = await self.desk.invocation(viewer.client, viewer.who)
        builder = queue_builder(self.desk.deps)
        view = await asyncio.to_thread(builder.build, people=people_of(inv),
                                       now=self.desk.now())
        try:
            await viewer.client.views_publish(user_id=viewer.who.user,
                                              view=home_view(view, person=inv.actor))
        except SlackApiError as exc:
            status = getattr(exc.response, "status_code", None)
            if status == 429:
                wait = float(exc.response.headers.get("Retry-After", "60") or 60)
                self._paused[viewer.who.team] = self.clock() + wait
                log.info("views.publish rate-limited in %s: waiting %.0f s", viewer.who.team,
                         wait)
            else:
                log.warning("views.publish for %s failed: %s", viewer.who.user,
                            exc.response.get("error"))
            return 0
        viewer.published, viewer.marker, viewer.stale = self.clock(), marker, False
        self.published += 1
        return 1

    async def serve(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception:
                log.exception("refreshing App Home views failed; trying again shortly")
            try:
                await asyncio.wait_for(stop.wait(), timeout=self.poll)
            except TimeoutError:
                pass


__all__ = ["HomeTabs", "Viewer"]
